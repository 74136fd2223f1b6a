//! The audit log in the store: appending, reading and verifying it.
//!
//! Appends run inside the write transaction of the change they record, on the
//! single writer connection, so the chain never forks. Verification reads
//! every stored event in pages and recomputes its leaf and chain hash from the
//! stored fields, trusting neither stored hash, then the RFC 9162 tree and the
//! stored checkpoints over it. Events are numbered from `seq` 1; the event
//! with `seq` n is leaf index n - 1 of the tree.
//!
//! Retention: the gateway never deletes or changes an event; triggers of
//! migration 0001 refuse `UPDATE` and `DELETE` on `audit_events` (and those
//! of 0004 on `audit_checkpoints`), so events outlive any retention period
//! (`audit.retention_years`, at least five, MiFIR Art. 25). Events carry
//! subject and client ids only, never names or usernames. Details are stored in their
//! canonical (RFC 8785) spelling, the very bytes that were hashed, so a row
//! respelled with the same meaning (keys reordered, `3` as `3.0`, spaces,
//! escapes) is found changed too.

use rampart_audit::{
    AuditEvent, CheckpointVerifier, Fault, GENESIS, LogError, LogVerifier, NewEvent, Outcome,
    StoredEvent, VerifyError,
};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row as _, Sqlite, SqliteConnection};

use crate::codec::{self, RowKey};
use crate::error::StoreError;
use crate::group::Unit;
use crate::rows::get;
use crate::store::Store;

/// How many events verification reads at a time.
const VERIFY_PAGE: u32 = 1000;

/// What a successful verification covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifySummary {
    /// How many events were verified.
    pub events: u64,
    /// The chain hash of the last event, to compare with one recorded elsewhere.
    pub head_hash: [u8; 32],
    /// The recomputed RFC 9162 root over every event.
    pub root_hash: [u8; 32],
    /// How many stored checkpoints matched the recomputed tree.
    pub checkpoints: usize,
}

/// Why the audit log did not verify.
#[derive(Debug, thiserror::Error)]
pub enum AuditCheckError {
    /// The log was tampered with; the first bad event is named.
    #[error(transparent)]
    Chain(#[from] VerifyError),
    /// The tree or a checkpoint does not verify; the first bad one is named.
    #[error(transparent)]
    Log(LogError),
    /// A stored event cannot even be read back.
    #[error("audit event {seq} cannot be read: it was changed outside the gateway")]
    Unreadable {
        /// The stored `seq` of the row.
        seq: String,
    },
    /// The store failed while reading the log.
    #[error(transparent)]
    Store(StoreError),
}

impl From<LogError> for AuditCheckError {
    fn from(error: LogError) -> Self {
        match error {
            LogError::Event(error) => Self::Chain(error),
            other => Self::Log(other),
        }
    }
}

impl From<StoreError> for AuditCheckError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Corrupt {
                table: "audit_events",
                key,
            } => Self::Unreadable { seq: key },
            other => Self::Store(other),
        }
    }
}

/// Verifies the whole audit log and the stored checkpoints' roots, reporting
/// `progress(done, total)` after each page; see [`verify_audit_signed`].
pub async fn verify_audit(
    store: &Store,
    progress: impl FnMut(u64, u64),
) -> Result<VerifySummary, AuditCheckError> {
    verify_audit_with(store, None, progress).await
}

/// Verifies the whole audit log, the tree, and every stored checkpoint, whose signature
/// must be by `verifier`'s key.
///
/// Every leaf and chain hash is recomputed from the stored fields and the RFC 9162 tree
/// from the leaves; each checkpoint's root must equal the recomputed root at its size,
/// which also makes it consistent with the checkpoints before it. The first event or
/// checkpoint that does not match is named. Events removed from the end of the log after
/// a checkpoint are reported as truncation; removed before any checkpoint, compare the
/// returned `events` and `head_hash` with a head recorded outside the database.
pub async fn verify_audit_signed(
    store: &Store,
    verifier: &CheckpointVerifier,
    progress: impl FnMut(u64, u64),
) -> Result<VerifySummary, AuditCheckError> {
    verify_audit_with(store, Some(verifier), progress).await
}

