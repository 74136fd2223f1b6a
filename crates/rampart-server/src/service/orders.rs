//! The order path: validate ▶ authorise ▶ one transaction of checks and record ▶ broker.
//!
//! The account's lock is held from the decision ([`crate::service::decision`])
//! until the broker's answer is recorded, so the next order on the account
//! sees this one and its fill. A rejected order is answered with 422 and the
//! id of its recorded rejection; an accepted one is submitted even if the
//! client goes away.

use std::time::Instant;

use chrono::Utc;
use rampart_audit::{Outcome, action};
use rampart_core::{FieldError, NewOrder, Order, OrderId, OrderRequest, OrderStatus, Principal};
use rampart_policy::{Action, Resource};
use rampart_store::StoreError;
use rampart_trading::{BrokerError, Execution, OrderContext};
use serde_json::json;

use crate::init::SYSTEM_ACTOR;
use crate::problem::ApiError;
use crate::service::decision::{Decided, decide, working_quantity};
use crate::service::fills::{RecordError, record_cancel, record_fill};
use crate::service::{
    attribution, audit, authorize, detach, internal, pretrade, require_order_access,
};
use crate::state::AppState;
use crate::telemetry;

/// What placing an order produced.
#[derive(Debug, Clone)]
pub enum Placement {
    /// A new order was accepted (201).
    Created(Order),
    /// The same `client_order_id` and body were sent before: the original order (200).
    Replayed(Order),
}

/// Places `request` for `principal`.
pub async fn place(
    state: &AppState,
    principal: &Principal,
    request: &OrderRequest,
) -> Result<Placement, ApiError> {
    let started = Instant::now();
    let order = validated(state, principal, request).await?;
    let algo_id = requested_algo(state, principal, request).await?;
    let decision = authorize(
        state,
        principal,
        Action::OrderPlace,
        &Resource::Account(order.account_id.clone()),
    )
    .await?;

    let gate = state.order_gate.clone().read_owned().await;
    let account_lock = state.account_locks.lock(&order.account_id).await;
    let working = working_quantity(state, &order).await?;
    let decided = decide(state, principal, &order, &decision, working, algo_id).await;
    telemetry::record_decision(started.elapsed());
    let accepted = match decided? {
        Decided::Replayed(original) => {
            telemetry::count_order("duplicate");
            return replayed(original);
        }
        Decided::Rejected(rejected, rejection) => {
            telemetry::count_order("rejected");
            return Err(refused(rejection.code.as_str(), rejected.id));
        }
        Decided::Accepted(accepted) => accepted,
    };
    telemetry::count_order("accepted");
    let (state, actor) = (state.clone(), principal.id.clone());
    detach(async move {
        let placed = execute(&state, accepted, &actor).await;
        drop(account_lock);
        drop(gate);
        placed.map(Placement::Created)
    })
    .await
}

/// A retry of a recorded order: the original, or for a rejection the same 422 again.
fn replayed(original: Order) -> Result<Placement, ApiError> {
    match (original.status, &original.reject_code) {
        (OrderStatus::Rejected, Some(code)) => Err(refused(code, original.id)),
        _ => Ok(Placement::Replayed(original)),
    }
}

/// The 422 of a recorded rejection; the detail names the control, never the order's values.
fn refused(code: &str, order_id: OrderId) -> ApiError {
    ApiError::Risk {
        code: code.to_owned(),
        detail: format!("the order was refused by the pre-trade control `{code}`"),
        order_id,
    }
}

/// Cancels the working order `id` at the broker, for `principal`.
pub async fn cancel(
    state: &AppState,
    principal: &Principal,
    id: OrderId,
) -> Result<Order, ApiError> {
    require_order_access(state, principal, Action::OrderCancel).await?;
    let order = state
        .store
        .order(id)
        .await
        .map_err(|e| internal("order", &e))?;
    let order = order.ok_or(ApiError::NotFound)?;
    let resource = Resource::Account(order.account_id.clone());
    authorize(state, principal, Action::OrderCancel, &resource).await?;
    if !order.status.is_working() {
        return Err(ApiError::NotCancellable);
    }

    let gate = state.order_gate.clone().read_owned().await;
    let (state, actor) = (state.clone(), principal.id.clone());
    detach(async move {
        let cancelled = state.broker().cancel(id).await;
        if !cancelled.map_err(|e| internal("broker cancel", &e))? {
            return Err(ApiError::NotCancellable);
        }
        let recorded = record_cancel(&state.store, order, &actor, "requested", Utc::now()).await;
        drop(gate);
        recorded.map_err(|e| internal("order.cancelled event", &e))
    })
    .await
}

