//! HashiCorp Vault and OpenBao as a secret backend: KV v2 and KV v1, token and AppRole
//! authentication, namespaces and a custom CA bundle.
//!
//! Rule upheld: TLS is always verified (the system roots, or the configured CA bundle
//! alone); `http://` is accepted only for a loopback address, which is what a local
//! `bao server -dev` listens on, and never otherwise.
//!
//! Mapping of the rotation model: a KV v2 secret keeps its stages in a stage record moved
//! under Vault's `cas` (`.rampart-stages/<name>`), mirrored into the secret's custom
//! metadata (`rampart_current`, `rampart_pending`, `rampart_previous`); a secret Rampart
//! never rotated has its latest version current. A KV v1 secret, which has no versions,
//! holds `value`, `pending` and `previous` fields and a `rampart_meta` field numbering
//! them. Each value sits in the field `value` (base64 when `rampart_encoding` is `base64`).

mod client;
mod kv1;
mod kv2;
mod kv2_stages;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

pub use client::{VaultAuth, VaultClient};

use crate::http;
use crate::numbered::StageNumbers;
use crate::store::{Secret, SecretError, SecretMeta, SecretStore, SecretValue, Stage, Version};

/// The backend name of Vault and OpenBao.
pub const BACKEND: &str = "vault";

/// The field holding a value, and the one marking base64 values.
const VALUE_FIELD: &str = "value";
const ENCODING_FIELD: &str = "rampart_encoding";

/// The KV secrets engine version of a mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KvVersion {
    /// KV version 1: one value per path, no history.
    V1,
    /// KV version 2: versions, check-and-set and metadata.
    V2,
}

/// Where and how to reach Vault.
#[derive(Debug)]
pub struct VaultConfig {
    /// The server address (`https://vault.internal:8200`).
    pub address: String,
    /// The KV mount Rampart's secrets live in.
    pub mount: String,
    /// The mount's KV version.
    pub kv: KvVersion,
    /// The Vault Enterprise / OpenBao namespace, sent as `X-Vault-Namespace`.
    pub namespace: Option<String>,
    /// A PEM bundle trusted instead of the system roots.
    pub ca_bundle: Option<PathBuf>,
    /// How to authenticate.
    pub auth: VaultAuth,
}

/// A KV mount of Vault or OpenBao as a [`SecretStore`].
#[derive(Clone)]
pub struct VaultStore {
    client: Arc<VaultClient>,
    mount: String,
    kv: KvVersion,
    kv1_writes: Arc<kv1::WriteLocks>,
}

impl VaultStore {
    /// Builds the store; authentication happens on first use (see [`VaultStore::login`]).
    pub fn new(config: VaultConfig) -> Result<VaultStore, SecretError> {
        let mut address = http::parse_address(BACKEND, &config.address)?;
        if !address.path().ends_with('/') {
            address.set_path(&format!("{}/", address.path()));
        }
        crate::store::validate_name(&config.mount)
            .map_err(|_| SecretError::Config("vault `mount` is not a valid path".into()))?;
        let http = http::client(BACKEND, config.ca_bundle.as_deref())?;
        let client = VaultClient::new(http, address, config.namespace, config.auth);
        Ok(VaultStore {
            client: Arc::new(client),
            mount: config.mount,
            kv: config.kv,
            kv1_writes: Arc::default(),
        })
    }

    /// Authenticates now (or renews), so that start-up fails early on bad credentials.
    pub async fn login(&self) -> Result<(), SecretError> {
        self.client.refresh().await
    }

    /// The authenticated client.
    pub fn client(&self) -> &Arc<VaultClient> {
        &self.client
    }

    /// Starts a task that renews the token at two thirds of its TTL (or logs in again)
    /// even when no secret is read; it ends when the store's last clone is dropped.
    pub fn spawn_renewal(&self) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.client);
        tokio::spawn(async move {
            loop {
                let Some(client) = weak.upgrade() else { return };
                let wait = client
                    .renew_in()
                    .await
                    .unwrap_or(std::time::Duration::from_secs(60));
                drop(client);
                tokio::time::sleep(wait.max(std::time::Duration::from_millis(200))).await;
                let Some(client) = weak.upgrade() else { return };
                if let Err(error) = client.refresh().await {
                    tracing::warn!(%error, "vault token renewal failed");
                }
            }
        })
    }

    /// Reads field `key` of the current version of `path` (a `vault:mount/path#key`).
    pub async fn get_field(&self, path: &str, key: &str) -> Result<Secret, SecretError> {
        crate::store::validate_name(path)?;
        let (data, meta) = match self.kv {
            KvVersion::V2 => kv2::read_current(self, path).await?,
            KvVersion::V1 => kv1::read_current(self, path).await?,
        };
        let value = field_value(&data, key, path)?;
        Ok(Secret { value, meta })
    }
}

/// Stage numbers and times of one secret, as both KV versions record them.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Stages {
    current: u64,
    pending: Option<u64>,
    previous: Option<u64>,
    created_at: Option<DateTime<Utc>>,
    rotated_at: Option<DateTime<Utc>>,
}

impl Stages {
    /// The numbers of the versions holding each stage.
    fn numbers(&self) -> StageNumbers {
        StageNumbers {
            current: self.current,
            pending: self.pending,
            previous: self.previous,
        }
    }

