//! AWS Secrets Manager as a secret backend, through the official SDK (feature `aws`).
//!
//! Rule upheld: credentials come from the SDK's default chain (environment, profile, SSO,
//! web identity, container and instance metadata) unless the configuration names static
//! ones, and travel only inside the SDK; the endpoint is AWS's, over verified TLS, unless
//! overridden (tests point it at a loopback moto server).
//!
//! Mapping of the rotation model: the staging labels `AWSCURRENT`, `AWSPENDING` and
//! `AWSPREVIOUS` are current, pending and previous. Staging writes a version labelled
//! `AWSPENDING`; promotion moves `AWSCURRENT` onto it (AWS moves `AWSPREVIOUS` to the old
//! current) and removes `AWSPENDING`.
//!
//! Check-and-set, from what Secrets Manager offers: creation with [`Version::absent`]
//! relies on `CreateSecret` refusing an existing name. A write that expects version `E`
//! sends a `ClientRequestToken` derived from the secret's name and `E`, so every writer
//! expecting `E` names the same successor and Secrets Manager refuses all but the first
//! (`ResourceExistsException`: a version's value cannot change). The successor is
//! written under a private label, and `AWSCURRENT` is moved onto it with
//! `RemoveFromVersionId = E`, which Secrets Manager refuses unless `E` still holds
//! `AWSCURRENT`; a refused move drops the private label and reports the mismatch.
//! Promotion moves `AWSCURRENT` with `RemoveFromVersionId` set to the current version
//! read just before, so a concurrent promotion fails rather than being lost.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{Credentials, Region};
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::primitives::Blob;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::store::{Secret, SecretError, SecretMeta, SecretStore, SecretValue, Stage, Version};

/// The backend name of AWS Secrets Manager.
pub const BACKEND: &str = "aws";

const CURRENT: &str = "AWSCURRENT";
const PENDING: &str = "AWSPENDING";
const PREVIOUS: &str = "AWSPREVIOUS";
/// The private label of a version written by a check-and-set, until `AWSCURRENT` moves on.
const CAS_LABEL: &str = "RAMPART_CAS";

/// Static credentials, for deployments that cannot use the default chain.
pub struct StaticCredentials {
    /// The access key id.
    pub access_key_id: SecretString,
    /// The secret access key.
    pub secret_access_key: SecretString,
}

/// Where and how to reach Secrets Manager.
#[derive(Default)]
pub struct AwsConfig {
    /// The region; `None` takes it from the environment or profile.
    pub region: Option<String>,
    /// An endpoint override (a VPC endpoint, or a local test server).
    pub endpoint: Option<String>,
    /// Static credentials; `None` uses the default credential chain.
    pub credentials: Option<StaticCredentials>,
}

/// AWS Secrets Manager as a [`SecretStore`].
#[derive(Clone)]
pub struct AwsStore {
    client: Client,
}

