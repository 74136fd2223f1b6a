//! Migration 0007 on a database that already holds data: engagements are
//! copied into the rebuilt `kill_switches` table, and orders placed before it
//! are attributed to a person or a client as far as the records tell.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use std::borrow::Cow;

use common::sqlite3;
use rampart_core::{KillSwitchScope, PlacedByKind};
use rampart_store::{OrderFilter, Store};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

/// Creates the database at `path` with every migration before 0007 applied.
async fn before_attribution(path: &std::path::Path) {
    let mut migrator = sqlx::migrate!("./migrations");
    let earlier: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < 7)
        .cloned()
        .collect();
    migrator.migrations = Cow::Owned(earlier);
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    migrator.run(&pool).await.unwrap();
    pool.close().await;
}

const SEED: &str = "
INSERT INTO accounts (id, currency, initial_cash, limits, created_at)
    VALUES ('ACC-1', 'USD', '1000', '{}', '2026-03-01T09:00:00.000000Z');
INSERT INTO users (id, username, password_hash, roles, must_change_password, created_at)
    VALUES ('u-1', 'ann', 'x', '[]', 0, '2026-03-01T09:00:00.000000Z');
INSERT INTO orders (id, account_id, instrument, side, order_type, quantity, limit_price,
    time_in_force, status, filled_quantity, placed_by, created_at, updated_at)
    VALUES
    ('0190c2a4-7d1e-7000-8000-000000000001', 'ACC-1', 'BTC-USD', 'buy', 'limit', '1',
     '40000', 'gtc', 'open', '0', 'u-1',
     '2026-03-01T10:00:00.000000Z', '2026-03-01T10:00:00.000000Z'),
    ('0190c2a4-7d1e-7000-8000-000000000002', 'ACC-1', 'BTC-USD', 'buy', 'limit', '1',
     '40000', 'gtc', 'open', '0', 'cl-1',
     '2026-03-01T10:00:01.000000Z', '2026-03-01T10:00:01.000000Z');
INSERT INTO kill_switches (id, scope, account_id, reason, engaged_by, engaged_at)
    VALUES
    ('0190c2a4-7d1e-7000-8000-0000000000a1', 'global', NULL, 'halt', 'risk-1',
     '2026-03-01T11:00:00.000000Z'),
    ('0190c2a4-7d1e-7000-8000-0000000000a2', 'account', 'ACC-1', 'breach', 'risk-1',
     '2026-03-01T11:00:01.000000Z');
";

#[tokio::test]
async fn engagements_and_orders_survive_the_migration_with_their_attribution() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    before_attribution(&path).await;
    sqlite3(&path, SEED);

    let store = Store::open(&path).await.unwrap();
    let engagements = store.kill_switches(true).await.unwrap();
    let scopes: Vec<_> = engagements.iter().map(|e| e.scope.clone()).collect();
    assert_eq!(
        scopes,
        [
            KillSwitchScope::Global,
            KillSwitchScope::Account("ACC-1".parse().unwrap()),
        ]
    );
    assert_eq!(engagements[1].reason, "breach");

    let filter = OrderFilter {
        limit: 10,
        ..OrderFilter::default()
    };
    let orders = store.orders(&filter).await.unwrap();
    assert_eq!(orders[0].placed_by_kind, PlacedByKind::User);
    assert_eq!(orders[0].algo_id, None);
    assert_eq!(orders[1].placed_by_kind, PlacedByKind::Client);
    assert_eq!(orders[1].algo_id.as_deref(), Some("cl-1"));
    assert_eq!(orders[1].limits_version, None);
}
