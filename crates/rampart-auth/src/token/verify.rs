//! Verifying access tokens: every check in a fixed order, each failure typed.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_core::ids::check_identifier;
use rampart_core::{AccountId, Principal, PrincipalKind, Role, RoleSet};
use serde::de::DeserializeOwned;

use super::issue::is_amr_value;
use super::wire::{Audience, ClaimsIn, HeaderIn};
use super::{ALGORITHM, MAX_TTL_SECONDS, TOKEN_TYPE, TokenConfig, TokenError};
use crate::keys::VerifyingKey;

/// The claim names, so that a serde failure can be reported by name.
const CLAIMS: [&str; 12] = [
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "kind", "roles", "accounts", "sid", "amr",
];

/// Checks access tokens against a fixed set of trusted keys.
#[derive(Debug)]
pub struct TokenVerifier {
    keys: BTreeMap<String, VerifyingKey>,
    config: TokenConfig,
}

/// The claims of a token that passed every check; only the verifier makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedClaims {
    subject: String,
    kind: PrincipalKind,
    roles: RoleSet,
    accounts: Vec<AccountId>,
    jti: String,
    kid: String,
    issued_at: i64,
    expires_at: i64,
    sid: Option<String>,
    amr: Vec<String>,
}

impl VerifiedClaims {
    /// The authenticated principal the token speaks for.
    pub fn principal(&self) -> Principal {
        Principal {
            id: self.subject.clone(),
            kind: self.kind,
            roles: self.roles.clone(),
            accounts: self.accounts.clone(),
        }
    }

    /// The token's unique id.
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The id of the key that signed the token.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// When the token was issued, in seconds since the Unix epoch.
    pub fn issued_at(&self) -> i64 {
        self.issued_at
    }

    /// When the token was issued, in milliseconds since the Unix epoch: the time its
    /// `jti` records when that falls within `iat`'s second, else the start of that second.
    pub fn issued_at_ms(&self) -> i64 {
        let second = self.issued_at.saturating_mul(1000);
        jti_millis(&self.jti)
            .filter(|ms| ms.div_euclid(1000) == self.issued_at)
            .unwrap_or(second)
    }

    /// When the token expires, in seconds since the Unix epoch.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// The session (refresh-token family) a person's token belongs to; `None` for clients.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// How the person signed in (RFC 8176 `amr`, such as `pwd`, `otp`); empty for clients.
    pub fn amr(&self) -> &[String] {
        &self.amr
    }
}

/// The three segments of a compact token, still encoded.
struct Segments<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    signing_input: &'a str,
}

impl TokenVerifier {
    /// A verifier trusting `keys`; refuses an empty set, repeated key ids or a bad config.
    pub fn new(
        keys: impl IntoIterator<Item = VerifyingKey>,
        config: TokenConfig,
    ) -> Result<Self, TokenError> {
        config.validate()?;
        let mut trusted = BTreeMap::new();
        for key in keys {
            if trusted.insert(key.kid().to_owned(), key).is_some() {
                return Err(TokenError::InvalidKeys("two keys share one `kid`"));
            }
        }
        if trusted.is_empty() {
            return Err(TokenError::InvalidKeys("no key is trusted"));
        }
        Ok(Self {
            keys: trusted,
            config,
        })
    }

    /// The longest token accepted, in bytes.
    pub fn max_token_bytes(&self) -> usize {
        self.config.max_token_bytes
    }

    /// Verifies `token` at time `now_unix` and returns its claims.
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<VerifiedClaims, TokenError> {
        if token.len() > self.config.max_token_bytes {
            return Err(TokenError::TooLarge {
                limit: self.config.max_token_bytes,
            });
        }
        let segments = split(token)?;
        let key = self.check_header(segments.header)?;
        check_signature(key, &segments)?;

        let claims: ClaimsIn = decode_json(segments.payload, Part::Claims)?;
        self.check_claims(claims, key, now_unix)
    }

