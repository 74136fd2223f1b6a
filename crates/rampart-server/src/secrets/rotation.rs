//! Rotation of the secrets the gateway manages: on demand and on schedule.
//!
//! Rule upheld: a failed rotation leaves the current secret working and is an
//! audit event. The token-signing key rotates through the store's
//! stage ▶ verify ▶ promote, after which the keyring publishes the new key at
//! once and lets it sign only after the publish delay; a second rotation is
//! refused while the previous key is still needed to verify live tokens (the
//! store keeps one previous version). The broker credential rotates through
//! [`Broker::rotate_credential`] and is promoted only if the broker takes it.

use chrono::{DateTime, Utc};
use rampart_auth::{Keyring, SigningKey};
use rampart_secrets::{
    AccessEvent, AccessObserver, AccessOutcome, FailureKind, Operation, RotationError,
    RotationPolicy, SecretError, SecretMeta, SecretStore, SecretValue, rotate,
};
use rampart_trading::Broker;

use crate::config::Config;
use crate::secrets::broker::random_credential;
use crate::secrets::signing::{self, KeyTiming};
use crate::secrets::{BROKER_CREDENTIAL, GatewaySecrets, SIGNING_KEY};

/// Why a rotation was refused or failed; the current version stays in use.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// The gateway does not manage a secret of that name.
    #[error("secret `{0}` is not managed by the gateway")]
    Unknown(String),
    /// The previous signing key still verifies live tokens.
    #[error("secret `{name}` was rotated recently; it can be rotated again from {until}")]
    Settling {
        /// The secret.
        name: String,
        /// When the previous key leaves the JWKS.
        until: DateTime<Utc>,
    },
    /// A rotation step failed.
    #[error(transparent)]
    Failed(#[from] RotationError),
    /// The store could not be read before rotating.
    #[error("secret store: {0}")]
    Store(#[from] SecretError),
}

/// What a rotation needs: the store, and the parts that take the new value into use.
pub struct Rotation<'a> {
    /// The secret store.
    pub secrets: &'a GatewaySecrets,
    /// The keyring of a running gateway; `None` from the command line.
    pub keyring: Option<&'a Keyring>,
    /// The broker of a running gateway with the name of its credential; `None`
    /// from the command line, which therefore cannot rotate a broker credential.
    pub broker: Option<(&'a dyn Broker, &'a str)>,
    /// Signing-key timing.
    pub timing: KeyTiming,
}

/// The names of the secrets the gateway manages, with their rotation policies.
///
/// The broker credential is managed when the broker uses one: under the name its
/// `broker.credential` reference gives, `broker-api-key` otherwise.
pub fn managed(config: &Config, broker_uses_credential: bool) -> Vec<(String, RotationPolicy)> {
    let mut names = vec![(SIGNING_KEY.to_owned(), policy(config, SIGNING_KEY))];
    if broker_uses_credential {
        let name = broker_credential(config);
        let policy = policy(config, &name);
        names.push((name, policy));
    }
    names
}

/// The name of the broker credential in the secret store.
pub fn broker_credential(config: &Config) -> String {
    let configured = config.broker.credential_name(&config.secrets);
    configured
        .ok()
        .flatten()
        .unwrap_or_else(|| BROKER_CREDENTIAL.to_owned())
}

/// The rotation policy of `name`: the configured override, else the default for its kind.
pub fn policy(config: &Config, name: &str) -> RotationPolicy {
    if let Some(every) = config.secrets.rotation.get(name) {
        return RotationPolicy::days(u64::from(every.every_days));
    }
    match name {
        SIGNING_KEY => RotationPolicy::SIGNING_KEY,
        _ => RotationPolicy::BROKER_CREDENTIAL,
    }
}

/// The signing-key timing of `config`: publish delay (default TTL + leeway) and retention.
pub fn timing(config: &Config) -> KeyTiming {
    let retention = config.auth.token_ttl_seconds + config.auth.leeway_seconds;
    let delay = config.secrets.publish_delay_seconds.unwrap_or(retention);
    KeyTiming {
        publish_delay: i64::try_from(delay).unwrap_or(i64::MAX),
        retention: i64::try_from(retention).unwrap_or(i64::MAX),
    }
}

