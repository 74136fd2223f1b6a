//! Access tokens: short-lived EdDSA-signed JWTs (`typ: at+jwt`) and their verification.
//!
//! The issuer signs with one Ed25519 key; the verifier trusts a fixed set of
//! public keys and pins the algorithm to EdDSA, so a token can never choose
//! how it is checked. Verification refuses, in order: oversized input, bad
//! structure, dangerous or unexpected headers, an unknown key, a bad
//! signature, malformed claims, the wrong issuer or audience, a token outside
//! its validity window or living longer than fifteen minutes, and roles that
//! break segregation of duties. Only the verifier makes [`VerifiedClaims`].

mod issue;
mod verify;
mod wire;

pub use issue::{IssuedToken, Session, TokenIssuer};
pub use verify::{TokenVerifier, VerifiedClaims};

use rampart_core::SodConflict;

/// The `typ` header of every access token (RFC 9068).
pub const TOKEN_TYPE: &str = "at+jwt";

/// The only signing algorithm accepted.
pub const ALGORITHM: &str = "EdDSA";

/// The longest lifetime a token may have, in seconds (fifteen minutes).
pub const MAX_TTL_SECONDS: u32 = 900;

/// The largest clock leeway allowed, in seconds.
pub const MAX_LEEWAY_SECONDS: u32 = 30;

/// The default largest token accepted, in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Issuer, audience and lifetimes shared by the token issuer and verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// The `iss` claim, the gateway's issuer URL.
    pub issuer: String,
    /// The `aud` claim, the gateway's API identifier.
    pub audience: String,
    /// The lifetime of an issued token, at most 900 seconds.
    pub ttl_seconds: u32,
    /// The clock skew tolerated when checking times, at most 30 seconds.
    pub leeway_seconds: u32,
    /// Tokens longer than this are refused before any parsing.
    pub max_token_bytes: usize,
}

impl TokenConfig {
    /// A configuration with a five-minute lifetime, 30 s leeway and an 8 KiB cap.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            ttl_seconds: 300,
            leeway_seconds: MAX_LEEWAY_SECONDS,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }

    /// Checks the bounds: non-empty issuer and audience, lifetime 1 to 900 s,
    /// leeway at most 30 s, a size cap of at least 512 bytes.
    pub fn validate(&self) -> Result<(), TokenError> {
        if self.issuer.is_empty() {
            return Err(TokenError::InvalidConfig("`issuer` must not be empty"));
        }
        if self.audience.is_empty() {
            return Err(TokenError::InvalidConfig("`audience` must not be empty"));
        }
        if self.ttl_seconds == 0 || self.ttl_seconds > MAX_TTL_SECONDS {
            return Err(TokenError::InvalidConfig("`ttl_seconds` must be 1 to 900"));
        }
        if self.leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(TokenError::InvalidConfig(
                "`leeway_seconds` must be at most 30",
            ));
        }
        if self.max_token_bytes < 512 {
            return Err(TokenError::InvalidConfig(
                "`max_token_bytes` must be at least 512",
            ));
        }
        Ok(())
    }
}

/// Why a token could not be issued or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token configuration is out of bounds.
    #[error("token configuration is invalid: {0}")]
    InvalidConfig(&'static str),
    /// The verifier was given no keys, or two keys with one id.
    #[error("token verification keys are invalid: {0}")]
    InvalidKeys(&'static str),
    /// The principal cannot be written into a token.
    #[error("principal cannot be issued a token: `{0}` is invalid")]
    InvalidPrincipal(&'static str),
    /// Signing or the random generator failed.
    #[error("token could not be signed")]
    Signing,
    /// The token is longer than the configured cap.
    #[error("token is longer than {limit} bytes")]
    TooLarge {
        /// The configured cap in bytes.
        limit: usize,
    },
    /// The token is not three base64url segments holding JSON.
    #[error("token is malformed: {0}")]
    Malformed(&'static str),
    /// The header names a key, key URL, certificate or critical extension.
    #[error("token header `{0}` is not accepted")]
    ForbiddenHeader(&'static str),
    /// The header's `alg` is not EdDSA.
    #[error("token `alg` is not accepted")]
    AlgorithmNotAllowed,
    /// The header's `typ` is not `at+jwt`.
    #[error("token `typ` must be `at+jwt`")]
    WrongType,
    /// The header's `kid` names no trusted key.
    #[error("token `kid` names no trusted key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("token signature is invalid")]
    BadSignature,
    /// A claim is missing or has the wrong type.
    #[error("token claim `{0}` is missing or malformed")]
    InvalidClaim(&'static str),
    /// The `iss` claim is not this gateway.
    #[error("token `iss` is not this gateway")]
    WrongIssuer,
    /// The `aud` claim does not name this gateway.
    #[error("token `aud` does not name this gateway")]
    WrongAudience,
    /// The token's `exp` has passed.
    #[error("token has expired")]
    Expired,
    /// The token's `nbf` is still ahead.
    #[error("token is not valid yet")]
    NotYetValid,
    /// The token's `iat` is in the future.
    #[error("token `iat` is in the future")]
    IssuedInFuture,
    /// `exp - iat` is not between 1 and 900 seconds.
    #[error("token lifetime must be 1 to 900 seconds")]
    InvalidLifetime,
    /// The token, its session or its subject was revoked.
    #[error("token has been revoked")]
    Revoked,
    /// The roles break segregation of duties.
    #[error("token `roles` are not allowed together: {0}")]
    RolesConflict(SodConflict),
}
