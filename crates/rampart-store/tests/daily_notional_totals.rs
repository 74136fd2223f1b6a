//! The running daily notional totals equal a full recomputation from the orders.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::{account, account_id, at, open_store, order, sqlite3};
use rampart_core::{InstrumentId, Order, OrderStatus, Side};
use rampart_store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sqlx::sqlite::SqliteConnectOptions;

const ACCOUNTS: [&str; 2] = ["ACC-1", "ACC-2"];
const INSTRUMENTS: [&str; 2] = ["BTC-USD", "USD-JPY"];

/// The totals per account and UTC day, as the store reports them.
type Totals = BTreeMap<(String, NaiveDate), Vec<(InstrumentId, Decimal)>>;

fn days() -> [DateTime<Utc>; 2] {
    [at(2026, 3, 10, 0, 0, 0, 0), at(2026, 3, 11, 0, 0, 0, 0)]
}

fn amount(rng: &mut StdRng, max_cents: i64) -> Decimal {
    Decimal::new(rng.gen_range(1..=max_cents), 2)
}

/// A new order on a random account, instrument and day; market when `price` is none.
fn random_order(rng: &mut StdRng) -> Order {
    let day = days()[rng.gen_range(0..2)];
    let created_at = day + Duration::microseconds(rng.gen_range(0..86_400_000_000));
    let price = rng.gen_bool(0.5).then(|| amount(rng, 5_000_000));
    let status = match rng.gen_range(0..10) {
        0 => OrderStatus::Rejected,
        _ => OrderStatus::Open,
    };
    let mut placed = order(
        ACCOUNTS[rng.gen_range(0..2)],
        None,
        Side::Buy,
        amount(rng, 2_000),
        price,
        status,
        created_at,
    );
    placed.instrument = INSTRUMENTS[rng.gen_range(0..2)].parse().unwrap();
    placed
}

/// Fills part or all of `placed` at a random price.
fn fill(rng: &mut StdRng, placed: &mut Order) {
    let quantity = placed.quantity.value();
    let filled = match rng.gen_bool(0.5) {
        true => quantity,
        false => (quantity * Decimal::new(rng.gen_range(1..=99), 2)).round_dp(4),
    };
    placed.filled_quantity = filled;
    placed.average_fill_price = Some(amount(rng, 5_000_000));
    if filled == quantity {
        placed.status = OrderStatus::Filled;
    }
}

/// Runs `steps` random writes (inserts, check prices, fills, cancels, status changes).
async fn random_writes(store: &Store, seed: u64, steps: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut placed: Vec<Order> = Vec::new();
    let mut tx = store.begin().await.unwrap();
    for step in 0..steps {
        let pick = rng.gen_range(0..placed.len().max(1));
        match (rng.gen_range(0..6), placed.get_mut(pick)) {
            (0 | 1, _) | (_, None) => {
                let new = random_order(&mut rng);
                match new.limit_price.is_none() && rng.gen_bool(0.7) {
                    true => {
                        tx.insert_order_checked(&new, amount(&mut rng, 5_000_000))
                            .await
                    }
                    false => tx.insert_order(&new).await,
                }
                .unwrap();
                placed.push(new);
            }
            (2, Some(chosen)) => {
                tx.set_check_price(chosen.id, amount(&mut rng, 5_000_000))
                    .await
                    .unwrap();
            }
            (3, Some(chosen)) => {
                fill(&mut rng, chosen);
                tx.update_order(chosen).await.unwrap();
            }
            (4, Some(chosen)) => {
                chosen.status = OrderStatus::Cancelled;
                tx.update_order(chosen).await.unwrap();
            }
            (_, Some(chosen)) => {
                chosen.status = [
                    OrderStatus::Rejected,
                    OrderStatus::Open,
                    OrderStatus::Filled,
                    OrderStatus::Cancelled,
                ][rng.gen_range(0..4)];
                tx.update_order(chosen).await.unwrap();
            }
        }
        if step % 25 == 24 {
            tx.commit().await.unwrap();
            tx = store.begin().await.unwrap();
        }
    }
    tx.commit().await.unwrap();
}

