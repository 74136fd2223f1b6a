//! Pages of audit events packed by SQLite into one text, for verification at read speed.
//!
//! SQLite rebuilds each event's canonical JSON from its stored columns (the envelope of
//! [`rampart_audit::RawEvent`], strings through `json_quote`) and packs a page of them
//! with their stored hashes into one value, so that a page costs one value instead of
//! eleven per row. Each event is framed as `seq`, a space, the leaf and chain hash in hex,
//! a space, the byte length of the JSON, a space, and the JSON.
//!
//! It upholds that nothing is accepted that the row-by-row check would refuse: an event
//! whose JSON does not hash to its stored leaf, whose columns do not read back as one
//! event, or that is out of place makes the page fall back, from that event on, to the
//! row-by-row check, which names what is wrong.

use rampart_audit::{LogError, LogVerifier};
use sqlx::SqliteConnection;

use crate::error::StoreError;

/// Packs up to `?2` events after `seq` `?1`; a row whose columns are not of an event packs
/// an empty JSON, which cannot hash to its leaf.
const PACKED_PAGE: &str = "\
    SELECT group_concat(seq || ' ' || hex(leaf_hash) || hex(chain_hash) || ' ' \
             || octet_length(json) || ' ' || json, '' ORDER BY seq), \
           count(*), max(seq) \
    FROM (SELECT seq, leaf_hash, chain_hash, \
            CASE WHEN outcome IN ('success', 'denied', 'rejected', 'failed') \
                  AND typeof(details) = 'text' AND json_valid(details) \
                  AND typeof(time) = 'text' AND length(time) = 27 \
            THEN '{\"action\":' || json_quote(action) || ',\"actor\":' || json_quote(actor) \
              || ',\"details\":' || details || ',\"outcome\":' || json_quote(outcome) \
              || ',\"policy_version\":' || json_quote(policy_version) \
              || ',\"request_id\":' || json_quote(request_id) || ',\"seq\":' || seq \
              || ',\"target\":' || json_quote(target) || ',\"time\":' || json_quote(time) \
              || '}' \
            ELSE '' END AS json \
          FROM audit_events WHERE seq > ?1 ORDER BY seq LIMIT ?2)";

/// One packed page.
#[derive(Debug)]
pub(crate) struct PackedPage {
    /// The packed events, empty when the page is.
    pub text: String,
    /// How many rows the page holds.
    pub rows: u64,
    /// The largest `seq` of the page.
    pub last: Option<i64>,
}

/// Where a packed page stopped being plainly right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Packed {
    /// Every event of the page verified.
    Verified,
    /// The events after `after` must be checked row by row.
    FallBack {
        /// The last `seq` that verified (0 before the first).
        after: u64,
    },
}

/// Reads the packed page of up to `limit` events after `after`.
pub(crate) async fn read(
    conn: &mut SqliteConnection,
    after: i64,
    limit: u32,
) -> Result<PackedPage, StoreError> {
    let (text, rows, last): (Option<String>, i64, Option<i64>) = sqlx::query_as(PACKED_PAGE)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_one(conn)
        .await?;
    Ok(PackedPage {
        text: text.unwrap_or_default(),
        rows: u64::try_from(rows).unwrap_or(0),
        last,
    })
}

/// Verifies the events of a packed page in order, until one is not plainly right.
pub(crate) fn verify(
    log: &mut LogVerifier,
    page: &PackedPage,
    after: u64,
) -> Result<Packed, LogError> {
    let mut rest = page.text.as_bytes();
    let mut verified = after;
    let mut count = 0u64;
    while !rest.is_empty() {
        let Some((event, next)) = frame(rest) else {
            return Ok(Packed::FallBack { after: verified });
        };
        let hashes = (&event.leaf, &event.chain);
        let well_formed = time_is_well_formed(event.json);
        if !log.push_rebuilt(event.seq, event.json, well_formed, hashes)? {
            return Ok(Packed::FallBack { after: verified });
        }
        verified = event.seq;
        count = count.saturating_add(1);
        rest = next;
    }
    if count != page.rows {
        return Ok(Packed::FallBack { after: verified });
    }
    Ok(Packed::Verified)
}

/// One framed event.
struct Frame<'a> {
    seq: u64,
    leaf: [u8; 32],
    chain: [u8; 32],
    json: &'a [u8],
}

/// Splits the first framed event off `text`.
fn frame(text: &[u8]) -> Option<(Frame<'_>, &[u8])> {
    let (seq, rest) = split_at_space(text)?;
    let (hashes, rest) = split_at_space(rest)?;
    let (len, rest) = split_at_space(rest)?;
    let len: usize = std::str::from_utf8(len).ok()?.parse().ok()?;
    let json = rest.get(..len)?;
    let hashes = hashes.split_at_checked(64)?;
    let frame = Frame {
        seq: std::str::from_utf8(seq).ok()?.parse().ok()?,
        leaf: unhex(hashes.0)?,
        chain: unhex(hashes.1)?,
        json,
    };
    Some((frame, rest.get(len..)?))
}

fn split_at_space(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = text.iter().position(|&b| b == b' ')?;
    Some((text.get(..at)?, text.get(at.checked_add(1)?..)?))
}

/// Decodes 64 hex digits (as SQLite's `hex` writes them) into a hash.
fn unhex(text: &[u8]) -> Option<[u8; 32]> {
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

/// Whether the time at the end of the rebuilt JSON is in its one stored form.
///
/// The JSON ends `"time":"…"}` with the 27 characters of the time, which has no escapes
/// in its stored form; any other ending fails here or at the leaf.
fn time_is_well_formed(json: &[u8]) -> bool {
    let Some(start) = json.len().checked_sub(29) else {
        return false;
    };
    let time = json.get(start..json.len().saturating_sub(2));
    time.and_then(|t| std::str::from_utf8(t).ok())
        .is_some_and(|t| rampart_audit::time::parse(t).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_back_what_was_packed() {
        let leaf = "AB".repeat(32);
        let chain = "0f".repeat(32);
        let text = format!("7 {leaf}{chain} 4 {{}}xx8 ");
        let (frame, rest) = frame(text.as_bytes()).unwrap();
        assert_eq!(frame.seq, 7);
        assert_eq!(frame.leaf, [0xab; 32]);
        assert_eq!(frame.chain, [0x0f; 32]);
        assert_eq!(frame.json, b"{}xx");
        assert_eq!(rest, b"8 ");
    }

    #[test]
    fn malformed_frames_are_refused() {
        assert!(frame(b"7 abc 2 {}").is_none());
        assert!(frame(format!("x {} 2 {{}}", "0".repeat(128)).as_bytes()).is_none());
        assert!(frame(format!("1 {} 9 {{}}", "0".repeat(128)).as_bytes()).is_none());
        assert!(unhex(&[b'g'; 64]).is_none());
    }

    #[test]
    fn only_the_stored_time_form_at_the_end_is_well_formed() {
        assert!(time_is_well_formed(
            br#"{"time":"2026-01-02T03:04:05.000006Z"}"#
        ));
        assert!(!time_is_well_formed(
            br#"{"time":"2026-02-30T03:04:05.000006Z"}"#
        ));
        assert!(!time_is_well_formed(b"{}"));
    }
}
