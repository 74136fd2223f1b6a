//! `rampart audit export` and `verify-bundle`: a bundle of a middle range verifies
//! offline, with the data directory gone, and any change to it is detected and named.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod support;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use support::{Run, Workdir};

/// A checkpointed data directory and a bundle of its events 2 to 4, moved out of it.
fn exported() -> (Workdir, PathBuf) {
    let work = Workdir::new();
    work.init();
    work.run(&["account", "add", "ACC-1"]).ok();
    work.run(&["account", "add", "ACC-2"]).ok();
    work.run(&["client", "add", "--name", "r", "--roles", "risk_manager"])
        .ok();
    work.run(&["audit", "checkpoint"]).ok();
    let out = work.path().join("bundle");
    let run = work
        .run(&[
            "audit", "export", "--from", "2", "--to", "4", "--out", "bundle",
        ])
        .ok();
    assert!(run.stdout.contains("events 2 to 4"), "{}", run.all());
    (work, out)
}

fn verify_bundle(work: &Workdir, dir: &Path) -> Run {
    work.run(&["audit", "verify-bundle", dir.to_str().unwrap()])
}

fn assert_refused(run: &Run, expected: &str) {
    assert!(!run.success, "{}", run.all());
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout.contains(expected),
        "expected `{expected}`:\n{}",
        run.all()
    );
}

/// Rewrites MANIFEST so that `file` matches it again, as a careful forger would.
fn reseal(dir: &Path, file: &str) {
    let hash = Sha256::digest(std::fs::read(dir.join(file)).unwrap());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST")).unwrap();
    let resealed: String = manifest
        .lines()
        .map(|line| match line.split_once("  ") {
            Some((_, name)) if name == file => format!("{hex}  {name}\n"),
            _ => format!("{line}\n"),
        })
        .collect();
    std::fs::write(dir.join("MANIFEST"), resealed).unwrap();
}

#[test]
fn bundle_of_a_middle_range_verifies_without_the_database() {
    let (work, bundle) = exported();
    std::fs::remove_dir_all(work.data_dir()).unwrap();
    let run = verify_bundle(&work, &bundle).ok();
    assert!(
        run.stdout.contains("audit bundle verified: events 2 to 4"),
        "{}",
        run.all()
    );
    let lines = std::fs::read_to_string(bundle.join("events.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 3);
}

#[test]
fn bundle_verifies_against_the_trusted_key_and_refuses_another() {
    let (work, bundle) = exported();
    let trusted = work.data_dir().join("keys/audit-checkpoint.vkey");
    let trusted = trusted.to_str().unwrap();
    work.run(&[
        "audit",
        "verify-bundle",
        bundle.to_str().unwrap(),
        "--key",
        trusted,
    ])
    .ok();
    let other = Workdir::new();
    other.init();
    let foreign = other.data_dir().join("keys/audit-checkpoint.vkey");
    let run = work.run(&[
        "audit",
        "verify-bundle",
        bundle.to_str().unwrap(),
        "--key",
        foreign.to_str().unwrap(),
    ]);
    assert_refused(&run, "audit bundle verification FAILED");
}

#[test]
fn changed_byte_in_an_event_is_named_by_file() {
    let (work, bundle) = exported();
    let path = bundle.join("events.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("ACC-1", "ACC-9", 1)).unwrap();
    assert_refused(
        &verify_bundle(&work, &bundle),
        "`events.jsonl` was modified",
    );
}

#[test]
fn changed_event_with_a_resealed_manifest_is_named_by_seq() {
    let (work, bundle) = exported();
    let path = bundle.join("events.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("ACC-1", "ACC-9", 1)).unwrap();
    reseal(&bundle, "events.jsonl");
    let run = verify_bundle(&work, &bundle);
    assert_refused(&run, "audit bundle verification FAILED");
    assert!(
        run.stdout.contains("event 2") || run.stdout.contains("line 1"),
        "{}",
        run.all()
    );
}

#[test]
fn forged_leaf_with_a_resealed_manifest_fails_the_signed_root() {
    let (work, bundle) = exported();
    let path = bundle.join("leaves.bin");
    let mut leaves = std::fs::read(&path).unwrap();
    leaves[0] ^= 1;
    std::fs::write(&path, leaves).unwrap();
    reseal(&bundle, "leaves.bin");
    assert_refused(
        &verify_bundle(&work, &bundle),
        "audit bundle verification FAILED",
    );
}

#[test]
fn export_beyond_the_latest_checkpoint_is_refused() {
    let (work, _) = exported();
    work.run(&["account", "add", "ACC-3"]).ok();
    let run = work.run(&[
        "audit", "export", "--from", "1", "--to", "6", "--out", "late",
    ]);
    assert!(!run.success, "{}", run.all());
    assert!(
        run.stderr.contains("no checkpoint covers event 6"),
        "{}",
        run.all()
    );
}
