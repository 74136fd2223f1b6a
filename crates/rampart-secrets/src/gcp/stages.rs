//! Rampart's stages (current, pending, previous) kept in a secret's version aliases, and
//! moving them with the secret's etag.
//!
//! Rule upheld: two writers cannot both move the stages; the one that loses sees a
//! check-and-set mismatch, and the version it added is disabled.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Map, Value};

use super::api::{self, SecretResource};
use super::transport::status_error;
use super::versions::Added;
use super::{BACKEND, GcpStore};
use crate::numbered::StageNumbers;
use crate::store::{SecretError, SecretMeta, Stage, Version};

const ROTATED_AT: &str = "rampart-rotated-at";

impl GcpStore {
    /// Moves the stages to `stages`; when another writer moved them first, disables `added`.
    pub(super) async fn set_stages_or_discard(
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

    pub(super) async fn set_stages(
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
}

/// Rampart's stages of one secret, read from its aliases.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stages {
    pub(super) current: u64,
    pub(super) pending: Option<u64>,
    pub(super) previous: Option<u64>,
    pub(super) rotated_at: Option<DateTime<Utc>>,
}

/// Stages whose `current` may still have to be resolved from `latest`.
pub(super) struct PartialStages(pub(super) Stages, pub(super) bool);

impl Stages {
    pub(super) fn of(resource: &SecretResource) -> PartialStages {
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

    /// The numbers of the versions holding each stage.
    fn numbers(&self) -> StageNumbers {
        StageNumbers {
            current: self.current,
            pending: self.pending,
            previous: self.previous,
        }
    }

    pub(super) fn of_stage(&self, name: &str, stage: Stage) -> Result<u64, SecretError> {
        self.numbers().version_of(name, stage)
    }

    pub(super) fn meta(&self, resource: &SecretResource, name: &str, version: u64) -> SecretMeta {
        let stage = self.numbers().stage_of(version);
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
    pub(super) async fn await_latest(
        self,
        store: &GcpStore,
        name: &str,
    ) -> Result<Stages, SecretError> {
        let PartialStages(mut stages, needs_latest) = self;
        if needs_latest {
            let (_, latest) = store.access(name, "latest").await?;
            stages.current = latest;
        }
        Ok(stages)
    }
}
