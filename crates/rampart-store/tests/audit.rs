//! The audit log in the store: appends, transactions, durability and tampering.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{account, open_store, sqlite3, sqlite3_command};
use rampart_audit::{AuditEvent, Fault, NewEvent, Outcome, StoredEvent, VerifyError, action};
use rampart_store::{AuditCheckError, Store, StoreError, verify_audit};
use rust_decimal_macros::dec;
use serde_json::json;

fn event(n: u64) -> NewEvent {
    NewEvent::new(
        format!("client-{n}"),
        action::ORDER_ACCEPTED,
        format!("ord-{n}"),
        Outcome::Success,
        format!("req-{n}"),
    )
    .policy("policy-v1")
    .details(json!({"n": n, "quantity": "0.5"}))
}

/// A closed store holding `count` committed events, one transaction each.
async fn log_of(count: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path, store) = open_store().await;
    for n in 1..=count {
        let mut tx = store.begin().await.unwrap();
        tx.append(event(n)).await.unwrap();
        tx.commit().await.unwrap();
    }
    store.close().await;
    (dir, path)
}

/// Runs `sql` on the closed database with the append-only triggers removed,
/// as someone with access to the file could.
fn tamper(path: &Path, sql: &str) {
    sqlite3(
        path,
        &format!("DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete; {sql}"),
    );
}

async fn verify(path: &Path) -> Result<rampart_store::VerifySummary, AuditCheckError> {
    let store = Store::open(path).await.unwrap();
    let result = verify_audit(&store, |_, _| {}).await;
    store.close().await;
    result
}

async fn expect_fault(path: &Path, seq: u64, fault: Fault) {
    match verify(path).await {
        Err(AuditCheckError::Chain(error)) => assert_eq!(error, VerifyError { seq, fault }),
        other => panic!("expected {fault:?} at {seq}, got {other:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[tokio::test]
async fn appended_events_get_consecutive_seqs_and_read_back_with_their_hashes() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    let first = tx.append(event(1)).await.unwrap();
    let second = tx.append(event(2)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((first.seq, second.seq), (1, 2));
    assert_eq!(first.actor, "client-1");

    let stored = store.audit_events(0, 10).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0], StoredEvent::seal(first, &rampart_audit::GENESIS));
    assert_eq!(stored[1], StoredEvent::seal(second, &stored[0].chain_hash));
    assert_eq!(store.audit_len().await.unwrap(), 2);
    assert_eq!(
        store.audit_events(1, 10).await.unwrap(),
        stored[1..].to_vec()
    );
    assert_eq!(
        store.audit_events(0, 1).await.unwrap(),
        stored[..1].to_vec()
    );
}

#[tokio::test]
async fn an_event_appended_in_a_rolled_back_transaction_leaves_no_trace() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&account("ACC-1", dec!(10)))
        .await
        .unwrap();
    tx.append(event(1)).await.unwrap();
    tx.rollback().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    tx.append(event(2)).await.unwrap();
    drop(tx);

    assert_eq!(store.audit_len().await.unwrap(), 0);
    assert_eq!(
        store.account(&"ACC-1".parse().unwrap()).await.unwrap(),
        None
    );
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.append(event(3)).await.unwrap().seq, 1);
}

