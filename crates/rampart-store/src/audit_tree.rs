//! Stored hashes of complete audit subtrees, so that a root or a proof reads O(log n) rows.
//!
//! When a batch of events completes a block of 256 leaves, the block's hash and every
//! larger subtree it completes are written to `audit_tree_nodes` in the batch's own
//! transaction (migration 0008); a log older than the table is filled in by a back-fill
//! (`audit_backfill`) in short steps of its own, and batches leave the blocks past it to
//! the back-fill, so that no batch holds the writer for long. A root or proof needs O(log n)
//! perfect subtree hashes (see [`rampart_audit::subtree`]): those of 256 leaves or more come
//! from the table, smaller ones from the leaves of at most two blocks. A node that is not
//! stored is computed from its children, stored ones where present, down to runs of at most
//! [`DIRECT_LEVEL`] leaves read back: a proof is right even before the table is, and the
//! memory it takes stays bounded however much of the table is missing.

use std::collections::HashMap;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;

use rampart_audit::merkle::{self, node_hash};
use rampart_audit::subtree::{Subtree, Subtrees};
use sqlx::SqliteConnection;

use crate::audit_scan::StoredNode;
use crate::checkpoints::leaf_hashes;
use crate::error::StoreError;

/// The level of the smallest stored subtree: 2^8 = 256 leaves.
pub(crate) const STORED_LEVEL: u32 = 8;

/// The levels a stored subtree hash can have: a tree of at most 2^64 leaves.
pub(crate) const LEVELS: Range<u32> = 0..64;

/// The highest level a missing node is hashed at straight from its leaves (4,096 leaf
/// hashes, 128 KiB); a missing node above it is hashed from its two children.
const DIRECT_LEVEL: u32 = STORED_LEVEL + 4;

/// How many blocks the catching up reads at a time (2^20 leaf hashes, 32 MiB).
const BLOCKS_PER_READ: u64 = 4096;

/// The leaves a batch appended: leaf index `start` on, still in memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchLeaves<'a> {
    /// The leaf index of the first leaf (its event's `seq` - 1).
    pub start: u64,
    /// The leaf hashes, in order.
    pub leaves: &'a [[u8; 32]],
}

impl BatchLeaves<'_> {
    /// One past the last leaf index.
    fn end(&self) -> u64 {
        let len = u64::try_from(self.leaves.len()).unwrap_or(u64::MAX);
        self.start.saturating_add(len)
    }
}

/// Stores the subtrees completed by the batch that appended `batch`.
///
/// The batch's own leaves are taken from memory; only the leaves before them in the first
/// block they complete are read back.
pub(crate) async fn extend_for_batch(
    conn: &mut SqliteConnection,
    batch: BatchLeaves<'_>,
) -> Result<(), StoreError> {
    let last = batch.end();
    if batch.start >> STORED_LEVEL == last >> STORED_LEVEL {
        return Ok(());
    }
    let Some(next) = first_block_for(conn, batch.start).await? else {
        return Ok(());
    };
    extend(conn, next, last, Some(batch)).await
}

/// Stores the subtrees completed among the first `len` leaves by a batch
/// whose first leaf is `first`, reading every leaf back.
pub(crate) async fn extend_from_table(
    conn: &mut SqliteConnection,
    first: u64,
    len: u64,
) -> Result<(), StoreError> {
    let Some(next) = first_block_for(conn, first).await? else {
        return Ok(());
    };
    extend(conn, next, len, None).await
}

/// The first block a batch from leaf `first` on stores: the first one not
/// stored, unless blocks before the batch's are missing too. Those the
/// back-fill stores, then the batch's, so that no batch reads and hashes old
/// leaves while it holds the writer.
async fn first_block_for(
    conn: &mut SqliteConnection,
    first: u64,
) -> Result<Option<u64>, StoreError> {
    let next = next_block(conn).await?;
    Ok((next >= first >> STORED_LEVEL).then_some(next))
}

/// How far the stored blocks lag behind the `len` leaves of the log: the first block not
/// stored, and how many complete blocks the log holds.
pub(crate) async fn lag(conn: &mut SqliteConnection, len: u64) -> Result<(u64, u64), StoreError> {
    Ok((next_block(conn).await?, len >> STORED_LEVEL))
}

/// The first block whose subtree hash is not stored: blocks are stored in order.
pub(crate) async fn next_block(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    let stored: Option<i64> =
        sqlx::query_scalar("SELECT MAX(idx) FROM audit_tree_nodes WHERE level = ?")
            .bind(i64::from(STORED_LEVEL))
            .fetch_one(&mut *conn)
            .await?;
    Ok(stored.map_or(0, |idx| {
        u64::try_from(idx).unwrap_or(u64::MAX).saturating_add(1)
    }))
}

