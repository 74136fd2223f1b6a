//! Standalone audit events: decisions that change no other state.
//!
//! A denied request, a refused token or a rejected bearer token leaves an
//! event in its own transaction. Changes of state never use this: they write
//! their event in the transaction of the change.

use rampart_audit::{NewEvent, Outcome, action};
use rampart_core::Principal;
use rampart_policy::Decision;
use rampart_store::{Store, StoreError};
use serde_json::json;

use crate::request_id;

/// The actor of events about requests that carried no valid identity.
pub const ANONYMOUS: &str = "anonymous";

/// Appends one event in its own transaction.
pub async fn append(store: &Store, event: NewEvent) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    tx.append(stamp(event)).await?;
    tx.commit().await
}

/// Appends one event; a failure is logged, for events that must not change the answer.
pub async fn append_or_log(store: &Store, event: NewEvent) {
    if let Err(error) = append(store, event).await {
        tracing::error!(%error, "audit event could not be recorded");
    }
}

/// An event by `principal` for the current request.
pub fn event(principal: &str, action: &str, target: &str, outcome: Outcome) -> NewEvent {
    NewEvent::new(principal, action, target, outcome, request_id::current())
}

/// The event with the client's own request id, if it sent one, in its details.
///
/// The event's `request_id` is always the gateway's; the client's reference is
/// kept beside it, so that a client can find its requests but never name one.
pub fn stamp(mut event: NewEvent) -> NewEvent {
    let Some(client) = request_id::client() else {
        return event;
    };
    if event.details.is_null() {
        event.details = json!({});
    }
    if let Some(details) = event.details.as_object_mut() {
        details.insert("client_request_id".to_owned(), client.into());
    }
    event
}

/// The `policy.denied` event of a decision.
pub fn denied(principal: &Principal, target: &str, decision: &Decision) -> NewEvent {
    event(
        &principal.id,
        action::POLICY_DENIED,
        target,
        Outcome::Denied,
    )
    .policy(decision.policy_version.clone())
    .details(json!({
        "action": decision.action.as_str(),
        "policy_ids": decision.policy_ids,
    }))
}
