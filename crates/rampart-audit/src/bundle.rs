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

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checkpoint::{Checkpoint, CheckpointError, CheckpointVerifier, SignedCheckpoint};
use crate::event::AuditEvent;
use crate::merkle::{self, MerkleError};
use crate::verify::{LogError, LogVerifier};

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

/// What a bundle is made from, besides its events.
#[derive(Debug, Clone, Copy)]
pub struct Bundle<'a> {
    /// The checkpoints to include, smallest first; the largest must cover the events.
    pub checkpoints: &'a [SignedCheckpoint],
    /// The leaf hashes of the tree prefix up to the largest checkpoint's size.
    pub leaves: &'a [[u8; 32]],
    /// The key that verifies the checkpoints.
    pub verifier: &'a CheckpointVerifier,
}

impl Bundle<'_> {
    /// Writes the bundle of `events` (a contiguous range, in order) into the new `dir`.
    pub fn write(
        &self,
        dir: &Path,
        events: impl IntoIterator<Item = AuditEvent>,
    ) -> Result<(u64, u64), BundleError> {
        let latest = self.check_input()?;
        prepare_dir(dir)?;
        let mut manifest = BTreeMap::new();
        let (from, to) = self.write_events(dir, events, &mut manifest)?;
        if to > latest {
            return Err(BundleError::Input(
                "the largest checkpoint does not cover the events",
            ));
        }
        let leaves: Vec<u8> = self.leaves.iter().flatten().copied().collect();
        put(dir, LEAVES, &leaves, &mut manifest)?;
        let proofs = self.proofs(from, to, latest)?;
        put(dir, PROOFS, &proofs, &mut manifest)?;
        let key = format!("{}\n", self.verifier.verifier_key());
        put(dir, PUBLIC_KEY, key.as_bytes(), &mut manifest)?;
        create_dir(&dir.join(CHECKPOINTS))?;
        for signed in self.checkpoints {
            let name = checkpoint_file(signed.checkpoint.tree_size);
            put(dir, &name, signed.text.as_bytes(), &mut manifest)?;
        }
        let listing: String = manifest
            .iter()
            .map(|(file, hash)| format!("{hash}  {file}\n"))
            .collect();
        write_file(&dir.join(MANIFEST), listing.as_bytes())?;
        Ok((from, to))
    }

    fn check_input(&self) -> Result<u64, BundleError> {
        let Some(last) = self.checkpoints.last() else {
            return Err(BundleError::Input("a bundle needs at least one checkpoint"));
        };
        let sizes = self.checkpoints.windows(2);
        if sizes.into_iter().any(|w| match w {
            [a, b] => a.checkpoint.tree_size >= b.checkpoint.tree_size,
            _ => false,
        }) {
            return Err(BundleError::Input("checkpoints must grow in size"));
        }
        let size = last.checkpoint.tree_size;
        if self.leaves.len() as u64 != size {
            return Err(BundleError::Input(
                "the leaves must be the largest checkpoint's tree",
            ));
        }
        Ok(size)
    }

    fn write_events(
        &self,
        dir: &Path,
        events: impl IntoIterator<Item = AuditEvent>,
        manifest: &mut BTreeMap<String, String>,
    ) -> Result<(u64, u64), BundleError> {
        let path = dir.join(EVENTS);
        let file = File::create(&path).map_err(io(&path))?;
        let mut out = HashingWriter::new(BufWriter::new(file));
        let mut range: Option<(u64, u64)> = None;
        for event in events {
            let expected = range.map(|(_, to)| to.saturating_add(1));
            if expected.is_some_and(|next| next != event.seq) {
                return Err(BundleError::Input("the events must be a contiguous range"));
            }
            let line = event.canonical_json();
            let index = usize::try_from(event.seq.saturating_sub(1)).unwrap_or(usize::MAX);
            if self.leaves.get(index) != Some(&merkle::leaf_hash(&line)) {
                return Err(BundleError::Input("an event does not match its leaf"));
            }
            out.write_all(&line).map_err(io(&path))?;
            out.write_all(b"\n").map_err(io(&path))?;
            range = Some((range.map_or(event.seq, |(from, _)| from), event.seq));
        }
        let (from, to) = range.ok_or(BundleError::Input("a bundle needs at least one event"))?;
        manifest.insert(EVENTS.to_owned(), out.finish(&path)?);
        Ok((from, to))
    }

    fn proofs(&self, from: u64, to: u64, tree_size: u64) -> Result<Vec<u8>, BundleError> {
        let mut consistency = Vec::new();
        for pair in self.checkpoints.windows(2) {
            let [older, newer] = pair else { continue };
            let (old, new) = (older.checkpoint.tree_size, newer.checkpoint.tree_size);
            if old == 0 {
                continue;
            }
            let prefix = self
                .leaves
                .get(..usize::try_from(new).unwrap_or(usize::MAX));
            let prefix = prefix.ok_or(BundleError::Input("the leaves are too few"))?;
            let proof =
                merkle::consistency_proof(prefix, old).map_err(|source| BundleError::Proof {
                    from: old,
                    to: new,
                    source,
                })?;
            consistency.push(Consistency {
                from: old,
                to: new,
                proof: proof.iter().map(|h| STANDARD.encode(h)).collect(),
            });
        }
        let proofs = Proofs {
            format: FORMAT.to_owned(),
            from,
            to,
            tree_size,
            consistency,
        };
        let mut text = serde_json::to_vec_pretty(&proofs)
            .map_err(|_| BundleError::Input("the proofs cannot be encoded"))?;
        text.push(b'\n');
        Ok(text)
    }
}

