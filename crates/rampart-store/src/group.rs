//! Group commit: many write units share one durable `COMMIT`, and each waits for it.
//!
//! The single writer connection runs an outer `BEGIN IMMEDIATE` transaction, a *batch*;
//! each [`WriteTx`](crate::WriteTx) is a unit inside it, a `SAVEPOINT`. Committing a unit
//! keeps its writes (its savepoint is released by the next unit, in the same round trip as
//! that unit's own), gives the writer up, and waits for the batch to be flushed. The
//! first unit released in a batch starts its flush: a task that queues for the writer
//! behind the units already waiting (the lock is fair), then `COMMIT`s them all with one
//! fsync (`synchronous=FULL`) and tells every unit of the batch the outcome. Audit events
//! are sealed at once but staged in memory with their unit and inserted, a few hundred rows
//! per statement, just before the batch's `COMMIT`, in the same transaction as the changes
//! they record; a unit rolled back drops its staged events. A failed
//! `COMMIT` fails every unit of the batch; none is acknowledged. A unit rolled back or
//! dropped undoes only its own savepoint.
//!
//! It upholds that an event is durable before the response that depends on it: a unit's
//! commit returns only after the `COMMIT` that contains it. Readers only see flushed data.
//! The flush runs in its own task, so a caller that stops waiting cannot strand the others.

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use sqlx::{Executor, Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::audit::Staged;
use crate::error::StoreError;
use crate::group_metrics;

/// The outcome of a batch's `COMMIT`: `None` until it is known.
type Outcome = Option<Result<(), Arc<str>>>;

/// The head of the audit chain: the last `seq` and its chain hash.
pub(crate) type Head = (u64, [u8; 32]);

/// The writer connection's batch, if one is open.
#[derive(Default)]
pub(crate) struct Slot {
    batch: Option<Batch>,
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("open", &self.batch.is_some())
            .finish()
    }
}

/// One outer transaction and the units it holds.
struct Batch {
    tx: Transaction<'static, Sqlite>,
    outcome: watch::Sender<Outcome>,
    // The audit head as this batch sees it, and as the open unit found it.
    head: Option<Head>,
    // Audit events of committed units, and of the open unit, to insert before COMMIT.
    staged: Vec<Staged>,
    unit_staged: Vec<Staged>,
    unit_head: Option<Head>,
    unit_open: bool,
    // The unit savepoint is open, and whether the connection was handed out since it
    // was opened: a clean savepoint serves the next unit as it is.
    savepoint: bool,
    dirty: bool,
    released: u64,
    flushing: bool,
}

/// A unit of work: a savepoint on the writer connection, holding the writer.
pub(crate) struct Unit {
    guard: OwnedMutexGuard<Slot>,
    slot: Arc<Mutex<Slot>>,
}

/// What group commit shares between the store's clones.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pool: SqlitePool,
    slot: Arc<Mutex<Slot>>,
    cache_sized: Arc<AtomicBool>,
}

/// The writer's page cache, in KiB (SQLite's negative `cache_size`): a batch of a few
/// thousand events and the index pages it touches stay in memory instead of spilling.
const WRITER_CACHE_KIB: i64 = 65_536;

/// How many WAL pages a commit lets accumulate before it checkpoints them into the
/// database (SQLite's default is 1000): pages written by many batches are copied once.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;

