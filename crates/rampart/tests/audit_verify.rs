//! `rampart audit verify` on an intact log, and after the log is tampered with
//! from outside the gateway through the `sqlite3` shell.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod support;

use support::{Run, Workdir};

/// A data directory whose audit log holds at least five events.
fn populated() -> Workdir {
    let work = Workdir::new();
    work.init();
    work.run(&["account", "add", "ACC-1"]).ok();
    work.run(&[
        "account",
        "add",
        "ACC-2",
        "--currency",
        "JPY",
        "--cash",
        "100000000",
    ])
    .ok();
    work.run(&[
        "client",
        "add",
        "--name",
        "algo",
        "--roles",
        "trader",
        "--accounts",
        "ACC-1",
    ])
    .ok();
    work.run(&["client", "add", "--name", "risk", "--roles", "auditor"])
        .ok();
    work
}

fn verify(work: &Workdir) -> Run {
    work.run(&["audit", "verify"])
}

fn assert_fails_at(run: &Run, seq: u64, fault: &str) {
    assert!(!run.success, "verification must fail:\n{}", run.all());
    assert_eq!(run.code, Some(1));
    let expected = format!("audit event {seq} {fault}");
    assert!(
        run.stdout.contains(&expected),
        "expected `{expected}` in:\n{}",
        run.all()
    );
}

#[test]
fn intact_log_verifies_with_its_size_and_head_hash() {
    let work = populated();
    let run = verify(&work).ok();
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("audit log verified"))
        .unwrap();
    let events: u64 = line.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!(events >= 5, "{line}");
    let hash = line.rsplit(' ').next().unwrap();
    assert_eq!(hash.len(), 64, "{line}");
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn fresh_data_directory_verifies() {
    let work = Workdir::new();
    work.init();
    verify(&work).ok();
}

#[test]
fn changed_event_is_named_by_seq() {
    let work = populated();
    work.sqlite(
        "DROP TRIGGER audit_events_no_update; \
         UPDATE audit_events SET actor = 'mallory' WHERE seq = 3;",
    );
    assert_fails_at(&verify(&work), 3, "was changed");
}

#[test]
fn changed_details_are_detected() {
    let work = populated();
    work.sqlite(
        "DROP TRIGGER audit_events_no_update; \
         UPDATE audit_events SET details = '{\"name\":\"someone else\"}' WHERE seq = 4;",
    );
    assert_fails_at(&verify(&work), 4, "was changed");
}

#[test]
fn deleted_event_is_named_by_seq() {
    let work = populated();
    work.sqlite("DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 2;");
    assert_fails_at(&verify(&work), 2, "is missing");
}

#[test]
fn swapped_events_are_named_by_seq() {
    let work = populated();
    work.sqlite(
        "DROP TRIGGER audit_events_no_update; \
         UPDATE audit_events SET seq = 1000 WHERE seq = 2; \
         UPDATE audit_events SET seq = 2 WHERE seq = 3; \
         UPDATE audit_events SET seq = 3 WHERE seq = 1000;",
    );
    assert_fails_at(&verify(&work), 2, "is out of order");
}

#[test]
fn truncated_tail_changes_the_head_hash() {
    // Removing the newest events leaves a shorter, internally consistent chain;
    // the head hash printed by a previous run is what exposes it.
    let work = populated();
    let before = verify(&work).ok().stdout;
    work.sqlite(
        "DROP TRIGGER audit_events_no_delete; \
         DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events);",
    );
    let after = verify(&work).ok().stdout;
    assert_ne!(
        before.trim().rsplit(' ').next(),
        after.trim().rsplit(' ').next()
    );
}
