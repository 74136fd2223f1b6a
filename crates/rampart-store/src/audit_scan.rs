//! Reading the audit log for verification at the speed of SQLite's own row loop.
//!
//! A read-only connection of its own (rusqlite, on the SQLite library sqlx links) runs on
//! a blocking thread, inside one read transaction, so the whole scan sees one snapshot of
//! the log. It steps through the rows in order of `seq`, borrowing each column where
//! SQLite keeps it, and rebuilds each event's canonical JSON from the stored text (see
//! [`RawEvent`]) into a page, which it hands to the hashing side while it reads the next.
//!
//! It upholds that nothing is accepted that the row-by-row check would refuse: a row whose
//! columns are not of their stored types, or that does not read back as one event, is
//! marked, and verification checks it, and the rest of its page, row by row, which names
//! what is wrong. A row whose `seq` is not a positive integer is unreadable at once, and
//! the scan counts the rows it read against `count(*)` in the same snapshot, so that no
//! row escapes verification.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use rampart_audit::RawEvent;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row};
use tokio::sync::mpsc;

use crate::error::StoreError;

/// How many events one page holds.
pub(crate) const SCAN_PAGE: usize = 8192;

/// How long the scan waits for a lock held by a writer that is checkpointing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Every column of every event, in order.
const SCAN: &str = "SELECT seq, time, actor, action, target, outcome, request_id, \
    policy_version, details, leaf_hash, chain_hash FROM audit_events ORDER BY seq";

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

/// A page of events read in order.
#[derive(Debug, Default)]
pub(crate) struct ScannedPage {
    /// The rebuilt canonical JSON of every event, one after another.
    pub text: Vec<u8>,
    /// The events, in order of `seq`.
    pub events: Vec<ScannedEvent>,
}

impl ScannedPage {
    /// The largest `seq` of the page (0 when empty).
    pub fn last(&self) -> u64 {
        self.events.last().map_or(0, |event| event.seq)
    }
}

/// How a scan ended: how many rows it read, and how many the table holds, in one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanEnd {
    /// How many rows the scan read and sent.
    pub rows: u64,
    /// How many rows `count(*)` finds in the same snapshot.
    pub table_rows: u64,
}

/// Reads the log at `path` into pages sent to `pages`, until it ends or nobody listens.
///
/// Blocks: run it on a blocking thread. A row whose `seq` is not a positive integer ends
/// the scan at once as unreadable; `None` means nobody listened to the end.
pub(crate) fn scan(
    path: &Path,
    pages: &mpsc::Sender<ScannedPage>,
) -> Result<Option<ScanEnd>, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(scan_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(scan_error)?;
    // One read transaction: every page, and the count, come from the same snapshot.
    conn.execute_batch("BEGIN").map_err(scan_error)?;
    let Some(rows) = scan_pages(&conn, pages)? else {
        return Ok(None);
    };
    let count: i64 = conn
        .query_row("SELECT count(*) FROM audit_events", [], |row| row.get(0))
        .map_err(scan_error)?;
    let table_rows = u64::try_from(count).unwrap_or(u64::MAX);
    Ok(Some(ScanEnd { rows, table_rows }))
}

/// Sends every row as pages; the number of rows read, or `None` if nobody listened.
fn scan_pages(
    conn: &Connection,
    pages: &mpsc::Sender<ScannedPage>,
) -> Result<Option<u64>, StoreError> {
    let mut statement = conn.prepare(SCAN).map_err(scan_error)?;
    let mut rows = statement.query([]).map_err(scan_error)?;
    let (mut page, mut read) = (ScannedPage::default(), 0u64);
    while let Some(row) = rows.next().map_err(scan_error)? {
        push_row(&mut page, row)?;
        read = read.saturating_add(1);
        if page.events.len() == SCAN_PAGE && pages.blocking_send(std::mem::take(&mut page)).is_err()
        {
            return Ok(None);
        }
    }
    if !page.events.is_empty() && pages.blocking_send(page).is_err() {
        return Ok(None);
    }
    Ok(Some(read))
}

/// The row's `seq` if it is a positive integer; any other value makes the row unreadable.
fn positive_seq(row: &Row<'_>) -> Result<u64, StoreError> {
    let value = row.get_ref(0).map_err(scan_error)?;
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

/// A failure of the scanning connection, as a store error.
fn scan_error(error: rusqlite::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(error.to_string())))
}
