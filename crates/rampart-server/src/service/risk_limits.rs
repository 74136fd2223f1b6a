//! Governed changes of risk limits: propose, then apply on a second person's approval.
//!
//! A proposal is checked in full when made and again when approved: every
//! bound, every firm-wide cap, every instrument in the catalog, and the
//! version it was based on still in force. Loosening any field always waits
//! for a second person (MiFID II RTS 6, four-eyes); a pure tightening applies
//! at once when `risk.tighten_at_once` is set, recorded as reviewable after
//! the fact. Each step and its audit event, with old and new values, commit
//! in one transaction.

use chrono::{DateTime, Duration, Utc};
use rampart_audit::Outcome;
use rampart_core::{AccountId, LimitsChange, Principal, RiskLimits, classify};
use rampart_store::{ApprovalRecord, LimitsVersion, NewApproval, NewLimitsVersion, WriteTx};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::problem::ApiError;
use crate::service::{audit, internal};
use crate::state::AppState;

/// The approval kind of a risk-limit change.
pub const RISK_LIMITS_CHANGE: &str = "risk_limits.change";
/// Audit action: a change was proposed.
pub const RISK_LIMITS_PROPOSED: &str = "risk_limits.proposed";
/// Audit action: a second person approved a change.
pub const RISK_LIMITS_APPROVED: &str = "risk_limits.approved";
/// Audit action: a second person rejected a change.
pub const RISK_LIMITS_REJECTED: &str = "risk_limits.rejected";
/// Audit action: a new version of the limits took effect.
pub const RISK_LIMITS_APPLIED: &str = "risk_limits.applied";

/// The longest reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// What the proposer asks for: a whole new set, or a partial change.
#[derive(Debug, Clone)]
pub enum Requested {
    /// Every limit, replacing the set in force.
    Full(RiskLimits),
    /// Only the named fields change.
    Partial(LimitsChange),
}

/// What a proposal did.
#[derive(Debug)]
pub enum Proposal {
    /// It waits for a second person.
    Pending(ApprovalRecord),
    /// A tightening, applied at once.
    Applied(LimitsVersion),
}

/// The payload of a `risk_limits.change` approval.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePayload {
    /// The account.
    pub account_id: AccountId,
    /// The version the change was proposed against.
    pub base_version: i64,
    /// The limits of that version.
    pub old: RiskLimits,
    /// The limits proposed.
    pub new: RiskLimits,
    /// Why.
    pub reason: String,
    /// The fields that change.
    pub changed: Vec<String>,
    /// The fields that become less strict.
    pub loosened: Vec<String>,
}

/// The audit target and approval target naming an account.
pub fn account_target(account: &AccountId) -> String {
    format!("account:{account}")
}

/// Checks a reason: 1 to 500 characters, no control characters.
pub fn check_reason(reason: &str) -> Result<(), ApiError> {
    let count = reason.chars().count();
    if reason.trim().is_empty() || count > MAX_REASON_CHARS || reason.chars().any(char::is_control)
    {
        return Err(ApiError::invalid(
            "reason",
            "`reason` must be 1 to 500 characters with no control characters",
        ));
    }
    Ok(())
}

/// Proposes `requested` for `account` as `principal`; a tightening may apply at once.
pub async fn propose(
    state: &AppState,
    principal: &Principal,
    account: &AccountId,
    requested: Requested,
    reason: &str,
) -> Result<Proposal, ApiError> {
    check_reason(reason)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await.map_err(store)?;
    let current = tx.limits_in_force(account).await.map_err(store)?;
    let current = current.ok_or(ApiError::NotFound)?;
    let new = match requested {
        Requested::Full(limits) => limits,
        Requested::Partial(change) if change.is_empty() => {
            return Err(ApiError::invalid(
                "changes",
                "`changes` must name at least one limit",
            ));
        }
        Requested::Partial(change) => change.apply_to(&current.limits),
    };
    admissible(state, &new)?;
    let verdict = classify(&current.limits, &new);
    if verdict.is_unchanged() {
        return Err(ApiError::invalid(
            "limits",
            "the change leaves every limit as it is",
        ));
    }
    let payload = ChangePayload {
        account_id: account.clone(),
        base_version: current.version,
        old: current.limits,
        new,
        reason: reason.to_owned(),
        changed: verdict.changed.iter().map(|f| (*f).to_owned()).collect(),
        loosened: verdict.loosened.iter().map(|f| (*f).to_owned()).collect(),
    };
    let done = if state.risk.tighten_at_once && verdict.is_tightening() {
        let applied = apply_version(&mut tx, &payload, &principal.id, None, now).await?;
        Proposal::Applied(applied)
    } else {
        Proposal::Pending(record_proposal(state, &mut tx, principal, &payload, now).await?)
    };
    tx.commit().await.map_err(store)?;
    Ok(done)
}

/// Applies an approved `risk_limits.change` inside the decision's transaction.
pub async fn apply(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    approval: &ApprovalRecord,
    decider: &Principal,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let payload = payload_of(approval)?;
    admissible(state, &payload.new)?;
    let details = change_details(&payload, Some(approval));
    tx.append(audit::stamp(
        audit::event(
            &decider.id,
            RISK_LIMITS_APPROVED,
            &account_target(&payload.account_id),
            Outcome::Success,
        )
        .details(details),
    ))
    .await
    .map_err(store)?;
    let approved = Some((decider.id.clone(), approval.id));
    let version = apply_version(tx, &payload, &approval.proposed_by, approved, now).await?;
    Ok(version_view(&version))
}

