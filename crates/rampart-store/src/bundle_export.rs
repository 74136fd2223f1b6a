//! Exporting a range of the audit log as a self-contained bundle (see `rampart_audit::bundle`).
//!
//! The bundle holds the events `from..=to`, the latest checkpoint (which must cover `to`),
//! the checkpoint at or before `from - 1` if there is one, and the stored leaf hashes of
//! the tree up to the latest checkpoint. It upholds that only checkpointed, durable events
//! are exported: a range past the latest checkpoint is refused, so that every exported
//! event is proven by a signature.

use std::path::Path;

use rampart_audit::{AuditEvent, Bundle, BundleError, CheckpointVerifier};

use crate::error::StoreError;
use crate::store::Store;

/// How many events are read at a time.
const PAGE: u32 = 1000;

/// Why a bundle could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The bundle could not be written.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The range is empty or starts before the first event.
    #[error("`from` must be at least 1 and at most `to`, not {from} to {to}")]
    Range {
        /// The first `seq` asked for.
        from: u64,
        /// The last `seq` asked for.
        to: u64,
    },
    /// No checkpoint covers the end of the range yet.
    #[error("no checkpoint covers event {to} yet (latest covers {latest}); make one first")]
    Uncovered {
        /// The last `seq` asked for.
        to: u64,
        /// The latest checkpoint's size (0 when there is none).
        latest: u64,
    },
}

impl Store {
    /// Writes the bundle of events `from..=to` into the new directory `dir`.
    ///
    /// `verifier` is the checkpoint key written into the bundle; it must verify the stored
    /// checkpoints, which is checked before anything is written.
    pub async fn export_bundle(
        &self,
        dir: &Path,
        from: u64,
        to: u64,
        verifier: &CheckpointVerifier,
    ) -> Result<(u64, u64), ExportError> {
        if from == 0 || from > to {
            return Err(ExportError::Range { from, to });
        }
        let latest = self.latest_checkpoint().await?;
        let Some(latest) = latest.filter(|c| c.checkpoint.tree_size >= to) else {
            let latest = self.latest_checkpoint().await?;
            let covered = latest.map_or(0, |c| c.checkpoint.tree_size);
            return Err(ExportError::Uncovered {
                to,
                latest: covered,
            });
        };
        let mut checkpoints = Vec::new();
        if let Some(before) = self.checkpoint_at_or_before(from.saturating_sub(1)).await? {
            if before.checkpoint.tree_size > 0 && before != latest {
                checkpoints.push(before);
            }
        }
        checkpoints.push(latest);
        for signed in &checkpoints {
            verifier.verify(&signed.text).map_err(|_| {
                ExportError::Bundle(BundleError::Input(
                    "the key does not verify the stored checkpoints",
                ))
            })?;
        }

        let size = checkpoints.last().map_or(0, |c| c.checkpoint.tree_size);
        let leaves = self.audit_leaf_hashes(0..size).await?;
        let events = self.events_between(from, to).await?;
        let bundle = Bundle {
            checkpoints: &checkpoints,
            leaves: &leaves,
            verifier,
        };
        Ok(bundle.write(dir, events)?)
    }

    /// The events `from..=to`, in order.
    async fn events_between(&self, from: u64, to: u64) -> Result<Vec<AuditEvent>, StoreError> {
        let mut events = Vec::new();
        let mut after = from.saturating_sub(1);
        while after < to {
            let page = self.audit_events(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.event.seq;
            events.extend(
                page.into_iter()
                    .map(|stored| stored.event)
                    .take_while(|event| event.seq <= to),
            );
        }
        Ok(events)
    }
}
