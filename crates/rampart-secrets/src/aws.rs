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

mod described;
mod errors;
mod versions;

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{Credentials, Region};
use secrecy::{ExposeSecret, SecretString};

use crate::store::{Secret, SecretError, SecretMeta, SecretStore, SecretValue, Version};
use described::Described;
use errors::sdk_error;

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
                let described = Described::from_entry(entry);
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
