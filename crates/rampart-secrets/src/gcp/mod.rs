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
//! (with the version's own etag) and the mismatch reported. Payloads are bytes: a value that is valid UTF-8 reads back as
//! text. Secret ids are GCP's: letters, digits, `_` and `-`.

pub mod api;
pub mod token;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use reqwest::{Client, StatusCode, Url};
use secrecy::ExposeSecret;
use serde_json::{Map, Value};

use crate::store::{Secret, SecretError, SecretMeta, SecretStore, SecretValue, Stage, Version};
use api::{ApiRequest, SecretResource};
pub use token::{ServiceAccountKey, TokenSource};

/// The backend name of GCP Secret Manager.
pub const BACKEND: &str = "gcp";
/// The public API endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://secretmanager.googleapis.com/";

const ROTATED_AT: &str = "rampart-rotated-at";

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

    /// Sends `request`; on 401, fetches a new token and tries once more.
    async fn send(
        &self,
        name: &str,
        request: ApiRequest,
    ) -> Result<(StatusCode, Value), SecretError> {
        let (status, answer) = self.send_once(&request).await?;
        if status != StatusCode::UNAUTHORIZED {
            return Ok((status, answer));
        }
        self.tokens.invalidate().await;
        let (status, answer) = self.send_once(&request).await?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(status_error(name, status));
        }
        Ok((status, answer))
    }

    async fn send_once(&self, request: &ApiRequest) -> Result<(StatusCode, Value), SecretError> {
        let url = self
            .endpoint
            .join(&request.path)
            .map_err(|_| SecretError::Config("a GCP request path is invalid".into()))?;
        let token = self.tokens.token().await?;
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .bearer_auth(token.expose_secret());
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| crate::http::unavailable(BACKEND, &e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| crate::http::unavailable(BACKEND, &e))?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// Sends `request` and requires a success.
    async fn call(&self, name: &str, request: ApiRequest) -> Result<Value, SecretError> {
        let (status, answer) = self.send(name, request).await?;
        if !status.is_success() {
            return Err(status_error(name, status));
        }
        Ok(answer)
    }

    async fn resource(&self, name: &str) -> Result<Option<SecretResource>, SecretError> {
        check_id(name, "secret")?;
        let (status, answer) = self
            .send(name, api::get_secret(&self.project, name))
            .await?;
        match status {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(SecretResource::from_json(&answer))),
            s => Err(status_error(name, s)),
        }
    }

    async fn existing(&self, name: &str) -> Result<SecretResource, SecretError> {
        self.resource(name)
            .await?
            .ok_or_else(|| SecretError::NotFound(name.to_owned()))
    }

    /// Accesses version `version` (a number or `latest`).
    async fn access(&self, name: &str, version: &str) -> Result<(SecretValue, u64), SecretError> {
        let answer = self
            .call(name, api::access(&self.project, name, version))
            .await?;
        let number = answer
            .get("name")
            .and_then(Value::as_str)
            .and_then(api::version_number);
        let data = answer
            .pointer("/payload/data")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let bytes = STANDARD
            .decode(data)
            .map_err(|_| SecretError::Corrupt(format!("`{name}` payload is not base64")))?;
        let payload = answer.get("payload").unwrap_or(&Value::Null);
        if !api::checksum_matches(payload, &bytes) {
            let why = format!("`{name}` payload failed its CRC32C check");
            return Err(SecretError::Corrupt(why));
        }
        let value = SecretValue::from_stored(bytes.clone(), true)
            .unwrap_or_else(|_| SecretValue::bytes(bytes));
        let number = number
            .ok_or_else(|| SecretError::Corrupt(format!("`{name}` version has no number")))?;
        Ok((value, number))
    }

    async fn add_version(&self, name: &str, value: &SecretValue) -> Result<Added, SecretError> {
        let answer = self
            .call(
                name,
                api::add_version(&self.project, name, value.expose_bytes()),
            )
            .await?;
        let number = answer
            .get("name")
            .and_then(Value::as_str)
            .and_then(api::version_number)
            .ok_or_else(|| SecretError::Corrupt(format!("`{name}` new version has no number")))?;
        let etag = answer
            .get("etag")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Added { number, etag })
    }

    /// Moves the stages to `stages`; when another writer moved them first, disables `added`.
    async fn set_stages_or_discard(
        &self,
        name: &str,
        resource: &SecretResource,
        stages: &Stages,
        added: &Added,
    ) -> Result<(), SecretError> {
        let moved = self.set_stages(name, resource, stages).await;
        if let Err(SecretError::CasMismatch { .. }) = &moved {
            let etag = added.etag.as_deref();
            let request = api::disable_version(&self.project, name, added.number, etag);
            if let Err(error) = self.call(name, request).await {
                tracing::warn!(secret = name, version = added.number, %error,
                    "a version that lost a check-and-set could not be disabled");
            }
        }
        moved
    }

    async fn set_stages(
        &self,
        name: &str,
        resource: &SecretResource,
        stages: &Stages,
    ) -> Result<(), SecretError> {
        let mut aliases = Map::new();
        for (alias, version) in [
            ("current", Some(stages.current)),
            ("pending", stages.pending),
            ("previous", stages.previous),
        ] {
            if let Some(version) = version {
                aliases.insert(alias.into(), Value::String(version.to_string()));
            }
        }
        let mut annotations = resource.annotations.clone();
        if let Some(at) = stages.rotated_at {
            annotations.insert(ROTATED_AT.into(), Value::String(at.to_rfc3339()));
        }
        let request = api::update_stages(
            &self.project,
            name,
            &aliases,
            &annotations,
            resource.etag.as_deref(),
        );
        let (status, _) = self.send(name, request).await?;
        match status {
            s if s.is_success() => Ok(()),
            StatusCode::CONFLICT | StatusCode::PRECONDITION_FAILED => {
                Err(SecretError::CasMismatch {
                    name: name.to_owned(),
                    expected: "an unchanged secret".into(),
                    found: "a concurrent change".into(),
                })
            }
            s => Err(status_error(name, s)),
        }
    }

    async fn read_stage(&self, name: &str, stage: Stage) -> Result<Secret, SecretError> {
        let resource = self.existing(name).await?;
        let stages = Stages::of(&resource).await_latest(self, name).await?;
        let version = stages.of_stage(name, stage)?;
        let (value, number) = self.access(name, &version.to_string()).await?;
        Ok(Secret {
            value,
            meta: stages.meta(&resource, name, number),
        })
    }
}

