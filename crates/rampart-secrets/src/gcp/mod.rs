//! GCP Secret Manager as a secret backend, over its REST v1 API with a service-account key.
//!
//! Rule upheld: TLS is verified (system roots, or the configured CA bundle alone) and
//! `http://` is accepted only for loopback; the access token is obtained with the JWT
//! bearer grant (RS256 over the key file's own claims) and sent only as a bearer header.
//!
//! Mapping of the rotation model: Secret Manager numbers versions; Rampart keeps its stages
//! in the secret's version aliases `current`, `pending` and `previous` (a secret without a
//! `current` alias uses `latest`), updated with the secret's `etag` so that two writers
//! cannot both move them. `addVersion` itself takes no precondition in the documented
//! API, so a check-and-set write adds its version, then moves the aliases with the etag
//! read before; when another writer moved them first, the version it added is disabled
//! (with the version's own etag) and the mismatch reported. Payloads are bytes: a value
//! that is valid UTF-8 reads back as text. Secret ids are GCP's: letters, digits, `_`
//! and `-`.

pub mod api;
mod stages;
pub mod token;
mod transport;
mod versions;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use reqwest::{Client, Url};
use serde_json::Value;

use crate::store::{Secret, SecretError, SecretMeta, SecretStore, SecretValue, Stage, Version};
use api::SecretResource;
use stages::Stages;
pub use token::{ServiceAccountKey, TokenSource};

/// The backend name of GCP Secret Manager.
pub const BACKEND: &str = "gcp";
/// The public API endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://secretmanager.googleapis.com/";

/// Where and how to reach Secret Manager.
#[derive(Debug)]
pub struct GcpConfig {
    /// The project id or number.
    pub project: String,
    /// The service-account key.
    pub key: ServiceAccountKey,
    /// An endpoint override (a private endpoint, or a local test server).
    pub endpoint: Option<String>,
    /// A PEM bundle trusted instead of the system roots.
    pub ca_bundle: Option<PathBuf>,
}

/// GCP Secret Manager as a [`SecretStore`].
#[derive(Clone)]
pub struct GcpStore {
    http: Client,
    endpoint: Url,
    project: String,
    tokens: Arc<TokenSource>,
}

impl GcpStore {
    /// Builds the store; the first call obtains an access token.
    pub fn new(config: GcpConfig) -> Result<GcpStore, SecretError> {
        let endpoint = config.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
        let mut endpoint = crate::http::parse_address(BACKEND, endpoint)?;
        if !endpoint.path().ends_with('/') {
            endpoint.set_path(&format!("{}/", endpoint.path()));
        }
        check_id(&config.project, "project")?;
        let http = crate::http::client(BACKEND, config.ca_bundle.as_deref())?;
        let tokens = Arc::new(TokenSource::new(config.key, http.clone()));
        Ok(GcpStore {
            http,
            endpoint,
            project: config.project,
            tokens,
        })
    }
}

fn check_id(id: &str, what: &'static str) -> Result<(), SecretError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if id.is_empty() || id.len() > 255 || !id.chars().all(ok) {
        let why = "GCP ids are 1 to 255 letters, digits, `_` and `-`";
        return Err(SecretError::InvalidName(
            format!("{what} {}", crate::store::printable(id)),
            why,
        ));
    }
    Ok(())
}

#[async_trait]
impl SecretStore for GcpStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn get(&self, name: &str) -> Result<Secret, SecretError> {
        self.read_stage(name, Stage::Current).await
    }

    async fn get_version(&self, name: &str, version: &Version) -> Result<Secret, SecretError> {
        let resource = self.existing(name).await?;
        let stages = Stages::of(&resource).await_latest(self, name).await?;
        let number = crate::numbered::version_number(name, version)?;
        let (value, number) = self.access(name, &number.to_string()).await?;
        Ok(Secret {
            value,
            meta: stages.meta(&resource, name, number),
        })
    }

    async fn put(
        &self,
        name: &str,
        value: SecretValue,
        cas: Option<&Version>,
    ) -> Result<SecretMeta, SecretError> {
        let resource = self.resource_or_create(name, cas).await?;
        let old = self.current_stages(name, &resource).await?;
        let found = old.map_or(0, |s| s.current);
        crate::numbered::check_cas(name, cas, found)?;
        let added = self.add_version(name, &value).await?;
        let version = added.number;
        let stages = match old {
            None => Stages {
                current: version,
                pending: None,
                previous: None,
                rotated_at: None,
            },
            Some(old) => Stages {
                current: version,
                previous: Some(old.current),
                rotated_at: Some(Utc::now()),
                ..old
            },
        };
        self.set_stages_or_discard(name, &resource, &stages, &added)
            .await?;
        Ok(stages.meta(&resource, name, version))
    }

    async fn list(&self) -> Result<Vec<SecretMeta>, SecretError> {
        let mut metas = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let answer = self
                .call("*", api::list_secrets(&self.project, page.as_deref()))
                .await?;
            let secrets = answer
                .get("secrets")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for json in &secrets {
                let resource = SecretResource::from_json(json);
                let stages = Stages::of(&resource).await_latest(self, &resource.id).await;
                if let Ok(stages) = stages {
                    metas.push(stages.meta(&resource, &resource.id, stages.current));
                }
            }
            match answer
                .get("nextPageToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                Some(token) => page = Some(token.to_owned()),
                None => break,
            }
        }
        metas.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(metas)
    }

    async fn metadata(&self, name: &str) -> Result<SecretMeta, SecretError> {
        let resource = self.existing(name).await?;
        let stages = Stages::of(&resource).await_latest(self, name).await?;
        Ok(stages.meta(&resource, name, stages.current))
    }

    async fn stage_pending(
        &self,
        name: &str,
        value: SecretValue,
    ) -> Result<SecretMeta, SecretError> {
        let resource = self.existing(name).await?;
        let old = Stages::of(&resource).await_latest(self, name).await?;
        let added = self.add_version(name, &value).await?;
        let stages = Stages {
            pending: Some(added.number),
            ..old
        };
        self.set_stages_or_discard(name, &resource, &stages, &added)
            .await?;
        Ok(stages.meta(&resource, name, added.number))
    }

    async fn pending(&self, name: &str) -> Result<Secret, SecretError> {
        self.read_stage(name, Stage::Pending).await
    }

    async fn promote_pending(&self, name: &str) -> Result<SecretMeta, SecretError> {
        let resource = self.existing(name).await?;
        let old = Stages::of(&resource).await_latest(self, name).await?;
        let pending = old.of_stage(name, Stage::Pending)?;
        let stages = Stages {
            current: pending,
            pending: None,
            previous: Some(old.current),
            rotated_at: Some(Utc::now()),
        };
        self.set_stages(name, &resource, &stages).await?;
        Ok(stages.meta(&resource, name, pending))
    }

    async fn previous(&self, name: &str) -> Result<Secret, SecretError> {
        self.read_stage(name, Stage::Previous).await
    }
}