    /// Header checks: refused members, then `alg`, `typ` and `kid`.
    fn check_header(&self, encoded: &str) -> Result<&VerifyingKey, TokenError> {
        let header: HeaderIn = decode_json(encoded, Part::Header)?;
        if let Some(member) = header.forbidden_member() {
            return Err(TokenError::ForbiddenHeader(member));
        }
        // INVARIANT: the algorithm is fixed by the key type; the header may
        // only confirm it, never choose it.
        if header.alg.as_deref() != Some(ALGORITHM) {
            return Err(TokenError::AlgorithmNotAllowed);
        }
        if header.typ.as_deref() != Some(TOKEN_TYPE) {
            return Err(TokenError::WrongType);
        }
        header
            .kid
            .and_then(|kid| self.keys.get(&kid))
            .ok_or(TokenError::UnknownKey)
    }

    /// Claims checks: presence and types, issuer and audience, times, then content.
    fn check_claims(
        &self,
        claims: ClaimsIn,
        key: &VerifyingKey,
        now: i64,
    ) -> Result<VerifiedClaims, TokenError> {
        let claims = Required::from_wire(claims)?;
        if claims.iss != self.config.issuer {
            return Err(TokenError::WrongIssuer);
        }
        if !claims.aud.names(&self.config.audience) {
            return Err(TokenError::WrongAudience);
        }
        self.check_times(claims.exp, claims.nbf, claims.iat, now)?;
        claims.into_verified(key)
    }

    /// `exp`, `nbf` and `iat` against `now` with leeway, then the lifetime.
    fn check_times(&self, exp: i64, nbf: i64, iat: i64, now: i64) -> Result<(), TokenError> {
        let leeway = i64::from(self.config.leeway_seconds);
        if now >= exp.saturating_add(leeway) {
            return Err(TokenError::Expired);
        }
        if now.saturating_add(leeway) < nbf {
            return Err(TokenError::NotYetValid);
        }
        if now.saturating_add(leeway) < iat {
            return Err(TokenError::IssuedInFuture);
        }
        let lifetime = exp.saturating_sub(iat);
        if lifetime <= 0 || lifetime > i64::from(MAX_TTL_SECONDS) {
            return Err(TokenError::InvalidLifetime);
        }
        Ok(())
    }
}

/// The issue time a token id of ours records (see `TokenIssuer`), if it is one.
fn jti_millis(jti: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(jti).ok()?;
    let [a, b, c, d, e, f, ..] = bytes.as_slice() else {
        return None;
    };
    if bytes.len() != 16 {
        return None;
    }
    i64::try_from(u64::from_be_bytes([0, 0, *a, *b, *c, *d, *e, *f])).ok()
}

/// Every claim present and of the right JSON type, not yet checked.
struct Required {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    nbf: i64,
    iat: i64,
    jti: String,
    kind: String,
    roles: Vec<String>,
    accounts: Vec<String>,
    sid: Option<String>,
    amr: Option<Vec<String>>,
}

impl Required {
    fn from_wire(claims: ClaimsIn) -> Result<Self, TokenError> {
        Ok(Self {
            iss: required(claims.iss, "iss")?,
            sub: required(claims.sub, "sub")?,
            aud: required(claims.aud, "aud")?,
            exp: required(claims.exp, "exp")?,
            nbf: required(claims.nbf, "nbf")?,
            iat: required(claims.iat, "iat")?,
            jti: required(claims.jti, "jti")?,
            kind: required(claims.kind, "kind")?,
            roles: required(claims.roles, "roles")?,
            accounts: required(claims.accounts, "accounts")?,
            sid: claims.sid,
            amr: claims.amr,
        })
    }

