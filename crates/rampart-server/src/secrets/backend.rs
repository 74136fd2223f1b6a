//! Opening the configured secret backend, behind the access audit and a short-TTL cache.
//!
//! Rule upheld: every backend read is an audit event. The audit observer sits
//! between the cache and the backend, so the audit log shows exactly the reads
//! the backend served (and its own audit log shows the same), while cached
//! values stay in `secrecy` types for at most `secrets.cache_ttl_seconds`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rampart_secrets::{
    CacheConfig, CachedStore, FileStore, MasterKey, Observed, Secret, SecretError, SecretMeta,
    SecretRef, SecretStore, SecretValue, Version,
};
use rampart_store::Store;
use tokio::sync::Mutex;

use crate::config::Config;
use crate::secrets::audit::{self, AuditObserver, AuditRecorder};
use crate::secrets::config::BackendKind;
use crate::secrets::remote;

/// The store the gateway uses: cache ▶ access audit ▶ backend.
pub type GatewayStore = CachedStore<Observed<Backend>>;

/// Why the secret store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretsOpenError {
    /// A reference in `[secrets]` could not be parsed or resolved.
    #[error("`{key}` {reason}")]
    Reference {
        /// The configuration key.
        key: &'static str,
        /// What is wrong (never the value).
        reason: String,
    },
    /// The backend refused to open.
    #[error("the `{backend}` secret store could not be opened: {source}")]
    Backend {
        /// The backend.
        backend: &'static str,
        /// The cause.
        source: SecretError,
    },
    /// The backend was not built into this binary.
    #[error("the `{0}` secret store is not built into this binary; rebuild with `--features {0}`")]
    NotBuilt(&'static str),
}

/// Any backend, as one type.
pub struct Backend(pub(crate) Box<dyn SecretStore>);

/// The gateway's secret store with its audit recorder.
pub struct GatewaySecrets {
    store: GatewayStore,
    rotations: AuditObserver,
    recorder: Mutex<Option<AuditRecorder>>,
    dev_master_key: Option<PathBuf>,
}

impl GatewaySecrets {
    /// Opens the backend `config` chooses; access events are appended to `audit_store`.
    pub async fn open(config: &Config, audit_store: &Store) -> Result<Self, SecretsOpenError> {
        Self::open_with(config, audit_store, false).await
    }

    /// Like [`GatewaySecrets::open`], with accesses appended only from the first
    /// [`flush_audit`](GatewaySecrets::flush_audit) or [`close`](GatewaySecrets::close) on.
    pub async fn open_deferred(
        config: &Config,
        audit_store: &Store,
    ) -> Result<Self, SecretsOpenError> {
        Self::open_with(config, audit_store, true).await
    }

    async fn open_with(
        config: &Config,
        audit_store: &Store,
        deferred: bool,
    ) -> Result<Self, SecretsOpenError> {
        let (backend, dev_master_key) = open_backend(config).await?;
        let started = if deferred {
            audit::start_deferred(audit_store.clone())
        } else {
            audit::start(audit_store.clone())
        };
        let (observer, rotations, recorder) = started;
        let observed = Observed::new(backend, Arc::new(observer));
        let ttl = Duration::from_secs(config.secrets.cache_ttl_seconds);
        Ok(Self {
            store: CachedStore::new(observed, CacheConfig::with_ttl(ttl)),
            rotations,
            recorder: Mutex::new(Some(recorder)),
            dev_master_key,
        })
    }

    /// The store: every backend operation through it is audited.
    pub fn store(&self) -> &GatewayStore {
        &self.store
    }

    /// The observer a whole rotation reports its outcome to.
    pub fn rotation_observer(&self) -> &AuditObserver {
        &self.rotations
    }

    /// The backend's name (`file`, `vault`, `aws`, `gcp`).
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// The development master key file, when the file store runs on one.
    pub fn dev_master_key(&self) -> Option<&Path> {
        self.dev_master_key.as_deref()
    }

