//! Privileged role grants: proposed by one administrator, applied once a second approves.
//!
//! Rule upheld: `admin`, `risk_manager` and `compliance_officer` are never
//! granted by one person. The proposal holds the whole access wanted, and the
//! approved payload is applied as proposed, with its audit event, inside the
//! decision's transaction.

use chrono::{DateTime, Duration, Utc};
use rampart_audit::Outcome;
use rampart_core::{AccountId, Role, RoleSet};
use rampart_store::{ApprovalRecord, NewApproval, StoredUser, WriteTx};
use serde_json::json;

use crate::service::audit;
use crate::service::identity_action as act;
use crate::service::users::{UserError, apply_access, require_accounts, target};

/// The approval kind of a privileged role grant.
pub const ROLE_GRANT: &str = "role.grant";

/// The payload of a `role.grant` approval: the whole access wanted.
#[derive(Debug, serde::Deserialize)]
struct GrantPayload {
    roles: Vec<Role>,
    accounts: Vec<AccountId>,
}

/// Applies an approved `role.grant` payload to its user inside `tx`.
pub async fn apply_grant(
    tx: &mut WriteTx<'_>,
    actor: &str,
    approval: &ApprovalRecord,
    now: DateTime<Utc>,
) -> Result<StoredUser, UserError> {
    let id = approval
        .target
        .strip_prefix("user:")
        .ok_or(UserError::UnknownUser)?;
    let user = tx.user(id).await?.ok_or(UserError::UnknownUser)?;
    let GrantPayload { roles, accounts } =
        serde_json::from_value(approval.payload.clone()).map_err(|_| UserError::Payload)?;
    let wanted = RoleSet::new(roles)?;
    require_accounts(tx, &accounts).await?;
    let user = apply_access(tx, actor, &user, &wanted, &accounts, now)
        .await?
        .user;
    let details = json!({ "approval_id": approval.id, "roles": user.roles });
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
    Ok(user)
}

/// Proposes giving `user` the `roles` (privileged among them) for a second administrator.
pub(crate) async fn propose_grant(
    tx: &mut WriteTx<'_>,
    actor: &str,
    user: &StoredUser,
    roles: &RoleSet,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<ApprovalRecord, UserError> {
    let proposal = NewApproval {
        kind: ROLE_GRANT.to_owned(),
        target: target(&user.id),
        payload: json!({ "roles": roles, "accounts": user.accounts }),
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
