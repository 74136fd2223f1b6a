//! Self-contained audit bundles: a range of events an outsider verifies offline.
//!
//! A bundle is a directory:
//!
//! - `events.jsonl`: the events `from..=to`, one canonical (RFC 8785) event per line, the
//!   very bytes that were hashed into their leaves;
//! - `leaves.bin`: the 32-byte leaf hashes of the whole tree prefix `1..=N`, where N is the
//!   largest checkpoint's size (32 bytes per event), so that the root at every checkpoint
//!   can be recomputed and a range in the middle of the log is proven part of it;
//! - `checkpoints/<size, 20 digits>.checkpoint`: signed checkpoints, the largest covering
//!   `to`, and the one at or before `from - 1` if there is one;
//! - `proofs.json`: the consistency proofs between consecutive checkpoints;
//! - `public-key`: the checkpoint verifier key;
//! - `MANIFEST`: the SHA-256 of every other file, one `<hex>  <path>` line each.
//!
//! Verification needs no database: every file must match the manifest (a changed byte is
//! named by file); every checkpoint must be signed by the bundle's key (compare the key
//! with one obtained elsewhere, or use [`verify_bundle_with_key`]); each event line must
//! hash to its leaf in `leaves.bin`; and the root recomputed from the leaves must equal
//! each checkpoint's root, which also checks the consistency proofs.

mod check;
mod files;
mod write;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::merkle::MerkleError;
use crate::verify::LogError;

pub use check::{verify_bundle, verify_bundle_with_key};
pub use write::Bundle;

/// The format named in `proofs.json`.
pub const FORMAT: &str = "rampart-audit-bundle/1";

const EVENTS: &str = "events.jsonl";
const LEAVES: &str = "leaves.bin";
const PROOFS: &str = "proofs.json";
const PUBLIC_KEY: &str = "public-key";
const MANIFEST: &str = "MANIFEST";
const CHECKPOINTS: &str = "checkpoints";

/// How many events pass between progress reports.
const PROGRESS_EVERY: u64 = 10_000;

/// Why a bundle could not be written or did not verify; the file at fault is named.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file could not be read or written.
    #[error("cannot access `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The target directory exists and is not empty.
    #[error("`{0}` already exists and is not empty")]
    NotEmpty(PathBuf),
    /// A file's bytes are not those the manifest lists.
    #[error("`{file}` was modified: its SHA-256 is not the one in MANIFEST")]
    Modified {
        /// The file, relative to the bundle.
        file: String,
    },
    /// A file the manifest lists is missing, or one it does not list is present.
    #[error("`{file}` {reason}")]
    Listing {
        /// The file, relative to the bundle.
        file: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A file is not in the bundle format.
    #[error("`{file}` line {line} is malformed: {reason}")]
    Malformed {
        /// The file, relative to the bundle.
        file: String,
        /// The 1-based line (0 for the whole file).
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint is not validly signed or is malformed.
    #[error("`{file}`: {source}")]
    Checkpoint {
        /// The checkpoint file.
        file: String,
        /// What is wrong.
        source: CheckpointError,
    },
    /// A consistency proof does not verify.
    #[error("the consistency proof from {from} to {to} does not verify: {source}")]
    Proof {
        /// The older size.
        from: u64,
        /// The newer size.
        to: u64,
        /// What is wrong.
        source: MerkleError,
    },
    /// The events or leaves do not match the checkpoints.
    #[error(transparent)]
    Log(#[from] LogError),
    /// What the writer was given does not make a bundle.
    #[error("cannot make a bundle: {0}")]
    Input(&'static str),
}

/// What a verified bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReport {
    /// The first event's `seq`.
    pub from: u64,
    /// The last event's `seq`.
    pub to: u64,
    /// The size of the largest checkpoint, which covers the range.
    pub tree_size: u64,
    /// How many checkpoints verified.
    pub checkpoints: usize,
    /// The largest checkpoint.
    pub latest: Checkpoint,
    /// The key that signed the checkpoints; compare it with a key obtained elsewhere.
    pub verifier_key: String,
}

/// The proofs file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Proofs {
    format: String,
    from: u64,
    to: u64,
    tree_size: u64,
    consistency: Vec<Consistency>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Consistency {
    from: u64,
    to: u64,
    proof: Vec<String>,
}
