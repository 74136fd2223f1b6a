//! The services behind the routes: authorisation, orders, fills and the kill switch.
//!
//! Nothing here runs without a verified principal and an allow decision; every
//! denial leaves a `policy.denied` event naming the policies and their version.

pub mod audit;
pub mod decision;
pub mod fills;
pub mod killswitch;
pub mod locks;
pub mod orders;
pub mod pretrade;

use rampart_core::Principal;
use rampart_policy::{Action, Decision, Resource};

use crate::middleware::record_decision;
use crate::problem::ApiError;
use crate::state::AppState;

/// Asks the policies; a denial is audited and answered with 403, or with 404 for an
/// account the principal is not assigned to, so that its existence is not revealed.
pub async fn authorize(
    state: &AppState,
    principal: &Principal,
    action: Action,
    resource: &Resource,
) -> Result<Decision, ApiError> {
    let decision = state.authorizer.authorize(principal, action, resource);
    if decision.allowed {
        record_decision(action.as_str(), "allowed");
        return Ok(decision);
    }

    record_decision(action.as_str(), "denied");
    let target = target_of(resource);
    audit::append(&state.store, audit::denied(principal, &target, &decision))
        .await
        .map_err(|error| internal("policy.denied event", &error))?;
    match resource {
        Resource::Account(account) if !principal.is_assigned(account) => Err(ApiError::NotFound),
        _ => Err(ApiError::PolicyDenied),
    }
}

/// The audit target naming a resource.
pub fn target_of(resource: &Resource) -> String {
    match resource {
        Resource::Account(account) => format!("account:{account}"),
        _ => "gateway".to_owned(),
    }
}

/// Runs `work` to completion even if the request is dropped (timeout, disconnect).
///
/// Used for every step after a commit that must not be cut short, such as
/// submitting an accepted order and recording what the broker did with it.
pub async fn detach<T, F>(work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
{
    let task = tokio::spawn(crate::request_id::scope(crate::request_id::current(), work));
    task.await
        .map_err(|error| internal("detached task", &error))?
}

/// Logs an unexpected failure and answers 500 without its cause.
pub fn internal(what: &str, error: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(%error, what, "internal failure");
    ApiError::Internal
}
