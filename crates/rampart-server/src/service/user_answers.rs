//! How people, their approvals and refused changes to them are answered, for routes and services.
//!
//! Rule upheld: an answer about a person never carries a password hash, a TOTP
//! seed or a token, and every refusal maps to one fixed status and code. Kept
//! in the service layer so that services never depend on routes.

use rampart_store::{ApprovalRecord, StoredUser};
use serde_json::{Value, json};

use crate::problem::ApiError;
use crate::service::internal;
use crate::service::users::UserError;
use crate::state::AppState;

/// The answer to a refused change of a user.
pub fn from_user_error(error: UserError) -> ApiError {
    match error {
        UserError::Username => ApiError::invalid("username", error.to_string()),
        UserError::Profile(field) => ApiError::invalid(field, error.to_string()),
        UserError::Email(_) => ApiError::invalid("email", error.to_string()),
        UserError::Taken => ApiError::Duplicate(error.to_string()),
        UserError::Conflict(_) => ApiError::RoleConflict(error.to_string()),
        UserError::OwnedClientConflict { .. } => ApiError::RoleConflict(error.to_string()),
        UserError::UnknownAccount(_) => ApiError::invalid("accounts", error.to_string()),
        UserError::UnknownUser => ApiError::NotFound,
        UserError::GrantPending => ApiError::GrantPending(error.to_string()),
        UserError::GrantChanged(_) => ApiError::GrantChanged(error.to_string()),
        UserError::GrantOutdated => ApiError::GrantOutdated(error.to_string()),
        UserError::Hash | UserError::Random | UserError::Payload | UserError::Setup(_) => {
            internal("user change", &error)
        }
        UserError::Store(error) => internal("users", &error),
    }
}

/// A user as administrators see it: no password hash, no seed, no personal data.
pub fn view(user: &StoredUser) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "roles": user.roles,
        "accounts": user.accounts,
        "disabled": user.disabled,
        "must_change_password": user.must_change_password,
        "mfa_enrolled": user.has_mfa(),
        "created_at": rampart_audit::time::format(&user.created_at),
    })
}

/// An approval as stored; `approval_person` adds the person a grant or reset concerns.
pub fn approval_view(approval: &ApprovalRecord) -> Value {
    json!({
        "id": approval.id,
        "kind": approval.kind,
        "target": approval.target,
        "payload": approval.payload,
        "status": approval.status.as_str(),
        "proposed_by": approval.proposed_by,
        "proposed_at": rampart_audit::time::format(&approval.proposed_at),
        "expires_at": rampart_audit::time::format(&approval.expires_at),
        "decided_by": approval.decided_by,
        "decided_at": approval.decided_at.as_ref().map(rampart_audit::time::format),
        "comment": approval.comment,
    })
}

/// Refuses, from now on, the tokens of `sessions` just ended in the store.
pub fn end_sessions(state: &AppState, sessions: &[String]) {
    let now = state.clock.now_unix();
    for sid in sessions {
        state.revocations.revoke_sid(sid, now);
        state.bearer.cache().remove_sid(sid);
    }
}
