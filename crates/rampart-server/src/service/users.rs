//! People and their access: creating users, changing roles and accounts, cutting them off.
//!
//! Shared by the API and the command line. Roles go through `RoleSet`, so a
//! segregation-of-duties conflict is refused at grant time, naming both roles.
//! Granting `admin`, `risk_manager` or `compliance_officer` is never applied
//! directly: it becomes a `role.grant` approval that a second administrator
//! decides. Every change and its audit event commit in one transaction. A new
//! or reset person gets a single-use set-up token, never a password an
//! administrator could know; a new person whose privileged roles wait for
//! approval gets none until the grant is approved (`role_grant`), so that one
//! administrator cannot create a privileged person and take over their account.
//! The e-mail address is one bare address (`user_email`).

use chrono::{DateTime, Duration, Utc};
use lettre::Address;
use rampart_audit::Outcome;
use rampart_auth::password::hash_password;
use rampart_auth::secret::generate_client_secret;
use rampart_core::{AccountId, Role, RoleSet, SodConflict};
use rampart_store::{ApprovalRecord, Store, StoreError, StoredUser, UserProfile, WriteTx};
use serde_json::json;
use uuid::Uuid;

use crate::service::audit;
use crate::service::identity_action as act;
use crate::service::identity_setup::{self, IssuedSetup, SetupError};
use crate::service::user_email::{AddressRule, EmailError};
use crate::service::user_reset::{self, ResetKind};

use crate::service::role_grant::propose_grant;
pub use crate::service::role_grant::{ROLE_GRANT, apply_grant};

/// The roles only a second administrator's approval can grant.
pub const PRIVILEGED: [Role; 3] = [Role::Admin, Role::RiskManager, Role::ComplianceOfficer];

/// Why tokens and sessions were cut off when access was taken away.
const ACCESS_REDUCED: &str = "access_reduced";

/// The longest username.
const MAX_USERNAME: usize = 64;

