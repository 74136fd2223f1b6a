//! Tamper-evident audit events for the Rampart gateway.
//!
//! Every state change and every security decision becomes an [`AuditEvent`].
//! Each event is encoded once, canonically (RFC 8785), and hashed into a leaf
//! (`SHA-256(0x00 || canonical JSON)`), so that every field is covered. Leaves
//! are linked into a hash chain whose [`ChainVerifier`] names the first event
//! that was changed, deleted, inserted, duplicated or moved. The leaf hash is
//! the RFC 9162 leaf hash, so a Merkle tree can be built over the same leaves.

pub mod action;
pub mod chain;
pub mod event;
pub mod merkle;
pub mod time;

pub use chain::{ChainHead, ChainVerifier, Fault, GENESIS, StoredEvent, VerifyError, chain_hash};
pub use event::{AuditEvent, MAX_SAFE_INTEGER, NewEvent, Outcome, ParseOutcomeError};
pub use merkle::{MerkleAccumulator, MerkleError};
