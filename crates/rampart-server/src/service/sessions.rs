//! Sessions of people: access tokens with `sid` and `amr`, refresh-token families, rotation.
//!
//! A full sign-in (password and a second factor) starts a refresh family and
//! gets an access token whose `sid` is the family id. A person who has not yet
//! changed a one-time password or enrolled MFA gets a restricted token only
//! (`amr` = `pwd`, no roles, no refresh token). Every refresh rotates the
//! token; a rotated token presented again revokes the whole family at once
//! (RFC 9700, section 4.14) and is an audit event.

use chrono::{DateTime, Duration, Utc};
use rampart_audit::Outcome;
use rampart_auth::refresh::is_well_formed;
use rampart_auth::revocation::COVER_SECONDS;
use rampart_auth::{IssuedToken, RefreshToken, RevocationList, Session, hash_refresh_token};
use rampart_core::{Principal, PrincipalKind, RoleSet};
use rampart_store::{RefreshFamily, RefreshUse, Store, StoreError, StoredUser, WriteTx};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use crate::problem::ApiError;
use crate::service::audit;
use crate::service::identity_action as act;
use crate::service::internal;
use crate::state::AppState;

/// The `amr` of a restricted token: a password and nothing else.
pub const PASSWORD_ONLY: &str = "pwd";

/// Tokens handed to a person who signed in.
#[derive(Debug)]
pub struct SignedIn {
    /// The access token.
    pub access: IssuedToken,
    /// The refresh token, for a full session only.
    pub refresh_token: Option<SecretString>,
    /// Whether the access token only reaches the set-up routes.
    pub restricted: bool,
}

/// Why a refresh token was refused (always answered `invalid_grant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// Malformed, unknown, expired or revoked.
    Invalid(&'static str),
    /// A rotated token came back; its family is now revoked.
    Reused,
}

/// The principal a user's full-session token speaks for.
pub fn principal_of(user: &StoredUser) -> Principal {
    Principal {
        id: user.id.clone(),
        kind: PrincipalKind::User,
        roles: user.roles.clone(),
        accounts: user.accounts.clone(),
    }
}

/// Starts a full session for `user` inside `tx`: a refresh family and an access token.
pub async fn start(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    user: &StoredUser,
    amr: &[&str],
) -> Result<SignedIn, ApiError> {
    let now = state.clock.now();
    let (refresh_token, hash) = RefreshToken::generate().map_err(|e| internal("refresh", &e))?;
    let refresh = &state.auth.refresh;
    let family = RefreshFamily {
        id: Uuid::now_v7().to_string(),
        subject: user.id.clone(),
        is_user: true,
        current_hash: hash.as_str().to_owned(),
        amr: amr.iter().map(|m| (*m).to_owned()).collect(),
        created_at: now,
        last_used_at: now,
        idle_expires_at: now + seconds(refresh.idle_seconds),
        absolute_expires_at: now + seconds(refresh.absolute_seconds),
        revoked_at: None,
        revoked_reason: None,
    };
    tx.insert_refresh_family(&family)
        .await
        .map_err(|e| internal("refresh family", &e))?;
    let access = issue(state, &principal_of(user), &family)?;
    Ok(SignedIn {
        access,
        refresh_token: Some(refresh_token),
        restricted: false,
    })
}

/// A restricted token for `user`: no roles, good only for the set-up routes.
pub fn restricted(state: &AppState, user: &StoredUser) -> Result<SignedIn, ApiError> {
    let principal = Principal {
        roles: RoleSet::default(),
        accounts: Vec::new(),
        ..principal_of(user)
    };
    let session = Session {
        sid: format!("setup-{}", Uuid::now_v7()),
        amr: vec![PASSWORD_ONLY.to_owned()],
    };
    let access = state
        .issuer
        .issue_for_session_ms(&principal, &session, state.clock.now().timestamp_millis())
        .map_err(|e| internal("restricted token", &e))?;
    Ok(SignedIn {
        access,
        refresh_token: None,
        restricted: true,
    })
}

/// Exchanges a refresh token for a new access token and a new refresh token.
pub async fn refresh(state: &AppState, presented: &str) -> Result<SignedIn, RefreshRefusal> {
    if !is_well_formed(presented) {
        return Err(refused(state, "anonymous", "malformed").await);
    }
    let now = state.clock.now();
    let (next, next_hash) =
        RefreshToken::generate().map_err(|_| RefreshRefusal::Invalid("generate"))?;
    let idle = now + seconds(state.auth.refresh.idle_seconds);
    let presented_hash = hash_refresh_token(presented);
    let store_failed = |_| RefreshRefusal::Invalid("store");
    let mut tx = state.store.begin().await.map_err(store_failed)?;
    let used = tx
        .use_refresh_token(presented_hash.as_str(), next_hash.as_str(), now, idle)
        .await
        .map_err(store_failed)?;
    let family = match used {
        RefreshUse::Rotated(family) => family,
        RefreshUse::Reused(family) => return Err(reused(state, tx, &family, now).await),
        RefreshUse::Inactive(family) => {
            drop(tx);
            return Err(refused(state, &family.subject, "inactive").await);
        }
        RefreshUse::Unknown => {
            drop(tx);
            return Err(refused(state, "anonymous", "unknown").await);
        }
    };
    let user = tx.user(&family.subject).await.map_err(store_failed)?;
    let Some(user) = user.filter(|u| !u.disabled && family.is_user) else {
        drop(tx);
        return Err(refused(state, &family.subject, "subject_disabled").await);
    };
    let access = issue(state, &principal_of(&user), &family)
        .map_err(|_| RefreshRefusal::Invalid("issue"))?;
    let event = audit::event(
        &user.id,
        act::REFRESH_ROTATED,
        &session_target(&family.id),
        Outcome::Success,
    )
    .details(json!({ "jti": access.jti }));
    tx.append(audit::stamp(event)).await.map_err(store_failed)?;
    tx.commit().await.map_err(store_failed)?;
    Ok(SignedIn {
        access,
        refresh_token: Some(next),
        restricted: false,
    })
}

