//! Tampering as an attacker with the database would: on a COPY of a checkpointed data
//! directory, through the `sqlite3` shell with the append-only triggers dropped. Each
//! change, deletion, insertion, reordering and truncation is detected and located by
//! `rampart audit verify`; the untouched original still verifies.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod support;

use std::path::Path;
use std::sync::OnceLock;

use support::{Run, Workdir};

/// A data directory with a checkpoint of its first events and more events after it.
fn original() -> &'static Workdir {
    static ORIGINAL: OnceLock<Workdir> = OnceLock::new();
    ORIGINAL.get_or_init(|| {
        let work = Workdir::new();
        work.init();
        work.run(&["account", "add", "ACC-1"]).ok();
        work.run(&["account", "add", "ACC-2"]).ok();
        let roles = ["client", "add", "--name", "algo", "--roles", "trader"];
        work.run(&[&roles[..], &["--accounts", "ACC-1"]].concat())
            .ok();
        work.run(&["audit", "checkpoint"]).ok();
        work.run(&["client", "add", "--name", "risk", "--roles", "auditor"])
            .ok();
        work
    })
}

/// A copy of the original's working directory (data, keys, exported checkpoints).
fn copy() -> Workdir {
    let work = Workdir::new();
    copy_dir(original().path(), work.path());
    work
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn verify(work: &Workdir) -> Run {
    work.run(&["audit", "verify"])
}

fn checkpointed_size(work: &Workdir) -> u64 {
    let line = work
        .run(&["audit", "verify"])
        .ok()
        .stdout
        .lines()
        .find(|l| l.starts_with("audit log verified"))
        .unwrap()
        .to_owned();
    assert!(line.contains(" 1 checkpoints"), "{line}");
    let dir = work.data_dir().join("audit-checkpoints");
    let name = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.ends_with(".checkpoint"))
        .unwrap();
    name.trim_end_matches(".checkpoint").parse().unwrap()
}

fn assert_fails_with(run: &Run, expected: &str) {
    assert!(!run.success, "verification must fail:\n{}", run.all());
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout.contains(expected),
        "expected `{expected}` in:\n{}",
        run.all()
    );
}

#[test]
fn untouched_copy_verifies_its_tree_and_signed_checkpoint() {
    let work = copy();
    let size = checkpointed_size(&work);
    assert!(size >= 4, "the checkpoint covers the set-up events");
    let run = verify(&work).ok();
    let line = run.stdout.lines().next().unwrap();
    assert!(line.contains("tree root "), "{line}");
}

#[test]
fn changed_event_in_the_copy_is_located() {
    let work = copy();
    work.sqlite(
        "DROP TRIGGER audit_events_no_update; \
         UPDATE audit_events SET actor = 'mallory' WHERE seq = 3;",
    );
    assert_fails_with(&verify(&work), "audit event 3 was changed");
    verify(original()).ok();
}

#[test]
fn deleted_event_in_the_copy_is_located() {
    let work = copy();
    work.sqlite("DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 2;");
    assert_fails_with(&verify(&work), "audit event 2 is missing");
}

#[test]
fn inserted_event_in_the_copy_is_located() {
    let work = copy();
    work.sqlite(
        "DROP TRIGGER audit_events_no_update; \
         UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 3; \
         UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1003; \
         INSERT INTO audit_events SELECT 3, time, 'mallory', action, target, outcome, \
           request_id, policy_version, details, leaf_hash, chain_hash \
           FROM audit_events WHERE seq = 2;",
    );
    assert_fails_with(&verify(&work), "audit event 3 ");
}

#[test]
fn reordered_events_in_the_copy_are_located() {
    let work = copy();
    work.sqlite(
        "DROP TRIGGER audit_events_no_update; \
         UPDATE audit_events SET seq = 1000 WHERE seq = 2; \
         UPDATE audit_events SET seq = 2 WHERE seq = 3; \
         UPDATE audit_events SET seq = 3 WHERE seq = 1000;",
    );
    assert_fails_with(&verify(&work), "audit event 2 is out of order");
}

#[test]
fn truncation_below_the_checkpoint_names_the_missing_range() {
    let work = copy();
    let size = checkpointed_size(&work);
    let keep = size - 2;
    work.sqlite(&format!(
        "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq > {keep};"
    ));
    let expected = format!(
        "the log was truncated: events {} to {size} are missing",
        keep + 1
    );
    assert_fails_with(&verify(&work), &expected);
}

#[test]
fn truncation_with_the_checkpoint_rows_removed_is_caught_by_the_exported_checkpoint() {
    let work = copy();
    let size = checkpointed_size(&work);
    let keep = size - 1;
    work.sqlite(&format!(
        "DROP TRIGGER audit_events_no_delete; DROP TRIGGER audit_checkpoints_no_delete; \
         DELETE FROM audit_checkpoints; DELETE FROM audit_events WHERE seq > {keep};"
    ));
    let expected = format!(
        "the log was truncated: events {size} to {size} are missing but the exported \
         checkpoint of tree size {size} covers them"
    );
    assert_fails_with(&verify(&work), &expected);
}

#[test]
fn checkpoint_row_with_a_forged_size_is_refused() {
    let work = copy();
    let size = checkpointed_size(&work);
    work.sqlite(&format!(
        "DROP TRIGGER audit_checkpoints_no_update; \
         UPDATE audit_checkpoints SET text = replace(text, char(10) || '{size}' || char(10), \
           char(10) || '{}' || char(10));",
        size - 1
    ));
    let run = verify(&work);
    assert!(!run.success, "{}", run.all());
    assert_eq!(run.code, Some(1), "{}", run.all());
}

#[test]
fn checkpoint_key_other_than_the_trusted_one_is_refused() {
    let work = copy();
    let other = Workdir::new();
    other.init();
    let key = other.data_dir().join("keys/audit-checkpoint.vkey");
    let run = work.run(&["audit", "verify", "--key", key.to_str().unwrap()]);
    assert!(!run.success, "{}", run.all());
    assert!(run.stdout.contains("checkpoint"), "{}", run.all());
}
