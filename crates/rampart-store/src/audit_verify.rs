//! Verifying the stored audit log: every leaf, the chain, the tree and the checkpoints.
//!
//! Verification trusts neither stored hash. Each row's leaf is recomputed from its stored
//! columns as they are, the bytes that were hashed when it was appended (see
//! [`RawEvent`]), then its chain hash, then the RFC 9162 tree, which must give each stored
//! checkpoint's root at its size. Only a row that does not plainly verify is decoded and
//! checked field by field, which names the first bad event and what is wrong with it
//! (changed, missing, inserted, duplicated, out of order, unreadable).
//!
//! Verification covers the log as it stood when it began (see `audit_snapshot`). A
//! read-only connection of its own streams the rows, page by page in short read
//! transactions, on a blocking thread and rebuilds each page's canonical JSON (see
//! `audit_scan`) while another thread hashes the page before, so reading and hashing
//! overlap on two cores and the write-ahead log can be checkpointed all along. The stored
//! subtree hashes come with the page whose leaves complete them. From the first event of a
//! page that is not plainly right, the page is checked row by row (`audit_packed`).

use rampart_audit::{
    CheckpointVerifier, Fault, GENESIS, LogError, LogVerifier, RawEvent, VerifyError,
};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use tokio::sync::mpsc;

use crate::audit::stored_event;
use crate::audit_packed::{self, Packed};
use crate::audit_scan::{self, ScanEnd, ScannedPage};
use crate::audit_snapshot;
use crate::error::StoreError;
use crate::store::Store;

/// How many read pages may wait for hashing.
const PAGES_AHEAD: usize = 2;

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
    /// Fewer events were verified than the log holds: a row was skipped or the scan
    /// stopped early.
    #[error("only {verified} of {expected} audit events were verified")]
    Incomplete {
        /// How many events were verified.
        verified: u64,
        /// How many rows the log holds.
        expected: u64,
    },
    /// A stored subtree hash cannot even be read back.
    #[error(
        "the stored audit tree node `{node}` cannot be read: it was changed outside the gateway"
    )]
    UnreadableNode {
        /// The node, as `level/index`.
        node: String,
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
            StoreError::Corrupt {
                table: "audit_tree_nodes",
                key,
            } => Self::UnreadableNode { node: key },
            other => Self::Store(other),
        }
    }
}

/// Verifies the audit log as it stood when verification began (events appended while it
/// runs are left to the next one) and the stored checkpoints' roots, reporting
/// `progress(done, total)` after each page; see [`verify_audit_signed`].
pub async fn verify_audit(
    store: &Store,
    progress: impl FnMut(u64, u64),
) -> Result<VerifySummary, AuditCheckError> {
    verify_audit_with(store, None, progress).await
}

/// Verifies the audit log as it stood when verification began, the tree, and every stored
/// checkpoint, whose signature must be by `verifier`'s key.
///
/// Every leaf and chain hash is recomputed from the stored fields and the RFC 9162 tree
/// from the leaves, and every stored subtree hash (`audit_tree_nodes`) must be the
/// recomputed one; each checkpoint's root must equal the recomputed root at its size,
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
    let start = audit_snapshot::read(store).await?;
    let total = start.events;
    let mut log = LogVerifier::new();
    for signed in start.checkpoints {
        match verifier {
            Some(verifier) => log.add_signed(verifier, &signed.text).map(|_| ())?,
            None => log.add_checkpoint(signed.checkpoint)?,
        }
    }
    // Never reached by the recomputed tree, it is named once the events are verified.
    if let Some((level, index, hash)) = start.beyond {
        log.expect_node(level, index, hash);
    }

    let (sender, mut pages) = mpsc::channel(PAGES_AHEAD);
    let (path, head) = (store.path().to_owned(), start.head);
    let reader = tokio::task::spawn_blocking(move || audit_scan::scan(&path, head, &sender));
    let mut done = 0u64;
    while let Some(page) = pages.recv().await {
        let through = page.last();
        let (checked, packed) = hash_page(log, page, done).await?;
        log = checked;
        if let Packed::FallBack { after } = packed {
            verify_rows(store, &mut log, after, through).await?;
        }
        done = through;
        progress(done, total.max(done));
    }
    // The pages end when the scan does: with the log, an error, or a dead thread.
    drop(pages);
    let end = reader.await.map_err(|_| stopped())??.ok_or_else(stopped)?;
    check_complete(&log, end, total)?;

    let summary = log.finish()?;
    Ok(VerifySummary {
        events: summary.events,
        head_hash: summary.head_hash.unwrap_or(GENESIS),
        root_hash: summary.root_hash,
        checkpoints: summary.checkpoints,
    })
}

