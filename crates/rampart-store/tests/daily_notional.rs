//! The day's notional of market orders between acceptance and fill, and fills in another currency.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use chrono::Duration;
use common::{account_id, at, begin_with_accounts, open_store, order};
use rampart_core::{InstrumentId, Order, OrderId, OrderStatus, Side};
use rampart_store::{AccountSnapshot, FillRecord, StoreError, WriteTx};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn now() -> chrono::DateTime<chrono::Utc> {
    at(2026, 3, 10, 12, 0, 0, 0)
}

fn btc() -> InstrumentId {
    "BTC-USD".parse().unwrap()
}

/// An open BTC-USD market order of `ACC-1`, placed now.
fn market_order(side: Side, quantity: Decimal) -> Order {
    order(
        "ACC-1",
        None,
        side,
        quantity,
        None,
        OrderStatus::Open,
        now(),
    )
}

/// What the pre-trade checks of `ACC-1` in `instrument` see at `time`.
async fn state_of(
    tx: &mut WriteTx<'_>,
    instrument: &InstrumentId,
    time: chrono::DateTime<chrono::Utc>,
) -> AccountSnapshot {
    tx.account_state(&account_id("ACC-1"), instrument, time)
        .await
        .unwrap()
}

/// A fill of `ACC-1` at `price`, now.
fn fill(instrument: InstrumentId, side: Side, quantity: Decimal, price: Decimal) -> FillRecord {
    FillRecord {
        order_id: OrderId::generate(),
        account_id: account_id("ACC-1"),
        instrument,
        side,
        quantity,
        price,
        time: now(),
    }
}

#[tokio::test]
async fn an_open_market_order_counts_at_its_check_price_before_it_fills() {
    let (_dir, _path, store) = open_store().await;
    let market = market_order(Side::Buy, dec!(2));
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(0)).await;
    tx.insert_order_checked(&market, dec!(40000)).await.unwrap();

    let state = state_of(&mut tx, &btc(), now()).await;

    assert_eq!(state.daily_notional, dec!(80000));
}

#[tokio::test]
async fn a_filled_market_order_counts_at_its_fill_price_and_not_twice() {
    let (_dir, _path, store) = open_store().await;
    let mut market = market_order(Side::Buy, dec!(2));
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(0)).await;
    tx.insert_order_checked(&market, dec!(40000)).await.unwrap();
    market.status = OrderStatus::Filled;
    market.filled_quantity = dec!(2);
    market.average_fill_price = Some(dec!(40100));
    tx.update_order(&market).await.unwrap();

    let state = state_of(&mut tx, &btc(), now()).await;

    assert_eq!(state.daily_notional, dec!(80200));
}

#[tokio::test]
async fn a_market_order_cancelled_unfilled_counts_nothing() {
    let (_dir, _path, store) = open_store().await;
    let mut market = market_order(Side::Buy, dec!(2));
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(0)).await;
    tx.insert_order_checked(&market, dec!(40000)).await.unwrap();
    market.status = OrderStatus::Cancelled;
    tx.update_order(&market).await.unwrap();

    let state = state_of(&mut tx, &btc(), now()).await;

    assert_eq!(state.daily_notional, dec!(0));
}

#[tokio::test]
async fn a_concurrent_check_sees_the_unfilled_market_order_committed_before_it() {
    let (_dir, _path, store) = open_store().await;
    let market = market_order(Side::Buy, dec!(3));
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(0)).await;
    tx.insert_order_checked(&market, dec!(100)).await.unwrap();
    tx.commit().await.unwrap();

    let later = now() + Duration::seconds(5);
    let mut next = store.begin().await.unwrap();
    let state = state_of(&mut next, &btc(), later).await;

    assert_eq!(state.daily_notional, dec!(300));
}

#[tokio::test]
async fn daily_notional_by_instrument_sums_each_instrument_in_its_own_currency() {
    let (_dir, _path, store) = open_store().await;
    let mut fx = order(
        "ACC-1",
        None,
        Side::Buy,
        dec!(1000),
        Some(dec!(150)),
        OrderStatus::Open,
        now(),
    );
    fx.instrument = "USD-JPY".parse().unwrap();
    let btc_limit = order(
        "ACC-1",
        None,
        Side::Sell,
        dec!(1),
        Some(dec!(40000)),
        OrderStatus::Open,
        now(),
    );
    let btc_market = market_order(Side::Buy, dec!(0.5));
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(0)).await;
    tx.insert_order(&fx).await.unwrap();
    tx.insert_order(&btc_limit).await.unwrap();
    tx.insert_order_checked(&btc_market, dec!(40000))
        .await
        .unwrap();

    let by_instrument = tx
        .daily_notional_by_instrument(&account_id("ACC-1"), now())
        .await
        .unwrap();
    let state = state_of(&mut tx, &btc(), now()).await;

    assert_eq!(
        by_instrument,
        vec![
            (btc(), dec!(60000)),
            ("USD-JPY".parse().unwrap(), dec!(150000))
        ]
    );
    assert_eq!(state.daily_notional, dec!(210000));
}

#[tokio::test]
async fn a_check_price_must_be_positive_and_name_a_stored_order() {
    let (_dir, _path, store) = open_store().await;
    let market = market_order(Side::Buy, dec!(1));
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(0)).await;
    tx.insert_order(&market).await.unwrap();

    let zero = tx.set_check_price(market.id, dec!(0)).await;
    let unknown = tx.set_check_price(OrderId::generate(), dec!(1)).await;

    assert!(matches!(
        zero,
        Err(StoreError::Invalid {
            field: "check_price",
            ..
        })
    ));
    assert!(matches!(
        unknown,
        Err(StoreError::NotFound { what: "order", .. })
    ));
}

#[tokio::test]
async fn a_converted_usd_jpy_fill_moves_dollar_cash_by_the_dollar_notional() {
    let (_dir, _path, store) = open_store().await;
    let fill = fill("USD-JPY".parse().unwrap(), Side::Buy, dec!(1000), dec!(150));
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(5000)).await;
    tx.apply_fill_converted(&fill, dec!(1000)).await.unwrap();
    let state = state_of(&mut tx, &fill.instrument, now()).await;

    assert_eq!(state.cash, dec!(4000));
    assert_eq!(state.position_in_instrument, dec!(1000));
    assert_eq!(state.positions[0].average_price, Some(dec!(150)));
}

#[tokio::test]
async fn a_converted_fill_of_zero_notional_is_refused() {
    let (_dir, _path, store) = open_store().await;
    let fill = fill(btc(), Side::Sell, dec!(1), dec!(1));
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(5000)).await;

    let refused = tx.apply_fill_converted(&fill, dec!(0)).await;

    assert!(matches!(
        refused,
        Err(StoreError::Invalid {
            field: "account_notional",
            ..
        })
    ));
}
