//! One trusted issuer's settings, as read from `[[auth.oidc]]`, and their checks.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jsonwebtoken::Algorithm;
use rampart_core::Role;
use rampart_core::role::CONFLICTS;
use serde::Deserialize;

use super::OidcError;
use crate::jwk::SUPPORTED_ALGORITHMS;

/// The default least interval between two JWKS fetches for one issuer, in seconds.
pub const DEFAULT_REFETCH_SECONDS: u64 = 30;

/// The default clock leeway for outside tokens, in seconds.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 30;

/// The largest leeway allowed, in seconds.
pub const MAX_LEEWAY_SECONDS: u64 = 120;

/// The default largest outside token accepted, in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The longest subject prefix, so that prefixed ids stay within 64 characters.
pub const MAX_PREFIX_CHARS: usize = 24;

/// Whether `role` takes part in a segregation-of-duties conflict (rampart-core's
/// table): such a role is never granted to an outside identity that is not linked
/// to a local person, unless explicitly allowed, since that identity could be a
/// second one of a local person holding the conflicting role.
pub fn needs_link(role: Role) -> bool {
    CONFLICTS.iter().any(|(a, b)| *a == role || *b == role)
}

/// Whether `roles`, granted by an issuer that links identities (`links`) or not,
/// include one that needs linking while the unsafe exception (`allowed`) is off.
pub fn grants_unlinked_privileged(
    roles: impl IntoIterator<Item = Role>,
    links: bool,
    allowed: bool,
) -> bool {
    !links && !allowed && roles.into_iter().any(needs_link)
}

/// One trusted outside issuer and how its tokens map to Rampart principals.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuerConfig {
    /// The issuer URL, compared exactly with `iss` and the discovery document.
    pub issuer: String,
    /// The audience Rampart expects in `aud`.
    pub audience: String,
    /// A PEM bundle of the CAs trusted for this issuer; the public web roots if absent.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The claim holding role names (a string or an array; dots reach nested objects).
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
    /// Outside role names and the Rampart role each grants; others are ignored.
    pub role_map: BTreeMap<String, Role>,
    /// The claim holding assigned account ids, if the issuer provides them.
    #[serde(default)]
    pub accounts_claim: Option<String>,
    /// Put before every outside subject, such as `corp:`, so ids never collide.
    pub subject_prefix: String,
    /// The signature algorithms accepted from this issuer.
    #[serde(default = "default_algorithms")]
    pub allowed_algs: Vec<Algorithm>,
    /// The clock leeway for `exp`, `nbf` and `iat`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
    /// The least interval between two JWKS fetches, in seconds.
    #[serde(default = "default_refetch")]
    pub refetch_interval_seconds: u64,
    /// Tokens longer than this are refused before any parsing.
    #[serde(default = "default_max_bytes")]
    pub max_token_bytes: usize,
    /// Whether each outside identity is linked to a local person (who then is the subject).
    #[serde(default)]
    pub links_identities: bool,
    /// Unsafe: lets `role_map` grant privileged roles to identities that are not linked,
    /// so that one person could act as two and approve their own proposals.
    #[serde(default)]
    pub allow_unlinked_privileged: bool,
    /// Whether a token must show multi-factor authentication (`amr` or `acr`).
    #[serde(default = "crate::serde_defaults::default_true")]
    pub require_mfa: bool,
    /// The `amr` values any one of which shows multi-factor authentication; when
    /// absent, `mfa`, or a knowledge method with a second factor ([`crate::amr`]).
    #[serde(default)]
    pub mfa_amr: Option<Vec<String>>,
    /// The `acr` values that show multi-factor authentication.
    #[serde(default)]
    pub mfa_acr: Vec<String>,
}

impl TrustedIssuerConfig {
    /// An entry with the defaults: `roles` claim, RS256/ES256/EdDSA, 30 s leeway and refetch.
    pub fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        subject_prefix: impl Into<String>,
        role_map: BTreeMap<String, Role>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            ca_file: None,
            roles_claim: default_roles_claim(),
            role_map,
            accounts_claim: None,
            subject_prefix: subject_prefix.into(),
            allowed_algs: default_algorithms(),
            leeway_seconds: default_leeway(),
            refetch_interval_seconds: default_refetch(),
            max_token_bytes: default_max_bytes(),
            links_identities: false,
            allow_unlinked_privileged: false,
            require_mfa: true,
            mfa_amr: None,
            mfa_acr: Vec::new(),
        }
    }

    /// Whether `role_map` grants a privileged role that this entry may not grant:
    /// identities are not linked and the unsafe exception is not set.
    pub fn grants_unlinked_privileged(&self) -> bool {
        grants_unlinked_privileged(
            self.role_map.values().copied(),
            self.links_identities,
            self.allow_unlinked_privileged,
        )
    }

    /// Checks the entry: an `https` issuer without query or fragment, a
    /// non-empty audience and mapping, a short prefix, asymmetric algorithms.
    pub fn validate(&self) -> Result<(), OidcError> {
        let fail = |reason| {
            Err(OidcError::InvalidConfig {
                issuer: self.issuer.clone(),
                reason,
            })
        };
        let Ok(url) = reqwest::Url::parse(&self.issuer) else {
            return fail("`issuer` is not a URL");
        };
        if url.scheme() != "https" || url.host_str().is_none() {
            return fail("`issuer` must be an https URL with a host");
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return fail("`issuer` must not have a query, fragment or user");
        }
        if self.audience.is_empty() {
            return fail("`audience` must not be empty");
        }
        if self.role_map.is_empty() || self.roles_claim.is_empty() {
            return fail("`roles_claim` and `role_map` must not be empty");
        }
        if !is_prefix(&self.subject_prefix) {
            return fail("`subject_prefix` must be 1 to 24 of letters, digits, `-`, `_`, `.`, `:`");
        }
        if self.allowed_algs.is_empty()
            || !self
                .allowed_algs
                .iter()
                .all(|alg| SUPPORTED_ALGORITHMS.contains(alg))
        {
            return fail("`allowed_algs` must be some of `RS256`, `ES256`, `EdDSA`");
        }
        if self.leeway_seconds > MAX_LEEWAY_SECONDS {
            return fail("`leeway_seconds` must be at most 120");
        }
        if self.max_token_bytes < 512 {
            return fail("`max_token_bytes` must be at least 512");
        }
        if self.grants_unlinked_privileged() {
            return fail(
                "`role_map` grants a role other than `auditor` to identities that are not \
                 linked: set `link_by`",
            );
        }
        let no_amr = self.mfa_amr.as_ref().is_some_and(Vec::is_empty);
        if self.require_mfa && no_amr && self.mfa_acr.is_empty() {
            return fail("`mfa_amr` or `mfa_acr` must name a value while `require_mfa` is on");
        }
        Ok(())
    }

    /// The discovery document URL: the issuer plus `/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        )
    }
}

fn is_prefix(prefix: &str) -> bool {
    (1..=MAX_PREFIX_CHARS).contains(&prefix.len())
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

fn default_roles_claim() -> String {
    "roles".to_owned()
}

fn default_algorithms() -> Vec<Algorithm> {
    SUPPORTED_ALGORITHMS.to_vec()
}

fn default_leeway() -> u64 {
    DEFAULT_LEEWAY_SECONDS
}

fn default_refetch() -> u64 {
    DEFAULT_REFETCH_SECONDS
}

fn default_max_bytes() -> usize {
    DEFAULT_MAX_TOKEN_BYTES
}
