//! The hash chain over audit leaves and its verifier.
//!
//! Each stored event carries its leaf hash and a chain hash that commits to
//! every event before it: `chain = SHA-256("rampart.audit.chain.v1" || 0x00 ||
//! previous chain || leaf)`, starting from [`GENESIS`]. The domain label keeps
//! chain hashes apart from RFC 9162 leaf (`0x00`) and node (`0x01`) hashes. The
//! verifier recomputes both hashes from the event's fields and trusts neither
//! stored value; it names the first event that does not match and how.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::event::AuditEvent;

/// The chain hash before the first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// The domain label of a chain hash; the terminating zero keeps it prefix-free.
const CHAIN_DOMAIN: &[u8] = b"rampart.audit.chain.v1\0";

/// Links `leaf` to the chain that ends in `prev`.
pub fn chain_hash(prev: &[u8; 32], leaf: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(CHAIN_DOMAIN);
    hasher.update(prev);
    hasher.update(leaf);
    hasher.finalize().into()
}

/// An event as stored, with the hashes written when it was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The event's fields.
    pub event: AuditEvent,
    /// The leaf hash stored with it.
    pub leaf_hash: [u8; 32],
    /// The chain hash stored with it.
    pub chain_hash: [u8; 32],
}

impl StoredEvent {
    /// Seals `event` onto the chain that ends in `prev`.
    pub fn seal(event: AuditEvent, prev: &[u8; 32]) -> Self {
        let leaf_hash = event.leaf_hash();
        let chain_hash = chain_hash(prev, &leaf_hash);
        Self {
            event,
            leaf_hash,
            chain_hash,
        }
    }
}

/// What is wrong at the first bad position of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The event's fields no longer match the leaf hash recorded for it.
    Changed,
    /// The event is missing: deleted, leaving a gap or with later events renumbered.
    Missing,
    /// The event was inserted: the event after it was recorded at this position.
    Inserted,
    /// The event repeats the event before it.
    Duplicated,
    /// The event is out of order: it was recorded at another position.
    Reordered,
    /// The event's chain hash does not link it to the events before it.
    BrokenLink,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Changed => "was changed: its fields do not match its leaf hash",
            Self::Missing => "is missing: it was deleted from the log",
            Self::Inserted => "was inserted: the event after it was recorded in its place",
            Self::Duplicated => "is a duplicate of the event before it",
            Self::Reordered => "is out of order: it was recorded at another position",
            Self::BrokenLink => "does not link to the event before it: its chain hash is wrong",
        })
    }
}

/// The first bad position of the log and what is wrong there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("audit event {seq} {fault}")]
pub struct VerifyError {
    /// The first position that does not verify.
    pub seq: u64,
    /// What is wrong there.
    pub fault: Fault,
}

/// The end of a verified chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// How many events were verified.
    pub events: u64,
    /// The chain hash of the last event ([`GENESIS`] for an empty log).
    pub hash: [u8; 32],
}

/// Verifies stored events fed in order of `seq`, from the first.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_seq: u64,
    prev_chain: [u8; 32],
    prev_leaf: Option<[u8; 32]>,
    // A position whose event carries the leaf of the position after it: the
    // next event tells a swap (reordered) from a renumbered deletion (missing).
    displaced: Option<u64>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    /// A verifier that expects the log to start at `seq` 1.
    pub fn new() -> Self {
        Self {
            next_seq: 1,
            prev_chain: GENESIS,
            prev_leaf: None,
            displaced: None,
        }
    }

    /// Checks the next stored event.
    pub fn push(&mut self, stored: &StoredEvent) -> Result<(), VerifyError> {
        if let Some(seq) = self.displaced.take() {
            return Err(self.resolve_displaced(seq, stored));
        }
        self.check_position(stored.event.seq)?;

        let seq = stored.event.seq;
        let leaf = stored.event.leaf_hash();
        if leaf != stored.leaf_hash || !stored.event.is_exactly_encodable() {
            return self.misplaced(stored);
        }
        let chain = chain_hash(&self.prev_chain, &leaf);
        if chain != stored.chain_hash {
            return Err(VerifyError {
                seq,
                fault: Fault::BrokenLink,
            });
        }

        self.next_seq = seq.saturating_add(1);
        self.prev_chain = chain;
        self.prev_leaf = Some(leaf);
        Ok(())
    }

    /// Accepts the next event from its recomputed `leaf` if it is plainly the next one: in
    /// place, its leaf the stored one, and linked by its stored chain hash.
    ///
    /// Returns false, changing nothing, otherwise; the caller then decodes the event and
    /// calls [`push`](Self::push), which names what is wrong.
    pub fn accept_hashed(
        &mut self,
        seq: u64,
        leaf: &[u8; 32],
        stored_leaf: &[u8; 32],
        stored_chain: &[u8; 32],
    ) -> bool {
        if self.displaced.is_some() || seq != self.next_seq || leaf != stored_leaf {
            return false;
        }
        let chain = chain_hash(&self.prev_chain, leaf);
        if &chain != stored_chain {
            return false;
        }
        self.next_seq = seq.saturating_add(1);
        self.prev_chain = chain;
        self.prev_leaf = Some(*leaf);
        true
    }

    /// Ends verification and returns the head of the verified chain.
    pub fn finish(self) -> Result<ChainHead, VerifyError> {
        if let Some(seq) = self.displaced {
            return Err(VerifyError {
                seq,
                fault: Fault::Missing,
            });
        }
        Ok(ChainHead {
            events: self.next_seq.saturating_sub(1),
            hash: self.prev_chain,
        })
    }

    fn check_position(&self, seq: u64) -> Result<(), VerifyError> {
        let last = self.next_seq.saturating_sub(1);
        let fault = match seq {
            s if s == self.next_seq => return Ok(()),
            s if s > self.next_seq => {
                return Err(VerifyError {
                    seq: self.next_seq,
                    fault: Fault::Missing,
                });
            }
            s if s == last => Fault::Duplicated,
            _ => Fault::Reordered,
        };
        Err(VerifyError { seq, fault })
    }

    // The event does not match its own leaf: find out whether it is a copy,
    // an event moved from a neighbouring position, or simply altered.
    fn misplaced(&mut self, stored: &StoredEvent) -> Result<(), VerifyError> {
        let seq = stored.event.seq;
        let before = seq.checked_sub(1).map(|s| leaf_at(&stored.event, s));
        let fault = if self.prev_leaf.is_some()
            && (self.prev_leaf == Some(stored.leaf_hash) || self.prev_leaf == before)
        {
            Fault::Duplicated
        } else if before == Some(stored.leaf_hash) {
            return Err(VerifyError {
                seq: seq.saturating_sub(1),
                fault: Fault::Inserted,
            });
        } else if leaf_at(&stored.event, seq.saturating_add(1)) == stored.leaf_hash {
            self.displaced = Some(seq);
            return Ok(());
        } else {
            Fault::Changed
        };
        Err(VerifyError { seq, fault })
    }

    fn resolve_displaced(&self, seq: u64, next: &StoredEvent) -> VerifyError {
        let swapped =
            next.event.seq == seq.saturating_add(1) && leaf_at(&next.event, seq) == next.leaf_hash;
        let fault = if swapped {
            Fault::Reordered
        } else {
            Fault::Missing
        };
        VerifyError { seq, fault }
    }
}

/// The leaf hash `event` would have had if it were recorded at `seq`.
fn leaf_at(event: &AuditEvent, seq: u64) -> [u8; 32] {
    let mut moved = event.clone();
    moved.seq = seq;
    moved.leaf_hash()
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
