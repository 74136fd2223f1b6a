//! The second step of a sign-in: a TOTP step or a recovery code, spent once.
//!
//! Rule upheld: a second factor works once. A TOTP step newer than the last
//! one used, or a recovery code that matched, is spent inside the transaction
//! that starts the session, so two sign-ins can never share one; a spent
//! recovery code is an audit event naming its position, never its value.

use chrono::{DateTime, Utc};
use rampart_audit::Outcome;
use rampart_auth::TotpSecret;
use rampart_store::{StoredUser, WriteTx};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::login_timing::RecoveryMatch;
use crate::problem::ApiError;
use crate::service::audit;
use crate::service::identity_action as act;
use crate::service::internal;

/// Whether `code` is a TOTP code of `user` for a step not used yet; spends that step in `tx`.
pub(super) async fn totp(
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

/// Spends the matched recovery code inside `tx`; false if none matched or it was spent.
pub(super) async fn spend(
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

/// The audit target naming `user`.
pub(super) fn target(user: &StoredUser) -> String {
    format!("user:{}", user.id)
}