/// A store with both accounts, after the random writes of `seed`.
async fn seeded(seed: u64) -> (tempfile::TempDir, std::path::PathBuf, Store) {
    let (dir, path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    for id in ACCOUNTS {
        tx.insert_account(&account(id, dec!(0))).await.unwrap();
    }
    tx.commit().await.unwrap();
    random_writes(&store, seed, 300).await;
    (dir, path, store)
}

/// The totals the store reports for every account and day.
async fn reported(store: &Store) -> Totals {
    let mut totals = Totals::new();
    let mut tx = store.begin().await.unwrap();
    for id in ACCOUNTS {
        for day in days() {
            let noon = day + Duration::hours(12);
            let by_instrument = tx
                .daily_notional_by_instrument(&account_id(id), noon)
                .await
                .unwrap();
            let btc = "BTC-USD".parse().unwrap();
            let state = tx.account_state(&account_id(id), &btc, noon).await.unwrap();
            let sum: Decimal = by_instrument.iter().map(|(_, n)| *n).sum();
            assert_eq!(state.daily_notional, sum, "{id} on {day}");
            totals.insert((id.to_owned(), day.date_naive()), by_instrument);
        }
    }
    totals
}

/// `account_id, created_at, instrument, status, quantity, limit_price,
/// filled_quantity, average_fill_price, check_price` of a stored order.
type StoredOrder = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

fn number(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// What one stored order counts, or `None` if it is rejected.
fn counted(order: &StoredOrder) -> Option<Decimal> {
    let (_, _, _, status, quantity, limit, filled, average, check) = order;
    if status == "rejected" {
        return None;
    }
    if let Some(limit) = limit {
        return Some(number(quantity) * number(limit));
    }
    let executed = number(filled) * average.as_deref().map_or(Decimal::ZERO, number);
    let left = (number(quantity) - number(filled)).max(Decimal::ZERO);
    let pending = match (status.as_str(), check) {
        ("open", Some(check)) => left * number(check),
        _ => Decimal::ZERO,
    };
    Some(executed + pending)
}

/// The totals recomputed here from every stored order, read back with plain SQL.
async fn recomputed(path: &Path) -> Totals {
    let pool = sqlx::SqlitePool::connect_with(SqliteConnectOptions::new().filename(path))
        .await
        .unwrap();
    let stored: Vec<StoredOrder> = sqlx::query_as(
        "SELECT account_id, created_at, instrument, status, quantity, limit_price, \
         filled_quantity, average_fill_price, check_price FROM orders",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;

    let mut sums: BTreeMap<(String, NaiveDate, String), Decimal> = BTreeMap::new();
    for order in &stored {
        let Some(notional) = counted(order) else {
            continue;
        };
        let day = DateTime::parse_from_rfc3339(&order.1).unwrap().date_naive();
        *sums
            .entry((order.0.clone(), day, order.2.clone()))
            .or_default() += notional;
    }
    let mut totals = Totals::new();
    for id in ACCOUNTS {
        for day in days() {
            let listed = sums
                .iter()
                .filter(|((a, d, _), _)| a == id && *d == day.date_naive())
                .map(|((_, _, instrument), sum)| (instrument.parse().unwrap(), *sum))
                .collect();
            totals.insert((id.to_owned(), day.date_naive()), listed);
        }
    }
    totals
}

#[tokio::test]
async fn running_totals_equal_a_recomputation_from_the_orders_after_random_writes() {
    for seed in [1, 2, 3, 4] {
        let (_dir, path, store) = seeded(seed).await;

        let reported = reported(&store).await;
        let expected = recomputed(&path).await;

        assert_eq!(reported, expected, "seed {seed}");
        assert!(
            reported.values().any(|listed| !listed.is_empty()),
            "seed {seed} counted nothing"
        );
    }
}

#[tokio::test]
async fn totals_dropped_from_an_older_database_are_rebuilt_on_open() {
    let (_dir, path, store) = seeded(7).await;
    let before = reported(&store).await;
    store.close().await;

    sqlite3(&path, "DELETE FROM daily_notional;");
    let emptied = sqlite3(&path, "SELECT COUNT(*) FROM daily_notional;");
    let reopened = Store::open(&path).await.unwrap();
    let after = reported(&reopened).await;

    assert_eq!(emptied.trim(), "0");
    assert_eq!(after, before);
    assert_eq!(after, recomputed(&path).await);
}

#[tokio::test]
async fn an_order_placed_on_another_utc_day_does_not_count_today() {
    let (_dir, _path, store) = open_store().await;
    let [today, tomorrow] = days();
    let placed = |when| {
        order(
            "ACC-1",
            None,
            Side::Buy,
            dec!(2),
            Some(dec!(100)),
            OrderStatus::Open,
            when,
        )
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&account("ACC-1", dec!(0))).await.unwrap();
    tx.insert_order(&placed(today + Duration::hours(23)))
        .await
        .unwrap();
    tx.insert_order(&placed(tomorrow)).await.unwrap();
    tx.insert_order(&placed(tomorrow + Duration::hours(1)))
        .await
        .unwrap();

    let btc: InstrumentId = "BTC-USD".parse().unwrap();
    let first = tx
        .account_state(&account_id("ACC-1"), &btc, today + Duration::hours(12))
        .await
        .unwrap();
    let second = tx
        .daily_notional_by_instrument(&account_id("ACC-1"), tomorrow + Duration::hours(12))
        .await
        .unwrap();

    assert_eq!(first.daily_notional, dec!(200));
    assert_eq!(second, vec![(btc, dec!(400))]);
}

#[tokio::test]
async fn an_instrument_whose_only_order_is_rejected_later_is_no_longer_listed() {
    let (_dir, _path, store) = open_store().await;
    let [today, _] = days();
    let mut placed = order(
        "ACC-1",
        None,
        Side::Buy,
        dec!(1),
        Some(dec!(100)),
        OrderStatus::Open,
        today,
    );
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&account("ACC-1", dec!(0))).await.unwrap();
    tx.insert_order(&placed).await.unwrap();
    placed.status = OrderStatus::Rejected;
    tx.update_order(&placed).await.unwrap();

    let listed = tx
        .daily_notional_by_instrument(&account_id("ACC-1"), today + Duration::hours(1))
        .await
        .unwrap();

    assert_eq!(listed, Vec::new());
}

#[tokio::test]
async fn a_cancelled_unfilled_market_order_still_lists_its_instrument_at_zero() {
    let (_dir, _path, store) = open_store().await;
    let [today, _] = days();
    let mut placed = order(
        "ACC-1",
        None,
        Side::Buy,
        dec!(1),
        None,
        OrderStatus::Open,
        today,
    );
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&account("ACC-1", dec!(0))).await.unwrap();
    tx.insert_order_checked(&placed, dec!(100)).await.unwrap();
    placed.status = OrderStatus::Cancelled;
    tx.update_order(&placed).await.unwrap();

    let listed = tx
        .daily_notional_by_instrument(&account_id("ACC-1"), today + Duration::hours(1))
        .await
        .unwrap();

    assert_eq!(listed, vec![(placed.instrument.clone(), dec!(0))]);
}