/// Verifies the bundle in `dir` offline with the key it carries; `progress(done, total)`.
pub fn verify_bundle(
    dir: &Path,
    progress: impl FnMut(u64, u64),
) -> Result<BundleReport, BundleError> {
    check_manifest(dir)?;
    let key = read_text(dir, PUBLIC_KEY)?;
    let verifier =
        CheckpointVerifier::from_verifier_key(key.trim_end_matches('\n')).map_err(|source| {
            BundleError::Checkpoint {
                file: PUBLIC_KEY.to_owned(),
                source,
            }
        })?;
    verify_contents(dir, &verifier, progress)
}

/// Verifies the bundle in `dir` offline; its checkpoints must be signed by `trusted`.
pub fn verify_bundle_with_key(
    dir: &Path,
    trusted: &CheckpointVerifier,
    progress: impl FnMut(u64, u64),
) -> Result<BundleReport, BundleError> {
    check_manifest(dir)?;
    verify_contents(dir, trusted, progress)
}

fn verify_contents(
    dir: &Path,
    verifier: &CheckpointVerifier,
    mut progress: impl FnMut(u64, u64),
) -> Result<BundleReport, BundleError> {
    let checkpoints = read_checkpoints(dir, verifier)?;
    let proofs: Proofs = serde_json::from_str(&read_text(dir, PROOFS)?)
        .map_err(|e| malformed(PROOFS, 0, e.to_string()))?;
    check_proofs(&proofs, &checkpoints)?;
    let leaves = read_leaves(dir, proofs.tree_size)?;

    let mut log = LogVerifier::new();
    for checkpoint in &checkpoints {
        log.add_checkpoint(checkpoint.clone())?;
    }
    let mut lines = open_events(dir)?;
    let total = proofs.to.saturating_sub(proofs.from).saturating_add(1);
    for (seq, leaf) in (1u64..).zip(&leaves) {
        if (proofs.from..=proofs.to).contains(&seq) {
            let line = next_event(&mut lines, seq, proofs.from)?;
            if merkle::leaf_hash(&line) != *leaf {
                return Err(LogError::LeafMismatch { seq }.into());
            }
            let done = seq.saturating_sub(proofs.from).saturating_add(1);
            if done % PROGRESS_EVERY == 0 || done == total {
                progress(done, total);
            }
        }
        log.push_leaf(seq, *leaf)?;
    }
    if next_line(&mut lines)?.is_some() {
        return Err(malformed(EVENTS, 0, "it holds events beyond `to`".into()));
    }
    let summary = log.finish()?;
    let latest = summary
        .latest
        .ok_or(BundleError::Input("the bundle has no checkpoint"))?;
    Ok(BundleReport {
        from: proofs.from,
        to: proofs.to,
        tree_size: summary.events,
        checkpoints: summary.checkpoints,
        latest,
        verifier_key: verifier.verifier_key(),
    })
}

