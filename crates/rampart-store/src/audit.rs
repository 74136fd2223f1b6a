//! The audit log in the store: appending and reading it (verification is in
//! `audit_verify`).
//!
//! Appends run inside the write transaction of the change they record, on the
//! single writer connection, so the chain never forks. An event is encoded once,
//! in the form its columns store, and its leaf hashes exactly that text. Events
//! are numbered from `seq` 1; the event with `seq` n is leaf index n - 1 of the tree.
//!
//! Retention: the gateway never deletes or changes an event; triggers of
//! migration 0001 refuse `UPDATE` and `DELETE` on `audit_events` (and those
//! of 0004 on `audit_checkpoints`), so events outlive any retention period
//! (`audit.retention_years`, at least five, MiFIR Art. 25). Events carry
//! subject and client ids only, never names or usernames. Details are stored in their
//! canonical (RFC 8785) spelling, the very bytes that were hashed, so a row
//! respelled with the same meaning (keys reordered, `3` as `3.0`, spaces,
//! escapes) is found changed too.

use rampart_audit::{AuditEvent, GENESIS, MAX_SAFE_INTEGER, NewEvent, Outcome, StoredEvent};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row as _, Sqlite, SqliteConnection};

use crate::codec::{self, RowKey};
use crate::error::StoreError;
use crate::group::Unit;
use crate::rows::get;

pub use crate::audit_verify::{AuditCheckError, VerifySummary, verify_audit, verify_audit_signed};

/// Records `event` as the next event of the log.
///
/// The head of the chain is read once per batch and then kept by the unit, so
/// that an append costs no round trip to the database: the sealed event is
/// staged in the unit and inserted with the rest of its batch just before the
/// batch's `COMMIT` (see the `group` module). A unit rolled back drops its
/// staged events and restores the head it found.
pub(crate) async fn append(unit: &mut Unit, event: NewEvent) -> Result<AuditEvent, StoreError> {
    if !event.has_exact_numbers() {
        return Err(StoreError::Invalid {
            field: "details",
            rule: "must not hold integers beyond 2^53 in magnitude; record them as strings",
        });
    }
    let (last_seq, prev) = match unit.head() {
        Some(head) => head,
        None => head(unit.connection_for_reads()).await?,
    };
    let seq = last_seq
        .checked_add(1)
        .filter(|seq| *seq <= MAX_SAFE_INTEGER)
        .ok_or(StoreError::Overflow { field: "seq" })?;
    let event = AuditEvent::from_new(seq, chrono::Utc::now(), event);
    let staged = Staged::seal(&event, &prev);
    unit.set_head((seq, staged.chain_hash));
    unit.stage(staged);
    Ok(event)
}

/// A sealed event waiting for its batch's insert: its columns as they are stored.
#[derive(Debug)]
pub(crate) struct Staged {
    seq: i64,
    time: String,
    actor: String,
    action: String,
    target: String,
    outcome: &'static str,
    request_id: String,
    policy_version: Option<String>,
    details: String,
    leaf_hash: [u8; 32],
    chain_hash: [u8; 32],
}

impl Staged {
    /// Encodes `event` once, in its stored form, and hashes it onto the chain after `prev`.
    ///
    /// The leaf covers the very text that is stored, so verification can hash the stored
    /// columns as they are.
    fn seal(event: &AuditEvent, prev: &[u8; 32]) -> Self {
        let time = codec::time(&event.time);
        let details = event.canonical_details();
        let mut scratch = Vec::with_capacity(details.len().saturating_add(320));
        let hashes = event.raw(&time, &details).hashes(prev, &mut scratch);
        Self {
            // INVARIANT: `seq` is at most 2^53, checked by `append`.
            seq: i64::try_from(event.seq).unwrap_or(i64::MAX),
            time,
            actor: event.actor.clone(),
            action: event.action.clone(),
            target: event.target.clone(),
            outcome: event.outcome.as_str(),
            request_id: event.request_id.clone(),
            policy_version: event.policy_version.clone(),
            details,
            leaf_hash: hashes.leaf_hash,
            chain_hash: hashes.chain_hash,
        }
    }
}

/// The most rows one `INSERT` writes (11 parameters each).
const INSERT_ROWS: usize = 256;

/// Inserts the staged events of a batch, in order, up to [`INSERT_ROWS`] rows per statement,
/// and the hashes of the subtrees they complete.
///
/// Statements hold a power of two of rows, so that a handful of prepared statements serve
/// every batch size from the connection's statement cache. The rows' texts are moved into
/// the statement's arguments, not copied.
pub(crate) async fn insert_staged(
    conn: &mut SqliteConnection,
    staged: Vec<Staged>,
) -> Result<(), StoreError> {
    let Some(first) = staged.first() else {
        return Ok(());
    };
    let start = u64::try_from(first.seq).unwrap_or(0).saturating_sub(1);
    // INVARIANT: the writer numbers a batch's events one by one from the log's length, so
    // the staged `seq`s are consecutive and the in-memory leaves are leaf indexes `start`
    // on. A few integer comparisons check it; should it not hold, the leaves of the
    // subtrees are read back from the table instead of taken from memory (and, as
    // for any batch, not at all while the stored tree lags behind the batch).
    let consecutive = staged
        .windows(2)
        .all(|pair| matches!(pair, [a, b] if a.seq.checked_add(1) == Some(b.seq)));
    let fallback = (!consecutive).then(|| leaf_span(&staged));
    let leaves: Vec<[u8; 32]> = staged.iter().map(|s| s.leaf_hash).collect();
    let mut left = staged.len();
    let mut rows = staged.into_iter();
    while left > 0 {
        let take = INSERT_ROWS.min(1 << left.ilog2());
        insert_rows(conn, rows.by_ref().take(take)).await?;
        left -= take;
    }
    if let Some((first, end)) = fallback {
        return crate::audit_tree::extend_from_table(conn, first, end).await;
    }
    let batch = crate::audit_tree::BatchLeaves {
        start,
        leaves: &leaves,
    };
    crate::audit_tree::extend_for_batch(conn, batch).await
}

