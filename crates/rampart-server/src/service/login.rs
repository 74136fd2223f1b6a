//! Sign-in: username, password and a second factor, with throttling and lockout.
//!
//! The steps live in their own modules: `login_throttle` counts every attempt
//! against the user and the source address before the password is checked,
//! locks both past the limit and delays each failure; `login_timing` makes the
//! password and recovery-code checks cost the same whatever the answer;
//! `login_factor` spends a TOTP step or a recovery code once. No argon2id runs
//! while the write transaction is held.
//!
//! Rule upheld here: a session starts only for the person whose password and
//! second factor were checked, as they are at that moment. The transaction that
//! starts the session reads the user again and refuses the sign-in if the user
//! was disabled, given a new password or second factor, or cut off since the
//! first read. A person who has not yet changed a one-time password or
//! enrolled MFA gets a restricted token only.

use chrono::{DateTime, Utc};
use rampart_audit::Outcome;
use rampart_store::{StoredUser, WriteTx};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::login_factor::{self, target};
use super::login_throttle::{self as throttle, Failure, Keys, Reserved};
use super::login_timing::{self, RecoveryMatch};
use crate::problem::ApiError;
use crate::service::audit;
use crate::service::identity_action as act;
use crate::service::internal;
use crate::service::sessions::{self, SignedIn};
use crate::state::AppState;

pub use super::login_throttle::{
    PasswordAttempt, begin_password_check, password_check_failed, password_check_passed,
};

/// What a person presents to sign in.
pub struct Credentials {
    /// The sign-in name.
    pub username: String,
    /// The password.
    pub password: SecretString,
    /// A TOTP code.
    pub totp_code: Option<SecretString>,
    /// A recovery code, instead of a TOTP code.
    pub recovery_code: Option<SecretString>,
}

/// Signs a person in from `address`.
pub async fn login(
    state: &AppState,
    credentials: Credentials,
    address: &str,
) -> Result<SignedIn, ApiError> {
    let read_at = state.clock.now();
    let found = state
        .store
        .user_named(&credentials.username)
        .await
        .map_err(|e| internal("user lookup", &e))?;
    let keys = throttle::keys_of(found.as_ref(), &credentials.username, address);
    let Some(reserved) = throttle::reserve(state, &keys).await? else {
        return Err(throttle::refuse_locked(state, &keys).await);
    };

    // Both checks run whatever the outcome, outside any transaction.
    let password_ok = login_timing::check_password(found.as_ref(), &credentials.password).await;
    let recovery = match &credentials.recovery_code {
        Some(code) => login_timing::check_recovery(state, found.as_ref(), code).await?,
        None => None,
    };
    let fail = |failure| throttle::fail(state, &keys, failure, &reserved);
    let user = match (found, password_ok) {
        (None, _) => return Err(fail(Failure::UnknownUser).await),
        (Some(_), false) => return Err(fail(Failure::WrongPassword).await),
        (Some(user), true) if user.disabled => return Err(fail(Failure::Disabled).await),
        (Some(user), true) => user,
    };
    let factor = SecondFactor {
        keys: &keys,
        reserved: &reserved,
        recovery,
        read_at,
    };
    if !user.has_mfa() || user.must_change_password {
        return restricted(state, &user, factor).await;
    }
    second_factor(state, &user, &credentials, factor).await
}

/// What the second-factor step needs from the first.
struct SecondFactor<'a> {
    keys: &'a Keys,
    reserved: &'a Reserved,
    recovery: Option<RecoveryMatch>,
    /// When the user was first read, before the password was checked.
    read_at: DateTime<Utc>,
}