/// Checks the manifest's listing against the files present, and every file's hash.
fn check_manifest(dir: &Path) -> Result<(), BundleError> {
    let listing = read_text(dir, MANIFEST)?;
    let mut listed = BTreeMap::new();
    for (n, line) in (1u64..).zip(listing.lines()) {
        let Some((hash, file)) = line.split_once("  ") else {
            return Err(malformed(
                MANIFEST,
                n,
                "a line is `<sha256 hex>  <path>`".into(),
            ));
        };
        if hash.len() != 64 || listed.insert(file.to_owned(), hash.to_owned()).is_some() {
            return Err(malformed(
                MANIFEST,
                n,
                "a bad hash or a repeated file".into(),
            ));
        }
    }
    let present = files_in(dir)?;
    for file in &present {
        if file != MANIFEST && !listed.contains_key(file) {
            return Err(listing_error(file, "is not listed in MANIFEST"));
        }
    }
    for (file, hash) in &listed {
        if !present.contains(file) {
            return Err(listing_error(file, "is listed in MANIFEST but missing"));
        }
        if hex::encode(sha256_file(&dir.join(file))?) != *hash {
            return Err(BundleError::Modified { file: file.clone() });
        }
    }
    Ok(())
}

fn read_checkpoints(
    dir: &Path,
    verifier: &CheckpointVerifier,
) -> Result<Vec<Checkpoint>, BundleError> {
    let mut found = Vec::new();
    for file in files_in(dir)? {
        let Some(name) = file.strip_prefix("checkpoints/") else {
            continue;
        };
        let text = read_text(dir, &file)?;
        let checkpoint = verifier
            .verify(&text)
            .map_err(|source| BundleError::Checkpoint {
                file: file.clone(),
                source,
            })?;
        if checkpoint_file(checkpoint.tree_size) != file {
            return Err(malformed(
                &file,
                0,
                format!("`{name}` names another tree size"),
            ));
        }
        found.push(checkpoint);
    }
    found.sort_by_key(|c| c.tree_size);
    Ok(found)
}

fn check_proofs(proofs: &Proofs, checkpoints: &[Checkpoint]) -> Result<(), BundleError> {
    if proofs.format != FORMAT || proofs.from == 0 || proofs.from > proofs.to {
        return Err(malformed(
            PROOFS,
            0,
            "an unknown format or an empty range".into(),
        ));
    }
    let by_size: BTreeMap<u64, &Checkpoint> =
        checkpoints.iter().map(|c| (c.tree_size, c)).collect();
    if by_size.last_key_value().map(|(size, _)| *size) != Some(proofs.tree_size)
        || proofs.tree_size < proofs.to
    {
        return Err(malformed(
            PROOFS,
            0,
            "`tree_size` is not the largest checkpoint".into(),
        ));
    }
    for step in &proofs.consistency {
        let (Some(old), Some(new)) = (by_size.get(&step.from), by_size.get(&step.to)) else {
            return Err(malformed(
                PROOFS,
                0,
                "a proof names a missing checkpoint".into(),
            ));
        };
        let path = decode_hashes(&step.proof)?;
        merkle::verify_consistency(step.from, step.to, &old.root_hash, &new.root_hash, &path)
            .map_err(|source| BundleError::Proof {
                from: step.from,
                to: step.to,
                source,
            })?;
    }
    Ok(())
}

fn decode_hashes(encoded: &[String]) -> Result<Vec<[u8; 32]>, BundleError> {
    encoded
        .iter()
        .map(|text| {
            STANDARD
                .decode(text)
                .ok()
                .and_then(|raw| <[u8; 32]>::try_from(raw).ok())
                .ok_or_else(|| malformed(PROOFS, 0, "a proof hash is not 32 bytes".into()))
        })
        .collect()
}

fn read_leaves(dir: &Path, tree_size: u64) -> Result<Vec<[u8; 32]>, BundleError> {
    let path = dir.join(LEAVES);
    let raw = fs::read(&path).map_err(io(&path))?;
    if raw.len() as u64 != tree_size.saturating_mul(32) {
        return Err(malformed(
            LEAVES,
            0,
            "it must hold 32 bytes per leaf of the tree".into(),
        ));
    }
    Ok(raw
        .chunks_exact(32)
        .filter_map(|chunk| <[u8; 32]>::try_from(chunk).ok())
        .collect())
}

type Lines = BufReader<File>;

fn open_events(dir: &Path) -> Result<Lines, BundleError> {
    let path = dir.join(EVENTS);
    Ok(BufReader::new(File::open(&path).map_err(io(&path))?))
}

