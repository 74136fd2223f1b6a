//! Releasing the kill switch needs two people: one proposes, another approves.
//!
//! A risk manager proposes the release of an engagement in force (one
//! assigned every account it stops: its account, or those of the client or
//! person it names); the proposal is an
//! approval of kind `killswitch.release`, decided through `/v1/approvals` by a
//! second risk manager who is on neither the proposer's side (the store
//! refuses that) nor the side of the person who engaged it or of the identity
//! it stops (refused here, and recorded as `approval.refused` by
//! `decision_refusal`). A person and the API clients they own are one side.
//! An engagement has at most one pending release proposal. The release
//! is written in the decision's transaction, with an audit event naming who
//! engaged, who proposed and who approved; the in-memory switch drops the
//! engagement only once that transaction is durable.
//!
//! An engagement by the repeated-execution guard (actor `system`) is the one
//! exception: a single designated person (a risk manager) re-enables the
//! algorithm, since no person engaged it and RTS 6 Article 15 asks for a
//! designated person, not two. The owner of the stopped client is not that
//! person: their request is a proposal that someone else approves.

use chrono::{DateTime, Duration, Utc};
use rampart_audit::{Outcome, action};
use rampart_core::{AccountId, Principal, Role};
use rampart_policy::{Action, Decision, Resource};
use rampart_store::{ApprovalRecord, KillSwitchRecord, NewApproval, WriteTx};
use rampart_trading::killswitch::check_reason;
use rampart_trading::{EngagementId, KillSwitchScope};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::init::SYSTEM_ACTOR;
use crate::problem::ApiError;
use crate::service::{audit, authorize, internal};
use crate::state::AppState;

/// The approval kind of a kill-switch release.
pub const KILLSWITCH_RELEASE: &str = "killswitch.release";

/// Refusal reason: the decider is on the side of the person who engaged the kill switch.
pub const ENGAGER_SIDE: &str = "engager_side";

/// Refusal reason: the decider is on the side of the client or trader the switch stops.
pub const STOPPED_SIDE: &str = "stopped_side";

/// Audit action: a release was proposed and waits for a second person.
pub const KILLSWITCH_RELEASE_PROPOSED: &str = "killswitch.release_proposed";

/// What a release request produced.
#[derive(Debug, Clone)]
pub enum Released {
    /// A proposal waits for a second person (202).
    Proposed(ApprovalRecord),
    /// A guard engagement was released at once by a designated person (200).
    Released(KillSwitchRecord),
}

/// The audit target of an engagement.
pub fn target_of(id: Uuid) -> String {
    format!("killswitch:{id}")
}

/// Proposes the release of engagement `id` for `reason`, or releases a guard engagement.
pub async fn propose(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    reason: &str,
    policy_version: &str,
) -> Result<Released, ApiError> {
    check_reason(reason).map_err(|e| ApiError::invalid("reason", e.to_string()))?;
    let now = state.clock.now();
    let mut tx = state
        .store
        .begin()
        .await
        .map_err(|e| internal("begin", &e))?;
    let engagement = active(&mut tx, id).await?;
    let designated = engagement.engaged_by == SYSTEM_ACTOR
        && principal.has_role(Role::RiskManager)
        && !stopped_side(&mut tx, &engagement, principal).await?;
    let released = if designated {
        release_guard(&mut tx, &engagement, principal, reason, now).await?
    } else {
        refuse_second_proposal(&mut tx, &engagement, now).await?;
        let accounts = accounts_stopped(state, &engagement.scope).await?;
        let proposal = proposal_of(state, &engagement, &accounts, principal, reason, now);
        let by = (principal, policy_version);
        let record = record_proposal(&mut tx, &engagement, &proposal, by, now).await?;
        Released::Proposed(record)
    };
    tx.commit().await.map_err(|e| internal("commit", &e))?;
    if let Released::Released(record) = &released {
        state
            .kill_switch
            .forget(EngagementId::from_uuid(record.id))
            .await;
    }
    Ok(released)
}

