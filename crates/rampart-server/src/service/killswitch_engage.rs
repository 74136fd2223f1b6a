//! Engaging the kill switch in one step: stop new orders in scope, then
//! withdraw every open order in scope at the broker (MiFID II RTS 6, Article 12).
//!
//! The order gate is taken exclusively while the engagement is written, so no
//! order being decided can slip past it; the engagement and its audit event
//! commit together; the sweep of the book runs under a shared gate so that
//! shutdown waits for it. Both the HTTP route and the repeated-execution guard
//! engage through here, so there is one engagement path. A `trader:` scope
//! reaches the person's own orders and those of every API client they own.

use chrono::{DateTime, Utc};
use rampart_audit::{Outcome, action};
use rampart_core::{Order, OrderId, PlacedByKind};
use rampart_trading::killswitch::KillSwitchError;
use rampart_trading::{Engagement, KillSwitchScope, OrderContext};
use serde_json::{Value, json};

use crate::problem::ApiError;
use crate::service::fills::record_cancel;
use crate::service::killswitch::record_of;
use crate::service::{audit, internal};
use crate::state::AppState;

/// What to engage, by whom and under which policy decision.
#[derive(Debug, Clone)]
pub struct EngageRequest {
    /// What the engagement stops.
    pub scope: KillSwitchScope,
    /// Why, in words.
    pub reason: String,
    /// The opaque id of the person, client or `system` engaging it.
    pub actor: String,
    /// The version of the policies that allowed it, if a person asked.
    pub policy_version: Option<String>,
    /// Extra facts for the audit event, such as a guard's counts.
    pub details: Value,
    /// When it is engaged.
    pub now: DateTime<Utc>,
}

/// The engagement in force and the orders it withdrew.
#[derive(Debug, Clone)]
pub struct Engaged {
    /// The engagement.
    pub engagement: Engagement,
    /// The open orders in scope that were cancelled at the broker.
    pub cancelled: Vec<OrderId>,
}

/// The audit target of an engagement of `scope`: the account, instrument,
/// client or trader it names, or `gateway`.
pub fn target_of_scope(scope: &KillSwitchScope) -> String {
    match scope {
        KillSwitchScope::Global => "gateway".to_owned(),
        other => other.to_string(),
    }
}

/// Engages `request.scope` and cancels the open orders it covers.
pub async fn engage(state: &AppState, request: EngageRequest) -> Result<Engaged, ApiError> {
    let gate = state.order_gate.write().await;
    let persisted = persist(state, &request).await;
    // New orders out of scope may flow again; shutdown still waits for the cancels.
    let reading = gate.downgrade();
    let engagement = persisted?;
    let cancelled = cancel_in_scope(state, &engagement, &request.actor).await?;
    drop(reading);
    Ok(Engaged {
        engagement,
        cancelled,
    })
}

/// Holds the engagement in memory and writes it with its audit event; undone on failure.
async fn persist(state: &AppState, request: &EngageRequest) -> Result<Engagement, ApiError> {
    let store = state.store.clone();
    let write = |engagement: Engagement| async move {
        let mut tx = store.begin().await?;
        tx.insert_kill_switch(&record_of(&engagement)).await?;
        tx.append(audit::stamp(engaged_event(request, &engagement)))
            .await?;
        tx.commit().await
    };
    let outcome = state
        .kill_switch
        .engage(
            request.scope.clone(),
            &request.reason,
            &request.actor,
            request.now,
            write,
        )
        .await;
    match outcome {
        Ok(Ok((engagement, ()))) => Ok(engagement),
        Ok(Err(error)) => Err(internal("killswitch.engaged event", &error)),
        Err(KillSwitchError::InvalidReason) => Err(ApiError::invalid(
            "reason",
            KillSwitchError::InvalidReason.to_string(),
        )),
        Err(KillSwitchError::AlreadyEngaged(_)) => Err(ApiError::KillSwitchEngaged),
        Err(error) => Err(internal("kill switch", &error)),
    }
}

/// The `killswitch.engaged` event: who, what, why, and the state before and after.
fn engaged_event(request: &EngageRequest, engagement: &Engagement) -> rampart_audit::NewEvent {
    let target = target_of_scope(&engagement.scope);
    let event = audit::event(
        &request.actor,
        action::KILLSWITCH_ENGAGED,
        &target,
        Outcome::Success,
    );
    let event = match &request.policy_version {
        Some(version) => event.policy(version.clone()),
        None => event,
    };
    event.details(json!({
        "engagement_id": engagement.id.to_string(),
        "scope": engagement.scope.kind(),
        "target": engagement.scope.target(),
        "account_id": engagement.scope.account(),
        "reason": engagement.reason,
        "engaged_by": engagement.engaged_by,
        "old": { "engaged": false },
        "new": { "engaged": true, "scope": engagement.scope.to_string() },
        "context": request.details,
    }))
}

/// Cancels every resting order the engagement covers; returns their ids.
async fn cancel_in_scope(
    state: &AppState,
    engagement: &Engagement,
    actor: &str,
) -> Result<Vec<OrderId>, ApiError> {
    let scope = engagement.scope.clone();
    let owned = owned_clients(state, &scope).await?;
    let covered = move |order: &Order| {
        let context = OrderContext::of(order);
        let of_owned = context.kind == PlacedByKind::Client && owned.contains(&order.placed_by);
        scope.covers(&context) || of_owned
    };
    let ids = state
        .broker()
        .cancel_where(&covered)
        .await
        .map_err(|e| internal("broker", &e))?;
    for id in &ids {
        let order = state
            .store
            .order(*id)
            .await
            .map_err(|e| internal("order", &e))?;
        let Some(order) = order else { continue };
        record_cancel(&state.store, order, actor, "kill_switch", state.clock.now())
            .await
            .map_err(|e| internal("order.cancelled event", &e))?;
    }
    Ok(ids)
}

/// The clients owned by the person a `trader:` scope names; none for any other scope.
///
/// Read once the engagement is in force: from then on the order path stops every new
/// order of an owned client (it reads the owner in the order's transaction), so every
/// open order of theirs is already on the book when the sweep runs.
async fn owned_clients(state: &AppState, scope: &KillSwitchScope) -> Result<Vec<String>, ApiError> {
    let KillSwitchScope::Trader(person) = scope else {
        return Ok(Vec::new());
    };
    state
        .store
        .clients_owned_by(person)
        .await
        .map_err(|e| internal("owned clients", &e))
}