/// Stores every complete subtree of at least 256 leaves among the first `len`
/// leaves from block `next` on, the smallest first; leaves of `batch` are
/// taken from memory. It stops at the first block whose leaves are missing.
async fn extend(
    conn: &mut SqliteConnection,
    mut next: u64,
    len: u64,
    batch: Option<BatchLeaves<'_>>,
) -> Result<(), StoreError> {
    let blocks = len >> STORED_LEVEL;
    let mut frontier = HashMap::new();
    while next < blocks {
        let end = blocks.min(next.saturating_add(BLOCKS_PER_READ));
        let leaves = leaves_of(conn, next << STORED_LEVEL..end << STORED_LEVEL, batch).await?;
        for (block, run) in (next..).zip(leaves.chunks(1 << STORED_LEVEL)) {
            if run.len() != 1 << STORED_LEVEL {
                // Leaves are missing (the log was cut outside the gateway): store nothing
                // that would not be the tree's; verification names what is missing.
                return Ok(());
            }
            let subtree = Subtree {
                level: STORED_LEVEL,
                index: block,
            };
            store_with_parents(conn, &mut frontier, subtree, merkle::root(run)).await?;
        }
        if leaves.len() as u64 != (end - next) << STORED_LEVEL {
            // The last run of this read is short or absent: the same as above.
            return Ok(());
        }
        next = end;
    }
    Ok(())
}

/// The leaf hashes of `range`: those of `batch` from memory, the others read back.
async fn leaves_of(
    conn: &mut SqliteConnection,
    range: Range<u64>,
    batch: Option<BatchLeaves<'_>>,
) -> Result<Vec<[u8; 32]>, StoreError> {
    let Some(batch) = batch.filter(|b| b.start < range.end && range.end <= b.end()) else {
        return leaf_hashes(conn, range).await;
    };
    let split = batch.start.max(range.start);
    let mut leaves = leaf_hashes(conn, range.start..split).await?;
    let from = usize::try_from(split - batch.start).unwrap_or(usize::MAX);
    let to = usize::try_from(range.end - batch.start).unwrap_or(usize::MAX);
    let known = batch
        .leaves
        .get(from..to)
        .ok_or(StoreError::Overflow { field: "leaf" })?;
    leaves.extend_from_slice(known);
    Ok(leaves)
}

/// Stores `subtree`, then each parent it completes as the right child.
///
/// `frontier` keeps the last node stored at each level, the left sibling the next
/// right child needs; a sibling stored by an earlier batch is read back.
pub(crate) async fn store_with_parents(
    conn: &mut SqliteConnection,
    frontier: &mut HashMap<u32, (u64, [u8; 32])>,
    mut subtree: Subtree,
    mut hash: [u8; 32],
) -> Result<(), StoreError> {
    loop {
        insert(conn, subtree, &hash).await?;
        frontier.insert(subtree.level, (subtree.index, hash));
        if subtree.index % 2 == 0 || subtree.level >= 63 {
            return Ok(());
        }
        let left = Subtree {
            index: subtree.index - 1,
            ..subtree
        };
        let left_hash = match frontier.get(&left.level) {
            Some(&(index, hash)) if index == left.index => Some(hash),
            _ => stored(conn, left).await?,
        };
        // A sibling missing from the table is filled in by catching up, smallest first.
        let Some(left_hash) = left_hash else {
            return Ok(());
        };
        hash = node_hash(&left_hash, &hash);
        subtree = Subtree {
            level: subtree.level + 1,
            index: subtree.index / 2,
        };
    }
}

async fn insert(
    conn: &mut SqliteConnection,
    subtree: Subtree,
    hash: &[u8; 32],
) -> Result<(), StoreError> {
    sqlx::query("INSERT OR IGNORE INTO audit_tree_nodes (level, idx, hash) VALUES (?, ?, ?)")
        .bind(i64::from(subtree.level))
        .bind(i64::try_from(subtree.index).map_err(|_| StoreError::Overflow { field: "idx" })?)
        .bind(hash.as_slice())
        .execute(conn)
        .await?;
    Ok(())
}

/// The stored hash of `subtree`, if it is stored.
async fn stored(
    conn: &mut SqliteConnection,
    subtree: Subtree,
) -> Result<Option<[u8; 32]>, StoreError> {
    let Ok(index) = i64::try_from(subtree.index) else {
        return Ok(None);
    };
    let level = i64::from(subtree.level);
    let hash: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT hash FROM audit_tree_nodes WHERE level = ? AND idx = ?")
            .bind(level)
            .bind(index)
            .fetch_optional(conn)
            .await?;
    let Some(hash) = hash else { return Ok(None) };
    decode_node(level, index, Some(&hash)).map(|(_, _, hash)| Some(hash))
}