    /// Parses subject, kind, roles and accounts into their domain types.
    fn into_verified(self, key: &VerifyingKey) -> Result<VerifiedClaims, TokenError> {
        check_identifier("sub", &self.sub).map_err(|_| TokenError::InvalidClaim("sub"))?;
        if self.jti.is_empty() {
            return Err(TokenError::InvalidClaim("jti"));
        }
        if let Some(sid) = &self.sid {
            check_identifier("sid", sid).map_err(|_| TokenError::InvalidClaim("sid"))?;
        }
        let amr = self.amr.unwrap_or_default();
        if !amr.iter().all(|method| is_amr_value(method)) {
            return Err(TokenError::InvalidClaim("amr"));
        }
        Ok(VerifiedClaims {
            kind: parse_kind(&self.kind)?,
            roles: parse_roles(&self.roles)?,
            accounts: parse_accounts(self.accounts)?,
            subject: self.sub,
            jti: self.jti,
            kid: key.kid().to_owned(),
            issued_at: self.iat,
            expires_at: self.exp,
            sid: self.sid,
            amr,
        })
    }
}

/// Exactly three non-empty segments separated by dots.
fn split(token: &str) -> Result<Segments<'_>, TokenError> {
    let malformed = TokenError::Malformed("a token is three base64url segments");
    let (signing_input, signature) = token.rsplit_once('.').ok_or(malformed.clone())?;
    let (header, payload) = signing_input.split_once('.').ok_or(malformed.clone())?;
    if payload.contains('.') || [header, payload, signature].iter().any(|s| s.is_empty()) {
        return Err(malformed);
    }
    Ok(Segments {
        header,
        payload,
        signature,
        signing_input,
    })
}

fn check_signature(key: &VerifyingKey, segments: &Segments<'_>) -> Result<(), TokenError> {
    let signature = decode_segment(segments.signature, Part::Signature)?;
    if key.verify(segments.signing_input.as_bytes(), &signature) {
        Ok(())
    } else {
        Err(TokenError::BadSignature)
    }
}

/// Which segment a decoding error is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Header,
    Claims,
    Signature,
}

impl Part {
    fn not_base64(self) -> TokenError {
        TokenError::Malformed(match self {
            Part::Header => "the header is not base64url",
            Part::Claims => "the claims are not base64url",
            Part::Signature => "the signature is not base64url",
        })
    }

    fn not_json(self) -> TokenError {
        TokenError::Malformed(match self {
            Part::Header => "the header is not a JSON object with unique members",
            _ => "the claims are not a JSON object with unique members",
        })
    }
}

/// Strict base64url without padding: no padding, no stray bits, no other alphabet.
fn decode_segment(segment: &str, part: Part) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| part.not_base64())
}

/// One JSON object; a claim of the wrong type is reported by its name.
///
/// The text must open with `{`: serde would otherwise fill a struct from a
/// JSON array by position, a shape RFC 7515 does not allow.
fn decode_json<T: DeserializeOwned>(segment: &str, part: Part) -> Result<T, TokenError> {
    let bytes = decode_segment(segment, part)?;
    if bytes.first() != Some(&b'{') {
        return Err(part.not_json());
    }
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let member = error
            .path()
            .iter()
            .next()
            .map(|segment| segment.to_string());
        match member.and_then(|name| CLAIMS.into_iter().find(|claim| *claim == name)) {
            Some(claim) if part == Part::Claims => TokenError::InvalidClaim(claim),
            _ => part.not_json(),
        }
    })?;
    deserializer.end().map_err(|_| part.not_json())?;
    Ok(value)
}

fn required<T>(value: Option<T>, claim: &'static str) -> Result<T, TokenError> {
    value.ok_or(TokenError::InvalidClaim(claim))
}

fn parse_kind(kind: &str) -> Result<PrincipalKind, TokenError> {
    match kind {
        "user" => Ok(PrincipalKind::User),
        "client" => Ok(PrincipalKind::Client),
        _ => Err(TokenError::InvalidClaim("kind")),
    }
}

fn parse_roles(names: &[String]) -> Result<RoleSet, TokenError> {
    let roles = names
        .iter()
        .map(|name| name.parse::<Role>())
        .collect::<Result<Vec<Role>, _>>()
        .map_err(|_| TokenError::InvalidClaim("roles"))?;
    RoleSet::new(roles).map_err(TokenError::RolesConflict)
}

fn parse_accounts(ids: Vec<String>) -> Result<Vec<AccountId>, TokenError> {
    ids.into_iter()
        .map(AccountId::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TokenError::InvalidClaim("accounts"))
}
