//! Verifying a bundle offline: manifest, checkpoint signatures, proofs, leaves and events.
//!
//! Rule upheld: nothing is trusted before it is checked; every file must match `MANIFEST`,
//! every checkpoint must be signed by the key, and every event must hash to its leaf, so a
//! changed byte is named by file, line or `seq`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::files::{
    checkpoint_file, files_in, io, listing_error, malformed, read_text, sha256_file,
};
use super::{
    BundleError, BundleReport, EVENTS, FORMAT, LEAVES, MANIFEST, PROGRESS_EVERY, PROOFS,
    PUBLIC_KEY, Proofs,
};
use crate::checkpoint::{Checkpoint, CheckpointVerifier};
use crate::event::AuditEvent;
use crate::merkle;
use crate::verify::{LogError, LogVerifier};

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
    progress: impl FnMut(u64, u64),
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
    check_events(dir, &proofs, &leaves, &mut log, progress)?;
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

/// Feeds every leaf to `log`, checking that each event of the range hashes to its leaf
/// and that `events.jsonl` holds nothing beyond `to`.
fn check_events(
    dir: &Path,
    proofs: &Proofs,
    leaves: &[[u8; 32]],
    log: &mut LogVerifier,
    mut progress: impl FnMut(u64, u64),
) -> Result<(), BundleError> {
    let mut lines = open_events(dir)?;
    let total = proofs.to.saturating_sub(proofs.from).saturating_add(1);
    for (seq, leaf) in (1u64..).zip(leaves) {
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
    Ok(())
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
