//! Back-filling the stored subtree hashes of an audit log older than them, beside the writer.
//!
//! A log written before `audit_tree_nodes` existed has no stored subtree hashes; proofs and
//! roots compute the missing ones from the leaves meanwhile. The back-fill stores them in
//! steps, each a write transaction of its own over at most [`BLOCKS_PER_STEP`] blocks of
//! 256 leaves, so that it holds the writer for milliseconds at a time and the gateway's
//! appends queue between steps (the writer's lock is fair). Batches leave the blocks past
//! the back-fill to it (see `audit_tree`), so the stored blocks stay in order.
//!
//! It upholds that the log itself is untouched: only subtree hashes are written, each the
//! hash of stored leaves, and verification compares every one with the recomputed tree.

use tokio_util::sync::CancellationToken;

use crate::error::StoreError;
use crate::store::Store;

/// How many blocks of 256 leaves one step stores at most (65,536 leaves read back).
const BLOCKS_PER_STEP: u64 = 256;

/// How many steps pass between two progress lines in the log.
const STEPS_PER_REPORT: u64 = 64;

impl Store {
    /// Stores the subtree hashes the audit log lacks, in short write transactions, until
    /// every complete block is stored or `stop` is cancelled; how many steps it took.
    pub async fn back_fill_audit_tree(&self, stop: &CancellationToken) -> Result<u64, StoreError> {
        let (next, complete) = self.audit_tree_lag().await?;
        if next >= complete {
            return Ok(0);
        }
        tracing::info!(
            stored = next,
            blocks = complete,
            "back-filling the audit tree"
        );
        let mut steps = 0u64;
        while !stop.is_cancelled() {
            let done = self.back_fill_step().await?;
            steps = steps.saturating_add(1);
            if done {
                tracing::info!(steps, blocks = complete, "audit tree back-filled");
                break;
            }
            if steps % STEPS_PER_REPORT == 0 {
                let stored = next.saturating_add(steps.saturating_mul(BLOCKS_PER_STEP));
                tracing::info!(stored, blocks = complete, "back-filling the audit tree");
            }
            tokio::task::yield_now().await;
        }
        Ok(steps)
    }

    /// The first block without a stored hash and the log's complete blocks, as a reader
    /// sees them: no write transaction is taken when nothing is missing.
    async fn audit_tree_lag(&self) -> Result<(u64, u64), StoreError> {
        let mut conn = self.reader().await?;
        let len = crate::audit::head_seq(&mut conn).await?;
        crate::audit_tree::lag(&mut conn, len).await
    }

    /// Stores the hashes of the next blocks in one write transaction; whether all are in.
    async fn back_fill_step(&self) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let conn = &mut *tx.tx;
        let len = crate::audit::head_seq(conn).await?;
        let done = crate::audit_tree::back_fill(conn, len, BLOCKS_PER_STEP).await?;
        tx.commit().await?;
        Ok(done)
    }
}
