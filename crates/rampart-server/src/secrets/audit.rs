//! The access audit: every secret operation becomes an audit event, written off the caller's path.
//!
//! Rule upheld: every read, write, rotation and failure is recorded with the
//! secret's name, version and backend, never its value. The store's observer
//! hook is synchronous, so events are queued to a recorder task that appends
//! each in its own write transaction; [`AuditRecorder::flush`] waits until
//! everything queued so far is durable, and [`AuditRecorder::stop`] drains the
//! queue before the database closes, so no access goes unrecorded.

use std::future::Future;

use rampart_audit::{NewEvent, Outcome};
use rampart_secrets::{AccessEvent, AccessObserver, AccessOutcome, Operation};
use rampart_store::Store;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::request_id;
use crate::service::audit as events;

/// A secret value or its metadata was read from the backend.
pub const SECRET_READ: &str = "secret.read";
/// A new version of a secret was written, staged or promoted.
pub const SECRET_WRITTEN: &str = "secret.written";
/// A secret was rotated: a new version is current, the old one previous.
pub const SECRET_ROTATED: &str = "secret.rotated";
/// A rotation did not complete; the current version stays in use.
pub const SECRET_ROTATION_FAILED: &str = "secret.rotation_failed";
/// An operation on the secret store failed.
pub const SECRET_ACCESS_FAILED: &str = "secret.access_failed";
/// A secret kept in a plain file was moved into the secret store and the file removed.
pub const SECRET_MIGRATED: &str = "secret.migrated";

/// The actor of secret operations the gateway makes on its own behalf.
pub const SYSTEM_ACTOR: &str = "system";

tokio::task_local! {
    static ACTOR: String;
}

/// Runs `future` with `actor` named in the audit events of the secret operations it makes.
pub async fn as_actor<F: Future>(actor: &str, future: F) -> F::Output {
    ACTOR.scope(actor.to_owned(), future).await
}

/// Whose operation is being reported: a single store call, or a whole rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// One call on the backend (read, write, stage, promote).
    Store,
    /// The outcome of a rotation as a whole.
    Rotation,
}

enum Message {
    Event(Box<NewEvent>),
    Flush(oneshot::Sender<()>),
}

/// The observer handed to the secret store; queues one audit event per operation.
#[derive(Clone)]
pub struct AuditObserver {
    sender: mpsc::UnboundedSender<Message>,
    level: Level,
}

/// The task that appends queued events to the audit log.
pub struct AuditRecorder {
    sender: mpsc::UnboundedSender<Message>,
    task: JoinHandle<()>,
    /// For a deferred recorder: sent at the first flush, when appending begins.
    release: std::sync::Mutex<Option<oneshot::Sender<()>>>,
}

/// Starts the recorder; returns observers for single store calls and for whole rotations.
///
/// The queue is unbounded on purpose: dropping an access event is not an
/// option, and events are only as many as secret operations, which are few.
pub fn start(store: Store) -> (AuditObserver, AuditObserver, AuditRecorder) {
    start_with(store, false)
}

/// Like [`start`], but events are only queued until the recorder's first flush (or stop).
///
/// For a command that signs an audit checkpoint: the reads of the key it signs with
/// are recorded right after the checkpoint, never lost and never inside it.
pub fn start_deferred(store: Store) -> (AuditObserver, AuditObserver, AuditRecorder) {
    start_with(store, true)
}

fn start_with(store: Store, deferred: bool) -> (AuditObserver, AuditObserver, AuditRecorder) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let (release, released) = oneshot::channel();
    let task = tokio::spawn(async move {
        if deferred {
            let _ = released.await;
        }
        record(store, receiver).await;
    });
    let observer = |level| AuditObserver {
        sender: sender.clone(),
        level,
    };
    let observers = (observer(Level::Store), observer(Level::Rotation));
    let release = std::sync::Mutex::new(deferred.then_some(release));
    let recorder = AuditRecorder {
        sender,
        task,
        release,
    };
    (observers.0, observers.1, recorder)
}

impl AuditObserver {
    /// The observer of the same queue for `level`.
    pub fn at(&self, level: Level) -> AuditObserver {
        AuditObserver {
            sender: self.sender.clone(),
            level,
        }
    }
}

impl AccessObserver for AuditObserver {
    fn on_access(&self, access: AccessEvent) {
        let event = audit_event(&access, self.level);
        if self.sender.send(Message::Event(Box::new(event))).is_err() {
            tracing::error!(
                secret = %access.name,
                "secret access could not be queued for the audit log"
            );
        }
    }
}