/// Checks the TOTP code or spends the matched recovery code and starts the session,
/// all in one transaction.
async fn second_factor(
    state: &AppState,
    user: &StoredUser,
    credentials: &Credentials,
    factor: SecondFactor<'_>,
) -> Result<SignedIn, ApiError> {
    let SecondFactor {
        keys,
        reserved,
        recovery,
        read_at,
    } = factor;
    // A recovery code that matched none of the person's codes fails here, as a wrong
    // password does, before any transaction: the two take the same time.
    if credentials.totp_code.is_none() && credentials.recovery_code.is_some() && recovery.is_none()
    {
        return Err(throttle::fail(state, keys, Failure::WrongCode, reserved).await);
    }
    let now = state.clock.now();
    let mut tx = state
        .store
        .begin()
        .await
        .map_err(|e| internal("begin", &e))?;
    let Some(current) = reread(&mut tx, user, read_at).await? else {
        drop(tx);
        return Err(throttle::fail(state, keys, Failure::Changed, reserved).await);
    };
    let user = &current;
    let method = match (&credentials.totp_code, &credentials.recovery_code) {
        (Some(code), _) => login_factor::totp(&mut tx, user, code, now)
            .await?
            .then_some("otp"),
        (None, Some(_)) => login_factor::spend(&mut tx, user, recovery, now)
            .await?
            .then_some("mfa"),
        (None, None) => {
            drop(tx);
            return Err(throttle::fail(state, keys, Failure::MissingCode, reserved).await);
        }
    };
    let Some(method) = method else {
        drop(tx);
        return Err(throttle::fail(state, keys, Failure::WrongCode, reserved).await);
    };
    let signed_in = sessions::start(state, &mut tx, user, &["pwd", method]).await?;
    let jti = Some(signed_in.access.jti.as_str());
    record_success(state, &mut tx, keys, user, method, jti).await?;
    tx.commit().await.map_err(|e| internal("commit", &e))?;
    Ok(signed_in)
}

/// Hands out a restricted token, unless the user changed since it was first read.
async fn restricted(
    state: &AppState,
    user: &StoredUser,
    factor: SecondFactor<'_>,
) -> Result<SignedIn, ApiError> {
    let (keys, reserved) = (factor.keys, factor.reserved);
    let mut tx = state
        .store
        .begin()
        .await
        .map_err(|e| internal("begin", &e))?;
    let Some(current) = reread(&mut tx, user, factor.read_at).await? else {
        drop(tx);
        return Err(throttle::fail(state, keys, Failure::Changed, reserved).await);
    };
    let signed_in = sessions::restricted(state, &current)?;
    record_success(state, &mut tx, keys, &current, "pwd", None).await?;
    tx.commit().await.map_err(|e| internal("commit", &e))?;
    Ok(signed_in)
}

/// `checked`, first read at `read_at`, as it is now inside `tx`; `None` unless it is
/// still enabled, with the same password and second factor, and not cut off since.
async fn reread(
    tx: &mut WriteTx<'_>,
    checked: &StoredUser,
    read_at: DateTime<Utc>,
) -> Result<Option<StoredUser>, ApiError> {
    let failed = |e| internal("sign-in recheck", &e);
    let current = tx.user(&checked.id).await.map_err(failed)?;
    let revoked_at = tx.subject_revoked_at(&checked.id).await.map_err(failed)?;
    let seed = |u: &StoredUser| u.mfa_secret.as_ref().map(|s| s.expose_secret().to_owned());
    // Compared in whole milliseconds, the unit revocations are kept in: a tie refuses.
    let cut_off = revoked_at.is_some_and(|at| at.timestamp_millis() >= read_at.timestamp_millis());
    Ok(current.filter(|now| {
        !cut_off
            && !now.disabled
            && now.password_hash == checked.password_hash
            && seed(now) == seed(checked)
    }))
}

/// Clears the user's own failures, gives back this attempt's reservation against
/// the address, and audits the sign-in.
async fn record_success(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    keys: &Keys,
    user: &StoredUser,
    method: &str,
    jti: Option<&str>,
) -> Result<(), ApiError> {
    let failed = |e| internal("login success", &e);
    throttle::give_back(state, tx, keys).await.map_err(failed)?;
    let details = json!({
        "second_factor": method != "pwd",
        "method": method,
        "restricted": jti.is_none(),
        "jti": jti,
    });
    let event = audit::event(
        &user.id,
        act::LOGIN_SUCCEEDED,
        &target(user),
        Outcome::Success,
    );
    tx.append(audit::stamp(event.details(details)))
        .await
        .map_err(failed)?;
    Ok(())
}