impl AwsStore {
    /// Loads the SDK configuration and builds the client.
    pub async fn new(config: AwsConfig) -> Result<AwsStore, SecretError> {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = config.region {
            loader = loader.region(Region::new(region));
        }
        if let Some(endpoint) = config.endpoint {
            crate::http::parse_address(BACKEND, &endpoint)?;
            loader = loader.endpoint_url(endpoint);
        }
        if let Some(creds) = config.credentials {
            let (id, key) = (
                creds.access_key_id.expose_secret(),
                creds.secret_access_key.expose_secret(),
            );
            loader = loader.credentials_provider(Credentials::new(id, key, None, None, "rampart"));
        }
        Ok(AwsStore {
            client: Client::new(&loader.load().await),
        })
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn describe(&self, name: &str) -> Result<Described, SecretError> {
        let out = self
            .client
            .describe_secret()
            .secret_id(name)
            .send()
            .await
            .map_err(|e| sdk_error(name, e))?;
        let stages = out.version_ids_to_stages().cloned().unwrap_or_default();
        let created_at = out
            .created_date()
            .and_then(to_chrono)
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        let rotated_at = out
            .last_rotated_date()
            .or_else(|| out.last_changed_date().filter(|_| stages.len() > 1))
            .and_then(to_chrono);
        let next_rotation = out.next_rotation_date().and_then(to_chrono);
        Ok(Described {
            name: name.to_owned(),
            stages,
            created_at,
            rotated_at,
            next_rotation,
        })
    }

    async fn read(
        &self,
        name: &str,
        label: Option<&str>,
        id: Option<&str>,
    ) -> Result<Secret, SecretError> {
        let mut request = self.client.get_secret_value().secret_id(name);
        if let Some(label) = label {
            request = request.version_stage(label);
        }
        if let Some(id) = id {
            request = request.version_id(id);
        }
        let out = request.send().await.map_err(|e| sdk_error(name, e))?;
        let value = match (out.secret_string(), out.secret_binary()) {
            (Some(text), _) => SecretValue::text(text),
            (None, Some(blob)) => SecretValue::bytes(blob.as_ref().to_vec()),
            (None, None) => return Err(SecretError::Corrupt(format!("`{name}` has no value"))),
        };
        let version = out.version_id().unwrap_or_default().to_owned();
        let described = self.describe(name).await?;
        Ok(Secret {
            value,
            meta: described.meta(&version),
        })
    }

    async fn write(
        &self,
        name: &str,
        value: &SecretValue,
        label: &str,
    ) -> Result<String, SecretError> {
        let request = self
            .client
            .put_secret_value()
            .secret_id(name)
            .version_stages(label);
        let request = match value.expose_str().filter(|_| value.is_text()) {
            Some(text) => request.secret_string(text),
            None => request.secret_binary(Blob::new(value.expose_bytes().to_vec())),
        };
        let out = request.send().await.map_err(|e| sdk_error(name, e))?;
        Ok(out.version_id().unwrap_or_default().to_owned())
    }

    async fn create(&self, name: &str, value: &SecretValue) -> Result<String, SecretError> {
        let request = self.client.create_secret().name(name);
        let request = match value.expose_str().filter(|_| value.is_text()) {
            Some(text) => request.secret_string(text),
            None => request.secret_binary(Blob::new(value.expose_bytes().to_vec())),
        };
        match request.send().await {
            Ok(out) => Ok(out.version_id().unwrap_or_default().to_owned()),
            Err(error) if error.code() == Some("ResourceExistsException") => {
                Err(SecretError::CasMismatch {
                    name: name.to_owned(),
                    expected: Version::ABSENT.to_owned(),
                    found: "an existing secret".into(),
                })
            }
            Err(error) => Err(sdk_error(name, error)),
        }
    }

    /// Writes the successor of `expected` and makes it current, only if `expected` still is.
    async fn write_successor(
        &self,
        name: &str,
        value: &SecretValue,
        expected: &str,
    ) -> Result<String, SecretError> {
        let mismatch = || SecretError::CasMismatch {
            name: name.to_owned(),
            expected: expected.to_owned(),
            found: "a concurrent write".into(),
        };
        let request = self
            .client
            .put_secret_value()
            .secret_id(name)
            .client_request_token(successor_token(name, expected))
            .version_stages(CAS_LABEL);
        let request = match value.expose_str().filter(|_| value.is_text()) {
            Some(text) => request.secret_string(text),
            None => request.secret_binary(Blob::new(value.expose_bytes().to_vec())),
        };
        let version = match request.send().await {
            Ok(out) => out.version_id().unwrap_or_default().to_owned(),
            Err(error) if error.code() == Some("ResourceExistsException") => {
                return Err(mismatch());
            }
            Err(error) => return Err(sdk_error(name, error)),
        };
        let moved = self
            .client
            .update_secret_version_stage()
            .secret_id(name)
            .version_stage(CURRENT)
            .move_to_version_id(&version)
            .remove_from_version_id(expected)
            .send()
            .await;
        let outcome = match moved {
            Ok(_) => Ok(version.clone()),
            Err(error) if error.code() == Some("InvalidParameterException") => Err(mismatch()),
            Err(error) => Err(sdk_error(name, error)),
        };
        self.move_label(name, CAS_LABEL, None, Some(&version))
            .await?;
        outcome
    }

    async fn move_label(
        &self,
        name: &str,
        label: &str,
        to: Option<&str>,
        from: Option<&str>,
    ) -> Result<(), SecretError> {
        let mut request = self
            .client
            .update_secret_version_stage()
            .secret_id(name)
            .version_stage(label);
        if let Some(to) = to {
            request = request.move_to_version_id(to);
        }
        if let Some(from) = from {
            request = request.remove_from_version_id(from);
        }
        match request.send().await {
            Ok(_) => Ok(()),
            // `RemoveFromVersionId` no longer holds the label: someone moved it meanwhile.
            Err(error) if from.is_some() && error.code() == Some("InvalidParameterException") => {
                Err(SecretError::CasMismatch {
                    name: name.to_owned(),
                    expected: from.unwrap_or_default().to_owned(),
                    found: format!("`{label}` on another version"),
                })
            }
            Err(error) => Err(sdk_error(name, error)),
        }
    }
}

/// What `DescribeSecret` says.
struct Described {
    name: String,
    stages: HashMap<String, Vec<String>>,
    created_at: DateTime<Utc>,
    rotated_at: Option<DateTime<Utc>>,
    next_rotation: Option<DateTime<Utc>>,
}

impl Described {
    fn labelled(&self, label: &str) -> Option<&str> {
        self.stages
            .iter()
            .find(|(_, labels)| labels.iter().any(|l| l == label))
            .map(|(id, _)| id.as_str())
    }

