//! KV version 1: one unversioned record per path, holding the current, pending and
//! previous values and Rampart's own version numbering.
//!
//! Rule upheld: KV v1 has no check-and-set, so a `cas` is checked by reading first, and
//! every write of one secret (put, stage, promote) holds that secret's [`WriteLocks`]
//! entry, so the read-check-write steps of one process never interleave. The limit,
//! documented rather than hidden: a writer outside this process (another gateway, the
//! command line, an operator with the `vault` CLI) is not serialised with it; use KV v2,
//! whose `cas` Vault enforces, wherever more than one writer exists.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value};

use super::{Stages, VALUE_FIELD, VaultStore, field_value, status_error, value_fields};
use crate::store::{Secret, SecretError, SecretMeta, SecretValue, Stage, Version};

/// One write lock per secret name, shared by every clone of a store.
#[derive(Debug, Default)]
pub(super) struct WriteLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl WriteLocks {
    /// Waits for the write lock of `name`; it is held until the guard is dropped.
    pub(super) async fn lock(&self, name: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(locks.entry(name.to_owned()).or_default())
        };
        lock.lock_owned().await
    }
}

const STAGES_FIELD: &str = "rampart_stages";
const PENDING_FIELD: &str = "rampart_pending";
const PREVIOUS_FIELD: &str = "rampart_previous";

/// A KV v1 record.
struct Record {
    data: Map<String, Value>,
    stages: Stages,
}

impl Record {
    fn stage_data(&self, stage: Stage) -> Option<&Map<String, Value>> {
        match stage {
            Stage::Current => Some(&self.data),
            Stage::Pending => self.data.get(PENDING_FIELD).and_then(Value::as_object),
            Stage::Previous => self.data.get(PREVIOUS_FIELD).and_then(Value::as_object),
            Stage::Deprecated => None,
        }
    }

    fn secret(&self, name: &str, stage: Stage) -> Result<Secret, SecretError> {
        let version = self.stages.stage(name, stage)?;
        let data = self
            .stage_data(stage)
            .ok_or_else(|| SecretError::NoSuchVersion {
                name: name.to_owned(),
                what: format!("{} version", stage.as_str()),
            })?;
        Ok(Secret {
            value: field_value(data, VALUE_FIELD, name)?,
            meta: self.stages.meta(name, version),
        })
    }
}

async fn load(store: &VaultStore, name: &str) -> Result<Option<Record>, SecretError> {
    crate::store::validate_name(name)?;
    let path = format!("{}/{name}", store.mount);
    let (status, answer) = store.client.call(Method::GET, &path, None).await?;
    if status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(status_error(name, status, "read"));
    }
    let data = answer
        .get("data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let stages = data
        .get(STAGES_FIELD)
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or(Stages {
            current: 1,
            ..Stages::default()
        });
    Ok(Some(Record { data, stages }))
}

async fn save(
    store: &VaultStore,
    name: &str,
    mut record: Record,
) -> Result<SecretMeta, SecretError> {
    let stages = serde_json::to_value(&record.stages)
        .map_err(|e| SecretError::Io(format!("encoding stages failed: {e}")))?;
    record.data.insert(STAGES_FIELD.into(), stages);
    let path = format!("{}/{name}", store.mount);
    let body = Value::Object(record.data);
    let (status, _) = store.client.call(Method::POST, &path, Some(&body)).await?;
    if !status.is_success() {
        return Err(status_error(name, status, "write"));
    }
    Ok(record.stages.meta(name, record.stages.current))
}

fn existing(record: Option<Record>, name: &str) -> Result<Record, SecretError> {
    record.ok_or_else(|| SecretError::NotFound(name.to_owned()))
}

/// The current data and metadata of `name`.
pub(super) async fn read_current(
    store: &VaultStore,
    name: &str,
) -> Result<(Map<String, Value>, SecretMeta), SecretError> {
    let record = existing(load(store, name).await?, name)?;
    let meta = record.stages.meta(name, record.stages.current);
    Ok((record.data, meta))
}

