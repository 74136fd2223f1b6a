//! Round trips, idempotency lookups, unique keys and listing of orders.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use chrono::Duration;
use common::{account_id, at, begin_with_accounts, open_store, order, sqlite3};
use rampart_core::{Order, OrderStatus, Side};
use rampart_store::{OrderFilter, Store, StoreError};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// The day the orders of these tests are placed.
fn day() -> chrono::DateTime<chrono::Utc> {
    at(2026, 3, 2, 0, 0, 0, 0)
}

/// An open market buy of one unit on `account`, placed at the start of the day.
fn market_buy(account: &str) -> Order {
    order(
        account,
        None,
        Side::Buy,
        dec!(1),
        None,
        OrderStatus::Open,
        day(),
    )
}

/// An open limit order with client order id `coid`, placed at the start of the day.
fn limit(account: &str, coid: &str, side: Side, quantity: Decimal, price: Decimal) -> Order {
    order(
        account,
        Some(coid),
        side,
        quantity,
        Some(price),
        OrderStatus::Open,
        day(),
    )
}

#[tokio::test]
async fn an_order_round_trips_and_records_its_progress() {
    let (_dir, _path, store) = open_store().await;
    let created = at(2026, 3, 2, 10, 0, 0, 42);
    let mut placed = order(
        "ACC-1",
        Some("c-1"),
        Side::Buy,
        dec!(0.50),
        Some(dec!(43000.10)),
        OrderStatus::Open,
        created,
    );
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(100000)).await;
    tx.insert_order(&placed).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.order(placed.id).await.unwrap(), Some(placed.clone()));
    assert_eq!(store.open_orders().await.unwrap(), vec![placed.clone()]);

    placed.status = OrderStatus::Filled;
    placed.filled_quantity = dec!(0.5);
    placed.average_fill_price = Some(dec!(42999.9));
    placed.updated_at = created + Duration::seconds(3);
    let mut tx = store.begin().await.unwrap();
    tx.update_order(&placed).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.order(placed.id).await.unwrap(), Some(placed));
    assert!(store.open_orders().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_rejected_order_keeps_its_code_and_reason() {
    let (_dir, _path, store) = open_store().await;
    let mut rejected = order(
        "ACC-1",
        None,
        Side::Sell,
        dec!(3),
        None,
        OrderStatus::Rejected,
        at(2026, 3, 2, 10, 0, 0, 0),
    );
    rejected.reject_code = Some("risk.max_order_notional".to_owned());
    rejected.reject_reason = Some("order notional 150000 exceeds 100000".to_owned());
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(100000)).await;
    tx.insert_order(&rejected).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.order(rejected.id).await.unwrap(), Some(rejected));
}

