//! Audit bundles: written from a log, verified offline, and every change to them found.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::fs;
use std::path::Path;

use chrono::{TimeZone, Utc};
use rampart_audit::bundle::BundleError;
use rampart_audit::{
    AuditEvent, Bundle, Checkpoint, CheckpointSigner, LogError, NewEvent, Outcome,
    SignedCheckpoint, merkle, verify_bundle, verify_bundle_with_key,
};
use sha2::{Digest, Sha256};

struct Log {
    events: Vec<AuditEvent>,
    leaves: Vec<[u8; 32]>,
    signer: CheckpointSigner,
}

fn log(n: u64) -> Log {
    let events: Vec<AuditEvent> = (1..=n)
        .map(|seq| {
            let time = Utc.timestamp_opt(1_767_000_000 + seq as i64, 0).unwrap();
            let new = NewEvent::new(
                "client-1",
                "order.accepted",
                format!("ord-{seq}"),
                Outcome::Success,
                "req",
            );
            AuditEvent::from_new(seq, time, new)
        })
        .collect();
    let leaves = events.iter().map(AuditEvent::leaf_hash).collect();
    Log {
        events,
        leaves,
        signer: CheckpointSigner::generate("rampart-audit").unwrap(),
    }
}

impl Log {
    fn checkpoint(&self, size: u64) -> SignedCheckpoint {
        let root = merkle::root(&self.leaves[..size as usize]);
        let time = Utc.timestamp_opt(1_768_000_000 + size as i64, 0).unwrap();
        self.signer
            .sign(&Checkpoint::new("rampart.test/audit", size, root, time))
            .unwrap()
    }

    /// Writes the bundle of events `from..=to` with checkpoints at `sizes`.
    fn bundle(&self, dir: &Path, from: u64, to: u64, sizes: &[u64]) {
        let checkpoints: Vec<_> = sizes.iter().map(|s| self.checkpoint(*s)).collect();
        let largest = *sizes.last().unwrap() as usize;
        let bundle = Bundle {
            checkpoints: &checkpoints,
            leaves: &self.leaves[..largest],
            verifier: &self.signer.verifier(),
        };
        let events = self.events[(from - 1) as usize..to as usize]
            .iter()
            .cloned();
        assert_eq!(bundle.write(dir, events).unwrap(), (from, to));
    }
}

/// Rewrites `file`'s manifest line as if the change were made by someone who also
/// updated the manifest.
fn rehash(dir: &Path, file: &str) {
    let hash = hex::encode(Sha256::digest(fs::read(dir.join(file)).unwrap()));
    let manifest = fs::read_to_string(dir.join("MANIFEST")).unwrap();
    let updated: String = manifest
        .lines()
        .map(|line| match line.split_once("  ") {
            Some((_, f)) if f == file => format!("{hash}  {f}\n"),
            _ => format!("{line}\n"),
        })
        .collect();
    fs::write(dir.join("MANIFEST"), updated).unwrap();
}

#[test]
fn bundle_of_a_middle_range_verifies_offline() {
    let log = log(40);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    log.bundle(&out, 11, 20, &[10, 25]);
    let mut reported = Vec::new();
    let report = verify_bundle(&out, |done, total| reported.push((done, total))).unwrap();
    assert_eq!((report.from, report.to, report.tree_size), (11, 20, 25));
    assert_eq!(report.checkpoints, 2);
    assert_eq!(report.verifier_key, log.signer.verifier_key());
    assert_eq!(reported.last(), Some(&(10, 10)));
    verify_bundle_with_key(&out, &log.signer.verifier(), |_, _| {}).unwrap();
}

