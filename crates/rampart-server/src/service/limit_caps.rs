//! At start, every account whose limits in force exceed a firm-wide cap is reported.
//!
//! Caps bind proposals and new accounts; limits approved before a cap was
//! lowered stay in force, since only the four-eyes process may change them.
//! The gateway still starts, but each limit above its cap leaves a warning
//! log line and a `risk_limits.in_force_above_cap` audit event naming the account, the
//! field, the value and the cap, all events in one write transaction.

use rampart_audit::Outcome;
use rampart_core::{AccountId, CapBreach};
use rampart_store::StoreError;
use serde_json::json;

use crate::init::SYSTEM_ACTOR;
use crate::service::audit;
use crate::service::risk_limits::account_target;
use crate::state::AppState;

/// Audit action: limits in force on an account exceed a firm-wide cap.
pub const RISK_LIMITS_IN_FORCE_ABOVE_CAP: &str = "risk_limits.in_force_above_cap";

/// Reports every limit in force above its cap; returns how many were found.
pub async fn report_above_caps(state: &AppState) -> Result<usize, StoreError> {
    let mut found: Vec<(AccountId, CapBreach)> = Vec::new();
    for account in state.store.accounts().await? {
        let breaches = state.risk.caps.breaches(&account.limits);
        found.extend(breaches.into_iter().map(|b| (account.id.clone(), b)));
    }
    if found.is_empty() {
        return Ok(0);
    }

    let mut tx = state.store.begin().await?;
    for (account, breach) in &found {
        let version = tx.limits_version(account).await?;
        let event = audit::event(
            SYSTEM_ACTOR,
            RISK_LIMITS_IN_FORCE_ABOVE_CAP,
            &account_target(account),
            Outcome::Success,
        )
        .details(json!({
            "account_id": account,
            "limits_version": version,
            "field": breach.field,
            "value": breach.value,
            "cap": breach.cap,
        }));
        tx.append(event).await?;
    }
    tx.commit().await?;

    for (account, breach) in &found {
        tracing::warn!(
            account_id = %account,
            field = breach.field,
            value = %breach.value,
            cap = %breach.cap,
            action = RISK_LIMITS_IN_FORCE_ABOVE_CAP,
            "risk limits in force exceed a firm-wide cap"
        );
    }
    Ok(found.len())
}
