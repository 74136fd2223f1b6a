//! Reading runs of stored leaf hashes, packed by SQLite into one value per run.
//!
//! Handing rows one by one from SQLite's thread costs more than hashing them; a run of
//! up to [`LEAVES_PER_READ`] leaf hashes comes back as one hex text instead. It upholds
//! that a run is only accepted whole: when a `seq` is missing or a hash is not 32 bytes,
//! the run is read again row by row, which names the first row that is wrong.

use std::ops::Range;

use sqlx::SqliteConnection;

use crate::error::StoreError;

/// How many leaf hashes one packed read returns at most (4 MiB of hex).
const LEAVES_PER_READ: u64 = 1 << 16;

/// Packs the leaf hashes of `seq` `?1` to `?2` in order of `seq` (an ordered aggregate,
/// SQLite 3.44 or later), with how many there are and how many are not 32-byte blobs.
const PACKED_LEAVES: &str = "\
    SELECT count(*), coalesce(sum(typeof(leaf_hash) <> 'blob' OR length(leaf_hash) <> 32), 0), \
    group_concat(hex(leaf_hash), '' ORDER BY seq) \
    FROM audit_events WHERE seq BETWEEN ?1 AND ?2";

/// The leaf hashes of leaf indexes `range` (`seq` `range.start + 1` to `range.end`).
pub(crate) async fn leaf_hashes(
    conn: &mut SqliteConnection,
    range: Range<u64>,
) -> Result<Vec<[u8; 32]>, StoreError> {
    let mut leaves =
        Vec::with_capacity(usize::try_from(range.end.saturating_sub(range.start)).unwrap_or(0));
    let mut start = range.start;
    while start < range.end {
        let end = range.end.min(start.saturating_add(LEAVES_PER_READ));
        match packed_run(conn, start..end).await? {
            Some(run) => leaves.extend(run),
            None => leaves.extend(crate::checkpoints::leaf_hashes_by_row(conn, start..end).await?),
        }
        start = end;
    }
    Ok(leaves)
}

/// The leaf hashes of `range` read as one packed value; `None` if the run is not whole.
async fn packed_run(
    conn: &mut SqliteConnection,
    range: Range<u64>,
) -> Result<Option<Vec<[u8; 32]>>, StoreError> {
    let first = i64::try_from(range.start.saturating_add(1)).unwrap_or(i64::MAX);
    let last = i64::try_from(range.end).unwrap_or(i64::MAX);
    let (count, misshapen, text): (i64, i64, Option<String>) = sqlx::query_as(PACKED_LEAVES)
        .bind(first)
        .bind(last)
        .fetch_one(conn)
        .await?;
    let expected = range.end.saturating_sub(range.start);
    if u64::try_from(count).ok() != Some(expected) || misshapen != 0 {
        return Ok(None);
    }
    let text = text.unwrap_or_default();
    if u64::try_from(text.len()).ok() != expected.checked_mul(64) {
        return Ok(None);
    }
    let mut leaves = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    for hex in text.as_bytes().chunks_exact(64) {
        let Some(leaf) = unhex(hex) else {
            return Ok(None);
        };
        leaves.push(leaf);
    }
    Ok(Some(leaves))
}

/// Decodes 64 hex digits, as SQLite's `hex` writes them, into a hash.
pub(crate) fn unhex(text: &[u8]) -> Option<[u8; 32]> {
    let mut hash = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (byte, pair) in hash.iter_mut().zip(text.chunks_exact(2)) {
        let digit = |c: u8| char::from(c).to_digit(16);
        let (high, low) = (digit(*pair.first()?)?, digit(*pair.get(1)?)?);
        *byte = u8::try_from(high * 16 + low).ok()?;
    }
    Some(hash)
}
