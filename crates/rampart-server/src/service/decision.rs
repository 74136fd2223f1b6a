//! The transaction that decides an order: idempotency, account, state, controls, record.
//!
//! Idempotency, the account, its state, the kill switch and the pre-trade
//! controls are all read in the transaction that records the order, so the
//! limits in force are the ones the decision used, and the audit event is
//! durable before the client hears the answer. An accepted order is recorded
//! with the reference price its controls used, so that an open market order
//! counts in the day's notional before it fills; a rejected one is recorded
//! too (RTS 24).

use chrono::{DateTime, Utc};
use rampart_audit::time::to_micros;
use rampart_audit::{Outcome, action};
use rampart_core::{Attribution, NewOrder, Order, OrderId, OrderStatus, Principal, Side};
use rampart_policy::Decision;
use rampart_store::{AccountRecord, AccountSnapshot, OrderFilter, StoreError, WriteTx};
use rampart_trading::Rejection;
use rust_decimal::Decimal;
use serde_json::json;

use crate::problem::ApiError;
use crate::service::attribution;
use crate::service::fills::target;
use crate::service::pretrade::{self, Inputs};
use crate::service::{audit, internal};
use crate::state::AppState;

/// What the transaction decided.
pub enum Decided {
    /// The same order was placed before under its `client_order_id`: the original.
    Replayed(Order),
    /// The order passed every control and is recorded open.
    Accepted(Order),
    /// A control refused the order, which is recorded as rejected.
    Rejected(Order, Rejection),
}

/// The verdict of the controls: the reference price they used, or the rejection.
type Verdict = Result<Decimal, Rejection>;

/// Runs the transaction: idempotency, account, state, kill switch, controls, record.
pub async fn decide(
    state: &AppState,
    principal: &Principal,
    order: &NewOrder,
    decision: &Decision,
    working: Decimal,
    algo_id: Option<String>,
) -> Result<Decided, ApiError> {
    let mut tx = state.store.begin().await.map_err(store_error)?;
    if let Some(original) = prior(&mut tx, order).await? {
        return Ok(Decided::Replayed(original));
    }
    let account = tx.account(&order.account_id).await.map_err(store_error)?;
    let account = account.ok_or(ApiError::NotFound)?;
    // INVARIANT: this write transaction read `account.limits`; the version read
    // here is the one those limits belong to, since both change together.
    let limits_version = tx.limits_version(&order.account_id).await;
    let limits_version = limits_version.map_err(store_error)?;
    let by = attribution::resolve(&mut tx, principal, &account, algo_id).await;
    let by = by.map_err(store_error)?;

    let now = to_micros(Utc::now());
    let verdict = verdict(state, &mut tx, order, &account, &by, working, now).await;
    let verdict = verdict.map_err(store_error)?;
    let mut record = record_of(order, &by, verdict.as_ref().err(), now);
    record.limits_version = limits_version;
    insert(&mut tx, &record, principal, decision, &verdict)
        .await
        .map_err(store_error)?;
    tx.commit().await.map_err(store_error)?;

    Ok(match verdict {
        Ok(_) => Decided::Accepted(record),
        Err(rejection) => Decided::Rejected(record, rejection),
    })
}

fn store_error(error: StoreError) -> ApiError {
    internal("order transaction", &error)
}

/// The order recorded before under the same `client_order_id`, if the body matches it.
async fn prior(tx: &mut WriteTx<'_>, order: &NewOrder) -> Result<Option<Order>, ApiError> {
    let Some(client_order_id) = &order.client_order_id else {
        return Ok(None);
    };
    let existing = tx
        .order_by_client_order_id(&order.account_id, client_order_id)
        .await;
    match existing.map_err(store_error)? {
        Some(original) if original.matches(order) => Ok(Some(original)),
        Some(_) => Err(ApiError::DuplicateClientOrderId),
        None => Ok(None),
    }
}

/// Reads the account's state in the transaction and runs the controls on it.
async fn verdict(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    order: &NewOrder,
    account: &AccountRecord,
    by: &Attribution,
    working: Decimal,
    now: DateTime<Utc>,
) -> Result<Verdict, StoreError> {
    let mut snapshot = tx
        .account_state(&order.account_id, &order.instrument, now)
        .await?;
    snapshot.position_in_instrument = exposed_position(order, &snapshot, working);
    let daily = tx
        .daily_notional_by_instrument(&order.account_id, now)
        .await?;
    let person = attribution::person_behind(tx, by).await?;
    let inputs = Inputs {
        account,
        snapshot: &snapshot,
        daily_by_instrument: &daily,
        now,
        by,
        person: person.as_deref(),
    };
    Ok(pretrade::check(state, order, &inputs))
}