impl Rotation<'_> {
    /// Rotates `name` now.
    pub async fn rotate(&self, name: &str, now: DateTime<Utc>) -> Result<SecretMeta, RotateError> {
        match (name, self.broker) {
            (SIGNING_KEY, _) => self.rotate_signing_key(now).await,
            (_, Some((broker, credential))) if name == credential && broker.uses_credential() => {
                self.rotate_broker_credential(broker, credential).await
            }
            _ => {
                self.refused(name, FailureKind::NotFound);
                Err(RotateError::Unknown(name.to_owned()))
            }
        }
    }

    async fn rotate_signing_key(&self, now: DateTime<Utc>) -> Result<SecretMeta, RotateError> {
        let store = self.secrets.store();
        let meta = store.metadata(SIGNING_KEY).await?;
        if let Some(until) = self.settles_at(&meta).filter(|until| *until > now) {
            self.refused(SIGNING_KEY, FailureKind::Conflict);
            let name = SIGNING_KEY.to_owned();
            return Err(RotateError::Settling { name, until });
        }

        let verify = |value: SecretValue| async move {
            SigningKey::from_pkcs8_der(value.expose_bytes())
                .map(|_| ())
                .map_err(|_| "the staged value is not a signing key".to_owned())
        };
        let generate = || signing::generate_signing_key().map_err(|e| e.to_string());
        let observer = self.secrets.rotation_observer();
        let meta = rotate(store, SIGNING_KEY, generate, verify, observer).await?;
        if let Some(keyring) = self.keyring {
            let synced = signing::sync_keyring(keyring, store, self.timing, Utc::now()).await;
            if let Err(error) = synced {
                tracing::error!(%error, "rotated signing key could not be published");
            }
        }
        Ok(meta)
    }

    /// Stage a new credential ▶ the broker takes it ▶ promote it; else the current stays.
    async fn rotate_broker_credential(
        &self,
        broker: &dyn Broker,
        name: &str,
    ) -> Result<SecretMeta, RotateError> {
        let store = self.secrets.store();
        let generate = || Ok(SecretValue::text(random_credential()?));
        let verify = |value: SecretValue| async move {
            let text = value.expose_str().ok_or("the credential is not text")?;
            broker
                .rotate_credential(text)
                .await
                .map_err(|e| e.to_string())
        };
        let observer = self.secrets.rotation_observer();
        Ok(rotate(store, name, generate, verify, observer).await?)
    }

    /// When the previous signing key leaves the JWKS, after the last rotation.
    fn settles_at(&self, meta: &SecretMeta) -> Option<DateTime<Utc>> {
        let seconds = self
            .timing
            .publish_delay
            .saturating_add(self.timing.retention);
        let rotated = meta.rotated_at?;
        rotated.checked_add_signed(chrono::Duration::seconds(seconds))
    }

    /// Records a rotation refused before it began.
    fn refused(&self, name: &str, kind: FailureKind) {
        self.secrets.rotation_observer().on_access(AccessEvent {
            name: name.to_owned(),
            version: None,
            backend: self.secrets.backend(),
            operation: Operation::Rotate,
            outcome: AccessOutcome::Failed(kind),
        });
    }
}

/// The metadata of every managed secret, with its next rotation from its policy.
pub async fn list(
    secrets: &GatewaySecrets,
    managed: &[(String, RotationPolicy)],
) -> Result<Vec<SecretMeta>, SecretError> {
    let mut listed = Vec::with_capacity(managed.len());
    for (name, policy) in managed {
        match secrets.store().metadata(name).await {
            Ok(meta) => listed.push(policy.annotate(meta)),
            Err(SecretError::NotFound(_)) => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(listed)
}

/// The managed secrets whose rotation is due at `now`.
pub async fn due(
    secrets: &GatewaySecrets,
    managed: &[(String, RotationPolicy)],
    now: DateTime<Utc>,
) -> Result<Vec<String>, SecretError> {
    let mut names = Vec::new();
    for (name, policy) in managed {
        let meta = secrets.store().metadata(name).await?;
        if policy.due(&meta, now) {
            names.push(name.clone());
        }
    }
    Ok(names)
}