#[tokio::test]
async fn details_with_an_integer_beyond_double_precision_are_refused() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    let lossy = event(1).details(json!({"n": u64::MAX}));
    let error = tx.append(lossy).await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Invalid {
                field: "details",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn concurrent_writers_keep_one_linear_chain() {
    let (_dir, _path, store) = open_store().await;
    let tasks: Vec<_> = (0..4u64)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0..25 {
                    let mut tx = store.begin().await.unwrap();
                    tx.append(event(t * 100 + n)).await.unwrap();
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let summary = verify_audit(&store, |_, _| {}).await.unwrap();
    assert_eq!(summary.events, 100);
}

#[tokio::test]
async fn verify_reports_progress_and_the_head_of_an_intact_log() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    for n in 1..=20_000 {
        tx.append(event(n)).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut seen = Vec::new();
    let summary = verify_audit(&store, |done, total| seen.push((done, total)))
        .await
        .unwrap();
    assert!(seen.len() > 1, "progress came once: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
    assert!(seen.iter().all(|&(_, total)| total == 20_000), "{seen:?}");
    assert_eq!(seen.last(), Some(&(20_000, 20_000)));
    let last = store.audit_events(19_999, 1).await.unwrap();
    assert_eq!(summary.events, 20_000);
    assert_eq!(summary.head_hash, last[0].chain_hash);
}

#[tokio::test]
async fn the_gateway_cannot_update_or_delete_audit_events() {
    let (_dir, path) = log_of(2).await;
    for sql in [
        "UPDATE audit_events SET actor = 'x' WHERE seq = 1",
        "DELETE FROM audit_events",
    ] {
        let output = sqlite3_command(&path, sql).output().unwrap();
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("append-only"));
    }
    assert_eq!(verify(&path).await.unwrap().events, 2);
}

#[tokio::test]
async fn a_changed_field_is_found_at_its_seq() {
    let (_dir, path) = log_of(5).await;
    tamper(
        &path,
        "UPDATE audit_events SET outcome = 'failed' WHERE seq = 3;",
    );
    expect_fault(&path, 3, Fault::Changed).await;
}

#[tokio::test]
async fn changed_details_are_found_at_their_seq() {
    let (_dir, path) = log_of(5).await;
    tamper(
        &path,
        r#"UPDATE audit_events SET details = '{"n":4,"quantity":"5"}' WHERE seq = 4;"#,
    );
    expect_fault(&path, 4, Fault::Changed).await;
}

#[tokio::test]
async fn a_deleted_event_is_found_missing_at_its_seq() {
    let (_dir, path) = log_of(5).await;
    tamper(&path, "DELETE FROM audit_events WHERE seq = 3;");
    expect_fault(&path, 3, Fault::Missing).await;
}

#[tokio::test]
async fn a_deleted_event_with_later_events_renumbered_is_found_missing() {
    let (_dir, path) = log_of(5).await;
    tamper(
        &path,
        "DELETE FROM audit_events WHERE seq = 3; \
         UPDATE audit_events SET seq = seq - 1 WHERE seq > 3;",
    );
    expect_fault(&path, 3, Fault::Missing).await;
}

#[tokio::test]
async fn a_forged_row_with_made_up_hashes_is_found_at_its_seq() {
    let (_dir, path) = log_of(5).await;
    tamper(
        &path,
        "INSERT INTO audit_events VALUES (6, '2026-03-01T00:00:00.000000Z', 'admin', \
         'client.created', 'backdoor', 'success', 'req-x', NULL, '{}', \
         randomblob(32), randomblob(32));",
    );
    expect_fault(&path, 6, Fault::Changed).await;
}

#[tokio::test]
async fn a_forged_row_with_valid_hashes_inserted_mid_log_is_found_inserted() {
    let (_dir, path) = log_of(5).await;
    let store = Store::open(&path).await.unwrap();
    let before = store.audit_events(1, 1).await.unwrap().remove(0);
    store.close().await;

    let forged = AuditEvent::from_new(
        3,
        before.event.time,
        NewEvent::new(
            "forger",
            action::ORDER_CANCELLED,
            "ord-9",
            Outcome::Success,
            "req-9",
        ),
    );
    let sealed = StoredEvent::seal(forged, &before.chain_hash);
    tamper(
        &path,
        &format!(
            "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 3; \
             UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000; \
             INSERT INTO audit_events VALUES (3, '{}', 'forger', 'order.cancelled', 'ord-9', \
             'success', 'req-9', NULL, '{{}}', X'{}', X'{}');",
            rampart_audit::time::format(&sealed.event.time),
            hex(&sealed.leaf_hash),
            hex(&sealed.chain_hash),
        ),
    );
    expect_fault(&path, 3, Fault::Inserted).await;
}

#[tokio::test]
async fn a_copied_row_appended_to_the_log_is_found_duplicated() {
    let (_dir, path) = log_of(5).await;
    tamper(
        &path,
        "INSERT INTO audit_events SELECT 6, time, actor, action, target, outcome, \
         request_id, policy_version, details, leaf_hash, chain_hash \
         FROM audit_events WHERE seq = 5;",
    );
    expect_fault(&path, 6, Fault::Duplicated).await;
}

#[tokio::test]
async fn two_swapped_rows_are_found_reordered_at_the_first() {
    let (_dir, path) = log_of(5).await;
    tamper(
        &path,
        "UPDATE audit_events SET seq = 1002 WHERE seq = 2; \
         UPDATE audit_events SET seq = 2 WHERE seq = 3; \
         UPDATE audit_events SET seq = 3 WHERE seq = 1002;",
    );
    expect_fault(&path, 2, Fault::Reordered).await;
}

#[tokio::test]
async fn a_rewritten_chain_hash_is_found_as_a_broken_link() {
    let (_dir, path) = log_of(5).await;
    tamper(
        &path,
        "UPDATE audit_events SET chain_hash = randomblob(32) WHERE seq = 2;",
    );
    expect_fault(&path, 2, Fault::BrokenLink).await;
}

#[tokio::test]
async fn a_row_that_cannot_be_read_is_named_by_its_seq() {
    let (_dir, path) = log_of(5).await;
    tamper(
        &path,
        "UPDATE audit_events SET time = '2026-03-01 00:00:00' WHERE seq = 4;",
    );
    match verify(&path).await {
        Err(AuditCheckError::Unreadable { seq }) => assert_eq!(seq, "4"),
        other => panic!("expected an unreadable row, got {other:?}"),
    }
}

#[tokio::test]
async fn the_database_runs_in_wal_mode_with_full_synchronous_writes() {
    let (_dir, path, store) = open_store().await;
    let durability = store.durability().await.unwrap();
    assert_eq!(durability.journal_mode, "wal");
    assert_eq!(durability.synchronous, 2, "synchronous must be FULL");
    assert!(durability.foreign_keys);
    store.close().await;
    assert_eq!(sqlite3(&path, "PRAGMA journal_mode;").trim(), "wal");
}

#[tokio::test]
async fn the_database_and_its_log_are_private_to_their_owner() {
    let (_dir, path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    tx.append(event(1)).await.unwrap();
    tx.commit().await.unwrap();
    let wal = path.with_extension("db-wal");
    for file in [&path, &wal] {
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
}

#[tokio::test]
async fn opening_a_database_in_a_missing_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("rampart.db");
    let error = Store::open(&path).await.unwrap_err();
    assert!(matches!(error, StoreError::File { .. }), "{error:?}");
    assert!(error.to_string().contains("rampart.db"));
}

#[tokio::test]
async fn a_database_path_that_is_a_directory_is_a_clear_error_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    std::fs::create_dir(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let error = Store::open(&path).await.unwrap_err();
    assert!(matches!(error, StoreError::File { .. }), "{error:?}");
    assert!(error.to_string().contains("rampart.db"));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755, "the directory's mode is untouched");
}

#[tokio::test]
async fn reopening_a_database_keeps_its_records() {
    let (_dir, path) = log_of(3).await;
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.audit_len().await.unwrap(), 3);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.append(event(4)).await.unwrap().seq, 4);
    tx.commit().await.unwrap();
    assert_eq!(verify_audit(&store, |_, _| {}).await.unwrap().events, 4);
}

#[tokio::test]
async fn opening_a_database_readable_by_others_makes_it_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open(&path).await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    store.ping().await.unwrap();
}