    /// Waits until every access so far is in the audit log.
    pub async fn flush_audit(&self) {
        if let Some(recorder) = self.recorder.lock().await.as_ref() {
            recorder.flush().await;
        }
    }

    /// Records every queued access and stops the recorder; later accesses are logged only.
    pub async fn close(&self) {
        if let Some(recorder) = self.recorder.lock().await.take() {
            recorder.stop().await;
        }
    }
}

impl std::fmt::Debug for GatewaySecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewaySecrets")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

async fn open_backend(config: &Config) -> Result<(Backend, Option<PathBuf>), SecretsOpenError> {
    let secrets = &config.secrets;
    let missing = |section| SecretsOpenError::Reference {
        key: section,
        reason: "must be set for this `secrets.backend`".to_owned(),
    };
    let store = match secrets.backend {
        BackendKind::File => return open_file(config),
        BackendKind::Vault => {
            let vault = secrets.vault.as_ref().ok_or(missing("secrets.vault"))?;
            remote::open_vault(vault).await?
        }
        BackendKind::Gcp => {
            let gcp = secrets.gcp.as_ref().ok_or(missing("secrets.gcp"))?;
            remote::open_gcp(gcp)?
        }
        BackendKind::Aws => remote::open_aws(secrets.aws.as_ref()).await?,
    };
    Ok((store, None))
}

/// The file store: with a configured master key, or a development key next to it.
fn open_file(config: &Config) -> Result<(Backend, Option<PathBuf>), SecretsOpenError> {
    let file = &config.secrets.file;
    let dir = file
        .dir
        .clone()
        .unwrap_or_else(|| config.server.data_dir.join("secrets"));
    let failed = |source| SecretsOpenError::Backend {
        backend: "file",
        source,
    };
    let Some(reference) = &file.master_key else {
        let (store, key_file) = FileStore::create_dev(&dir).map_err(failed)?;
        return Ok((Backend(Box::new(store)), Some(key_file)));
    };
    let reference = parse_ref("secrets.file.master_key", reference)?;
    let key = MasterKey::from_ref(&reference).map_err(failed)?;
    let store = FileStore::open(&dir, key).map_err(failed)?;
    Ok((Backend(Box::new(store)), None))
}

/// Parses a reference from the configuration; the error names the key, never the text.
pub(crate) fn parse_ref(key: &'static str, text: &str) -> Result<SecretRef, SecretsOpenError> {
    SecretRef::parse(text).map_err(|error| SecretsOpenError::Reference {
        key,
        reason: error.to_string(),
    })
}

#[async_trait]
impl SecretStore for Backend {
    fn backend(&self) -> &'static str {
        self.0.backend()
    }

    async fn get(&self, name: &str) -> Result<Secret, SecretError> {
        self.0.get(name).await
    }

    async fn get_version(&self, name: &str, version: &Version) -> Result<Secret, SecretError> {
        self.0.get_version(name, version).await
    }

    async fn put(
        &self,
        name: &str,
        value: SecretValue,
        cas: Option<&Version>,
    ) -> Result<SecretMeta, SecretError> {
        self.0.put(name, value, cas).await
    }

    async fn list(&self) -> Result<Vec<SecretMeta>, SecretError> {
        self.0.list().await
    }

    async fn metadata(&self, name: &str) -> Result<SecretMeta, SecretError> {
        self.0.metadata(name).await
    }

    async fn stage_pending(
        &self,
        name: &str,
        value: SecretValue,
    ) -> Result<SecretMeta, SecretError> {
        self.0.stage_pending(name, value).await
    }

    async fn pending(&self, name: &str) -> Result<Secret, SecretError> {
        self.0.pending(name).await
    }

    async fn promote_pending(&self, name: &str) -> Result<SecretMeta, SecretError> {
        self.0.promote_pending(name).await
    }

    async fn previous(&self, name: &str) -> Result<Secret, SecretError> {
        self.0.previous(name).await
    }
}
