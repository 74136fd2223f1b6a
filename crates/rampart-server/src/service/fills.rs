//! Recording executions: fills and cancellations, each with its audit event.
//!
//! A fill updates the order, the position and the cash of the account and
//! appends `order.filled`, all in one transaction; a cancellation updates the
//! order and appends `order.cancelled`. The background recorder does the same
//! for fills of resting orders that the paper broker reports later. Cash is
//! kept in the account's currency: a fill's notional, in its instrument's
//! currency, is converted before it moves the cash, and a fill that cannot be
//! converted is not booked in the wrong currency.

use chrono::{DateTime, Utc};
use rampart_audit::time::to_micros;
use rampart_audit::{Outcome, action};
use rampart_core::{AccountId, InstrumentId, Order, OrderStatus};
use rampart_store::{FillRecord, Store, StoreError};
use rampart_trading::{Fill, Rejection, convert};
use rust_decimal::Decimal;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::init::SYSTEM_ACTOR;
use crate::service::audit;
use crate::service::pretrade::{currency_of, unknown_currency};
use crate::state::AppState;
use crate::telemetry;

/// Why an execution could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The store failed or refused the change.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The account of the fill does not exist.
    #[error("the account `{0}` of the fill does not exist")]
    UnknownAccount(AccountId),
    /// The fill's notional cannot be expressed in the account's currency.
    #[error("the fill's notional cannot be converted: {0}")]
    Conversion(Rejection),
}

/// Applies `fill` to `order` and records it; returns the updated order.
pub async fn record_fill(
    state: &AppState,
    mut order: Order,
    fill: &Fill,
    actor: &str,
) -> Result<Order, RecordError> {
    let filled = order
        .filled_quantity
        .checked_add(fill.quantity)
        .unwrap_or(order.quantity.value());
    order.average_fill_price = Some(average_price(&order, fill, filled).unwrap_or(fill.price));
    order.filled_quantity = filled.normalize();
    if filled >= order.quantity.value() {
        order.status = OrderStatus::Filled;
    }
    order.updated_at = to_micros(fill.time.max(order.created_at));

    let mut tx = state.store.begin().await?;
    let account = tx.account(&fill.account_id).await?;
    let account = account.ok_or_else(|| RecordError::UnknownAccount(fill.account_id.clone()))?;
    let notional = account_notional(state, fill, &account.currency)?;
    tx.update_order(&order).await?;
    tx.apply_fill_converted(&fill_record(fill), notional)
        .await?;
    let event = audit::event(
        actor,
        action::ORDER_FILLED,
        &target(&order),
        Outcome::Success,
    )
    .details(json!({
        "account_id": order.account_id,
        "instrument": order.instrument,
        "side": order.side.as_str(),
        "quantity": fill.quantity.normalize().to_string(),
        "price": fill.price.normalize().to_string(),
        "account_notional": notional.normalize().to_string(),
        "account_currency": account.currency,
        "time": rampart_audit::time::format(&fill.time),
        "placed_by": order.placed_by,
        "algo_id": order.algo_id,
        "desk": order.desk,
    }));
    tx.append(audit::stamp(event)).await?;
    tx.commit().await?;
    telemetry::count_order("filled");
    crate::service::execution_guard::observe(state, &order);
    Ok(order)
}

/// Marks `order` cancelled and records why; returns the updated order.
pub async fn record_cancel(
    store: &Store,
    mut order: Order,
    actor: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Order, StoreError> {
    order.status = OrderStatus::Cancelled;
    order.updated_at = to_micros(now.max(order.created_at));

    let mut tx = store.begin().await?;
    tx.update_order(&order).await?;
    let event = audit::event(
        actor,
        action::ORDER_CANCELLED,
        &target(&order),
        Outcome::Success,
    )
    .details(json!({ "account_id": order.account_id, "reason": reason }));
    tx.append(audit::stamp(event)).await?;
    tx.commit().await?;
    telemetry::count_order("cancelled");
    Ok(order)
}

/// Records every fill the broker reports, until `stop` fires and the queue is drained.
///
/// On `stop` the channel is closed to new fills and every fill already sent is
/// still received and recorded, so no reported fill is lost at shutdown.
pub async fn run_recorder(
    state: AppState,
    mut fills: mpsc::Receiver<Fill>,
    stop: CancellationToken,
) {
    loop {
        let fill = tokio::select! {
            fill = fills.recv() => fill,
            () = stop.cancelled() => {
                fills.close();
                fills.recv().await
            }
        };
        let Some(fill) = fill else { return };
        let request = crate::request_id::generate();
        let outcome = crate::request_id::scope(request, record_reported(&state, &fill)).await;
        if let Err(error) = outcome {
            tracing::error!(order = %fill.order_id, %error, "fill could not be recorded");
        }
    }
}

async fn record_reported(state: &AppState, fill: &Fill) -> Result<(), RecordError> {
    let Some(order) = state.store.order(fill.order_id).await? else {
        tracing::error!(order = %fill.order_id, "fill reported for an unknown order");
        return Ok(());
    };
    if !order.status.is_working() {
        tracing::error!(order = %order.id, status = %order.status, "fill for a closed order");
        return Ok(());
    }
    record_fill(state, order, fill, SYSTEM_ACTOR).await?;
    Ok(())
}

/// The audit target naming an order.
pub fn target(order: &Order) -> String {
    format!("order:{}", order.id)
}

/// The volume-weighted price of what was filled before and `fill`; `None` on overflow.
fn average_price(order: &Order, fill: &Fill, filled: Decimal) -> Option<Decimal> {
    let before = order
        .average_fill_price
        .unwrap_or(Decimal::ZERO)
        .checked_mul(order.filled_quantity)?;
    let now = fill.price.checked_mul(fill.quantity)?;
    Some(before.checked_add(now)?.checked_div(filled)?.normalize())
}

/// The fill's `quantity × price` in the account's currency.
///
/// The fill's own price is the rate of its instrument (a `USD-JPY` fill in a
/// USD account costs its quantity in dollars); any other pair is taken at the
/// broker's reference price.
fn account_notional(
    state: &AppState,
    fill: &Fill,
    account_currency: &str,
) -> Result<Decimal, RecordError> {
    let too_large = || StoreError::Overflow { field: "notional" };
    let notional = fill
        .quantity
        .checked_mul(fill.price)
        .ok_or_else(too_large)?;
    let currency = currency_of(&state.catalog, &fill.instrument)
        .ok_or_else(|| RecordError::Conversion(unknown_currency(&fill.instrument)))?;
    let price_of = |instrument: &InstrumentId| {
        if instrument == &fill.instrument {
            return Some(fill.price);
        }
        state.broker().reference_price(instrument)
    };
    convert(notional, &currency, account_currency, price_of).map_err(RecordError::Conversion)
}

fn fill_record(fill: &Fill) -> FillRecord {
    FillRecord {
        order_id: fill.order_id,
        account_id: fill.account_id.clone(),
        instrument: fill.instrument.clone(),
        side: fill.side,
        quantity: fill.quantity,
        price: fill.price,
        time: fill.time,
    }
}
