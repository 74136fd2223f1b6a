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

use common::sqlite3;
use rampart_audit::{NewEvent, Outcome, action};
use rampart_store::{Store, verify_audit};
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
        .unwrap();

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
        .unwrap();

    assert_eq!(steps, 0);
    assert_eq!(stored_nodes(&path), subtrees_of(1000));
    store.close().await;
}

#[tokio::test]
async fn a_cancelled_back_fill_stops_before_its_next_step() {
    let (_dir, path, store) = old_log(1000).await;
    let stop = CancellationToken::new();
    stop.cancel();

    let steps = store.back_fill_audit_tree(&stop).await.unwrap();

    assert_eq!(steps, 0);
    assert_eq!(stored_nodes(&path), 0);
    store.close().await;
}
