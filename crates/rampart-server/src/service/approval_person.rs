//! The person behind a `role.grant` or `user.reset` approval, read when the approval is shown.
//!
//! Rule upheld: personal data lives only in the person's profile, so approval
//! payloads (which the audit log may copy, and never erases) name the person by
//! subject id alone. A decider still sees whom they decide about: this view
//! adds the username, display name and address from the profile, whether the
//! address is the one the proposal fingerprinted, and whether the account is
//! already in use (`must_change_password`, `mfa_enrolled`, a live set-up token),
//! all as of the moment of reading.

use chrono::{DateTime, Utc};
use rampart_store::{ApprovalRecord, Store, StoreError};
use serde_json::{Value, json};

use crate::problem::ApiError;
use crate::service::internal;
use crate::service::role_grant::{ROLE_GRANT, email_unchanged};
use crate::service::user_answers::approval_view;
use crate::service::user_reset::USER_RESET;
use crate::state::AppState;

/// `approval` as shown to deciders, with its `person` for kinds that concern one.
pub async fn approval_view_of(
    state: &AppState,
    approval: &ApprovalRecord,
) -> Result<Value, ApiError> {
    let mut view = approval_view(approval);
    let person = person_of(&state.store, approval, state.clock.now()).await;
    let person = person.map_err(|e| internal("approval person", &e))?;
    if let (Some(person), Some(fields)) = (person, view.as_object_mut()) {
        fields.insert("person".into(), person);
    }
    Ok(view)
}

/// `approval` as [`approval_view_of`] shows it, once it or its decision is durable: a failure to
/// read the person is logged and the approval shown without them, never answered as an error.
pub async fn durable_view_of(state: &AppState, approval: &ApprovalRecord) -> Value {
    match approval_view_of(state, approval).await {
        Ok(view) => view,
        Err(_) => approval_view(approval),
    }
}

/// Every approval of `approvals` as [`approval_view_of`] shows it.
pub async fn approval_views_of(
    state: &AppState,
    approvals: &[ApprovalRecord],
) -> Result<Vec<Value>, ApiError> {
    let mut views = Vec::with_capacity(approvals.len());
    for approval in approvals {
        views.push(approval_view_of(state, approval).await?);
    }
    Ok(views)
}

/// The person a `role.grant` or `user.reset` concerns, as of `now`; None for other kinds.
pub async fn person_of(
    store: &Store,
    approval: &ApprovalRecord,
    now: DateTime<Utc>,
) -> Result<Option<Value>, StoreError> {
    if approval.kind != ROLE_GRANT && approval.kind != USER_RESET {
        return Ok(None);
    }
    let Some(id) = approval.target.strip_prefix("user:") else {
        return Ok(None);
    };
    let Some(user) = store.user(id).await? else {
        return Ok(None);
    };
    let profile = store.user_profile(id).await?.unwrap_or_default();
    let mut person = json!({
        "id": user.id,
        "username": user.username,
        "display_name": profile.display_name,
        "email": profile.email,
        "must_change_password": user.must_change_password,
        "mfa_enrolled": user.has_mfa(),
        "setup_token_live": store.has_live_setup_token(id, now).await?,
    });
    if let (ROLE_GRANT, Some(fields)) = (approval.kind.as_str(), person.as_object_mut()) {
        let unchanged = email_unchanged(approval, &profile);
        fields.insert("email_as_proposed".into(), json!(unchanged));
    }
    Ok(Some(person))
}
