//! Reading and adding versions of one secret: the secret resource, a version's payload
//! (checked against its CRC32C) and a new version.
//!
//! Rule upheld: a payload that fails its checksum or is not base64 is reported corrupt,
//! never returned.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use serde_json::Value;

use super::api::{self, SecretResource};
use super::stages::{PartialStages, Stages};
use super::transport::status_error;
use super::{GcpStore, check_id};
use crate::store::{Secret, SecretError, SecretValue, Stage, Version};

impl GcpStore {
    pub(super) async fn resource(&self, name: &str) -> Result<Option<SecretResource>, SecretError> {
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

    pub(super) async fn existing(&self, name: &str) -> Result<SecretResource, SecretError> {
        self.resource(name)
            .await?
            .ok_or_else(|| SecretError::NotFound(name.to_owned()))
    }

    /// Accesses version `version` (a number or `latest`).
    pub(super) async fn access(
        &self,
        name: &str,
        version: &str,
    ) -> Result<(SecretValue, u64), SecretError> {
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

    pub(super) async fn add_version(
        &self,
        name: &str,
        value: &SecretValue,
    ) -> Result<Added, SecretError> {
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

    /// The secret `name`, created empty when it does not exist and `cas` allows that.
    pub(super) async fn resource_or_create(
        &self,
        name: &str,
        cas: Option<&Version>,
    ) -> Result<SecretResource, SecretError> {
        if let Some(resource) = self.resource(name).await? {
            return Ok(resource);
        }
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
        Ok(SecretResource::from_json(&created))
    }

    /// The stages of `resource`, or none when it has no version yet.
    pub(super) async fn current_stages(
        &self,
        name: &str,
        resource: &SecretResource,
    ) -> Result<Option<Stages>, SecretError> {
        match Stages::of(resource) {
            PartialStages(stages, false) => Ok(Some(stages)),
            PartialStages(stages, true) => match self.access(name, "latest").await {
                Ok((_, latest)) => Ok(Some(Stages {
                    current: latest,
                    ..stages
                })),
                Err(SecretError::NotFound(_)) => Ok(None),
                Err(error) => Err(error),
            },
        }
    }

    pub(super) async fn read_stage(&self, name: &str, stage: Stage) -> Result<Secret, SecretError> {
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
pub(super) struct Added {
    pub(super) number: u64,
    pub(super) etag: Option<String>,
}
