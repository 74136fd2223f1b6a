//! Time-based one-time passwords (RFC 6238): HMAC-SHA-1, six digits, 30-second
//! steps, one step of clock drift either way.
//!
//! The secret is 160 random bits (RFC 4226 section 4), held zeroised and shown
//! only as base32 inside a [`SecretString`], an `otpauth://` URI or a QR code.
//! A code is accepted at most once: [`TotpSecret::verify`] returns the step it
//! matched, the caller stores it, and a later code for that step or an earlier
//! one is refused, so an observed code cannot be replayed. Codes are compared
//! in constant time, and every candidate step is computed whatever matches.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};
use zeroize::Zeroizing;

/// Random bytes in a new secret (160 bits).
pub const SECRET_BYTES: usize = 20;

/// The fewest secret bytes accepted from storage (128 bits, RFC 4226).
pub const MIN_SECRET_BYTES: usize = 16;

/// Digits in a code.
pub const DIGITS: usize = 6;

/// Seconds in one step.
pub const STEP_SECONDS: u64 = 30;

/// Steps of drift accepted before and after the current one.
pub const SKEW_STEPS: u64 = 1;

/// What can go wrong with a TOTP secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// The system random generator failed.
    #[error("totp secret could not be generated")]
    Generate,
    /// The stored text is not base32 of at least 128 bits.
    #[error("totp secret is not base32 of at least 128 bits")]
    InvalidSecret,
    /// The issuer or account name is empty or contains `:`.
    #[error("`{0}` must be non-empty and must not contain `:`")]
    InvalidLabel(&'static str),
    /// The QR code could not be drawn.
    #[error("totp qr code could not be drawn")]
    Qr,
}

/// A TOTP shared secret.
pub struct TotpSecret {
    bytes: Zeroizing<Vec<u8>>,
    digits: usize,
}

impl TotpSecret {
    /// A new secret of 160 bits from the system random generator.
    pub fn generate() -> Result<Self, TotpError> {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_BYTES]);
        SystemRandom::new()
            .fill(bytes.as_mut_slice())
            .map_err(|_| TotpError::Generate)?;
        Ok(Self::from_bytes(bytes))
    }

    /// Reads a secret from base32 (RFC 4648; case, spaces and padding ignored).
    pub fn from_base32(text: &SecretString) -> Result<Self, TotpError> {
        let cleaned: Zeroizing<String> = Zeroizing::new(
            text.expose_secret()
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '=')
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        );
        let bytes = Secret::Encoded(cleaned.to_string())
            .to_bytes()
            .map_err(|_| TotpError::InvalidSecret)?;
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(TotpError::InvalidSecret);
        }
        Ok(Self::from_bytes(bytes))
    }

    /// The secret as unpadded base32, for storage or manual entry.
    pub fn to_base32(&self) -> SecretString {
        SecretString::from(
            self.engine(String::new(), String::new())
                .get_secret_base32(),
        )
    }

    /// The `otpauth://totp/...` URI an authenticator app reads; it holds the secret.
    pub fn otpauth_uri(&self, issuer: &str, account_name: &str) -> Result<SecretString, TotpError> {
        Ok(SecretString::from(
            self.labelled(issuer, account_name)?.get_url(),
        ))
    }

    /// The enrolment URI as a QR code, PNG bytes; it holds the secret.
    pub fn qr_png(
        &self,
        issuer: &str,
        account_name: &str,
    ) -> Result<Zeroizing<Vec<u8>>, TotpError> {
        let png = self
            .labelled(issuer, account_name)?
            .get_qr_png()
            .map_err(|_| TotpError::Qr)?;
        Ok(Zeroizing::new(png))
    }

    /// The code for the step holding `now_unix`.
    pub fn code_at(&self, now_unix: u64) -> SecretString {
        SecretString::from(self.code_for_step(now_unix / STEP_SECONDS).to_string())
    }

    /// Checks `code` at `now_unix`; returns the matched step, never one at or
    /// before `last_used_step`.
    pub fn verify(&self, code: &str, now_unix: u64, last_used_step: Option<u64>) -> Option<u64> {
        if code.len() != self.digits || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let current = now_unix / STEP_SECONDS;
        let first = current.saturating_sub(SKEW_STEPS);
        let last = current.saturating_add(SKEW_STEPS);

        let mut matched = None;
        for step in first..=last {
            // Every candidate is computed and compared: the time taken does
            // not depend on which step, if any, matches.
            let expected = self.code_for_step(step);
            let equal: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
            let fresh = last_used_step.is_none_or(|used| step > used);
            if equal && fresh {
                matched = Some(step);
            }
        }
        matched
    }

    fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self {
            bytes,
            digits: DIGITS,
        }
    }

    fn code_for_step(&self, step: u64) -> Zeroizing<String> {
        let time = step.saturating_mul(STEP_SECONDS);
        Zeroizing::new(self.engine(String::new(), String::new()).generate(time))
    }

    fn labelled(&self, issuer: &str, account_name: &str) -> Result<TOTP, TotpError> {
        check_label("issuer", issuer)?;
        check_label("account_name", account_name)?;
        Ok(self.engine(issuer.to_owned(), account_name.to_owned()))
    }

    fn engine(&self, issuer: String, account_name: String) -> TOTP {
        // INVARIANT: digits and secret length were checked when the secret was
        // made, so the unchecked constructor sees only valid parameters.
        TOTP::new_unchecked(
            Algorithm::SHA1,
            self.digits,
            1,
            STEP_SECONDS,
            self.bytes.to_vec(),
            Some(issuer).filter(|issuer| !issuer.is_empty()),
            account_name,
        )
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpSecret").finish_non_exhaustive()
    }
}

fn check_label(field: &'static str, value: &str) -> Result<(), TotpError> {
    if value.is_empty() || value.contains(':') {
        return Err(TotpError::InvalidLabel(field));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the SHA-1 seed and its eight-digit codes.
    const SEED: &[u8] = b"12345678901234567890";
    const VECTORS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    fn eight_digit_secret() -> TotpSecret {
        TotpSecret {
            bytes: Zeroizing::new(SEED.to_vec()),
            digits: 8,
        }
    }

    #[test]
    fn eight_digit_codes_match_the_rfc_6238_sha1_vectors() {
        let secret = eight_digit_secret();
        for (time, expected) in VECTORS {
            assert_eq!(secret.code_at(time).expose_secret(), expected, "T = {time}");
        }
    }

    #[test]
    fn eight_digit_verification_accepts_each_rfc_6238_vector_at_its_step() {
        let secret = eight_digit_secret();
        for (time, code) in VECTORS {
            assert_eq!(secret.verify(code, time, None), Some(time / STEP_SECONDS));
        }
    }

    #[test]
    fn debug_shows_nothing_of_the_secret() {
        let secret = eight_digit_secret();
        let shown = format!("{secret:?}");
        assert!(!shown.contains(secret.to_base32().expose_secret()));
        assert!(!shown.contains("1234567890"));
    }
}