    fn meta(&self, version: &str) -> SecretMeta {
        let labels = self.stages.get(version);
        let has = |label: &str| labels.is_some_and(|l| l.iter().any(|x| x == label));
        let stage = if has(CURRENT) {
            Stage::Current
        } else if has(PENDING) {
            Stage::Pending
        } else if has(PREVIOUS) {
            Stage::Previous
        } else {
            Stage::Deprecated
        };
        SecretMeta {
            name: self.name.clone(),
            version: Version::new(version),
            backend: BACKEND,
            created_at: self.created_at,
            rotated_at: self.rotated_at,
            next_rotation: self.next_rotation,
            stage,
        }
    }

    fn current_meta(&self) -> Result<SecretMeta, SecretError> {
        let id = self
            .labelled(CURRENT)
            .ok_or_else(|| SecretError::NotFound(self.name.clone()))?;
        Ok(self.meta(id))
    }
}

/// The `ClientRequestToken` of the version that succeeds `expected`: the same for every
/// writer expecting it, a UUID-shaped hex string (Secrets Manager takes 32 to 64 characters).
fn successor_token(name: &str, expected: &str) -> String {
    let input = format!("rampart-cas\u{0}{name}\u{0}{expected}");
    let digest = ring::digest::digest(&ring::digest::SHA256, input.as_bytes());
    let hex: String = digest
        .as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default().to_owned();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

fn to_chrono(time: &aws_sdk_secretsmanager::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(time.secs(), time.subsec_nanos())
}

/// Maps an SDK error to a store error naming the secret and AWS's error code only.
fn sdk_error<E, R>(name: &str, error: SdkError<E, R>) -> SecretError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = error.code().unwrap_or_default().to_owned();
    match code.as_str() {
        "ResourceNotFoundException" => SecretError::NotFound(name.to_owned()),
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException" => SecretError::Denied {
            backend: BACKEND,
            detail: code,
        },
        "" => SecretError::Unavailable {
            backend: BACKEND,
            detail: transport_detail(&error),
        },
        _ => SecretError::Unavailable {
            backend: BACKEND,
            detail: format!("AWS answered `{code}`"),
        },
    }
}

fn transport_detail<E, R>(error: &SdkError<E, R>) -> String {
    match error {
        SdkError::TimeoutError(_) => "request timed out".into(),
        SdkError::DispatchFailure(_) => "connection failed".into(),
        SdkError::ConstructionFailure(_) => "request could not be built (credentials?)".into(),
        _ => "unexpected answer".into(),
    }
}

