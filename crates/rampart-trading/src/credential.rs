//! The broker credential: what the paper venue accepts, and what the gateway presents.
//!
//! Rule upheld: every request to the broker carries the credential, and the
//! venue refuses a wrong one, or a rotated-out one once its grace period has
//! passed. The venue keeps SHA-256 digests only and compares them in constant
//! time; the presented value lives in a `SecretString` and is never logged.
//!
//! Rotation follows the broker's two-key model: the new credential becomes
//! current at the venue and the one it replaces stays accepted for the grace
//! period, so requests already on their way still pass. A second rotation
//! while the previous credential is in its grace period is refused, as a venue
//! with two key slots would; the credential in use stays in use.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::broker::BrokerError;
use crate::clock::Clock;

/// The shortest credential the venue accepts, in bytes.
pub const MIN_CREDENTIAL_BYTES: usize = 32;

/// How long a rotated-out credential stays accepted unless configured otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(300);

/// The credential gate of a broker: the venue's accepted digests and the presented value.
pub struct CredentialGate {
    clock: Arc<dyn Clock>,
    grace: chrono::Duration,
    state: Mutex<GateState>,
}

struct GateState {
    /// What requests carry.
    presented: SecretString,
    /// The digest of the credential the venue accepts without limit.
    current: [u8; 32],
    /// The digest of the rotated-out credential and when it stops being accepted.
    previous: Option<([u8; 32], DateTime<Utc>)>,
}

impl CredentialGate {
    /// A gate whose venue accepts `credential`, which requests present from now on.
    pub fn new(
        credential: SecretString,
        grace: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, BrokerError> {
        check_shape(credential.expose_secret())?;
        let grace = chrono::Duration::from_std(grace)
            .map_err(|_| BrokerError::CredentialRefused("the grace period is too long".into()))?;
        let state = GateState {
            current: digest(credential.expose_secret()),
            presented: credential,
            previous: None,
        };
        Ok(Self {
            clock,
            grace,
            state: Mutex::new(state),
        })
    }

    /// The venue's check of a request's credential.
    pub fn check(&self, presented: &SecretString) -> Result<(), BrokerError> {
        let now = self.clock.now();
        let offered = digest(presented.expose_secret());
        let state = self.lock();
        if bool::from(offered.ct_eq(&state.current)) {
            return Ok(());
        }
        match state.previous {
            Some((previous, until)) if bool::from(offered.ct_eq(&previous)) && now < until => {
                Ok(())
            }
            _ => Err(BrokerError::CredentialRejected),
        }
    }

    /// Checks the credential the requests carry now.
    pub fn authenticate(&self) -> Result<(), BrokerError> {
        let presented = self.lock().presented.clone();
        self.check(&presented)
    }

    /// Takes `credential` into use: current at the venue, presented by every later request.
    ///
    /// The replaced credential stays accepted for the grace period. Refused, with
    /// nothing changed, when the credential is too short or was used before, or
    /// while the previous credential is still in its grace period.
    pub fn rotate(&self, credential: &str) -> Result<(), BrokerError> {
        check_shape(credential)?;
        let now = self.clock.now();
        let new = digest(credential);
        let mut state = self.lock();
        let reused = bool::from(new.ct_eq(&state.current))
            || state
                .previous
                .is_some_and(|(previous, _)| bool::from(new.ct_eq(&previous)));
        if reused {
            return Err(refused("the credential was used before"));
        }
        if let Some((_, until)) = state.previous.filter(|(_, until)| now < *until) {
            let when = until.to_rfc3339();
            return Err(refused(&format!(
                "the previous credential is accepted until {when}"
            )));
        }
        let until = now.checked_add_signed(self.grace).unwrap_or(now);
        state.previous = Some((state.current, until));
        state.current = new;
        state.presented = SecretString::from(credential.to_owned());
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for CredentialGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialGate")
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

fn check_shape(credential: &str) -> Result<(), BrokerError> {
    if credential.len() < MIN_CREDENTIAL_BYTES {
        return Err(refused(&format!(
            "a credential has at least {MIN_CREDENTIAL_BYTES} bytes"
        )));
    }
    Ok(())
}

fn refused(why: &str) -> BrokerError {
    BrokerError::CredentialRefused(why.to_owned())
}

fn digest(credential: &str) -> [u8; 32] {
    Sha256::digest(credential.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use chrono::TimeZone;

    use super::*;

    const FIRST: &str = "first-credential-0123456789abcdefghij"; // pragma: allowlist secret
    const SECOND: &str = "second-credential-0123456789abcdefghij"; // pragma: allowlist secret
    const THIRD: &str = "third-credential-0123456789abcdefghij"; // pragma: allowlist secret

    /// A clock that tests move forward by hand.
    struct Manual(AtomicI64);

    impl Clock for Manual {
        fn now(&self) -> DateTime<Utc> {
            Utc.timestamp_opt(self.0.load(Ordering::SeqCst), 0).unwrap()
        }
    }

    fn gate() -> (CredentialGate, Arc<Manual>) {
        let clock = Arc::new(Manual(AtomicI64::new(1_780_000_000)));
        let grace = Duration::from_secs(60);
        let gate = CredentialGate::new(FIRST.into(), grace, clock.clone()).unwrap();
        (gate, clock)
    }

    #[test]
    fn a_wrong_credential_is_refused_and_the_presented_one_passes() {
        let (gate, _) = gate();
        assert_eq!(gate.authenticate(), Ok(()));
        let wrong = SecretString::from(SECOND);
        assert_eq!(gate.check(&wrong), Err(BrokerError::CredentialRejected));
    }

    #[test]
    fn the_old_credential_passes_during_the_grace_and_is_refused_after_it() {
        let (gate, clock) = gate();
        gate.rotate(SECOND).unwrap();
        let old = SecretString::from(FIRST);
        assert_eq!(gate.check(&old), Ok(()));
        assert_eq!(gate.authenticate(), Ok(()));
        clock.0.fetch_add(60, Ordering::SeqCst);
        assert_eq!(gate.check(&old), Err(BrokerError::CredentialRejected));
        assert_eq!(gate.check(&SecretString::from(SECOND)), Ok(()));
    }

    #[test]
    fn a_second_rotation_within_the_grace_is_refused_and_changes_nothing() {
        let (gate, clock) = gate();
        gate.rotate(SECOND).unwrap();
        let again = gate.rotate(THIRD);
        assert!(matches!(again, Err(BrokerError::CredentialRefused(_))));
        assert_eq!(gate.check(&SecretString::from(SECOND)), Ok(()));
        assert!(gate.check(&SecretString::from(THIRD)).is_err());
        clock.0.fetch_add(61, Ordering::SeqCst);
        assert_eq!(gate.rotate(THIRD), Ok(()));
    }

    #[test]
    fn short_or_reused_credentials_are_refused() {
        let (gate, clock) = gate();
        assert!(matches!(
            gate.rotate("short"),
            Err(BrokerError::CredentialRefused(_))
        ));
        assert!(gate.rotate(FIRST).is_err());
        gate.rotate(SECOND).unwrap();
        clock.0.fetch_add(61, Ordering::SeqCst);
        assert!(
            gate.rotate(FIRST).is_err(),
            "the rotated-out credential is not taken back"
        );
        assert_eq!(gate.authenticate(), Ok(()));
    }

    #[test]
    fn debug_never_shows_the_credential() {
        let (gate, _) = gate();
        assert!(!format!("{gate:?}").contains("credential-0123"));
    }
}