/// What the open orders of the account in the order's instrument and direction still
/// may execute: they count towards the position limit as if they had filled.
pub async fn working_quantity(state: &AppState, order: &NewOrder) -> Result<Decimal, ApiError> {
    let mut filter = OrderFilter {
        accounts: Some(vec![order.account_id.clone()]),
        status: Some(OrderStatus::Open),
        limit: 500,
        after: None,
    };
    let mut total = Decimal::ZERO;
    loop {
        let page = state
            .store
            .orders(&filter)
            .await
            .map_err(|e| internal("open orders", &e))?;
        for open in page
            .iter()
            .filter(|o| o.instrument == order.instrument && o.side == order.side)
        {
            let left = open
                .quantity
                .value()
                .checked_sub(open.filled_quantity)
                .unwrap_or_default();
            total = total.checked_add(left).unwrap_or(Decimal::MAX);
        }
        match page.last() {
            Some(last) if page.len() == 500 => filter.after = Some(last.id),
            _ => return Ok(total),
        }
    }
}

/// The position as it would be if every working order in the order's direction filled.
fn exposed_position(order: &NewOrder, snapshot: &AccountSnapshot, working: Decimal) -> Decimal {
    let position = snapshot.position_in_instrument;
    let exposed = match order.side {
        Side::Buy => position.checked_add(working),
        Side::Sell => position.checked_sub(working),
    };
    exposed.unwrap_or(position)
}

/// The order as recorded: open, or rejected with the control's code and reason.
fn record_of(
    order: &NewOrder,
    by: &Attribution,
    rejection: Option<&Rejection>,
    now: DateTime<Utc>,
) -> Order {
    let status = if rejection.is_some() {
        OrderStatus::Rejected
    } else {
        OrderStatus::Open
    };
    let mut record = Order::from_new(OrderId::generate(), order, by, status, now);
    record.reject_code = rejection.map(|r| r.code.as_str().to_owned());
    record.reject_reason = rejection.map(|r| r.detail.clone());
    record
}

/// Inserts the order, with its check price when accepted, and its audit event.
async fn insert(
    tx: &mut WriteTx<'_>,
    order: &Order,
    principal: &Principal,
    decision: &Decision,
    verdict: &Verdict,
) -> Result<(), StoreError> {
    match verdict {
        // INVARIANT: the controls accept an order only at a positive reference price.
        Ok(check_price) => tx.insert_order_checked(order, *check_price).await?,
        Err(_) => tx.insert_order(order).await?,
    }
    let rejection = verdict.as_ref().err();
    let (name, outcome) = match rejection {
        Some(_) => (action::ORDER_REJECTED, Outcome::Rejected),
        None => (action::ORDER_ACCEPTED, Outcome::Success),
    };
    let event = audit::event(&principal.id, name, &target(order), outcome)
        .policy(decision.policy_version.clone())
        .details(json!({
            "account_id": order.account_id,
            "instrument": order.instrument,
            "side": order.side.as_str(),
            "type": order.order_type.as_str(),
            "quantity": order.quantity.to_string(),
            "limit_price": order.limit_price.map(|p| p.to_string()),
            "time_in_force": order.time_in_force.as_str(),
            "client_order_id": order.client_order_id,
            "policy_ids": decision.policy_ids,
            "control": rejection.map(|r| r.code.as_str()),
            "check_price": verdict.as_ref().ok().map(|p| p.normalize().to_string()),
            "placed_by": order.placed_by,
            "placed_by_kind": order.placed_by_kind.as_str(),
            "algo_id": order.algo_id,
            "desk": order.desk,
            "limits_version": order.limits_version,
        }));
    tx.append(audit::stamp(event)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
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

    fn snapshot(position: Decimal) -> AccountSnapshot {
        AccountSnapshot {
            cash: dec!(1000000),
            positions: Vec::new(),
            position_in_instrument: position,
            daily_notional: Decimal::ZERO,
            orders_in_last_second: 0,
        }
    }

    #[test]
    fn working_buys_raise_the_position_a_buy_is_checked_against() {
        assert_eq!(
            exposed_position(&order(Side::Buy), &snapshot(dec!(0.2)), dec!(1)),
            dec!(1.2)
        );
    }

    #[test]
    fn working_sells_lower_the_position_a_sell_is_checked_against() {
        assert_eq!(
            exposed_position(&order(Side::Sell), &snapshot(dec!(0.2)), dec!(1)),
            dec!(-0.8)
        );
    }
}
