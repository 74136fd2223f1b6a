//! Writing a bundle: the events, leaves, proofs, checkpoints and key, then the manifest.
//!
//! Rule upheld: a bundle is written only from input that proves itself (a contiguous range
//! of events, each matching its leaf, covered by the largest checkpoint), and every file is
//! synced to disk before its hash is listed in `MANIFEST`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::files::{checkpoint_file, io};
use super::{
    BundleError, CHECKPOINTS, Consistency, EVENTS, FORMAT, LEAVES, MANIFEST, PROOFS, PUBLIC_KEY,
    Proofs,
};
use crate::checkpoint::{CheckpointVerifier, SignedCheckpoint};
use crate::event::AuditEvent;
use crate::merkle;

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
