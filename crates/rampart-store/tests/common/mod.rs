//! Fixtures shared by the store's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};
use rampart_core::{
    AccountId, NewOrder, Order, OrderId, OrderStatus, OrderType, Price, Quantity, RiskLimits, Side,
    TimeInForce,
};
use rampart_store::{AccountRecord, Store, WriteTx};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// A store in a fresh temporary directory; keep the directory alive.
pub async fn open_store() -> (tempfile::TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    let store = Store::open(&path).await.unwrap();
    (dir, path, store)
}

/// A fixed time with microsecond precision.
pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micros: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
        + chrono::Duration::microseconds(micros.into())
}

pub fn account_id(text: &str) -> AccountId {
    text.parse().unwrap()
}

pub fn limits() -> RiskLimits {
    RiskLimits {
        max_order_quantity: dec!(10),
        max_order_notional: dec!(500000),
        price_collar_pct: dec!(5),
        max_position_quantity: dec!(20),
        max_daily_notional: dec!(1000000),
        max_orders_per_second: 5,
        max_risk_per_trade_pct: dec!(50),
        allowed_instruments: vec!["BTC-USD".parse().unwrap()],
        trading_hours: None,
    }
}

pub fn account(id: &str, cash: Decimal) -> AccountRecord {
    AccountRecord {
        id: account_id(id),
        currency: "USD".to_owned(),
        initial_cash: cash,
        limits: limits(),
        created_at: at(2026, 3, 1, 9, 0, 0, 123_456),
        desk: None,
    }
}

/// A write transaction in which each of `accounts` exists with `cash`.
pub async fn begin_with_accounts<'a>(
    store: &'a Store,
    accounts: &[&str],
    cash: Decimal,
) -> WriteTx<'a> {
    let mut tx = store.begin().await.unwrap();
    for id in accounts {
        tx.insert_account(&account(id, cash)).await.unwrap();
    }
    tx
}

/// A limit order (or a market order when `price` is none) on `account`.
pub fn order(
    account: &str,
    coid: Option<&str>,
    side: Side,
    quantity: Decimal,
    price: Option<Decimal>,
    status: OrderStatus,
    created_at: DateTime<Utc>,
) -> Order {
    let new = NewOrder {
        account_id: account_id(account),
        instrument: "BTC-USD".parse().unwrap(),
        side,
        order_type: if price.is_some() {
            OrderType::Limit
        } else {
            OrderType::Market
        },
        quantity: Quantity::new(quantity).unwrap(),
        limit_price: price.map(|p| Price::new(p).unwrap()),
        time_in_force: if price.is_some() {
            TimeInForce::Gtc
        } else {
            TimeInForce::Ioc
        },
        client_order_id: coid.map(|c| c.parse().unwrap()),
    };
    let by = rampart_core::Attribution::new("client-1", rampart_core::PlacedByKind::Client)
        .with_algo(Some("client-1".to_owned()));
    Order::from_new(OrderId::generate(), &new, &by, status, created_at)
}

/// Runs `sql` on the database file with the `sqlite3` command line, waiting
/// for locks as the store's own connections do.
pub fn sqlite3(path: &Path, sql: &str) -> String {
    let output = sqlite3_command(path, sql).output().unwrap();
    assert!(
        output.status.success(),
        "sqlite3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The `sqlite3` command that runs `sql` on the database file.
pub fn sqlite3_command(path: &Path, sql: &str) -> Command {
    let mut command = Command::new("sqlite3");
    command.arg("-cmd").arg(".timeout 5000").arg(path).arg(sql);
    command
}