/// The lowest leaf index of `staged` and one past the highest, in any order.
fn leaf_span(staged: &[Staged]) -> (u64, u64) {
    let seqs = staged.iter().map(|s| u64::try_from(s.seq).unwrap_or(0));
    let lowest = seqs.clone().min().unwrap_or(0);
    (lowest.saturating_sub(1), seqs.max().unwrap_or(0))
}

async fn insert_rows(
    conn: &mut SqliteConnection,
    rows: impl Iterator<Item = Staged>,
) -> Result<(), StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "INSERT INTO audit_events (seq, time, actor, action, target, outcome, request_id, \
         policy_version, details, leaf_hash, chain_hash) ",
    );
    query.push_values(rows, |mut row, staged| {
        row.push_bind(staged.seq)
            .push_bind(staged.time)
            .push_bind(staged.actor)
            .push_bind(staged.action)
            .push_bind(staged.target)
            .push_bind(staged.outcome)
            .push_bind(staged.request_id)
            .push_bind(staged.policy_version)
            .push_bind(staged.details)
            .push_bind(staged.leaf_hash.to_vec())
            .push_bind(staged.chain_hash.to_vec());
    });
    query.build().execute(&mut *conn).await?;
    Ok(())
}

/// The last `seq` and chain hash of the log ([`GENESIS`] when empty).
async fn head(conn: &mut SqliteConnection) -> Result<(u64, [u8; 32]), StoreError> {
    let row: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, chain_hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(conn)
            .await?;
    let Some((seq, chain)) = row else {
        return Ok((0, GENESIS));
    };
    let text = seq.to_string();
    let key = RowKey {
        table: "audit_events",
        key: &text,
    };
    Ok((
        u64::try_from(seq).map_err(|_| key.corrupt())?,
        key.hash(&chain)?,
    ))
}

/// Up to `limit` stored events after `after_seq`, in order.
pub(crate) async fn page(
    conn: &mut SqliteConnection,
    after_seq: u64,
    limit: u32,
) -> Result<Vec<StoredEvent>, StoreError> {
    let checked = checked_page(conn, after_seq, limit).await?;
    Ok(checked.into_iter().map(|(stored, _)| stored).collect())
}

/// Like [`page`], with whether each row's details are in their canonical spelling.
pub(crate) async fn checked_page(
    conn: &mut SqliteConnection,
    after_seq: u64,
    limit: u32,
) -> Result<Vec<(StoredEvent, bool)>, StoreError> {
    let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
    let found = sqlx::query("SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?")
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await?;
    found.iter().map(stored_event).collect()
}

/// The largest stored `seq` (0 when the log is empty); cheap, unlike a count.
pub(crate) async fn head_seq(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_events")
        .fetch_one(conn)
        .await?;
    Ok(seq.and_then(|s| u64::try_from(s).ok()).unwrap_or(0))
}

/// How many events are stored.
pub(crate) async fn len(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
        .fetch_one(conn)
        .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Decodes a row, and tells whether its details are spelled canonically.
pub(crate) fn stored_event(row: &SqliteRow) -> Result<(StoredEvent, bool), StoreError> {
    let seq: i64 = row.try_get("seq").map_err(|_| StoreError::Corrupt {
        table: "audit_events",
        key: "?".to_owned(),
    })?;
    let text = seq.to_string();
    let key = RowKey {
        table: "audit_events",
        key: &text,
    };
    let string = |name: &str| get::<String>(row, name, key);
    let details = string("details")?;
    let event = AuditEvent {
        seq: u64::try_from(seq).map_err(|_| key.corrupt())?,
        time: key.time(&string("time")?)?,
        actor: string("actor")?,
        action: string("action")?,
        target: string("target")?,
        outcome: key.parse::<Outcome>(&string("outcome")?)?,
        request_id: string("request_id")?,
        policy_version: get(row, "policy_version", key)?,
        details: key.json(&details)?,
    };
    let canonical = event.canonical_details() == details;
    let stored = StoredEvent {
        event,
        leaf_hash: key.hash(&get::<Vec<u8>>(row, "leaf_hash", key)?)?,
        chain_hash: key.hash(&get::<Vec<u8>>(row, "chain_hash", key)?)?,
    };
    Ok((stored, canonical))
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