/// A version just added, with its etag for a later precondition.
struct Added {
    number: u64,
    etag: Option<String>,
}

/// Rampart's stages of one secret, read from its aliases.
#[derive(Debug, Clone, Copy)]
struct Stages {
    current: u64,
    pending: Option<u64>,
    previous: Option<u64>,
    rotated_at: Option<DateTime<Utc>>,
}

/// Stages whose `current` may still have to be resolved from `latest`.
struct PartialStages(Stages, bool);

impl Stages {
    fn of(resource: &SecretResource) -> PartialStages {
        let rotated_at = resource
            .annotations
            .get(ROTATED_AT)
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok());
        let current = resource.alias("current");
        let stages = Stages {
            current: current.unwrap_or(0),
            pending: resource.alias("pending"),
            previous: resource.alias("previous"),
            rotated_at,
        };
        PartialStages(stages, current.is_none())
    }

    fn of_stage(&self, name: &str, stage: Stage) -> Result<u64, SecretError> {
        let version = match stage {
            Stage::Current | Stage::Deprecated => Some(self.current),
            Stage::Pending => self.pending,
            Stage::Previous => self.previous,
        };
        version.ok_or_else(|| SecretError::NoSuchVersion {
            name: name.to_owned(),
            what: format!("{} version", stage.as_str()),
        })
    }

    fn meta(&self, resource: &SecretResource, name: &str, version: u64) -> SecretMeta {
        let stage = match Some(version) {
            v if v == Some(self.current) => Stage::Current,
            v if v == self.pending => Stage::Pending,
            v if v == self.previous => Stage::Previous,
            _ => Stage::Deprecated,
        };
        SecretMeta {
            name: name.to_owned(),
            version: Version::number(version),
            backend: BACKEND,
            created_at: resource.created_at.unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
            rotated_at: self.rotated_at,
            next_rotation: resource.next_rotation,
            stage,
        }
    }
}

impl PartialStages {
    /// Resolves `current` from `latest` when the secret has no `current` alias.
    async fn await_latest(self, store: &GcpStore, name: &str) -> Result<Stages, SecretError> {
        let PartialStages(mut stages, needs_latest) = self;
        if needs_latest {
            let (_, latest) = store.access(name, "latest").await?;
            stages.current = latest;
        }
        Ok(stages)
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

fn status_error(name: &str, status: StatusCode) -> SecretError {
    match status.as_u16() {
        404 => SecretError::NotFound(name.to_owned()),
        401 | 403 => SecretError::Denied {
            backend: BACKEND,
            detail: format!("access to `{name}` refused (HTTP {})", status.as_u16()),
        },
        code => SecretError::Unavailable {
            backend: BACKEND,
            detail: format!("`{name}`: HTTP {code}"),
        },
    }
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
        let number = version
            .as_number()
            .ok_or_else(|| SecretError::NoSuchVersion {
                name: name.to_owned(),
                what: "such version".into(),
            })?;
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
        let resource = match self.resource(name).await? {
            Some(resource) => resource,
            None => {
                if let Some(expected) = cas.filter(|c| !c.is_absent()) {
                    let (name, expected) = (name.to_owned(), expected.to_string());
                    return Err(SecretError::CasMismatch {
                        name,
                        expected,
                        found: Version::ABSENT.into(),
                    });
                }
                let created = self
                    .call(name, api::create_secret(&self.project, name))
                    .await?;
                SecretResource::from_json(&created)
            }
        };
        let old = match Stages::of(&resource) {
            PartialStages(stages, false) => Some(stages),
            PartialStages(stages, true) => match self.access(name, "latest").await {
                Ok((_, latest)) => Some(Stages {
                    current: latest,
                    ..stages
                }),
                Err(SecretError::NotFound(_)) => None,
                Err(error) => return Err(error),
            },
        };
        let found = old.map_or(0, |s| s.current);
        if let Some(expected) = cas.filter(|c| c.as_number() != Some(found)) {
            let (name, expected, found) =
                (name.to_owned(), expected.to_string(), found.to_string());
            return Err(SecretError::CasMismatch {
                name,
                expected,
                found,
            });
        }
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
