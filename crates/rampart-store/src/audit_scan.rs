//! Reading the audit log for verification at the speed of SQLite's own row loop.
//!
//! A read-only connection of its own (rusqlite, on the SQLite library sqlx links) runs on
//! a blocking thread. It reads the log a page at a time, in order of `seq`, each page by
//! one statement keyed by the last `seq` of the page before (`seq > last`), so that each
//! page is its own short read transaction: a verification of a large log never keeps the
//! write-ahead log from being checkpointed into the database while the gateway goes on
//! appending. It reads up to the last `seq` the log held when verification began; later
//! appends are left to the next verification. With each page it reads the stored subtree
//! hashes (`audit_tree_nodes`) that the page's leaves complete, in order, so that they are
//! compared with the recomputed tree as the scan advances and are never all in memory.
//!
//! It borrows each column where SQLite keeps it and rebuilds each event's canonical JSON
//! from the stored text (see [`RawEvent`]) into the page, which it hands to the hashing
//! side while it reads the next. It upholds that nothing is accepted that the row-by-row
//! check would refuse: a row whose columns are not of their stored types, or that does not
//! read back as one event, is marked, and verification checks it, and the rest of its
//! page, row by row, which names what is wrong. A row whose `seq` is not a positive integer
//! is unreadable at once; a stored subtree hash that is not 32 bytes is unreadable at once.
//! When the pages end, the rows up to the starting `seq` are counted again, so that no row
//! escapes verification, not even one slipped in behind the scan.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use rampart_audit::RawEvent;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row};
use tokio::sync::mpsc;

use crate::audit_tree::{LEVELS, decode_node};
use crate::error::StoreError;

/// How many events one page holds.
pub(crate) const SCAN_PAGE: usize = 8192;

/// How long the scan waits for a lock held by a writer that is checkpointing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Every column of the next page of events: `seq` from `?1` to `?2`, in order.
const SCAN: &str = "SELECT seq, time, actor, action, target, outcome, request_id, \
    policy_version, details, leaf_hash, chain_hash FROM audit_events \
    WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3";

/// The stored subtree hashes of one level with an index from `?2` up to (not with) `?3`.
const NODES: &str = "SELECT idx, hash FROM audit_tree_nodes \
    WHERE level = ?1 AND idx >= ?2 AND idx < ?3 ORDER BY idx";

/// How many rows have a `seq` up to `?1`.
const COUNT: &str = "SELECT count(*) FROM audit_events WHERE seq <= ?1";

/// One event of a page: its stored hashes and where its canonical JSON lies.
#[derive(Debug, Clone)]
pub(crate) struct ScannedEvent {
    /// The stored `seq`.
    pub seq: u64,
    /// The stored leaf hash, or zeros when it is not 32 bytes.
    pub leaf: [u8; 32],
    /// The stored chain hash, or zeros when it is not 32 bytes.
    pub chain: [u8; 32],
    /// Where the rebuilt JSON lies in the page's text.
    pub json: Range<usize>,
    /// Whether the columns have their stored types and read back as one event.
    pub well_formed: bool,
}

/// A stored subtree hash: the perfect subtree of 2^`level` leaves at `index`.
pub(crate) type StoredNode = (u32, u64, [u8; 32]);

/// A page of events read in order.
#[derive(Debug, Default)]
pub(crate) struct ScannedPage {
    /// The rebuilt canonical JSON of every event, one after another.
    pub text: Vec<u8>,
    /// The events, in order of `seq`.
    pub events: Vec<ScannedEvent>,
    /// The stored subtree hashes that the page's leaves complete.
    pub nodes: Vec<StoredNode>,
}

impl ScannedPage {
    /// The largest `seq` of the page (0 when empty).
    pub fn last(&self) -> u64 {
        self.events.last().map_or(0, |event| event.seq)
    }
}

/// How a scan ended: how many rows it read, and how many there are up to its last `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanEnd {
    /// How many rows the scan read and sent.
    pub rows: u64,
    /// How many rows `count(*)` finds up to the last `seq`, once the pages are read.
    pub table_rows: u64,
}

/// Reads the log at `path`, up to `seq` `through`, into pages sent to `pages`, until it
/// ends or nobody listens.
///
/// Blocks: run it on a blocking thread. A row whose `seq` is not a positive integer ends
/// the scan at once as unreadable; `None` means nobody listened to the end.
pub(crate) fn scan(
    path: &Path,
    through: u64,
    pages: &mpsc::Sender<ScannedPage>,
) -> Result<Option<ScanEnd>, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let through = i64::try_from(through).unwrap_or(i64::MAX);
    let Some(rows) = scan_pages(&conn, through, pages)? else {
        return Ok(None);
    };
    let count: i64 = conn.query_row(COUNT, [through], |row| row.get(0))?;
    let table_rows = u64::try_from(count).unwrap_or(u64::MAX);
    Ok(Some(ScanEnd { rows, table_rows }))
}

