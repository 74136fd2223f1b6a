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

/// Random bytes in a token id (128 bits).
const JTI_BYTES: usize = 16;

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
        check_identifier("sub", &principal.id).map_err(|_| TokenError::InvalidPrincipal("sub"))?;
        let jti = self.new_jti()?;
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

    fn new_jti(&self) -> Result<String, TokenError> {
        let mut bytes = [0u8; JTI_BYTES];
        self.random
            .fill(&mut bytes)
            .map_err(|_| TokenError::Signing)?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }
}

/// The `kind` claim for a principal kind.
pub(crate) fn kind_name(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => "user",
        PrincipalKind::Client => "client",
    }
}
