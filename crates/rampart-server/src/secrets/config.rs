//! The `[secrets]` section: which backend holds the gateway's secrets, and how to reach it.
//!
//! Rule upheld: configuration holds references only. Every field that carries
//! a credential (`master_key`, `token`, `role_id`, `secret_id`, `credentials`,
//! `access_key_id`, `secret_access_key`)
//! is a secret reference (`env:`, `file:`, `vault:`, …); [`check_references`]
//! refuses anything else, and any value anywhere in the configuration that
//! looks like a pasted secret, naming the key and never the value.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rampart_secrets::{SecretRef, looks_like_inline_secret};
use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigError};

/// The default lifetime of a cached secret, in seconds.
pub const DEFAULT_CACHE_TTL_SECONDS: u64 = 30;

/// The default interval between rotation checks, in seconds.
pub const DEFAULT_CHECK_INTERVAL_SECONDS: u64 = 300;

/// Which secret manager holds the gateway's secrets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// The embedded encrypted file store in the data directory.
    #[default]
    File,
    /// HashiCorp Vault or OpenBao, KV v1 or v2.
    Vault,
    /// AWS Secrets Manager (built with the `aws` feature).
    Aws,
    /// GCP Secret Manager.
    Gcp,
}

impl BackendKind {
    /// The backend's stable name, as the secret store reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::File => "file",
            BackendKind::Vault => "vault",
            BackendKind::Aws => "aws",
            BackendKind::Gcp => "gcp",
        }
    }
}

/// The `[secrets]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsConfig {
    /// The backend: `file` (default), `vault`, `aws` or `gcp`.
    pub backend: BackendKind,
    /// How long a value read from the backend is reused, in seconds (1 to 3600).
    pub cache_ttl_seconds: u64,
    /// How often rotation schedules and the signing keyring are checked, in seconds.
    pub check_interval_seconds: u64,
    /// How long a new signing key is published before it signs; token TTL + leeway when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish_delay_seconds: Option<u64>,
    /// The embedded encrypted file store.
    pub file: FileBackendConfig,
    /// HashiCorp Vault / OpenBao.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultBackendConfig>,
    /// AWS Secrets Manager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsBackendConfig>,
    /// GCP Secret Manager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gcp: Option<GcpBackendConfig>,
    /// Rotation policy overrides by secret name.
    pub rotation: BTreeMap<String, RotationOverride>,
}

/// `[secrets.file]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileBackendConfig {
    /// The store's directory; `<data_dir>/secrets` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// A reference to the master key; a development key file next to the store when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_key: Option<String>,
}

/// How the gateway authenticates to Vault.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VaultAuthKind {
    /// A token, from `token`.
    #[default]
    Token,
    /// AppRole login, from `role_id` and `secret_id`.
    Approle,
}

/// `[secrets.vault]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultBackendConfig {
    /// The server address, such as `https://vault.internal:8200`.
    pub address: String,
    /// The KV mount, such as `secret`.
    #[serde(default = "default_mount")]
    pub mount: String,
    /// The KV engine version: 1 or 2.
    #[serde(default = "default_kv_version")]
    pub kv_version: u8,
    /// The Vault Enterprise / OpenBao namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// A PEM bundle of CAs to trust instead of the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// `token` or `approle`.
    #[serde(default)]
    pub auth: VaultAuthKind,
    /// A reference to the token (token auth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A reference to the AppRole role id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    /// A reference to the AppRole secret id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_id: Option<String>,
    /// The AppRole auth mount, `approle` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approle_mount: Option<String>,
}

/// `[secrets.aws]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsBackendConfig {
    /// The region; the default credential chain's when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// An endpoint override (a VPC endpoint, or a test server on loopback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// A reference to a static access key id; the default credential chain when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// A reference to the static secret access key, with `access_key_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
}

/// `[secrets.gcp]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpBackendConfig {
    /// The project id.
    pub project: String,
    /// A reference to the service-account JSON key.
    pub credentials: String,
    /// An endpoint override for the Secret Manager API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// A PEM bundle of CAs to trust instead of the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

/// `[secrets.rotation.<name>]`: how often one secret is rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationOverride {
    /// Days between rotations (1 to 3650).
    pub every_days: u32,
}

impl Default for SecretsConfig {
    fn default() -> Self {
        Self {
            backend: BackendKind::File,
            cache_ttl_seconds: DEFAULT_CACHE_TTL_SECONDS,
            check_interval_seconds: DEFAULT_CHECK_INTERVAL_SECONDS,
            publish_delay_seconds: None,
            file: FileBackendConfig::default(),
            vault: None,
            aws: None,
            gcp: None,
            rotation: BTreeMap::new(),
        }
    }
}

fn default_mount() -> String {
    "secret".to_owned()
}

fn default_kv_version() -> u8 {
    2
}

