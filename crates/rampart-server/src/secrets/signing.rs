//! The token-signing key in the secret store, and the keyring built from it.
//!
//! Rule upheld: the signing key never sits in a plain file. It is created in
//! the secret store on first start ([`ensure_key`]); a data directory from
//! before the store had one is migrated once and the plain file removed. The
//! keyring is rebuilt from the store's current and previous versions: the
//! current key signs from `rotated_at + publish delay`, and the previous key
//! stays published until every token it signed has expired.

use std::path::Path;

use chrono::{DateTime, Utc};
use rampart_audit::{NewEvent, Outcome};
use rampart_auth::{Keyring, KeyringError, SigningKey};
use rampart_secrets::{Secret, SecretError, SecretStore, SecretValue, Version};
use rampart_store::Store;
use serde_json::json;

use crate::request_id;
use crate::secrets::SIGNING_KEY;
use crate::secrets::audit::{SECRET_MIGRATED, SYSTEM_ACTOR};
use crate::service::audit as events;

/// Why the signing keys could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    /// The secret store failed.
    #[error("the secret store failed: {0}")]
    Store(#[from] SecretError),
    /// A stored version is not an Ed25519 PKCS#8 key.
    #[error("secret `{name}` version `{version}` is not a token-signing key")]
    NotAKey {
        /// The secret.
        name: String,
        /// The version.
        version: String,
    },
    /// A new key could not be generated.
    #[error("a token-signing key could not be generated")]
    Generate,
    /// The plain key file could not be migrated.
    #[error("the plain key file `{path}` could not be migrated: {reason}")]
    Migration {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The keyring refused the keys.
    #[error("the signing keys are unusable: {0}")]
    Keyring(#[from] KeyringError),
    /// The audit log could not record the migration.
    #[error(transparent)]
    Audit(#[from] rampart_store::StoreError),
}

/// Timing of signing-key rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTiming {
    /// Seconds a new key is published before it signs.
    pub publish_delay: i64,
    /// Seconds a key stays published after it stops signing (token TTL + leeway).
    pub retention: i64,
}

/// One key of the keyring with the time it starts signing.
pub type TimedKey = (SigningKey, i64);

/// Reads secret `name`, or writes the value `generate` makes if there is none; says which.
pub async fn ensure_key<S, G>(
    store: &S,
    name: &str,
    generate: G,
) -> Result<(Secret, bool), SecretError>
where
    S: SecretStore + ?Sized,
    G: FnOnce() -> Result<SecretValue, SecretError>,
{
    match store.get(name).await {
        Ok(secret) => Ok((secret, false)),
        Err(SecretError::NotFound(_)) => {
            store
                .put(name, generate()?, Some(&Version::absent()))
                .await?;
            Ok((store.get(name).await?, true))
        }
        Err(error) => Err(error),
    }
}

/// A new Ed25519 signing key as a secret value (PKCS#8 DER).
pub fn generate_signing_key() -> Result<SecretValue, SecretError> {
    let key = SigningKey::generate().map_err(|_| SecretError::Io("no randomness".into()))?;
    Ok(SecretValue::bytes(key.expose_pkcs8_der().to_vec()))
}

/// Moves a plain key file into the store (once, audited) and removes the file.
///
/// If the store already holds a key, the file must hold the same key: a file
/// left by an interrupted migration is removed, a different one is refused.
pub async fn migrate_plain_file<S: SecretStore + ?Sized>(
    store: &S,
    audit_store: &Store,
    path: &Path,
) -> Result<bool, SigningKeyError> {
    let kid = |der: &[u8]| {
        SigningKey::from_pkcs8_der(der)
            .map(|key| key.kid().to_owned())
            .map_err(|e| e.to_string())
    };
    migrate_key_file(store, audit_store, path, SIGNING_KEY, kid).await
}

/// Moves the plain key file `path` into secret `name` (once, audited) and removes the file.
///
/// `key_id` parses a key and names it; the file and the stored key must have the
/// same id, so a file left by an interrupted migration is removed and a
/// different one is refused, left in place.
pub async fn migrate_key_file<S, K>(
    store: &S,
    audit_store: &Store,
    path: &Path,
    name: &str,
    key_id: K,
) -> Result<bool, SigningKeyError>
where
    S: SecretStore + ?Sized,
    K: Fn(&[u8]) -> Result<String, String>,
{
    if !path.exists() {
        return Ok(false);
    }
    let failed = |reason: String| SigningKeyError::Migration {
        path: path.display().to_string(),
        reason,
    };
    let bytes = zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| failed(e.to_string()))?);
    let id = key_id(&bytes).map_err(failed)?;
    let value = || Ok(SecretValue::bytes(bytes.to_vec()));
    let (stored, created) = ensure_key(store, name, value).await?;
    let stored_id = key_id(stored.value.expose_bytes()).map_err(|_| SigningKeyError::NotAKey {
        name: name.to_owned(),
        version: stored.meta.version.to_string(),
    })?;
    if stored_id != id {
        return Err(failed("the secret store holds a different key".into()));
    }
    if created {
        record_migration(audit_store, path, name, &stored, &id).await?;
    }
    remove_plain(path).map_err(|e| failed(e.to_string()))?;
    Ok(created)
}

