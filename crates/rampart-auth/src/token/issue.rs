//! Issuing access tokens for an authenticated principal.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use rampart_core::ids::check_identifier;
use rampart_core::{Principal, PrincipalKind};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::SecretString;

use super::wire::ClaimsOut;
use super::{TOKEN_TYPE, TokenConfig, TokenError};
use crate::keys::SigningKey;

/// Bytes in a token id: the issue time in milliseconds, then random bytes.
const JTI_BYTES: usize = 16;

/// Leading bytes of a token id that hold the issue time (48-bit milliseconds, big-endian).
const JTI_TIME_BYTES: usize = 6;

/// The sign-in a person's token belongs to: the session (refresh-token family)
/// id and the authentication methods used (RFC 8176 `amr` values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The `sid` claim: the session or refresh-token family id.
    pub sid: String,
    /// The `amr` claim, such as `["pwd", "otp"]`.
    pub amr: Vec<String>,
}

impl Session {
    /// A session signed in with a password and a one-time code.
    pub fn password_and_otp(sid: impl Into<String>) -> Self {
        Self {
            sid: sid.into(),
            amr: vec!["pwd".to_owned(), "otp".to_owned()],
        }
    }
}

/// Signs access tokens with one key.
#[derive(Debug)]
pub struct TokenIssuer {
    key: SigningKey,
    config: TokenConfig,
    random: SystemRandom,
}

/// A freshly signed access token.
#[derive(Debug)]
pub struct IssuedToken {
    /// The compact JWT; hand it to the client once, never log it.
    pub access_token: SecretString,
    /// Seconds until it expires.
    pub expires_in: u32,
    /// The token's unique id (`jti`), safe to log and audit.
    pub jti: String,
    /// When it expires, in seconds since the Unix epoch.
    pub expires_at: i64,
}

impl TokenIssuer {
    /// An issuer signing with `key`; refuses a configuration out of bounds.
    pub fn new(key: SigningKey, config: TokenConfig) -> Result<Self, TokenError> {
        config.validate()?;
        Ok(Self {
            key,
            config,
            random: SystemRandom::new(),
        })
    }

    /// The id of the signing key, as written in every token's `kid`.
    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    /// Signs a token for `principal`, valid from `now_unix` for the configured lifetime.
    pub fn issue(&self, principal: &Principal, now_unix: i64) -> Result<IssuedToken, TokenError> {
        self.sign(principal, now_unix.saturating_mul(1000), None)
    }

    /// Signs a token for a person's sign-in, carrying its `sid` and `amr` claims.
    pub fn issue_for_session(
        &self,
        principal: &Principal,
        session: &Session,
        now_unix: i64,
    ) -> Result<IssuedToken, TokenError> {
        self.issue_for_session_ms(principal, session, now_unix.saturating_mul(1000))
    }

    /// Signs a person's token at `now_ms` (Unix milliseconds), which its `jti` records,
    /// so that a revocation earlier in the same second does not refuse it.
    pub fn issue_for_session_ms(
        &self,
        principal: &Principal,
        session: &Session,
        now_ms: i64,
    ) -> Result<IssuedToken, TokenError> {
        check_identifier("sid", &session.sid).map_err(|_| TokenError::InvalidPrincipal("sid"))?;
        if session.amr.is_empty() || !session.amr.iter().all(|m| is_amr_value(m)) {
            return Err(TokenError::InvalidPrincipal("amr"));
        }
        self.sign(principal, now_ms, Some(session))
    }

    fn sign(
        &self,
        principal: &Principal,
        now_ms: i64,
        session: Option<&Session>,
    ) -> Result<IssuedToken, TokenError> {
        check_identifier("sub", &principal.id).map_err(|_| TokenError::InvalidPrincipal("sub"))?;
        let jti = self.new_jti(now_ms)?;
        let now_unix = now_ms.div_euclid(1000);
        let expires_at = now_unix
            .checked_add(i64::from(self.config.ttl_seconds))
            .ok_or(TokenError::InvalidConfig("`now` is out of range"))?;

        let claims = ClaimsOut {
            iss: &self.config.issuer,
            sub: &principal.id,
            aud: &self.config.audience,
            exp: expires_at,
            nbf: now_unix,
            iat: now_unix,
            jti: &jti,
            kind: kind_name(principal.kind),
            roles: principal.roles.iter().map(|role| role.as_str()).collect(),
            accounts: principal
                .accounts
                .iter()
                .map(|account| account.as_str())
                .collect(),
            sid: session.map(|s| s.sid.as_str()),
            amr: session.map(|s| s.amr.iter().map(String::as_str).collect()),
        };
        let token = jsonwebtoken::encode(&self.header(), &claims, self.key.encoding_key())
            .map_err(|_| TokenError::Signing)?;

        Ok(IssuedToken {
            access_token: SecretString::from(token),
            expires_in: self.config.ttl_seconds,
            jti,
            expires_at,
        })
    }

    fn header(&self) -> Header {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(TOKEN_TYPE.to_owned());
        header.kid = Some(self.key.kid().to_owned());
        header
    }

    /// A token id: `now_ms` in its first six bytes, 80 random bits after them.
    fn new_jti(&self, now_ms: i64) -> Result<String, TokenError> {
        let mut bytes = [0u8; JTI_BYTES];
        let (time, random) = bytes.split_at_mut(JTI_TIME_BYTES);
        let millis = u64::try_from(now_ms)
            .ok()
            .filter(|ms| *ms < 1 << 48)
            .ok_or(TokenError::InvalidConfig("`now` is out of range"))?;
        let [_, _, low @ ..] = millis.to_be_bytes();
        time.copy_from_slice(&low);
        self.random.fill(random).map_err(|_| TokenError::Signing)?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }
}

/// Whether `value` is a plausible RFC 8176 method name: 1 to 16 of `a-z`, `0-9`, `_`.
pub(crate) fn is_amr_value(value: &str) -> bool {
    (1..=16).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The `kind` claim for a principal kind.
pub(crate) fn kind_name(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => "user",
        PrincipalKind::Client => "client",
    }
}
