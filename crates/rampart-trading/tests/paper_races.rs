//! Cancels racing the replay: every resting order ends filled once or cancelled, never both.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rampart_core::{AccountId, NewOrder, Order, OrderId, OrderStatus, OrderType, Price};
use rampart_core::{Quantity, Side, TimeInForce};
use rampart_trading::market::{PricePoint, Series};
use rampart_trading::{Broker, Clock, Execution, Fill, MarketData, PaperBroker, ReplayConfig};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tokio::sync::mpsc;

const ORDERS: usize = 200;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
}

/// A price of 100 that drops to 90 one data second after the start.
fn market() -> MarketData {
    let points = [
        PricePoint {
            time: start(),
            price: dec!(100),
        },
        PricePoint {
            time: start() + TimeDelta::seconds(1),
            price: dec!(90),
        },
    ];
    MarketData::from_series([("BTC-USD".parse().unwrap(), Series::new(&points).unwrap())])
}

fn resting_buy(limit: Decimal) -> Order {
    let new = NewOrder {
        account_id: "ACC-1".parse::<AccountId>().unwrap(),
        instrument: "BTC-USD".parse().unwrap(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        quantity: Quantity::new(dec!(1)).unwrap(),
        limit_price: Price::new(limit),
        time_in_force: TimeInForce::Gtc,
        client_order_id: None,
    };
    Order::from_new(
        OrderId::generate(),
        &new,
        &rampart_core::Attribution::new("algo-1", rampart_core::PlacedByKind::Client),
        OrderStatus::Open,
        start(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resting_order_is_either_filled_once_or_cancelled_never_both() {
    let wall = Arc::new(Mutex::new(start()));
    let shared = wall.clone();
    let clock: Arc<dyn Clock> = Arc::new(move || *shared.lock().unwrap());
    let (sender, mut fills) = mpsc::channel::<Fill>(ORDERS * 2);
    let config = ReplayConfig {
        start: None,
        speed: 1,
    };
    let broker = Arc::new(PaperBroker::with_clock(market(), config, sender, clock));

    let mut ids = Vec::new();
    for _ in 0..ORDERS {
        let order = resting_buy(dec!(95));
        assert_eq!(broker.submit(&order).await.unwrap(), Execution::Resting);
        ids.push(order.id);
    }
    *wall.lock().unwrap() += TimeDelta::seconds(2);

    let ticker = {
        let broker = broker.clone();
        tokio::spawn(async move { broker.tick().await })
    };
    let cancels: Vec<_> = ids
        .iter()
        .map(|&id| {
            let broker = broker.clone();
            tokio::spawn(async move { (id, broker.cancel(id).await.unwrap()) })
        })
        .collect();

    let mut cancelled = BTreeSet::new();
    for task in cancels {
        let (id, was_resting) = task.await.unwrap();
        if was_resting {
            cancelled.insert(id);
        }
    }
    let sent = ticker.await.unwrap();
    drop(broker);
    let mut filled = Vec::new();
    while let Some(fill) = fills.recv().await {
        filled.push(fill.order_id);
    }

    let filled_set: BTreeSet<OrderId> = filled.iter().copied().collect();
    assert_eq!(filled.len(), filled_set.len(), "an order was filled twice");
    assert_eq!(sent, filled.len());
    assert!(
        filled_set.is_disjoint(&cancelled),
        "an order was filled and cancelled"
    );
    let all: BTreeSet<OrderId> = ids.into_iter().collect();
    let settled: BTreeSet<OrderId> = filled_set.union(&cancelled).copied().collect();
    assert_eq!(settled, all, "an order was neither filled nor cancelled");
}

#[tokio::test]
async fn a_resting_buy_fills_at_exactly_its_limit_and_not_one_tick_below_it() {
    let wall = Arc::new(Mutex::new(start()));
    let shared = wall.clone();
    let clock: Arc<dyn Clock> = Arc::new(move || *shared.lock().unwrap());
    let (sender, mut fills) = mpsc::channel::<Fill>(8);
    let config = ReplayConfig {
        start: None,
        speed: 1,
    };
    let broker = PaperBroker::with_clock(market(), config, sender, clock);
    let at_limit = resting_buy(dec!(90));
    let below = resting_buy(dec!(89.999));
    broker.submit(&at_limit).await.unwrap();
    broker.submit(&below).await.unwrap();

    *wall.lock().unwrap() += TimeDelta::milliseconds(1500);
    assert_eq!(broker.tick().await, 1);
    let fill = fills.recv().await.unwrap();

    assert_eq!(fill.order_id, at_limit.id);
    assert_eq!(fill.price, dec!(90));
    assert_eq!(broker.resting_orders().len(), 1);
    assert_eq!(broker.resting_orders()[0].id, below.id);
}
