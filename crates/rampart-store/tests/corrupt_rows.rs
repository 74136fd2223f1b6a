//! Rows changed outside the gateway come back as `Corrupt`, naming their table, never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use chrono::Duration;
use common::{account, account_id, at, open_store, order, sqlite3};
use rampart_core::{OrderStatus, Side};
use rampart_store::{FillRecord, OrderFilter, Store, StoreError};
use rust_decimal_macros::dec;

/// A closed store with one account, one open order and one position.
async fn seeded() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path, store) = open_store().await;
    let now = at(2026, 3, 10, 12, 0, 0, 0);
    let placed = order(
        "ACC-1",
        Some("c-1"),
        Side::Buy,
        dec!(1),
        Some(dec!(100)),
        OrderStatus::Open,
        now,
    );
    let fill = FillRecord {
        order_id: placed.id,
        account_id: account_id("ACC-1"),
        instrument: "BTC-USD".parse().unwrap(),
        side: Side::Buy,
        quantity: dec!(1),
        price: dec!(100),
        time: now,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&account("ACC-1", dec!(1000)))
        .await
        .unwrap();
    tx.insert_order(&placed).await.unwrap();
    tx.apply_fill(&fill).await.unwrap();
    tx.commit().await.unwrap();
    store.close().await;
    (dir, path)
}

async fn reads(path: &std::path::Path) -> Vec<Result<(), StoreError>> {
    let store = Store::open(path).await.unwrap();
    let filter = OrderFilter {
        accounts: None,
        status: None,
        limit: 10,
        after: None,
    };
    let now = at(2026, 3, 10, 12, 0, 0, 0) + Duration::seconds(1);
    let mut tx = store.begin().await.unwrap();
    let results = vec![
        store.orders(&filter).await.map(drop),
        store.open_orders().await.map(drop),
        store.positions(&account_id("ACC-1")).await.map(drop),
        store.accounts().await.map(drop),
        tx.account_state(&account_id("ACC-1"), &"BTC-USD".parse().unwrap(), now)
            .await
            .map(drop),
    ];
    drop(tx);
    store.close().await;
    results
}

#[tokio::test]
async fn every_corrupted_column_is_a_typed_error() {
    for sql in [
        "UPDATE orders SET quantity = '-1'",
        "UPDATE orders SET quantity = 'NaN'",
        "UPDATE orders SET limit_price = '0'",
        "UPDATE orders SET filled_quantity = ''",
        "UPDATE orders SET created_at = '2026-03-10T12:00:00Z'",
        "UPDATE orders SET account_id = 'ACC 1'",
        "UPDATE orders SET id = 'not-a-uuid'",
        "UPDATE orders SET check_price = '1,5'",
        "UPDATE positions SET quantity = '99999999999999999999999999999999'",
        "UPDATE positions SET cost = 'x'",
        "UPDATE cash SET amount = '1.0.0'",
        "UPDATE accounts SET limits = '{\"max_order_quantity\": 1}'",
    ] {
        let (_dir, path) = seeded().await;
        sqlite3(&path, &format!("PRAGMA foreign_keys = OFF; {sql};"));
        let results = reads(&path).await;
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(StoreError::Corrupt { .. }))),
            "`{sql}` was not reported corrupt: {results:?}"
        );
        assert!(
            results
                .iter()
                .all(|r| r.is_ok() || matches!(r, Err(StoreError::Corrupt { .. }))),
            "`{sql}` gave another error: {results:?}"
        );
    }
}
