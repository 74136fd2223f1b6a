//! The [`SecretStore`] trait every backend implements, and the types it speaks.
//!
//! Rule upheld: a value exists only inside [`SecretValue`] (a `secrecy` box, zeroised on
//! drop, `Debug` shows the kind only); metadata ([`SecretMeta`]) never carries a value, and
//! no [`SecretError`] message contains one.
//!
//! Rotation model, shared by all backends: a secret has a *current* version, may have a
//! *pending* one staged by [`SecretStore::stage_pending`], and keeps the *previous* one
//! after [`SecretStore::promote_pending`] (pending → current, current → previous).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};

/// A secret value: text or bytes, zeroised on drop.
pub enum SecretValue {
    /// A UTF-8 value (passwords, tokens, API keys).
    Text(SecretString),
    /// A binary value (keys in DER form, random bytes).
    Bytes(SecretBox<Vec<u8>>),
}

impl SecretValue {
    /// A text value.
    pub fn text(value: impl Into<String>) -> SecretValue {
        SecretValue::Text(SecretString::from(value.into()))
    }

    /// A binary value.
    pub fn bytes(value: Vec<u8>) -> SecretValue {
        SecretValue::Bytes(SecretBox::new(Box::new(value)))
    }

    /// Exposes the value as bytes (UTF-8 for text).
    pub fn expose_bytes(&self) -> &[u8] {
        match self {
            SecretValue::Text(text) => text.expose_secret().as_bytes(),
            SecretValue::Bytes(bytes) => bytes.expose_secret(),
        }
    }

    /// Exposes the value as text, if it is text or valid UTF-8 bytes.
    pub fn expose_str(&self) -> Option<&str> {
        match self {
            SecretValue::Text(text) => Some(text.expose_secret()),
            SecretValue::Bytes(bytes) => std::str::from_utf8(bytes.expose_secret()).ok(),
        }
    }

    /// Whether the value is text.
    pub fn is_text(&self) -> bool {
        matches!(self, SecretValue::Text(_))
    }

    /// Rebuilds a value from stored bytes: text when `is_text`, bytes otherwise.
    pub(crate) fn from_stored(bytes: Vec<u8>, is_text: bool) -> Result<SecretValue, SecretError> {
        if !is_text {
            return Ok(SecretValue::bytes(bytes));
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(SecretValue::text(text)),
            Err(error) => {
                let mut bytes = error.into_bytes();
                zeroize::Zeroize::zeroize(&mut bytes);
                Err(SecretError::Corrupt(
                    "a text value is not valid UTF-8".into(),
                ))
            }
        }
    }
}

impl Clone for SecretValue {
    fn clone(&self) -> SecretValue {
        match self {
            SecretValue::Text(text) => SecretValue::Text(text.clone()),
            SecretValue::Bytes(bytes) => SecretValue::bytes(bytes.expose_secret().clone()),
        }
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretValue::Text(_) => f.write_str("SecretValue::Text([redacted])"),
            SecretValue::Bytes(_) => f.write_str("SecretValue::Bytes([redacted])"),
        }
    }
}

/// A version identifier: a number for the file store, Vault and GCP, a UUID for AWS.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(String);

impl Version {
    /// The version that "does not exist yet": as a `cas`, it requires a new secret.
    pub const ABSENT: &'static str = "0";

    /// A numbered version.
    pub fn number(n: u64) -> Version {
        Version(n.to_string())
    }

    /// A version from its backend's textual id.
    pub fn new(id: impl Into<String>) -> Version {
        Version(id.into())
    }

    /// The check-and-set expectation that the secret does not exist.
    pub fn absent() -> Version {
        Version(Version::ABSENT.to_owned())
    }

    /// Whether this is the "does not exist yet" expectation.
    pub fn is_absent(&self) -> bool {
        self.0 == Version::ABSENT
    }

