//! The Secrets Manager calls behind the store: describing a secret, reading and writing a
//! version, creating a secret, the check-and-set successor and moving a staging label.
//!
//! Rule upheld: a check-and-set write can succeed for one writer only (a deterministic
//! `ClientRequestToken`, then `RemoveFromVersionId`); every other writer sees a mismatch.

use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use aws_sdk_secretsmanager::operation::put_secret_value::builders::PutSecretValueFluentBuilder;
use aws_sdk_secretsmanager::primitives::Blob;
use chrono::{DateTime, Utc};

use super::described::{Described, to_chrono};
use super::errors::sdk_error;
use super::{AwsStore, CAS_LABEL, CURRENT};
use crate::store::{Secret, SecretError, SecretValue, Version};

impl AwsStore {
    pub(super) async fn describe(&self, name: &str) -> Result<Described, SecretError> {
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

    pub(super) async fn read(
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

    pub(super) async fn write(
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
        let out = with_value(request, value)
            .send()
            .await
            .map_err(|e| sdk_error(name, e))?;
        Ok(out.version_id().unwrap_or_default().to_owned())
    }

    pub(super) async fn create(
        &self,
        name: &str,
        value: &SecretValue,
    ) -> Result<String, SecretError> {
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
    pub(super) async fn write_successor(
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
        let version = match with_value(request, value).send().await {
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

    pub(super) async fn move_label(
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

/// Puts `value` into a `PutSecretValue` request: text as a string, anything else as binary.
fn with_value(
    request: PutSecretValueFluentBuilder,
    value: &SecretValue,
) -> PutSecretValueFluentBuilder {
    match value.expose_str().filter(|_| value.is_text()) {
        Some(text) => request.secret_string(text),
        None => request.secret_binary(Blob::new(value.expose_bytes().to_vec())),
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
