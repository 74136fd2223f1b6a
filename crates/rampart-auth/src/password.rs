//! People's passwords: the NIST SP 800-63B rules for a new password, argon2id
//! hashing and constant-time verification.
//!
//! A password is normalised to Unicode NFKC before it is counted, compared or
//! hashed, so that the same characters typed on two keyboards are the same
//! password. It must be 12 to 128 characters long (Unicode scalar values after
//! normalisation); there are no composition rules. It is refused when it is on
//! the shipped list of common and breached passwords (`data/`, about 56,000
//! entries, loaded once), when it is repetitive or sequential (one short run
//! repeated, such as `aaaaaaaaaaaa` or `abcabcabcabc`; fewer than
//! [`MIN_DISTINCT_CHARS`] different characters; or a run such as
//! `abcdefghijkl` or `987654321098`, as SP 800-63B names them), or when it
//! equals or contains the username or another account detail, ignoring case.
//! Hashes are argon2id PHC strings made by [`crate::secret`], with at least
//! OWASP's parameters; an unknown user costs one full verification, the same as
//! a wrong password. No error repeats the password.

use std::collections::HashSet;
use std::io::Read;
use std::sync::LazyLock;

use flate2::read::GzDecoder;
use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::secret::{self, SecretError};

/// The fewest characters a password may have (NIST SP 800-63B: at least 8; Rampart: 12).
pub const MIN_CHARS: usize = 12;

/// The most characters a password may have.
pub const MAX_CHARS: usize = 128;

/// Context values shorter than this are refused only when the password equals them.
pub const MIN_CONTEXT_CHARS: usize = 4;

/// The fewest different characters a password may have.
pub const MIN_DISTINCT_CHARS: usize = 4;

/// The gzip-compressed list of common and breached passwords, one per line.
static LIST_GZ: &[u8] = include_bytes!("../data/common-passwords.txt.gz");

/// The normalised list, decompressed once on first use.
static COMMON: LazyLock<HashSet<String>> = LazyLock::new(load_list);

/// Why a new password was refused, or could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer characters than the policy's minimum.
    #[error("`password` must be at least {min} characters long")]
    TooShort {
        /// The minimum, in characters.
        min: usize,
    },
    /// More characters than the policy's maximum.
    #[error("`password` must be at most {max} characters long")]
    TooLong {
        /// The maximum, in characters.
        max: usize,
    },
    /// The password is on the list of common or breached passwords.
    #[error("`password` is on the list of common or breached passwords")]
    Common,
    /// The password repeats a short run or follows a sequence.
    #[error("`password` must not be repetitive or sequential, such as `aaaa…` or `abcd…`")]
    Repetitive,
    /// The password equals or contains the username or another account detail.
    #[error("`password` must not contain the username or other account details")]
    ContainsContext,
    /// The shipped list could not be loaded, so no new password is accepted.
    #[error("the list of common passwords is unavailable")]
    ListUnavailable,
    /// The argon2id hashing failed.
    #[error("password could not be hashed")]
    Hash,
}

/// The length rules for new passwords; the list and context rules always apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// The fewest characters allowed.
    pub min_chars: usize,
    /// The most characters allowed.
    pub max_chars: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: MIN_CHARS,
            max_chars: MAX_CHARS,
        }
    }
}

impl PasswordPolicy {
    /// Checks a new password against the length, list and context rules.
    ///
    /// `context` holds the username and other account details (display name,
    /// e-mail, the service name) that the password must not contain.
    pub fn check(&self, password: &SecretString, context: &[&str]) -> Result<(), PasswordError> {
        let raw = password.expose_secret();
        // Bounded work: NFKC can grow a string, so a huge input is refused
        // before it is normalised.
        if raw.chars().count() > self.max_chars.saturating_mul(4) {
            return Err(PasswordError::TooLong {
                max: self.max_chars,
            });
        }
        let normalised = normalise(raw);
        let length = normalised.chars().count();
        if length < self.min_chars {
            return Err(PasswordError::TooShort {
                min: self.min_chars,
            });
        }
        if length > self.max_chars {
            return Err(PasswordError::TooLong {
                max: self.max_chars,
            });
        }

        let folded = Zeroizing::new(normalised.to_lowercase());
        // Fail closed: without the list, no password can be shown not to be on it.
        if COMMON.is_empty() {
            return Err(PasswordError::ListUnavailable);
        }
        if is_common_folded(&folded) {
            return Err(PasswordError::Common);
        }
        if is_repetitive(&folded) {
            return Err(PasswordError::Repetitive);
        }
        if context.iter().any(|value| matches_context(&folded, value)) {
            return Err(PasswordError::ContainsContext);
        }
        Ok(())
    }
}

/// Checks a new password with the default policy (12 to 128 characters).
pub fn check_new_password(password: &SecretString, context: &[&str]) -> Result<(), PasswordError> {
    PasswordPolicy::default().check(password, context)
}

