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
//!
//! The count lives in memory, so at start [`seed`] refills it from the fills
//! booked within the window (their `order.filled` events): a restart neither
//! empties the window nor forgets a trip the guard had already made. A trip
//! whose client was already stopped engages nothing, so it is recorded as an
//! [`EXECUTION_GUARD_TRIPPED`] event instead, with the trip's time in
//! `tripped_at`; seeding leaves out every fill booked no later than that, so
//! the fills of that trip are not counted a second time.

use chrono::{DateTime, TimeDelta, Utc};
use rampart_audit::Outcome;
use rampart_core::{KillSwitchScope, Order, PlacedByKind};
use rampart_store::StoreError;
use rampart_trading::execution_guard::Trip;
use serde_json::json;

use crate::init::SYSTEM_ACTOR;
use crate::problem::ApiError;
use crate::service::audit;
use crate::service::killswitch_engage::{self, EngageRequest};
use crate::state::AppState;

/// Audit action: the guard tripped for a client whose kill switch was already engaged.
pub const EXECUTION_GUARD_TRIPPED: &str = "execution_guard.tripped";

/// Counts the fill of `order` that was just recorded; a trip engages the kill switch.
pub fn observe(state: &AppState, order: &Order) {
    if order.placed_by_kind != PlacedByKind::Client {
        return;
    }
    let algorithm = order.algo_id.as_deref().unwrap_or(&order.placed_by);
    let now = state.clock.now();
    let Some(trip) = state.execution_guard.record(&order.placed_by, now) else {
        return;
    };
    let request = request_of(state, &order.placed_by, algorithm, trip, now);
    let state = state.clone();
    tokio::spawn(async move { switch_off(&state, request).await });
}

/// Counts the fills of client orders booked within the window before this start.
///
/// Fills counted before a trip of the guard are left out, as the trip started
/// the window afresh. Should the seeded fills reach the threshold (the gateway
/// stopped between a trip and its engagement), the client is switched off now.
pub async fn seed(state: &AppState) -> Result<usize, StoreError> {
    let window = i64::from(state.execution_guard.limits().window_seconds);
    let since = state.clock.now() - TimeDelta::seconds(window);
    let fills = state
        .store
        .client_fills_since(since, SYSTEM_ACTOR, EXECUTION_GUARD_TRIPPED)
        .await?;
    for fill in &fills {
        let guard = &state.execution_guard;
        if let Some(trip) = guard.record(&fill.client_id, fill.booked_at) {
            let client = &fill.client_id;
            let request = request_of(state, client, client, trip, fill.booked_at);
            let state = state.clone();
            tokio::spawn(async move { switch_off(&state, request).await });
        }
    }
    Ok(fills.len())
}

/// The engagement of the client behind an algorithm that tripped at `tripped_at`.
fn request_of(
    state: &AppState,
    client: &str,
    algorithm: &str,
    trip: Trip,
    tripped_at: DateTime<Utc>,
) -> EngageRequest {
    EngageRequest {
        scope: KillSwitchScope::Client(client.to_owned()),
        reason: format!(
            "repeated executions: {} fills in {} s",
            trip.fills, trip.window_seconds
        ),
        actor: SYSTEM_ACTOR.to_owned(),
        policy_version: None,
        details: json!({
            "guard": "repeated_executions",
            "algo_id": algorithm,
            "client_id": client,
            "fills": trip.fills,
            "window_seconds": trip.window_seconds,
            "max_fills": state.execution_guard.limits().max_fills,
            "tripped_at": rampart_audit::time::format(&tripped_at),
        }),
        now: state.clock.now(),
    }
}

async fn switch_off(state: &AppState, request: EngageRequest) {
    let client = request.scope.to_string();
    match killswitch_engage::engage(state, request.clone()).await {
        Ok(engaged) => tracing::warn!(
            scope = %client,
            cancelled = engaged.cancelled.len(),
            action = rampart_audit::action::KILLSWITCH_ENGAGED,
            "repeated-execution guard switched an algorithm off"
        ),
        // Already switched off, by a person or an earlier trip: nothing more to stop, but
        // the trip is recorded so that a restart does not count its fills again.
        Err(ApiError::KillSwitchEngaged) => record_trip(state, request).await,
        // Nothing is recorded: the fills count again at the next start, which tries again.
        Err(error) => tracing::error!(%error, scope = %client, "guard engagement failed"),
    }
}

/// Records a trip that engaged nothing, as `system`, in its own transaction.
async fn record_trip(state: &AppState, request: EngageRequest) {
    let target = request.scope.to_string();
    let mut details = request.details;
    if let Some(facts) = details.as_object_mut() {
        facts.insert("already_engaged".to_owned(), true.into());
    }
    let append = async {
        let event = audit::event(
            SYSTEM_ACTOR,
            EXECUTION_GUARD_TRIPPED,
            &target,
            Outcome::Success,
        );
        audit::append(&state.store, event.details(details)).await
    };
    match crate::request_id::scope(crate::request_id::generate(), append).await {
        Ok(()) => tracing::info!(
            scope = %target,
            action = EXECUTION_GUARD_TRIPPED,
            "repeated-execution guard tripped for an algorithm already switched off"
        ),
        Err(error) => tracing::error!(%error, scope = %target, "guard trip not recorded"),
    }
}
