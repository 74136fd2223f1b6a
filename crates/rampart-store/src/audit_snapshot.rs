//! The audit log as it stood when a verification began, read in one short read transaction.
//!
//! Verification covers the log up to the last `seq` it held then; events appended while it
//! runs are left to the next one. The last `seq`, the number of events, the checkpoints and
//! the stored subtree hashes over events past that `seq` are read from one snapshot, so a
//! live gateway cannot make them disagree: a checkpoint is recorded only after the events
//! it covers, and a subtree hash only with or after the events it covers (a batch stores it
//! in the transaction that appends them; the back-fill, later, from leaves already in the
//! log). It upholds that truncation is found: in that snapshot, a checkpoint
//! larger than the log or a subtree hash over events it does not hold can only
//! mean events were removed.

use rampart_audit::SignedCheckpoint;
use sqlx::{Connection as _, SqliteConnection};

use crate::audit_scan::StoredNode;
use crate::audit_tree::{LEVELS, corrupt_node as corrupt, decode_node};
use crate::error::StoreError;
use crate::store::Store;

/// The first stored subtree hash at level `?1` with an index under `?2`.
const NODE_BELOW: &str = "SELECT idx FROM audit_tree_nodes \
    WHERE level = ?1 AND idx < ?2 ORDER BY idx LIMIT 1";

/// What verification starts from.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// The last `seq` of the log (0 when empty): verification reads up to it.
    pub head: u64,
    /// How many events the log held.
    pub events: u64,
    /// Every recorded checkpoint, smallest first.
    pub checkpoints: Vec<SignedCheckpoint>,
    /// The first stored subtree hash over events the log did not hold, if any.
    pub beyond: Option<StoredNode>,
}

/// Reads the log's starting point in one read transaction of a reader connection.
pub(crate) async fn read(store: &Store) -> Result<Snapshot, StoreError> {
    let mut conn = store.reader().await?;
    let mut tx = conn.begin().await?;
    let head = crate::audit::head_seq(&mut tx).await?;
    let events = crate::audit::len(&mut tx).await?;
    let checkpoints = crate::checkpoints::every_checkpoint(&mut tx).await?;
    let beyond = first_node_beyond(&mut tx, head).await?;
    tx.rollback().await?;
    Ok(Snapshot {
        head,
        events,
        checkpoints,
        beyond,
    })
}

/// The stored subtree hash of the lowest level, then index, that covers an event after
/// `head`; a node with a negative level or index is unreadable.
///
/// The subtree of 2^level leaves at `index` covers an event after `head` when
/// `(index + 1) << level > head`, that is when `index >= head >> level`. Each level is
/// two lookups in the table's key, however many nodes it holds.
async fn first_node_beyond(
    conn: &mut SqliteConnection,
    head: u64,
) -> Result<Option<StoredNode>, StoreError> {
    let negative: Option<(i64, i64)> = sqlx::query_as(
        "SELECT level, idx FROM audit_tree_nodes WHERE level < 0 ORDER BY level, idx LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((level, index)) = negative {
        return Err(corrupt(level, index));
    }
    let mut first = None;
    for level in LEVELS {
        if let Some(index) = node_below(conn, level, 0).await? {
            return Err(corrupt(i64::from(level), index));
        }
        let from = i64::try_from(head >> level).unwrap_or(i64::MAX);
        if first.is_none() {
            first = node_from(conn, level, from).await?;
        }
    }
    if first.is_none() {
        first = node_above_levels(conn).await?;
    }
    Ok(first)
}

/// The first stored node at `level` with an index under `below`.
async fn node_below(
    conn: &mut SqliteConnection,
    level: u32,
    below: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(NODE_BELOW)
        .bind(i64::from(level))
        .bind(below)
        .fetch_optional(conn)
        .await?)
}

/// The first stored node at `level` with an index of `from` or more, read back.
async fn node_from(
    conn: &mut SqliteConnection,
    level: u32,
    from: i64,
) -> Result<Option<StoredNode>, StoreError> {
    let row: Option<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT idx, hash FROM audit_tree_nodes WHERE level = ?1 AND idx >= ?2 \
         ORDER BY idx LIMIT 1",
    )
    .bind(i64::from(level))
    .bind(from)
    .fetch_optional(conn)
    .await?;
    row.map(|(index, hash)| decode_node(i64::from(level), index, Some(&hash)))
        .transpose()
}

/// The first stored node at a level no tree of 2^64 leaves reaches.
async fn node_above_levels(conn: &mut SqliteConnection) -> Result<Option<StoredNode>, StoreError> {
    let row: Option<(i64, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT level, idx, hash FROM audit_tree_nodes WHERE level >= 64 \
         ORDER BY level, idx LIMIT 1",
    )
    .fetch_optional(conn)
    .await?;
    row.map(|(level, index, hash)| decode_node(level, index, Some(&hash)))
        .transpose()
}
