//! Sign-in: username, password and a second factor, with throttling and lockout.
//!
//! An unknown username costs the same argon2id verification as a known one
//! and gets the same answer; it is counted (and audited) under a hash of the
//! name, never the name typed. Each failure is counted against the user and
//! the source address, adds a growing delay, and past the configured count
//! locks both for a while; every failure and lockout is an audit event. A
//! TOTP step or a recovery code is accepted once, checked and spent in one
//! write transaction.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use rampart_audit::Outcome;
use rampart_auth::TotpSecret;
use rampart_auth::password::{verify_dummy_password, verify_password};
use rampart_auth::recovery::verify_recovery_code;
use rampart_store::{LoginFailures, StoredUser, ThrottleScope, WriteTx};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::problem::ApiError;
use crate::service::audit::{self, ANONYMOUS};
use crate::service::identity_action as act;
use crate::service::internal;
use crate::service::sessions::{self, SignedIn};
use crate::state::AppState;

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

/// Why a sign-in failed, as recorded (the answer is the same for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    UnknownUser,
    WrongPassword,
    Disabled,
    MissingCode,
    WrongCode,
}

impl Failure {
    fn as_str(self) -> &'static str {
        match self {
            Self::UnknownUser => "unknown_user",
            Self::WrongPassword => "wrong_password", // pragma: allowlist secret
            Self::Disabled => "disabled_user",
            Self::MissingCode => "missing_code",
            Self::WrongCode => "wrong_code",
        }
    }
}

/// The keys failures are counted under: the user (or a hashed unknown name) and the address.
struct Keys {
    user: String,
    address: String,
    actor: String,
}

/// Signs a person in from `address`.
pub async fn login(
    state: &AppState,
    credentials: Credentials,
    address: &str,
) -> Result<SignedIn, ApiError> {
    let now = state.clock.now();
    let found = state
        .store
        .user_named(&credentials.username)
        .await
        .map_err(|e| internal("user lookup", &e))?;
    let keys = keys_of(found.as_ref(), &credentials.username, address);
    if locked(state, &keys, now).await? {
        return Err(refuse_locked(state, &keys).await);
    }

    let password_ok = check_password(found.as_ref(), &credentials.password).await;
    let user = match (found, password_ok) {
        (None, _) => return Err(fail(state, &keys, Failure::UnknownUser).await),
        (Some(_), false) => return Err(fail(state, &keys, Failure::WrongPassword).await),
        (Some(user), true) if user.disabled => {
            return Err(fail(state, &keys, Failure::Disabled).await);
        }
        (Some(user), true) => user,
    };
    if !user.has_mfa() || user.must_change_password {
        let signed_in = sessions::restricted(state, &user)?;
        succeed(state, &keys, &user, "pwd", None).await?;
        return Ok(signed_in);
    }
    second_factor(state, &keys, &user, &credentials).await
}

/// Checks the TOTP or recovery code and starts the session, all in one transaction.
async fn second_factor(
    state: &AppState,
    keys: &Keys,
    user: &StoredUser,
    credentials: &Credentials,
) -> Result<SignedIn, ApiError> {
    let now = state.clock.now();
    let mut tx = state
        .store
        .begin()
        .await
        .map_err(|e| internal("begin", &e))?;
    let method = match (&credentials.totp_code, &credentials.recovery_code) {
        (Some(code), _) => totp(&mut tx, user, code, now).await?.then_some("otp"),
        (None, Some(code)) => recovery(&mut tx, user, code, now).await?.then_some("mfa"),
        (None, None) => {
            drop(tx);
            return Err(fail(state, keys, Failure::MissingCode).await);
        }
    };
    let Some(method) = method else {
        drop(tx);
        return Err(fail(state, keys, Failure::WrongCode).await);
    };
    let signed_in = sessions::start(state, &mut tx, user, &["pwd", method]).await?;
    record_success(&mut tx, keys, user, method, Some(&signed_in)).await?;
    tx.commit().await.map_err(|e| internal("commit", &e))?;
    Ok(signed_in)
}

async fn totp(
    tx: &mut WriteTx<'_>,
    user: &StoredUser,
    code: &SecretString,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let Some(seed) = &user.mfa_secret else {
        return Ok(false);
    };
    let secret = TotpSecret::from_base32(seed).map_err(|e| internal("totp seed", &e))?;
    let now_unix = u64::try_from(now.timestamp()).unwrap_or_default();
    let Some(step) = secret.verify(code.expose_secret(), now_unix, user.mfa_last_step) else {
        return Ok(false);
    };
    tx.use_totp_step(&user.id, step)
        .await
        .map_err(|e| internal("totp step", &e))
}

async fn recovery(
    tx: &mut WriteTx<'_>,
    user: &StoredUser,
    code: &SecretString,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let stored = tx
        .recovery_codes(&user.id)
        .await
        .map_err(|e| internal("recovery codes", &e))?;
    let unused: Vec<_> = stored.into_iter().filter(|c| !c.used).collect();
    let hashes: Vec<String> = unused.iter().map(|c| c.code_hash.clone()).collect();
    let code = code.clone();
    let matched = tokio::task::spawn_blocking(move || verify_recovery_code(&hashes, &code))
        .await
        .map_err(|e| internal("recovery check", &e))?;
    let Some(position) = matched
        .and_then(|index| unused.get(index))
        .map(|c| c.position)
    else {
        return Ok(false);
    };
    let spent = tx
        .use_recovery_code(&user.id, position, now)
        .await
        .map_err(|e| internal("recovery code", &e))?;
    if spent {
        let event = audit::event(
            &user.id,
            act::RECOVERY_CODE_USED,
            &target(user),
            Outcome::Success,
        )
        .details(json!({ "position": position, "remaining": unused.len() - 1 }));
        tx.append(audit::stamp(event))
            .await
            .map_err(|e| internal("recovery event", &e))?;
    }
    Ok(spent)
}