/// Records the rejection of a `risk_limits.change` inside the decision's transaction.
pub async fn rejected(
    tx: &mut WriteTx<'_>,
    approval: &ApprovalRecord,
    decider: &Principal,
) -> Result<(), ApiError> {
    let payload = payload_of(approval)?;
    let details = change_details(&payload, Some(approval));
    tx.append(audit::stamp(
        audit::event(
            &decider.id,
            RISK_LIMITS_REJECTED,
            &account_target(&payload.account_id),
            Outcome::Success,
        )
        .details(details),
    ))
    .await
    .map_err(store)?;
    Ok(())
}

/// The accounts an approval concerns, for its policy decision.
pub fn accounts_of(approval: &ApprovalRecord) -> Vec<AccountId> {
    if approval.kind != RISK_LIMITS_CHANGE {
        return Vec::new();
    }
    let account = approval.target.strip_prefix("account:");
    account.and_then(|id| id.parse().ok()).into_iter().collect()
}

/// A version as the API shows it.
pub fn version_view(version: &LimitsVersion) -> Value {
    json!({
        "account_id": version.account_id,
        "version": version.version,
        "limits": version.limits,
        "reason": version.reason,
        "proposed_by": version.proposed_by,
        "approved_by": version.approved_by,
        "approval_id": version.approval_id,
        "reviewable_after_the_fact": version.reviewable_after_the_fact,
        "effective_at": rampart_audit::time::format(&version.effective_at),
    })
}

/// Every bound, every instrument in the catalog, and every firm-wide cap.
fn admissible(state: &AppState, limits: &RiskLimits) -> Result<(), ApiError> {
    limits
        .validate(&state.catalog)
        .map_err(|error| ApiError::field(&error))?;
    state
        .risk
        .caps
        .check(limits)
        .map_err(|error| ApiError::LimitCap(error.to_string()))
}

async fn record_proposal(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    principal: &Principal,
    payload: &ChangePayload,
    now: DateTime<Utc>,
) -> Result<ApprovalRecord, ApiError> {
    let ttl = i64::try_from(state.risk.approval_ttl_hours).unwrap_or(i64::MAX);
    let proposal = NewApproval {
        kind: RISK_LIMITS_CHANGE.to_owned(),
        target: account_target(&payload.account_id),
        payload: serde_json::to_value(payload).map_err(|e| internal("payload", &e))?,
        proposed_by: principal.id.clone(),
        expires_at: now + Duration::hours(ttl.min(24 * 365)),
    };
    let approval = tx.propose(&proposal, now).await.map_err(store)?;
    let details = change_details(payload, Some(&approval));
    tx.append(audit::stamp(
        audit::event(
            &principal.id,
            RISK_LIMITS_PROPOSED,
            &proposal.target,
            Outcome::Success,
        )
        .details(details),
    ))
    .await
    .map_err(store)?;
    Ok(approval)
}

/// Makes the payload's limits the new version, refusing a stale base with 409.
async fn apply_version(
    tx: &mut WriteTx<'_>,
    payload: &ChangePayload,
    proposed_by: &str,
    approval: Option<(String, uuid::Uuid)>,
    now: DateTime<Utc>,
) -> Result<LimitsVersion, ApiError> {
    let current = tx
        .limits_version(&payload.account_id)
        .await
        .map_err(store)?;
    match current {
        None => return Err(ApiError::NotFound),
        Some(version) if version != payload.base_version => {
            return Err(ApiError::StaleProposal(format!(
                "the limits moved from version {} to {version} since the proposal",
                payload.base_version
            )));
        }
        Some(_) => {}
    }
    let next = NewLimitsVersion {
        base_version: payload.base_version,
        limits: payload.new.clone(),
        reason: payload.reason.clone(),
        proposed_by: proposed_by.to_owned(),
        approval: approval.clone(),
        effective_at: now,
    };
    let version = tx
        .apply_limits_version(&payload.account_id, &next)
        .await
        .map_err(store)?;
    let mut details = change_details(payload, None);
    if let Some(object) = details.as_object_mut() {
        object.insert("version".into(), json!(version.version));
        object.insert("approval_id".into(), json!(approval.map(|(_, id)| id)));
        object.insert(
            "reviewable_after_the_fact".into(),
            json!(version.reviewable_after_the_fact),
        );
    }
    let actor = version.approved_by.as_deref().unwrap_or(proposed_by);
    tx.append(audit::stamp(
        audit::event(
            actor,
            RISK_LIMITS_APPLIED,
            &account_target(&payload.account_id),
            Outcome::Success,
        )
        .details(details),
    ))
    .await
    .map_err(store)?;
    Ok(version)
}

fn change_details(payload: &ChangePayload, approval: Option<&ApprovalRecord>) -> Value {
    json!({
        "account_id": payload.account_id,
        "approval_id": approval.map(|a| a.id),
        "base_version": payload.base_version,
        "old": payload.old,
        "new": payload.new,
        "changed": payload.changed,
        "loosened": payload.loosened,
        "reason": payload.reason,
        "proposed_by": approval.map(|a| a.proposed_by.as_str()),
    })
}

fn payload_of(approval: &ApprovalRecord) -> Result<ChangePayload, ApiError> {
    serde_json::from_value(approval.payload.clone())
        .map_err(|e| internal("risk_limits.change payload", &e))
}

fn store(error: rampart_store::StoreError) -> ApiError {
    internal("risk limits", &error)
}