/// Submits every order the store holds as open to the broker again, after a restart.
///
/// An order that a kill switch in force covers, as placed or as placed by the
/// person who owns its client, is cancelled instead: a stop between an
/// engagement and its sweep of the book must not revive the order.
pub async fn recover_open_orders(state: &AppState) -> Result<usize, StoreError> {
    let open = state.store.open_orders().await?;
    let count = open.len();
    for order in open {
        let person = attribution::person_behind_order(&state.store, &order).await?;
        let stopped = pretrade::blocking_as(state, OrderContext::of(&order), person.as_deref());
        let recovered = match stopped {
            Some(_) => record_cancel(&state.store, order, SYSTEM_ACTOR, "kill_switch", Utc::now())
                .await
                .map(drop)
                .map_err(RecordError::from),
            None => execute_as(state, order, SYSTEM_ACTOR, "recovery")
                .await
                .map(drop),
        };
        if let Err(error) = recovered {
            tracing::error!(%error, "open order could not be recovered");
        }
    }
    Ok(count)
}

/// The algorithm the request names: only an API client may name one.
async fn requested_algo(
    state: &AppState,
    principal: &Principal,
    request: &OrderRequest,
) -> Result<Option<String>, ApiError> {
    match attribution::requested_algo(principal, request) {
        Ok(algo_id) => Ok(algo_id),
        Err(error) => Err(invalid(state, principal, request, &error).await),
    }
}

/// Audits a refused request field and answers it with 400.
async fn invalid(
    state: &AppState,
    principal: &Principal,
    request: &OrderRequest,
    error: &FieldError,
) -> ApiError {
    let target = format!("account:{}", request.account_id);
    let event = audit::event(
        &principal.id,
        action::REQUEST_INVALID,
        &target,
        Outcome::Rejected,
    )
    .details(json!({ "field": error.field, "reason": error.kind.to_string() }));
    match audit::append(&state.store, event).await {
        Ok(_) => ApiError::field(error),
        Err(e) => internal("audit", &e),
    }
}

/// Parses the request against the catalog; a bad field is audited and answered with 400.
async fn validated(
    state: &AppState,
    principal: &Principal,
    request: &OrderRequest,
) -> Result<NewOrder, ApiError> {
    match request.validate(&state.catalog) {
        Ok(order) => Ok(order),
        Err(error) => {
            let target = format!("account:{}", request.account_id);
            let event = audit::event(
                &principal.id,
                action::REQUEST_INVALID,
                &target,
                Outcome::Rejected,
            )
            .details(json!({ "field": error.field, "reason": error.kind.to_string() }));
            audit::append(&state.store, event)
                .await
                .map_err(|e| internal("audit", &e))?;
            Err(ApiError::field(&error))
        }
    }
}

/// Submits an accepted order and records what the broker did with it.
async fn execute(state: &AppState, order: Order, actor: &str) -> Result<Order, ApiError> {
    execute_as(state, order, actor, "placed")
        .await
        .map_err(|e| internal("execution", &e))
}

/// Submits `order` and records the fill or cancellation the broker answers with.
async fn execute_as(
    state: &AppState,
    order: Order,
    actor: &str,
    context: &str,
) -> Result<Order, RecordError> {
    let store = &state.store;
    let cancelled = match state.broker().submit(&order).await {
        Ok(Execution::Filled(fill)) => return record_fill(state, order, &fill, actor).await,
        Ok(Execution::Resting) | Err(BrokerError::DuplicateOrder(_)) => return Ok(order),
        Ok(Execution::Cancelled) => {
            record_cancel(store, order, actor, "immediate_or_cancel", Utc::now()).await
        }
        Err(error) => {
            tracing::error!(%error, context, order = %order.id, "broker refused an accepted order");
            record_cancel(store, order, actor, "broker_refused", Utc::now()).await
        }
    };
    Ok(cancelled?)
}

#[cfg(test)]
mod tests {
    use rampart_core::Side;
    use rust_decimal_macros::dec;

    use super::*;

    fn order(side: Side) -> NewOrder {
        NewOrder {
            account_id: "ACC-1".parse().unwrap(),
            instrument: "BTC-USD".parse().unwrap(),
            side,
            order_type: rampart_core::OrderType::Limit,
            quantity: rampart_core::Quantity::new(dec!(0.5)).unwrap(),
            limit_price: rampart_core::Price::new(dec!(40000)),
            time_in_force: rampart_core::TimeInForce::Gtc,
            client_order_id: None,
        }
    }

    #[test]
    fn retried_rejection_answers_422_with_the_original_order_id() {
        let mut original = Order::from_new(
            OrderId::generate(),
            &order(Side::Buy),
            &rampart_core::Attribution::new("trader-1", rampart_core::PlacedByKind::User),
            OrderStatus::Rejected,
            Utc::now(),
        );
        original.reject_code = Some("risk.price_collar".to_owned());
        let Err(ApiError::Risk { code, order_id, .. }) = replayed(original.clone()) else {
            panic!("a rejection is answered as a rejection");
        };
        assert_eq!(
            (code.as_str(), order_id),
            ("risk.price_collar", original.id)
        );
    }

    #[test]
    fn rejection_detail_names_the_control_but_no_value() {
        let error = refused("risk.max_order_notional", OrderId::generate());
        let detail = error.to_string();
        assert!(detail.contains("risk.max_order_notional"));
        assert!(!detail.chars().any(|c| c.is_ascii_digit()));
    }
}