/// One argon2id verification whether or not the user exists.
async fn check_password(user: Option<&StoredUser>, password: &SecretString) -> bool {
    let hash = user.map(|u| u.password_hash.clone());
    let password = password.clone();
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&hash, &password),
        None => {
            verify_dummy_password(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

async fn locked(state: &AppState, keys: &Keys, now: DateTime<Utc>) -> Result<bool, ApiError> {
    let store = &state.store;
    let user = store.login_failures(ThrottleScope::User, &keys.user).await;
    let address = store
        .login_failures(ThrottleScope::Address, &keys.address)
        .await;
    let failed = |e| internal("login failures", &e);
    Ok(user.map_err(failed)?.is_locked(now) || address.map_err(failed)?.is_locked(now))
}

/// Counts a failure against both keys, audits it (and a lockout), then waits a growing delay.
async fn fail(state: &AppState, keys: &Keys, failure: Failure) -> ApiError {
    let now = state.clock.now();
    let settings = &state.auth.login;
    let lock_until = now + Duration::seconds(crate::clock::signed(settings.lockout_seconds));
    let lock = |count: u32| (count >= settings.max_failures).then_some(lock_until);
    let counted = async {
        let mut tx = state.store.begin().await?;
        let user = tx
            .record_login_failure(ThrottleScope::User, &keys.user, now, lock)
            .await?;
        let address = tx
            .record_login_failure(ThrottleScope::Address, &keys.address, now, lock)
            .await?;
        append_failure(&mut tx, keys, failure, &user, &address).await?;
        tx.commit().await?;
        Ok::<_, rampart_store::StoreError>(user.failures.max(address.failures))
    };
    match counted.await {
        Ok(failures) => tokio::time::sleep(delay(state, failures)).await,
        Err(error) => return internal("login failure", &error),
    }
    tracing::info!(reason = failure.as_str(), "sign-in failed");
    ApiError::LoginFailed
}

async fn append_failure(
    tx: &mut WriteTx<'_>,
    keys: &Keys,
    failure: Failure,
    user: &LoginFailures,
    address: &LoginFailures,
) -> Result<(), rampart_store::StoreError> {
    let details = json!({
        "reason": failure.as_str(),
        "failures": user.failures,
        "address_failures": address.failures,
    });
    let event = audit::event(&keys.actor, act::LOGIN_FAILED, "gateway", Outcome::Denied);
    tx.append(audit::stamp(event.details(details))).await?;
    let now_locked = [user, address].iter().any(|f| f.locked_until.is_some());
    if now_locked {
        let details = json!({
            "user_locked_until": user.locked_until.as_ref().map(rampart_audit::time::format),
            "address_locked_until": address.locked_until.as_ref().map(rampart_audit::time::format),
        });
        let event = audit::event(&keys.actor, act::LOGIN_LOCKED, "gateway", Outcome::Denied);
        tx.append(audit::stamp(event.details(details))).await?;
    }
    Ok(())
}

async fn refuse_locked(state: &AppState, keys: &Keys) -> ApiError {
    let event = audit::event(&keys.actor, act::LOGIN_FAILED, "gateway", Outcome::Denied)
        .details(json!({ "reason": "locked" }));
    audit::append_or_log(&state.store, event).await;
    ApiError::LockedOut
}

async fn succeed(
    state: &AppState,
    keys: &Keys,
    user: &StoredUser,
    method: &str,
    signed_in: Option<&SignedIn>,
) -> Result<(), ApiError> {
    let mut tx = state
        .store
        .begin()
        .await
        .map_err(|e| internal("begin", &e))?;
    record_success(&mut tx, keys, user, method, signed_in).await?;
    tx.commit().await.map_err(|e| internal("commit", &e))
}

async fn record_success(
    tx: &mut WriteTx<'_>,
    keys: &Keys,
    user: &StoredUser,
    method: &str,
    signed_in: Option<&SignedIn>,
) -> Result<(), ApiError> {
    let failed = |e| internal("login success", &e);
    tx.clear_login_failures(ThrottleScope::User, &keys.user)
        .await
        .map_err(failed)?;
    tx.clear_login_failures(ThrottleScope::Address, &keys.address)
        .await
        .map_err(failed)?;
    let details = json!({
        "second_factor": method != "pwd",
        "method": method,
        "restricted": signed_in.is_none(),
        "jti": signed_in.map(|s| s.access.jti.clone()),
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

fn keys_of(user: Option<&StoredUser>, username: &str, address: &str) -> Keys {
    match user {
        Some(user) => Keys {
            user: user.id.clone(),
            address: address.to_owned(),
            actor: user.id.clone(),
        },
        None => Keys {
            user: format!("name:{}", hex_sha256(username)),
            address: address.to_owned(),
            actor: ANONYMOUS.to_owned(),
        },
    }
}

/// The growing delay after the `failures`-th failure: base × 2^(n-1), capped.
fn delay(state: &AppState, failures: u32) -> StdDuration {
    let settings = &state.auth.login;
    let factor = 1u64 << failures.saturating_sub(1).min(16);
    StdDuration::from_millis(
        settings
            .delay_base_ms
            .saturating_mul(factor)
            .min(settings.delay_max_ms),
    )
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn target(user: &StoredUser) -> String {
    format!("user:{}", user.id)
}
