//! Tampering with the stored audit log through `sqlite3`: duplicates mid-log and truncation.
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
use rampart_audit::{Fault, NewEvent, Outcome, VerifyError, action};
use rampart_store::{AuditCheckError, Store, VerifySummary, verify_audit};
use serde_json::json;

async fn log_of(count: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path, store) = open_store().await;
    for n in 1..=count {
        let event = NewEvent::new(
            "client-1",
            action::ORDER_ACCEPTED,
            "ord",
            Outcome::Success,
            "r",
        )
        .details(json!({ "n": n }));
        let mut tx = store.begin().await.unwrap();
        tx.append(event).await.unwrap();
        tx.commit().await.unwrap();
    }
    store.close().await;
    (dir, path)
}

fn tamper(path: &Path, sql: &str) {
    sqlite3(
        path,
        &format!("DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete; {sql}"),
    );
}

async fn verify(path: &Path) -> Result<VerifySummary, AuditCheckError> {
    let store = Store::open(path).await.unwrap();
    let result = verify_audit(&store, |_, _| {}).await;
    store.close().await;
    result
}

#[tokio::test]
async fn a_row_copied_into_the_middle_of_the_log_is_found_duplicated() {
    let (_dir, path) = log_of(5).await;
    tamper(
        &path,
        "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 3; \
         UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000; \
         INSERT INTO audit_events SELECT 3, time, actor, action, target, outcome, request_id, \
         policy_version, details, leaf_hash, chain_hash FROM audit_events WHERE seq = 2;",
    );
    match verify(&path).await {
        Err(AuditCheckError::Chain(error)) => assert_eq!(
            error,
            VerifyError {
                seq: 3,
                fault: Fault::Duplicated
            }
        ),
        other => panic!("a duplicated row escaped verification: {other:?}"),
    }
}

#[tokio::test]
async fn a_truncated_log_verifies_only_to_a_head_that_differs_from_the_recorded_one() {
    let (_dir, path) = log_of(5).await;
    let recorded = verify(&path).await.unwrap();
    tamper(&path, "DELETE FROM audit_events WHERE seq > 3;");

    let truncated = verify(&path).await.unwrap();

    assert_eq!(recorded.events, 5);
    assert_eq!(truncated.events, 3);
    assert_ne!(truncated.head_hash, recorded.head_hash);
}

#[tokio::test]
async fn a_log_emptied_entirely_verifies_to_the_genesis_head() {
    let (_dir, path) = log_of(2).await;
    tamper(&path, "DELETE FROM audit_events;");

    let emptied = verify(&path).await.unwrap();

    assert_eq!(emptied.events, 0);
    assert_eq!(emptied.head_hash, rampart_audit::GENESIS);
}

#[tokio::test]
async fn a_row_whose_seq_is_stored_as_text_is_refused_by_the_strict_table() {
    let (_dir, path) = log_of(2).await;
    let output = common::sqlite3_command(
        &path,
        "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET seq = '2x' WHERE seq = 2;",
    )
    .output()
    .unwrap();
    assert!(!output.status.success());
    assert_eq!(verify(&path).await.unwrap().events, 2);
}
