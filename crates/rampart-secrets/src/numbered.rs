//! Rules shared by the backends that number their versions (Vault KV v1 and v2, GCP Secret
//! Manager): what a check-and-set expects, and which versions may be asked for.
//!
//! Rule upheld: a write whose expected version is not the current one is refused with both
//! versions named, never applied; a version asked for by something other than a number is
//! no such version.

use crate::store::{SecretError, Version};

/// Refuses a write to `name` unless `cas` is absent or expects the current version `found`
/// (0 when the secret does not exist yet).
pub(crate) fn check_cas(name: &str, cas: Option<&Version>, found: u64) -> Result<(), SecretError> {
    match cas.filter(|c| c.as_number() != Some(found)) {
        Some(expected) => Err(SecretError::CasMismatch {
            name: name.to_owned(),
            expected: expected.to_string(),
            found: found.to_string(),
        }),
        None => Ok(()),
    }
}

/// The number of `version` of `name`; any other version is no such version.
pub(crate) fn version_number(name: &str, version: &Version) -> Result<u64, SecretError> {
    version
        .as_number()
        .ok_or_else(|| SecretError::NoSuchVersion {
            name: name.to_owned(),
            what: "such version".into(),
        })
}
