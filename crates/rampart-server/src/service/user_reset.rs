//! Resetting a person's password or second factor: one step for most, four eyes for the privileged.
//!
//! Rule upheld: no single administrator can take over a person who decides
//! four-eyes approvals. Resetting someone holding `admin`, `risk_manager` or
//! `compliance_officer` is a `user.reset` proposal that changes nothing until
//! a second administrator approves it; neither the proposer (nor a client
//! they own) nor the person reset (nor a client they own) may decide it. When
//! a reset takes effect the old password or second factor stops working and
//! every session and token of the person is cut off, in the transaction that
//! records it. A password reset's new set-up token is handed to the person
//! (`setup_handover`), never to the administrator; an approved one ends every
//! earlier set-up token in the decision's transaction, and its delivery
//! failing leaves the decision standing (the answer says `delivered: false`).
//! No set-up token is issued to a person who never set up their account
//! while a privileged role grant for them waits: the grant's approval issues
//! it. The payload of a proposal names the person by subject id only.

use chrono::{DateTime, Duration, Utc};
use rampart_audit::Outcome;
use rampart_core::Principal;
use rampart_store::{ApprovalRecord, ApprovalStatus, NewApproval, Store, StoredUser, WriteTx};
use serde_json::{Value, json};

use crate::problem::ApiError;
use crate::service::identity_action as act;
use crate::service::identity_setup::{self, IssuedSetup};
use crate::service::role_grant::{ROLE_GRANT, never_set_up};
use crate::service::user_answers::{from_user_error, view};
use crate::service::users::{PRIVILEGED, UserError, target, unusable_password};
use crate::service::{audit, sessions, setup_handover};
use crate::state::AppState;

/// The approval kind of a reset of a privileged person.
pub const USER_RESET: &str = "user.reset";

/// What is reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetKind {
    /// The password: a new set-up token goes to the person.
    Password,
    /// The second factor: the person enrols again at their next sign-in.
    Mfa,
}

impl ResetKind {
    /// The kind's name in approval payloads and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password", // pragma: allowlist secret
            Self::Mfa => "mfa",
        }
    }

    fn of(approval: &ApprovalRecord) -> Option<Self> {
        match approval.payload.get("reset").and_then(Value::as_str) {
            Some("password") => Some(Self::Password),
            Some("mfa") => Some(Self::Mfa),
            _ => None,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Self::Password => "password_reset", // pragma: allowlist secret
            Self::Mfa => "mfa_reset",
        }
    }
}

/// What a reset did.
#[derive(Debug)]
pub enum ResetOutcome {
    /// Applied at once.
    Applied(AppliedReset),
    /// The person is privileged: the reset waits for a second administrator.
    Proposed(ApprovalRecord),
}

/// A reset applied to a person.
#[derive(Debug)]
pub struct AppliedReset {
    /// The person as reset.
    pub user: StoredUser,
    /// The sessions ended.
    pub revoked: Vec<String>,
    /// The new set-up token of a password reset, to hand to the person.
    pub setup: Option<IssuedSetup>,
    /// The person's address, read in the reset's transaction, where the token goes.
    pub email: Option<String>,
}

/// Whether `user` holds a role whose holder decides four-eyes approvals.
pub fn is_privileged(user: &StoredUser) -> bool {
    PRIVILEGED.iter().any(|role| user.roles.contains(*role))
}

/// Resets `kind` of user `id` as `actor`: proposed for a privileged person, else applied.
pub async fn reset(
    store: &Store,
    actor: &str,
    id: &str,
    kind: ResetKind,
    now: DateTime<Utc>,
    approval_ttl: Duration,
) -> Result<ResetOutcome, UserError> {
    // Hashed before the writer is taken; unused when the reset becomes a proposal.
    let password_hash = unusable_hash(kind).await?;
    let mut tx = store.begin().await?;
    let user = tx.user(id).await?.ok_or(UserError::UnknownUser)?;
    if kind == ResetKind::Password && awaits_grant(&mut tx, &user, now).await? {
        drop(tx);
        return Err(refuse_awaiting(store, actor, id).await);
    }
    if is_privileged(&user) {
        let approval = propose(&mut tx, actor, &user, kind, now, approval_ttl).await?;
        tx.commit().await?;
        return Ok(ResetOutcome::Proposed(approval));
    }
    let applied = apply_in(&mut tx, actor, &user, kind, password_hash, None, now).await?;
    tx.commit().await?;
    Ok(ResetOutcome::Applied(applied))
}