    /// The version as its backend writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The version as a number, when the backend numbers its versions.
    pub fn as_number(&self) -> Option<u64> {
        self.0.parse().ok()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a version stands in the rotation model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The version in use.
    Current,
    /// A staged version, not yet in use.
    Pending,
    /// The version in use before the last promotion.
    Previous,
    /// An older version kept by the backend, in no stage.
    Deprecated,
}

impl Stage {
    /// The stage's stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Current => "current",
            Stage::Pending => "pending",
            Stage::Previous => "previous",
            Stage::Deprecated => "deprecated",
        }
    }
}

/// Metadata of one version of a secret: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretMeta {
    /// The secret's name in its store.
    pub name: String,
    /// The version described.
    pub version: Version,
    /// The backend holding it (`file`, `vault`, `aws`, `gcp`).
    pub backend: &'static str,
    /// When the secret was first created.
    pub created_at: DateTime<Utc>,
    /// When the current version became current, if the secret was ever rotated.
    pub rotated_at: Option<DateTime<Utc>>,
    /// When the next rotation is due, if known.
    pub next_rotation: Option<DateTime<Utc>>,
    /// The version's stage.
    pub stage: Stage,
}

/// A secret value with its metadata.
#[derive(Debug, Clone)]
pub struct Secret {
    /// The value, zeroised on drop.
    pub value: SecretValue,
    /// Its metadata.
    pub meta: SecretMeta,
}

/// Why a secret operation failed; messages name the secret, never its value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The secret does not exist.
    #[error("secret `{0}` does not exist")]
    NotFound(String),
    /// The version or stage asked for does not exist.
    #[error("secret `{name}` has no {what}")]
    NoSuchVersion {
        /// The secret.
        name: String,
        /// What is missing (`version 3`, `pending version`).
        what: String,
    },
    /// A check-and-set expectation did not hold.
    #[error("secret `{name}` changed: expected version `{expected}`, found `{found}`")]
    CasMismatch {
        /// The secret.
        name: String,
        /// The version the caller expected to be current.
        expected: String,
        /// The version actually current (`0` when none).
        found: String,
    },
    /// A name the store cannot hold.
    #[error("secret name `{0}` is invalid: {1}")]
    InvalidName(String, &'static str),
    /// The backend refused the credentials (expired token, wrong key, missing grant).
    #[error("{backend} refused access: {detail}")]
    Denied {
        /// The backend.
        backend: &'static str,
        /// What it said, without any value.
        detail: String,
    },
    /// The backend could not be reached or answered unexpectedly.
    #[error("{backend} is unavailable: {detail}")]
    Unavailable {
        /// The backend.
        backend: &'static str,
        /// What went wrong, without any value.
        detail: String,
    },
    /// Stored data could not be read back (tampered, truncated, wrong master key).
    #[error("secret store data is unreadable: {0}")]
    Corrupt(String),
    /// Local storage failed.
    #[error("secret store i/o failed: {0}")]
    Io(String),
    /// The backend cannot do this.
    #[error("{backend} does not support {what}")]
    Unsupported {
        /// The backend.
        backend: &'static str,
        /// The operation.
        what: &'static str,
    },
    /// The configuration of a backend or reference is wrong.
    #[error("secret configuration is invalid: {0}")]
    Config(String),
}

/// Named, versioned secrets in the current/pending/previous rotation model.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The backend's stable name (`file`, `vault`, `aws`, `gcp`).
    fn backend(&self) -> &'static str;

    /// The current version of `name`.
    async fn get(&self, name: &str) -> Result<Secret, SecretError>;

    /// A given version of `name`.
    async fn get_version(&self, name: &str, version: &Version) -> Result<Secret, SecretError>;

    /// Writes a new current version; with `cas`, only if `cas` is the current version
    /// ([`Version::absent`] requires that the secret does not exist yet).
    async fn put(
        &self,
        name: &str,
        value: SecretValue,
        cas: Option<&Version>,
    ) -> Result<SecretMeta, SecretError>;

    /// The current metadata of every secret.
    async fn list(&self) -> Result<Vec<SecretMeta>, SecretError>;

    /// The current metadata of `name`.
    async fn metadata(&self, name: &str) -> Result<SecretMeta, SecretError>;

    /// Stages `value` as the pending version of an existing secret, replacing any pending
    /// one; the current version stays in use.
    async fn stage_pending(
        &self,
        name: &str,
        value: SecretValue,
    ) -> Result<SecretMeta, SecretError>;

    /// The pending version of `name`.
    async fn pending(&self, name: &str) -> Result<Secret, SecretError>;

    /// Makes the pending version current and the current one previous.
    async fn promote_pending(&self, name: &str) -> Result<SecretMeta, SecretError>;

    /// The previous version of `name`.
    async fn previous(&self, name: &str) -> Result<Secret, SecretError>;
}

