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

/// A checkpointed data directory, the size of its checkpoint, and a bundle of its last
/// three events (the two accounts and the client, a range from the middle of the log),
/// moved out of it.
fn exported() -> (Workdir, u64, PathBuf) {
    let work = Workdir::new();
    work.init();
    work.run(&["account", "add", "ACC-1"]).ok();
    work.run(&["account", "add", "ACC-2"]).ok();
    work.run(&["client", "add", "--name", "r", "--roles", "auditor"])
        .ok();
    let signed = work.run(&["audit", "checkpoint"]).ok();
    let size: u64 = signed
        .stdout
        .split("tree size ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|size| size.trim().parse().ok())
        .unwrap_or_else(|| panic!("no tree size in: {}", signed.all()));
    assert!(
        size > 3,
        "the log starts with the gateway's own events: {size}"
    );
    let (from, to) = ((size - 2).to_string(), size.to_string());
    let out = work.path().join("bundle");
    let run = work
        .run(&[
            "audit", "export", "--from", &from, "--to", &to, "--out", "bundle",
        ])
        .ok();
    let range = format!("events {from} to {to}");
    assert!(run.stdout.contains(&range), "{}", run.all());
    (work, size, out)
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
    let (work, size, bundle) = exported();
    std::fs::remove_dir_all(work.data_dir()).unwrap();
    let run = verify_bundle(&work, &bundle).ok();
    let verified = format!("audit bundle verified: events {} to {size}", size - 2);
    assert!(run.stdout.contains(&verified), "{}", run.all());
    let lines = std::fs::read_to_string(bundle.join("events.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 3);
}

#[test]
fn bundle_verifies_against_the_trusted_key_and_refuses_another() {
    let (work, _, bundle) = exported();
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
    let (work, _, bundle) = exported();
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
    let (work, size, bundle) = exported();
    let path = bundle.join("events.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("ACC-1", "ACC-9", 1)).unwrap();
    reseal(&bundle, "events.jsonl");
    let run = verify_bundle(&work, &bundle);
    assert_refused(&run, "audit bundle verification FAILED");
    let changed = format!("event {}", size - 2);
    assert!(
        run.stdout.contains(&changed) || run.stdout.contains("line 1"),
        "{}",
        run.all()
    );
}

#[test]
fn forged_leaf_with_a_resealed_manifest_fails_the_signed_root() {
    let (work, _, bundle) = exported();
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
    let (work, size, _) = exported();
    work.run(&["account", "add", "ACC-3"]).ok();
    let late = (size + 1).to_string();
    let run = work.run(&[
        "audit", "export", "--from", "1", "--to", &late, "--out", "late",
    ]);
    assert!(!run.success, "{}", run.all());
    let expected = format!("no checkpoint covers event {late}");
    assert!(run.stderr.contains(&expected), "{}", run.all());
}
