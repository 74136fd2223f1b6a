//! RFC 7523 `private_key_jwt` client authentication: a client proves itself
//! with a short-lived JWT signed by a key it registered, instead of a secret.
//!
//! The client's public JWK is checked once at registration
//! ([`parse_client_jwk`]: no private members, an asymmetric signature key,
//! RSA of at least 2048 bits). An assertion must name the client as both
//! `iss` and `sub`, name the token endpoint (or the issuer) in `aud`, carry a
//! `jti`, and expire within five minutes; its `alg` must be the one the
//! registered key is for. Replay is the caller's to refuse: it stores each
//! returned `jti` until the returned `exp`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use crate::jwk::{self, JwkProblem, SignatureProblem, segment_json};

/// The JWK type of registered client keys; store it with `serde_json`.
pub use jsonwebtoken::jwk::Jwk as ClientJwk;

/// The longest an assertion may live from now, in seconds (RFC 7523 asks for a short time).
pub const MAX_LIFETIME_SECONDS: i64 = 300;

/// The clock leeway for `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECONDS: i64 = 30;

/// The largest assertion accepted, in bytes.
pub const MAX_ASSERTION_BYTES: usize = 8 * 1024;

/// The longest `jti` accepted, in bytes.
pub const MAX_JTI_BYTES: usize = 256;

/// The fewest bytes of an RSA modulus (2048 bits).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// Header members that would let an assertion bring its own key.
const FORBIDDEN_HEADERS: [&str; 4] = ["jwk", "jku", "x5u", "x5c"];

