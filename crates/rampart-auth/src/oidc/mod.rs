//! Tokens of trusted outside OpenID Connect issuers, turned into Rampart principals.
//!
//! Each `[[auth.oidc]]` entry names one issuer exactly. A token's `iss` is read
//! unverified only to pick that entry; from then on everything is checked
//! against it alone: its keys (fetched from its discovery document and JWKS
//! over verified HTTPS, with its own CA bundle or the public web roots, never
//! with verification off), its audience, its algorithms and its claim
//! mapping. Keys are held per issuer, so one issuer's key never verifies
//! another's token, and an unknown `kid` triggers at most one refetch per
//! interval. A token must map to at least one Rampart role, and the mapped
//! roles must respect segregation of duties; the subject id is prefixed so
//! that an outside subject never equals a local one.
//!
//! Every role in a segregation-of-duties conflict (all but `auditor`, read from
//! rampart-core's table) comes from an
//! outside token only when the issuer links identities to local people, since
//! an unlinked identity may be a second identity of a local person and defeat
//! four-eyes: an entry mapping them without linking is refused at start, and
//! a token that would still carry one is refused, not trimmed, so that the
//! holder learns at once rather than from a later denial. The
//! `allow_unlinked_privileged` exception is unsafe and exists for issuers
//! whose people have no local record at all. A token must also show
//! multi-factor authentication (`amr` with `mfa` or a knowledge method and a
//! second factor, or a configured `amr`/`acr` value) unless the entry says the
//! issuer enforces it itself (`require_mfa = false`).

mod claims;
mod config;
mod fetch;
mod verify;

pub use config::{
    DEFAULT_LEEWAY_SECONDS, DEFAULT_REFETCH_SECONDS, TrustedIssuerConfig,
    grants_unlinked_privileged, needs_link,
};
pub use verify::{ExternalIdentity, OidcIssuers, unverified_issuer};

use rampart_core::{Role, SodConflict};

/// Why a trusted-issuer configuration or an outside token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// A trusted-issuer entry is invalid.
    #[error("trusted issuer `{issuer}` is invalid: {reason}")]
    InvalidConfig {
        /// The configured issuer.
        issuer: String,
        /// What is wrong, naming the field.
        reason: &'static str,
    },
    /// The CA bundle of an issuer cannot be read.
    #[error("trusted issuer `{issuer}`: `ca_file` cannot be used: {reason}")]
    CaFile {
        /// The configured issuer.
        issuer: String,
        /// What is wrong.
        reason: String,
    },
    /// The token is longer than the cap.
    #[error("token is longer than {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The token is not a signed JWT.
    #[error("token is malformed: {0}")]
    Malformed(&'static str),
    /// The header names a key, key URL or certificate of its own.
    #[error("token header `{0}` is not accepted")]
    ForbiddenHeader(&'static str),
    /// The header's `alg` is not allowed for this issuer.
    #[error("token `alg` is not accepted")]
    AlgorithmNotAllowed,
    /// No trusted issuer is exactly the token's `iss`.
    #[error("token `iss` is not a trusted issuer")]
    UnknownIssuer,
    /// The issuer publishes no usable key with the token's `kid`.
    #[error("token `kid` names no key of its issuer")]
    UnknownKey,
    /// The issuer's discovery document or JWKS could not be fetched or read.
    #[error("keys of trusted issuer `{issuer}` are unavailable: {reason}")]
    KeysUnavailable {
        /// The configured issuer.
        issuer: String,
        /// What failed, without response bodies.
        reason: &'static str,
    },
    /// The signature does not verify.
    #[error("token signature is invalid")]
    BadSignature,
    /// The `aud` claim does not name this gateway.
    #[error("token `aud` does not name this gateway")]
    WrongAudience,
    /// The `exp` has passed.
    #[error("token has expired")]
    Expired,
    /// The `nbf` is still ahead.
    #[error("token is not valid yet")]
    NotYetValid,
    /// The `iat` is in the future.
    #[error("token `iat` is in the future")]
    IssuedInFuture,
    /// A claim is missing or malformed.
    #[error("token claim `{0}` is missing or malformed")]
    InvalidClaim(&'static str),
    /// None of the token's roles maps to a Rampart role.
    #[error("token grants no Rampart role")]
    NoMappedRole,
    /// The mapped roles break segregation of duties.
    #[error("token roles are not allowed together: {0}")]
    RolesConflict(SodConflict),
    /// A privileged role was mapped for an identity that is not linked to a local person.
    #[error("token grants `{}` to an identity that is not linked to a local person", .0.as_str())]
    UnlinkedPrivilegedRole(Role),
    /// The token does not show multi-factor authentication.
    #[error("token does not show multi-factor authentication (`amr` or `acr`)")]
    MfaRequired,
}
