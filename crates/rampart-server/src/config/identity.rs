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
    /// UNSAFE: lets `role_map` grant a role other than `auditor` (every role in a
    /// segregation-of-duties conflict) without linking, so that one person could hold
    /// two identities and approve their own proposals, or trade and manage risk.
    /// Off by default, and the start refuses such a mapping.
    #[serde(default)]
    pub allow_unlinked_privileged: bool,
    /// Whether tokens must show multi-factor authentication (`amr` or `acr`); turn it
    /// off only for an issuer that enforces MFA itself for every token it issues.
    #[serde(default = "rampart_auth::serde_defaults::default_true")]
    pub require_mfa: bool,
    /// The `amr` values any one of which shows MFA (RFC 8176); when absent, `mfa`,
    /// or a knowledge method (`pwd`, `pin`) with a second factor (`otp`, `hwk`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_amr: Option<Vec<String>>,
    /// The `acr` values that show MFA, such as the issuer's MFA level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mfa_acr: Vec<String>,
}

impl OidcConfig {
    /// An entry with the defaults: no linking, MFA required with the default `amr` list.
    pub fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        subject_prefix: impl Into<String>,
        role_map: BTreeMap<String, String>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            ca_file: None,
            roles_claim: "roles".to_owned(),
            role_map,
            accounts_claim: None,
            subject_prefix: subject_prefix.into(),
            link_by: None,
            users: BTreeMap::new(),
            allow_unlinked_privileged: false,
            require_mfa: true,
            mfa_amr: None,
            mfa_acr: Vec::new(),
        }
    }

    /// Whether outside identities are linked to local people (`link_by` or `users`).
    pub fn links(&self) -> bool {
        self.link_by.is_some() || !self.users.is_empty()
    }

    /// Whether `role_map` grants a role that needs linking to identities that are not linked.
    fn grants_unlinked_privileged(&self) -> bool {
        let roles = self.role_map.values().filter_map(|name| name.parse().ok());
        rampart_auth::oidc::grants_unlinked_privileged(
            roles,
            self.links(),
            self.allow_unlinked_privileged,
        )
    }
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
        if entry.grants_unlinked_privileged() {
            return Err(invalid(
                &key("role_map"),
                "grants a role other than `auditor` to outside identities that are not \
                 linked to local people: set `link_by`, or accept the risk with \
                 `allow_unlinked_privileged = true`",
            ));
        }
        let no_amr = entry.mfa_amr.as_ref().is_some_and(Vec::is_empty);
        if entry.require_mfa && no_amr && entry.mfa_acr.is_empty() {
            return Err(invalid(
                &key("mfa_amr"),
                "must name a value, or `mfa_acr` must, while `require_mfa` is on",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(extra: serde_json::Value) -> OidcConfig {
        let mut entry = serde_json::json!({
            "issuer": "https://idp.example", "audience": "rampart", "roles_claim": "groups",
            "role_map": { "desk-admins": "admin" }, "subject_prefix": "corp:",
        });
        for (name, value) in extra.as_object().into_iter().flatten() {
            entry[name] = value.clone();
        }
        serde_json::from_value(entry).unwrap()
    }

    #[test]
    fn an_entry_requires_mfa_and_linking_for_privileged_roles_by_default() {
        let entry = read(serde_json::json!({}));
        assert!(entry.require_mfa);
        assert_eq!(entry.mfa_amr, None);
        assert!(entry.mfa_acr.is_empty());
        assert!(!entry.allow_unlinked_privileged);
        let error = validate_oidc(&[entry]).unwrap_err();
        assert!(
            error.to_string().contains("auth.oidc[0].role_map"),
            "{error}"
        );
    }

    #[test]
    fn an_unlinked_entry_may_map_only_the_auditor_role() {
        for role in ["trader", "risk_manager", "compliance_officer", "admin"] {
            let entry = read(serde_json::json!({ "role_map": { "desk": role } }));
            let error = validate_oidc(&[entry]).unwrap_err();
            assert!(error.to_string().contains("role_map"), "{role}: {error}");
        }
        let auditors = read(serde_json::json!({ "role_map": { "desk": "auditor" } }));
        assert!(validate_oidc(&[auditors]).is_ok());
    }

    #[test]
    fn a_linked_or_explicitly_allowed_entry_may_map_privileged_roles() {
        let linked = read(serde_json::json!({ "link_by": "subject" }));
        let allowed = read(serde_json::json!({ "allow_unlinked_privileged": true }));
        assert!(validate_oidc(&[linked]).is_ok());
        assert!(validate_oidc(&[allowed]).is_ok());
    }

    #[test]
    fn mfa_required_with_no_value_that_shows_it_is_refused() {
        let entry = read(serde_json::json!({ "link_by": "subject", "mfa_amr": [] }));
        let error = validate_oidc(&[entry]).unwrap_err();
        assert!(
            error.to_string().contains("auth.oidc[0].mfa_amr"),
            "{error}"
        );
        let off = read(serde_json::json!({ "link_by": "subject", "mfa_amr": [],
                                           "require_mfa": false }));
        assert!(validate_oidc(&[off]).is_ok());
    }
}
