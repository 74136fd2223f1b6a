//! Verification against a live log: it reads page by page in short read transactions, so
//! the write-ahead log is checkpointed while it runs, it covers the log as it stood when it
//! began, and stored subtree hashes are compared as the scan reaches them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::sqlite3;
use rampart_audit::{LogError, NewEvent, Outcome, action};
use rampart_store::{AuditCheckError, Store, verify_audit};
use serde_json::json;

/// How many events one page of the verification scan holds.
const PAGE: u64 = 8192;

/// What `PRAGMA wal_checkpoint(PASSIVE)` answered: busy, frames in the WAL, frames copied.
type Checkpointed = (i64, i64, i64);

fn event(n: u64) -> NewEvent {
    NewEvent::new(
        "client-1",
        action::ORDER_ACCEPTED,
        format!("order:{n}"),
        Outcome::Success,
        "r",
    )
    .details(json!({ "n": n }))
}

/// Appends events `from` to `to`, `per_tx` to a transaction.
async fn append(store: &Store, from: u64, to: u64, per_tx: usize) {
    let numbers: Vec<u64> = (from..=to).collect();
    for chunk in numbers.chunks(per_tx) {
        let mut tx = store.begin().await.unwrap();
        for n in chunk {
            tx.append(event(*n)).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
}

/// A store holding `count` events.
async fn store_of(count: u64) -> (tempfile::TempDir, PathBuf, Store) {
    let (dir, path, store) = common::open_store().await;
    append(&store, 1, count, 2000).await;
    (dir, path, store)
}

/// A passive checkpoint from a connection of its own, tried until every frame of the WAL
/// is copied or 15 seconds pass; the last answer. It is busy, and tried again, while the
/// store's own checkpoint runs, and copies less while the scan reads its next page (one
/// short read transaction, slow only in an unoptimised build on a loaded machine).
fn checkpoint_everything(path: &Path) -> Checkpointed {
    checkpoint_tries(path, 750)
}

/// A passive checkpoint tried up to `tries` times, 20 ms apart, until it copies everything.
fn checkpoint_tries(path: &Path, tries: u32) -> Checkpointed {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut answer = (0, 0, 0);
    for _ in 0..tries {
        answer = conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .unwrap();
        if answer.0 == 0 && answer.1 == answer.2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    answer
}

/// Verifies the log, running `during` once, from the progress report of the first page,
/// while the verification waits for it; the outcome and what `during` returned.
async fn verify_pausing<T, F>(store: &Store, during: F) -> (Result<u64, AuditCheckError>, Option<T>)
where
    T: Send + 'static,
    F: FnOnce(&Store) -> T + Send + 'static,
{
    let answer = Arc::new(Mutex::new(None));
    let (store, seen) = (store.clone(), answer.clone());
    let verified = tokio::spawn(async move {
        let writer = store.clone();
        let mut during = Some(during);
        let summary = verify_audit(&store, move |_, _| {
            if let Some(during) = during.take() {
                // Blocks the verification here, as a slow consumer would.
                let done = tokio::task::block_in_place(|| during(&writer));
                *seen.lock().unwrap() = Some(done);
            }
        })
        .await;
        summary.map(|summary| summary.events)
    });
    let events = verified.await.unwrap();
    let during = answer.lock().unwrap().take();
    (events, during)
}

/// While the verification waits after its first page, the gateway appends events
/// `first` to `first + appended - 1` and a passive checkpoint runs; its answer.
async fn verify_pausing_to_append(
    store: &Store,
    path: &Path,
    first: u64,
    appended: u64,
) -> (Result<u64, AuditCheckError>, Option<Checkpointed>) {
    let path = path.to_owned();
    verify_pausing(store, move |writer| {
        let handle = tokio::runtime::Handle::current();
        handle.block_on(append(writer, first, first + appended - 1, 100));
        checkpoint_everything(&path)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verification_paused_mid_scan_lets_the_wal_be_checkpointed_while_the_log_grows() {
    let logged = 6 * PAGE;
    let (_dir, path, store) = store_of(logged).await;

    let (events, checkpointed) = verify_pausing_to_append(&store, &path, logged + 1, 600).await;

    let (busy, frames, copied) = checkpointed.expect("the verification reported progress");
    assert_eq!(busy, 0);
    assert!(frames > 0, "the appends wrote to the WAL");
    assert_eq!(
        copied, frames,
        "every WAL frame is copied while the verification waits"
    );
    assert_eq!(events.unwrap(), logged, "it covers the log as it began");
    store.close().await;
}

#[tokio::test]
async fn a_read_transaction_held_across_appends_keeps_the_wal_from_being_checkpointed() {
    // The control of the test above: a scan in one read transaction pins the WAL.
    let (_dir, path, store) = store_of(2000).await;
    let reader = rusqlite::Connection::open(&path).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM audit_events", [], |row| row.get(0))
        .unwrap();
    append(&store, 2001, 2600, 100).await;

    let (busy, frames, copied) = checkpoint_tries(&path, 5);
    assert_eq!(busy, 0);
    assert!(copied < frames, "{copied} of {frames} frames copied");
    reader.execute_batch("COMMIT").unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_subtrees_appended_during_a_verification_are_verified_by_the_next_one() {
    let logged = 3 * PAGE;
    let (_dir, path, store) = store_of(logged).await;

    let (events, _) = verify_pausing_to_append(&store, &path, logged + 1, 1000).await;
    assert_eq!(events.unwrap(), logged);

    let nodes = sqlite3(
        &path,
        &format!("SELECT count(*) FROM audit_tree_nodes WHERE (idx + 1) << level > {logged};"),
    );
    assert_ne!(nodes.trim(), "0", "the appends completed stored subtrees");
    let summary = verify_audit(&store, |_, _| {}).await.unwrap();
    assert_eq!(summary.events, logged + 1000);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_slipped_in_behind_the_scan_is_found_by_counting_up_to_where_it_began() {
    let logged = 4 * PAGE;
    let (_dir, path, store) = store_of(logged).await;

    let (events, _) = verify_pausing(&store, move |_| {
        sqlite3(
            &path,
            "PRAGMA ignore_check_constraints = ON; \
             INSERT INTO audit_events (seq, time, actor, action, target, outcome, request_id, \
             policy_version, details, leaf_hash, chain_hash) \
             SELECT -5, time, actor, action, target, outcome, request_id, policy_version, \
             details, leaf_hash, chain_hash FROM audit_events WHERE seq = 1;",
        )
    })
    .await;

    let error = events.unwrap_err();
    assert!(
        matches!(
            error,
            AuditCheckError::Incomplete { verified, expected }
                if verified == logged && expected == logged + 1
        ),
        "{error:?}"
    );
    store.close().await;
}

#[tokio::test]
async fn a_changed_subtree_hash_read_with_a_later_page_is_named() {
    let (_dir, path, store) = store_of(3 * PAGE).await;
    store.close().await;
    // Level 10 (1024 events), index 17: events 17409 to 18432, in the third page.
    sqlite3(
        &path,
        "DROP TRIGGER audit_tree_nodes_no_update; \
         UPDATE audit_tree_nodes SET hash = zeroblob(32) WHERE level = 10 AND idx = 17;",
    );
    let store = Store::open(&path).await.unwrap();
    let error = verify_audit(&store, |_, _| {}).await.unwrap_err();
    assert!(
        matches!(
            error,
            AuditCheckError::Log(LogError::NodeMismatch {
                level: 10,
                index: 17,
                first: 17409,
                last: 18432
            })
        ),
        "{error:?}"
    );
    store.close().await;
}

#[tokio::test]
async fn a_subtree_hash_that_spans_two_pages_is_compared() {
    let (_dir, path, store) = store_of(3 * PAGE).await;
    store.close().await;
    // Level 14 (16384 events), index 0: the first two pages.
    sqlite3(
        &path,
        "DROP TRIGGER audit_tree_nodes_no_update; \
         UPDATE audit_tree_nodes SET hash = zeroblob(32) WHERE level = 14 AND idx = 0;",
    );
    let store = Store::open(&path).await.unwrap();
    let error = verify_audit(&store, |_, _| {}).await.unwrap_err();
    assert!(
        matches!(
            error,
            AuditCheckError::Log(LogError::NodeMismatch {
                level: 14,
                index: 0,
                ..
            })
        ),
        "{error:?}"
    );
    store.close().await;
}

#[tokio::test]
async fn a_subtree_hash_with_a_negative_index_is_unreadable() {
    let (_dir, path, store) = store_of(600).await;
    store.close().await;
    sqlite3(
        &path,
        "PRAGMA ignore_check_constraints = ON; \
         INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (9, -3, zeroblob(32));",
    );
    let store = Store::open(&path).await.unwrap();
    let error = verify_audit(&store, |_, _| {}).await.unwrap_err();
    assert!(
        matches!(&error, AuditCheckError::UnreadableNode { node } if node == "9/-3"),
        "{error:?}"
    );
    store.close().await;
}

#[tokio::test]
async fn a_subtree_hash_above_every_level_of_a_tree_is_past_the_end() {
    let (_dir, path, store) = store_of(600).await;
    store.close().await;
    sqlite3(
        &path,
        "PRAGMA ignore_check_constraints = ON; \
         INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (70, 0, zeroblob(32));",
    );
    let store = Store::open(&path).await.unwrap();
    let error = verify_audit(&store, |_, _| {}).await.unwrap_err();
    assert!(
        matches!(
            error,
            AuditCheckError::Log(LogError::NodeBeyondLog {
                level: 70,
                index: 0,
                ..
            })
        ),
        "{error:?}"
    );
    store.close().await;
}