/// Stores the release proposal of `principal` (allowed under `policy_version`) with its
/// `killswitch.release_proposed` event.
async fn record_proposal(
    tx: &mut WriteTx<'_>,
    engagement: &KillSwitchRecord,
    proposal: &NewApproval,
    (principal, policy_version): (&Principal, &str),
    now: DateTime<Utc>,
) -> Result<ApprovalRecord, ApiError> {
    let record = tx.propose(proposal, now).await;
    let record = record.map_err(|e| internal("propose", &e))?;
    let event = proposed_event(engagement, &record, principal, policy_version);
    tx.append(event)
        .await
        .map_err(|e| internal("proposal event", &e))?;
    Ok(record)
}

/// Applies an approved release inside the decision's transaction `tx`.
///
/// Refused if `decider` engaged it, or if it is no longer in force. The
/// in-memory switch is updated by [`after_commit`] once `tx` is durable.
pub async fn apply(
    tx: &mut WriteTx<'_>,
    approval: &ApprovalRecord,
    decider: &Principal,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let id = engagement_id(approval)?;
    let engagement = active(tx, id).await?;
    if refusal_of(tx, &engagement, decider).await?.is_some() {
        return Err(ApiError::SelfApproval);
    }
    let released = tx
        .release_kill_switch(id, &decider.id, now)
        .await
        .map_err(|e| internal("release", &e))?;
    if !released {
        return Err(not_in_force());
    }
    let reason = payload_text(approval, "/reason");
    let event = released_event(&engagement, decider, reason, Some(approval));
    tx.append(audit::stamp(event))
        .await
        .map_err(|e| internal("release event", &e))?;
    Ok(json!({ "released": id, "scope": scope_text(&engagement) }))
}

/// Why `decider` may not approve the release `approval` proposes, if they may not:
/// they are on the side of whoever engaged it, or of the identity it stops.
pub async fn side_refusal(
    tx: &mut WriteTx<'_>,
    approval: &ApprovalRecord,
    decider: &Principal,
) -> Result<Option<&'static str>, ApiError> {
    let engagement = active(tx, engagement_id(approval)?).await?;
    refusal_of(tx, &engagement, decider).await
}

/// The side `decider` shares with the engagement's engager or stopped identity, if any.
async fn refusal_of(
    tx: &mut WriteTx<'_>,
    engagement: &KillSwitchRecord,
    decider: &Principal,
) -> Result<Option<&'static str>, ApiError> {
    let engager_side = tx
        .same_side(&engagement.engaged_by, &decider.id)
        .await
        .map_err(|e| internal("same side", &e))?;
    if engager_side {
        return Ok(Some(ENGAGER_SIDE));
    }
    let stopped = stopped_side(tx, engagement, decider).await?;
    Ok(stopped.then_some(STOPPED_SIDE))
}

/// Drops a released engagement from memory once its approval's transaction is durable.
pub async fn after_commit(state: &AppState, approval: &ApprovalRecord) {
    if approval.kind != KILLSWITCH_RELEASE {
        return;
    }
    if let Ok(id) = engagement_id(approval) {
        state.kill_switch.forget(EngagementId::from_uuid(id)).await;
    }
}

