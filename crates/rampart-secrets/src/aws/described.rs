//! What `DescribeSecret` (or a `ListSecrets` entry) says about a secret, and the metadata
//! Rampart reads from it: which version holds which staging label.
//!
//! Rule upheld: a stage is read from AWS's own labels only; a version with none of them is
//! deprecated.

use std::collections::HashMap;

use aws_sdk_secretsmanager::types::SecretListEntry;
use chrono::{DateTime, Utc};

use super::{BACKEND, CURRENT, PENDING, PREVIOUS};
use crate::store::{SecretError, SecretMeta, Stage, Version};

/// What `DescribeSecret` says.
pub(super) struct Described {
    pub(super) name: String,
    pub(super) stages: HashMap<String, Vec<String>>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) rotated_at: Option<DateTime<Utc>>,
    pub(super) next_rotation: Option<DateTime<Utc>>,
}

impl Described {
    /// What a `ListSecrets` entry says, in the shape of `DescribeSecret`.
    pub(super) fn from_entry(entry: &SecretListEntry) -> Described {
        Described {
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
        }
    }

    pub(super) fn labelled(&self, label: &str) -> Option<&str> {
        self.stages
            .iter()
            .find(|(_, labels)| labels.iter().any(|l| l == label))
            .map(|(id, _)| id.as_str())
    }

    pub(super) fn meta(&self, version: &str) -> SecretMeta {
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

    pub(super) fn current_meta(&self) -> Result<SecretMeta, SecretError> {
        let id = self
            .labelled(CURRENT)
            .ok_or_else(|| SecretError::NotFound(self.name.clone()))?;
        Ok(self.meta(id))
    }
}

/// An SDK time as a UTC time, when it is in range.
pub(super) fn to_chrono(
    time: &aws_sdk_secretsmanager::primitives::DateTime,
) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(time.secs(), time.subsec_nanos())
}