#[test]
fn a_changed_byte_in_any_file_is_named() {
    let log = log(12);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    log.bundle(&out, 3, 9, &[2, 12]);
    let files = [
        "events.jsonl",
        "leaves.bin",
        "proofs.json",
        "public-key",
        "checkpoints/00000000000000000002.checkpoint",
        "checkpoints/00000000000000000012.checkpoint",
    ];
    for file in files {
        let path = out.join(file);
        let original = fs::read(&path).unwrap();
        let mut changed = original.clone();
        changed[original.len() / 2] ^= 0x01;
        fs::write(&path, &changed).unwrap();
        match verify_bundle(&out, |_, _| {}) {
            Err(BundleError::Modified { file: named }) => assert_eq!(named, file),
            other => panic!("{file}: {other:?}"),
        }
        fs::write(&path, &original).unwrap();
    }
    verify_bundle(&out, |_, _| {}).unwrap();
}

#[test]
fn a_changed_event_with_a_rewritten_manifest_is_named() {
    let log = log(12);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    log.bundle(&out, 3, 9, &[12]);
    let events = fs::read_to_string(out.join("events.jsonl")).unwrap();
    fs::write(
        out.join("events.jsonl"),
        events.replace("ord-5\"", "ord-6\""),
    )
    .unwrap();
    rehash(&out, "events.jsonl");
    let error = verify_bundle(&out, |_, _| {}).unwrap_err();
    assert!(
        matches!(error, BundleError::Log(LogError::LeafMismatch { seq: 5 })),
        "{error}"
    );
}

#[test]
fn changed_leaves_with_a_rewritten_manifest_fail_the_checkpoint() {
    let log = log(12);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    log.bundle(&out, 3, 9, &[12]);
    let mut leaves = fs::read(out.join("leaves.bin")).unwrap();
    leaves[32 * 10] ^= 1;
    fs::write(out.join("leaves.bin"), leaves).unwrap();
    rehash(&out, "leaves.bin");
    let error = verify_bundle(&out, |_, _| {}).unwrap_err();
    assert!(matches!(
        error,
        BundleError::Log(LogError::RootMismatch { tree_size: 12 })
    ));
}

#[test]
fn a_removed_event_with_a_rewritten_manifest_is_named() {
    let log = log(8);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    log.bundle(&out, 1, 8, &[8]);
    let events = fs::read_to_string(out.join("events.jsonl")).unwrap();
    let kept: String = events
        .lines()
        .filter(|l| !l.contains("ord-4\""))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(out.join("events.jsonl"), kept).unwrap();
    rehash(&out, "events.jsonl");
    let error = verify_bundle(&out, |_, _| {}).unwrap_err();
    assert!(
        matches!(
            error,
            BundleError::Log(LogError::OutOfOrder {
                expected: 4,
                found: 5
            })
        ),
        "{error}"
    );
}

#[test]
fn checkpoints_by_another_key_are_refused_when_a_key_is_trusted() {
    let log = log(5);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    log.bundle(&out, 1, 5, &[5]);
    let other = CheckpointSigner::generate("rampart-audit").unwrap();
    let error = verify_bundle_with_key(&out, &other.verifier(), |_, _| {}).unwrap_err();
    assert!(matches!(error, BundleError::Checkpoint { .. }), "{error}");
}

#[test]
fn unlisted_and_missing_files_are_named() {
    let log = log(5);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    log.bundle(&out, 1, 5, &[5]);
    fs::write(out.join("extra.txt"), "x").unwrap();
    let error = verify_bundle(&out, |_, _| {}).unwrap_err();
    assert!(matches!(&error, BundleError::Listing { file, .. } if file == "extra.txt"));
    fs::remove_file(out.join("extra.txt")).unwrap();
    fs::remove_file(out.join("proofs.json")).unwrap();
    let error = verify_bundle(&out, |_, _| {}).unwrap_err();
    assert!(matches!(&error, BundleError::Listing { file, .. } if file == "proofs.json"));
}

#[test]
fn writer_refuses_events_the_checkpoint_does_not_cover() {
    let log = log(6);
    let dir = tempfile::tempdir().unwrap();
    let checkpoints = [log.checkpoint(4)];
    let bundle = Bundle {
        checkpoints: &checkpoints,
        leaves: &log.leaves[..4],
        verifier: &log.signer.verifier(),
    };
    let error = bundle.write(&dir.path().join("b"), log.events.iter().cloned());
    assert!(matches!(error, Err(BundleError::Input(_))));
}
