//! The audit log's background tasks: signed checkpoints and forwarding to a SIEM.
//!
//! Started once the store is open, before the listener, so that a log found
//! truncated or rolled back against its exported checkpoints stops the gateway
//! at start. Stopped after the last event of a graceful shutdown
//! (`gateway.stopped`) was committed: the checkpointer signs a final checkpoint
//! covering it, and the forwarders deliver it, before the store closes.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rampart_audit::CheckpointSigner;
use rampart_store::{CheckpointPolicy, Checkpointer, CheckpointerError, Store};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::forward::{self, ForwardError};

/// Why the audit tasks could not start.
#[derive(Debug, thiserror::Error)]
pub enum AuditTaskError {
    /// The checkpointer refused the log or its export directory.
    #[error("audit checkpoints: {0}")]
    Checkpointer(#[from] CheckpointerError),
    /// A forwarder could not start.
    #[error(transparent)]
    Forward(#[from] ForwardError),
}

/// The running audit tasks.
pub struct AuditTasks {
    shutdown: CancellationToken,
    checkpointer: JoinHandle<()>,
    forwarders: Vec<JoinHandle<()>>,
}

impl AuditTasks {
    /// Checks the log against its checkpoints, then starts the checkpointer and forwarders.
    pub async fn start(
        config: &Config,
        data_dir: &Path,
        store: &Store,
        signer: Arc<CheckpointSigner>,
    ) -> Result<Self, AuditTaskError> {
        let checkpointer =
            Checkpointer::new(store.clone(), signer, policy(config, data_dir)).await?;
        let shutdown = CancellationToken::new();
        let forwarders = forward::spawn(&config.audit.forward, data_dir, store, &shutdown)?;
        Ok(Self {
            checkpointer: tokio::spawn(checkpointer.run(shutdown.clone())),
            shutdown,
            forwarders,
        })
    }

    /// Stops every task once the final checkpoint is signed and what is committed delivered.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.checkpointer.await;
        for task in self.forwarders {
            let _ = task.await;
        }
    }
}

/// The checkpoint policy the configuration asks for.
pub fn policy(config: &Config, data_dir: &Path) -> CheckpointPolicy {
    let audit = &config.audit;
    CheckpointPolicy {
        every_events: audit.checkpoint_every_events,
        every: Duration::from_secs(audit.checkpoint_every_seconds),
        export_dir: Some(audit.export_dir(data_dir)),
        origin: audit.origin(&config.issuer()),
    }
}
