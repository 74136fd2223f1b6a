//! Roots and proofs from stored subtree hashes equal those from every leaf hash.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use common::{open_store, sqlite3};
use rampart_audit::{NewEvent, Outcome, action, merkle};
use rampart_store::Store;

fn event(n: u64) -> NewEvent {
    NewEvent::new(
        "client-1",
        action::ORDER_ACCEPTED,
        format!("ord-{n}"),
        Outcome::Success,
        "r",
    )
}

/// Appends `count` events in batches of `batch` events.
async fn append(store: &Store, count: u64, batch: u64) {
    let mut n = 0;
    while n < count {
        let mut tx = store.begin().await.unwrap();
        for _ in 0..batch.min(count - n) {
            n += 1;
            tx.append(event(n)).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
}

async fn assert_proofs_match_the_leaves(store: &Store, sizes: &[u64]) {
    let len = *sizes.iter().max().unwrap();
    let leaves = store.audit_leaf_hashes(0..len).await.unwrap();
    for &size in sizes {
        let prefix = &leaves[..size as usize];
        assert_eq!(
            store.audit_root(size).await.unwrap(),
            merkle::root(prefix),
            "{size}"
        );
        for seq in [1, size / 2 + 1, size] {
            let proof = store.inclusion_proof(seq, size).await.unwrap();
            let expected = merkle::inclusion_proof(prefix, seq - 1).unwrap();
            assert_eq!(proof.path, expected, "seq {seq} of {size}");
        }
        for from in [1, size / 3 + 1, size - 1, size] {
            let from = from.max(1);
            let proof = store.consistency_proof(from, size).await.unwrap();
            let expected = merkle::consistency_proof(prefix, from).unwrap();
            assert_eq!(proof, expected, "{from} to {size}");
        }
    }
}

fn stored_nodes(path: &std::path::Path, level: u32) -> u64 {
    let sql = format!("SELECT COUNT(*) FROM audit_tree_nodes WHERE level = {level};");
    sqlite3(path, &sql).trim().parse().unwrap()
}

#[tokio::test]
async fn batches_store_every_complete_subtree_of_256_leaves_or_more() {
    let (_dir, path, store) = open_store().await;
    append(&store, 2_100, 97).await;
    store.close().await;
    assert_eq!(stored_nodes(&path, 8), 2_100 / 256);
    assert_eq!(stored_nodes(&path, 9), 2_100 / 512);
    assert_eq!(stored_nodes(&path, 11), 1);
    assert_eq!(stored_nodes(&path, 12), 0);
}

#[tokio::test]
async fn proofs_from_stored_subtrees_are_the_proofs_over_every_leaf() {
    let (_dir, _path, store) = open_store().await;
    append(&store, 2_100, 300).await;
    assert_proofs_match_the_leaves(&store, &[1, 2, 255, 256, 257, 512, 1_000, 1_537, 2_100]).await;
}

#[tokio::test]
async fn a_log_without_stored_subtrees_gives_the_same_proofs_and_is_back_filled() {
    let (_dir, path, store) = open_store().await;
    append(&store, 1_100, 1_100).await;
    store.close().await;
    sqlite3(
        &path,
        "DROP TRIGGER audit_tree_nodes_no_delete; DELETE FROM audit_tree_nodes;",
    );

    let store = Store::open(&path).await.unwrap();
    assert_proofs_match_the_leaves(&store, &[300, 1_024, 1_100]).await;
    append(&store, 200, 200).await;
    let steps = store
        .back_fill_audit_tree(&tokio_util::sync::CancellationToken::new())
        .await
        .unwrap()
        .steps;
    assert_eq!(steps, 1);
    assert_proofs_match_the_leaves(&store, &[300, 1_024, 1_300]).await;
    store.close().await;
    assert_eq!(stored_nodes(&path, 8), 1_300 / 256);
    assert_eq!(stored_nodes(&path, 10), 1);
}
