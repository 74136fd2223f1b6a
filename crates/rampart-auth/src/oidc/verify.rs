//! Verifying an outside token: select the issuer by `iss`, then check header,
//! key, signature, issuer, audience and times against that issuer alone.

use std::collections::BTreeMap;

use jsonwebtoken::{Algorithm, DecodingKey};
use rampart_core::Principal;
use serde_json::Value;

use super::OidcError;
use super::claims;
use super::config::TrustedIssuerConfig;
use super::fetch::IssuerKeys;
use crate::jwk::{self, SignatureProblem, segment_json};

/// Header members that would let a token bring its own key.
const FORBIDDEN_HEADERS: [&str; 4] = ["jwk", "jku", "x5u", "x5c"];

/// The trusted outside issuers, each with its own keys.
pub struct OidcIssuers {
    issuers: BTreeMap<String, Issuer>,
    max_token_bytes: usize,
}

struct Issuer {
    config: TrustedIssuerConfig,
    keys: IssuerKeys,
}

/// A verified outside identity: the principal and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// The principal, with the prefixed subject id and mapped roles.
    pub principal: Principal,
    /// The issuer that vouched for it.
    pub issuer: String,
    /// When the outside token expires, in seconds since the epoch.
    pub expires_at: i64,
    /// The outside token's `jti`, if it has one.
    pub jti: Option<String>,
    /// The outside `sub`, without the prefix, to link the identity to a local person.
    pub subject: String,
    /// The `email` claim, only when the token says `email_verified: true`.
    pub email: Option<String>,
    /// Whether the token has an `email` claim, verified or not.
    pub has_email: bool,
    /// The outside token's `iat`, if it has one, in seconds since the epoch.
    pub issued_at: Option<i64>,
    /// The outside token's `aud`, as the token states it (a string or an array).
    pub audience: Value,
}

impl OidcIssuers {
    /// The issuers of `configs`; refuses an invalid entry, a repeated issuer or prefix.
    pub fn new(configs: impl IntoIterator<Item = TrustedIssuerConfig>) -> Result<Self, OidcError> {
        let mut issuers = BTreeMap::new();
        for config in configs {
            config.validate()?;
            let clash = issuers.values().any(|other: &Issuer| {
                other
                    .config
                    .subject_prefix
                    .starts_with(&config.subject_prefix)
                    || config
                        .subject_prefix
                        .starts_with(&other.config.subject_prefix)
            });
            if clash || issuers.contains_key(&config.issuer) {
                return Err(OidcError::InvalidConfig {
                    issuer: config.issuer,
                    reason: "`issuer` and `subject_prefix` must differ between entries",
                });
            }
            let keys = IssuerKeys::new(&config)?;
            issuers.insert(config.issuer.clone(), Issuer { config, keys });
        }
        let max_token_bytes = issuers
            .values()
            .map(|issuer| issuer.config.max_token_bytes)
            .max()
            .unwrap_or(0);
        Ok(Self {
            issuers,
            max_token_bytes,
        })
    }

    /// Whether no outside issuer is trusted.
    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty()
    }

    /// Whether `iss` is exactly one of the trusted issuers.
    pub fn trusts(&self, iss: &str) -> bool {
        self.issuers.contains_key(iss)
    }

    /// Verifies an outside token at `now_unix` and returns its principal.
    pub async fn verify(&self, token: &str, now_unix: i64) -> Result<Principal, OidcError> {
        Ok(self.verify_identity(token, now_unix).await?.principal)
    }

    /// Verifies an outside token at `now_unix` and returns the identity with its origin.
    pub async fn verify_identity(
        &self,
        token: &str,
        now_unix: i64,
    ) -> Result<ExternalIdentity, OidcError> {
        if token.len() > self.max_token_bytes {
            return Err(OidcError::TooLarge {
                limit: self.max_token_bytes,
            });
        }
        let iss = unverified_issuer(token).ok_or(OidcError::Malformed("no readable `iss`"))?;
        let issuer = self.issuers.get(&iss).ok_or(OidcError::UnknownIssuer)?;
        issuer.verify(token, now_unix).await
    }
}