async fn verify_audit_with(
    store: &Store,
    verifier: Option<&CheckpointVerifier>,
    mut progress: impl FnMut(u64, u64),
) -> Result<VerifySummary, AuditCheckError> {
    let total = store.audit_len().await?;
    let mut log = LogVerifier::new();
    for signed in store.checkpoints().await? {
        match verifier {
            Some(verifier) => log.add_signed(verifier, &signed.text).map(|_| ())?,
            None => log.add_checkpoint(signed.checkpoint)?,
        }
    }
    let (mut after, mut done) = (0, 0u64);
    loop {
        let page = checked_page(&mut *store.reader().await?, after, VERIFY_PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = last.event.seq;
        for (stored, canonical) in &page {
            log.push_stored(stored)?;
            if !canonical {
                return Err(AuditCheckError::Chain(VerifyError {
                    seq: stored.event.seq,
                    fault: Fault::Changed,
                }));
            }
        }
        done = done.saturating_add(page.len() as u64);
        progress(done, total.max(done));
    }
    let summary = log.finish()?;
    Ok(VerifySummary {
        events: summary.events,
        head_hash: summary.head_hash.unwrap_or(GENESIS),
        root_hash: summary.root_hash,
        checkpoints: summary.checkpoints,
    })
}

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
        None => head(unit).await?,
    };
    let seq = last_seq
        .checked_add(1)
        .ok_or(StoreError::Overflow { field: "seq" })?;
    i64::try_from(seq).map_err(|_| StoreError::Overflow { field: "seq" })?;
    let stored = StoredEvent::seal(AuditEvent::from_new(seq, chrono::Utc::now(), event), &prev);
    let details = canonical_details(&stored.event.details)?;
    unit.set_head((seq, stored.chain_hash));
    let event = stored.event.clone();
    unit.stage(Staged { stored, details });
    Ok(event)
}

/// A sealed event waiting for its batch's insert.
#[derive(Debug)]
pub(crate) struct Staged {
    stored: StoredEvent,
    details: String,
}

/// How many staged events one `INSERT` writes (11 parameters each).
const INSERT_ROWS: usize = 500;

/// Inserts the staged events of a batch, in order, a few hundred rows per statement.
pub(crate) async fn insert_staged(
    conn: &mut SqliteConnection,
    staged: &[Staged],
) -> Result<(), StoreError> {
    for rows in staged.chunks(INSERT_ROWS) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO audit_events (seq, time, actor, action, target, outcome, request_id, \
             policy_version, details, leaf_hash, chain_hash) ",
        );
        query.push_values(rows, |mut row, staged| {
            let event = &staged.stored.event;
            row.push_bind(i64::try_from(event.seq).unwrap_or(i64::MAX))
                .push_bind(codec::time(&event.time))
                .push_bind(event.actor.as_str())
                .push_bind(event.action.as_str())
                .push_bind(event.target.as_str())
                .push_bind(event.outcome.as_str())
                .push_bind(event.request_id.as_str())
                .push_bind(event.policy_version.as_deref())
                .push_bind(staged.details.as_str())
                .push_bind(staged.stored.leaf_hash.as_slice())
                .push_bind(staged.stored.chain_hash.as_slice());
        });
        query.build().execute(&mut *conn).await?;
    }
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
async fn checked_page(
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

/// The RFC 8785 spelling of `details`: the bytes hashed into the leaf.
fn canonical_details(details: &Value) -> Result<String, StoreError> {
    serde_json_canonicalizer::to_string(details).map_err(|_| StoreError::Invalid {
        field: "details",
        rule: "cannot be encoded",
    })
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
    let canonical = canonical_details(&event.details).is_ok_and(|text| text == details);
    let stored = StoredEvent {
        event,
        leaf_hash: key.hash(&get::<Vec<u8>>(row, "leaf_hash", key)?)?,
        chain_hash: key.hash(&get::<Vec<u8>>(row, "chain_hash", key)?)?,
    };
    Ok((stored, canonical))
}
