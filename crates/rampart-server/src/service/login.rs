//! Sign-in: username, password and a second factor, with throttling and lockout.
//!
//! An unknown username costs the same argon2id verification as a known one
//! and gets the same answer; it is counted (and audited) under a hash of the
//! name, never the name typed. A recovery code costs the same fixed number of
//! verifications whether the password was right, wrong, or the user unknown.
//! No argon2id runs while the write transaction is held.
//!
//! Each attempt is counted as a failure against the user and the source
//! address BEFORE the password is checked, in one write transaction that also
//! checks the lockout, so parallel attempts can never pass the limit; a
//! success gives back only its own reservation (and clears the user's own
//! count), never the failures other names left against the address. Past the
//! configured count both are locked for a while (failures older than that
//! period are forgotten); every failure and lockout is
//! an audit event, and each failure adds a growing delay. A TOTP step or a
//! recovery code is spent once, in the transaction that starts the session.
//! That transaction reads the user again and refuses the sign-in if the user was
//! disabled, given a new password or second factor, or cut off since the first read.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use rampart_audit::Outcome;
use rampart_auth::TotpSecret;
use rampart_auth::password::{verify_dummy_password, verify_password};
use rampart_auth::recovery::{DEFAULT_CODES, verify_recovery_code_in_slots};
use rampart_store::{LoginFailures, StoreError, StoredUser, ThrottleScope, WriteTx};
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
    Changed,
}

impl Failure {
    fn as_str(self) -> &'static str {
        match self {
            Self::UnknownUser => "unknown_user",
            Self::WrongPassword => "wrong_password", // pragma: allowlist secret
            Self::Disabled => "disabled_user",
            Self::MissingCode => "missing_code",
            Self::WrongCode => "wrong_code",
            Self::Changed => "changed_during_sign_in",
        }
    }
}

/// The keys failures are counted under: the user (or a hashed unknown name) and the address.
struct Keys {
    user: String,
    address: String,
    actor: String,
}

/// The failures an attempt reserved before its password was checked.
struct Reserved {
    user: LoginFailures,
    address: LoginFailures,
}

/// A recovery code that matched one of the user's unused codes.
struct RecoveryMatch {
    position: u32,
    remaining: usize,
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
    let keys = keys_of(found.as_ref(), &credentials.username, address);
    let Some(reserved) = reserve(state, &keys).await? else {
        return Err(refuse_locked(state, &keys).await);
    };

