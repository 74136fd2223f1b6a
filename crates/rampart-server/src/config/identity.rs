//! The identity settings of `[auth]`: refresh tokens, sign-in throttling, approvals, OIDC.
//!
//! Each section refuses unknown keys and is checked after it is read, so that
//! an unsafe lifetime or a lockout that never locks stops the gateway at
//! start-up with an error naming the key.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The `[auth.refresh]` section: refresh-token lifetimes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RefreshConfig {
    /// How long a refresh token lives unused, in seconds.
    pub idle_seconds: u64,
    /// How long a sign-in lasts whatever happens, in seconds.
    pub absolute_seconds: u64,
}

/// The `[auth.login]` section: how failed sign-ins slow down and lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginConfig {
    /// Failures (per user and per source address) before a lockout.
    pub max_failures: u32,
    /// How long a lockout lasts, in seconds.
    pub lockout_seconds: u64,
    /// The delay added after each failure, in milliseconds, doubling per failure.
    pub delay_base_ms: u64,
    /// The longest delay added, in milliseconds.
    pub delay_max_ms: u64,
}

/// The `[auth.approvals]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalConfig {
    /// How long a proposal waits for its second person, in seconds.
    pub ttl_seconds: u64,
}

/// One `[[auth.oidc]]` entry: an outside issuer whose tokens are trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The issuer URL, matched exactly against the token's `iss`.
    pub issuer: String,
    /// The audience its tokens must name (`aud`).
    pub audience: String,
    /// A PEM bundle of the CAs trusted for its discovery and keys; the system's when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The claim holding the subject's groups or roles.
    pub roles_claim: String,
    /// Claim values mapped to Rampart roles, such as `desk-traders = "trader"`.
    pub role_map: BTreeMap<String, String>,
    /// The claim holding the assigned account ids, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts_claim: Option<String>,
    /// Prepended to the outside subject, so that it never equals a local id.
    pub subject_prefix: String,
    /// Links each outside identity to a local person: by verified `email`, or by
    /// `subject` (the outside `sub` is the local username); unlinked tokens are then refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_by: Option<LinkBy>,
    /// Outside `sub` ▶ local username, checked before `link_by`; a non-empty map links too.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub users: BTreeMap<String, String>,
}

/// How an outside identity is matched to a local person, so four-eyes sees one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkBy {
    /// The verified `email` claim equals the person's e-mail.
    Email,
    /// The outside `sub` equals the person's username.
    Subject,
}

impl Default for RefreshConfig {
    fn default() -> Self {
        Self {
            idle_seconds: 8 * 3600,
            absolute_seconds: 24 * 3600,
        }
    }
}

impl Default for LoginConfig {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lockout_seconds: 15 * 60,
            delay_base_ms: 250,
            delay_max_ms: 4000,
        }
    }
}

impl Default for ApprovalConfig {
    fn default() -> Self {
        Self {
            ttl_seconds: 24 * 3600,
        }
    }
}

impl RefreshConfig {
    /// Checks the lifetimes: idle from 60 s up to the absolute, absolute at most 30 days.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(60..=30 * 86_400).contains(&self.absolute_seconds) {
            return Err(invalid(
                "auth.refresh.absolute_seconds",
                "must be from 60 to 2592000",
            ));
        }
        if !(60..=self.absolute_seconds).contains(&self.idle_seconds) {
            return Err(invalid(
                "auth.refresh.idle_seconds",
                "must be from 60 to `auth.refresh.absolute_seconds`",
            ));
        }
        Ok(())
    }
}

impl LoginConfig {
    /// Checks that failures lock, for a bounded time, with bounded delays.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=100).contains(&self.max_failures) {
            return Err(invalid("auth.login.max_failures", "must be from 1 to 100"));
        }
        if !(1..=86_400).contains(&self.lockout_seconds) {
            return Err(invalid(
                "auth.login.lockout_seconds",
                "must be from 1 to 86400",
            ));
        }
        if self.delay_max_ms > 10_000 {
            return Err(invalid("auth.login.delay_max_ms", "must be at most 10000"));
        }
        if self.delay_base_ms > self.delay_max_ms {
            return Err(invalid(
                "auth.login.delay_base_ms",
                "must be at most `auth.login.delay_max_ms`",
            ));
        }
        Ok(())
    }
}

impl ApprovalConfig {
    /// Checks the waiting time: from a minute to thirty days.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(60..=30 * 86_400).contains(&self.ttl_seconds) {
            return Err(invalid(
                "auth.approvals.ttl_seconds",
                "must be from 60 to 2592000",
            ));
        }
        Ok(())
    }
}

/// Checks every `[[auth.oidc]]` entry, naming the first bad key.
pub fn validate_oidc(entries: &[OidcConfig]) -> Result<(), ConfigError> {
    for (index, entry) in entries.iter().enumerate() {
        let key = |field: &str| format!("auth.oidc[{index}].{field}");
        if !entry.issuer.starts_with("https://") {
            return Err(invalid(&key("issuer"), "must be an `https://` URL"));
        }
        if entry.audience.trim().is_empty() {
            return Err(invalid(&key("audience"), "must not be empty"));
        }
        if entry.roles_claim.trim().is_empty() {
            return Err(invalid(&key("roles_claim"), "must not be empty"));
        }
        if entry.role_map.is_empty() {
            return Err(invalid(&key("role_map"), "must map at least one value"));
        }
        if entry
            .role_map
            .values()
            .any(|role| role.parse::<rampart_core::Role>().is_err())
        {
            return Err(invalid(
                &key("role_map"),
                "maps to a role that does not exist",
            ));
        }
        if entry.subject_prefix.trim().is_empty() {
            return Err(invalid(&key("subject_prefix"), "must not be empty"));
        }
        if entries.iter().take(index).any(|e| e.issuer == entry.issuer) {
            return Err(invalid(&key("issuer"), "repeats an earlier issuer"));
        }
    }
    Ok(())
}

fn invalid(key: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}
