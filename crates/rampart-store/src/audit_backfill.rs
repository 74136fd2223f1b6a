//! Back-filling the stored subtree hashes of an audit log older than them, beside the writer.
//!
//! A log written before `audit_tree_nodes` existed has no stored subtree hashes; proofs and
//! roots compute the missing ones from their children meanwhile. The back-fill stores them
//! in steps of at most [`BLOCKS_PER_STEP`] blocks of 256 leaves. A step reads the blocks'
//! leaves from a reader connection and hashes them on a blocking thread, outside the
//! writer (stored leaves never change); it then takes the writer only to re-check that the
//! next block is still missing and to `INSERT OR IGNORE` the block hashes and the parents
//! they complete, so that it holds the writer for about a millisecond (the longest hold is
//! in [`BackFillReport`] and in the log). It pauses between steps, so that the gateway's
//! appends queue in between (the writer's lock is fair). Batches leave the blocks past the
//! back-fill to it (see `audit_tree`), so the stored blocks stay in order.
//!
//! A failed step (a busy database, or a group commit failed by another unit) is tried
//! again after a backoff that doubles up to [`LAST_RETRY`]. What no retry mends
//! stops the back-fill, and verification names it: leaves missing from the log,
//! or a stored leaf or subtree hash that cannot be read back. It upholds that
//! the log itself is untouched: only subtree hashes are written, each the hash
//! of stored leaves, and verification compares every one with the recomputed tree.

use std::collections::HashMap;
use std::ops::Range;
use std::time::{Duration, Instant};

use rampart_audit::merkle;
use rampart_audit::subtree::Subtree;
use tokio_util::sync::CancellationToken;

use crate::audit_tree::{self, STORED_LEVEL};
use crate::error::StoreError;
use crate::store::Store;

/// How many blocks of 256 leaves one step stores at most (65,536 leaves read back).
const BLOCKS_PER_STEP: u64 = 256;

/// How many steps pass between two progress lines in the log.
const STEPS_PER_REPORT: u64 = 64;

/// How long the back-fill leaves the writer alone between two steps.
const PAUSE: Duration = Duration::from_millis(2);

/// How long the back-fill waits before trying a failed step again the first time.
const FIRST_RETRY: Duration = Duration::from_millis(50);

/// The longest wait before trying a failed step again.
const LAST_RETRY: Duration = Duration::from_secs(30);

/// What a back-fill did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackFillReport {
    /// How many steps stored subtree hashes.
    pub steps: u64,
    /// How many failed steps were tried again.
    pub retries: u64,
    /// The longest time one step held the writer.
    pub longest_hold: Duration,
}

/// How a step left the back-fill.
enum Step {
    /// Blocks remain to be stored.
    More,
    /// Every complete block is stored.
    Done,
}

impl Store {
    /// Stores the subtree hashes the audit log lacks, in short steps, until every complete
    /// block is stored or `stop` is cancelled; a failed step is tried again after a backoff.
    ///
    /// It fails only on what no retry mends: leaves missing from the log,
    /// or a stored leaf or subtree hash that cannot be read back.
    pub async fn back_fill_audit_tree(
        &self,
        stop: &CancellationToken,
    ) -> Result<BackFillReport, StoreError> {
        let mut report = BackFillReport::default();
        let mut retry = FIRST_RETRY;
        while !stop.is_cancelled() {
            let wait = match self.back_fill_step(&mut report).await {
                Ok(Step::Done) => break,
                Ok(Step::More) => {
                    retry = FIRST_RETRY;
                    PAUSE
                }
                Err(error @ StoreError::Corrupt { .. }) => return Err(error),
                Err(error) => retried(&mut report, &mut retry, &error),
            };
            pause(stop, wait).await;
        }
        if report.steps > 0 {
            let held_us = report.longest_hold.as_micros();
            tracing::info!(report.steps, held_us, "audit tree back-fill ended");
        }
        Ok(report)
    }

