//! The audit log in the store: appending, reading and verifying it.
//!
//! Appends run inside the write transaction of the change they record, on the
//! single writer connection, so the chain never forks. Verification reads
//! every stored event in pages and recomputes its leaf and chain hash from the
//! stored fields, trusting neither stored hash. Details are stored in their
//! canonical (RFC 8785) spelling, the very bytes that were hashed, so a row
//! respelled with the same meaning (keys reordered, `3` as `3.0`, spaces,
//! escapes) is found changed too.

use rampart_audit::{
    AuditEvent, ChainVerifier, Fault, GENESIS, NewEvent, Outcome, StoredEvent, VerifyError,
};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, SqliteConnection};

use crate::codec::{self, RowKey};
use crate::error::StoreError;
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
}

/// Why the audit log did not verify.
#[derive(Debug, thiserror::Error)]
pub enum AuditCheckError {
    /// The log was tampered with; the first bad event is named.
    #[error(transparent)]
    Chain(#[from] VerifyError),
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

/// Verifies the whole audit log, reporting `progress(done, total)` after each page.
///
/// Every leaf and chain hash is recomputed from the stored fields; the first
/// event that does not match is named. Events removed from the end of the log
/// leave no trace in the chain itself: compare the returned `events` and
/// `head_hash` with a head recorded outside the database to detect that.
pub async fn verify_audit(
    store: &Store,
    mut progress: impl FnMut(u64, u64),
) -> Result<VerifySummary, AuditCheckError> {
    let total = store.audit_len().await?;
    let mut verifier = ChainVerifier::new();
    let (mut after, mut done) = (0, 0u64);
    loop {
        let page = checked_page(&mut *store.reader().await?, after, VERIFY_PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = last.event.seq;
        for (stored, canonical) in &page {
            verifier.push(stored)?;
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
    let head = verifier.finish()?;
    Ok(VerifySummary {
        events: head.events,
        head_hash: head.hash,
    })
}

/// Records `event` as the next event of the log.
pub(crate) async fn append(
    conn: &mut SqliteConnection,
    event: NewEvent,
) -> Result<AuditEvent, StoreError> {
    if !event.has_exact_numbers() {
        return Err(StoreError::Invalid {
            field: "details",
            rule: "must not hold integers beyond 2^53 in magnitude; record them as strings",
        });
    }
    let (last_seq, prev) = head(conn).await?;
    let seq = last_seq
        .checked_add(1)
        .ok_or(StoreError::Overflow { field: "seq" })?;
    let stored = StoredEvent::seal(AuditEvent::from_new(seq, chrono::Utc::now(), event), &prev);
    insert(conn, &stored).await?;
    Ok(stored.event)
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

async fn insert(conn: &mut SqliteConnection, stored: &StoredEvent) -> Result<(), StoreError> {
    let event = &stored.event;
    let seq = i64::try_from(event.seq).map_err(|_| StoreError::Overflow { field: "seq" })?;
    sqlx::query(
        "INSERT INTO audit_events (seq, time, actor, action, target, outcome, request_id, \
         policy_version, details, leaf_hash, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(seq)
    .bind(codec::time(&event.time))
    .bind(&event.actor)
    .bind(&event.action)
    .bind(&event.target)
    .bind(event.outcome.as_str())
    .bind(&event.request_id)
    .bind(event.policy_version.as_deref())
    .bind(canonical_details(&event.details)?)
    .bind(stored.leaf_hash.as_slice())
    .bind(stored.chain_hash.as_slice())
    .execute(conn)
    .await?;
    Ok(())
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

/// How many events are stored.
pub(crate) async fn len(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
        .fetch_one(conn)
        .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Decodes a row, and tells whether its details are spelled canonically.
fn stored_event(row: &SqliteRow) -> Result<(StoredEvent, bool), StoreError> {
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
