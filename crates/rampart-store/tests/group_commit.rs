//! Group commit: concurrent write transactions share one durable commit and lose nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{account, open_store};
use rampart_audit::{NewEvent, Outcome, action};
use rampart_store::{Store, flush_counts, verify_audit};
use rand::Rng;
use rust_decimal_macros::dec;

/// The environment variable that makes the child test a crash-test writer.
const CRASH_DB: &str = "RAMPART_CRASH_TEST_DB";

fn event(target: &str) -> NewEvent {
    NewEvent::new(
        "client-1",
        action::ORDER_ACCEPTED,
        target,
        Outcome::Success,
        "req",
    )
}

async fn targets(path: &Path) -> Vec<String> {
    let store = Store::open(path).await.unwrap();
    let summary = verify_audit(&store, |_, _| {}).await.unwrap();
    let events = store.audit_events(0, u32::MAX).await.unwrap();
    assert_eq!(summary.events, events.len() as u64);
    store.close().await;
    events.into_iter().map(|e| e.event.target).collect()
}

/// Holds the writer until `queued` other transactions wait for it, so they share a batch.
async fn spawn_queued(store: &Store, queued: usize) -> Vec<tokio::task::JoinHandle<bool>> {
    let handles = (0..queued)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                tx.append(event(&format!("t{n}"))).await.unwrap();
                if n % 3 == 1 {
                    // Every third unit fails after writing and is dropped.
                    return tx.insert_account(&account("ACC-1", dec!(-1))).await.is_ok();
                }
                tx.commit().await.is_ok()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    handles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_committers_share_one_durable_commit() {
    let (_dir, path, store) = open_store().await;
    let mut first = store.begin().await.unwrap();
    let handles = spawn_queued(&store, 63).await;
    first.append(event("first")).await.unwrap();
    let (flushes_before, units_before) = flush_counts();
    first.commit().await.unwrap();
    let results: Vec<bool> = futures_join(handles).await;
    let (flushes, units) = flush_counts();

    let committed = results.iter().filter(|ok| **ok).count();
    assert_eq!(committed, 42, "every unit but the failing ones commits");
    assert_eq!(
        flushes - flushes_before,
        1,
        "all queued units share one commit"
    );
    assert_eq!(units - units_before, 43);
    store.close().await;

    let found = targets(&path).await;
    assert_eq!(found.len(), 43);
    assert_eq!(found[0], "first");
    let expected: BTreeSet<String> = (0..63)
        .filter(|n| n % 3 != 1)
        .map(|n| format!("t{n}"))
        .chain(["first".to_owned()])
        .collect();
    assert_eq!(found.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn failing_unit_leaves_no_trace_and_the_chain_stays_whole() {
    let (_dir, path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    tx.append(event("kept-1")).await.unwrap();
    tx.commit().await.unwrap();

    let mut failing = store.begin().await.unwrap();
    failing.append(event("dropped")).await.unwrap();
    failing
        .insert_account(&account("ACC-9", dec!(5)))
        .await
        .unwrap();
    drop(failing);

    let mut rolled = store.begin().await.unwrap();
    rolled.append(event("rolled-back")).await.unwrap();
    rolled.rollback().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let kept = tx.append(event("kept-2")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        kept.seq, 2,
        "the dropped units' sequence numbers are reused"
    );
    assert_eq!(
        store.account(&"ACC-9".parse().unwrap()).await.unwrap(),
        None
    );
    store.close().await;
    assert_eq!(targets(&path).await, ["kept-1", "kept-2"]);
}

#[tokio::test]
async fn committed_unit_is_visible_to_another_connection_when_commit_returns() {
    let (_dir, path, store) = open_store().await;
    let other = Store::open(&path).await.unwrap();
    for n in 1..=5u64 {
        let mut tx = store.begin().await.unwrap();
        tx.append(event(&format!("e{n}"))).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(other.audit_len().await.unwrap(), n);
    }
    other.close().await;
    store.close().await;
}

#[tokio::test]
async fn uncommitted_unit_is_invisible_to_readers() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    tx.append(event("pending")).await.unwrap();
    assert_eq!(store.audit_len().await.unwrap(), 0);
    tx.commit().await.unwrap();
    assert_eq!(store.audit_len().await.unwrap(), 1);
}

#[test]
fn killed_writer_loses_only_unacknowledged_units() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    let mut acknowledged = BTreeSet::new();
    let mut rng = rand::thread_rng();
    for round in 0..5 {
        let wait_for = rng.gen_range(20..400);
        acknowledged.extend(run_child_until(&path, round, wait_for));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let found: BTreeSet<String> = runtime.block_on(targets(&path)).into_iter().collect();
        let lost: Vec<_> = acknowledged.difference(&found).collect();
        assert!(
            lost.is_empty(),
            "round {round}: acknowledged events lost: {lost:?}"
        );
    }
    assert!(acknowledged.len() >= 5 * 20);
}

/// Runs the child writer on `path` and kills it after `acks` acknowledgements.
fn run_child_until(path: &Path, round: u32, acks: usize) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_writes_until_killed",
            "--ignored",
            "--nocapture",
        ])
        .env(CRASH_DB, path)
        .env("RAMPART_CRASH_TEST_ROUND", round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(target) = line.strip_prefix("ack ") {
            seen.push(target.to_owned());
            if seen.len() >= acks {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(seen.len() >= acks, "the child writer stopped early");
    seen
}

/// The crash test's child: 16 writers append and print each acknowledged event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "started as a child process by killed_writer_loses_only_unacknowledged_units"]
async fn crash_child_writes_until_killed() {
    let path = std::env::var_os(CRASH_DB).expect("run by the crash test, which sets the database");
    let round = std::env::var("RAMPART_CRASH_TEST_ROUND").unwrap();
    let store = Store::open(Path::new(&path)).await.unwrap();
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let store = store.clone();
            let round = round.clone();
            tokio::spawn(async move {
                for i in 0.. {
                    let target = format!("r{round}-w{w}-{i}");
                    let mut tx = store.begin().await.unwrap();
                    tx.append(event(&target)).await.unwrap();
                    tx.commit().await.unwrap();
                    println!("ack {target}");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
}

async fn futures_join(handles: Vec<tokio::task::JoinHandle<bool>>) -> Vec<bool> {
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    results
}