/// The secret at `stage`.
pub(super) async fn read_stage(
    store: &VaultStore,
    name: &str,
    stage: Stage,
) -> Result<Secret, SecretError> {
    existing(load(store, name).await?, name)?.secret(name, stage)
}

/// Version `version`, if it is the current, pending or previous one.
pub(super) async fn read_version(
    store: &VaultStore,
    name: &str,
    version: u64,
) -> Result<Secret, SecretError> {
    let record = existing(load(store, name).await?, name)?;
    let stage = record.stages.meta(name, version).stage;
    if stage == Stage::Deprecated {
        let what = format!("version `{version}` (kv v1 keeps three)");
        return Err(SecretError::NoSuchVersion {
            name: name.to_owned(),
            what,
        });
    }
    record.secret(name, stage)
}

fn next_version(stages: &Stages) -> u64 {
    [Some(stages.current), stages.pending, stages.previous]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0)
        + 1
}

/// Writes a new current value; the old one becomes previous.
pub(super) async fn put(
    store: &VaultStore,
    name: &str,
    value: &SecretValue,
    cas: Option<&Version>,
) -> Result<SecretMeta, SecretError> {
    let old = load(store, name).await?;
    let found = old.as_ref().map_or(0, |r| r.stages.current);
    crate::numbered::check_cas(name, cas, found)?;
    let mut data = value_fields(value);
    let stages = match old {
        None => Stages {
            current: 1,
            created_at: Some(Utc::now()),
            ..Stages::default()
        },
        Some(old) => {
            carry(&old.data, &mut data, PENDING_FIELD);
            data.insert(
                PREVIOUS_FIELD.into(),
                Value::Object(current_fields(&old.data)),
            );
            let current = next_version(&old.stages);
            let previous = Some(old.stages.current);
            Stages {
                current,
                previous,
                rotated_at: Some(Utc::now()),
                ..old.stages
            }
        }
    };
    save(store, name, Record { data, stages }).await
}

/// Stages a pending value.
pub(super) async fn stage_pending(
    store: &VaultStore,
    name: &str,
    value: &SecretValue,
) -> Result<SecretMeta, SecretError> {
    let mut record = existing(load(store, name).await?, name)?;
    let version = next_version(&record.stages);
    record
        .data
        .insert(PENDING_FIELD.into(), Value::Object(value_fields(value)));
    record.stages.pending = Some(version);
    let meta = save(store, name, record).await?;
    Ok(SecretMeta {
        version: Version::number(version),
        stage: Stage::Pending,
        ..meta
    })
}

/// Promotes pending to current and current to previous.
pub(super) async fn promote(store: &VaultStore, name: &str) -> Result<SecretMeta, SecretError> {
    let old = existing(load(store, name).await?, name)?;
    let pending_version = old.stages.stage(name, Stage::Pending)?;
    let pending = old.stage_data(Stage::Pending).cloned().unwrap_or_default();
    let mut data = pending;
    data.insert(
        PREVIOUS_FIELD.into(),
        Value::Object(current_fields(&old.data)),
    );
    let stages = Stages {
        current: pending_version,
        pending: None,
        previous: Some(old.stages.current),
        rotated_at: Some(Utc::now()),
        ..old.stages
    };
    save(store, name, Record { data, stages }).await
}

/// The current value's own fields, without the stage bookkeeping.
fn current_fields(data: &Map<String, Value>) -> Map<String, Value> {
    let bookkeeping = [STAGES_FIELD, PENDING_FIELD, PREVIOUS_FIELD];
    data.iter()
        .filter(|(k, _)| !bookkeeping.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn carry(from: &Map<String, Value>, to: &mut Map<String, Value>, key: &str) {
    if let Some(value) = from.get(key) {
        to.insert(key.to_owned(), value.clone());
    }
}