/// Sends every row up to `through` as pages; the number of rows read, or `None` if nobody
/// listened.
fn scan_pages(
    conn: &Connection,
    through: i64,
    pages: &mpsc::Sender<ScannedPage>,
) -> Result<Option<u64>, StoreError> {
    // The first page takes every row up to `through`, whatever its `seq`, so that a row
    // with a `seq` under 1 comes first and is named.
    let (mut from, mut before, mut read) = (i64::MIN, 0u64, 0u64);
    loop {
        let mut page = read_page(conn, from, through)?;
        let Some(last) = page.events.last().map(|event| event.seq) else {
            return Ok(Some(read));
        };
        page.nodes = completed_nodes(conn, before, last)?;
        let full = page.events.len() == SCAN_PAGE;
        read = read.saturating_add(u64::try_from(page.events.len()).unwrap_or(u64::MAX));
        if pages.blocking_send(page).is_err() {
            return Ok(None);
        }
        let next = i64::try_from(last)
            .ok()
            .and_then(|last| last.checked_add(1));
        match next {
            Some(next) if full => (from, before) = (next, last),
            _ => return Ok(Some(read)),
        }
    }
}

/// Reads the rows from `seq` `from` to `through`, at most a page of them, in one statement:
/// the read transaction ends with the page.
fn read_page(conn: &Connection, from: i64, through: i64) -> Result<ScannedPage, StoreError> {
    let mut statement = conn.prepare_cached(SCAN)?;
    let limit = i64::try_from(SCAN_PAGE).unwrap_or(i64::MAX);
    let mut rows = statement.query(rusqlite::params![from, through, limit])?;
    let mut page = ScannedPage::default();
    while let Some(row) = rows.next()? {
        push_row(&mut page, row)?;
    }
    Ok(page)
}

/// The stored subtree hashes completed by the leaves after the first `before` up to the
/// first `last`, the smallest level first and in order of index within a level.
///
/// The subtree of 2^level leaves at `index` is complete once `(index + 1) << level` leaves
/// are in, so those completed in between have an index from `before >> level` up to
/// `last >> level`.
fn completed_nodes(
    conn: &Connection,
    before: u64,
    last: u64,
) -> Result<Vec<StoredNode>, StoreError> {
    let mut nodes = Vec::new();
    let mut statement = conn.prepare_cached(NODES)?;
    for level in LEVELS {
        let (low, high) = (before >> level, last >> level);
        if low >= high {
            continue;
        }
        let bound = |index: u64| i64::try_from(index).unwrap_or(i64::MAX);
        let mut rows = statement.query(rusqlite::params![level, bound(low), bound(high)])?;
        while let Some(row) = rows.next()? {
            nodes.push(stored_node(level, row)?);
        }
    }
    Ok(nodes)
}

/// One row of [`NODES`] at `level`; a hash that is not 32 bytes makes the node unreadable.
fn stored_node(level: u32, row: &Row<'_>) -> Result<StoredNode, StoreError> {
    let index: i64 = row.get(0)?;
    let hash = match row.get_ref(1)? {
        ValueRef::Blob(bytes) => Some(bytes),
        _ => None,
    };
    decode_node(i64::from(level), index, hash)
}

/// The row's `seq` if it is a positive integer; any other value makes the row unreadable.
fn positive_seq(row: &Row<'_>) -> Result<u64, StoreError> {
    let value = row.get_ref(0)?;
    match value {
        ValueRef::Integer(seq) if seq > 0 => Ok(seq.unsigned_abs()),
        other => Err(StoreError::Corrupt {
            table: "audit_events",
            key: match other {
                ValueRef::Integer(seq) => seq.to_string(),
                ValueRef::Real(seq) => seq.to_string(),
                ValueRef::Null => "null".to_owned(),
                ValueRef::Text(_) | ValueRef::Blob(_) => "?".to_owned(),
            },
        }),
    }
}

/// Adds the row to the page, rebuilt if its columns have their stored types.
fn push_row(page: &mut ScannedPage, row: &Row<'_>) -> Result<(), StoreError> {
    let start = page.text.len();
    let hash = |index: usize| match row.get_ref(index) {
        Ok(ValueRef::Blob(bytes)) => <[u8; 32]>::try_from(bytes).ok(),
        _ => None,
    };
    let seq = positive_seq(row)?;
    let (leaf, chain) = (hash(9), hash(10));
    let well_formed = match (raw_event(row, seq), leaf, chain) {
        (Some(raw), Some(_), Some(_)) if raw.is_well_formed() => {
            raw.write_canonical(&mut page.text);
            true
        }
        _ => false,
    };
    page.events.push(ScannedEvent {
        seq,
        leaf: leaf.unwrap_or_default(),
        chain: chain.unwrap_or_default(),
        json: start..page.text.len(),
        well_formed,
    });
    Ok(())
}

/// The row's stored text, borrowed, if every column has its stored type.
fn raw_event<'r>(row: &'r Row<'_>, seq: u64) -> Option<RawEvent<'r>> {
    let text = |index: usize| match row.get_ref(index) {
        Ok(ValueRef::Text(bytes)) => std::str::from_utf8(bytes).ok(),
        _ => None,
    };
    let policy_version = match row.get_ref(7) {
        Ok(ValueRef::Null) => None,
        Ok(ValueRef::Text(bytes)) => Some(std::str::from_utf8(bytes).ok()?),
        _ => return None,
    };
    Some(RawEvent {
        seq,
        time: text(1)?,
        actor: text(2)?,
        action: text(3)?,
        target: text(4)?,
        outcome: text(5)?,
        request_id: text(6)?,
        policy_version,
        details: text(8)?,
    })
}
