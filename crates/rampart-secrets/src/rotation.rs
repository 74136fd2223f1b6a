//! Rotation: per-secret schedules and the stage → verify → promote procedure.
//!
//! Rule upheld: a failed rotation leaves the current secret working. [`rotate`] stages the
//! new value as pending, runs the caller's verification, and promotes only when that
//! succeeds; every failure is reported to the [`AccessObserver`] as a failed rotation.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::observer::{AccessEvent, AccessObserver, AccessOutcome, FailureKind, Operation};
use crate::store::{SecretError, SecretMeta, SecretStore, SecretValue, Version};

/// How often one secret is rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// The interval between rotations.
    pub every: Duration,
    /// Whether the scheduler rotates it; when `false`, only on demand.
    pub scheduled: bool,
}

impl RotationPolicy {
    /// The default for token-signing keys: every 90 days.
    pub const SIGNING_KEY: RotationPolicy = RotationPolicy::days(90);
    /// The default for broker credentials: every 30 days.
    pub const BROKER_CREDENTIAL: RotationPolicy = RotationPolicy::days(30);

    /// A scheduled policy of `days` days.
    pub const fn days(days: u64) -> RotationPolicy {
        RotationPolicy {
            every: Duration::from_secs(days * 86_400),
            scheduled: true,
        }
    }

    /// When the secret described by `meta` is next due.
    pub fn next_rotation(&self, meta: &SecretMeta) -> DateTime<Utc> {
        let last = meta.rotated_at.unwrap_or(meta.created_at);
        let every = chrono::Duration::from_std(self.every).unwrap_or(chrono::Duration::MAX);
        last.checked_add_signed(every)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Whether the secret is due at `now` (a backend's own schedule wins when it has one).
    pub fn due(&self, meta: &SecretMeta, now: DateTime<Utc>) -> bool {
        self.scheduled
            && meta
                .next_rotation
                .unwrap_or_else(|| self.next_rotation(meta))
                <= now
    }

    /// `meta` with `next_rotation` filled in from this policy when the backend had none.
    pub fn annotate(&self, mut meta: SecretMeta) -> SecretMeta {
        if meta.next_rotation.is_none() {
            meta.next_rotation = Some(self.next_rotation(&meta));
        }
        meta
    }
}

impl Default for RotationPolicy {
    fn default() -> RotationPolicy {
        RotationPolicy::BROKER_CREDENTIAL
    }
}

/// Why a rotation did not complete; the current secret is still in use.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// The new value could not be generated.
    #[error("rotation of `{name}` failed: the new value could not be generated: {reason}")]
    Generate {
        /// The secret.
        name: String,
        /// Why, without any value.
        reason: String,
    },
    /// The store refused a rotation step.
    #[error("rotation of `{name}` failed: {source}")]
    Store {
        /// The secret.
        name: String,
        /// The store's error.
        source: SecretError,
    },
    /// The verification hook refused the pending value; it stays staged, not current.
    #[error(
        "rotation of `{name}` failed: the pending version `{version}` did not verify: {reason}"
    )]
    Verification {
        /// The secret.
        name: String,
        /// The pending version.
        version: Version,
        /// Why, without any value.
        reason: String,
    },
}

/// Rotates `name`: generates a value, stages it as pending, verifies it, then promotes it.
///
/// `verify` gets the pending value (for instance to log in with a new credential or to
/// publish a new public key); on any failure the current version stays current and a
/// failed [`Operation::Rotate`] event goes to `observer`. On success one successful
/// rotation event with the new version goes to `observer`.
pub async fn rotate<S, G, V, F>(
    store: &S,
    name: &str,
    generate: G,
    verify: V,
    observer: &dyn AccessObserver,
) -> Result<SecretMeta, RotationError>
where
    S: SecretStore + ?Sized,
    G: FnOnce() -> Result<SecretValue, String>,
    V: FnOnce(SecretValue) -> F,
    F: Future<Output = Result<(), String>>,
{
    let report = |version: Option<Version>, outcome| {
        let backend = store.backend();
        let event = AccessEvent {
            name: name.to_owned(),
            version,
            backend,
            operation: Operation::Rotate,
            outcome,
        };
        observer.on_access(event);
    };
    let fail = |version: Option<Version>, kind, error: RotationError| {
        report(version, AccessOutcome::Failed(kind));
        Err(error)
    };
    let store_error = |source: SecretError| RotationError::Store {
        name: name.to_owned(),
        source,
    };

    let value = match generate() {
        Ok(value) => value,
        Err(reason) => {
            let error = RotationError::Generate {
                name: name.to_owned(),
                reason,
            };
            return fail(None, FailureKind::Invalid, error);
        }
    };
    let check = value.clone();
    let staged = match store.stage_pending(name, value).await {
        Ok(meta) => meta,
        Err(error) => return fail(None, FailureKind::of(&error), store_error(error)),
    };

    if let Err(reason) = verify(check).await {
        let version = staged.version.clone();
        let error = RotationError::Verification {
            name: name.to_owned(),
            version,
            reason,
        };
        return fail(Some(staged.version), FailureKind::VerificationFailed, error);
    }

    match store.promote_pending(name).await {
        Ok(meta) => {
            report(Some(meta.version.clone()), AccessOutcome::Ok);
            Ok(meta)
        }
        Err(error) => fail(
            Some(staged.version),
            FailureKind::of(&error),
            store_error(error),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Stage;

    fn meta(created: &str, rotated: Option<&str>) -> SecretMeta {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        SecretMeta {
            name: "token-signing-key".into(),
            version: Version::number(1),
            backend: "file",
            created_at: at(created),
            rotated_at: rotated.map(at),
            next_rotation: None,
            stage: Stage::Current,
        }
    }

    #[test]
    fn signing_key_is_due_ninety_days_after_its_last_rotation() {
        let meta = meta("2026-01-01T00:00:00Z", Some("2026-03-01T00:00:00Z"));
        let policy = RotationPolicy::SIGNING_KEY;
        assert!(!policy.due(&meta, "2026-05-29T23:59:59Z".parse().unwrap()));
        assert!(policy.due(&meta, "2026-05-30T00:00:00Z".parse().unwrap()));
    }

    #[test]
    fn broker_credential_defaults_to_thirty_days_from_creation() {
        let meta = meta("2026-01-01T00:00:00Z", None);
        let next = RotationPolicy::default().next_rotation(&meta);
        assert_eq!(
            next,
            "2026-01-31T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn unscheduled_policy_is_never_due() {
        let policy = RotationPolicy {
            scheduled: false,
            ..RotationPolicy::days(1)
        };
        assert!(!policy.due(&meta("2020-01-01T00:00:00Z", None), Utc::now()));
    }
}