    /// Stores the hashes of the next blocks, if any are missing.
    async fn back_fill_step(&self, report: &mut BackFillReport) -> Result<Step, StoreError> {
        let (next, complete) = self.audit_tree_lag().await?;
        if next >= complete {
            return Ok(Step::Done);
        }
        let until = complete.min(next.saturating_add(BLOCKS_PER_STEP));
        let hashes = self.hash_blocks(next..until).await?;
        let (done, held) = self.store_blocks(next, &hashes).await?;
        // Logged once the step stored: a failed one leaves `steps` as it
        // was, so a line logged before it would come again on each retry.
        if report.steps % STEPS_PER_REPORT == 0 {
            let (stored, blocks) = (until, complete);
            tracing::info!(stored, blocks, "back-filling the audit tree");
        }
        report.steps = report.steps.saturating_add(1);
        report.longest_hold = report.longest_hold.max(held);
        let held_us = held.as_micros();
        tracing::debug!(blocks = hashes.len(), held_us, "audit tree back-fill step");
        Ok(if done { Step::Done } else { Step::More })
    }

    /// The first block without a stored hash and the log's complete blocks, as a reader
    /// sees them.
    async fn audit_tree_lag(&self) -> Result<(u64, u64), StoreError> {
        let mut conn = self.reader().await?;
        let len = crate::audit::head_seq(&mut conn).await?;
        audit_tree::lag(&mut conn, len).await
    }

    /// The hashes of `blocks`, read from a reader and hashed on a blocking thread.
    async fn hash_blocks(&self, blocks: Range<u64>) -> Result<Vec<[u8; 32]>, StoreError> {
        let leaves = blocks.start << STORED_LEVEL..blocks.end << STORED_LEVEL;
        let read =
            crate::checkpoints::leaf_hashes(&mut *self.reader().await?, leaves.clone()).await?;
        let found = u64::try_from(read.len()).unwrap_or(u64::MAX);
        if found != leaves.end - leaves.start {
            return Err(StoreError::Corrupt {
                table: "audit_events",
                key: leaves
                    .start
                    .saturating_add(found)
                    .saturating_add(1)
                    .to_string(),
            });
        }
        tokio::task::spawn_blocking(move || {
            read.chunks(1 << STORED_LEVEL).map(merkle::root).collect()
        })
        .await
        .map_err(|_| StoreError::HashingStopped)
    }

    /// Stores the hashes of the blocks from `next` on in one write transaction, unless
    /// another has stored them meanwhile; whether every complete block is then stored, and
    /// how long it held the writer.
    async fn store_blocks(
        &self,
        next: u64,
        hashes: &[[u8; 32]],
    ) -> Result<(bool, Duration), StoreError> {
        let mut tx = self.begin().await?;
        let started = Instant::now();
        let conn = &mut *tx.tx;
        if audit_tree::next_block(conn).await? == next {
            let mut frontier = HashMap::new();
            for (index, hash) in (next..).zip(hashes) {
                let block = Subtree {
                    level: STORED_LEVEL,
                    index,
                };
                audit_tree::store_with_parents(conn, &mut frontier, block, *hash).await?;
            }
        }
        let complete = crate::audit::head_seq(conn).await? >> STORED_LEVEL;
        let stored = audit_tree::next_block(conn).await?;
        // Committing a unit gives the writer up before the batch's `COMMIT` is waited for.
        let held = started.elapsed();
        tx.commit().await?;
        Ok((stored >= complete, held))
    }
}

/// Logs a failed step and gives the wait before the next try, doubling `retry`.
fn retried(report: &mut BackFillReport, retry: &mut Duration, error: &StoreError) -> Duration {
    report.retries = report.retries.saturating_add(1);
    let wait = *retry;
    *retry = retry.saturating_mul(2).min(LAST_RETRY);
    let retry_ms = wait.as_millis();
    tracing::warn!(%error, retry_ms, "audit tree back-fill step failed; trying it again");
    wait
}

/// Waits `wait`, or until `stop` is cancelled.
async fn pause(stop: &CancellationToken, wait: Duration) {
    tokio::select! {
        () = stop.cancelled() => {}
        () = tokio::time::sleep(wait) => {}
    }
}