    fn meta(&self, name: &str, version: u64) -> SecretMeta {
        let stage = self.numbers().stage_of(version);
        SecretMeta {
            name: name.to_owned(),
            version: Version::number(version),
            backend: BACKEND,
            created_at: self.created_at.unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
            rotated_at: self.rotated_at,
            next_rotation: None,
            stage,
        }
    }

    fn stage(&self, name: &str, stage: Stage) -> Result<u64, SecretError> {
        self.numbers().version_of(name, stage)
    }
}

/// The KV fields holding `value`.
fn value_fields(value: &SecretValue) -> Map<String, Value> {
    let mut data = Map::new();
    match value.expose_str().filter(|_| value.is_text()) {
        Some(text) => {
            data.insert(VALUE_FIELD.into(), Value::String(text.to_owned()));
        }
        None => {
            data.insert(
                VALUE_FIELD.into(),
                Value::String(STANDARD.encode(value.expose_bytes())),
            );
            data.insert(ENCODING_FIELD.into(), Value::String("base64".into()));
        }
    }
    data
}

/// The value in field `key` of KV data.
fn field_value(
    data: &Map<String, Value>,
    key: &str,
    name: &str,
) -> Result<SecretValue, SecretError> {
    let missing = || SecretError::NoSuchVersion {
        name: name.to_owned(),
        what: format!("field `{key}`"),
    };
    let text = data.get(key).and_then(Value::as_str).ok_or_else(missing)?;
    if key == VALUE_FIELD && data.get(ENCODING_FIELD).and_then(Value::as_str) == Some("base64") {
        let bytes = STANDARD
            .decode(text)
            .map_err(|_| SecretError::Corrupt(format!("field `{key}` is not base64")))?;
        return Ok(SecretValue::bytes(bytes));
    }
    Ok(SecretValue::text(text))
}

fn status_error(name: &str, status: reqwest::StatusCode, what: &str) -> SecretError {
    match status.as_u16() {
        404 => SecretError::NotFound(name.to_owned()),
        401 | 403 => client::denied(&format!(
            "{what} of `{name}` refused (HTTP {})",
            status.as_u16()
        )),
        code => SecretError::Unavailable {
            backend: BACKEND,
            detail: format!("{what} of `{name}` answered HTTP {code}"),
        },
    }
}

#[async_trait]
impl SecretStore for VaultStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn get(&self, name: &str) -> Result<Secret, SecretError> {
        self.get_field(name, VALUE_FIELD).await
    }

    async fn get_version(&self, name: &str, version: &Version) -> Result<Secret, SecretError> {
        let number = crate::numbered::version_number(name, version)?;
        match self.kv {
            KvVersion::V2 => kv2::read_version(self, name, number).await,
            KvVersion::V1 => kv1::read_version(self, name, number).await,
        }
    }

    async fn put(
        &self,
        name: &str,
        value: SecretValue,
        cas: Option<&Version>,
    ) -> Result<SecretMeta, SecretError> {
        crate::store::validate_name(name)?;
        match self.kv {
            KvVersion::V2 => kv2::put(self, name, &value, cas).await,
            KvVersion::V1 => {
                let _serialised = self.kv1_writes.lock(name).await;
                kv1::put(self, name, &value, cas).await
            }
        }
    }

    async fn list(&self) -> Result<Vec<SecretMeta>, SecretError> {
        let names = kv2::list_names(self).await?;
        let mut metas = Vec::with_capacity(names.len());
        for name in names {
            metas.push(self.metadata(&name).await?);
        }
        Ok(metas)
    }

    async fn metadata(&self, name: &str) -> Result<SecretMeta, SecretError> {
        match self.kv {
            KvVersion::V2 => kv2::metadata(self, name).await,
            KvVersion::V1 => kv1::read_current(self, name).await.map(|(_, meta)| meta),
        }
    }

    async fn stage_pending(
        &self,
        name: &str,
        value: SecretValue,
    ) -> Result<SecretMeta, SecretError> {
        match self.kv {
            KvVersion::V2 => kv2::stage_pending(self, name, &value).await,
            KvVersion::V1 => {
                let _serialised = self.kv1_writes.lock(name).await;
                kv1::stage_pending(self, name, &value).await
            }
        }
    }

    async fn pending(&self, name: &str) -> Result<Secret, SecretError> {
        self.read_stage(name, Stage::Pending).await
    }

    async fn promote_pending(&self, name: &str) -> Result<SecretMeta, SecretError> {
        match self.kv {
            KvVersion::V2 => kv2::promote(self, name).await,
            KvVersion::V1 => {
                let _serialised = self.kv1_writes.lock(name).await;
                kv1::promote(self, name).await
            }
        }
    }

    async fn previous(&self, name: &str) -> Result<Secret, SecretError> {
        self.read_stage(name, Stage::Previous).await
    }
}

impl VaultStore {
    async fn read_stage(&self, name: &str, stage: Stage) -> Result<Secret, SecretError> {
        match self.kv {
            KvVersion::V2 => {
                let version = kv2::stages(self, name).await?.stage(name, stage)?;
                kv2::read_version(self, name, version).await
            }
            KvVersion::V1 => kv1::read_stage(self, name, stage).await,
        }
    }
}
