//! The back-fill of stored subtree hashes for a log older than them: it runs in short steps
//! of its own, never inside a batch of appends, and leaves a tree that verifies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::sqlite3;
use rampart_audit::{CheckpointSigner, NewEvent, Outcome, action};
use rampart_store::{CheckpointPolicy, Checkpointer, Store, verify_audit};
use rusqlite::{Connection, OpenFlags};
use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::field::{Field, Visit};
use tracing::instrument::WithSubscriber as _;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// Blocks of 256 leaves one back-fill step stores at most.
const BLOCKS_PER_STEP: u64 = 256;

/// How long a test waits for what must happen before it calls it hung: a
/// guard, not a measure of speed.
const HANG_GUARD: Duration = Duration::from_secs(60);

async fn append(store: &Store, from: u64, to: u64) {
    let numbers: Vec<u64> = (from..=to).collect();
    for chunk in numbers.chunks(5000) {
        let mut tx = store.begin().await.unwrap();
        for n in chunk {
            let event = NewEvent::new(
                "client-1",
                action::ORDER_ACCEPTED,
                format!("order:{n}"),
                Outcome::Success,
                "r",
            )
            .details(json!({ "n": n }));
            tx.append(event).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
}

/// A log of `count` events whose stored subtree hashes were removed, as if it had been
/// written before they were stored; reopened.
async fn old_log(count: u64) -> (tempfile::TempDir, PathBuf, Store) {
    let (dir, path, store) = common::open_store().await;
    append(&store, 1, count).await;
    store.close().await;
    sqlite3(
        &path,
        "DROP TRIGGER audit_tree_nodes_no_delete; DELETE FROM audit_tree_nodes;",
    );
    let store = Store::open(&path).await.unwrap();
    (dir, path, store)
}

/// How many subtree hashes `path` stores, read through this process's SQLite,
/// which shares the store's file locks (a `sqlite3` process beside a live
/// store would not).
fn stored_nodes(path: &Path) -> u64 {
    let sql = "SELECT count(*) FROM audit_tree_nodes";
    let count: i64 = read_only(path)
        .query_row(sql, [], |row| row.get(0))
        .unwrap();
    count.try_into().unwrap()
}

fn read_only(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// How many perfect subtrees of 256 leaves or more a log of `len` events has.
fn subtrees_of(len: u64) -> u64 {
    (8..64).map(|level| len >> level).sum()
}

#[tokio::test]
async fn a_batch_appended_to_an_old_log_leaves_its_subtrees_to_the_back_fill() {
    let (_dir, path, store) = old_log(2000).await;

    append(&store, 2001, 2300).await;

    assert_eq!(stored_nodes(&path), 0, "the batch read old leaves back");
    store
        .back_fill_audit_tree(&CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(stored_nodes(&path), subtrees_of(2300));
    assert_eq!(verify_audit(&store, |_, _| {}).await.unwrap().events, 2300);
    store.close().await;
}

#[tokio::test]
async fn the_back_fill_stores_every_subtree_in_short_steps_and_the_log_verifies() {
    let len = BLOCKS_PER_STEP * 256 + 4000;
    let (_dir, path, store) = old_log(len).await;

    let steps = store
        .back_fill_audit_tree(&CancellationToken::new())
        .await
        .unwrap()
        .steps;

    assert_eq!(steps, (len >> 8).div_ceil(BLOCKS_PER_STEP));
    assert_eq!(stored_nodes(&path), subtrees_of(len));
    assert_eq!(verify_audit(&store, |_, _| {}).await.unwrap().events, len);
    store.close().await;
}

#[tokio::test]
async fn batches_store_their_subtrees_again_once_the_back_fill_is_done() {
    let (_dir, path, store) = old_log(1000).await;
    store
        .back_fill_audit_tree(&CancellationToken::new())
        .await
        .unwrap();

    append(&store, 1001, 1600).await;

    assert_eq!(stored_nodes(&path), subtrees_of(1600));
    assert_eq!(verify_audit(&store, |_, _| {}).await.unwrap().events, 1600);
    store.close().await;
}

#[tokio::test]
async fn the_back_fill_of_a_log_with_every_subtree_stored_takes_no_step() {
    let (_dir, path, store) = common::open_store().await;
    append(&store, 1, 1000).await;

    let steps = store
        .back_fill_audit_tree(&CancellationToken::new())
        .await
        .unwrap()
        .steps;

    assert_eq!(steps, 0);
    assert_eq!(stored_nodes(&path), subtrees_of(1000));
    store.close().await;
}

#[tokio::test]
async fn a_cancelled_back_fill_stops_before_its_next_step() {
    let (_dir, path, store) = old_log(1000).await;
    let stop = CancellationToken::new();
    stop.cancel();

    let steps = store.back_fill_audit_tree(&stop).await.unwrap().steps;

    assert_eq!(steps, 0);
    assert_eq!(stored_nodes(&path), 0);
    store.close().await;
}

/// Waits until `path` stores every subtree hash a log of `len` events has.
async fn wait_for_every_subtree(path: &Path, len: u64) {
    let want = subtrees_of(len);
    for _ in 0..1500 {
        if stored_nodes(path) == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the tree still stores {} of {want} subtree hashes",
        stored_nodes(path)
    );
}

#[tokio::test]
async fn a_checkpointer_started_on_an_old_log_back_fills_its_tree_by_itself() {
    let len = 3000;
    let (_dir, path, store) = old_log(len).await;
    let policy = CheckpointPolicy {
        every_events: 1_000_000,
        every: Duration::from_secs(3600),
        export_dir: None,
        origin: "rampart.test/audit".into(),
    };
    let signer = Arc::new(CheckpointSigner::generate("rampart-audit").unwrap());
    let checkpointer = Checkpointer::new(store.clone(), signer, policy)
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(checkpointer.run(shutdown.clone()));

    wait_for_every_subtree(&path, len).await;

    shutdown.cancel();
    running.await.unwrap();
    store.close().await;
}

/// Appends batches of 50 events as `client` until `until` is cancelled, then one more;
/// how many events it appended.
async fn append_until(store: Store, client: u64, until: CancellationToken) -> u64 {
    let mut appended = 0;
    loop {
        let last = until.is_cancelled();
        let mut tx = store.begin().await.unwrap();
        for n in 0..50 {
            let target = format!("order:{client}-{appended}-{n}");
            let event = NewEvent::new(
                "client-1",
                action::ORDER_ACCEPTED,
                target,
                Outcome::Success,
                "r",
            );
            tx.append(event).await.unwrap();
        }
        tx.commit().await.unwrap();
        appended += 50;
        if last {
            return appended;
        }
    }
}

/// The log's last `seq` and its first block without a stored hash, at once.
fn head_and_next_block(conn: &Connection) -> (u64, u64) {
    let (head, next): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT coalesce(max(seq), 0) FROM audit_events), \
             (SELECT coalesce(max(idx) + 1, 0) FROM audit_tree_nodes \
              WHERE level = 8)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    (head.try_into().unwrap(), next.try_into().unwrap())
}

/// Samples [`head_and_next_block`] of `path` from a connection of its own
/// until `until` is cancelled.
fn sample_until(path: &Path, until: &CancellationToken) -> Vec<(u64, u64)> {
    let conn = read_only(path);
    let mut samples = Vec::new();
    while !until.is_cancelled() {
        samples.push(head_and_next_block(&conn));
        // A sampling interval, not a wait for anything.
        std::thread::sleep(Duration::from_millis(1));
    }
    samples
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_from_several_tasks_during_a_back_fill_leave_a_complete_tree_that_verifies() {
    // Three steps, so that a whole step runs after the first one stored.
    let len = 2 * BLOCKS_PER_STEP * 256 + 4000;
    let (_dir, path, store) = old_log(len).await;
    let filled = CancellationToken::new();
    let sampler = {
        let (path, filled) = (path.clone(), filled.clone());
        tokio::task::spawn_blocking(move || sample_until(&path, &filled))
    };
    let appenders: Vec<_> = (0..4)
        .map(|client| tokio::spawn(append_until(store.clone(), client, filled.clone())))
        .collect();

    let report = store
        .back_fill_audit_tree(&CancellationToken::new())
        .await
        .unwrap();
    filled.cancel();
    let mut total = len;
    for appender in appenders {
        total += appender.await.unwrap();
    }
    let samples = sampler.await.unwrap();

    assert!(report.steps >= 3, "{report:?}");
    // While blocks before the head lack a hash, the back-fill has not ended;
    // after its first step stored, the head still grew: appends ran between
    // its steps.
    let between: Vec<u64> = samples
        .iter()
        .filter(|&&(head, next)| next > 0 && next < head >> 8)
        .map(|&(head, _)| head)
        .collect();
    let grew = (between.first(), between.last());
    assert!(
        matches!(grew, (Some(a), Some(b)) if a < b),
        "no append landed between the back-fill's steps ({} samples)",
        between.len()
    );
    assert_eq!(stored_nodes(&path), subtrees_of(total));
    assert_eq!(verify_audit(&store, |_, _| {}).await.unwrap().events, total);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifications_during_a_back_fill_verify_every_event() {
    let len = BLOCKS_PER_STEP * 256 + 4000;
    let (_dir, path, store) = old_log(len).await;
    let back_fill = {
        let (store, stop) = (store.clone(), CancellationToken::new());
        tokio::spawn(async move { store.back_fill_audit_tree(&stop).await })
    };

    let mut verified = 0;
    while verified == 0 || !back_fill.is_finished() {
        let summary = verify_audit(&store, |_, _| {}).await.unwrap();
        assert_eq!(summary.events, len);
        verified += 1;
    }
    back_fill.await.unwrap().unwrap();

    assert_eq!(stored_nodes(&path), subtrees_of(len));
    assert_eq!(verify_audit(&store, |_, _| {}).await.unwrap().events, len);
    store.close().await;
}

/// Counts the back-fill's warnings that it tries a failed step again.
#[derive(Clone)]
struct Retries(Arc<watch::Sender<u64>>);

impl Retries {
    fn new() -> Self {
        Self(Arc::new(watch::Sender::new(0)))
    }
}

impl<S: tracing::Subscriber> Layer<S> for Retries {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut message = Message::default();
        event.record(&mut message);
        if message.0.contains("trying it again") {
            self.0.send_modify(|retries| *retries += 1);
        }
    }
}

/// The message of an event.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

#[tokio::test]
async fn a_failed_back_fill_step_is_tried_again_until_it_succeeds() {
    let (_dir, path, store) = old_log(1000).await;
    store.close().await;
    // Every insert of a subtree hash fails until the log holds a 1001st event.
    sqlite3(
        &path,
        "CREATE TRIGGER held_nodes BEFORE INSERT ON audit_tree_nodes \
         WHEN (SELECT max(seq) FROM audit_events) < 1001 \
         BEGIN SELECT RAISE(ABORT, 'held'); END;",
    );
    let store = Store::open(&path).await.unwrap();
    let retries = Retries::new();
    let mut retried = retries.0.subscribe();
    let logs = tracing_subscriber::registry().with(retries);
    let back_fill = {
        let store = store.clone();
        let stop = CancellationToken::new();
        let back_fill = async move { store.back_fill_audit_tree(&stop).await };
        tokio::spawn(back_fill.with_subscriber(logs))
    };

    tokio::time::timeout(HANG_GUARD, retried.wait_for(|&n| n >= 1))
        .await
        .expect("the back-fill logged no retry of its failed step")
        .unwrap();
    assert!(
        !back_fill.is_finished(),
        "a failed step ended the back-fill"
    );
    assert_eq!(stored_nodes(&path), 0);
    append(&store, 1001, 1001).await;
    let report = tokio::time::timeout(HANG_GUARD, back_fill)
        .await
        .expect("the back-fill tried the step again")
        .unwrap()
        .unwrap();

    assert!(report.retries >= 1, "{report:?}");
    assert_eq!(report.steps, 1);
    assert_eq!(stored_nodes(&path), subtrees_of(1001));
    store.close().await;
}
