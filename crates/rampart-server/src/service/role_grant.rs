//! Privileged role grants: proposed by one administrator, applied once a second approves.
//!
//! Rule upheld: `admin`, `risk_manager` and `compliance_officer` are never
//! granted by one person. The proposal holds the whole access wanted, the
//! person's opaque subject id and a salted SHA-256 fingerprint of their address,
//! never the address or name itself: personal data stays in the profile, and the
//! approval's view reads it from there. The fingerprint never reaches the audit
//! log ([`audited_payload`]), which is never erased. The approved payload is applied as
//! proposed, with its audit event, inside the decision's transaction, and
//! refused (audited) when the person's address changed meanwhile. A person
//! created with privileged roles has no set-up token until the grant is
//! approved: it is issued in the decision's transaction, only to someone who
//! never had one, and handed over, to the address checked in that
//! transaction, once the decision is durable.

use chrono::{DateTime, Duration, Utc};
use rampart_audit::Outcome;
use rampart_core::{AccountId, Principal, Role, RoleSet};
use rampart_store::{ApprovalRecord, NewApproval, StoredUser, UserProfile, WriteTx};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::problem::ApiError;
use crate::service::decision_refusal::Refusal;
use crate::service::identity_action as act;
use crate::service::identity_setup::{self, IssuedSetup};
use crate::service::user_answers::from_user_error;
use crate::service::users::{UserError, apply_access, require_accounts, target};
use crate::service::{audit, internal, setup_handover};
use crate::state::AppState;

/// The approval kind of a privileged role grant.
pub const ROLE_GRANT: &str = "role.grant";

/// What an address fingerprint hashes before the address, so it matches no other hash.
const EMAIL_DOMAIN: &[u8] = b"rampart.grant.email\0";

/// The payload of a `role.grant` approval: the whole access wanted, and whom it is for.
#[derive(Debug, serde::Deserialize)]
struct GrantPayload {
    roles: Vec<Role>,
    accounts: Vec<AccountId>,
    /// Absent from proposals made before payloads named their subject.
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    email_salt: Option<String>,
    #[serde(default)]
    email_sha256: Option<String>,
}

/// The payload fields that fingerprint the person's address, kept out of the audit log.
const FINGERPRINT_FIELDS: [&str; 2] = ["email_salt", "email_sha256"];

/// How many random bytes salt a proposal's address fingerprint.
const SALT_LEN: usize = 16;

/// A grant applied: the person as changed, the set-up token to hand them, and where to.
#[derive(Debug)]
pub struct AppliedGrant {
    /// The person with the granted roles.
    pub user: StoredUser,
    /// Issued because the person never had a set-up token; handed over after commit.
    pub setup: Option<IssuedSetup>,
    /// The address checked against the proposal in the decision's transaction.
    pub email: Option<String>,
}

/// The domain-separated, salted SHA-256 fingerprint (hex) of an e-mail address.
fn email_fingerprint(salt: &str, email: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(EMAIL_DOMAIN);
    hasher.update(salt.as_bytes());
    hasher.update(b"\0");
    hasher.update(email.as_bytes());
    hex::encode(hasher.finalize())
}

/// A fresh random salt (hex) for one proposal's address fingerprint.
fn fresh_salt() -> Result<String, UserError> {
    let mut salt = [0u8; SALT_LEN];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| UserError::Random)?;
    Ok(hex::encode(salt))
}

/// `payload` as the audit log may copy it: without the address fingerprint.
pub fn audited_payload(kind: &str, payload: &Value) -> Value {
    let mut payload = payload.clone();
    if let (ROLE_GRANT, Some(fields)) = (kind, payload.as_object_mut()) {
        for field in FINGERPRINT_FIELDS {
            fields.remove(field);
        }
    }
    payload
}

/// Applies an approved `role.grant` payload to its user inside `tx`.
pub async fn apply_grant(
    tx: &mut WriteTx<'_>,
    actor: &str,
    approval: &ApprovalRecord,
    now: DateTime<Utc>,
) -> Result<AppliedGrant, UserError> {
    let (user, payload, email) = checked_person(tx, approval).await?;
    let wanted = RoleSet::new(payload.roles)?;
    require_accounts(tx, &payload.accounts).await?;
    let applied = apply_access(tx, actor, &user, &wanted, &payload.accounts, now).await?;
    let user = applied.user;
    let setup = match never_set_up(tx, &user).await? {
        true => Some(identity_setup::issue(tx, &user.id, now).await?),
        false => None,
    };
    record_grant(tx, actor, approval, &user, setup.is_some()).await?;
    Ok(AppliedGrant { user, setup, email })
}

/// The person `approval` is for, its payload, and their address, checked unchanged in `tx`.
async fn checked_person(
    tx: &mut WriteTx<'_>,
    approval: &ApprovalRecord,
) -> Result<(StoredUser, GrantPayload, Option<String>), UserError> {
    let id = subject_of(approval).ok_or(UserError::UnknownUser)?;
    let user = tx.user(id).await?.ok_or(UserError::UnknownUser)?;
    let payload = payload_of(approval)?;
    let profile = tx.user_profile(id).await?.unwrap_or_default();
    let issues_token = never_set_up(tx, &user).await?;
    // INVARIANT: checked in the decision's transaction, so the approver saw this address.
    unchanged(&payload, &user, &profile, issues_token)?;
    Ok((user, payload, profile.email))
}

