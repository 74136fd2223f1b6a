//! Tamper-evident audit events for the Rampart gateway.
//!
//! Every state change and every security decision becomes an [`AuditEvent`].
//! Each event is encoded once, canonically (RFC 8785), and hashed into a leaf
//! (`SHA-256(0x00 || canonical JSON)`), so that every field is covered. Leaves
//! are linked into a hash chain whose [`ChainVerifier`] names the first event
//! that was changed, deleted, inserted, duplicated or moved. The leaf hash is
//! the RFC 9162 leaf hash, so a Merkle tree ([`merkle`]) is built over the same
//! leaves: the event with `seq` n is leaf index n - 1.
//!
//! Signed [`checkpoint`]s commit to the tree's size and root; a [`LogVerifier`]
//! recomputes leaves, chain and tree and checks every checkpoint against them;
//! a [`bundle`] carries a range of events with what proves it, for an auditor
//! who verifies it offline and does not trust the gateway.

pub mod action;
pub mod bundle;
pub mod canonical;
pub mod chain;
pub mod checkpoint;
pub mod event;
pub mod merkle;
pub mod raw;
pub mod subtree;
pub mod time;
pub mod verify;

pub use bundle::{Bundle, BundleError, BundleReport, verify_bundle, verify_bundle_with_key};
pub use chain::{ChainHead, ChainVerifier, Fault, GENESIS, StoredEvent, VerifyError, chain_hash};
pub use checkpoint::{
    Checkpoint, CheckpointError, CheckpointSigner, CheckpointVerifier, SignedCheckpoint,
};
pub use event::{AuditEvent, MAX_SAFE_INTEGER, NewEvent, Outcome, ParseOutcomeError};
pub use merkle::{MerkleAccumulator, MerkleError};
pub use raw::{RawEvent, RawHashes};
pub use verify::{LogError, LogSummary, LogVerifier};