/// Implements [`SecretStore`] for a smart pointer by delegating to its target.
macro_rules! delegate_store {
    ($pointer:ident) => {
        #[async_trait]
        impl<S: SecretStore + ?Sized> SecretStore for $pointer<S> {
            fn backend(&self) -> &'static str {
                (**self).backend()
            }

            async fn get(&self, name: &str) -> Result<Secret, SecretError> {
                (**self).get(name).await
            }

            async fn get_version(&self, name: &str, v: &Version) -> Result<Secret, SecretError> {
                (**self).get_version(name, v).await
            }

            async fn put(
                &self,
                name: &str,
                value: SecretValue,
                cas: Option<&Version>,
            ) -> Result<SecretMeta, SecretError> {
                (**self).put(name, value, cas).await
            }

            async fn list(&self) -> Result<Vec<SecretMeta>, SecretError> {
                (**self).list().await
            }

            async fn metadata(&self, name: &str) -> Result<SecretMeta, SecretError> {
                (**self).metadata(name).await
            }

            async fn stage_pending(
                &self,
                name: &str,
                value: SecretValue,
            ) -> Result<SecretMeta, SecretError> {
                (**self).stage_pending(name, value).await
            }

            async fn pending(&self, name: &str) -> Result<Secret, SecretError> {
                (**self).pending(name).await
            }

            async fn promote_pending(&self, name: &str) -> Result<SecretMeta, SecretError> {
                (**self).promote_pending(name).await
            }

            async fn previous(&self, name: &str) -> Result<Secret, SecretError> {
                (**self).previous(name).await
            }
        }
    };
}

delegate_store!(Arc);
delegate_store!(Box);

/// Checks a secret name for the stores that use it as a path: 1 to 200 characters of
/// `A-Z a-z 0-9 . _ - /`, no empty, `.` or `..` segment, no leading or trailing `/`.
pub fn validate_name(name: &str) -> Result<(), SecretError> {
    let invalid = |why| Err(SecretError::InvalidName(printable(name), why));
    if name.is_empty() || name.len() > 200 {
        return invalid("it must have 1 to 200 characters");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/');
    if !name.chars().all(allowed) {
        return invalid("only letters, digits, `.`, `_`, `-` and `/` are allowed");
    }
    if name
        .split('/')
        .any(|segment| matches!(segment, "" | "." | ".."))
    {
        return invalid("a path segment is empty, `.` or `..`");
    }
    Ok(())
}

/// A name made safe to print in an error: at most 64 printable characters.
pub(crate) fn printable(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_value_never_shows_it() {
        let text = SecretValue::text("hunter2-canary");
        let bytes = SecretValue::bytes(b"bytes-canary".to_vec());
        assert_eq!(format!("{text:?}"), "SecretValue::Text([redacted])");
        assert!(!format!("{bytes:?}").contains("canary"));
    }

    #[test]
    fn names_with_dot_segments_are_refused() {
        assert!(validate_name("a/../b").is_err());
        assert!(validate_name("/lead").is_err());
        assert!(validate_name("broker/api-key").is_ok());
    }

    #[test]
    fn absent_version_is_recognised() {
        assert!(Version::absent().is_absent());
        assert!(!Version::number(1).is_absent());
        assert_eq!(Version::number(7).as_number(), Some(7));
    }
}
