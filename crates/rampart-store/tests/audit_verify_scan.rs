//! Verification from the database: stored subtree hashes are checked against the
//! recomputed tree, and a row that cannot be decoded in the middle of a page is named.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use std::path::Path;

use common::{open_store, sqlite3};
use rampart_audit::{Fault, LogError, NewEvent, Outcome, VerifyError, action};
use rampart_store::{AuditCheckError, Store, StoreError, VerifySummary, verify_audit};
use serde_json::json;

/// A closed log of `count` events, appended 100 per transaction.
async fn log_of(count: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path, store) = open_store().await;
    let numbers: Vec<u64> = (1..=count).collect();
    for chunk in numbers.chunks(100) {
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
    store.close().await;
    (dir, path)
}

async fn verify(path: &Path) -> Result<VerifySummary, AuditCheckError> {
    let store = Store::open(path).await.unwrap();
    let result = verify_audit(&store, |_, _| {}).await;
    store.close().await;
    result
}

#[tokio::test]
async fn an_untouched_log_with_stored_subtrees_verifies() {
    let (_dir, path) = log_of(1100).await;
    let nodes = sqlite3(&path, "SELECT count(*) FROM audit_tree_nodes;");
    // Four blocks of 256, two of 512 and one of 1024.
    assert_eq!(nodes.trim(), "7");
    let summary = verify(&path).await.unwrap();
    assert_eq!(summary.events, 1100);
}

#[tokio::test]
async fn a_changed_stored_subtree_hash_is_named() {
    let (_dir, path) = log_of(600).await;
    sqlite3(
        &path,
        "DROP TRIGGER audit_tree_nodes_no_update; \
         UPDATE audit_tree_nodes SET hash = zeroblob(32) WHERE level = 8 AND idx = 1;",
    );
    let error = verify(&path).await.unwrap_err();
    assert!(
        matches!(
            error,
            AuditCheckError::Log(LogError::NodeMismatch {
                level: 8,
                index: 1,
                first: 257,
                last: 512
            })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_stored_subtree_over_events_cut_from_the_log_is_named() {
    let (_dir, path) = log_of(600).await;
    sqlite3(
        &path,
        "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq > 400;",
    );
    let error = verify(&path).await.unwrap_err();
    assert!(
        matches!(
            error,
            AuditCheckError::Log(LogError::NodeBeyondLog {
                level: 8,
                index: 1,
                ..
            })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_row_that_is_not_utf8_in_the_middle_of_a_page_is_named() {
    let (_dir, path) = log_of(300).await;
    sqlite3(
        &path,
        "DROP TRIGGER audit_events_no_update; \
         UPDATE audit_events SET actor = CAST(x'ff00ff' AS TEXT) WHERE seq = 150;",
    );
    let error = verify(&path).await.unwrap_err();
    assert!(
        matches!(&error, AuditCheckError::Unreadable { seq } if seq == "150"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_hash_of_the_wrong_length_in_the_middle_of_a_page_is_named() {
    let (_dir, path) = log_of(300).await;
    sqlite3(
        &path,
        "PRAGMA ignore_check_constraints = ON; DROP TRIGGER audit_events_no_update; \
         UPDATE audit_events SET leaf_hash = x'00' WHERE seq = 77;",
    );
    let error = verify(&path).await.unwrap_err();
    assert!(
        matches!(&error, AuditCheckError::Unreadable { seq } if seq == "77"),
        "{error:?}"
    );
}

#[tokio::test]
async fn details_changed_in_the_middle_of_a_page_are_named() {
    let (_dir, path) = log_of(300).await;
    sqlite3(
        &path,
        "DROP TRIGGER audit_events_no_update; \
         UPDATE audit_events SET details = '{\"n\":9999}' WHERE seq = 201;",
    );
    let error = verify(&path).await.unwrap_err();
    assert!(
        matches!(
            error,
            AuditCheckError::Chain(VerifyError {
                seq: 201,
                fault: Fault::Changed
            })
        ),
        "{error:?}"
    );
}

/// Inserts a copy of event 1 under `seq`, bypassing the table's check constraints.
fn insert_copy_of_first(path: &Path, seq: i64) {
    sqlite3(
        path,
        &format!(
            "PRAGMA ignore_check_constraints = ON; \
             INSERT INTO audit_events (seq, time, actor, action, target, outcome, request_id, \
             policy_version, details, leaf_hash, chain_hash) \
             SELECT {seq}, time, actor, action, target, outcome, request_id, policy_version, \
             details, leaf_hash, chain_hash FROM audit_events WHERE seq = 1;"
        ),
    );
}

#[tokio::test]
async fn a_row_inserted_with_seq_zero_is_named() {
    let (_dir, path) = log_of(300).await;
    insert_copy_of_first(&path, 0);
    let error = verify(&path).await.unwrap_err();
    assert!(
        matches!(&error, AuditCheckError::Unreadable { seq } if seq == "0"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_row_inserted_with_a_negative_seq_is_named() {
    let (_dir, path) = log_of(300).await;
    insert_copy_of_first(&path, -1);
    let error = verify(&path).await.unwrap_err();
    assert!(
        matches!(&error, AuditCheckError::Unreadable { seq } if seq == "-1"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_stored_subtree_hash_of_the_wrong_length_is_named() {
    let (_dir, path) = log_of(300).await;
    sqlite3(
        &path,
        "PRAGMA ignore_check_constraints = ON; DROP TRIGGER audit_tree_nodes_no_update; \
         UPDATE audit_tree_nodes SET hash = x'00' WHERE level = 8 AND idx = 0;",
    );
    let error = verify(&path).await.unwrap_err();
    assert!(
        matches!(&error, AuditCheckError::UnreadableNode { node } if node == "8/0"),
        "{error:?}"
    );
}

#[tokio::test]
async fn leaf_hashes_of_the_wrong_lengths_that_add_up_are_refused() {
    let (_dir, path) = log_of(20).await;
    sqlite3(
        &path,
        "PRAGMA ignore_check_constraints = ON; DROP TRIGGER audit_events_no_update; \
         UPDATE audit_events SET leaf_hash = zeroblob(31) WHERE seq = 5; \
         UPDATE audit_events SET leaf_hash = zeroblob(33) WHERE seq = 6;",
    );
    let store = Store::open(&path).await.unwrap();
    let result = store.audit_leaf_hashes(0..20).await;
    store.close().await;
    assert!(
        matches!(&result, Err(StoreError::Corrupt { key, .. }) if key == "5"),
        "{result:?}"
    );
}
