//! Verification of a whole audit log against its signed checkpoints, trusting nothing stored.
//!
//! A [`LogVerifier`] is fed the log's events in order of `seq` (from 1) and its
//! checkpoints. It recomputes every leaf, the hash chain when stored events are given, and
//! the RFC 9162 tree with a [`MerkleAccumulator`]. When the tree reaches a checkpoint's size
//! its recomputed root must equal the checkpoint's root; as every checkpoint is compared
//! with the same recomputed tree, each one is consistent with the one before it exactly
//! when both match. Checkpoints must grow in time as they grow in size and share one origin.
//!
//! It upholds that truncation is detected: a checkpoint larger than the log names the
//! events that are missing. The leaf of the event with `seq` n is leaf index n - 1.

use std::collections::BTreeMap;

use crate::chain::{ChainVerifier, StoredEvent, VerifyError};
use crate::checkpoint::{Checkpoint, CheckpointError, CheckpointVerifier};
use crate::event::MAX_SAFE_INTEGER;
use crate::merkle::{MerkleAccumulator, MerkleError};
use crate::raw::RawEvent;

/// Why the log did not verify; the first bad event or checkpoint is named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// An event does not match its stored hashes or is out of place.
    #[error(transparent)]
    Event(#[from] VerifyError),
    /// An event's leaf is not the leaf the checkpointed tree holds at its position.
    #[error("audit event {seq} was changed: its leaf is not the one the checkpointed tree holds")]
    LeafMismatch {
        /// The first event whose leaf differs.
        seq: u64,
    },
    /// An event was fed out of order.
    #[error("audit event {found} came where event {expected} was expected")]
    OutOfOrder {
        /// The `seq` expected next.
        expected: u64,
        /// The `seq` given.
        found: u64,
    },
    /// A checkpoint's signature or text is not valid.
    #[error("checkpoint {index} is not valid: {source}")]
    Signature {
        /// The position of the checkpoint among those given, from 1.
        index: usize,
        /// What is wrong.
        source: CheckpointError,
    },
    /// The recomputed root at a checkpoint's size is not the checkpoint's root.
    #[error("the checkpoint of tree size {tree_size} does not match the recomputed tree")]
    RootMismatch {
        /// The checkpoint's tree size.
        tree_size: u64,
    },
    /// A stored hash of a perfect subtree is not the hash of the recomputed leaves under it.
    #[error(
        "the stored tree node at level {level}, index {index} (events {first} to {last}) does \
         not match the recomputed tree"
    )]
    NodeMismatch {
        /// The node's level: it covers 2^level leaves.
        level: u32,
        /// The node's index among those of its level.
        index: u64,
        /// The first event under the node.
        first: u64,
        /// The last event under the node.
        last: u64,
    },
    /// A stored hash of a perfect subtree covers events the log does not hold.
    #[error(
        "the stored tree node at level {level}, index {index} covers events {first} to {last}, \
         which the log does not hold: it was truncated"
    )]
    NodeBeyondLog {
        /// The node's level: it covers 2^level leaves.
        level: u32,
        /// The node's index among those of its level.
        index: u64,
        /// The first event under the node.
        first: u64,
        /// The last event under the node.
        last: u64,
    },
    /// Two checkpoints disagree with each other (origin, time, or root for one size).
    #[error(
        "the checkpoint of tree size {tree_size} is inconsistent with the one before it: {reason}"
    )]
    Inconsistent {
        /// The later checkpoint's tree size.
        tree_size: u64,
        /// How they disagree.
        reason: &'static str,
    },
    /// The log ends before a checkpoint's size: events were removed from its end.
    #[error(
        "the log was truncated: events {from} to {to} are missing but the checkpoint of tree \
         size {to} covers them"
    )]
    Truncated {
        /// The first missing `seq`.
        from: u64,
        /// The last missing `seq`, the checkpoint's tree size.
        to: u64,
    },
    /// The tree cannot hold another leaf.
    #[error(transparent)]
    Tree(#[from] MerkleError),
}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSummary {
    /// How many events were verified.
    pub events: u64,
    /// The recomputed root over all of them.
    pub root_hash: [u8; 32],
    /// The chain hash of the last event, when stored events were verified.
    pub head_hash: Option<[u8; 32]>,
    /// How many checkpoints matched the recomputed tree.
    pub checkpoints: usize,
    /// The largest checkpoint that matched.
    pub latest: Option<Checkpoint>,
}