/// Fails unless every row up to the scan's last `seq` was read and verified, and none fewer
/// than the log held when verification began.
fn check_complete(log: &LogVerifier, end: ScanEnd, total: u64) -> Result<(), AuditCheckError> {
    let expected = end.table_rows.max(end.rows).max(total);
    if log.len() == expected && end.rows == expected {
        return Ok(());
    }
    Err(AuditCheckError::Incomplete {
        verified: log.len(),
        expected,
    })
}

/// The error for a verification whose reading or hashing thread stopped.
fn stopped() -> AuditCheckError {
    AuditCheckError::Store(StoreError::CommitFailed(
        "audit verification stopped".to_owned(),
    ))
}

/// Verifies a scanned page on a blocking thread, handing the verifier back.
async fn hash_page(
    log: LogVerifier,
    page: ScannedPage,
    after: u64,
) -> Result<(LogVerifier, Packed), AuditCheckError> {
    let hashed = tokio::task::spawn_blocking(move || {
        let mut log = log;
        let packed = audit_packed::verify(&mut log, &page, after)?;
        Ok::<_, LogError>((log, packed))
    });
    let hashed = hashed.await.map_err(|_| stopped())?;
    Ok(hashed?)
}

/// Verifies the stored events after `after` up to `through`, row by row.
async fn verify_rows(
    store: &Store,
    log: &mut LogVerifier,
    after: u64,
    through: u64,
) -> Result<(), AuditCheckError> {
    // Before the first event, every row counts, whatever its `seq`.
    let after = match after {
        0 => i64::MIN,
        after => i64::try_from(after).unwrap_or(i64::MAX),
    };
    let through = i64::try_from(through).unwrap_or(i64::MAX);
    let page = sqlx::query(
        "SELECT seq, time, actor, action, target, outcome, request_id, policy_version, \
         details, leaf_hash, chain_hash FROM audit_events WHERE seq > ? AND seq <= ? \
         ORDER BY seq",
    )
    .bind(after)
    .bind(through)
    .fetch_all(&mut *store.reader().await?)
    .await
    .map_err(StoreError::from)?;
    let mut scratch = Vec::with_capacity(1024);
    for row in &page {
        push_row(log, row, &mut scratch)?;
    }
    Ok(())
}

/// Verifies one row: from its stored text if it plainly verifies, decoded otherwise.
fn push_row(
    log: &mut LogVerifier,
    row: &SqliteRow,
    scratch: &mut Vec<u8>,
) -> Result<(), AuditCheckError> {
    if let Some((raw, leaf, chain)) = raw_row(row) {
        if log.push_raw(&raw, &leaf, &chain, scratch)? {
            return Ok(());
        }
    }
    let (stored, canonical) = stored_event(row)?;
    log.push_stored(&stored)?;
    if !canonical {
        return Err(AuditCheckError::Chain(VerifyError {
            seq: stored.event.seq,
            fault: Fault::Changed,
        }));
    }
    Ok(())
}

/// The row's stored text and hashes, borrowed, if every column has its stored type.
fn raw_row(row: &SqliteRow) -> Option<(RawEvent<'_>, [u8; 32], [u8; 32])> {
    let seq = u64::try_from(row.try_get::<i64, _>(0).ok()?).ok()?;
    let text = |index: usize| row.try_get::<&str, _>(index).ok();
    let hash = |index: usize| {
        let bytes = row.try_get::<&[u8], _>(index).ok()?;
        <[u8; 32]>::try_from(bytes).ok()
    };
    let raw = RawEvent {
        seq,
        time: text(1)?,
        actor: text(2)?,
        action: text(3)?,
        target: text(4)?,
        outcome: text(5)?,
        request_id: text(6)?,
        policy_version: row.try_get::<Option<&str>, _>(7).ok()?,
        details: text(8)?,
    };
    Some((raw, hash(9)?, hash(10)?))
}

#[cfg(test)]
#[path = "audit_verify_tests.rs"]
mod tests;