#[tokio::test]
async fn updating_an_unknown_order_is_not_found() {
    let (_dir, _path, store) = open_store().await;
    let ghost = market_buy("ACC-1");
    let mut tx = store.begin().await.unwrap();
    let error = tx.update_order(&ghost).await.unwrap_err();
    assert!(
        matches!(error, StoreError::NotFound { what: "order", .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_order_is_found_again_by_its_client_order_id_on_its_own_account_only() {
    let (_dir, _path, store) = open_store().await;
    let placed = limit("ACC-1", "c-7", Side::Buy, dec!(1), dec!(10));
    let mut tx = begin_with_accounts(&store, &["ACC-1", "ACC-2"], dec!(100)).await;
    tx.insert_order(&placed).await.unwrap();

    let coid = "c-7".parse().unwrap();
    let found = tx
        .order_by_client_order_id(&account_id("ACC-1"), &coid)
        .await
        .unwrap();
    assert_eq!(found, Some(placed));
    let other = tx
        .order_by_client_order_id(&account_id("ACC-2"), &coid)
        .await
        .unwrap();
    assert_eq!(other, None);
    let unknown = tx
        .order_by_client_order_id(&account_id("ACC-1"), &"c-8".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(unknown, None);
}

#[tokio::test]
async fn a_reused_client_order_id_on_the_same_account_is_a_duplicate() {
    let (_dir, _path, store) = open_store().await;
    let first = limit("ACC-1", "c-1", Side::Buy, dec!(1), dec!(10));
    let second = limit("ACC-1", "c-1", Side::Sell, dec!(2), dec!(11));
    let elsewhere = limit("ACC-2", "c-1", Side::Buy, dec!(1), dec!(10));
    let mut tx = begin_with_accounts(&store, &["ACC-1", "ACC-2"], dec!(100)).await;
    tx.insert_order(&first).await.unwrap();

    let error = tx.insert_order(&second).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::Duplicate { what: "order", key } if key == "ACC-1/c-1"),
        "{error:?}"
    );
    tx.insert_order(&elsewhere).await.unwrap();
}

#[tokio::test]
async fn the_same_order_id_twice_is_a_duplicate() {
    let (_dir, _path, store) = open_store().await;
    let placed = market_buy("ACC-1");
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(100)).await;
    tx.insert_order(&placed).await.unwrap();
    let error = tx.insert_order(&placed).await.unwrap_err();
    assert!(
        matches!(error, StoreError::Duplicate { what: "order", .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_order_on_an_unknown_account_is_refused() {
    let (_dir, _path, store) = open_store().await;
    let placed = market_buy("ACC-9");
    let mut tx = store.begin().await.unwrap();
    let error = tx.insert_order(&placed).await.unwrap_err();
    assert!(
        matches!(error, StoreError::MissingReference { what: "order", .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn orders_are_listed_by_account_and_status_in_pages() {
    let (_dir, _path, store) = open_store().await;
    let now = day();
    let mut tx = begin_with_accounts(&store, &["ACC-1", "ACC-2"], dec!(100)).await;
    let mut placed = Vec::new();
    for (i, (acc, status)) in [
        ("ACC-1", OrderStatus::Open),
        ("ACC-2", OrderStatus::Open),
        ("ACC-1", OrderStatus::Rejected),
        ("ACC-1", OrderStatus::Open),
        ("ACC-1", OrderStatus::Open),
    ]
    .into_iter()
    .enumerate()
    {
        let o = order(
            acc,
            None,
            Side::Buy,
            dec!(1),
            None,
            status,
            now + Duration::seconds(i as i64),
        );
        tx.insert_order(&o).await.unwrap();
        placed.push(o);
    }
    tx.commit().await.unwrap();

    let acc1_open = OrderFilter {
        accounts: Some(vec![account_id("ACC-1")]),
        status: Some(OrderStatus::Open),
        limit: 2,
        after: None,
    };
    let page = store.orders(&acc1_open).await.unwrap();
    assert_eq!(page, vec![placed[0].clone(), placed[3].clone()]);
    let next = OrderFilter {
        after: Some(page[1].id),
        ..acc1_open
    };
    assert_eq!(store.orders(&next).await.unwrap(), vec![placed[4].clone()]);

    let everything = OrderFilter {
        limit: 100,
        ..OrderFilter::default()
    };
    assert_eq!(store.orders(&everything).await.unwrap(), placed);
    let nobody = OrderFilter {
        accounts: Some(vec![]),
        ..everything
    };
    assert!(store.orders(&nobody).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unreadable_row_is_reported_corrupt_not_a_panic() {
    let (_dir, path, store) = open_store().await;
    let placed = order(
        "ACC-1",
        None,
        Side::Buy,
        dec!(1),
        Some(dec!(5)),
        OrderStatus::Open,
        at(2026, 3, 2, 0, 0, 0, 0),
    );
    let mut tx = begin_with_accounts(&store, &["ACC-1"], dec!(1)).await;
    tx.insert_order(&placed).await.unwrap();
    tx.commit().await.unwrap();
    store.close().await;

    sqlite3(
        &path,
        "UPDATE orders SET quantity = '1e3'; UPDATE accounts SET limits = '{}';",
    );
    let store = Store::open(&path).await.unwrap();
    let error = store.order(placed.id).await.unwrap_err();
    let id = placed.id.to_string();
    assert!(
        matches!(&error, StoreError::Corrupt { table: "orders", key } if *key == id),
        "{error:?}"
    );
    let error = store.account(&account_id("ACC-1")).await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Corrupt {
                table: "accounts",
                ..
            }
        ),
        "{error:?}"
    );
}
