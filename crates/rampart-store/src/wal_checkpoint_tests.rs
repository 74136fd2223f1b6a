use std::path::Path;
use std::time::Duration;

use rampart_audit::{NewEvent, Outcome, action};
use serde_json::json;
use sqlx::sqlite::SqlitePoolOptions;

use super::spawn;
use crate::store::Store;

/// Longest wait for the background task; it runs every 100 ms.
const PATIENCE: Duration = Duration::from_secs(5);

async fn append(store: &Store, count: u64) {
    let mut tx = store.begin().await.unwrap();
    for n in 0..count {
        let event = NewEvent::new(
            "client-1",
            action::ORDER_ACCEPTED,
            "order",
            Outcome::Success,
            "r",
        )
        .details(json!({ "n": n, "pad": "x".repeat(200) }));
        tx.append(event).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// Whether every page of the database is already in the main file, not only in the WAL.
fn fully_checkpointed(path: &Path) -> bool {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let conn = rusqlite::Connection::open_with_flags(path, flags).unwrap();
    let pages: u64 = conn
        .query_row("PRAGMA page_count", [], |row| row.get(0))
        .unwrap();
    let size: u64 = conn
        .query_row("PRAGMA page_size", [], |row| row.get(0))
        .unwrap();
    std::fs::metadata(path).unwrap().len() >= pages * size
}

async fn pool() -> sqlx::SqlitePool {
    SqlitePoolOptions::new()
        .connect("sqlite::memory:")
        .await
        .unwrap()
}

#[tokio::test]
async fn appended_frames_are_copied_into_the_database_without_a_writer_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    let store = Store::open(&path).await.unwrap();
    append(&store, 400).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !fully_checkpointed(&path) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the WAL was never checkpointed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    store.close().await;
}

#[tokio::test]
async fn the_checkpoint_task_ends_when_it_is_stopped() {
    let (checkpointing, task) = spawn(pool().await);
    checkpointing.stop();
    tokio::time::timeout(PATIENCE, task).await.unwrap().unwrap();
}

#[tokio::test]
async fn the_checkpoint_task_ends_when_its_handle_is_dropped() {
    let (checkpointing, task) = spawn(pool().await);
    drop(checkpointing);
    tokio::time::timeout(PATIENCE, task).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_running_checkpoint_task_keeps_running() {
    let (checkpointing, task) = spawn(pool().await);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(!task.is_finished());
    drop(checkpointing);
}