/// The keys of the keyring at `now`, from the store's current and previous versions.
pub async fn load_keys<S: SecretStore + ?Sized>(
    store: &S,
    timing: KeyTiming,
    now: DateTime<Utc>,
) -> Result<Vec<TimedKey>, SigningKeyError> {
    let (current, _) = ensure_key(store, SIGNING_KEY, generate_signing_key).await?;
    let current_key = key_of(&current)?;
    let Some(rotated_at) = current.meta.rotated_at else {
        return Ok(vec![(current_key, i64::MIN)]);
    };
    let signs_from = rotated_at.timestamp().saturating_add(timing.publish_delay);
    if now.timestamp() >= signs_from.saturating_add(timing.retention) {
        return Ok(vec![(current_key, i64::MIN)]);
    }
    match store.previous(SIGNING_KEY).await {
        Ok(previous) => Ok(vec![
            (key_of(&previous)?, i64::MIN),
            (current_key, signs_from),
        ]),
        Err(SecretError::NotFound(_) | SecretError::NoSuchVersion { .. }) => {
            Ok(vec![(current_key, i64::MIN)])
        }
        Err(error) => Err(error.into()),
    }
}

/// Brings `keyring` in line with the store: adds a key rotated in elsewhere, drops retired ones.
///
/// Returns the ids of the keys added.
pub async fn sync_keyring<S: SecretStore + ?Sized>(
    keyring: &Keyring,
    store: &S,
    timing: KeyTiming,
    now: DateTime<Utc>,
) -> Result<Vec<String>, SigningKeyError> {
    let known: Vec<String> = keyring
        .statuses(now.timestamp())
        .into_iter()
        .map(|s| s.kid)
        .collect();
    let mut added = Vec::new();
    for (key, signs_from) in load_keys(store, timing, now).await? {
        if known.iter().any(|kid| kid == key.kid()) {
            continue;
        }
        let kid = key.kid().to_owned();
        // A key found late (rotated by another process) starts signing no earlier than now.
        keyring.add(key, signs_from.max(now.timestamp()))?;
        tracing::info!(kid, "token-signing key published");
        added.push(kid);
    }
    for kid in keyring.prune(now.timestamp()) {
        tracing::info!(kid, "token-signing key retired");
    }
    Ok(added)
}

/// The signing key held in one version of the secret.
pub fn key_of(secret: &Secret) -> Result<SigningKey, SigningKeyError> {
    SigningKey::from_pkcs8_der(secret.value.expose_bytes()).map_err(|_| SigningKeyError::NotAKey {
        name: secret.meta.name.clone(),
        version: secret.meta.version.to_string(),
    })
}

async fn record_migration(
    audit_store: &Store,
    path: &Path,
    name: &str,
    stored: &Secret,
    kid: &str,
) -> Result<(), rampart_store::StoreError> {
    let details = json!({
        "name": name,
        "version": stored.meta.version.as_str(),
        "backend": stored.meta.backend,
        "kid": kid,
        "removed_file": path.display().to_string(),
    });
    let event = NewEvent::new(
        SYSTEM_ACTOR,
        SECRET_MIGRATED,
        format!("secret:{name}"),
        Outcome::Success,
        request_id::generate(),
    )
    .details(details);
    events::append(audit_store, event).await?;
    tracing::warn!(file = %path.display(), secret = name, "plain key moved into the secret store");
    Ok(())
}

/// Overwrites the plain key with zeros, syncs, then removes the file.
fn remove_plain(path: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let length = std::fs::metadata(path)?.len();
    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.write_all(&vec![0u8; usize::try_from(length).unwrap_or(0)])?;
    file.sync_all()?;
    std::fs::remove_file(path)
}
