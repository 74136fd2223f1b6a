//! Identity for the Rampart gateway: secrets, passwords, MFA and tokens.
//!
//! - [`secret`]: client secrets, argon2id hashes, constant-time checks.
//! - [`password`]: people's passwords (NIST SP 800-63B rules, breached list).
//! - [`totp`]: RFC 6238 one-time codes, with replay refused.
//! - [`recovery`]: one-time MFA recovery codes, stored hashed.
//! - [`refresh`]: opaque refresh tokens, their hashes and the rotation rule.
//! - [`keys`]: Ed25519 signing keys, their JWKs and the JWKS document.
//! - [`keyring`]: current, pending and previous signing keys during rotation.
//! - [`token`]: issuing and verifying short-lived EdDSA access tokens.
//! - [`cache`]: a bounded cache of verified tokens with revocation on every call.
//! - [`revocation`]: revoked tokens, sessions and subjects, answered in memory.
//! - [`oidc`]: tokens of trusted outside OpenID Connect issuers.
//! - [`assertion`]: RFC 7523 `private_key_jwt` client authentication.
//! - [`metadata`]: the RFC 8414 authorization-server metadata.
//!
//! Nothing in this crate prints a secret, a private key or a token: secrets
//! are [`secrecy::SecretString`], and every `Debug` shows ids only.

pub mod amr;
pub mod assertion;
pub mod cache;
mod jwk;
pub mod keyring;
pub mod keys;
pub mod metadata;
pub mod oidc;
pub mod password;
pub mod recovery;
pub mod refresh;
pub mod revocation;
pub mod secret;
pub mod serde_defaults;
pub mod token;
pub mod totp;

pub use cache::{CachedVerifier, IsRevoked, VerifiedTokenCache, Verify};
pub use keyring::{KeyStage, KeyStatus, Keyring, KeyringError};
pub use keys::{SigningKey, VerifyingKey, jwks};
pub use metadata::authorization_server_metadata;
pub use password::{
    PasswordError, PasswordPolicy, check_new_password, hash_password, verify_dummy_password,
    verify_password,
};
pub use refresh::{RefreshDecision, RefreshToken, TokenHash, hash_refresh_token};
pub use revocation::RevocationList;
pub use secret::{generate_client_secret, hash_secret, verify_dummy, verify_secret};
pub use token::{
    IssuedToken, Session, TokenConfig, TokenError, TokenIssuer, TokenVerifier, VerifiedClaims,
};
pub use totp::TotpSecret;