/// Allows `principal` to propose the release of engagement `id`, or refuses it (audited).
///
/// The gateway first, so that an unknown engagement tells a stranger nothing;
/// then, for an account-scoped engagement, that account.
pub async fn authorize_release(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<Decision, ApiError> {
    let action = Action::KillSwitchRelease;
    let decision = authorize(state, principal, action, &Resource::Gateway).await?;
    let found = state.store.kill_switch(id).await;
    let found = found.map_err(|e| internal("kill switch", &e))?;
    let Some(engagement) = found else {
        return Ok(decision);
    };
    let mut decision = decision;
    for account in accounts_stopped(state, &engagement.scope).await? {
        let resource = Resource::Account(account);
        decision = authorize(state, principal, action, &resource).await?;
    }
    Ok(decision)
}

/// The accounts an engagement stops orders on: its account, or every account of the
/// client it names, or of the person it names and the clients they own. None for a
/// global or instrument scope, which stops every account alike.
pub async fn accounts_stopped(
    state: &AppState,
    scope: &KillSwitchScope,
) -> Result<Vec<AccountId>, ApiError> {
    let mut accounts = match scope {
        KillSwitchScope::Account(account) => vec![account.clone()],
        KillSwitchScope::Client(id) => client_accounts(state, id).await?,
        KillSwitchScope::Trader(id) => {
            let person = state.store.user(id).await;
            let person = person.map_err(|e| internal("user", &e))?;
            let mut accounts = person.map(|p| p.accounts).unwrap_or_default();
            let owned = state.store.clients_owned_by(id).await;
            for client in owned.map_err(|e| internal("owned clients", &e))? {
                accounts.extend(client_accounts(state, &client).await?);
            }
            accounts
        }
        KillSwitchScope::Global | KillSwitchScope::Instrument(_) => Vec::new(),
    };
    accounts.sort();
    accounts.dedup();
    Ok(accounts)
}

async fn client_accounts(state: &AppState, id: &str) -> Result<Vec<AccountId>, ApiError> {
    let client = state.store.client(id).await;
    let client = client.map_err(|e| internal("client", &e))?;
    Ok(client.map(|c| c.accounts).unwrap_or_default())
}

/// The accounts a release proposal concerns: those its engagement stopped when it was
/// proposed (see [`accounts_stopped`]), or, for a proposal recorded without them, the
/// account its engagement is scoped to.
pub fn accounts_of(approval: &ApprovalRecord) -> Vec<AccountId> {
    if approval.kind != KILLSWITCH_RELEASE {
        return Vec::new();
    }
    let listed = approval.payload.pointer("/engagement/accounts");
    if let Some(listed) = listed.and_then(|l| Vec::<AccountId>::deserialize(l).ok()) {
        return listed;
    }
    let scope = payload_text(approval, "/engagement/scope");
    let scope = scope.parse::<KillSwitchScope>().ok();
    scope
        .and_then(|s| s.account().cloned())
        .into_iter()
        .collect()
}

/// Whether `principal` is on the side of the client or trader the engagement stops.
async fn stopped_side(
    tx: &mut WriteTx<'_>,
    engagement: &KillSwitchRecord,
    principal: &Principal,
) -> Result<bool, ApiError> {
    let stopped = match &engagement.scope {
        KillSwitchScope::Client(id) | KillSwitchScope::Trader(id) => id,
        _ => return Ok(false),
    };
    tx.same_side(stopped, &principal.id)
        .await
        .map_err(|e| internal("same side", &e))
}

/// Refuses a proposal for an engagement whose release is already pending, naming that one.
async fn refuse_second_proposal(
    tx: &mut WriteTx<'_>,
    engagement: &KillSwitchRecord,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let target = target_of(engagement.id);
    let pending = tx.pending_approval(KILLSWITCH_RELEASE, &target, now).await;
    match pending.map_err(|e| internal("pending release", &e))? {
        Some(approval) => Err(ApiError::Duplicate(format!(
            "a release of this engagement is already pending as approval `{}`",
            approval.id
        ))),
        None => Ok(()),
    }
}

/// The engagement `id`, in force, as `tx` sees it.
async fn active(tx: &mut WriteTx<'_>, id: Uuid) -> Result<KillSwitchRecord, ApiError> {
    let found = tx
        .kill_switch(id)
        .await
        .map_err(|e| internal("kill switch", &e))?;
    match found {
        None => Err(ApiError::NotFound),
        Some(record) if record.released_at.is_some() => Err(not_in_force()),
        Some(record) => Ok(record),
    }
}

fn not_in_force() -> ApiError {
    ApiError::ApprovalClosed("the engagement is no longer in force".to_owned())
}

fn engagement_id(approval: &ApprovalRecord) -> Result<Uuid, ApiError> {
    let text = payload_text(approval, "/engagement/id");
    Uuid::try_parse(text).map_err(|_| internal("release payload", &"no engagement id"))
}

/// The text at `pointer` in the approval's payload; empty when absent.
fn payload_text<'a>(approval: &'a ApprovalRecord, pointer: &str) -> &'a str {
    let found = approval.payload.pointer(pointer);
    found.and_then(Value::as_str).unwrap_or_default()
}

