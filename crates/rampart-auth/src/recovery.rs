//! One-time MFA recovery codes: generation, argon2id hashing and a check that
//! costs the same whichever code, if any, matches.
//!
//! A code is ten base32 characters (50 random bits) shown as `XXXXX-XXXXX`,
//! given to the user once and stored only as an argon2id PHC string. Input is
//! read leniently (case, spaces and dashes ignored) because people type it.
//! The caller deletes a code's hash once it has been used.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::secret::{self, SecretError};

/// The RFC 4648 base32 alphabet; no padding is ever needed.
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; // pragma: allowlist secret

/// Characters in a code, without the dash.
pub const CODE_CHARS: usize = 10;

/// The number of codes a user gets by default.
pub const DEFAULT_CODES: usize = 10;

/// The most codes one call may generate.
pub const MAX_CODES: usize = 32;

/// What can go wrong with recovery codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    /// More codes were asked for than allowed.
    #[error("at most {max} recovery codes may be generated at once")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// The argon2id hashing failed.
    #[error("recovery code could not be hashed")]
    Hash,
}

/// Generates `n` fresh codes, each `XXXXX-XXXXX`.
pub fn generate_codes(n: usize) -> Result<Vec<SecretString>, RecoveryError> {
    if n > MAX_CODES {
        return Err(RecoveryError::TooMany { max: MAX_CODES });
    }
    Ok((0..n).map(|_| generate_code()).collect())
}

/// Hashes one code (normalised) with argon2id; returns the PHC string to store.
pub fn hash_recovery_code(code: &SecretString) -> Result<String, RecoveryError> {
    secret::hash_secret(&normalise(code)).map_err(|_: SecretError| RecoveryError::Hash)
}

/// The index of the stored hash that `code` matches, if any.
///
/// Every hash is checked, whether or not an earlier one matched, so that the
/// time taken does not tell which code was used. Input of the wrong shape is
/// still checked against one dummy hash per stored code.
pub fn verify_recovery_code<S: AsRef<str>>(hashes: &[S], code: &SecretString) -> Option<usize> {
    let candidate = normalise(code);
    let well_formed = is_well_formed(&candidate);
    let mut matched = None;
    for (index, hash) in hashes.iter().enumerate() {
        if !well_formed {
            secret::verify_dummy(&candidate);
            continue;
        }
        if secret::verify_secret(hash.as_ref(), &candidate) && matched.is_none() {
            matched = Some(index);
        }
    }
    matched
}

/// Like [`verify_recovery_code`], but always costs `slots` verifications (or one per
/// hash, if there are more): the missing ones are made against a dummy hash.
///
/// Sign-in calls this whether or not the password was right and whether or not
/// the user exists, so that the time taken tells none of it.
pub fn verify_recovery_code_in_slots<S: AsRef<str>>(
    hashes: &[S],
    code: &SecretString,
    slots: usize,
) -> Option<usize> {
    let matched = verify_recovery_code(hashes, code);
    let candidate = normalise(code);
    for _ in hashes.len()..slots {
        secret::verify_dummy(&candidate);
    }
    matched
}

fn generate_code() -> SecretString {
    let mut random = Zeroizing::new([0u8; CODE_CHARS]);
    OsRng.fill_bytes(random.as_mut());
    let mut code = Zeroizing::new(String::with_capacity(CODE_CHARS + 1));
    for (position, byte) in random.iter().enumerate() {
        if position == CODE_CHARS / 2 {
            code.push('-');
        }
        // 256 is a multiple of 32: taking the low five bits is unbiased.
        let symbol = ALPHABET
            .get(usize::from(byte & 0x1f))
            .copied()
            .unwrap_or(b'A');
        code.push(char::from(symbol));
    }
    SecretString::from(code.as_str())
}

/// Uppercase, without spaces and dashes.
fn normalise(code: &SecretString) -> SecretString {
    let cleaned: Zeroizing<String> = Zeroizing::new(
        code.expose_secret()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect(),
    );
    SecretString::from(cleaned.as_str())
}

fn is_well_formed(code: &SecretString) -> bool {
    let text = code.expose_secret();
    text.len() == CODE_CHARS && text.bytes().all(|b| ALPHABET.contains(&b))
}