impl AuditRecorder {
    /// Waits until every event queued before this call is in the audit log.
    pub async fn flush(&self) {
        let release = self
            .release
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(release) = release {
            let _ = release.send(());
        }
        let (done, wait) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }

    /// Records what is queued, then stops.
    pub async fn stop(self) {
        self.flush().await;
        self.task.abort();
        let _ = self.task.await;
    }
}

async fn record(store: Store, mut receiver: mpsc::UnboundedReceiver<Message>) {
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Event(event) => events::append_or_log(&store, *event).await,
            Message::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// The audit event of one access: name, version, backend, operation, outcome; never a value.
pub fn audit_event(access: &AccessEvent, level: Level) -> NewEvent {
    let (action, outcome) = classify(access, level);
    let actor = ACTOR
        .try_with(Clone::clone)
        .unwrap_or_else(|_| SYSTEM_ACTOR.to_owned());
    let mut request = request_id::current();
    if request.is_empty() {
        request = request_id::generate();
    }
    let reason = match access.outcome {
        AccessOutcome::Ok => None,
        AccessOutcome::Failed(kind) => Some(kind.as_str()),
    };
    let details = json!({
        "name": access.name,
        "version": access.version.as_ref().map(|v| v.as_str()),
        "backend": access.backend,
        "operation": operation_name(access.operation),
        "reason": reason,
    });
    let target = format!("secret:{}", access.name);
    events::stamp(NewEvent::new(actor, action, target, outcome, request).details(details))
}

fn classify(access: &AccessEvent, level: Level) -> (&'static str, Outcome) {
    match (access.outcome, level, access.operation) {
        (AccessOutcome::Failed(_), Level::Rotation, _) => (SECRET_ROTATION_FAILED, Outcome::Failed),
        (AccessOutcome::Failed(_), Level::Store, _) => (SECRET_ACCESS_FAILED, Outcome::Failed),
        (AccessOutcome::Ok, Level::Rotation, _) => (SECRET_ROTATED, Outcome::Success),
        (AccessOutcome::Ok, Level::Store, Operation::Read | Operation::List) => {
            (SECRET_READ, Outcome::Success)
        }
        (AccessOutcome::Ok, Level::Store, Operation::Write | Operation::Rotate) => {
            (SECRET_WRITTEN, Outcome::Success)
        }
    }
}

fn operation_name(operation: Operation) -> &'static str {
    match operation {
        Operation::Read => "read",
        Operation::Write => "write",
        Operation::Rotate => "rotate",
        Operation::List => "list",
    }
}

#[cfg(test)]
mod tests {
    use rampart_secrets::{FailureKind, Version};

    use super::*;

    fn access(operation: Operation, outcome: AccessOutcome) -> AccessEvent {
        AccessEvent {
            name: SECRET_NAME.to_owned(),
            version: Some(Version::number(3)),
            backend: "vault",
            operation,
            outcome,
        }
    }

    const SECRET_NAME: &str = "broker-api-key";

    #[test]
    fn a_read_names_the_secret_version_and_backend() {
        let event = audit_event(&access(Operation::Read, AccessOutcome::Ok), Level::Store);
        assert_eq!(event.action, SECRET_READ);
        assert_eq!(event.target, "secret:broker-api-key");
        assert_eq!(event.details["version"], "3");
        assert_eq!(event.details["backend"], "vault");
        assert_eq!(event.actor, SYSTEM_ACTOR);
    }

    #[test]
    fn a_failed_rotation_is_its_own_action_with_the_reason() {
        let failed = AccessOutcome::Failed(FailureKind::VerificationFailed);
        let event = audit_event(&access(Operation::Rotate, failed), Level::Rotation);
        assert_eq!(event.action, SECRET_ROTATION_FAILED);
        assert_eq!(event.outcome, Outcome::Failed);
        assert_eq!(event.details["reason"], "verification_failed");
    }

    #[test]
    fn a_staging_step_is_a_write_not_a_rotation() {
        let event = audit_event(&access(Operation::Rotate, AccessOutcome::Ok), Level::Store);
        assert_eq!(event.action, SECRET_WRITTEN);
    }

    #[tokio::test]
    async fn the_actor_in_scope_is_named() {
        let event = as_actor("admin-7", async {
            audit_event(&access(Operation::List, AccessOutcome::Ok), Level::Store)
        })
        .await;
        assert_eq!(event.actor, "admin-7");
    }
}
