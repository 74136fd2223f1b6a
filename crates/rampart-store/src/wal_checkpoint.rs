//! Copying the write-ahead log into the database beside the writer, not inside its commits.
//!
//! SQLite checkpoints the WAL inside the commit that makes it long enough, which stalls
//! every transaction of that group commit for as long as the copy takes. A background
//! task instead runs a `PASSIVE` checkpoint on a reader connection a few times a second:
//! it copies what no reader still needs while the writer goes on appending, so the
//! writer's own automatic checkpoint, kept as a backstop, finds little or nothing to do.
//!
//! It upholds that durability is unchanged: a checkpoint only copies frames that are
//! already durable in the WAL, and `synchronous=FULL` still applies to every commit.

use std::time::Duration;

use sqlx::{Executor, SqlitePool};

/// How often the background checkpoint runs.
const INTERVAL: Duration = Duration::from_millis(100);

/// Starts checkpointing the WAL of `readers`' database until the pool is closed.
pub(crate) fn spawn(readers: SqlitePool) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if readers.is_closed() {
                return;
            }
            // A busy database or a closing pool just skips this round.
            if let Err(error) = readers.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                tracing::debug!(%error, "background WAL checkpoint skipped");
            }
        }
    });
}
