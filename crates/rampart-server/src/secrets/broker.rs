//! The `[broker]` section and the broker credential: read from the secret store at start.
//!
//! Rule upheld: the broker's API key is a reference to the configured secret
//! store in the configuration, never a value: `store:broker-api-key`, or the
//! backend's own form of the same secret (`gcp-sm:projects/P/secrets/S` in the
//! configured project, `aws-sm:name`, `vault:mount/path` in the configured
//! mount), without a version pin or a `#key`, since rotation moves versions.
//! An `env:` or `file:` reference is refused: it cannot be rotated. When
//! configured, the paper broker requires the credential on every request; it is
//! read from the store (an access-audited read) and handed over in a
//! `SecretString`. The paper venue issues the first credential itself, so a
//! store without one gets a random 256-bit credential on first start.

use std::time::Duration;

use rampart_secrets::{SecretError, SecretRef, SecretValue};
use rampart_trading::{BrokerError, PaperBroker};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigError};
use crate::secrets::GatewaySecrets;
use crate::secrets::config::{BackendKind, SecretsConfig};
use crate::secrets::signing::ensure_key;

/// How long a rotated-out broker credential stays accepted, by default, in seconds.
pub const DEFAULT_CREDENTIAL_GRACE_SECONDS: u64 = 300;

/// The `[broker]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerConfig {
    /// A `store:` reference to the broker's API key; none when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// Seconds a rotated-out credential stays accepted (0 to 86400).
    pub credential_grace_seconds: u64,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            credential: None,
            credential_grace_seconds: DEFAULT_CREDENTIAL_GRACE_SECONDS,
        }
    }
}

