//! The secrets a running gateway manages: one rotation at a time, on demand or on schedule.
//!
//! Rule upheld: rotation never races itself. Every rotation, whether asked for
//! over the API or found due by the scheduler, holds one lock, so the store's
//! current/pending/previous versions move one step at a time. The scheduler
//! also brings the keyring in line with the store on every tick, so that a key
//! rotated from the command line is published here before it signs, and a
//! retired key leaves the JWKS once its last token has expired.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rampart_auth::Keyring;
use rampart_secrets::{RotationPolicy, SecretMeta};
use rampart_trading::Broker;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::secrets::GatewaySecrets;
use crate::secrets::audit::{SYSTEM_ACTOR, as_actor};
use crate::secrets::rotation::{self, RotateError, Rotation};
use crate::secrets::signing::{self, KeyTiming};

/// The secret store of a running gateway and the secrets it rotates.
pub struct ManagedSecrets {
    /// The audited secret store.
    pub secrets: Arc<GatewaySecrets>,
    /// The managed secrets and their policies.
    pub managed: Vec<(String, RotationPolicy)>,
    /// The name of the broker credential in the store.
    pub broker_credential: String,
    /// Signing-key timing.
    pub timing: KeyTiming,
    /// How often the scheduler looks.
    pub check_interval: Duration,
    lock: Mutex<()>,
}

impl ManagedSecrets {
    /// The managed secrets of `config` in `secrets`.
    pub fn new(config: &Config, secrets: Arc<GatewaySecrets>, broker: &dyn Broker) -> Self {
        Self {
            secrets,
            managed: rotation::managed(config, broker.uses_credential()),
            broker_credential: rotation::broker_credential(config),
            timing: rotation::timing(config),
            check_interval: Duration::from_secs(config.secrets.check_interval_seconds),
            lock: Mutex::new(()),
        }
    }

    /// Rotates `name` now, as `actor`, taking the new value into use in `keyring` and `broker`.
    pub async fn rotate(
        &self,
        actor: &str,
        name: &str,
        keyring: &Keyring,
        broker: &dyn Broker,
    ) -> Result<SecretMeta, RotateError> {
        let _one_at_a_time = self.lock.lock().await;
        let rotation = Rotation {
            secrets: &self.secrets,
            keyring: Some(keyring),
            broker: Some((broker, self.broker_credential.as_str())),
            timing: self.timing,
        };
        as_actor(actor, rotation.rotate(name, Utc::now())).await
    }

    /// Whether `name` is one of the managed secrets.
    pub fn is_managed(&self, name: &str) -> bool {
        self.managed.iter().any(|(managed, _)| managed == name)
    }

    /// One scheduler tick: sync the keyring, then rotate whatever is due.
    pub async fn tick(&self, keyring: &Keyring, broker: &dyn Broker) {
        self.tick_at(keyring, broker, Utc::now()).await;
    }

    /// The scheduler tick as of `now`: sync the keyring, then rotate whatever is due then.
    pub async fn tick_at(&self, keyring: &Keyring, broker: &dyn Broker, now: DateTime<Utc>) {
        let store = self.secrets.store();
        if let Err(error) = signing::sync_keyring(keyring, store, self.timing, now).await {
            tracing::error!(%error, "signing keyring could not be synchronised");
        }
        let due = match rotation::due(&self.secrets, &self.managed, now).await {
            Ok(due) => due,
            Err(error) => {
                tracing::error!(%error, "rotation schedule could not be read");
                return;
            }
        };
        for name in due {
            match self.rotate(SYSTEM_ACTOR, &name, keyring, broker).await {
                Ok(meta) => tracing::info!(secret = name, version = %meta.version, "rotated"),
                Err(error) => tracing::warn!(secret = name, %error, "scheduled rotation failed"),
            }
        }
    }

    /// Runs [`ManagedSecrets::tick`] every check interval until `shutdown`.
    pub async fn run_scheduler(
        &self,
        keyring: &Keyring,
        broker: &dyn Broker,
        shutdown: CancellationToken,
    ) {
        let mut ticks = tokio::time::interval(self.check_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticks.tick() => self.tick(keyring, broker).await,
            }
        }
    }
}
