//! A gateway that is serving: what it tells its caller, and how it stops.
//!
//! Rule upheld: shutdown is graceful: requests drain, order work that outlived its
//! request finishes, every reported fill is recorded and `gateway.stopped` is appended
//! before the store closes.

use std::net::SocketAddr;
use std::path::Path;

use rampart_audit::{Outcome, action};
use rampart_store::Store;

use super::{Gateway, RunningGateway, StartError};
use crate::config::Config;
use crate::init::SYSTEM_ACTOR;
use crate::request_id;
use crate::service::audit;

impl RunningGateway {
    /// The address the listener is bound to (the real port when 0 was configured).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The issuer URL of the tokens this gateway signs (its public URL unless configured).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The development CA certificate clients should trust, when it is in use.
    pub fn ca_pem_path(&self) -> Option<&Path> {
        self.ca_pem_path.as_deref()
    }

    /// The store, for the command line and tests.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The bootstrap administrator's one-time password, only on the start that created it.
    pub fn take_bootstrap_password(&mut self) -> Option<secrecy::SecretString> {
        self.bootstrap_password.take()
    }

    /// Waits until the listener stops on its own (an I/O failure).
    pub async fn wait(&mut self) -> std::io::Result<()> {
        match (&mut self.server).await {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join.to_string())),
        }
    }

    /// Stops gracefully: drains requests, stops the broker, records pending fills, closes.
    pub async fn shutdown(self) -> Result<(), StartError> {
        self.state.begin_shutdown();
        self.handle.graceful_shutdown(Some(self.grace));
        if let Ok(Err(error)) = self.server.await {
            tracing::error!(%error, "listener failed while stopping");
        }
        // Work that outlived its request (an order being executed, a cancellation)
        // holds the order gate; waiting for it means its audit events are written.
        let drained = tokio::time::timeout(self.grace, self.state.order_gate.write()).await;
        if drained.is_err() {
            tracing::error!("order work still running after the grace period");
        }

        self.background.stop().await;

        let event = request_id::scope(request_id::generate(), async {
            audit::event(
                SYSTEM_ACTOR,
                action::GATEWAY_STOPPED,
                "gateway",
                Outcome::Success,
            )
        })
        .await;
        audit::append(&self.state.store, event).await?;
        self.audit_tasks.stop().await;
        self.state.secrets.secrets.close().await;
        self.state.store.close().await;
        tracing::info!(addr = %self.addr, "gateway stopped");
        Ok(())
    }
}

/// Starts a gateway and shuts it down on SIGTERM or Ctrl-C.
pub async fn run_until_signal(config: Config) -> Result<(), StartError> {
    Gateway::start(config).await?.run_until_signal().await
}

impl RunningGateway {
    /// Serves until SIGTERM or Ctrl-C, or until the listener fails, then shuts down gracefully.
    pub async fn run_until_signal(mut self) -> Result<(), StartError> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).map_err(StartError::Signal)?;
        tracing::info!(addr = %self.addr(), "gateway listening");
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM received; shutting down"),
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupt received; shutting down"),
            result = self.wait() => {
                if let Err(error) = result {
                    tracing::error!(%error, "listener stopped");
                }
            }
        }
        self.shutdown().await
    }
}
