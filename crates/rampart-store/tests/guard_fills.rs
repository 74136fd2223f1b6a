//! The fills the repeated-execution guard is seeded with: a recorded trip of the
//! guard leaves out the fills booked no later than its `tripped_at`, whatever its
//! place in the log, and an older trip event without that time counts from its own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use chrono::{DateTime, Utc};
use common::{account, at, open_store, order};
use rampart_audit::{NewEvent, Outcome};
use rampart_core::{OrderStatus, PlacedByKind, Side};
use rampart_store::Store;
use rust_decimal_macros::dec;
use serde_json::{Value, json};

const TRIPPED: &str = "execution_guard.tripped";

/// A store holding one order of client `c-1` and three `order.filled` events for it,
/// logged in order; answers the fills' times.
async fn three_fills() -> (tempfile::TempDir, Store, Vec<DateTime<Utc>>) {
    let (dir, _path, store) = open_store().await;
    let mut placed = order(
        "ACC-1",
        None,
        Side::Buy,
        dec!(1),
        Some(dec!(40000)),
        OrderStatus::Open,
        at(2026, 3, 2, 10, 0, 0, 0),
    );
    placed.placed_by = "c-1".to_owned();
    placed.placed_by_kind = PlacedByKind::Client;
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&account("ACC-1", dec!(100000)))
        .await
        .unwrap();
    tx.insert_order(&placed).await.unwrap();
    let mut times = Vec::new();
    for _ in 0..3 {
        let target = format!("order:{}", placed.id);
        let event = NewEvent::new("broker", "order.filled", target, Outcome::Success, "r-1");
        times.push(tx.append(event).await.unwrap().time);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    tx.commit().await.unwrap();
    (dir, store, times)
}

/// Logs a trip of the guard for `c-1`, after every fill, with `details`.
async fn log_trip(store: &Store, details: Value) {
    let mut tx = store.begin().await.unwrap();
    let trip = NewEvent::new("system", TRIPPED, "client:c-1", Outcome::Success, "r-2");
    tx.append(trip.details(details)).await.unwrap();
    tx.commit().await.unwrap();
}

async fn seeded(store: &Store) -> Vec<DateTime<Utc>> {
    let since = at(2000, 1, 1, 0, 0, 0, 0);
    let fills = store
        .client_fills_since(since, "system", TRIPPED)
        .await
        .unwrap();
    assert!(fills.iter().all(|fill| fill.client_id == "c-1"));
    fills.into_iter().map(|fill| fill.booked_at).collect()
}

#[tokio::test]
async fn fills_booked_after_a_trips_time_count_though_the_trip_was_logged_after_them() {
    let (_dir, store, times) = three_fills().await;
    let tripped_at = rampart_audit::time::format(&times[0]);
    log_trip(&store, json!({ "tripped_at": tripped_at })).await;

    let counted = seeded(&store).await;
    let later: Vec<_> = times.iter().copied().filter(|t| *t > times[0]).collect();
    assert_eq!(
        later.len(),
        2,
        "the fills were booked at distinct times: {times:?}"
    );
    assert_eq!(counted, later);
}

#[tokio::test]
async fn a_trip_logged_without_its_time_leaves_out_every_fill_before_it() {
    let (_dir, store, _times) = three_fills().await;
    log_trip(&store, json!({ "fills": 3 })).await;

    assert_eq!(seeded(&store).await, Vec::<DateTime<Utc>>::new());
}

#[tokio::test]
async fn without_a_trip_every_fill_in_the_window_counts() {
    let (_dir, store, times) = three_fills().await;
    assert_eq!(seeded(&store).await, times);
}
