//! Approvals that lapse undecided are marked `expired` by a background task.
//!
//! The task reads the gateway's clock (`state.clock`), so a test that moves
//! the clock forward sees proposals expire at the next run without waiting
//! for real hours. Each run marks every lapsed approval in one write
//! transaction, with one `approval.expired` event per approval in that same
//! transaction. Reading approvals never writes; a decision on a lapsed
//! approval records its expiry first, should the task not have run yet.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rampart_audit::Outcome;
use rampart_store::StoreError;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::init::SYSTEM_ACTOR;
use crate::service::{audit, role_grant};
use crate::state::AppState;

/// Audit action: a proposal lapsed undecided.
pub const APPROVAL_EXPIRED: &str = "approval.expired";

/// Marks every lapsed proposal expired, each with its `approval.expired` event.
pub async fn sweep_expired(state: &AppState, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut tx = state.store.begin().await?;
    let lapsed = tx.expire_approvals(now).await?;
    if lapsed.is_empty() {
        return tx.rollback().await.map(|()| 0);
    }
    for approval in &lapsed {
        let details = json!({
            "approval_id": approval.id,
            "kind": approval.kind,
            "target": approval.target,
            "proposed_by": approval.proposed_by,
            "expires_at": rampart_audit::time::format(&approval.expires_at),
            "payload": role_grant::audited_payload(&approval.kind, &approval.payload),
        });
        let event = audit::event(
            SYSTEM_ACTOR,
            APPROVAL_EXPIRED,
            &format!("approval:{}", approval.id),
            Outcome::Success,
        );
        tx.append(audit::stamp(event.details(details))).await?;
    }
    tx.commit().await?;
    Ok(lapsed.len())
}

/// Sweeps at once, then every `every`, until `shutdown` fires.
pub async fn run(state: AppState, every: Duration, shutdown: CancellationToken) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => sweep_once(&state).await,
        }
    }
}

async fn sweep_once(state: &AppState) {
    let scope = crate::request_id::scope(crate::request_id::generate(), async {
        sweep_expired(state, state.clock.now()).await
    });
    match scope.await {
        Ok(0) => {}
        Ok(expired) => tracing::info!(
            expired,
            action = APPROVAL_EXPIRED,
            "lapsed approvals marked expired"
        ),
        Err(error) => tracing::warn!(%error, "lapsed approvals could not be marked expired"),
    }
}
