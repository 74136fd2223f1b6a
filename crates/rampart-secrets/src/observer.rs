//! The access hook: every secret operation is reported, so that the gateway can audit it.
//!
//! Rule upheld: an [`AccessEvent`] carries the secret's name, version, backend, the
//! operation and its outcome, and never the value. [`Observed`] wraps any
//! [`SecretStore`] and reports each call to an [`AccessObserver`].

use std::sync::Arc;

use async_trait::async_trait;

use crate::store::{Secret, SecretError, SecretMeta, SecretStore, SecretValue, Version};

/// What was done to a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// A value or its metadata was read.
    Read,
    /// A value was written.
    Write,
    /// A rotation step: staging, promotion, or a whole rotation.
    Rotate,
    /// Metadata of every secret was listed.
    List,
}

/// Why an operation failed, as a stable kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The secret or version does not exist.
    NotFound,
    /// A check-and-set expectation did not hold.
    Conflict,
    /// The backend refused the credentials.
    Denied,
    /// The backend could not be reached.
    Unavailable,
    /// Stored data could not be read back.
    Corrupt,
    /// The request was invalid (name, configuration, unsupported operation).
    Invalid,
    /// A rotation's verification hook refused the new value.
    VerificationFailed,
}

impl FailureKind {
    /// The kind's stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::NotFound => "not_found",
            FailureKind::Conflict => "conflict",
            FailureKind::Denied => "denied",
            FailureKind::Unavailable => "unavailable",
            FailureKind::Corrupt => "corrupt",
            FailureKind::Invalid => "invalid",
            FailureKind::VerificationFailed => "verification_failed",
        }
    }

    /// The kind of a store error.
    pub fn of(error: &SecretError) -> FailureKind {
        match error {
            SecretError::NotFound(_) | SecretError::NoSuchVersion { .. } => FailureKind::NotFound,
            SecretError::CasMismatch { .. } => FailureKind::Conflict,
            SecretError::Denied { .. } => FailureKind::Denied,
            SecretError::Unavailable { .. } | SecretError::Io(_) => FailureKind::Unavailable,
            SecretError::Corrupt(_) => FailureKind::Corrupt,
            SecretError::InvalidName(..)
            | SecretError::Unsupported { .. }
            | SecretError::Config(_) => FailureKind::Invalid,
        }
    }
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessOutcome {
    /// It succeeded.
    Ok,
    /// It failed.
    Failed(FailureKind),
}

/// One reported operation; never holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEvent {
    /// The secret (`*` for a listing).
    pub name: String,
    /// The version involved, when known.
    pub version: Option<Version>,
    /// The backend.
    pub backend: &'static str,
    /// What was done.
    pub operation: Operation,
    /// How it ended.
    pub outcome: AccessOutcome,
}

/// Receives every secret operation; must be cheap and must not block (queue the event).
pub trait AccessObserver: Send + Sync {
    /// Called once per operation, after it ended.
    fn on_access(&self, event: AccessEvent);
}

/// A store that reports every operation to an observer.
pub struct Observed<S> {
    inner: S,
    observer: Arc<dyn AccessObserver>,
}

impl<S: SecretStore> Observed<S> {
    /// Wraps `inner`, reporting to `observer`.
    pub fn new(inner: S, observer: Arc<dyn AccessObserver>) -> Observed<S> {
        Observed { inner, observer }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Reports one event.
    pub fn report(
        &self,
        name: &str,
        version: Option<Version>,
        op: Operation,
        outcome: AccessOutcome,
    ) {
        self.observer.on_access(AccessEvent {
            name: name.to_owned(),
            version,
            backend: self.inner.backend(),
            operation: op,
            outcome,
        });
    }

    fn meta<T>(
        &self,
        name: &str,
        op: Operation,
        result: Result<T, SecretError>,
    ) -> Result<T, SecretError>
    where
        T: HasMeta,
    {
        match &result {
            Ok(value) => self.report(name, Some(value.version()), op, AccessOutcome::Ok),
            Err(error) => self.report(
                name,
                None,
                op,
                AccessOutcome::Failed(FailureKind::of(error)),
            ),
        }
        result
    }
}

/// Something that names the version it is about.
trait HasMeta {
    fn version(&self) -> Version;
}

impl HasMeta for Secret {
    fn version(&self) -> Version {
        self.meta.version.clone()
    }
}

impl HasMeta for SecretMeta {
    fn version(&self) -> Version {
        self.version.clone()
    }
}

#[async_trait]
impl<S: SecretStore> SecretStore for Observed<S> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn get(&self, name: &str) -> Result<Secret, SecretError> {
        self.meta(name, Operation::Read, self.inner.get(name).await)
    }

    async fn get_version(&self, name: &str, version: &Version) -> Result<Secret, SecretError> {
        let result = self.inner.get_version(name, version).await;
        if let Err(error) = &result {
            let outcome = AccessOutcome::Failed(FailureKind::of(error));
            self.report(name, Some(version.clone()), Operation::Read, outcome);
            return result;
        }
        self.meta(name, Operation::Read, result)
    }

    async fn put(
        &self,
        name: &str,
        value: SecretValue,
        cas: Option<&Version>,
    ) -> Result<SecretMeta, SecretError> {
        self.meta(
            name,
            Operation::Write,
            self.inner.put(name, value, cas).await,
        )
    }

    async fn list(&self) -> Result<Vec<SecretMeta>, SecretError> {
        let result = self.inner.list().await;
        let outcome = match &result {
            Ok(_) => AccessOutcome::Ok,
            Err(error) => AccessOutcome::Failed(FailureKind::of(error)),
        };
        self.report("*", None, Operation::List, outcome);
        result
    }

    async fn metadata(&self, name: &str) -> Result<SecretMeta, SecretError> {
        self.meta(name, Operation::Read, self.inner.metadata(name).await)
    }

    async fn stage_pending(
        &self,
        name: &str,
        value: SecretValue,
    ) -> Result<SecretMeta, SecretError> {
        self.meta(
            name,
            Operation::Rotate,
            self.inner.stage_pending(name, value).await,
        )
    }

    async fn pending(&self, name: &str) -> Result<Secret, SecretError> {
        self.meta(name, Operation::Read, self.inner.pending(name).await)
    }

    async fn promote_pending(&self, name: &str) -> Result<SecretMeta, SecretError> {
        self.meta(
            name,
            Operation::Rotate,
            self.inner.promote_pending(name).await,
        )
    }

    async fn previous(&self, name: &str) -> Result<Secret, SecretError> {
        self.meta(name, Operation::Read, self.inner.previous(name).await)
    }
}

/// An observer that keeps every event in memory, for callers that collect and inspect.
#[derive(Debug, Default)]
pub struct Recorder {
    events: std::sync::Mutex<Vec<AccessEvent>>,
}

impl Recorder {
    /// Every event so far, oldest first.
    pub fn events(&self) -> Vec<AccessEvent> {
        self.events
            .lock()
            .map(|events| events.clone())
            .unwrap_or_default()
    }
}

impl AccessObserver for Recorder {
    fn on_access(&self, event: AccessEvent) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }
}