/// Verifies events fed in order and the checkpoints over them.
#[derive(Debug, Clone, Default)]
pub struct LogVerifier {
    chain: Option<ChainVerifier>,
    tree: MerkleAccumulator,
    pending: BTreeMap<u64, Checkpoint>,
    // Stored subtree hashes still to compare with the recomputed tree, by (level, index).
    nodes: BTreeMap<(u32, u64), [u8; 32]>,
    added: usize,
    matched: usize,
    latest: Option<Checkpoint>,
}

impl LogVerifier {
    /// A verifier that expects the log from `seq` 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a checkpoint whose signature the caller has checked (or does not need).
    ///
    /// Checkpoints must be added before the events they cover are pushed.
    pub fn add_checkpoint(&mut self, checkpoint: Checkpoint) -> Result<(), LogError> {
        self.added = self.added.saturating_add(1);
        let size = checkpoint.tree_size;
        if let Some(same) = self.pending.get(&size) {
            if same.root_hash != checkpoint.root_hash {
                return Err(LogError::Inconsistent {
                    tree_size: size,
                    reason: "two checkpoints of this size have different roots",
                });
            }
            return Ok(());
        }
        if size < self.tree.len() {
            return Err(LogError::Inconsistent {
                tree_size: size,
                reason: "it was given after the events it covers",
            });
        }
        self.pending.insert(size, checkpoint);
        self.check_reached()
    }

    /// Checks `text`'s signature with `verifier` and adds the checkpoint.
    pub fn add_signed(
        &mut self,
        verifier: &CheckpointVerifier,
        text: &str,
    ) -> Result<Checkpoint, LogError> {
        let index = self.added.saturating_add(1);
        let checkpoint = verifier
            .verify(text)
            .map_err(|source| LogError::Signature { index, source })?;
        self.add_checkpoint(checkpoint.clone())?;
        Ok(checkpoint)
    }

    /// Checks the next stored event: its leaf and chain hash, then adds its leaf to the tree.
    pub fn push_stored(&mut self, stored: &StoredEvent) -> Result<(), LogError> {
        let chain = self.chain.get_or_insert_with(ChainVerifier::new);
        chain.push(stored)?;
        self.push_leaf(stored.event.seq, stored.leaf_hash)
    }

    /// Checks the next event from its stored fields, without decoding them, if it is
    /// plainly the next one (see [`ChainVerifier::accept_hashed`]).
    ///
    /// Returns false, changing nothing, when it is not: the caller then decodes the event
    /// and calls [`push_stored`](Self::push_stored), which names what is wrong. `scratch`
    /// is the encoding buffer, reused from event to event.
    pub fn push_raw(
        &mut self,
        raw: &RawEvent<'_>,
        stored_leaf: &[u8; 32],
        stored_chain: &[u8; 32],
        scratch: &mut Vec<u8>,
    ) -> Result<bool, LogError> {
        if raw.seq > MAX_SAFE_INTEGER {
            return Ok(false);
        }
        let leaf = raw.leaf_hash(scratch);
        let chain = self.chain.get_or_insert_with(ChainVerifier::new);
        // The fields must read back one way for them to be the fields that were hashed.
        if leaf != *stored_leaf
            || !raw.is_well_formed()
            || !chain.accept_hashed(raw.seq, &leaf, stored_leaf, stored_chain)
        {
            return Ok(false);
        }
        self.push_leaf(raw.seq, leaf).map(|()| true)
    }

    /// Checks the next event from its canonical JSON as rebuilt from its stored columns
    /// elsewhere (by the database), if it is plainly the next one.
    ///
    /// As [`push_raw`](Self::push_raw), it returns false, changing nothing, when the event
    /// is not; `well_formed` must say that the columns read back as one event.
    pub fn push_rebuilt(
        &mut self,
        seq: u64,
        canonical: &[u8],
        well_formed: bool,
        stored: (&[u8; 32], &[u8; 32]),
    ) -> Result<bool, LogError> {
        let (stored_leaf, stored_chain) = stored;
        if seq > MAX_SAFE_INTEGER || !well_formed {
            return Ok(false);
        }
        let leaf = crate::merkle::leaf_hash(canonical);
        let chain = self.chain.get_or_insert_with(ChainVerifier::new);
        if leaf != *stored_leaf || !chain.accept_hashed(seq, &leaf, stored_leaf, stored_chain) {
            return Ok(false);
        }
        self.push_leaf(seq, leaf).map(|()| true)
    }

