//! Public JWKs from outside parties: which keys may verify which algorithms.
//!
//! Only asymmetric signature keys are ever accepted: a JWK with private
//! members, a symmetric (`oct`) key, a key marked for encryption, or a key
//! whose own `alg` disagrees with the token's is refused, and the key type
//! must match the algorithm family (RSA for `RS256`, P-256 for `ES256`,
//! Ed25519 for `EdDSA`), so a token can never pick a weaker way to be checked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

/// Members that only a private or symmetric JWK has (RFC 7517, RFC 7518).
const PRIVATE_MEMBERS: [&str; 9] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"];

/// The asymmetric signature algorithms Rampart can check.
pub(crate) const SUPPORTED_ALGORITHMS: [Algorithm; 3] =
    [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// Why a JWK cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JwkProblem {
    /// Not a JSON object with the members of a JWK.
    Malformed,
    /// It carries private or symmetric key material.
    Private,
    /// A symmetric key, an encryption key or an unsupported type.
    NotASigningKey,
}

/// Parses one public JWK, refusing private material and symmetric keys.
pub(crate) fn parse_public(value: &Value) -> Result<Jwk, JwkProblem> {
    let object = value.as_object().ok_or(JwkProblem::Malformed)?;
    if PRIVATE_MEMBERS
        .iter()
        .any(|member| object.contains_key(*member))
    {
        return Err(JwkProblem::Private);
    }
    let jwk: Jwk = serde_json::from_value(value.clone()).map_err(|_| JwkProblem::Malformed)?;
    if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
        return Err(JwkProblem::NotASigningKey);
    }
    if matches!(&jwk.common.public_key_use, Some(use_) if *use_ != PublicKeyUse::Signature) {
        return Err(JwkProblem::NotASigningKey);
    }
    Ok(jwk)
}

/// Whether `jwk` may verify a signature made with `alg`.
pub(crate) fn fits(jwk: &Jwk, alg: Algorithm) -> bool {
    if let Some(declared) = jwk.common.key_algorithm {
        if key_algorithm(alg) != Some(declared) {
            return false;
        }
    }
    match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(_), Algorithm::RS256) => true,
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::OctetKeyPair(okp), Algorithm::EdDSA) => {
            okp.key_type == OctetKeyPairType::OctetKeyPair && okp.curve == EllipticCurve::Ed25519
        }
        _ => false,
    }
}

/// The algorithms this key could verify, for a client's registration.
pub(crate) fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    SUPPORTED_ALGORITHMS.into_iter().find(|alg| fits(jwk, *alg))
}

fn key_algorithm(alg: Algorithm) -> Option<KeyAlgorithm> {
    match alg {
        Algorithm::RS256 => Some(KeyAlgorithm::RS256),
        Algorithm::ES256 => Some(KeyAlgorithm::ES256),
        Algorithm::EdDSA => Some(KeyAlgorithm::EdDSA),
        _ => None,
    }
}

/// Segment `index` (0 header, 1 claims) of a three-part compact JWT, as a JSON object.
pub(crate) fn segment_json(token: &str, index: usize) -> Option<Value> {
    if token.split('.').count() != 3 {
        return None;
    }
    let segment = token.split('.').nth(index)?;
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.is_object().then_some(value)
}

/// Why a signed JWT did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureProblem {
    /// The signature does not match.
    BadSignature,
    /// The header's `alg` is not the one required.
    Algorithm,
    /// Not a compact JWS with a JSON object as payload.
    Malformed,
}

/// Checks the signature with exactly `alg` and returns the claims object.
///
/// Times, issuer and audience are left to the caller, which checks them
/// against its own injected clock rather than the system's.
pub(crate) fn verified_claims(
    token: &str,
    key: &DecodingKey,
    alg: Algorithm,
) -> Result<Value, SignatureProblem> {
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data =
        jsonwebtoken::decode::<Value>(token, key, &validation).map_err(|error| {
            match error.kind() {
                ErrorKind::InvalidSignature | ErrorKind::Crypto(_) => {
                    SignatureProblem::BadSignature
                }
                ErrorKind::InvalidAlgorithm => SignatureProblem::Algorithm,
                _ => SignatureProblem::Malformed,
            }
        })?;
    if !data.claims.is_object() {
        return Err(SignatureProblem::Malformed);
    }
    Ok(data.claims)
}

/// An optional integer claim; `Err` names a claim present with another type.
pub(crate) fn integer_claim(
    claims: &Value,
    name: &'static str,
) -> Result<Option<i64>, &'static str> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value.as_i64().map(Some).ok_or(name),
    }
}

/// Whether `aud` (a string or an array of strings) names one of `ours`.
pub(crate) fn names_audience(aud: Option<&Value>, ours: &[&str]) -> bool {
    let known = |candidate: &str| ours.contains(&candidate);
    match aud {
        Some(Value::String(one)) => known(one),
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).any(known),
        _ => false,
    }
}