impl Group {
    /// Group commit over `pool`, which holds the one writer connection.
    pub(crate) fn new(pool: SqlitePool) -> Self {
        Self {
            pool,
            slot: Arc::new(Mutex::new(Slot::default())),
            cache_sized: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Starts a unit, opening a batch if none is open; waits while another unit runs.
    pub(crate) async fn begin(&self) -> Result<Unit, StoreError> {
        let mut guard = self.slot.clone().lock_owned().await;
        settle(&mut guard).await;
        if guard.batch.is_none() {
            self.size_cache().await?;
            // IMMEDIATE takes the write lock before anything is read, so the head
            // of the audit chain is read under it, even with a second process.
            let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            guard.batch = Some(Batch::new(tx));
        }
        let mut unit = Unit {
            guard,
            slot: self.slot.clone(),
        };
        if let Err(error) = open_savepoint(unit.batch()).await {
            // The batch is in an unknown state: end it, failing its units, none of
            // which was acknowledged yet.
            if let Some(batch) = unit.guard.batch.take() {
                batch.abandon("the writer could not open a savepoint");
            }
            return Err(error.into());
        }
        batch_open_unit(unit.batch());
        Ok(unit)
    }

    /// Gives the writer connection its page cache and checkpoint interval, once;
    /// `synchronous` stays `FULL`, so every batch's COMMIT is still durable.
    async fn size_cache(&self) -> Result<(), StoreError> {
        if !self.cache_sized.load(Ordering::Relaxed) {
            let pragmas = format!(
                "PRAGMA cache_size = -{WRITER_CACHE_KIB}; \
                 PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}"
            );
            self.pool.execute(pragmas.as_str()).await?;
            self.cache_sized.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Waits until no unit runs and no batch waits to be flushed.
    pub(crate) async fn drain(&self) {
        loop {
            let mut guard = self.slot.lock().await;
            settle(&mut guard).await;
            let Some(batch) = &guard.batch else { return };
            let mut outcome = batch.outcome.subscribe();
            drop(guard);
            // An error means the batch was dropped, which also ends it.
            let _ = outcome.wait_for(Option::is_some).await;
        }
    }
}

impl Batch {
    fn new(tx: Transaction<'static, Sqlite>) -> Self {
        Self {
            tx,
            outcome: watch::Sender::new(None),
            head: None,
            staged: Vec::new(),
            unit_staged: Vec::new(),
            unit_head: None,
            unit_open: false,
            savepoint: false,
            dirty: false,
            released: 0,
            flushing: false,
        }
    }

    /// Ends the batch without committing it, failing its released units.
    fn abandon(self, reason: &str) {
        self.outcome.send_replace(Some(Err(reason.into())));
        // Dropping the transaction rolls the batch back.
    }
}

/// Gives the next unit a savepoint of its own, with no round trip to the database when
/// the open one was not written under since it was opened.
///
/// A unit that only appends audit events stages them in memory and never takes the
/// connection, so units that only append share one savepoint, and undoing one of them
/// undoes nothing but its staged events.
async fn open_savepoint(batch: &mut Batch) -> Result<(), sqlx::Error> {
    let sql = match (batch.savepoint, batch.dirty) {
        (true, false) => return Ok(()),
        (true, true) => "RELEASE rampart_unit; SAVEPOINT rampart_unit",
        (false, _) => "SAVEPOINT rampart_unit",
    };
    run(&mut batch.tx, sql).await?;
    batch.savepoint = true;
    batch.dirty = false;
    Ok(())
}

fn batch_open_unit(batch: &mut Batch) {
    batch.unit_open = true;
    batch.unit_head = batch.head;
    batch.unit_staged.clear();
}

impl Unit {
    fn batch(&mut self) -> &mut Batch {
        #[expect(
            clippy::expect_used,
            reason = "INVARIANT: a unit exists only while its batch is open in the slot; only \
                      the unit itself or the flush that waits behind it takes the batch away"
        )]
        self.guard.batch.as_mut().expect("a unit's batch is open")
    }

    /// The audit head as this unit sees it, if known.
    pub(crate) fn head(&mut self) -> Option<Head> {
        self.batch().head
    }

    /// Records the audit head after an append of this unit.
    pub(crate) fn set_head(&mut self, head: Head) {
        self.batch().head = Some(head);
    }

    /// The writer connection, for statements that write nothing.
    ///
    /// Unlike the connection the unit dereferences to, using it leaves the unit's
    /// savepoint clean, so that the next unit can share it.
    pub(crate) fn connection_for_reads(&mut self) -> &mut SqliteConnection {
        &mut self.batch().tx
    }

    /// Keeps a sealed audit event with the unit, to be inserted with its batch.
    pub(crate) fn stage(&mut self, event: Staged) {
        self.batch().unit_staged.push(event);
    }

    /// Keeps the unit's writes in the batch and waits until the batch is durable.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        // The savepoint is released by the next unit's begin, in the same round trip
        // as its own savepoint, or by the batch's COMMIT, which keeps it all.
        let batch = self.batch();
        batch.unit_open = false;
        let mut events = std::mem::take(&mut batch.unit_staged);
        batch.staged.append(&mut events);
        batch.released = batch.released.saturating_add(1);
        let mut outcome = batch.outcome.subscribe();
        if !batch.flushing {
            batch.flushing = true;
            tokio::spawn(flush(self.slot.clone()));
        }
        drop(self);

        let flushed = outcome.wait_for(Option::is_some).await;
        match flushed.as_deref() {
            Ok(Some(Ok(()))) => Ok(()),
            Ok(Some(Err(reason))) => Err(StoreError::CommitFailed(reason.to_string())),
            Ok(None) | Err(_) => Err(StoreError::CommitFailed("the batch was dropped".into())),
        }
    }

    /// Undoes the unit's writes, leaving the rest of the batch alone.
    pub(crate) async fn rollback(mut self) -> Result<(), StoreError> {
        settle(&mut self.guard).await;
        self.abandon_if_empty();
        Ok(())
    }

    /// Ends a batch that holds no released unit, so that it does not keep the write lock.
    fn abandon_if_empty(&mut self) {
        if self.guard.batch.as_ref().is_some_and(|b| b.released == 0) {
            if let Some(batch) = self.guard.batch.take() {
                batch.abandon("the unit was rolled back");
            }
        }
    }
}

impl Drop for Unit {
    fn drop(&mut self) {
        // A unit dropped open is rolled back to its savepoint by the next user of the
        // writer (`settle`); an open batch with nothing released is ended at once.
        if self.guard.batch.as_ref().is_some_and(|b| b.unit_open) {
            self.abandon_if_empty();
        }
    }
}

impl Deref for Unit {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        #[expect(
            clippy::expect_used,
            reason = "INVARIANT: a unit exists only while its batch is open in the slot"
        )]
        let batch = self.guard.batch.as_ref().expect("a unit's batch is open");
        &batch.tx
    }
}