/// Why a client key or an assertion was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// The registered key is not a usable public signature JWK.
    #[error("`jwk` is not accepted: {0}")]
    InvalidKey(&'static str),
    /// The assertion is too long.
    #[error("client assertion is longer than {MAX_ASSERTION_BYTES} bytes")]
    TooLarge,
    /// The assertion is not a signed JWT.
    #[error("client assertion is malformed")]
    Malformed,
    /// The header names a key or key URL of its own.
    #[error("client assertion header `{0}` is not accepted")]
    ForbiddenHeader(&'static str),
    /// The `alg` is not the one the registered key is for.
    #[error("client assertion `alg` is not accepted")]
    AlgorithmNotAllowed,
    /// The header's `kid` is not the registered key's.
    #[error("client assertion `kid` is not the registered key")]
    WrongKey,
    /// The signature does not verify.
    #[error("client assertion signature is invalid")]
    BadSignature,
    /// `iss` or `sub` is not the client id.
    #[error("client assertion `iss` and `sub` must be the client id")]
    WrongClient,
    /// `aud` names neither the token endpoint nor the issuer.
    #[error("client assertion `aud` does not name this token endpoint")]
    WrongAudience,
    /// `exp` has passed.
    #[error("client assertion has expired")]
    Expired,
    /// `exp` is more than five minutes ahead.
    #[error("client assertion `exp` is more than 300 seconds ahead")]
    TooLongLived,
    /// `nbf` or `iat` is in the future.
    #[error("client assertion is not valid yet")]
    NotYetValid,
    /// A required claim is missing or malformed.
    #[error("client assertion claim `{0}` is missing or malformed")]
    InvalidClaim(&'static str),
}

/// What the caller needs to refuse a replay: the `jti`, kept until `exp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionClaims {
    /// The assertion's unique id.
    pub jti: String,
    /// When it expires, in seconds since the epoch.
    pub exp: i64,
}

/// Verifies client assertions.
#[derive(Debug, Clone, Copy)]
pub struct ClientAssertion;

impl ClientAssertion {
    /// Checks `assertion` from `client_id`, signed by its registered `client_jwk`, at `now_unix`.
    pub fn verify(
        assertion: &str,
        client_jwk: &Jwk,
        client_id: &str,
        token_endpoint_audience: &[String],
        now_unix: i64,
    ) -> Result<AssertionClaims, AssertionError> {
        if assertion.len() > MAX_ASSERTION_BYTES {
            return Err(AssertionError::TooLarge);
        }
        let alg = check_header(assertion, client_jwk)?;
        let key = DecodingKey::from_jwk(client_jwk)
            .map_err(|_| AssertionError::InvalidKey("the key cannot be used"))?;
        let claims = check_signature(assertion, &key, alg)?;
        check_claims(&claims, client_id, token_endpoint_audience, now_unix)
    }
}

/// Parses a client's public JWK for registration.
pub fn parse_client_jwk(value: &Value) -> Result<Jwk, AssertionError> {
    let jwk = jwk::parse_public(value).map_err(|problem| match problem {
        JwkProblem::Malformed => AssertionError::InvalidKey("it is not a JWK"),
        JwkProblem::Private => AssertionError::InvalidKey("it holds private key material"),
        JwkProblem::NotASigningKey => AssertionError::InvalidKey("it is not a signature key"),
    })?;
    if jwk::algorithm_of(&jwk).is_none() {
        return Err(AssertionError::InvalidKey(
            "it must be RSA, P-256 or Ed25519 for `RS256`, `ES256` or `EdDSA`",
        ));
    }
    if let AlgorithmParameters::RSA(rsa) = &jwk.algorithm {
        let modulus = URL_SAFE_NO_PAD
            .decode(rsa.n.as_bytes())
            .map_err(|_| AssertionError::InvalidKey("`n` is not base64url"))?;
        let significant = modulus.iter().skip_while(|b| **b == 0).count();
        if significant < MIN_RSA_MODULUS_BYTES {
            return Err(AssertionError::InvalidKey(
                "RSA keys must have at least 2048 bits",
            ));
        }
    }
    DecodingKey::from_jwk(&jwk)
        .map_err(|_| AssertionError::InvalidKey("the key cannot be used"))?;
    Ok(jwk)
}

/// The algorithm, which must be the registered key's; a `kid`, if given, must match.
fn check_header(assertion: &str, client_jwk: &Jwk) -> Result<Algorithm, AssertionError> {
    let header = segment_json(assertion, 0).ok_or(AssertionError::Malformed)?;
    if let Some(member) = FORBIDDEN_HEADERS
        .into_iter()
        .find(|m| header.get(*m).is_some())
    {
        return Err(AssertionError::ForbiddenHeader(member));
    }
    let alg = match header.get("alg").and_then(Value::as_str) {
        Some("RS256") => Algorithm::RS256,
        Some("ES256") => Algorithm::ES256,
        Some("EdDSA") => Algorithm::EdDSA,
        _ => return Err(AssertionError::AlgorithmNotAllowed),
    };
    if !jwk::fits(client_jwk, alg) {
        return Err(AssertionError::AlgorithmNotAllowed);
    }
    let kid = header.get("kid").and_then(Value::as_str);
    if let (Some(kid), Some(registered)) = (kid, client_jwk.common.key_id.as_deref()) {
        if kid != registered {
            return Err(AssertionError::WrongKey);
        }
    }
    Ok(alg)
}

fn check_signature(
    assertion: &str,
    key: &DecodingKey,
    alg: Algorithm,
) -> Result<Value, AssertionError> {
    jwk::verified_claims(assertion, key, alg).map_err(|problem| match problem {
        SignatureProblem::BadSignature => AssertionError::BadSignature,
        SignatureProblem::Algorithm => AssertionError::AlgorithmNotAllowed,
        SignatureProblem::Malformed => AssertionError::Malformed,
    })
}

fn check_claims(
    claims: &Value,
    client_id: &str,
    audiences: &[String],
    now: i64,
) -> Result<AssertionClaims, AssertionError> {
    let text = |name| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(client_id) || text("sub") != Some(client_id) {
        return Err(AssertionError::WrongClient);
    }
    let ours: Vec<&str> = audiences.iter().map(String::as_str).collect();
    if !jwk::names_audience(claims.get("aud"), &ours) {
        return Err(AssertionError::WrongAudience);
    }
    let exp = integer(claims, "exp")?.ok_or(AssertionError::InvalidClaim("exp"))?;
    if now >= exp.saturating_add(LEEWAY_SECONDS) {
        return Err(AssertionError::Expired);
    }
    if exp.saturating_sub(now) > MAX_LIFETIME_SECONDS {
        return Err(AssertionError::TooLongLived);
    }
    for name in ["nbf", "iat"] {
        if integer(claims, name)?.is_some_and(|at| now.saturating_add(LEEWAY_SECONDS) < at) {
            return Err(AssertionError::NotYetValid);
        }
    }
    let jti = text("jti")
        .filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_BYTES)
        .ok_or(AssertionError::InvalidClaim("jti"))?;
    Ok(AssertionClaims {
        jti: jti.to_owned(),
        exp,
    })
}

fn integer(claims: &Value, name: &'static str) -> Result<Option<i64>, AssertionError> {
    jwk::integer_claim(claims, name).map_err(AssertionError::InvalidClaim)
}
