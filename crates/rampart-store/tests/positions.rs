//! Fills, positions, cash and the figures of the pre-trade controls.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{account, account_id, at, begin_with_accounts, open_store, order};
use rampart_core::{Order, OrderStatus, Side};
use rampart_store::{AccountSnapshot, FillRecord, StoreError, WriteTx};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn fill(side: Side, quantity: Decimal, price: Decimal) -> FillRecord {
    FillRecord {
        order_id: rampart_core::OrderId::generate(),
        account_id: account_id("ACC-1"),
        instrument: "BTC-USD".parse().unwrap(),
        side,
        quantity,
        price,
        time: at(2026, 3, 1, 10, 0, 0, 0),
    }
}

/// What the pre-trade checks of `ACC-1` in BTC-USD see at `time`.
async fn btc_state(tx: &mut WriteTx<'_>, time: DateTime<Utc>) -> AccountSnapshot {
    let btc = "BTC-USD".parse().unwrap();
    tx.account_state(&account_id("ACC-1"), &btc, time)
        .await
        .unwrap()
}

/// A BTC-USD order of `ACC-1` without a client order id (a market order when no `price`).
fn acc1_order(
    side: Side,
    quantity: Decimal,
    price: Option<Decimal>,
    status: OrderStatus,
    created_at: DateTime<Utc>,
) -> Order {
    order("ACC-1", None, side, quantity, price, status, created_at)
}

#[tokio::test]
async fn fills_move_the_position_and_the_cash() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(100000)).await;
    tx.apply_fill(&fill(Side::Buy, dec!(2), dec!(100)))
        .await
        .unwrap();
    tx.apply_fill(&fill(Side::Sell, dec!(0.5), dec!(120)))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let positions = store.positions(&account_id("ACC-1")).await.unwrap();
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].quantity, dec!(2) - dec!(0.5));
    assert_eq!(positions[0].average_price, Some(dec!(100)));

    let mut tx = store.begin().await.unwrap();
    let state = btc_state(&mut tx, at(2026, 3, 1, 12, 0, 0, 0)).await;
    assert_eq!(
        state.cash,
        dec!(100000) - dec!(2) * dec!(100) + dec!(0.5) * dec!(120)
    );
    assert_eq!(state.position_in_instrument, dec!(1.5));
    assert_eq!(state.positions, positions);
}

#[tokio::test]
async fn selling_short_gives_a_negative_position_and_more_cash() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(1000)).await;
    tx.apply_fill(&fill(Side::Sell, dec!(3), dec!(7.5)))
        .await
        .unwrap();
    let state = btc_state(&mut tx, at(2026, 3, 1, 12, 0, 0, 0)).await;
    assert_eq!(state.position_in_instrument, dec!(-3));
    assert_eq!(state.cash, dec!(1000) + dec!(3) * dec!(7.5));
    assert_eq!(state.positions[0].average_price, Some(dec!(7.5)));
}

#[tokio::test]
async fn a_fill_on_an_unknown_account_is_not_found() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    let error = tx
        .apply_fill(&fill(Side::Buy, dec!(1), dec!(1)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::NotFound {
                what: "account",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_fill_of_zero_quantity_is_refused() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(1000)).await;
    let error = tx
        .apply_fill(&fill(Side::Buy, dec!(0), dec!(1)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Invalid {
                field: "quantity",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_overflowing_fill_is_refused_and_changes_nothing() {
    let (_dir, _path, store) = open_store().await;
    let tx = begin_with_accounts(&store, &["ACC-1"], dec!(1000)).await;
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let error = tx
        .apply_fill(&fill(Side::Buy, Decimal::MAX, dec!(2)))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Overflow { .. }), "{error:?}");
    drop(tx);
    assert!(
        store
            .positions(&account_id("ACC-1"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn account_state_counts_the_days_accepted_notional_and_the_last_seconds_orders() {
    let (_dir, _path, store) = open_store().await;
    let now = at(2026, 3, 10, 12, 0, 0, 500_000);
    let mut market = acc1_order(
        Side::Buy,
        dec!(0.5),
        None,
        OrderStatus::Filled,
        now - Duration::hours(2),
    );
    market.filled_quantity = dec!(0.4);
    market.average_fill_price = Some(dec!(40000));
    let fixtures = [
        // accepted today, older than a second
        acc1_order(
            Side::Buy,
            dec!(2),
            Some(dec!(100)),
            OrderStatus::Open,
            now - Duration::milliseconds(1500),
        ),
        acc1_order(
            Side::Sell,
            dec!(1),
            Some(dec!(90)),
            OrderStatus::Cancelled,
            at(2026, 3, 10, 0, 0, 0, 0),
        ),
        market,
        // a market order that has not filled yet
        acc1_order(
            Side::Buy,
            dec!(7),
            None,
            OrderStatus::Open,
            now - Duration::hours(1),
        ),
        // in the last second: one accepted, one rejected
        acc1_order(
            Side::Buy,
            dec!(3),
            Some(dec!(10)),
            OrderStatus::Open,
            now - Duration::milliseconds(200),
        ),
        acc1_order(
            Side::Buy,
            dec!(9),
            Some(dec!(1000)),
            OrderStatus::Rejected,
            now - Duration::milliseconds(100),
        ),
        // yesterday, and another account
        acc1_order(
            Side::Buy,
            dec!(5),
            Some(dec!(100)),
            OrderStatus::Filled,
            at(2026, 3, 9, 23, 59, 59, 999_999),
        ),
        order(
            "ACC-2",
            None,
            Side::Buy,
            dec!(5),
            Some(dec!(100)),
            OrderStatus::Open,
            now,
        ),
    ];
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(5000)).await;
    tx.insert_account(&account("ACC-2", dec!(5000)))
        .await
        .unwrap();
    for o in &fixtures {
        tx.insert_order(o).await.unwrap();
    }

    let state = btc_state(&mut tx, now).await;
    let expected =
        dec!(2) * dec!(100) + dec!(1) * dec!(90) + dec!(0.4) * dec!(40000) + dec!(3) * dec!(10);
    assert_eq!(state.daily_notional, expected);
    assert_eq!(state.orders_in_last_second, 2);
    assert_eq!(state.cash, dec!(5000));
    assert_eq!(state.position_in_instrument, dec!(0));
    assert!(state.positions.is_empty());
}

#[tokio::test]
async fn account_state_of_an_unknown_account_is_not_found() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    let error = tx
        .account_state(
            &account_id("ACC-1"),
            &"BTC-USD".parse().unwrap(),
            at(2026, 1, 1, 0, 0, 0, 0),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::NotFound {
                what: "account",
                ..
            }
        ),
        "{error:?}"
    );
}