/// Resets `kind` of user `id` at once, whoever they are: the host operator's break-glass path.
pub async fn reset_directly(
    store: &Store,
    actor: &str,
    id: &str,
    kind: ResetKind,
    now: DateTime<Utc>,
) -> Result<AppliedReset, UserError> {
    let password_hash = unusable_hash(kind).await?;
    let mut tx = store.begin().await?;
    let user = tx.user(id).await?.ok_or(UserError::UnknownUser)?;
    let applied = apply_in(&mut tx, actor, &user, kind, password_hash, None, now).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Refuses a decision, approval or rejection alike, by the person reset or a client
/// they own: the person whose credentials are in doubt never decides their own reset.
pub async fn refuse_target_side(
    tx: &mut WriteTx<'_>,
    approval: &ApprovalRecord,
    decider: &Principal,
) -> Result<(), ApiError> {
    let unreadable = || ApiError::UnsupportedApproval(USER_RESET.to_owned());
    let id = approval
        .target
        .strip_prefix("user:")
        .ok_or_else(unreadable)?;
    let same = tx.same_side(id, &decider.id).await;
    let same = same.map_err(|e| from_user_error(UserError::Store(e)))?;
    if same {
        return Err(ApiError::SelfApproval);
    }
    Ok(())
}

/// Applies an approved `user.reset` inside the decision's `tx`, as `decider`.
pub async fn apply(
    tx: &mut WriteTx<'_>,
    approval: &ApprovalRecord,
    decider: &Principal,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let unreadable = || ApiError::UnsupportedApproval(USER_RESET.to_owned());
    let kind = ResetKind::of(approval).ok_or_else(unreadable)?;
    let id = approval
        .target
        .strip_prefix("user:")
        .ok_or_else(unreadable)?;
    let failed = |e: rampart_store::StoreError| from_user_error(UserError::Store(e));
    refuse_target_side(tx, approval, decider).await?;
    let user = tx
        .user(id)
        .await
        .map_err(failed)?
        .ok_or(ApiError::NotFound)?;
    let password_hash = match kind {
        ResetKind::Password => Some(prepared_hash().await.map_err(from_user_error)?),
        ResetKind::Mfa => None,
    };
    let applied = apply_in(
        tx,
        &decider.id,
        &user,
        kind,
        password_hash,
        Some(approval),
        now,
    );
    let applied = applied.await.map_err(from_user_error)?;
    Ok(json!({ "user": view(&applied.user), "reset": kind.as_str() }))
}

/// Once an approved `user.reset` is durable: cut the person off in memory and, for a
/// password, hand a fresh set-up token to them. Answers how it was delivered, if it was.
pub async fn after_commit(state: &AppState, approval: &ApprovalRecord) -> Option<Value> {
    if approval.kind != USER_RESET || approval.status != ApprovalStatus::Approved {
        return None;
    }
    let id = approval.target.strip_prefix("user:")?;
    // The moment the store recorded under the writer, read back as a restart would.
    sessions::cut_off_recorded(state, id, &[]).await;
    match ResetKind::of(approval) {
        Some(ResetKind::Password) => {
            let actor = approval.decided_by.as_deref().unwrap_or_default();
            Some(setup_handover::issue_and_hand_over(state, actor, id).await)
        }
        _ => None,
    }
}

/// Prepares, before a decision's transaction begins, what applying `approval` will need,
/// so that no argon2id runs while the store's writer is held.
pub async fn prepare(approval: &ApprovalRecord) -> Result<(), ApiError> {
    if approval.kind == USER_RESET && ResetKind::of(approval) == Some(ResetKind::Password) {
        prepared_hash().await.map_err(from_user_error)?;
    }
    Ok(())
}

/// The hash of a random password that was dropped at once, computed once per process:
/// it makes a password unusable, and nobody can ever present its password.
async fn prepared_hash() -> Result<String, UserError> {
    static PREPARED: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    PREPARED.get_or_try_init(unusable_password).await.cloned()
}

async fn unusable_hash(kind: ResetKind) -> Result<Option<String>, UserError> {
    match kind {
        ResetKind::Password => Ok(Some(unusable_password().await?)),
        ResetKind::Mfa => Ok(None),
    }
}

/// Resets `kind` of `user` in `tx` and records it; a password reset issues a set-up
/// token only when no approval is involved (an approved one issues it after commit).
async fn apply_in(
    tx: &mut WriteTx<'_>,
    actor: &str,
    user: &StoredUser,
    kind: ResetKind,
    password_hash: Option<String>,
    approval: Option<&ApprovalRecord>,
    now: DateTime<Utc>,
) -> Result<AppliedReset, UserError> {
    let action = match (kind, password_hash) {
        (ResetKind::Password, Some(hash)) => {
            tx.set_password(&user.id, &hash, true).await?;
            act::PASSWORD_RESET
        }
        (ResetKind::Password, None) => return Err(UserError::Hash),
        (ResetKind::Mfa, _) => {
            if !tx.reset_mfa(&user.id).await? {
                return Err(UserError::UnknownUser);
            }
            act::MFA_RESET
        }
    };
    let revoked = tx
        .revoke_refresh_families_of(&user.id, kind.reason(), now)
        .await?;
    tx.revoke_subject(&user.id, kind.reason(), now).await?;
    let (setup, ended) = match (kind, approval) {
        (ResetKind::Password, None) => (Some(identity_setup::issue(tx, &user.id, now).await?), 0),
        // The fresh token is issued after commit; none issued earlier outlives the reset.
        (ResetKind::Password, Some(_)) => (None, tx.end_setup_tokens(&user.id, now).await?),
        (ResetKind::Mfa, _) => (None, 0),
    };
    let details = json!({
        "revoked_sessions": revoked.len(),
        "approval_id": approval.map(|a| a.id),
        "setup_tokens_ended": ended,
    });
    tx.append(audit::stamp(
        audit::event(actor, action, &target(&user.id), Outcome::Success).details(details),
    ))
    .await?;
    let user = tx.user(&user.id).await?.ok_or(UserError::UnknownUser)?;
    let email = tx.user_profile(&user.id).await?.and_then(|p| p.email);
    Ok(AppliedReset {
        user,
        revoked,
        setup,
        email,
    })
}

/// Whether `user` never set up their account and a privileged role grant for them waits
/// at `now`: only approving that grant may then issue their first set-up token.
async fn awaits_grant(
    tx: &mut WriteTx<'_>,
    user: &StoredUser,
    now: DateTime<Utc>,
) -> Result<bool, UserError> {
    let pending = tx
        .pending_approval(ROLE_GRANT, &target(&user.id), now)
        .await?;
    match pending {
        Some(_) => never_set_up(tx, user).await,
        None => Ok(false),
    }
}

/// Records that a password reset of `id` was refused while their first grant waits.
async fn refuse_awaiting(store: &Store, actor: &str, id: &str) -> UserError {
    let details = json!({ "reason": "grant_pending" });
    let event = audit::event(actor, act::PASSWORD_RESET, &target(id), Outcome::Denied);
    audit::append_or_log(store, audit::stamp(event.details(details))).await;
    UserError::GrantPending
}

async fn propose(
    tx: &mut WriteTx<'_>,
    actor: &str,
    user: &StoredUser,
    kind: ResetKind,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<ApprovalRecord, UserError> {
    let proposal = NewApproval {
        kind: USER_RESET.to_owned(),
        target: target(&user.id),
        payload: json!({ "reset": kind.as_str() }),
        proposed_by: actor.to_owned(),
        expires_at: now + ttl,
    };
    let approval = tx.propose(&proposal, now).await?;
    let details = json!({ "approval_id": approval.id, "kind": USER_RESET, "reset": kind.as_str() });
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
