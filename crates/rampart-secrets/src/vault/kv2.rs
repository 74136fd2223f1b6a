//! KV version 2: versioned reads, check-and-set writes, metadata and stage bookkeeping.
//!
//! Rule upheld: every write carries Vault's own `cas` (the latest version seen), so two
//! writers never silently overwrite each other; the stage pointers move under `cas` too,
//! in the stage record of [`super::kv2_stages`], mirrored into custom metadata.

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::kv2_stages::{self, RECORD_FOLDER};
use super::{Stages, VALUE_FIELD, VaultStore, field_value, status_error, value_fields};
use crate::store::{Secret, SecretError, SecretMeta, SecretValue, Version};

/// What the metadata endpoint says about a secret.
struct Metadata {
    latest: u64,
    stages: Stages,
    /// The stage record's version: the `cas` of the next pointer move.
    record: u64,
}

/// The stages of `name`.
pub(super) async fn stages(store: &VaultStore, name: &str) -> Result<Stages, SecretError> {
    read_metadata(store, name)
        .await?
        .map(|m| m.stages)
        .ok_or_else(|| SecretError::NotFound(name.to_owned()))
}

async fn read_metadata(store: &VaultStore, name: &str) -> Result<Option<Metadata>, SecretError> {
    let path = format!("{}/metadata/{name}", store.mount);
    let (status, answer) = store.client.call(Method::GET, &path, None).await?;
    if status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(status_error(name, status, "metadata read"));
    }
    let data = answer.get("data").unwrap_or(&Value::Null);
    let latest = data
        .get("current_version")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let custom = data.get("custom_metadata").and_then(Value::as_object);
    let number = |key: &str| {
        custom
            .and_then(|c| c.get(key))
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
    };
    let current = number("rampart_current").unwrap_or(latest);
    let rotated_at = custom
        .and_then(|c| c.get("rampart_rotated_at"))
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<DateTime<Utc>>().ok());
    let mirrored = Stages {
        current,
        pending: number("rampart_pending"),
        previous: number("rampart_previous"),
        created_at: time(data.get("created_time")),
        rotated_at,
    };
    let record = kv2_stages::read(store, name).await?;
    let stages = record.stages.unwrap_or(mirrored);
    Ok(Some(Metadata {
        latest,
        stages,
        record: record.version,
    }))
}

fn time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    value.and_then(Value::as_str).and_then(|s| s.parse().ok())
}

/// The data of version `version` of `name`.
async fn read_data(
    store: &VaultStore,
    name: &str,
    version: u64,
) -> Result<Map<String, Value>, SecretError> {
    let path = format!("{}/data/{name}?version={version}", store.mount);
    let (status, answer) = store.client.call(Method::GET, &path, None).await?;
    if status == StatusCode::NOT_FOUND {
        return Err(SecretError::NoSuchVersion {
            name: name.to_owned(),
            what: format!("version `{version}`"),
        });
    }
    if !status.is_success() {
        return Err(status_error(name, status, "read"));
    }
    answer
        .pointer("/data/data")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| SecretError::NoSuchVersion {
            name: name.to_owned(),
            what: format!("live version `{version}`"),
        })
}

/// The data and metadata of the current version of `name`.
pub(super) async fn read_current(
    store: &VaultStore,
    name: &str,
) -> Result<(Map<String, Value>, SecretMeta), SecretError> {
    let stages = stages(store, name).await?;
    let data = read_data(store, name, stages.current).await?;
    Ok((data, stages.meta(name, stages.current)))
}

/// Version `version` of `name`.
pub(super) async fn read_version(
    store: &VaultStore,
    name: &str,
    version: u64,
) -> Result<Secret, SecretError> {
    let stages = stages(store, name).await?;
    let data = read_data(store, name, version).await?;
    let value = field_value(&data, VALUE_FIELD, name)?;
    Ok(Secret {
        value,
        meta: stages.meta(name, version),
    })
}

/// The metadata of the current version of `name`.
pub(super) async fn metadata(store: &VaultStore, name: &str) -> Result<SecretMeta, SecretError> {
    let stages = stages(store, name).await?;
    Ok(stages.meta(name, stages.current))
}

/// Writes a version with Vault's `cas` set to `latest`; returns the new version number.
async fn write(
    store: &VaultStore,
    name: &str,
    value: &SecretValue,
    latest: u64,
) -> Result<u64, SecretError> {
    let path = format!("{}/data/{name}", store.mount);
    let body = json!({ "options": { "cas": latest }, "data": value_fields(value) });
    let (status, answer) = store.client.call(Method::POST, &path, Some(&body)).await?;
    if status == StatusCode::BAD_REQUEST && is_cas_failure(&answer) {
        return Err(SecretError::CasMismatch {
            name: name.to_owned(),
            expected: latest.to_string(),
            found: "a newer version".into(),
        });
    }
    if !status.is_success() {
        return Err(status_error(name, status, "write"));
    }
    answer
        .pointer("/data/version")
        .and_then(Value::as_u64)
        .ok_or_else(|| SecretError::Unavailable {
            backend: super::BACKEND,
            detail: "write answer has no version".into(),
        })
}

pub(super) fn is_cas_failure(answer: &Value) -> bool {
    let errors = answer.get("errors").and_then(Value::as_array);
    errors.is_some_and(|e| {
        e.iter()
            .filter_map(Value::as_str)
            .any(|m| m.contains("check-and-set"))
    })
}