/// Why a change to a user was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The username is not 3 to 64 of `a-z 0-9 . _ -`.
    #[error("`username` must be 3 to 64 characters of `a-z`, `0-9`, `.`, `_` and `-`")]
    Username,
    /// The username is taken.
    #[error("`username` is already taken")]
    Taken,
    /// A personal-data field is too long or holds control characters.
    #[error("`{0}` must be at most 200 printable characters")]
    Profile(&'static str),
    /// The e-mail address is not one bare address, or not one tokens may go to.
    #[error(transparent)]
    Email(#[from] EmailError),
    /// A privileged role grant for the person waits for a decision.
    #[error("a role grant for this person is pending; decide it first")]
    GrantPending,
    /// The person's `0` changed since the grant was proposed.
    #[error("the person's `{0}` changed since the role grant was proposed; propose it again")]
    GrantChanged(&'static str),
    /// The role grant was proposed by an earlier version, without an address fingerprint.
    #[error(
        "the role grant was proposed by an earlier version of Rampart and cannot be checked \
         against the person; reject it and propose it again"
    )]
    GrantOutdated,
    /// The roles break segregation of duties.
    #[error("segregation of duties: {0}")]
    Conflict(#[from] SodConflict),
    /// The roles wanted, with those of a client the person owns, break segregation of duties.
    #[error("segregation of duties with owned client `{client}`: {conflict}")]
    OwnedClientConflict {
        /// The id of the owned client.
        client: String,
        /// The two roles that may not be held together.
        conflict: SodConflict,
    },
    /// A named account does not exist.
    #[error("account `{0}` does not exist")]
    UnknownAccount(AccountId),
    /// No user has that id.
    #[error("the user does not exist")]
    UnknownUser,
    /// An approved `role.grant` payload does not have the expected shape.
    #[error("the approved change cannot be read")]
    Payload,
    /// The password could not be hashed.
    #[error("the password could not be hashed")]
    Hash,
    /// The system's random number generator failed.
    #[error("no random bytes could be drawn")]
    Random,
    /// The set-up token could not be issued.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an administrator asks for a new user.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// The sign-in name.
    pub username: String,
    /// The roles wanted; privileged ones go to an approval.
    pub roles: Vec<Role>,
    /// The accounts assigned.
    pub accounts: Vec<AccountId>,
    /// Personal data, kept apart.
    pub profile: UserProfile,
}

/// A user just created: its record, its set-up token and any pending grant.
#[derive(Debug)]
pub struct CreatedUser {
    /// The stored user (without its privileged roles until approved).
    pub user: StoredUser,
    /// The single-use set-up token with which the person sets their own password;
    /// the administrator never learns the password. None while privileged roles wait:
    /// the token is issued when the grant is approved.
    pub setup: Option<IssuedSetup>,
    /// The approval holding the privileged roles asked for, if any.
    pub approval: Option<ApprovalRecord>,
    /// The person's address as parsed and stored, where their set-up token goes.
    pub address: Option<Address>,
}

/// What a change of roles and accounts did.
#[derive(Debug)]
pub enum AccessChange {
    /// Applied at once.
    Applied(AppliedAccess),
    /// A privileged role was asked for: the change waits for a second administrator.
    Proposed(ApprovalRecord),
}

/// A change of access applied to a user.
#[derive(Debug)]
pub struct AppliedAccess {
    /// The user as changed.
    pub user: StoredUser,
    /// When a role or an account was taken away: the sessions ended. Every token
    /// issued before the change is then refused (recorded in the store; the caller
    /// refuses them in memory once the transaction commits).
    pub cut_off: Option<Vec<String>>,
}

/// Creates a user, as `actor`, whose e-mail address must satisfy `rule`.
pub async fn create_within(
    store: &Store,
    actor: &str,
    request: NewUser,
    now: DateTime<Utc>,
    approval_ttl: Duration,
    rule: &AddressRule,
) -> Result<CreatedUser, UserError> {
    check_username(&request.username)?;
    check_profile(&request.profile)?;
    let address = rule.check(request.profile.email.as_deref())?;
    let profile = UserProfile {
        display_name: request.profile.display_name.clone(),
        email: address.as_ref().map(Address::to_string),
    };
    let wanted = RoleSet::new(request.roles.iter().copied())?;
    let password_hash = unusable_password().await?;
    let direct = RoleSet::new(wanted.iter().filter(|r| !PRIVILEGED.contains(r)))?;
    let user = StoredUser {
        id: Uuid::now_v7().to_string(),
        username: request.username.clone(),
        password_hash,
        roles: direct,
        accounts: request.accounts.clone(),
        disabled: false,
        must_change_password: true,
        mfa_secret: None,
        mfa_pending_secret: None,
        mfa_last_step: None,
        created_at: now,
    };

    let mut tx = store.begin().await?;
    require_accounts(&mut tx, &user.accounts).await?;
    tx.create_user(&user, &profile).await.map_err(taken)?;
    let details =
        json!({ "roles": user.roles, "accounts": user.accounts, "must_change_password": true });
    tx.append(audit::stamp(
        audit::event(
            actor,
            act::USER_CREATED,
            &target(&user.id),
            Outcome::Success,
        )
        .details(details),
    ))
    .await?;
    let (approval, setup) = match wanted == user.roles {
        true => (
            None,
            Some(identity_setup::issue(&mut tx, &user.id, now).await?),
        ),
        false => {
            let proposed =
                propose_grant(&mut tx, actor, &user, &wanted, &profile, now, approval_ttl);
            (Some(proposed.await?), None)
        }
    };
    tx.commit().await?;
    Ok(CreatedUser {
        user,
        setup,
        approval,
        address,
    })
}

/// Replaces the roles and accounts of user `id`, or proposes it when a privileged role is added.
pub async fn change_access(
    store: &Store,
    actor: &str,
    id: &str,
    roles: &[Role],
    accounts: &[AccountId],
    now: DateTime<Utc>,
    approval_ttl: Duration,
) -> Result<AccessChange, UserError> {
    let wanted = RoleSet::new(roles.iter().copied())?;
    let mut tx = store.begin().await?;
    let user = tx.user(id).await?.ok_or(UserError::UnknownUser)?;
    require_accounts(&mut tx, accounts).await?;
    let adds_privilege = PRIVILEGED
        .iter()
        .any(|role| wanted.contains(*role) && !user.roles.contains(*role));
    if adds_privilege {
        crate::service::owner_duties::refuse_owned_conflict(&mut tx, &user.id, &wanted).await?;
        let mut changed = user.clone();
        changed.accounts = accounts.to_vec();
        let profile = tx.user_profile(id).await?.unwrap_or_default();
        let proposed = propose_grant(
            &mut tx,
            actor,
            &changed,
            &wanted,
            &profile,
            now,
            approval_ttl,
        );
        let approval = proposed.await?;
        tx.commit().await?;
        return Ok(AccessChange::Proposed(approval));
    }
    let applied = apply_access(&mut tx, actor, &user, &wanted, accounts, now).await?;
    tx.commit().await?;
    Ok(AccessChange::Applied(applied))
}

/// Disables user `id` and revokes every session; returns the revoked session ids.
pub async fn disable(
    store: &Store,
    actor: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, UserError> {
    Ok(disable_with_clients(store, actor, id, now).await?.0)
}

/// Disables user `id` and the clients they own, revoking every session; returns the
/// revoked session ids and the ids of the clients disabled with them.
pub async fn disable_with_clients(
    store: &Store,
    actor: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(Vec<String>, Vec<String>), UserError> {
    let mut tx = store.begin().await?;
    if !tx.set_user_disabled(id, true).await? {
        return Err(UserError::UnknownUser);
    }
    let revoked = tx
        .revoke_refresh_families_of(id, "user_disabled", now)
        .await?;
    tx.revoke_subject(id, "user_disabled", now).await?;
    let clients = crate::service::owned_clients::disable_owned(&mut tx, actor, id, now).await?;
    let details = json!({ "revoked_sessions": revoked.len(), "disabled_clients": clients });
    tx.append(audit::stamp(
        audit::event(actor, act::USER_DISABLED, &target(id), Outcome::Success).details(details),
    ))
    .await?;
    tx.commit().await?;
    Ok((revoked, clients))
}

/// Removes the second factor of user `id` at once and revokes every session; returns their
/// ids. The host operator's path: over the API a privileged person's reset is a proposal.
pub async fn reset_mfa(
    store: &Store,
    actor: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, UserError> {
    let applied = user_reset::reset_directly(store, actor, id, ResetKind::Mfa, now).await?;
    Ok(applied.revoked)
}

/// The audit target naming a user.
pub fn target(id: &str) -> String {
    format!("user:{id}")
}

/// Replaces the access of `user`; taking anything away also cuts off its tokens and sessions.
pub(crate) async fn apply_access(
    tx: &mut WriteTx<'_>,
    actor: &str,
    user: &StoredUser,
    roles: &RoleSet,
    accounts: &[AccountId],
    now: DateTime<Utc>,
) -> Result<AppliedAccess, UserError> {
    crate::service::owner_duties::refuse_owned_conflict(tx, &user.id, roles).await?;
    tx.set_user_access(&user.id, roles, accounts, now).await?;
    let cut_off = match reduces(user, roles, accounts) {
        true => {
            let ended = tx
                .revoke_refresh_families_of(&user.id, ACCESS_REDUCED, now)
                .await?;
            tx.revoke_subject(&user.id, ACCESS_REDUCED, now).await?;
            Some(ended)
        }
        false => None,
    };
    let details = json!({
        "roles_before": user.roles, "roles": roles,
        "accounts_before": user.accounts, "accounts": accounts,
        "tokens_revoked": cut_off.is_some(),
    });
    tx.append(audit::stamp(
        audit::event(
            actor,
            act::USER_UPDATED,
            &target(&user.id),
            Outcome::Success,
        )
        .details(details),
    ))
    .await?;
    let user = tx.user(&user.id).await?.ok_or(UserError::UnknownUser)?;
    Ok(AppliedAccess { user, cut_off })
}

/// Whether going from `user`'s access to `roles` and `accounts` takes anything away.
fn reduces(user: &StoredUser, roles: &RoleSet, accounts: &[AccountId]) -> bool {
    user.roles.iter().any(|role| !roles.contains(role))
        || user
            .accounts
            .iter()
            .any(|account| !accounts.contains(account))
}

pub(crate) async fn require_accounts(
    tx: &mut WriteTx<'_>,
    accounts: &[AccountId],
) -> Result<(), UserError> {
    for account in accounts {
        if tx.account(account).await?.is_none() {
            return Err(UserError::UnknownAccount(account.clone()));
        }
    }
    Ok(())
}

/// The hash of a random password nobody is ever shown: no password signs in
/// until the person sets one with their set-up token.
pub(crate) async fn unusable_password() -> Result<String, UserError> {
    let password = generate_client_secret();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| UserError::Hash)?
        .map_err(|_| UserError::Hash)
}

fn check_username(name: &str) -> Result<(), UserError> {
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-_".contains(&b);
    match (3..=MAX_USERNAME).contains(&name.len()) && name.bytes().all(allowed) {
        true => Ok(()),
        false => Err(UserError::Username),
    }
}

fn check_profile(profile: &UserProfile) -> Result<(), UserError> {
    let bad = profile
        .display_name
        .as_deref()
        .is_some_and(|v| v.chars().count() > 200 || v.chars().any(unprintable));
    match bad {
        true => Err(UserError::Profile("display_name")),
        false => Ok(()),
    }
}

/// A control character, or one that reorders or hides text around it (bidirectional
/// marks, embeddings, overrides and isolates, zero-width characters): a name shown to an
/// approver must read as what it is.
fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}')
        || c == '\u{FEFF}'
}

fn taken(error: StoreError) -> UserError {
    match error {
        StoreError::Duplicate { what: "user", .. } => UserError::Taken,
        other => UserError::Store(other),
    }
}