async fn record_grant(
    tx: &mut WriteTx<'_>,
    actor: &str,
    approval: &ApprovalRecord,
    user: &StoredUser,
    setup_issued: bool,
) -> Result<(), UserError> {
    let details = json!({
        "approval_id": approval.id, "roles": user.roles, "setup_issued": setup_issued,
    });
    let event = audit::event(
        actor,
        act::ROLE_GRANTED,
        &target(&user.id),
        Outcome::Success,
    );
    tx.append(audit::stamp(event.details(details))).await?;
    Ok(())
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
    let Some(id) = subject_of(approval) else {
        return Ok(());
    };
    let failed = |e: rampart_store::StoreError| internal("role grant", &e);
    let user = state.store.user(id).await.map_err(failed)?;
    let user = user.ok_or(ApiError::NotFound)?;
    let profile = state.store.user_profile(id).await.map_err(failed)?;
    let had_token = state.store.has_had_setup_token(id).await.map_err(failed)?;
    let issues_token = first_setup(&user, had_token);
    let checked = payload_of(approval)
        .and_then(|payload| unchanged(&payload, &user, &profile.unwrap_or_default(), issues_token));
    match checked {
        Ok(()) => Ok(()),
        Err(error) => {
            let refusal = Refusal::from(from_user_error(error));
            Err(refusal.settle(state, principal, approval.id).await)
        }
    }
}

/// Once an approved grant is durable: hands the person the set-up token it issued, if any.
pub async fn after_commit(state: &AppState, actor: &str, applied: AppliedGrant) -> Option<Value> {
    let setup = applied.setup?;
    let email = applied.email.as_deref();
    Some(setup_handover::hand_over_decided(state, actor, &applied.user, email, setup).await)
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
    let salt = fresh_salt()?;
    let proposal = NewApproval {
        kind: ROLE_GRANT.to_owned(),
        target: target(&user.id),
        payload: json!({
            "roles": roles,
            "accounts": user.accounts,
            "subject": user.id,
            "email_salt": salt,
            "email_sha256": profile.email.as_deref().map(|email| email_fingerprint(&salt, email)),
        }),
        proposed_by: actor.to_owned(),
        expires_at: now + ttl,
    };
    let approval = tx.propose(&proposal, now).await?;
    let details = json!({ "approval_id": approval.id, "kind": ROLE_GRANT, "roles": roles });
    let event = audit::event(
        actor,
        act::APPROVAL_PROPOSED,
        &proposal.target,
        Outcome::Success,
    );
    tx.append(audit::stamp(event.details(details))).await?;
    Ok(approval)
}

/// Whether the person `profile` describes still has the address the proposal fingerprinted.
pub fn email_unchanged(approval: &ApprovalRecord, profile: &UserProfile) -> bool {
    payload_of(approval).is_ok_and(|payload| same_email(&payload, profile))
}

/// Whether `profile` has the address `payload` fingerprinted (or none, as proposed).
fn same_email(payload: &GrantPayload, profile: &UserProfile) -> bool {
    let salt = payload.email_salt.as_deref().unwrap_or_default();
    let now = profile
        .email
        .as_deref()
        .map(|email| email_fingerprint(salt, email));
    payload.email_sha256 == now
}

fn subject_of(approval: &ApprovalRecord) -> Option<&str> {
    approval.target.strip_prefix("user:")
}

fn payload_of(approval: &ApprovalRecord) -> Result<GrantPayload, UserError> {
    serde_json::from_value(approval.payload.clone()).map_err(|_| UserError::Payload)
}

/// Whether the person is still the one the proposal named: same subject, same address.
/// A proposal from an earlier version names neither: it may still be applied to a person
/// who gets no set-up token from it, but not to one who would (`issues_token`).
fn unchanged(
    payload: &GrantPayload,
    user: &StoredUser,
    profile: &UserProfile,
    issues_token: bool,
) -> Result<(), UserError> {
    let Some(subject) = payload.subject.as_deref() else {
        return match issues_token {
            true => Err(UserError::GrantOutdated),
            false => Ok(()),
        };
    };
    if subject != user.id {
        return Err(UserError::GrantChanged("subject"));
    }
    match same_email(payload, profile) {
        true => Ok(()),
        false => Err(UserError::GrantChanged("email")),
    }
}

/// Whether `user` never had a set-up token and so never chose a password.
pub(crate) async fn never_set_up(
    tx: &mut WriteTx<'_>,
    user: &StoredUser,
) -> Result<bool, UserError> {
    if !first_setup(user, false) {
        return Ok(false);
    }
    Ok(!tx.has_had_setup_token(&user.id).await?)
}

/// Whether approving a grant for `user` issues their first set-up token.
fn first_setup(user: &StoredUser, had_token: bool) -> bool {
    user.must_change_password && !user.disabled && !had_token
}
