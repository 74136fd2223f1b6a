//! What a starting gateway has opened so far, and closing it when a later step fails.
//!
//! Rule upheld: a start that fails leaves nothing running and nothing open. The audit tasks
//! stop first, then the background tasks, then the secret store and the database close: the
//! order a failed start has always closed them in.

use std::sync::Arc;

use rampart_store::Store;

use super::StartError;
use super::background::Background;
use crate::audit_tasks::AuditTasks;
use crate::init::DataDir;
use crate::secrets::GatewaySecrets;

/// Tasks a start has begun, stopped before the stores close.
pub(super) trait Tasks {
    /// Stops the tasks, newest last.
    async fn stop(self);
}

impl Tasks for () {
    async fn stop(self) {}
}

impl Tasks for AuditTasks {
    async fn stop(self) {
        AuditTasks::stop(self).await;
    }
}

impl Tasks for (AuditTasks, Background) {
    async fn stop(self) {
        let (audit_tasks, background) = self;
        audit_tasks.stop().await;
        background.stop().await;
    }
}

/// The secret store and the database of a start, with the tasks `T` begun since.
pub(super) struct Opened<T> {
    /// The tasks begun so far.
    pub(super) tasks: T,
    secrets: Arc<GatewaySecrets>,
    store: Store,
}

impl Opened<()> {
    /// What is open once the data directory is: its secret store and its database.
    pub(super) fn new(data: &DataDir) -> Self {
        Self {
            tasks: (),
            secrets: Arc::clone(&data.secrets),
            store: data.store.clone(),
        }
    }

    /// Adds the started audit tasks.
    pub(super) fn with_audit(self, audit_tasks: AuditTasks) -> Opened<AuditTasks> {
        Opened {
            tasks: audit_tasks,
            secrets: self.secrets,
            store: self.store,
        }
    }
}

impl Opened<AuditTasks> {
    /// Adds the spawned background tasks.
    pub(super) fn with_background(
        self,
        background: Background,
    ) -> Opened<(AuditTasks, Background)> {
        Opened {
            tasks: (self.tasks, background),
            secrets: self.secrets,
            store: self.store,
        }
    }
}

impl<T: Tasks> Opened<T> {
    /// Passes on the value of a step that succeeded; closes everything when it failed.
    pub(super) async fn check<V, E>(self, step: Result<V, E>) -> Result<(Self, V), StartError>
    where
        E: Into<StartError>,
    {
        match step {
            Ok(value) => Ok((self, value)),
            Err(error) => Err(self.abandon(error.into()).await),
        }
    }

    /// Stops the tasks, closes the secret store and the database, and hands back `error`.
    async fn abandon(self, error: StartError) -> StartError {
        self.tasks.stop().await;
        self.secrets.close().await;
        self.store.close().await;
        error
    }
}
