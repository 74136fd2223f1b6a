//! The back-fill of stored subtree hashes for a log older than them: it runs in short steps
//! of its own, never inside a batch of appends, and leaves a tree that verifies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::sqlite3;
use rampart_audit::{CheckpointSigner, NewEvent, Outcome, action};
use rampart_store::{CheckpointPolicy, Checkpointer, Store, verify_audit};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// Blocks of 256 leaves one back-fill step stores at most.
const BLOCKS_PER_STEP: u64 = 256;

async fn append(store: &Store, from: u64, to: u64) {
    let numbers: Vec<u64> = (from..=to).collect();
    for chunk in numbers.chunks(5000) {
        let mut tx = store.begin().await.unwrap();
        for n in chunk {
            let event = NewEvent::new(
                "client-1",
                action::ORDER_ACCEPTED,
                format!("order:{n}"),
                Outcome::Success,
                "r",
            )
            .details(json!({ "n": n }));
            tx.append(event).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
}

/// A log of `count` events whose stored subtree hashes were removed, as if it had been
/// written before they were stored; reopened.
async fn old_log(count: u64) -> (tempfile::TempDir, PathBuf, Store) {
    let (dir, path, store) = common::open_store().await;
    append(&store, 1, count).await;
    store.close().await;
    sqlite3(
        &path,
        "DROP TRIGGER audit_tree_nodes_no_delete; DELETE FROM audit_tree_nodes;",
    );
    let store = Store::open(&path).await.unwrap();
    (dir, path, store)
}

fn stored_nodes(path: &Path) -> u64 {
    sqlite3(path, "SELECT count(*) FROM audit_tree_nodes;")
        .trim()
        .parse()
        .unwrap()
}

/// How many perfect subtrees of 256 leaves or more a log of `len` events has.
fn subtrees_of(len: u64) -> u64 {
    (8..64).map(|level| len >> level).sum()
}

#[tokio::test]
async fn a_batch_appended_to_an_old_log_leaves_its_subtrees_to_the_back_fill() {
    let (_dir, path, store) = old_log(2000).await;

    append(&store, 2001, 2300).await;

    assert_eq!(stored_nodes(&path), 0, "the batch read no old leaves back");
    store.close().await;
}

#[tokio::test]
async fn the_back_fill_stores_every_subtree_in_short_steps_and_the_log_verifies() {
    let len = BLOCKS_PER_STEP * 256 + 4000;
    let (_dir, path, store) = old_log(len).await;

    let steps = store
        .back_fill_audit_tree(&CancellationToken::new())
        .await
        .unwrap()
        .steps;

    assert_eq!(steps, (len >> 8).div_ceil(BLOCKS_PER_STEP));
    assert_eq!(stored_nodes(&path), subtrees_of(len));
    assert_eq!(verify_audit(&store, |_, _| {}).await.unwrap().events, len);
    store.close().await;
}

#[tokio::test]
async fn batches_store_their_subtrees_again_once_the_back_fill_is_done() {
    let (_dir, path, store) = old_log(1000).await;
    store
        .back_fill_audit_tree(&CancellationToken::new())
        .await
        .unwrap();

    append(&store, 1001, 1600).await;

    assert_eq!(stored_nodes(&path), subtrees_of(1600));
    assert_eq!(verify_audit(&store, |_, _| {}).await.unwrap().events, 1600);
    store.close().await;
}

#[tokio::test]
async fn the_back_fill_of_a_log_with_every_subtree_stored_takes_no_step() {
    let (_dir, path, store) = common::open_store().await;
    append(&store, 1, 1000).await;

    let steps = store
        .back_fill_audit_tree(&CancellationToken::new())
        .await
        .unwrap()
        .steps;

    assert_eq!(steps, 0);
    assert_eq!(stored_nodes(&path), subtrees_of(1000));
    store.close().await;
}

#[tokio::test]
async fn a_cancelled_back_fill_stops_before_its_next_step() {
    let (_dir, path, store) = old_log(1000).await;
    let stop = CancellationToken::new();
    stop.cancel();

    let steps = store.back_fill_audit_tree(&stop).await.unwrap().steps;

    assert_eq!(steps, 0);
    assert_eq!(stored_nodes(&path), 0);
    store.close().await;
}

/// Waits until `path` stores every subtree hash a log of `len` events has.
async fn wait_for_every_subtree(path: &Path, len: u64) {
    let want = subtrees_of(len);
    for _ in 0..1500 {
        if stored_nodes(path) == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the tree still stores {} of {want} subtree hashes",
        stored_nodes(path)
    );
}

#[tokio::test]
async fn a_checkpointer_started_on_an_old_log_back_fills_its_tree_by_itself() {
    let len = 3000;
    let (_dir, path, store) = old_log(len).await;
    let policy = CheckpointPolicy {
        every_events: 1_000_000,
        every: Duration::from_secs(3600),
        export_dir: None,
        origin: "rampart.test/audit".into(),
    };
    let signer = Arc::new(CheckpointSigner::generate("rampart-audit").unwrap());
    let checkpointer = Checkpointer::new(store.clone(), signer, policy)
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(checkpointer.run(shutdown.clone()));

    wait_for_every_subtree(&path, len).await;

    shutdown.cancel();
    running.await.unwrap();
    store.close().await;
}

/// Appends batches of 50 events as `client` until `until` is cancelled, then one more;
/// how many events it appended.
async fn append_until(store: Store, client: u64, until: CancellationToken) -> u64 {
    let mut appended = 0;
    loop {
        let last = until.is_cancelled();
        let mut tx = store.begin().await.unwrap();
        for n in 0..50 {
            let target = format!("order:{client}-{appended}-{n}");
            let event = NewEvent::new(
                "client-1",
                action::ORDER_ACCEPTED,
                target,
                Outcome::Success,
                "r",
            );
            tx.append(event).await.unwrap();
        }
        tx.commit().await.unwrap();
        appended += 50;
        if last {
            return appended;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_from_several_tasks_during_a_back_fill_leave_a_complete_tree_that_verifies() {
    let len = BLOCKS_PER_STEP * 256 + 4000;
    let (_dir, path, store) = old_log(len).await;
    let filled = CancellationToken::new();
    let appenders: Vec<_> = (0..4)
        .map(|client| tokio::spawn(append_until(store.clone(), client, filled.clone())))
        .collect();

    let report = store
        .back_fill_audit_tree(&CancellationToken::new())
        .await
        .unwrap();
    filled.cancel();
    let mut total = len;
    for appender in appenders {
        let appended = appender.await.unwrap();
        assert!(
            appended > 50,
            "an appender appended only while the back-fill had ended"
        );
        total += appended;
    }

    assert!(report.steps >= 2, "{report:?}");
    assert_eq!(stored_nodes(&path), subtrees_of(total));
    assert_eq!(verify_audit(&store, |_, _| {}).await.unwrap().events, total);
    store.close().await;
}

#[tokio::test]
async fn a_failed_back_fill_step_is_tried_again_until_it_succeeds() {
    let (_dir, path, store) = old_log(1000).await;
    store.close().await;
    // Every insert of a subtree hash fails until the log holds a 1001st event.
    sqlite3(
        &path,
        "CREATE TRIGGER held_nodes BEFORE INSERT ON audit_tree_nodes \
         WHEN (SELECT max(seq) FROM audit_events) < 1001 \
         BEGIN SELECT RAISE(ABORT, 'held'); END;",
    );
    let store = Store::open(&path).await.unwrap();
    let stop = CancellationToken::new();
    let back_fill = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move { store.back_fill_audit_tree(&stop).await })
    };

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !back_fill.is_finished(),
        "a failed step ended the back-fill"
    );
    assert_eq!(stored_nodes(&path), 0);
    append(&store, 1001, 1001).await;
    let report = tokio::time::timeout(Duration::from_secs(30), back_fill)
        .await
        .expect("the back-fill tried the step again")
        .unwrap()
        .unwrap();

    assert!(report.retries >= 1, "{report:?}");
    assert_eq!(report.steps, 1);
    assert_eq!(stored_nodes(&path), subtrees_of(1001));
    store.close().await;
}