/// Moves the stages of `name` if its record is still at `record`, then mirrors them.
async fn move_stages(
    store: &VaultStore,
    name: &str,
    record: u64,
    stages: &Stages,
) -> Result<(), SecretError> {
    kv2_stages::write(store, name, record, stages).await?;
    if let Err(error) = write_stages(store, name, stages).await {
        tracing::warn!(secret = name, %error, "stage pointers moved; their mirror was not");
    }
    Ok(())
}

/// Moves the stages like [`move_stages`]; a version written for the move that lost is
/// soft-deleted.
async fn move_stages_or_discard(
    store: &VaultStore,
    name: &str,
    record: u64,
    stages: &Stages,
    written: u64,
) -> Result<(), SecretError> {
    let moved = move_stages(store, name, record, stages).await;
    if let Err(SecretError::CasMismatch { .. }) = &moved {
        kv2_stages::discard(store, name, written).await;
    }
    moved
}

/// Mirrors the stages of `name` into its custom metadata, for operators.
async fn write_stages(store: &VaultStore, name: &str, stages: &Stages) -> Result<(), SecretError> {
    let mut custom = Map::new();
    custom.insert(
        "rampart_current".into(),
        Value::String(stages.current.to_string()),
    );
    let optional = [
        ("rampart_pending", stages.pending),
        ("rampart_previous", stages.previous),
    ];
    for (key, version) in optional {
        if let Some(version) = version {
            custom.insert(key.into(), Value::String(version.to_string()));
        }
    }
    if let Some(at) = stages.rotated_at {
        custom.insert("rampart_rotated_at".into(), Value::String(at.to_rfc3339()));
    }
    let path = format!("{}/metadata/{name}", store.mount);
    let body = json!({ "custom_metadata": custom });
    let (status, _) = store.client.call(Method::POST, &path, Some(&body)).await?;
    if !status.is_success() {
        return Err(status_error(name, status, "metadata write"));
    }
    Ok(())
}

/// Writes a new current version, checking `cas` against the current one.
pub(super) async fn put(
    store: &VaultStore,
    name: &str,
    value: &SecretValue,
    cas: Option<&Version>,
) -> Result<SecretMeta, SecretError> {
    let existing = read_metadata(store, name).await?;
    let found = existing.as_ref().map_or(0, |m| m.stages.current);
    crate::numbered::check_cas(name, cas, found)?;
    let latest = existing.as_ref().map_or(0, |m| m.latest);
    let record = existing.as_ref().map_or(0, |m| m.record);
    let version = write(store, name, value, latest).await?;
    let stages = match existing {
        None => Stages {
            current: version,
            created_at: Some(Utc::now()),
            ..Stages::default()
        },
        Some(old) => Stages {
            current: version,
            previous: Some(old.stages.current),
            rotated_at: Some(Utc::now()),
            ..old.stages
        },
    };
    move_stages_or_discard(store, name, record, &stages, version).await?;
    Ok(stages.meta(name, version))
}

/// Stages a new pending version of an existing secret.
pub(super) async fn stage_pending(
    store: &VaultStore,
    name: &str,
    value: &SecretValue,
) -> Result<SecretMeta, SecretError> {
    let existing = read_metadata(store, name)
        .await?
        .ok_or_else(|| SecretError::NotFound(name.to_owned()))?;
    let version = write(store, name, value, existing.latest).await?;
    let stages = Stages {
        pending: Some(version),
        ..existing.stages
    };
    move_stages_or_discard(store, name, existing.record, &stages, version).await?;
    Ok(stages.meta(name, version))
}

/// Promotes pending to current and current to previous.
pub(super) async fn promote(store: &VaultStore, name: &str) -> Result<SecretMeta, SecretError> {
    let existing = read_metadata(store, name)
        .await?
        .ok_or_else(|| SecretError::NotFound(name.to_owned()))?;
    let old = existing.stages;
    let pending = old.stage(name, crate::store::Stage::Pending)?;
    let stages = Stages {
        current: pending,
        pending: None,
        previous: Some(old.current),
        rotated_at: Some(Utc::now()),
        ..old
    };
    move_stages(store, name, existing.record, &stages).await?;
    Ok(stages.meta(name, pending))
}

/// Every secret name under the mount, depth first.
pub(super) async fn list_names(store: &VaultStore) -> Result<Vec<String>, SecretError> {
    let mut names = Vec::new();
    let mut folders = vec![String::new()];
    while let Some(folder) = folders.pop() {
        let path = match store.kv {
            super::KvVersion::V2 => format!("{}/metadata/{folder}?list=true", store.mount),
            super::KvVersion::V1 => format!("{}/{folder}?list=true", store.mount),
        };
        let (status, answer) = store.client.call(Method::GET, &path, None).await?;
        if status == StatusCode::NOT_FOUND {
            continue;
        }
        if !status.is_success() {
            return Err(status_error("*", status, "list"));
        }
        let keys = answer
            .pointer("/data/keys")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for key in keys.iter().filter_map(Value::as_str) {
            if folder.is_empty() && key == RECORD_FOLDER {
                continue;
            }
            let full = format!("{folder}{key}");
            if key.ends_with('/') {
                folders.push(full);
            } else {
                names.push(full);
            }
        }
    }
    names.sort();
    Ok(names)
}
