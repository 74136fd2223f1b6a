//! Client secrets and access tokens for the Rampart gateway.
//!
//! - [`secret`]: client secrets, argon2id hashes, constant-time checks.
//! - [`keys`]: Ed25519 signing keys, their JWKs and the JWKS document.
//! - [`keyring`]: current, pending and previous signing keys during rotation.
//! - [`token`]: issuing and verifying short-lived EdDSA access tokens.
//! - [`metadata`]: the RFC 8414 authorization-server metadata.
//!
//! Nothing in this crate prints a secret, a private key or a token: secrets
//! are [`secrecy::SecretString`], and every `Debug` shows ids only.

pub mod keyring;
pub mod keys;
pub mod metadata;
pub mod secret;
pub mod token;

pub use keyring::{KeyStage, KeyStatus, Keyring, KeyringError};
pub use keys::{SigningKey, VerifyingKey, jwks};
pub use metadata::authorization_server_metadata;
pub use secret::{generate_client_secret, hash_secret, verify_dummy, verify_secret};
pub use token::{IssuedToken, TokenConfig, TokenError, TokenIssuer, TokenVerifier, VerifiedClaims};
