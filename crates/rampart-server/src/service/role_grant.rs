//! Privileged role grants: proposed by one administrator, applied once a second approves.
//!
//! Rule upheld: `admin`, `risk_manager` and `compliance_officer` are never
//! granted by one person. The proposal holds the whole access wanted and names
//! the person (username, display name, e-mail address), so the approver sees
//! where a set-up token will go; the approved payload is applied as proposed,
//! with its audit event, inside the decision's transaction, and refused when
//! the person's address changed meanwhile. A person created with privileged
//! roles has no set-up token until the grant is approved: it is issued in the
//! decision's transaction, only to someone who never had one, and handed over
//! once the decision is durable.

use chrono::{DateTime, Duration, Utc};
use rampart_audit::Outcome;
use rampart_core::{AccountId, Principal, Role, RoleSet};
use rampart_store::{ApprovalRecord, NewApproval, StoredUser, UserProfile, WriteTx};
use serde_json::{Value, json};

use crate::problem::ApiError;
use crate::service::identity_action as act;
use crate::service::identity_setup::{self, IssuedSetup};
use crate::service::user_answers::from_user_error;
use crate::service::users::{UserError, apply_access, require_accounts, target};
use crate::service::{audit, internal, setup_handover};
use crate::state::AppState;

/// The approval kind of a privileged role grant.
pub const ROLE_GRANT: &str = "role.grant";

/// The payload of a `role.grant` approval: the whole access wanted, and whom it is for.
#[derive(Debug, serde::Deserialize)]
struct GrantPayload {
    roles: Vec<Role>,
    accounts: Vec<AccountId>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// A grant applied: the person as changed, and the set-up token to hand them, if one was issued.
#[derive(Debug)]
pub struct AppliedGrant {
    /// The person with the granted roles.
    pub user: StoredUser,
    /// Issued because the person never had a set-up token; handed over after commit.
    pub setup: Option<IssuedSetup>,
}

/// Applies an approved `role.grant` payload to its user inside `tx`.
pub async fn apply_grant(
    tx: &mut WriteTx<'_>,
    actor: &str,
    approval: &ApprovalRecord,
    now: DateTime<Utc>,
) -> Result<AppliedGrant, UserError> {
    let id = approval
        .target
        .strip_prefix("user:")
        .ok_or(UserError::UnknownUser)?;
    let user = tx.user(id).await?.ok_or(UserError::UnknownUser)?;
    let payload: GrantPayload =
        serde_json::from_value(approval.payload.clone()).map_err(|_| UserError::Payload)?;
    let profile = tx.user_profile(id).await?.unwrap_or_default();
    // INVARIANT: checked in the decision's transaction, so the approver saw this address.
    unchanged(&payload, &user, &profile)?;
    let wanted = RoleSet::new(payload.roles)?;
    require_accounts(tx, &payload.accounts).await?;
    let user = apply_access(tx, actor, &user, &wanted, &payload.accounts, now)
        .await?
        .user;
    let setup = match never_set_up(tx, &user).await? {
        true => Some(identity_setup::issue(tx, &user.id, now).await?),
        false => None,
    };
    let details = json!({
        "approval_id": approval.id, "roles": user.roles, "setup_issued": setup.is_some(),
    });
    tx.append(audit::stamp(
        audit::event(
            actor,
            act::ROLE_GRANTED,
            &target(&user.id),
            Outcome::Success,
        )
        .details(details),
    ))
    .await?;
    Ok(AppliedGrant { user, setup })
}

/// Refuses, audited, approving a `role.grant` whose person changed since it was proposed.
/// Checked before the decision's transaction; `apply_grant` checks again inside it.
pub async fn refuse_if_changed(
    state: &AppState,
    principal: &Principal,
    approval: &ApprovalRecord,
    approve: bool,
) -> Result<(), ApiError> {
    if approval.kind != ROLE_GRANT || !approve {
        return Ok(());
    }
    let Some(id) = approval.target.strip_prefix("user:") else {
        return Ok(());
    };
    let failed = |e: rampart_store::StoreError| internal("role grant", &e);
    let user = state.store.user(id).await.map_err(failed)?;
    let user = user.ok_or(ApiError::NotFound)?;
    let profile = state.store.user_profile(id).await.map_err(failed)?;
    let payload: GrantPayload = serde_json::from_value(approval.payload.clone())
        .map_err(|_| from_user_error(UserError::Payload))?;
    let Err(error) = unchanged(&payload, &user, &profile.unwrap_or_default()) else {
        return Ok(());
    };
    let event = audit::event(
        &principal.id,
        act::APPROVAL_REFUSED,
        &format!("approval:{}", approval.id),
        Outcome::Denied,
    )
    .details(json!({ "reason": "target_changed", "kind": ROLE_GRANT, "target": approval.target }));
    audit::append_or_log(&state.store, audit::stamp(event)).await;
    Err(from_user_error(error))
}

/// Once an approved grant is durable: hands the person the set-up token it issued, if any.
pub async fn after_commit(
    state: &AppState,
    actor: &str,
    applied: AppliedGrant,
) -> Result<Option<Value>, ApiError> {
    match applied.setup {
        Some(setup) => {
            let handed = setup_handover::hand_over_decided(state, actor, &applied.user, setup);
            handed.await.map(Some)
        }
        None => Ok(None),
    }
}

/// Proposes giving `user` the `roles` (privileged among them) for a second administrator.
pub(crate) async fn propose_grant(
    tx: &mut WriteTx<'_>,
    actor: &str,
    user: &StoredUser,
    roles: &RoleSet,
    profile: &UserProfile,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<ApprovalRecord, UserError> {
    let proposal = NewApproval {
        kind: ROLE_GRANT.to_owned(),
        target: target(&user.id),
        payload: json!({
            "roles": roles,
            "accounts": user.accounts,
            "username": user.username,
            "display_name": profile.display_name,
            "email": profile.email,
        }),
        proposed_by: actor.to_owned(),
        expires_at: now + ttl,
    };
    let approval = tx.propose(&proposal, now).await?;
    let details = json!({ "approval_id": approval.id, "kind": ROLE_GRANT, "roles": roles });
    tx.append(audit::stamp(
        audit::event(
            actor,
            act::APPROVAL_PROPOSED,
            &proposal.target,
            Outcome::Success,
        )
        .details(details),
    ))
    .await?;
    Ok(approval)
}

/// Whether the person is still the one the proposal named: same username, same address.
fn unchanged(
    payload: &GrantPayload,
    user: &StoredUser,
    profile: &UserProfile,
) -> Result<(), UserError> {
    if payload
        .username
        .as_deref()
        .is_some_and(|name| name != user.username)
    {
        return Err(UserError::GrantChanged("username"));
    }
    match payload.email == profile.email {
        true => Ok(()),
        false => Err(UserError::GrantChanged("email")),
    }
}

/// Whether `user` never had a set-up token and so never chose a password.
async fn never_set_up(tx: &mut WriteTx<'_>, user: &StoredUser) -> Result<bool, UserError> {
    if !user.must_change_password || user.disabled {
        return Ok(false);
    }
    Ok(!tx.has_had_setup_token(&user.id).await?)
}
