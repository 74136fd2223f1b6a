//! Copying the write-ahead log into the database beside the writer, not inside its commits.
//!
//! SQLite checkpoints the WAL inside the commit that makes it long enough, which stalls
//! every transaction of that group commit for as long as the copy takes. A background
//! task instead runs a `PASSIVE` checkpoint on a reader connection a few times a second:
//! it copies what no reader still needs while the writer goes on appending, so the
//! writer's own automatic checkpoint, kept as a backstop, finds little or nothing to do.
//!
//! It upholds that durability is unchanged: a checkpoint only copies frames that are
//! already durable in the WAL, and `synchronous=FULL` still applies to every commit. The
//! task lives no longer than its store: it stops when the store is closed or dropped.

use std::time::Duration;

use sqlx::{Executor, SqlitePool};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often the background checkpoint runs.
const INTERVAL: Duration = Duration::from_millis(100);

/// The running background checkpoint; stopping or dropping it ends the task.
#[derive(Debug)]
pub(crate) struct Checkpointing {
    stop: CancellationToken,
}

impl Checkpointing {
    /// Ends the task at its next turn.
    pub(crate) fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for Checkpointing {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Starts checkpointing the WAL of `readers`' database until stopped or the pool closes.
pub(crate) fn spawn(readers: SqlitePool) -> (Checkpointing, JoinHandle<()>) {
    let stop = CancellationToken::new();
    let task = tokio::spawn(run(readers, stop.clone()));
    (Checkpointing { stop }, task)
}

async fn run(readers: SqlitePool, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        if readers.is_closed() {
            return;
        }
        match readers.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("background WAL checkpoint works again");
            }
            Ok(_) => {}
            Err(sqlx::Error::PoolClosed) => return,
            // Warned once per run of failures; the writer's own checkpoint still runs.
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "background WAL checkpoint failed");
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
#[path = "wal_checkpoint_tests.rs"]
mod tests;
