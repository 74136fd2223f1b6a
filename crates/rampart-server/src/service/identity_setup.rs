//! Set-up tokens: a new or reset person chooses their own password, so the
//! administrator who created them never learns it.
//!
//! A set-up token is 256 random bits, handed to the person only
//! (`setup_handover`), stored only as its SHA-256, good once and for
//! [`SETUP_TTL_HOURS`]. Issuing a newer one (a password reset) ends the older
//! ones, and so does any password change. It is no access token: the token
//! endpoints know nothing of it, so revocation ignores it and introspection
//! calls it inactive. Spending it sets the password, ends the person's
//! sessions and is audited, all in one write transaction; the argon2id hash
//! of the new password is computed before that transaction begins.

use chrono::{DateTime, Duration, Utc};
use rampart_audit::Outcome;
use rampart_auth::password::{check_new_password, hash_password};
use rampart_auth::refresh::is_well_formed;
use rampart_auth::{RefreshToken, hash_refresh_token};
use rampart_store::{StoreError, WriteTx};
use secrecy::SecretString;
use serde_json::json;

use crate::problem::ApiError;
use crate::service::identity_action as act;
use crate::service::{audit, internal};
use crate::state::AppState;

/// How long a set-up token stays good, in hours.
pub const SETUP_TTL_HOURS: i64 = 24;

/// A set-up token just issued: shown once, then only its hash exists.
#[derive(Debug)]
pub struct IssuedSetup {
    /// The token, to hand to the person.
    pub token: SecretString,
    /// When it stops being good.
    pub expires_at: DateTime<Utc>,
}

/// Why a set-up token could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The random generator failed.
    #[error("the set-up token could not be generated")]
    Generate,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Issues a set-up token for `user_id` inside `tx`, ending every earlier one.
pub async fn issue(
    tx: &mut WriteTx<'_>,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<IssuedSetup, SetupError> {
    let (token, hash) = RefreshToken::generate().map_err(|_| SetupError::Generate)?;
    let expires_at = now + Duration::hours(SETUP_TTL_HOURS);
    tx.insert_setup_token(hash.as_str(), user_id, now, expires_at)
        .await?;
    Ok(IssuedSetup { token, expires_at })
}

/// Spends `token` to set the person's password to `new_password`; returns their id.
pub async fn complete(
    state: &AppState,
    token: &str,
    new_password: &SecretString,
) -> Result<String, ApiError> {
    let refused = || ApiError::invalid("setup_token", "`setup_token` is not valid or has expired");
    if !is_well_formed(token) {
        return Err(refused());
    }
    let hash = hash_refresh_token(token);
    let now = state.clock.now();
    let store = &state.store;
    let user_id = store.setup_token_user(hash.as_str(), now).await;
    let user_id = user_id.map_err(|e| internal("setup token", &e))?;
    let user = match user_id {
        Some(id) => store.user(&id).await.map_err(|e| internal("user", &e))?,
        None => None,
    };
    let user = user.filter(|u| !u.disabled).ok_or_else(refused)?;
    check_new_password(new_password, &[&user.username]).map_err(|e| {
        let detail = e.to_string().replace("`password`", "`new_password`");
        ApiError::invalid("new_password", detail)
    })?;
    let password_hash = hash_off_thread(new_password).await?;

    let mut tx = store.begin().await.map_err(|e| internal("begin", &e))?;
    let failed = |e: StoreError| internal("setup", &e);
    // INVARIANT: spent inside the transaction, so one token sets one password once.
    let spent = tx.spend_setup_token(hash.as_str(), now).await;
    if spent.map_err(failed)?.as_deref() != Some(user.id.as_str()) {
        return Err(refused());
    }
    tx.set_password(&user.id, &password_hash, false)
        .await
        .map_err(failed)?;
    let ended = tx.end_setup_tokens(&user.id, now).await.map_err(failed)?;
    let revoked = tx
        .revoke_refresh_families_of(&user.id, "password_set", now)
        .await
        .map_err(failed)?;
    let event = audit::event(
        &user.id,
        act::SETUP_COMPLETED,
        &format!("user:{}", user.id),
        Outcome::Success,
    )
    .details(json!({ "revoked_sessions": revoked.len(), "other_setup_tokens_ended": ended }));
    tx.append(audit::stamp(event)).await.map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    crate::service::user_answers::end_sessions(state, &revoked);
    Ok(user.id)
}

async fn hash_off_thread(password: &SecretString) -> Result<String, ApiError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| internal("hash", &e))?
        .map_err(|e| internal("hash", &e))
}
