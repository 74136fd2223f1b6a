//! Sign-in throttling: failures counted per user and per source address, lockout, delay.
//!
//! Rule upheld: parallel attempts can never pass the limit. Each attempt is
//! counted as a failure against the user (or a hash of an unknown name, never
//! the name typed) and the source address BEFORE its password is checked, in
//! one write transaction that also checks the lockout; a success gives back
//! only its own reservation (and clears the user's own count), never the
//! failures other names left against the address. Past the configured count
//! both are locked for a while (failures older than that period are
//! forgotten); every failure and lockout is an audit event, and each failure
//! adds a growing delay. A password check by a signed-in person (changing
//! their password) is counted exactly like a sign-in.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration as StdDuration;

use chrono::Duration;
use rampart_audit::Outcome;
use rampart_store::{LoginFailures, StoreError, StoredUser, ThrottleScope, WriteTx};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::problem::ApiError;
use crate::service::audit::{self, ANONYMOUS};
use crate::service::identity_action as act;
use crate::service::internal;
use crate::state::AppState;

/// Why a sign-in failed, as recorded (the answer is the same for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
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
pub(super) struct Keys {
    user: String,
    address: String,
    actor: String,
}

/// The failures an attempt reserved before its password was checked.
pub(super) struct Reserved {
    user: LoginFailures,
    address: LoginFailures,
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
    give_back(state, tx, &attempt.keys).await
}

/// Clears the user's own failures and gives back this attempt's reservation
/// against the address, inside `tx`.
pub(super) async fn give_back(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    keys: &Keys,
) -> Result<(), StoreError> {
    tx.clear_login_failures(ThrottleScope::User, &keys.user)
        .await?;
    let max_failures = state.auth.login.max_failures;
    tx.undo_login_failure(ThrottleScope::Address, &keys.address, max_failures)
        .await
}

/// Counts this attempt as a failure against both keys, unless either is locked
/// (`None`), in one write transaction: parallel attempts cannot all pass the check.
pub(super) async fn reserve(state: &AppState, keys: &Keys) -> Result<Option<Reserved>, ApiError> {
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
pub(super) async fn fail(
    state: &AppState,
    keys: &Keys,
    failure: Failure,
    reserved: &Reserved,
) -> ApiError {
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

/// Audits an attempt refused because its user or address is locked.
pub(super) async fn refuse_locked(state: &AppState, keys: &Keys) -> ApiError {
    let event = audit::event(&keys.actor, act::LOGIN_FAILED, "gateway", Outcome::Denied)
        .details(json!({ "reason": "locked" }));
    audit::append_or_log(&state.store, event).await;
    ApiError::LockedOut
}

/// The keys an attempt for `username` (found as `user`, or not) from `address` counts under.
pub(super) fn keys_of(user: Option<&StoredUser>, username: &str, address: &str) -> Keys {
    let address = address_key(address);
    let address = address.as_str();
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

/// Forgets, every lockout period until `shutdown`, the counts that can no longer lock
/// anyone (see [`WriteTx::purge_login_failures`]); a failed purge is logged and tried
/// again at the next period.
pub async fn run_purge(state: AppState, shutdown: tokio_util::sync::CancellationToken) {
    let seconds = state.auth.login.lockout_seconds;
    let mut interval = tokio::time::interval(StdDuration::from_secs(seconds));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let window = Duration::seconds(crate::clock::signed(seconds));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        let purged = async {
            let mut tx = state.store.begin().await?;
            let purged = tx.purge_login_failures(state.clock.now(), window).await?;
            tx.commit().await.map(|()| purged)
        };
        match purged.await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "expired sign-in failure counts forgotten"),
            Err(error) => tracing::warn!(%error, "sign-in failure counts could not be purged"),
        }
    }
}

/// What attempts from `address` count under: the address itself, or for IPv6 its /64
/// network, which one subscriber is routinely given whole (so that walking through
/// it does not escape the limit).
fn address_key(address: &str) -> String {
    match address.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V6(ip)) => {
            let network = Ipv6Addr::from(u128::from(ip) & !(u128::MAX >> 64));
            format!("{network}/64")
        }
        Ok(ip) => ip.to_string(),
        Err(_) => address.to_owned(),
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

#[cfg(test)]
mod tests {
    use super::address_key;

    #[test]
    fn ipv6_addresses_of_one_network_count_under_its_slash_64() {
        let one = address_key("2001:db8:1:2:aaaa::1");
        let other = address_key("2001:db8:1:2:ffff:ffff:ffff:ffff");
        assert_eq!(one, "2001:db8:1:2::/64");
        assert_eq!(one, other);
        assert_ne!(one, address_key("2001:db8:1:3::1"));
    }

    #[test]
    fn ipv4_addresses_count_alone_also_when_mapped_into_ipv6() {
        assert_eq!(address_key("192.0.2.7"), "192.0.2.7");
        assert_eq!(address_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_ne!(address_key("192.0.2.7"), address_key("192.0.2.8"));
    }
}