/// A stored node read back; one whose level, index or hash does not fit a tree's node
/// (a hash that is not a 32-byte blob is passed as `None`) is unreadable.
pub(crate) fn decode_node(
    level: i64,
    index: i64,
    hash: Option<&[u8]>,
) -> Result<StoredNode, StoreError> {
    let corrupt = || corrupt_node(level, index);
    Ok((
        u32::try_from(level).map_err(|_| corrupt())?,
        u64::try_from(index).map_err(|_| corrupt())?,
        hash.and_then(|h| <[u8; 32]>::try_from(h).ok())
            .ok_or_else(corrupt)?,
    ))
}

/// The hashes of `needed`: stored nodes where there are, computed from leaves elsewhere.
///
/// Subtrees under 256 leaves lie in at most two blocks for one proof; the leaves of each
/// block are read once.
pub(crate) async fn fetch(
    conn: &mut SqliteConnection,
    needed: &[Subtree],
) -> Result<Subtrees, StoreError> {
    let mut hashes = Subtrees::new();
    let mut small: Vec<Subtree> = Vec::new();
    for &subtree in needed {
        if subtree.level < STORED_LEVEL {
            small.push(subtree);
            continue;
        }
        hashes.insert(subtree, node_of(conn, subtree).await?);
    }
    let mut blocks: HashMap<u64, (u64, u64)> = HashMap::new();
    for subtree in &small {
        let range = subtree.leaves();
        let span = blocks
            .entry(range.start >> STORED_LEVEL)
            .or_insert((range.start, range.end));
        *span = (span.0.min(range.start), span.1.max(range.end));
    }
    for (start, end) in blocks.into_values() {
        let leaves = leaf_hashes(conn, start..end).await?;
        for subtree in small
            .iter()
            .filter(|s| (start..end).contains(&s.leaves().start))
        {
            let range = subtree.leaves();
            let from = usize::try_from(range.start - start).unwrap_or(usize::MAX);
            let to = usize::try_from(range.end - start).unwrap_or(usize::MAX);
            let run = leaves.get(from..to).ok_or_else(|| StoreError::Corrupt {
                table: "audit_events",
                key: (range.end).to_string(),
            })?;
            hashes.insert(*subtree, merkle::root(run));
        }
    }
    Ok(hashes)
}

/// The error for the stored node at `level`, `index` that cannot be read back.
pub(crate) fn corrupt_node(level: i64, index: i64) -> StoreError {
    StoreError::Corrupt {
        table: "audit_tree_nodes",
        key: format!("{level}/{index}"),
    }
}

/// A future borrowing the connection, boxed so that [`node_of`] can recurse.
type NodeFuture<'c> = Pin<Box<dyn Future<Output = Result<[u8; 32], StoreError>> + Send + 'c>>;

/// The hash of `subtree` (256 leaves or more): stored, or computed from its children.
///
/// On a log the back-fill has not reached yet, few nodes are stored, so a
/// root or a proof reads and hashes O(n) leaves. The memory stays bounded (at
/// most 2^[`DIRECT_LEVEL`] leaf hashes at a time, the recursion O(log n)
/// deep), but proofs are slow until the back-fill ends.
fn node_of(conn: &mut SqliteConnection, subtree: Subtree) -> NodeFuture<'_> {
    Box::pin(async move {
        if let Some(hash) = stored(conn, subtree).await? {
            return Ok(hash);
        }
        if subtree.level <= DIRECT_LEVEL {
            return root_of_leaves(conn, subtree.leaves()).await;
        }
        let left = Subtree {
            level: subtree.level - 1,
            index: subtree.index.saturating_mul(2),
        };
        let right = Subtree {
            index: left.index.saturating_add(1),
            ..left
        };
        let left = node_of(conn, left).await?;
        Ok(node_hash(&left, &node_of(conn, right).await?))
    })
}

/// The Merkle root of the leaves of `range`, every one of which must be stored.
async fn root_of_leaves(
    conn: &mut SqliteConnection,
    range: Range<u64>,
) -> Result<[u8; 32], StoreError> {
    let leaves = leaf_hashes(conn, range.clone()).await?;
    if leaves.len() as u64 != range.end - range.start {
        return Err(StoreError::Corrupt {
            table: "audit_events",
            key: (range.start + leaves.len() as u64 + 1).to_string(),
        });
    }
    Ok(merkle::root(&leaves))
}
