//! Verifying a scanned page of audit events, until one is not plainly right.
//!
//! The page holds each event's canonical JSON as rebuilt from its stored columns (see
//! `audit_scan`) with its stored hashes; each is hashed and chained in order. It upholds
//! that nothing is accepted that the row-by-row check would refuse: an event whose JSON
//! does not hash to its stored leaf, whose columns do not read back as one event, or that
//! is out of place makes the page fall back, from that event on, to the row-by-row check,
//! which names what is wrong. The page's stored subtree hashes are handed to the verifier
//! first, which compares each with the recomputed tree when its last leaf is in.

use rampart_audit::{LogError, LogVerifier};

use crate::audit_scan::ScannedPage;

/// Where a page stopped being plainly right.
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

/// Verifies the events of a page in order, until one is not plainly right, and the stored
/// subtree hashes their leaves complete.
pub(crate) fn verify(
    log: &mut LogVerifier,
    page: &ScannedPage,
    after: u64,
) -> Result<Packed, LogError> {
    for &(level, index, hash) in &page.nodes {
        log.expect_node(level, index, hash);
    }
    let mut verified = after;
    for event in &page.events {
        let json = page.text.get(event.json.clone()).unwrap_or_default();
        let hashes = (&event.leaf, &event.chain);
        if !log.push_rebuilt(event.seq, json, event.well_formed, hashes)? {
            return Ok(Packed::FallBack { after: verified });
        }
        verified = event.seq;
    }
    Ok(Packed::Verified)
}