    /// Adds the leaf of the event `seq`, already computed by the caller.
    pub fn push_leaf(&mut self, seq: u64, leaf: [u8; 32]) -> Result<(), LogError> {
        let expected = self.tree.len().saturating_add(1);
        if seq != expected {
            return Err(LogError::OutOfOrder {
                expected,
                found: seq,
            });
        }
        let nodes = &mut self.nodes;
        let mut mismatch = None;
        self.tree.push_visiting(leaf, |level, index, hash| {
            if nodes.is_empty() || mismatch.is_some() {
                return;
            }
            if nodes
                .remove(&(level, index))
                .is_some_and(|stored| stored != *hash)
            {
                mismatch = Some((level, index));
            }
        })?;
        if let Some((level, index)) = mismatch {
            let (first, last) = node_events(level, index);
            return Err(LogError::NodeMismatch {
                level,
                index,
                first,
                last,
            });
        }
        self.check_reached()
    }

    /// Adds a stored hash of the perfect subtree of 2^`level` leaves at `index`, to be
    /// compared with the recomputed tree once its leaves are in.
    pub fn expect_node(&mut self, level: u32, index: u64, hash: [u8; 32]) {
        self.nodes.insert((level, index), hash);
    }

    /// Adds the event `seq` from its canonical JSON bytes, hashed as they are.
    ///
    /// The tree commits to these exact bytes, so any change to them, even one that keeps
    /// the meaning, changes the leaf and fails the covering checkpoint.
    pub fn push_canonical(&mut self, seq: u64, canonical: &[u8]) -> Result<[u8; 32], LogError> {
        let leaf = crate::merkle::leaf_hash(canonical);
        self.push_leaf(seq, leaf)?;
        Ok(leaf)
    }

    /// How many events were pushed.
    pub fn len(&self) -> u64 {
        self.tree.len()
    }

    /// Whether no event was pushed.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Ends verification: any checkpoint beyond the last event means truncation.
    pub fn finish(self) -> Result<LogSummary, LogError> {
        let events = self.tree.len();
        // A signed checkpoint past the end names the cut better than a stored node does.
        if let Some((&to, _)) = self.pending.first_key_value() {
            return Err(LogError::Truncated {
                from: events.saturating_add(1),
                to,
            });
        }
        if let Some((&(level, index), _)) = self.nodes.first_key_value() {
            let (first, last) = node_events(level, index);
            return Err(LogError::NodeBeyondLog {
                level,
                index,
                first,
                last,
            });
        }
        let head_hash = match self.chain {
            Some(chain) => Some(chain.finish()?.hash),
            None => None,
        };
        Ok(LogSummary {
            events,
            root_hash: self.tree.root(),
            head_hash,
            checkpoints: self.matched,
            latest: self.latest,
        })
    }

    /// Compares every checkpoint the tree has reached with the recomputed root.
    fn check_reached(&mut self) -> Result<(), LogError> {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() != self.tree.len() {
                break;
            }
            let checkpoint = entry.remove();
            if checkpoint.root_hash != self.tree.root() {
                return Err(LogError::RootMismatch {
                    tree_size: checkpoint.tree_size,
                });
            }
            self.follow(checkpoint)?;
        }
        Ok(())
    }

    /// Records a matching checkpoint after checking it against the one before it.
    fn follow(&mut self, checkpoint: Checkpoint) -> Result<(), LogError> {
        if let Some(before) = &self.latest {
            let reason = if before.origin != checkpoint.origin {
                Some("it names another log")
            } else if before.time > checkpoint.time {
                Some("it is dated before a smaller checkpoint")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(LogError::Inconsistent {
                    tree_size: checkpoint.tree_size,
                    reason,
                });
            }
        }
        self.matched = self.matched.saturating_add(1);
        self.latest = Some(checkpoint);
        Ok(())
    }
}

/// The first and last `seq` under the subtree of 2^`level` leaves at `index`.
fn node_events(level: u32, index: u64) -> (u64, u64) {
    let width = 1u64.checked_shl(level).unwrap_or(u64::MAX);
    let first = index.saturating_mul(width).saturating_add(1);
    (first, first.saturating_add(width - 1))
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