/// Why the broker credential could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum BrokerCredentialError {
    /// The secret store failed.
    #[error("the broker credential could not be read: {0}")]
    Store(#[from] SecretError),
    /// The stored value is not text.
    #[error("secret `{0}` is not a text credential")]
    NotText(String),
    /// The broker refused the credential.
    #[error("the broker refused its credential: {0}")]
    Broker(#[from] BrokerError),
    /// The configured reference does not name a credential in the secret store.
    #[error(transparent)]
    Reference(#[from] ConfigError),
}

impl BrokerConfig {
    /// Checks the section against the secret store `secrets`, naming the first bad key.
    pub fn validate(&self, secrets: &SecretsConfig) -> Result<(), ConfigError> {
        if self.credential_grace_seconds > 86_400 {
            return Err(invalid(
                "broker.credential_grace_seconds",
                "must be at most 86400",
            ));
        }
        self.credential_name(secrets).map(|_| ())
    }

    /// The name of the credential in the secret store, when one is configured.
    pub fn credential_name(&self, secrets: &SecretsConfig) -> Result<Option<String>, ConfigError> {
        let Some(text) = self.credential.as_deref() else {
            return Ok(None);
        };
        let refused = || {
            invalid(
                "broker.credential",
                "must be a `store:` reference, or the configured backend's reference to a \
                 secret it holds, without a version or `#key`",
            )
        };
        let reference = SecretRef::parse(text).map_err(|_| refused())?;
        store_name(&reference, secrets)
            .map(Some)
            .ok_or_else(refused)
    }

    /// The grace of a rotated-out credential.
    pub fn grace(&self) -> Duration {
        Duration::from_secs(self.credential_grace_seconds)
    }
}

/// The name in the configured store that `reference` points to, if it points into it.
fn store_name(reference: &SecretRef, secrets: &SecretsConfig) -> Option<String> {
    match (reference, secrets.backend) {
        (SecretRef::Store(name), _) => Some(name.clone()),
        (SecretRef::Aws { name, key: None }, BackendKind::Aws) => Some(name.clone()),
        (
            SecretRef::Gcp {
                project,
                secret,
                version,
                key: None,
            },
            BackendKind::Gcp,
        ) if version == "latest" && secrets.gcp.as_ref().is_some_and(|g| &g.project == project) => {
            Some(secret.clone())
        }
        (
            SecretRef::Vault {
                mount,
                path,
                key: None,
            },
            BackendKind::Vault,
        ) if secrets.vault.as_ref().is_some_and(|v| &v.mount == mount) => Some(path.clone()),
        _ => None,
    }
}

/// `broker`, requiring the configured credential on every request; unchanged when none is.
pub async fn attach_credential(
    broker: PaperBroker,
    config: &Config,
    secrets: &GatewaySecrets,
) -> Result<PaperBroker, BrokerCredentialError> {
    // A reference that does not resolve is refused, never read as "no credential".
    let Some(name) = config.broker.credential_name(&config.secrets)? else {
        return Ok(broker);
    };
    let generate = || {
        random_credential()
            .map(SecretValue::text)
            .map_err(SecretError::Io)
    };
    let (stored, _) = ensure_key(secrets.store(), &name, generate).await?;
    let text = stored
        .value
        .expose_str()
        .ok_or_else(|| BrokerCredentialError::NotText(name.clone()))?;
    let credential = SecretString::from(text.to_owned());
    Ok(broker.with_credential(credential, config.broker.grace())?)
}

/// A new broker credential: 256 random bits, base64url.
pub fn random_credential() -> Result<String, String> {
    use base64::Engine;
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(bytes.as_mut())
        .map_err(|_| "no randomness".to_owned())?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}

fn invalid(key: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(credential: Option<&str>) -> BrokerConfig {
        BrokerConfig {
            credential: credential.map(str::to_owned),
            ..BrokerConfig::default()
        }
    }

    fn gcp_secrets() -> SecretsConfig {
        SecretsConfig {
            backend: BackendKind::Gcp,
            gcp: Some(crate::secrets::config::GcpBackendConfig {
                project: "trading-prod".into(),
                credentials: "file:/etc/rampart/gcp.json".into(),
                endpoint: None,
                ca_file: None,
            }),
            ..SecretsConfig::default()
        }
    }

    fn name_of(credential: &str, secrets: &SecretsConfig) -> Result<Option<String>, ConfigError> {
        section(Some(credential)).credential_name(secrets)
    }

    #[test]
    fn a_store_reference_names_the_credential() {
        let file = SecretsConfig::default();
        let name = name_of("store:broker-api-key", &file).unwrap();
        assert_eq!(name.as_deref(), Some("broker-api-key"));
        assert_eq!(section(None).credential_name(&file).unwrap(), None);
    }

    #[test]
    fn a_reference_of_the_configured_backend_names_a_secret_in_it() {
        let gcp = gcp_secrets();
        let name = name_of("gcp-sm:projects/trading-prod/secrets/broker-key", &gcp).unwrap();
        assert_eq!(name.as_deref(), Some("broker-key"));
        for elsewhere in [
            "gcp-sm:projects/other-project/secrets/broker-key",
            "gcp-sm:projects/trading-prod/secrets/broker-key/versions/3",
            "gcp-sm:projects/trading-prod/secrets/broker-key#api_key",
            "aws-sm:broker-key",
        ] {
            assert!(name_of(elsewhere, &gcp).is_err(), "{elsewhere}");
        }
    }

    #[test]
    fn a_reference_that_cannot_be_rotated_is_refused_naming_the_key() {
        for text in ["env:BROKER_KEY", "plain-text-api-key"] {
            let refused = section(Some(text)).validate(&SecretsConfig::default());
            assert!(
                matches!(refused, Err(ConfigError::Invalid { ref key, .. }) if key == "broker.credential"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_grace_over_a_day_is_refused() {
        let config = BrokerConfig {
            credential_grace_seconds: 86_401,
            ..BrokerConfig::default()
        };
        assert!(config.validate(&SecretsConfig::default()).is_err());
    }

    #[test]
    fn random_credentials_are_long_and_differ() {
        let (one, two) = (random_credential().unwrap(), random_credential().unwrap());
        assert_eq!(one.len(), 43);
        assert_ne!(one, two);
    }
}
