//! The repeated-execution guard at work (MiFID II RTS 6, Article 15).
//!
//! Every recorded fill of an order placed by an API client is counted for that
//! client, whatever `algo_id` each order names: a client cannot spread its
//! fills over invented algorithm ids, and two clients naming the same id never
//! share a count (the ids a client names are in the audit details). When the
//! count within the configured window reaches `risk.execution_guard.max_fills`,
//! the kill switch is engaged for that client by actor `system`, which also
//! withdraws its open orders; a designated person (a risk manager) re-enables it with
//! `POST /v1/kill-switch/release`. The engagement runs in its own task: the
//! fill may be recorded while the order gate is held for the order's
//! submission, and the engagement needs that gate exclusively.

use rampart_core::{Order, PlacedByKind};
use rampart_trading::KillSwitchScope;
use rampart_trading::execution_guard::Trip;
use serde_json::json;

use crate::init::SYSTEM_ACTOR;
use crate::problem::ApiError;
use crate::service::killswitch_engage::{self, EngageRequest};
use crate::state::AppState;

/// Counts the fill of `order` that was just recorded; a trip engages the kill switch.
pub fn observe(state: &AppState, order: &Order) {
    if order.placed_by_kind != PlacedByKind::Client {
        return;
    }
    let algorithm = order.algo_id.as_deref().unwrap_or(&order.placed_by);
    let Some(trip) = state
        .execution_guard
        .record(&order.placed_by, state.clock.now())
    else {
        return;
    };
    let request = request_of(state, order, algorithm, trip);
    let state = state.clone();
    tokio::spawn(async move { switch_off(&state, request).await });
}

/// The engagement of the client behind a tripped algorithm.
fn request_of(state: &AppState, order: &Order, algorithm: &str, trip: Trip) -> EngageRequest {
    EngageRequest {
        scope: KillSwitchScope::Client(order.placed_by.clone()),
        reason: format!(
            "repeated executions: {} fills in {} s",
            trip.fills, trip.window_seconds
        ),
        actor: SYSTEM_ACTOR.to_owned(),
        policy_version: None,
        details: json!({
            "guard": "repeated_executions",
            "algo_id": algorithm,
            "client_id": order.placed_by,
            "fills": trip.fills,
            "window_seconds": trip.window_seconds,
            "max_fills": state.execution_guard.limits().max_fills,
        }),
        now: state.clock.now(),
    }
}

async fn switch_off(state: &AppState, request: EngageRequest) {
    let client = request.scope.to_string();
    match killswitch_engage::engage(state, request).await {
        Ok(engaged) => tracing::warn!(
            scope = %client,
            cancelled = engaged.cancelled.len(),
            action = rampart_audit::action::KILLSWITCH_ENGAGED,
            "repeated-execution guard switched an algorithm off"
        ),
        // Already switched off, by a person or an earlier trip: nothing more to stop.
        Err(ApiError::KillSwitchEngaged) => {}
        Err(error) => tracing::error!(%error, scope = %client, "guard engagement failed"),
    }
}