impl SecretsConfig {
    /// Checks bounds and that the chosen backend is configured, naming the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=3600).contains(&self.cache_ttl_seconds) {
            return Err(invalid(
                "secrets.cache_ttl_seconds",
                "must be from 1 to 3600",
            ));
        }
        if !(1..=86_400).contains(&self.check_interval_seconds) {
            let rule = "must be from 1 to 86400";
            return Err(invalid("secrets.check_interval_seconds", rule));
        }
        if self
            .publish_delay_seconds
            .is_some_and(|delay| delay > 86_400)
        {
            return Err(invalid(
                "secrets.publish_delay_seconds",
                "must be at most 86400",
            ));
        }
        for (name, policy) in &self.rotation {
            if !(1..=3650).contains(&policy.every_days) {
                let key = format!("secrets.rotation.{name}.every_days");
                return Err(invalid(&key, "must be from 1 to 3650"));
            }
        }
        self.validate_backend()
    }

    fn validate_backend(&self) -> Result<(), ConfigError> {
        let missing = |section: &str| invalid(section, "must be set for this `secrets.backend`");
        match self.backend {
            BackendKind::File => Ok(()),
            BackendKind::Vault => self
                .vault
                .as_ref()
                .ok_or(missing("secrets.vault"))?
                .validate(),
            BackendKind::Aws => match self.aws.as_ref().ok_or(missing("secrets.aws"))? {
                aws if aws.access_key_id.is_some() != aws.secret_access_key.is_some() => {
                    Err(invalid(
                        "secrets.aws",
                        "needs both `access_key_id` and `secret_access_key`",
                    ))
                }
                _ => Ok(()),
            },
            BackendKind::Gcp => self.gcp.as_ref().map(|_| ()).ok_or(missing("secrets.gcp")),
        }
    }

    /// Every credential-bearing key with its value, for the reference check.
    fn credential_fields(&self) -> Vec<(&'static str, &str)> {
        let mut fields = Vec::new();
        if let Some(key) = &self.file.master_key {
            fields.push(("secrets.file.master_key", key.as_str()));
        }
        if let Some(vault) = &self.vault {
            let named = [
                ("secrets.vault.token", &vault.token),
                ("secrets.vault.role_id", &vault.role_id),
                ("secrets.vault.secret_id", &vault.secret_id),
            ];
            for (key, value) in named {
                if let Some(value) = value {
                    fields.push((key, value.as_str()));
                }
            }
        }
        if let Some(aws) = &self.aws {
            let named = [
                ("secrets.aws.access_key_id", &aws.access_key_id),
                ("secrets.aws.secret_access_key", &aws.secret_access_key),
            ];
            for (key, value) in named {
                if let Some(value) = value {
                    fields.push((key, value.as_str()));
                }
            }
        }
        if let Some(gcp) = &self.gcp {
            fields.push(("secrets.gcp.credentials", gcp.credentials.as_str()));
        }
        fields
    }
}

impl VaultBackendConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.kv_version, 1 | 2) {
            return Err(invalid("secrets.vault.kv_version", "must be 1 or 2"));
        }
        if self.address.trim().is_empty() {
            return Err(invalid("secrets.vault.address", "must not be empty"));
        }
        match self.auth {
            VaultAuthKind::Token if self.token.is_none() => Err(invalid(
                "secrets.vault.token",
                "is required for `auth = \"token\"`",
            )),
            VaultAuthKind::Approle if self.role_id.is_none() => Err(invalid(
                "secrets.vault.role_id",
                "is required for `auth = \"approle\"`",
            )),
            VaultAuthKind::Approle if self.secret_id.is_none() => Err(invalid(
                "secrets.vault.secret_id",
                "is required for `auth = \"approle\"`",
            )),
            _ => Ok(()),
        }
    }
}

/// Refuses a credential that is not a reference, and any value that looks like a secret.
///
/// The whole configuration is walked, so that a token pasted under an
/// unrelated key (an issuer URL, an instrument name) is caught as well.
pub fn check_references(config: &Config) -> Result<(), ConfigError> {
    for (key, value) in config.secrets.credential_fields() {
        if SecretRef::parse(value).is_err() {
            let reason = "must be a secret reference (`env:`, `file:`, `vault:`, `aws-sm:`, \
                          `gcp-sm:` or `store:`), never the secret itself";
            return Err(invalid(key, reason));
        }
    }
    let tree = serde_json::to_value(config)
        .map_err(|_| invalid("configuration", "could not be inspected for inline secrets"))?;
    match first_inline_secret(&tree, String::new()) {
        Some(key) => Err(invalid(
            &key,
            "looks like a secret written inline; put it in the secret store and write a \
             reference (`env:`, `file:`, `vault:`, `aws-sm:`, `gcp-sm:` or `store:`)",
        )),
        None => Ok(()),
    }
}

/// The dotted key of the first string that looks like an inline secret and is not a reference.
fn first_inline_secret(value: &serde_json::Value, key: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) if SecretRef::parse(text).is_err() => {
            looks_like_inline_secret(text).then_some(key)
        }
        Value::Object(members) => members.iter().find_map(|(name, member)| {
            let path = if key.is_empty() {
                name.clone()
            } else {
                format!("{key}.{name}")
            };
            first_inline_secret(member, path)
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| first_inline_secret(item, format!("{key}[{index}]"))),
        _ => None,
    }
}

fn invalid(key: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}