    // Both checks run whatever the outcome, outside any transaction.
    let password_ok = check_password(found.as_ref(), &credentials.password).await;
    let recovery = match &credentials.recovery_code {
        Some(code) => check_recovery(state, found.as_ref(), code).await?,
        None => None,
    };
    let user = match (found, password_ok) {
        (None, _) => return Err(fail(state, &keys, Failure::UnknownUser, &reserved).await),
        (Some(_), false) => {
            return Err(fail(state, &keys, Failure::WrongPassword, &reserved).await);
        }
        (Some(user), true) if user.disabled => {
            return Err(fail(state, &keys, Failure::Disabled, &reserved).await);
        }
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

/// A password check by a signed-in person (changing their password), counted
/// against their lockout and their address before it runs, exactly as at sign-in.
pub struct PasswordAttempt {
    keys: Keys,
    reserved: Reserved,
}

/// Reserves a failure for `user` checking their password from `address`; refused while locked.
pub async fn begin_password_check(
    state: &AppState,
    user: &StoredUser,
    address: &str,
) -> Result<PasswordAttempt, ApiError> {
    let keys = keys_of(Some(user), &user.username, address);
    match reserve(state, &keys).await? {
        Some(reserved) => Ok(PasswordAttempt { keys, reserved }),
        None => Err(refuse_locked(state, &keys).await),
    }
}

/// Records that the password checked was wrong (audited, delayed like a sign-in).
pub async fn password_check_failed(state: &AppState, attempt: &PasswordAttempt) {
    fail(
        state,
        &attempt.keys,
        Failure::WrongPassword,
        &attempt.reserved,
    )
    .await;
}

/// Gives back the reservation of a password check that passed, inside `tx`.
pub async fn password_check_passed(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    attempt: &PasswordAttempt,
) -> Result<(), StoreError> {
    let keys = &attempt.keys;
    tx.clear_login_failures(ThrottleScope::User, &keys.user)
        .await?;
    let max_failures = state.auth.login.max_failures;
    tx.undo_login_failure(ThrottleScope::Address, &keys.address, max_failures)
        .await
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
    let now = state.clock.now();
    let mut tx = state
        .store
        .begin()
        .await
        .map_err(|e| internal("begin", &e))?;
    let Some(current) = reread(&mut tx, user, read_at).await? else {
        drop(tx);
        return Err(fail(state, keys, Failure::Changed, reserved).await);
    };
    let user = &current;
    let method = match (&credentials.totp_code, &credentials.recovery_code) {
        (Some(code), _) => totp(&mut tx, user, code, now).await?.then_some("otp"),
        (None, Some(_)) => spend(&mut tx, user, recovery, now).await?.then_some("mfa"),
        (None, None) => {
            drop(tx);
            return Err(fail(state, keys, Failure::MissingCode, reserved).await);
        }
    };
    let Some(method) = method else {
        drop(tx);
        return Err(fail(state, keys, Failure::WrongCode, reserved).await);
    };
    let signed_in = sessions::start(state, &mut tx, user, &["pwd", method]).await?;
    let jti = Some(signed_in.access.jti.as_str());
    record_success(state, &mut tx, keys, user, method, jti).await?;
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

/// Which unused recovery code of `user` matches `code`, at a fixed cost.
///
/// Every unused code is checked, padded with dummy checks up to the codes a
/// user gets, so an unknown user, a wrong password and a right one cost the same.
async fn check_recovery(
    state: &AppState,
    user: Option<&StoredUser>,
    code: &SecretString,
) -> Result<Option<RecoveryMatch>, ApiError> {
    let stored = match user {
        Some(user) => state
            .store
            .recovery_codes(&user.id)
            .await
            .map_err(|e| internal("recovery codes", &e))?,
        None => Vec::new(),
    };
    let slots = stored.len().max(DEFAULT_CODES);
    let unused: Vec<_> = stored.into_iter().filter(|c| !c.used).collect();
    let hashes: Vec<String> = unused.iter().map(|c| c.code_hash.clone()).collect();
    let code = code.clone();
    let matched =
        tokio::task::spawn_blocking(move || verify_recovery_code_in_slots(&hashes, &code, slots))
            .await
            .map_err(|e| internal("recovery check", &e))?;
    Ok(matched
        .and_then(|index| unused.get(index))
        .map(|c| RecoveryMatch {
            position: c.position,
            remaining: unused.len().saturating_sub(1),
        }))
}

/// Spends the matched recovery code inside `tx`; false if none matched or it was spent.
async fn spend(
    tx: &mut WriteTx<'_>,
    user: &StoredUser,
    matched: Option<RecoveryMatch>,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let Some(RecoveryMatch {
        position,
        remaining,
    }) = matched
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
        .details(json!({ "position": position, "remaining": remaining }));
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

/// Counts this attempt as a failure against both keys, unless either is locked
/// (`None`), in one write transaction: parallel attempts cannot all pass the check.
async fn reserve(state: &AppState, keys: &Keys) -> Result<Option<Reserved>, ApiError> {
    let now = state.clock.now();
    let settings = &state.auth.login;
    let lock_until = now + Duration::seconds(crate::clock::signed(settings.lockout_seconds));
    let lock = |count: u32| (count >= settings.max_failures).then_some(lock_until);
    let reserved = async {
        let mut tx = state.store.begin().await?;
        let user = tx.login_failures(ThrottleScope::User, &keys.user).await?;
        let address = tx
            .login_failures(ThrottleScope::Address, &keys.address)
            .await?;
        if user.is_locked(now) || address.is_locked(now) {
            return Ok(None);
        }
        // Failures older than one lockout period are forgotten, so that the
        // occasional typo of many people behind one address never adds up to a lock.
        let window = lock_until - now;
        for (scope, key, counted) in [
            (ThrottleScope::User, &keys.user, &user),
            (ThrottleScope::Address, &keys.address, &address),
        ] {
            if counted.last_failure_at.is_some_and(|at| at + window <= now) {
                tx.clear_login_failures(scope, key).await?;
            }
        }
        let user = tx
            .record_login_failure(ThrottleScope::User, &keys.user, now, lock)
            .await?;
        let address = tx
            .record_login_failure(ThrottleScope::Address, &keys.address, now, lock)
            .await?;
        tx.commit().await?;
        Ok::<_, StoreError>(Some(Reserved { user, address }))
    };
    reserved.await.map_err(|e| internal("login failures", &e))
}

/// Audits the failure already counted (and a lockout it caused), then waits a growing delay.
async fn fail(state: &AppState, keys: &Keys, failure: Failure, reserved: &Reserved) -> ApiError {
    let recorded = async {
        let mut tx = state.store.begin().await?;
        append_failure(&mut tx, keys, failure, &reserved.user, &reserved.address).await?;
        tx.commit().await
    };
    if let Err(error) = recorded.await {
        return internal("login failure", &error);
    }
    let failures = reserved.user.failures.max(reserved.address.failures);
    tokio::time::sleep(delay(state, failures)).await;
    tracing::info!(reason = failure.as_str(), "sign-in failed");
    ApiError::LoginFailed
}

async fn append_failure(
    tx: &mut WriteTx<'_>,
    keys: &Keys,
    failure: Failure,
    user: &LoginFailures,
    address: &LoginFailures,
) -> Result<(), StoreError> {
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
        return Err(fail(state, keys, Failure::Changed, reserved).await);
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
    tx.clear_login_failures(ThrottleScope::User, &keys.user)
        .await
        .map_err(failed)?;
    let max_failures = state.auth.login.max_failures;
    tx.undo_login_failure(ThrottleScope::Address, &keys.address, max_failures)
        .await
        .map_err(failed)?;
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
