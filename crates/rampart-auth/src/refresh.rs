//! Refresh tokens: opaque 256-bit random strings, stored only as SHA-256
//! hashes, and the pure rotation rule of RFC 9700 section 4.14.
//!
//! A refresh token carries no claims; it names a row in the store through its
//! hash. SHA-256 without salt is enough here because the token has 256 bits of
//! entropy: there is nothing to guess, only a lookup key to hide. The store
//! keeps families (one per sign-in), rotates on every use and, when a token
//! that was already rotated comes back, revokes the whole family; the rule is
//! [`RefreshDecision::decide`], free of I/O so that it can be tested alone.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Random bytes in a refresh token (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// The length of a refresh token as text (base64url of 32 bytes, no padding).
pub const TOKEN_CHARS: usize = 43;

/// What can go wrong while making a refresh token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// The system random generator failed.
    #[error("refresh token could not be generated")]
    Generate,
}

/// The SHA-256 of a refresh token, as 64 lowercase hex digits; safe to store and log.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares two hashes in constant time.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TokenHash").field(&self.0).finish()
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Makes refresh tokens.
#[derive(Debug, Clone, Copy)]
pub struct RefreshToken;

impl RefreshToken {
    /// A new token (hand it to the client once) and the hash to store.
    pub fn generate() -> Result<(SecretString, TokenHash), RefreshError> {
        let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| RefreshError::Generate)?;
        let token = Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()));
        let hash = hash_refresh_token(&token);
        Ok((SecretString::from(token.as_str()), hash))
    }
}

/// The SHA-256 of a presented token, to look it up.
pub fn hash_refresh_token(token: &str) -> TokenHash {
    TokenHash(hex::encode(Sha256::digest(token.as_bytes())))
}

/// Whether a presented token has the shape of one Rampart issued.
///
/// A malformed token is refused before any lookup, with the same answer as
/// an unknown one.
pub fn is_well_formed(token: &str) -> bool {
    token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What the store knows about a presented refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshState {
    /// The token was already exchanged for a newer one.
    pub rotated: bool,
    /// The family was revoked (logout, reuse, disabled user).
    pub family_revoked: bool,
    /// When the token stops being accepted if unused (seconds since the epoch).
    pub idle_expires_at: i64,
    /// When the family stops being accepted, whatever its use (seconds since the epoch).
    pub absolute_expires_at: i64,
}

/// What to do with a presented refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDecision {
    /// Issue a new token in the same family and mark this one rotated.
    Rotate,
    /// A rotated token came back: revoke the whole family and refuse (RFC 9700).
    RevokeFamily,
    /// The family was revoked earlier: refuse.
    Revoked,
    /// The idle or the absolute lifetime has passed: refuse.
    Expired,
}

impl RefreshDecision {
    /// The decision for `state` at `now_unix`; reuse is checked before expiry.
    pub fn decide(state: &RefreshState, now_unix: i64) -> Self {
        if state.family_revoked {
            return RefreshDecision::Revoked;
        }
        if state.rotated {
            return RefreshDecision::RevokeFamily;
        }
        if now_unix >= state.idle_expires_at || now_unix >= state.absolute_expires_at {
            return RefreshDecision::Expired;
        }
        RefreshDecision::Rotate
    }

    /// Whether the client gets a new token.
    pub fn is_accepted(self) -> bool {
        self == RefreshDecision::Rotate
    }
}
