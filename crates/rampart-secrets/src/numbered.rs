//! Rules shared by the backends that number their versions (Vault KV v1 and v2, GCP Secret
//! Manager): what a check-and-set expects, which versions may be asked for, and which
//! version holds which stage.
//!
//! Rule upheld: a write whose expected version is not the current one is refused with both
//! versions named, never applied; a version asked for by something other than a number,
//! or by a stage no version holds, is no such version.

use crate::store::{SecretError, Stage, Version};

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

/// The numbers of the versions holding the current, pending and previous stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StageNumbers {
    /// The current version.
    pub(crate) current: u64,
    /// The version staged by a rotation not yet finished, if any.
    pub(crate) pending: Option<u64>,
    /// The version current before the last rotation, if any.
    pub(crate) previous: Option<u64>,
}

impl StageNumbers {
    /// The version of `name` holding `stage` (deprecated reads the current one); a stage
    /// no version holds is no such version.
    pub(crate) fn version_of(&self, name: &str, stage: Stage) -> Result<u64, SecretError> {
        let version = match stage {
            Stage::Current | Stage::Deprecated => Some(self.current),
            Stage::Pending => self.pending,
            Stage::Previous => self.previous,
        };
        version.ok_or_else(|| SecretError::NoSuchVersion {
            name: name.to_owned(),
            what: format!("{} version", stage.as_str()),
        })
    }

    /// The stage `version` holds; deprecated when it holds none.
    pub(crate) fn stage_of(&self, version: u64) -> Stage {
        match Some(version) {
            v if v == Some(self.current) => Stage::Current,
            v if v == self.pending => Stage::Pending,
            v if v == self.previous => Stage::Previous,
            _ => Stage::Deprecated,
        }
    }
}