impl DerefMut for Unit {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        // Whatever runs on the connection now is under the unit's savepoint.
        let batch = self.batch();
        batch.dirty = true;
        &mut batch.tx
    }
}

/// Rolls back a unit left open by a dropped [`Unit`]; a batch that cannot be is ended.
///
/// Boxed as `Send`, so that the flush task that calls it can be spawned.
fn settle(slot: &mut Slot) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
    Box::pin(async move {
        let Some(batch) = slot.batch.as_mut().filter(|b| b.unit_open) else {
            return;
        };
        let undone = if batch.dirty {
            let undone = run(
                &mut batch.tx,
                "ROLLBACK TO rampart_unit; RELEASE rampart_unit",
            )
            .await;
            batch.savepoint = false;
            undone
        } else {
            Ok(())
        };
        batch.unit_open = false;
        batch.head = batch.unit_head;
        batch.unit_staged.clear();
        if undone.is_err() || batch.released == 0 {
            if let Some(batch) = slot.batch.take() {
                batch.abandon("a unit of the batch could not be rolled back");
            }
        }
    })
}

/// Runs `sql` (savepoint statements) on the writer connection.
async fn run(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    conn.execute(sql).await.map(|_| ())
}

/// Commits the batch in the slot once the units queued before this task have run.
fn flush(slot: Arc<Mutex<Slot>>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move { flush_now(slot).await })
}

async fn flush_now(slot: Arc<Mutex<Slot>>) {
    let mut guard = slot.lock().await;
    settle(&mut guard).await;
    let Some(batch) = guard.batch.take() else {
        return;
    };
    let units = batch.released;
    let outcome = batch.outcome.clone();
    let result = commit(batch).await;
    drop(guard);
    if let Err(error) = &result {
        tracing::error!(%error, units, "audit batch commit failed");
    }
    group_metrics::count_flush(units);
    outcome.send_replace(Some(result.map_err(Arc::from)));
}

/// Inserts the batch's staged audit events, then commits it all with one fsync.
///
/// The last unit's savepoint is released first, so that SQLite does not copy every page
/// the inserts touch into a savepoint journal that nothing will roll back to.
async fn commit(mut batch: Batch) -> Result<(), String> {
    let started = Instant::now();
    if batch.savepoint {
        run(&mut batch.tx, "RELEASE rampart_unit")
            .await
            .map_err(|e| e.to_string())?;
    }
    let staged = std::mem::take(&mut batch.staged);
    let inserted = crate::audit::insert_staged(&mut batch.tx, staged).await;
    if let Err(error) = inserted {
        return Err(error.to_string());
    }
    let inserting = started.elapsed();
    let committed = batch.tx.commit().await.map_err(|e| e.to_string());
    let committing = started.elapsed().saturating_sub(inserting);
    group_metrics::add_flush_times(inserting, committing);
    committed
}
