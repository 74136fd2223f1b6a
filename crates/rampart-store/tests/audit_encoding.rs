//! Regression: a stored event's details must be the exact bytes that were hashed.
//!
//! Canonical JSON gives many spellings of one value the same leaf hash (key
//! order, spacing, `3` and `3.0`, escapes); a stored row spelled any other way
//! than the gateway wrote it was changed outside the gateway.
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
use rampart_store::{AuditCheckError, Store, verify_audit};
use serde_json::json;

async fn log_of(count: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path, store) = open_store().await;
    for n in 1..=count {
        let details = json!({"n": n, "quantity": "0.5", "price": 0.25});
        let event = NewEvent::new(
            "client-1",
            action::ORDER_ACCEPTED,
            "ord",
            Outcome::Success,
            "r",
        )
        .details(details);
        let mut tx = store.begin().await.unwrap();
        tx.append(event).await.unwrap();
        tx.commit().await.unwrap();
    }
    store.close().await;
    (dir, path)
}

fn rewrite_details(path: &Path, seq: u64, details: &str) {
    sqlite3(
        path,
        &format!(
            "DROP TRIGGER audit_events_no_update; \
             UPDATE audit_events SET details = '{details}' WHERE seq = {seq};"
        ),
    );
}

async fn verify(path: &Path) -> Result<rampart_store::VerifySummary, AuditCheckError> {
    let store = Store::open(path).await.unwrap();
    let result = verify_audit(&store, |_, _| {}).await;
    store.close().await;
    result
}

async fn expect_changed_at_3(details: &str) {
    let (_dir, path) = log_of(4).await;
    rewrite_details(&path, 3, details);
    match verify(&path).await {
        Err(AuditCheckError::Chain(error)) => assert_eq!(
            error,
            VerifyError {
                seq: 3,
                fault: Fault::Changed
            },
            "details rewritten as {details}"
        ),
        other => panic!("details rewritten as {details} escaped verification: {other:?}"),
    }
}

#[tokio::test]
async fn details_are_stored_in_their_canonical_spelling() {
    let (_dir, path) = log_of(1).await;
    let stored = sqlite3(&path, "SELECT details FROM audit_events WHERE seq = 1;");
    assert_eq!(stored.trim(), r#"{"n":1,"price":0.25,"quantity":"0.5"}"#);
}

#[tokio::test]
async fn an_untouched_log_still_verifies() {
    let (_dir, path) = log_of(4).await;
    assert_eq!(verify(&path).await.unwrap().events, 4);
}

#[tokio::test]
async fn details_with_their_keys_reordered_are_found_changed() {
    expect_changed_at_3(r#"{"quantity":"0.5","price":0.25,"n":3}"#).await;
}

#[tokio::test]
async fn details_with_a_number_spelled_another_way_are_found_changed() {
    expect_changed_at_3(r#"{"n":3.0,"price":0.25,"quantity":"0.5"}"#).await;
    expect_changed_at_3(r#"{"n":3,"price":2.5e-1,"quantity":"0.5"}"#).await;
    expect_changed_at_3(r#"{"n":3,"price":0.250000000000000000001,"quantity":"0.5"}"#).await;
}

#[tokio::test]
async fn details_with_added_whitespace_or_escapes_are_found_changed() {
    expect_changed_at_3(r#"{"n": 3,"price":0.25,"quantity":"0.5"}"#).await;
    expect_changed_at_3(r#"{"n":3,"price":0.25,"quantity":"\u0030.5"}"#).await;
}

#[tokio::test]
async fn details_rewritten_to_the_same_canonical_bytes_still_verify() {
    let (_dir, path) = log_of(4).await;
    rewrite_details(&path, 3, r#"{"n":3,"price":0.25,"quantity":"0.5"}"#);
    assert_eq!(verify(&path).await.unwrap().events, 4);
}

#[tokio::test]
async fn the_first_event_deleted_is_found_missing_at_seq_1() {
    let (_dir, path) = log_of(3).await;
    sqlite3(
        &path,
        "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 1;",
    );
    match verify(&path).await {
        Err(AuditCheckError::Chain(error)) => assert_eq!(
            error,
            VerifyError {
                seq: 1,
                fault: Fault::Missing
            }
        ),
        other => panic!("a deleted first event escaped verification: {other:?}"),
    }
}
