//! Stored checkpoints of the audit tree and the Merkle proofs served from stored leaves.
//!
//! A checkpoint row keeps the signed text exactly as it was signed; its size and root
//! columns repeat what the text says, for lookups, and are checked against it when read.
//! Checkpoints are append-only (a trigger refuses changes) and each one is larger than the
//! last. Roots and proofs are built from O(log n) stored subtree hashes (see
//! `audit_tree`), not from every leaf. The leaf of the event with `seq` n is leaf index
//! n - 1.

use std::ops::Range;

use rampart_audit::subtree;
use rampart_audit::{Checkpoint, SignedCheckpoint};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

use crate::audit_tree;
use crate::codec::{self, RowKey};
use crate::error::StoreError;
use crate::rows::get;
use crate::store::Store;
use crate::tx::WriteTx;

/// The proof that one event is in a checkpointed tree (RFC 9162 §2.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The leaf index of the event: its `seq` - 1.
    pub leaf_index: u64,
    /// The size of the tree the proof is for.
    pub tree_size: u64,
    /// The sibling hashes from the leaf up.
    pub path: Vec<[u8; 32]>,
}

impl WriteTx<'_> {
    /// Records a signed checkpoint; it must be larger than every recorded one and no
    /// larger than the log.
    pub async fn record_checkpoint(&mut self, signed: &SignedCheckpoint) -> Result<(), StoreError> {
        let checkpoint = Checkpoint::read_unverified(&signed.text).map_err(|_| invalid_text())?;
        if checkpoint != signed.checkpoint {
            return Err(invalid_text());
        }
        let len = crate::audit::len(&mut self.tx).await?;
        check_at_most("tree_size", checkpoint.tree_size, len)?;
        if let Some(latest) = latest(&mut self.tx).await? {
            if latest.checkpoint.tree_size >= checkpoint.tree_size {
                return Err(StoreError::Invalid {
                    field: "tree_size",
                    rule: "must be larger than the latest checkpoint's",
                });
            }
        }
        insert(&mut self.tx, &signed.text, &checkpoint).await
    }
}

impl Store {
    /// Records a signed checkpoint in a transaction of its own.
    pub async fn record_checkpoint(&self, signed: &SignedCheckpoint) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.record_checkpoint(signed).await?;
        tx.commit().await
    }

    /// The largest recorded checkpoint, if any.
    pub async fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, StoreError> {
        latest(&mut *self.reader().await?).await
    }

    /// Every recorded checkpoint, smallest first.
    pub async fn checkpoints(&self) -> Result<Vec<SignedCheckpoint>, StoreError> {
        every_checkpoint(&mut *self.reader().await?).await
    }

    /// The largest recorded checkpoint of at most `tree_size` events.
    pub async fn checkpoint_at_or_before(
        &self,
        tree_size: u64,
    ) -> Result<Option<SignedCheckpoint>, StoreError> {
        let size = i64::try_from(tree_size).unwrap_or(i64::MAX);
        let row = sqlx::query(
            "SELECT * FROM audit_checkpoints WHERE tree_size <= ? \
             ORDER BY tree_size DESC LIMIT 1",
        )
        .bind(size)
        .fetch_optional(&mut *self.reader().await?)
        .await?;
        row.as_ref().map(signed_checkpoint).transpose()
    }

    /// The stored leaf hashes of the leaf indexes in `range` (event `seq` = index + 1).
    pub async fn audit_leaf_hashes(&self, range: Range<u64>) -> Result<Vec<[u8; 32]>, StoreError> {
        leaf_hashes(&mut *self.reader().await?, range).await
    }

    /// The proof that event `seq` is in the tree of the first `tree_size` events.
    pub async fn inclusion_proof(
        &self,
        seq: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, StoreError> {
        let mut conn = self.reader().await?;
        check_stored(&mut conn, tree_size).await?;
        check_between("seq", seq, 1, tree_size)?;
        let leaf_index = seq.saturating_sub(1);
        let needed = subtree::needed_for_inclusion(leaf_index, tree_size);
        let hashes = audit_tree::fetch(&mut conn, &needed).await?;
        let path = subtree::inclusion_proof(leaf_index, tree_size, &hashes)?;
        Ok(InclusionProof {
            leaf_index,
            tree_size,
            path,
        })
    }

    /// The proof that the tree of `from` events is a prefix of the tree of `to` events.
    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<[u8; 32]>, StoreError> {
        let mut conn = self.reader().await?;
        check_stored(&mut conn, to).await?;
        check_between("from", from, 1, to)?;
        let needed = subtree::needed_for_consistency(from, to);
        let hashes = audit_tree::fetch(&mut conn, &needed).await?;
        Ok(subtree::consistency_proof(from, to, &hashes)?)
    }

    /// The RFC 9162 root of the first `tree_size` events.
    pub async fn audit_root(&self, tree_size: u64) -> Result<[u8; 32], StoreError> {
        let mut conn = self.reader().await?;
        check_stored(&mut conn, tree_size).await?;
        let needed = subtree::needed_for_root(tree_size);
        let hashes = audit_tree::fetch(&mut conn, &needed).await?;
        Ok(subtree::root(tree_size, &hashes))
    }
}