fn scope_text(engagement: &KillSwitchRecord) -> String {
    engagement.scope.to_string()
}

fn proposal_of(
    state: &AppState,
    engagement: &KillSwitchRecord,
    accounts: &[AccountId],
    principal: &Principal,
    reason: &str,
    now: DateTime<Utc>,
) -> NewApproval {
    let hours = i64::try_from(state.risk.approval_ttl_hours).unwrap_or(24);
    NewApproval {
        kind: KILLSWITCH_RELEASE.to_owned(),
        target: target_of(engagement.id),
        payload: json!({
            "engagement": {
                "id": engagement.id,
                "scope": scope_text(engagement),
                "reason": engagement.reason,
                "engaged_by": engagement.engaged_by,
                "engaged_at": rampart_audit::time::format(&engagement.engaged_at),
                "accounts": accounts,
            },
            "reason": reason,
        }),
        proposed_by: principal.id.clone(),
        expires_at: now + Duration::hours(hours),
    }
}

/// Releases a guard engagement at once, by a single designated person.
async fn release_guard(
    tx: &mut WriteTx<'_>,
    engagement: &KillSwitchRecord,
    principal: &Principal,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Released, ApiError> {
    let done = tx
        .release_kill_switch(engagement.id, &principal.id, now)
        .await
        .map_err(|e| internal("release", &e))?;
    if !done {
        return Err(not_in_force());
    }
    let event = released_event(engagement, principal, reason, None);
    tx.append(audit::stamp(event))
        .await
        .map_err(|e| internal("release event", &e))?;
    let mut released = engagement.clone();
    released.released_by = Some(principal.id.clone());
    released.released_at = Some(now);
    Ok(Released::Released(released))
}

fn proposed_event(
    engagement: &KillSwitchRecord,
    approval: &ApprovalRecord,
    principal: &Principal,
    policy_version: &str,
) -> rampart_audit::NewEvent {
    audit::stamp(
        audit::event(
            &principal.id,
            KILLSWITCH_RELEASE_PROPOSED,
            &target_of(engagement.id),
            Outcome::Success,
        )
        .policy(policy_version)
        .details(json!({
            "engagement_id": engagement.id,
            "approval_id": approval.id,
            "scope": scope_text(engagement),
            "engaged_by": engagement.engaged_by,
            "proposed_by": principal.id,
            "reason": payload_text(approval, "/reason"),
            "old": { "engaged": true, "release_pending": false },
            "new": { "engaged": true, "release_pending": true },
        })),
    )
}

fn released_event(
    engagement: &KillSwitchRecord,
    decider: &Principal,
    reason: &str,
    approval: Option<&ApprovalRecord>,
) -> rampart_audit::NewEvent {
    audit::event(
        &decider.id,
        action::KILLSWITCH_RELEASED,
        &target_of(engagement.id),
        Outcome::Success,
    )
    .details(json!({
        "engagement_id": engagement.id,
        "scope": scope_text(engagement),
        "account_id": engagement.scope.target().filter(|_| engagement.scope.kind() == "account"),
        "engaged_by": engagement.engaged_by,
        "proposed_by": approval.map(|a| a.proposed_by.clone()),
        "approved_by": decider.id,
        "approval_id": approval.map(|a| a.id),
        "single_designated_person": approval.is_none(),
        "reason": reason,
        "old": { "engaged": true },
        "new": { "engaged": false },
    }))
}