#[async_trait]
impl SecretStore for AwsStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn get(&self, name: &str) -> Result<Secret, SecretError> {
        self.read(name, Some(CURRENT), None).await
    }

    async fn get_version(&self, name: &str, version: &Version) -> Result<Secret, SecretError> {
        self.read(name, None, Some(version.as_str())).await
    }

    async fn put(
        &self,
        name: &str,
        value: SecretValue,
        cas: Option<&Version>,
    ) -> Result<SecretMeta, SecretError> {
        crate::store::validate_name(name)?;
        if cas.is_some_and(Version::is_absent) {
            let version = self.create(name, &value).await?;
            return Ok(self.describe(name).await?.meta(&version));
        }
        let existing = match self.describe(name).await {
            Ok(described) => Some(described),
            Err(SecretError::NotFound(_)) => None,
            Err(error) => return Err(error),
        };
        let found = existing
            .as_ref()
            .and_then(|d| d.labelled(CURRENT))
            .unwrap_or(Version::ABSENT)
            .to_owned();
        if let Some(expected) = cas.filter(|c| c.as_str() != found) {
            let (name, expected) = (name.to_owned(), expected.to_string());
            return Err(SecretError::CasMismatch {
                name,
                expected,
                found,
            });
        }
        let version = match (existing, cas) {
            (None, _) => self.create(name, &value).await?,
            (Some(_), Some(_)) => self.write_successor(name, &value, &found).await?,
            (Some(_), None) => self.write(name, &value, CURRENT).await?,
        };
        Ok(self.describe(name).await?.meta(&version))
    }

    async fn list(&self) -> Result<Vec<SecretMeta>, SecretError> {
        let mut metas = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let out = self
                .client
                .list_secrets()
                .set_next_token(next.take())
                .send()
                .await;
            let out = out.map_err(|e| sdk_error("*", e))?;
            for entry in out.secret_list() {
                let described = Described {
                    name: entry.name().unwrap_or_default().to_owned(),
                    stages: entry
                        .secret_versions_to_stages()
                        .cloned()
                        .unwrap_or_default(),
                    created_at: entry
                        .created_date()
                        .and_then(to_chrono)
                        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
                    rotated_at: entry.last_rotated_date().and_then(to_chrono),
                    next_rotation: entry.next_rotation_date().and_then(to_chrono),
                };
                metas.extend(described.current_meta().ok());
            }
            match out.next_token() {
                Some(token) => next = Some(token.to_owned()),
                None => break,
            }
        }
        metas.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(metas)
    }

    async fn metadata(&self, name: &str) -> Result<SecretMeta, SecretError> {
        self.describe(name).await?.current_meta()
    }

    async fn stage_pending(
        &self,
        name: &str,
        value: SecretValue,
    ) -> Result<SecretMeta, SecretError> {
        // A label sits on one version only: AWS moves `AWSPENDING` off any older one.
        let version = self.write(name, &value, PENDING).await?;
        Ok(self.describe(name).await?.meta(&version))
    }

    async fn pending(&self, name: &str) -> Result<Secret, SecretError> {
        self.read(name, Some(PENDING), None).await
    }

    async fn promote_pending(&self, name: &str) -> Result<SecretMeta, SecretError> {
        let described = self.describe(name).await?;
        let pending = described
            .labelled(PENDING)
            .map(str::to_owned)
            .ok_or_else(|| SecretError::NoSuchVersion {
                name: name.to_owned(),
                what: "pending version".into(),
            })?;
        let current = described.labelled(CURRENT).map(str::to_owned);
        self.move_label(name, CURRENT, Some(&pending), current.as_deref())
            .await?;
        self.move_label(name, PENDING, None, Some(&pending)).await?;
        Ok(self.describe(name).await?.meta(&pending))
    }

    async fn previous(&self, name: &str) -> Result<Secret, SecretError> {
        self.read(name, Some(PREVIOUS), None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_token_is_uuid_shaped_and_names_the_expected_version() {
        let token = successor_token("broker-api-key", "v-1");
        assert_eq!(token.len(), 36);
        assert_eq!(token.matches('-').count(), 4);
        assert_eq!(token, successor_token("broker-api-key", "v-1"));
        assert_ne!(token, successor_token("broker-api-key", "v-2"));
        assert_ne!(token, successor_token("other", "v-1"));
    }
}