/// Refuses a tree larger than the stored log.
async fn check_stored(conn: &mut SqliteConnection, tree_size: u64) -> Result<(), StoreError> {
    let len = crate::audit::len(conn).await?;
    check_at_most("tree_size", tree_size, len)
}

/// Every recorded checkpoint, smallest first, as `conn` sees them.
pub(crate) async fn every_checkpoint(
    conn: &mut SqliteConnection,
) -> Result<Vec<SignedCheckpoint>, StoreError> {
    let rows = sqlx::query("SELECT * FROM audit_checkpoints ORDER BY tree_size")
        .fetch_all(conn)
        .await?;
    rows.iter().map(signed_checkpoint).collect()
}

async fn latest(conn: &mut SqliteConnection) -> Result<Option<SignedCheckpoint>, StoreError> {
    let row = sqlx::query("SELECT * FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1")
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(signed_checkpoint).transpose()
}

async fn insert(
    conn: &mut SqliteConnection,
    text: &str,
    checkpoint: &Checkpoint,
) -> Result<(), StoreError> {
    let size = checkpoint.tree_size.to_string();
    sqlx::query(
        "INSERT INTO audit_checkpoints (tree_size, root_hash, time, text) VALUES (?, ?, ?, ?)",
    )
    .bind(
        i64::try_from(checkpoint.tree_size)
            .map_err(|_| StoreError::Overflow { field: "tree_size" })?,
    )
    .bind(checkpoint.root_hash.as_slice())
    .bind(codec::time(&checkpoint.time))
    .bind(text)
    .execute(conn)
    .await
    .map_err(|e| StoreError::on_insert(e, "checkpoint", &size))?;
    Ok(())
}

/// The leaf hashes of leaf indexes `range`, read in packed runs (see `audit_leaves`).
pub(crate) async fn leaf_hashes(
    conn: &mut SqliteConnection,
    range: Range<u64>,
) -> Result<Vec<[u8; 32]>, StoreError> {
    crate::audit_leaves::leaf_hashes(conn, range).await
}

/// The leaf hashes of leaf indexes `range`, row by row; names the first missing `seq`.
pub(crate) async fn leaf_hashes_by_row(
    conn: &mut SqliteConnection,
    range: Range<u64>,
) -> Result<Vec<[u8; 32]>, StoreError> {
    let first = i64::try_from(range.start.saturating_add(1)).unwrap_or(i64::MAX);
    let last = i64::try_from(range.end).unwrap_or(i64::MAX);
    let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT seq, leaf_hash FROM audit_events WHERE seq BETWEEN ? AND ? ORDER BY seq",
    )
    .bind(first)
    .bind(last)
    .fetch_all(conn)
    .await?;
    let mut leaves = Vec::with_capacity(rows.len());
    for (expected, (seq, hash)) in (first..).zip(rows) {
        let text = seq.to_string();
        let key = RowKey {
            table: "audit_events",
            key: &text,
        };
        if seq != expected {
            return Err(key.corrupt());
        }
        leaves.push(key.hash(&hash)?);
    }
    Ok(leaves)
}

/// Decodes a checkpoint row; its columns must agree with its text.
fn signed_checkpoint(row: &SqliteRow) -> Result<SignedCheckpoint, StoreError> {
    let size = size_of(row)?;
    let text = size.to_string();
    let key = RowKey {
        table: "audit_checkpoints",
        key: &text,
    };
    let note: String = get(row, "text", key)?;
    let checkpoint = Checkpoint::read_unverified(&note).map_err(|_| key.corrupt())?;
    let root = key.hash(&get::<Vec<u8>>(row, "root_hash", key)?)?;
    let time = key.time(&get::<String>(row, "time", key)?)?;
    let agrees = u64::try_from(size).ok() == Some(checkpoint.tree_size)
        && root == checkpoint.root_hash
        && time == checkpoint.time;
    if !agrees {
        return Err(key.corrupt());
    }
    Ok(SignedCheckpoint {
        checkpoint,
        text: note,
    })
}

/// Reads the `tree_size` key of a checkpoint row, naming the row `?` if even that fails.
fn size_of(row: &SqliteRow) -> Result<i64, StoreError> {
    sqlx::Row::try_get(row, "tree_size").map_err(|_| StoreError::Corrupt {
        table: "audit_checkpoints",
        key: "?".to_owned(),
    })
}

fn invalid_text() -> StoreError {
    StoreError::Invalid {
        field: "text",
        rule: "must be the signed text of the checkpoint",
    }
}

pub(crate) fn check_at_most(field: &'static str, value: u64, max: u64) -> Result<(), StoreError> {
    check_between(field, value, 0, max)
}

pub(crate) fn check_between(
    field: &'static str,
    value: u64,
    min: u64,
    max: u64,
) -> Result<(), StoreError> {
    if value < min || value > max {
        return Err(StoreError::OutOfRange {
            field,
            value,
            min,
            max,
        });
    }
    Ok(())
}