/// Whether the password, normalised and lowercased, is on the shipped list.
pub fn is_common(password: &SecretString) -> bool {
    let folded = Zeroizing::new(normalise(password.expose_secret()).to_lowercase());
    is_common_folded(&folded)
}

/// The number of entries in the shipped list, after normalisation.
pub fn common_list_len() -> usize {
    COMMON.len()
}

/// Hashes a password (after NFKC) with argon2id and a fresh salt; returns the PHC string.
pub fn hash_password(password: &SecretString) -> Result<String, PasswordError> {
    secret::hash_secret(&normalised_secret(password)).map_err(|_: SecretError| PasswordError::Hash)
}

/// Checks a password (after NFKC) against a stored PHC string, in constant time.
pub fn verify_password(phc: &str, password: &SecretString) -> bool {
    secret::verify_secret(phc, &normalised_secret(password))
}

/// Runs one full verification against a dummy hash; call it for an unknown user.
pub fn verify_dummy_password(password: &SecretString) {
    secret::verify_dummy(&normalised_secret(password));
}

/// NFKC, as NIST SP 800-63B recommends before hashing and comparing.
fn normalise(text: &str) -> Zeroizing<String> {
    Zeroizing::new(text.nfkc().collect())
}

fn normalised_secret(password: &SecretString) -> SecretString {
    SecretString::from(normalise(password.expose_secret()).as_str())
}

fn is_common_folded(folded: &str) -> bool {
    COMMON.contains(folded)
}

/// Whether `folded` is one short run repeated, has too few different characters, or
/// steps by one code point from each character to the next (up or down, where `9` is
/// followed by `0` and `0` preceded by `9`).
fn is_repetitive(folded: &str) -> bool {
    let chars: Vec<char> = folded.chars().collect();
    let distinct: HashSet<char> = chars.iter().copied().collect();
    if distinct.len() < MIN_DISTINCT_CHARS {
        return true;
    }
    let repeated = (1..=chars.len() / 3).any(|unit| {
        chars
            .iter()
            .zip(chars.iter().skip(unit))
            .all(|(a, b)| a == b)
    });
    repeated || is_sequence(&chars, 1) || is_sequence(&chars, -1)
}

/// Whether every character is the one before it moved by `step` (digits wrap around).
fn is_sequence(chars: &[char], step: i64) -> bool {
    chars.iter().zip(chars.iter().skip(1)).all(|(&a, &b)| {
        let wrapped = match (a, b) {
            ('9', '0') => step == 1,
            ('0', '9') => step == -1,
            _ => false,
        };
        wrapped || i64::from(u32::from(b)) - i64::from(u32::from(a)) == step
    })
}

/// Equal to the value, or containing it when it is long enough to matter.
fn matches_context(folded_password: &str, value: &str) -> bool {
    let value = normalise(value.trim()).to_lowercase();
    if value.is_empty() {
        return false;
    }
    if value.chars().count() < MIN_CONTEXT_CHARS {
        return folded_password == value;
    }
    folded_password.contains(&value)
}

fn load_list() -> HashSet<String> {
    let mut text = String::new();
    if GzDecoder::new(LIST_GZ).read_to_string(&mut text).is_err() {
        // The list is compiled in and covered by a test; an empty set means a
        // damaged build, and `check` then refuses every new password.
        tracing::error!("the common-password list could not be decompressed");
        return HashSet::new();
    }
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| normalise(line).to_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_list_decompresses_to_tens_of_thousands_of_entries() {
        let len = common_list_len();
        assert!((50_000..=100_000).contains(&len), "{len} entries");
    }

    #[test]
    fn repetitive_and_sequential_passwords_are_refused() {
        for weak in [
            "aaaaaaaaaaaa",
            "abababababab",
            "abcabcabcabc",
            "passwordpasswordpassword",
            "aaaaaaaaaaab",
            "abcdefghijklm",
            "987654321098",
            "789012345678",
            "ZYXWVUTSRQPONM",
        ] {
            let refused = check_new_password(&SecretString::from(weak), &[]);
            assert_eq!(refused, Err(PasswordError::Repetitive), "{weak}");
        }
    }

    #[test]
    fn passphrases_with_repeated_letters_are_still_accepted() {
        for fine in [
            "correct horse battery staple 42",
            "aaaa bbbb cccc dddd",
            "Mississippi river boat",
        ] {
            let accepted = check_new_password(&SecretString::from(fine), &[]);
            assert_eq!(accepted, Ok(()), "{fine}");
        }
    }

    #[test]
    fn shipped_list_contains_well_known_breached_passwords() {
        for known in ["password", "123456", "qwertyuiop", "iloveyou"] {
            assert!(is_common(&SecretString::from(known)), "{known}");
        }
    }
}
