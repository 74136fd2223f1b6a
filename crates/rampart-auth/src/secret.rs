//! Client secrets: generation, argon2id hashing and constant-time verification.
//!
//! A secret is 256 random bits, shown to its owner once and stored only as an
//! argon2id PHC string with at least OWASP's parameters. An unknown client id
//! costs the same as a wrong secret, so that response times do not tell one
//! from the other.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// Random bytes in a client secret (256 bits).
pub const SECRET_BYTES: usize = 32;

/// Argon2id memory cost in KiB (OWASP minimum: 19 MiB).
pub const MEMORY_KIB: u32 = 19_456;

/// Argon2id passes over memory (OWASP minimum: 2).
pub const ITERATIONS: u32 = 2;

/// Argon2id lanes (OWASP minimum: 1).
pub const PARALLELISM: u32 = 1;

/// A hash of a value nobody knows, with the production parameters; verifying
/// against it costs as much as verifying a real secret.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$\
    c2VEpR1fNQz8r1M7ZyDTqg$ZKhb2Q/3bXDqGLkwYJZXcrlgJ4E4qnbSPI5iUSPfVU0";

/// What can go wrong while hashing a secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The argon2 parameters or the hashing itself failed.
    #[error("secret could not be hashed")]
    Hash,
}

/// Generates a new client secret: 256 random bits, base64url without padding.
pub fn generate_client_secret() -> SecretString {
    let mut bytes = Zeroizing::new([0u8; SECRET_BYTES]);
    OsRng.fill_bytes(bytes.as_mut());
    SecretString::from(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}

/// Hashes a secret with argon2id and a fresh salt; returns the PHC string.
pub fn hash_secret(secret: &SecretString) -> Result<String, SecretError> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = hasher()?
        .hash_password(secret.expose_secret().as_bytes(), &salt)
        .map_err(|_| SecretError::Hash)?;
    Ok(hash.to_string())
}

/// Checks `secret` against a stored PHC string, in constant time.
///
/// A stored value that is not an argon2id PHC string never matches; it still
/// costs one full verification, so a damaged record is not a timing oracle.
pub fn verify_secret(phc: &str, secret: &SecretString) -> bool {
    let Some(stored) = PasswordHash::new(phc).ok().filter(is_argon2id) else {
        verify_dummy(secret);
        return false;
    };
    verify_against(&stored, secret)
}

/// Runs one verification against a fixed dummy hash and discards the result.
///
/// Call it when the client id is unknown, so that the answer takes as long as
/// a wrong secret for a known client.
pub fn verify_dummy(secret: &SecretString) {
    if let Ok(dummy) = PasswordHash::new(DUMMY_HASH) {
        let _ = verify_against(&dummy, secret);
    }
}

fn verify_against(stored: &PasswordHash<'_>, secret: &SecretString) -> bool {
    // The verifier recomputes the hash with the stored parameters and compares
    // the outputs in constant time.
    Argon2::default()
        .verify_password(secret.expose_secret().as_bytes(), stored)
        .is_ok()
}

fn is_argon2id(hash: &PasswordHash<'_>) -> bool {
    hash.algorithm == argon2::ARGON2ID_IDENT
}

fn hasher() -> Result<Argon2<'static>, SecretError> {
    let params = Params::new(
        MEMORY_KIB,
        ITERATIONS,
        PARALLELISM,
        Some(Params::DEFAULT_OUTPUT_LEN),
    )
    .map_err(|_| SecretError::Hash)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_uses_the_production_parameters() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let fresh = hash_secret(&generate_client_secret()).unwrap();
        let fresh = PasswordHash::new(&fresh).unwrap();
        assert_eq!(dummy.algorithm, fresh.algorithm);
        assert_eq!(dummy.version, fresh.version);
        assert_eq!(dummy.params, fresh.params);
        assert_eq!(dummy.hash.map(|h| h.len()), fresh.hash.map(|h| h.len()));
    }
}
