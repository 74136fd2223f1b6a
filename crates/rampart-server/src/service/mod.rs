//! The services behind the routes: authorisation, orders, fills and the kill switch.
//!
//! Nothing here runs without a verified principal and an allow decision; every
//! denial leaves a `policy.denied` event naming the policies and their version.

pub mod approval_cursor;
pub mod approval_expiry;
pub mod approval_person;
pub mod attribution;
pub mod audit;
pub mod decision;
pub mod decision_refusal;
pub mod execution_guard;
pub mod fills;
pub mod identity_action;
pub mod identity_setup;
pub mod killswitch;
pub mod killswitch_engage;
pub mod killswitch_release;
pub mod limit_caps;
pub mod locks;
pub mod login;
mod login_factor;
pub(crate) mod login_throttle;
mod login_timing;
pub mod orders;
pub mod owned_clients;
pub mod owner_duties;
pub mod pretrade;
pub mod risk_limits;
pub mod role_grant;
pub mod sessions;
pub mod setup_delivery;
pub mod setup_handover;
pub mod setup_mail;
pub mod start_review;
pub mod unowned_clients;
pub mod user_answers;
pub mod user_email;
pub mod user_reset;
pub mod users;

use rampart_core::{Principal, Role};
use rampart_policy::{Action, Decision, Resource};

use crate::middleware::record_decision;
use crate::problem::ApiError;
use crate::state::AppState;

/// The roles that read orders on some account (the roles matrix in the design).
///
/// A principal holding none of them has no order access at all: a denial tells
/// it so with 403 rather than hiding an account behind 404.
const ORDER_READERS: [Role; 4] = [
    Role::Trader,
    Role::RiskManager,
    Role::ComplianceOfficer,
    Role::Auditor,
];

/// Asks the policies; a denial is audited and answered with 403, or with 404 when the
/// principal may not even read the account's orders, so that its existence is not revealed.
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

    deny(state, principal, resource, &decision).await?;
    if hides_account(state, principal, resource) {
        return Err(ApiError::NotFound);
    }
    Err(ApiError::PolicyDenied)
}

/// Refuses with an audited 403 a principal that has no access to orders at all.
///
/// Checked before an order is looked up, so that such a principal learns
/// nothing about which orders exist.
pub async fn require_order_access(
    state: &AppState,
    principal: &Principal,
    action: Action,
) -> Result<(), ApiError> {
    if reads_orders(principal) {
        return Ok(());
    }
    let decision = state
        .authorizer
        .authorize(principal, action, &Resource::Gateway);
    deny(state, principal, &Resource::Gateway, &decision).await?;
    Err(ApiError::PolicyDenied)
}

/// Whether the principal holds a role that reads orders on some account.
pub fn reads_orders(principal: &Principal) -> bool {
    ORDER_READERS.iter().any(|role| principal.has_role(*role))
}

/// Whether a denial on `resource` must look like an unknown account: the principal
/// reads orders, but not this account's.
fn hides_account(state: &AppState, principal: &Principal, resource: &Resource) -> bool {
    let Resource::Account(_) = resource else {
        return false;
    };
    reads_orders(principal)
        && !state
            .authorizer
            .authorize(principal, Action::OrderRead, resource)
            .allowed
}

/// Records a denial on the span and in the audit log.
async fn deny(
    state: &AppState,
    principal: &Principal,
    resource: &Resource,
    decision: &Decision,
) -> Result<(), ApiError> {
    record_decision(decision.action.as_str(), "denied");
    let target = target_of(resource);
    audit::append(&state.store, audit::denied(principal, &target, decision))
        .await
        .map_err(|error| internal("policy.denied event", &error))
}

/// The audit target naming a resource.
pub fn target_of(resource: &Resource) -> String {
    match resource {
        Resource::Account(account) => format!("account:{account}"),
        Resource::Approval { id, .. } => format!("approval:{id}"),
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
    let task = tokio::spawn(crate::request_id::scope_with_client(
        crate::request_id::current(),
        crate::request_id::client(),
        work,
    ));
    task.await
        .map_err(|error| internal("detached task", &error))?
}

/// Logs an unexpected failure and answers 500 without its cause.
pub fn internal(what: &str, error: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(%error, what, "internal failure");
    ApiError::Internal
}
