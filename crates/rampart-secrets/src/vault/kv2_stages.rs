//! KV v2 stage pointers under check-and-set: a stage record beside each secret.
//!
//! Rule upheld: two writers never both move a secret's stage pointers. Vault's
//! metadata endpoint takes no `cas`, so custom metadata alone cannot refuse a
//! concurrent move; the authoritative pointers therefore live in a KV v2 record
//! at `<mount>/data/.rampart-stages/<name>`, written with `cas` set to the record
//! version read before, which Vault itself enforces. Custom metadata mirrors the
//! pointers for operators. A secret without a record (written by an older
//! Rampart, or by hand) is read from its custom metadata, and its first move
//! creates the record with `cas = 0`. The token needs the same grants on
//! `.rampart-stages/*` as on the secrets.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Stages, VaultStore, status_error};
use crate::store::SecretError;

/// The folder of the stage records inside the mount.
pub(super) const RECORD_FOLDER: &str = ".rampart-stages/";

/// A secret's stage record as read: its KV version (0 when absent) and its stages.
#[derive(Debug, Default)]
pub(super) struct Record {
    /// The record's version, the `cas` of the next move.
    pub(super) version: u64,
    /// The stages it holds, when it exists.
    pub(super) stages: Option<Stages>,
}

fn path(store: &VaultStore, name: &str) -> String {
    format!("{}/data/{RECORD_FOLDER}{name}", store.mount)
}

/// Reads the stage record of `name`.
pub(super) async fn read(store: &VaultStore, name: &str) -> Result<Record, SecretError> {
    let (status, answer) = store
        .client
        .call(Method::GET, &path(store, name), None)
        .await?;
    if status == StatusCode::NOT_FOUND {
        return Ok(Record::default());
    }
    if !status.is_success() {
        return Err(status_error(name, status, "stage record read"));
    }
    let version = answer
        .pointer("/data/metadata/version")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let stages = answer
        .pointer("/data/data/stages")
        .cloned()
        .map(serde_json::from_value::<Stages>)
        .transpose()
        .map_err(|_| SecretError::Corrupt(format!("the stage record of `{name}` is unreadable")))?;
    Ok(Record { version, stages })
}

/// Writes `stages` as the record of `name`, only if the record is still at `expected`.
pub(super) async fn write(
    store: &VaultStore,
    name: &str,
    expected: u64,
    stages: &Stages,
) -> Result<(), SecretError> {
    let stages = serde_json::to_value(stages)
        .map_err(|_| SecretError::Corrupt("stages could not be written".into()))?;
    let body = json!({ "options": { "cas": expected }, "data": { "stages": stages } });
    let (status, answer) = store
        .client
        .call(Method::POST, &path(store, name), Some(&body))
        .await?;
    if status == StatusCode::BAD_REQUEST && super::kv2::is_cas_failure(&answer) {
        return Err(SecretError::CasMismatch {
            name: name.to_owned(),
            expected: format!("stage record version {expected}"),
            found: "a concurrent move".into(),
        });
    }
    if !status.is_success() {
        return Err(status_error(name, status, "stage record write"));
    }
    Ok(())
}

/// Soft-deletes version `version` of `name`: a value that lost the race for the pointers.
pub(super) async fn discard(store: &VaultStore, name: &str, version: u64) {
    let path = format!("{}/delete/{name}", store.mount);
    let body = json!({ "versions": [version] });
    let deleted = store.client.call(Method::POST, &path, Some(&body)).await;
    if !deleted.is_ok_and(|(status, _)| status.is_success()) {
        tracing::warn!(
            secret = name,
            version,
            "a version that lost a check-and-set stays"
        );
    }
}