fn next_line(lines: &mut Lines) -> Result<Option<Vec<u8>>, BundleError> {
    let mut line = Vec::new();
    let read = lines
        .read_until(b'\n', &mut line)
        .map_err(io(Path::new(EVENTS)))?;
    if read == 0 {
        return Ok(None);
    }
    if line.pop() != Some(b'\n') {
        return Err(malformed(
            EVENTS,
            0,
            "the last line does not end in a newline".into(),
        ));
    }
    Ok(Some(line))
}

/// Reads the line of event `seq` and checks that it is that event.
fn next_event(lines: &mut Lines, seq: u64, from: u64) -> Result<Vec<u8>, BundleError> {
    let number = seq.saturating_sub(from).saturating_add(1);
    let line = next_line(lines)?
        .ok_or_else(|| malformed(EVENTS, number, format!("event {seq} is missing")))?;
    let event: AuditEvent = serde_json::from_slice(&line)
        .map_err(|e| malformed(EVENTS, number, format!("not an audit event: {e}")))?;
    if event.seq != seq {
        return Err(LogError::OutOfOrder {
            expected: seq,
            found: event.seq,
        }
        .into());
    }
    Ok(line)
}

/// Every file under `dir`, as `/`-separated relative paths.
fn files_in(dir: &Path) -> Result<Vec<String>, BundleError> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() && name == CHECKPOINTS {
            for inner in fs::read_dir(&path).map_err(io(&path))? {
                let inner = inner.map_err(io(&path))?;
                files.push(format!(
                    "{CHECKPOINTS}/{}",
                    inner.file_name().to_string_lossy()
                ));
            }
        } else {
            files.push(name);
        }
    }
    files.sort();
    Ok(files)
}

fn checkpoint_file(tree_size: u64) -> String {
    format!("{CHECKPOINTS}/{tree_size:020}.checkpoint")
}

fn prepare_dir(dir: &Path) -> Result<(), BundleError> {
    if dir.exists() {
        let mut entries = fs::read_dir(dir).map_err(io(dir))?;
        if entries.next().is_some() {
            return Err(BundleError::NotEmpty(dir.to_owned()));
        }
        return Ok(());
    }
    create_dir(dir)
}

fn create_dir(dir: &Path) -> Result<(), BundleError> {
    fs::create_dir_all(dir).map_err(io(dir))
}

fn put(
    dir: &Path,
    file: &str,
    bytes: &[u8],
    manifest: &mut BTreeMap<String, String>,
) -> Result<(), BundleError> {
    write_file(&dir.join(file), bytes)?;
    manifest.insert(file.to_owned(), hex::encode(Sha256::digest(bytes)));
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BundleError> {
    let mut file = File::create(path).map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

fn read_text(dir: &Path, file: &str) -> Result<String, BundleError> {
    let path = dir.join(file);
    let raw = fs::read(&path).map_err(io(&path))?;
    String::from_utf8(raw).map_err(|_| malformed(file, 0, "it is not UTF-8".into()))
}

fn sha256_file(path: &Path) -> Result<[u8; 32], BundleError> {
    let mut file = BufReader::new(File::open(path).map_err(io(path))?);
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(io(path))?;
    Ok(hasher.finalize().into())
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + use<> {
    let path = path.to_owned();
    move |source| BundleError::Io { path, source }
}

fn malformed(file: &str, line: u64, reason: String) -> BundleError {
    BundleError::Malformed {
        file: file.to_owned(),
        line,
        reason,
    }
}

fn listing_error(file: &str, reason: &'static str) -> BundleError {
    BundleError::Listing {
        file: file.to_owned(),
        reason,
    }
}

/// A file writer that hashes what it writes, for the manifest.
struct HashingWriter {
    inner: BufWriter<File>,
    hasher: Sha256,
}

impl HashingWriter {
    fn new(inner: BufWriter<File>) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// Flushes and syncs the file, returning the hex SHA-256 of what was written.
    fn finish(mut self, path: &Path) -> Result<String, BundleError> {
        self.inner.flush().map_err(io(path))?;
        self.inner.get_ref().sync_all().map_err(io(path))?;
        Ok(hex::encode(self.hasher.finalize()))
    }
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(buf.get(..written).unwrap_or(buf));
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