impl std::fmt::Debug for OidcIssuers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcIssuers")
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Issuer {
    async fn verify(&self, token: &str, now: i64) -> Result<ExternalIdentity, OidcError> {
        if token.len() > self.config.max_token_bytes {
            return Err(OidcError::TooLarge {
                limit: self.config.max_token_bytes,
            });
        }
        let (alg, kid) = self.check_header(token)?;
        let key = self.keys.key(&kid, now).await?;
        if !jwk::fits(&key, alg) {
            return Err(OidcError::UnknownKey);
        }
        let decoding = DecodingKey::from_jwk(&key).map_err(|_| OidcError::UnknownKey)?;
        let claims = check_signature(token, &decoding, alg)?;
        self.check_claims(&claims, now)?;
        self.check_mfa(&claims)?;

        Ok(ExternalIdentity {
            principal: claims::principal(&self.config, &claims)?,
            issuer: self.config.issuer.clone(),
            expires_at: integer(&claims, "exp")?.unwrap_or_default(),
            jti: claims.get("jti").and_then(Value::as_str).map(str::to_owned),
            subject: claims
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            email: verified_email(&claims),
            has_email: claims.get("email").is_some(),
            issued_at: integer(&claims, "iat")?,
            audience: claims.get("aud").cloned().unwrap_or(Value::Null),
        })
    }

    /// Unless the entry says the issuer enforces it, `amr` (an array) shows MFA
    /// (any configured `mfa_amr` value, or else [`crate::amr::shows_mfa`]) or `acr`
    /// is one of the levels that require it.
    fn check_mfa(&self, claims: &Value) -> Result<(), OidcError> {
        if !self.config.require_mfa {
            return Ok(());
        }
        let amr_shows = claims
            .get("amr")
            .and_then(Value::as_array)
            .is_some_and(|methods| {
                let methods = methods.iter().filter_map(Value::as_str);
                match &self.config.mfa_amr {
                    Some(listed) => {
                        let mut methods = methods;
                        methods.any(|m| listed.iter().any(|l| l == m))
                    }
                    None => crate::amr::shows_mfa(methods),
                }
            });
        let acr_shows = claims
            .get("acr")
            .and_then(Value::as_str)
            .is_some_and(|acr| self.config.mfa_acr.iter().any(|level| level == acr));
        if amr_shows || acr_shows {
            Ok(())
        } else {
            Err(OidcError::MfaRequired)
        }
    }

    /// Refused members first, then `alg` among the allowed ones, then a `kid`.
    fn check_header(&self, token: &str) -> Result<(Algorithm, String), OidcError> {
        let header = segment_json(token, 0).ok_or(OidcError::Malformed("no readable header"))?;
        if let Some(member) = FORBIDDEN_HEADERS
            .into_iter()
            .find(|m| header.get(*m).is_some())
        {
            return Err(OidcError::ForbiddenHeader(member));
        }
        // INVARIANT: the header may only name an algorithm this issuer allows;
        // `none` and HMAC are never among them.
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(|name| {
                self.config
                    .allowed_algs
                    .iter()
                    .find(|a| alg_name(**a) == name)
            })
            .copied()
            .ok_or(OidcError::AlgorithmNotAllowed)?;
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .filter(|kid| !kid.is_empty())
            .ok_or(OidcError::Malformed("the header has no `kid`"))?;
        Ok((alg, kid.to_owned()))
    }

    /// `iss` exact, `aud` naming us, `exp` required, `nbf` and `iat` if present.
    fn check_claims(&self, claims: &Value, now: i64) -> Result<(), OidcError> {
        if claims.get("iss").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(OidcError::UnknownIssuer);
        }
        if !jwk::names_audience(claims.get("aud"), &[self.config.audience.as_str()]) {
            return Err(OidcError::WrongAudience);
        }
        let leeway = i64::try_from(self.config.leeway_seconds).unwrap_or(0);
        let exp = integer(claims, "exp")?.ok_or(OidcError::InvalidClaim("exp"))?;
        if now >= exp.saturating_add(leeway) {
            return Err(OidcError::Expired);
        }
        if integer(claims, "nbf")?.is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
            return Err(OidcError::NotYetValid);
        }
        if integer(claims, "iat")?.is_some_and(|iat| now.saturating_add(leeway) < iat) {
            return Err(OidcError::IssuedInFuture);
        }
        Ok(())
    }
}

/// The signature with exactly `alg`; times and claims are checked by us, with our clock.
fn check_signature(token: &str, key: &DecodingKey, alg: Algorithm) -> Result<Value, OidcError> {
    jwk::verified_claims(token, key, alg).map_err(|problem| match problem {
        SignatureProblem::BadSignature => OidcError::BadSignature,
        SignatureProblem::Algorithm => OidcError::AlgorithmNotAllowed,
        SignatureProblem::Malformed => OidcError::Malformed("the token is not a signed JWT"),
    })
}

/// The `iss` claim, read without verification, only to select an issuer.
pub fn unverified_issuer(token: &str) -> Option<String> {
    let claims = segment_json(token, 1)?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// An optional integer claim; a present value of another type is refused.
fn integer(claims: &Value, name: &'static str) -> Result<Option<i64>, OidcError> {
    jwk::integer_claim(claims, name).map_err(OidcError::InvalidClaim)
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        Algorithm::EdDSA => "EdDSA",
        _ => "",
    }
}

/// The `email` claim, only when `email_verified` is exactly `true`: an address the
/// issuer has not verified must never link an outside identity to a local person.
fn verified_email(claims: &Value) -> Option<String> {
    let verified = claims.get("email_verified") == Some(&Value::Bool(true));
    let email = claims.get("email").and_then(Value::as_str)?;
    (verified && !email.is_empty()).then(|| email.to_owned())
}