/// Revokes session `sid` at once: stored, and refused in memory from now on.
pub async fn revoke_session(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    sid: &str,
    reason: &str,
) -> Result<bool, ApiError> {
    let now = state.clock.now();
    let revoked = tx
        .revoke_refresh_family(sid, reason, now)
        .await
        .map_err(|e| internal("revoke session", &e))?;
    state.revocations.revoke_sid(sid, state.clock.now_unix());
    state.bearer.cache().remove_sid(sid);
    Ok(revoked)
}

/// Refuses in memory, once its revocation is durable, every token of `subject` up
/// to the moment the store recorded, and every token of its ended `sessions`.
///
/// The moment is read back from the store, which is what a restart loads, so
/// memory and a restarted gateway refuse exactly the same tokens. Should the read
/// fail, the clock's time now (after the commit, so not earlier) is used instead.
pub async fn cut_off_recorded(state: &AppState, subject: &str, sessions: &[String]) {
    let moment = match state.store.subject_revoked_at(subject).await {
        Ok(Some(moment)) => moment,
        Ok(None) => state.clock.now(),
        Err(error) => {
            tracing::warn!(%error, "revocation moment unreadable; cutting off at the time now");
            state.clock.now()
        }
    };
    cut_off(state, subject, sessions, moment);
}

/// Refuses in memory the tokens of `subject` issued at or before `moment`, and
/// every token of its ended `sessions`.
///
/// Called with the very moment the store recorded for the same revocation, so
/// that a restart, which loads the store's moment, refuses exactly what this does.
pub fn cut_off(state: &AppState, subject: &str, sessions: &[String], moment: DateTime<Utc>) {
    for sid in sessions {
        state.revocations.revoke_sid(sid, moment.timestamp());
    }
    state
        .revocations
        .revoke_subject_ms(subject, moment.timestamp_millis());
    state.bearer.cache().remove_subject(subject);
}

/// The revocations still able to refuse a live token at `now`, read from the store.
///
/// A session revoked within the cover period is held as if revoked now, which
/// keeps it at least as long as any token it covers.
pub async fn load_revocations(
    store: &Store,
    now: DateTime<Utc>,
) -> Result<RevocationList, StoreError> {
    let list = RevocationList::new();
    for (jti, expires) in store.revoked_jtis(now).await? {
        list.revoke_jti(&jti, expires.timestamp());
    }
    let since = now - Duration::seconds(COVER_SECONDS);
    for sid in store.revoked_family_ids(since).await? {
        list.revoke_sid(&sid, now.timestamp());
    }
    for (subject, at) in store.revoked_subjects(since).await? {
        list.revoke_subject_ms(&subject, at.timestamp_millis());
    }
    Ok(list)
}

/// Revokes access token `jti` (expiring at `expires_at`) at once.
pub async fn revoke_access_token(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    jti: &str,
    expires_at: i64,
) -> Result<(), ApiError> {
    let expiry =
        DateTime::<Utc>::from_timestamp(expires_at, 0).unwrap_or_else(|| state.clock.now());
    tx.revoke_jti(jti, expiry, state.clock.now())
        .await
        .map_err(|e| internal("revoke token", &e))?;
    state.revocations.revoke_jti(jti, expires_at);
    state.revocations.purge(state.clock.now_unix());
    state.bearer.cache().remove_jti(jti);
    Ok(())
}

/// The audit target naming a session.
pub fn session_target(sid: &str) -> String {
    format!("session:{sid}")
}

fn issue(
    state: &AppState,
    principal: &Principal,
    family: &RefreshFamily,
) -> Result<IssuedToken, ApiError> {
    let session = Session {
        sid: family.id.clone(),
        amr: family.amr.clone(),
    };
    state
        .issuer
        .issue_for_session_ms(principal, &session, state.clock.now().timestamp_millis())
        .map_err(|e| internal("session token", &e))
}

async fn reused(
    state: &AppState,
    mut tx: WriteTx<'_>,
    family: &RefreshFamily,
    now: DateTime<Utc>,
) -> RefreshRefusal {
    let event = audit::event(
        &family.subject,
        act::REFRESH_REUSED,
        &session_target(&family.id),
        Outcome::Denied,
    )
    .details(json!({ "reason": "rotated_token_reused", "family_revoked": true }));
    let recorded = async {
        tx.append(audit::stamp(event)).await?;
        tx.commit().await
    };
    if let Err(error) = recorded.await {
        tracing::error!(%error, "refresh reuse could not be recorded");
    }
    state.revocations.revoke_sid(&family.id, now.timestamp());
    state.bearer.cache().remove_sid(&family.id);
    RefreshRefusal::Reused
}

async fn refused(state: &AppState, actor: &str, reason: &'static str) -> RefreshRefusal {
    let event = audit::event(actor, act::REFRESH_REFUSED, "gateway", Outcome::Denied)
        .details(json!({ "reason": reason }));
    audit::append_or_log(&state.store, event).await;
    RefreshRefusal::Invalid(reason)
}

fn seconds(value: u64) -> Duration {
    Duration::seconds(crate::clock::signed(value))
}
