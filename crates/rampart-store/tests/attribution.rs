//! Attribution on the order record, its filters, desks, client algorithm ids
//! and kill switch engagements of every scope.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use common::{account, at, open_store, order};
use rampart_core::{KillSwitchScope, Order, OrderStatus, PlacedByKind, Side};
use rampart_store::{AttributionFilter, ClientRecord, KillSwitchRecord, OrderFilter, Store};
use rust_decimal_macros::dec;
use uuid::Uuid;

fn attributed(account: &str, by: &str, kind: PlacedByKind, algo: Option<&str>) -> Order {
    let mut placed = order(
        account,
        None,
        Side::Buy,
        dec!(1),
        Some(dec!(40000)),
        OrderStatus::Open,
        at(2026, 3, 2, 10, 0, 0, 0),
    );
    placed.placed_by = by.to_owned();
    placed.placed_by_kind = kind;
    placed.algo_id = algo.map(str::to_owned);
    placed.desk = Some(format!("desk-{account}"));
    placed.limits_version = Some(3);
    placed
}

async fn store_with(orders: &[Order]) -> (tempfile::TempDir, Store) {
    let (dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    for id in ["ACC-1", "ACC-2"] {
        let mut record = account(id, dec!(100000));
        record.desk = Some(format!("desk-{id}"));
        tx.insert_account(&record).await.unwrap();
    }
    for placed in orders {
        tx.insert_order(placed).await.unwrap();
    }
    tx.commit().await.unwrap();
    (dir, store)
}

fn everything() -> OrderFilter {
    OrderFilter {
        limit: 100,
        ..OrderFilter::default()
    }
}

#[tokio::test]
async fn an_order_keeps_who_placed_it_its_algorithm_desk_and_limits_version() {
    let placed = attributed("ACC-1", "u-1", PlacedByKind::User, None);
    let (_dir, store) = store_with(std::slice::from_ref(&placed)).await;
    let read = store.order(placed.id).await.unwrap().unwrap();
    assert_eq!(read.placed_by_kind, PlacedByKind::User);
    assert_eq!(read.algo_id, None);
    assert_eq!(read.desk.as_deref(), Some("desk-ACC-1"));
    assert_eq!(read.limits_version, Some(3));
    assert_eq!(read, placed);
}

#[tokio::test]
async fn an_account_keeps_its_desk() {
    let (_dir, store) = store_with(&[]).await;
    let read = store.account(&"ACC-2".parse().unwrap()).await.unwrap();
    assert_eq!(read.unwrap().desk.as_deref(), Some("desk-ACC-2"));
}

#[tokio::test]
async fn orders_are_selected_by_placer_algorithm_and_desk() {
    let by_person = attributed("ACC-1", "u-1", PlacedByKind::User, None);
    let by_algo = attributed("ACC-1", "c-1", PlacedByKind::Client, Some("twap"));
    let elsewhere = attributed("ACC-2", "c-2", PlacedByKind::Client, Some("twap"));
    let (_dir, store) = store_with(&[by_person.clone(), by_algo.clone(), elsewhere.clone()]).await;
    let select = |by: AttributionFilter| {
        let store = store.clone();
        async move {
            let found = store.orders_attributed(&everything(), &by).await.unwrap();
            found.into_iter().map(|o| o.id).collect::<Vec<_>>()
        }
    };

    let placed_by = AttributionFilter {
        placed_by: Some("u-1".into()),
        ..AttributionFilter::default()
    };
    assert_eq!(select(placed_by).await, [by_person.id]);
    let algo = AttributionFilter {
        algo_id: Some("twap".into()),
        ..AttributionFilter::default()
    };
    assert_eq!(select(algo).await, [by_algo.id, elsewhere.id]);
    let desk_and_algo = AttributionFilter {
        algo_id: Some("twap".into()),
        desk: Some("desk-ACC-2".into()),
        ..AttributionFilter::default()
    };
    assert_eq!(select(desk_and_algo).await, [elsewhere.id]);
    let nobody = AttributionFilter {
        placed_by: Some("' OR 1=1 --".into()),
        ..AttributionFilter::default()
    };
    assert!(select(nobody).await.is_empty());
}

#[tokio::test]
async fn a_client_may_name_its_algorithm() {
    let (_dir, store) = store_with(&[]).await;
    let client = ClientRecord {
        id: "c-9".into(),
        name: "market maker".into(),
        secret_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        roles: rampart_core::RoleSet::new([rampart_core::Role::Trader]).unwrap(),
        accounts: Vec::new(),
        disabled: false,
        created_at: at(2026, 3, 1, 9, 0, 0, 0),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&client).await.unwrap();
    assert_eq!(tx.client_algo_id("c-9").await.unwrap(), None);
    assert!(tx.set_client_algo_id("c-9", Some("mm-v2")).await.unwrap());
    assert!(!tx.set_client_algo_id("ghost", Some("x")).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(
        store.client_algo_id("c-9").await.unwrap().as_deref(),
        Some("mm-v2")
    );
}

#[tokio::test]
async fn engagements_of_every_scope_are_stored_and_read_back() {
    let (_dir, store) = store_with(&[]).await;
    let scopes = [
        KillSwitchScope::Global,
        KillSwitchScope::Account("ACC-1".parse().unwrap()),
        KillSwitchScope::Instrument("BTC-USD".parse().unwrap()),
        KillSwitchScope::Client("c-1".into()),
        KillSwitchScope::Trader("u-1".into()),
    ];
    let mut tx = store.begin().await.unwrap();
    let mut written = Vec::new();
    for (minute, scope) in scopes.into_iter().enumerate() {
        let record = KillSwitchRecord {
            id: Uuid::now_v7(),
            scope,
            reason: "halt".into(),
            engaged_by: "risk-1".into(),
            engaged_at: at(2026, 3, 2, 10, minute as u32, 0, 0),
            released_by: None,
            released_at: None,
        };
        tx.insert_kill_switch(&record).await.unwrap();
        written.push(record);
    }
    tx.commit().await.unwrap();
    assert_eq!(store.kill_switches(true).await.unwrap(), written);
}
