//! Tests of the paper broker: immediate fills, resting orders, replay crossing and cancels.

use chrono::TimeZone;
use rampart_core::{AccountId, NewOrder, OrderStatus, Price, Quantity};
use rust_decimal_macros::dec;

use super::*;
use crate::market::PricePoint;

/// The wall clock of a test, moved by hand.
struct Wall(Arc<Mutex<DateTime<Utc>>>);

impl Wall {
    fn advance_ms(&self, millis: i64) {
        *self.0.lock().unwrap() += TimeDelta::milliseconds(millis);
    }

    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn data_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap()
}

fn btc() -> InstrumentId {
    "BTC-USD".parse().unwrap()
}

/// BTC-USD at 100, 110, 90 and 100, one minute apart; the cycle is 181 data seconds.
fn market() -> MarketData {
    let points: Vec<PricePoint> = [dec!(100), dec!(110), dec!(90), dec!(100)]
        .into_iter()
        .zip(0..)
        .map(|(price, minute)| PricePoint {
            time: data_start() + TimeDelta::minutes(minute),
            price,
        })
        .collect();
    MarketData::from_series([(btc(), Series::new(&points).unwrap())])
}

fn broker_with(config: ReplayConfig) -> (PaperBroker, Wall, mpsc::Receiver<Fill>) {
    let wall = Arc::new(Mutex::new(
        Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap(),
    ));
    let shared = wall.clone();
    let clock: Arc<dyn Clock> = Arc::new(move || *shared.lock().unwrap());
    let (sender, receiver) = mpsc::channel(16);
    (
        PaperBroker::with_clock(market(), config, sender, clock),
        Wall(wall),
        receiver,
    )
}

fn broker() -> (PaperBroker, Wall, mpsc::Receiver<Fill>) {
    broker_with(ReplayConfig::default())
}

fn order(account: &str, side: Side, limit: Option<Decimal>, tif: TimeInForce) -> Order {
    let new = NewOrder {
        account_id: account.parse::<AccountId>().unwrap(),
        instrument: btc(),
        side,
        order_type: if limit.is_some() {
            OrderType::Limit
        } else {
            OrderType::Market
        },
        quantity: Quantity::new(dec!(0.5)).unwrap(),
        limit_price: limit.map(|p| Price::new(p).unwrap()),
        time_in_force: tif,
        client_order_id: None,
    };
    let now = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    Order::from_new(
        OrderId::generate(),
        &new,
        &rampart_core::Attribution::new("trader-1", rampart_core::PlacedByKind::User),
        OrderStatus::Open,
        now,
    )
}

fn limit(side: Side, price: Decimal) -> Order {
    order("ACC-1", side, Some(price), TimeInForce::Gtc)
}

#[test]
fn the_replay_starts_at_the_first_price() {
    let (broker, _, _) = broker();
    assert_eq!(broker.reference_price(&btc()), Some(dec!(100)));
    assert_eq!(broker.data_time(&btc()), Some(data_start()));
}

#[test]
fn speed_sets_the_data_seconds_per_wall_second() {
    let (broker, wall, _) = broker();
    wall.advance_ms(1000);
    assert_eq!(broker.reference_price(&btc()), Some(dec!(110)));
    let (fast, wall, _) = broker_with(ReplayConfig {
        start: None,
        speed: 120,
    });
    wall.advance_ms(1000);
    assert_eq!(fast.reference_price(&btc()), Some(dec!(90)));
    assert_eq!(
        fast.data_time(&btc()),
        Some(data_start() + TimeDelta::minutes(2))
    );
}

#[test]
fn speed_zero_freezes_the_prices() {
    let (broker, wall, _) = broker_with(ReplayConfig {
        start: None,
        speed: 0,
    });
    wall.advance_ms(100_000);
    assert_eq!(broker.reference_price(&btc()), Some(dec!(100)));
}

#[test]
fn the_replay_starts_at_the_configured_data_time() {
    let start = Some(data_start() + TimeDelta::seconds(130));
    let (broker, _, _) = broker_with(ReplayConfig { start, speed: 60 });
    assert_eq!(broker.reference_price(&btc()), Some(dec!(90)));
}

#[test]
fn a_start_outside_the_data_falls_back_to_the_first_price() {
    let start = Some(Utc.with_ymd_and_hms(2013, 1, 1, 0, 0, 0).unwrap());
    let (broker, _, _) = broker_with(ReplayConfig { start, speed: 60 });
    assert_eq!(broker.data_time(&btc()), Some(data_start()));
}

#[test]
fn the_replay_wraps_around_after_the_last_price() {
    let (broker, wall, _) = broker();
    wall.advance_ms(3_000);
    assert_eq!(broker.reference_price(&btc()), Some(dec!(100)));
    // 186 data seconds: past the 181-second cycle, 5 seconds into the next.
    wall.advance_ms(100);
    assert_eq!(
        broker.data_time(&btc()),
        Some(data_start() + TimeDelta::seconds(5))
    );
    wall.advance_ms(1_000);
    assert_eq!(broker.reference_price(&btc()), Some(dec!(110)));
}

#[test]
fn an_unknown_instrument_has_no_reference_price() {
    let (broker, _, _) = broker();
    assert_eq!(broker.reference_price(&"ETH-USD".parse().unwrap()), None);
}

#[tokio::test]
async fn a_market_order_fills_at_once_at_the_reference_price() {
    let (broker, wall, _) = broker();
    wall.advance_ms(1_000);
    let order = order("ACC-1", Side::Buy, None, TimeInForce::Ioc);
    let Execution::Filled(fill) = broker.submit(&order).await.unwrap() else {
        panic!("a market order must fill");
    };
    assert_eq!(
        (fill.order_id, fill.price, fill.quantity),
        (order.id, dec!(110), dec!(0.5))
    );
    assert_eq!((fill.side, fill.time), (Side::Buy, wall.now()));
    assert_eq!(fill.account_id, order.account_id);
}

#[tokio::test]
async fn a_marketable_limit_order_fills_at_the_reference_price() {
    let (broker, _, _) = broker();
    for (side, price) in [
        (Side::Buy, dec!(105)),
        (Side::Sell, dec!(95)),
        (Side::Buy, dec!(100)),
    ] {
        let Execution::Filled(fill) = broker.submit(&limit(side, price)).await.unwrap() else {
            panic!("a marketable limit order must fill");
        };
        assert_eq!(fill.price, dec!(100));
    }
    assert!(broker.resting_orders().is_empty());
}

#[tokio::test]
async fn a_limit_order_that_cannot_fill_rests_when_gtc() {
    let (broker, _, _) = broker();
    let order = limit(Side::Buy, dec!(99.999));
    assert_eq!(broker.submit(&order).await, Ok(Execution::Resting));
    assert_eq!(broker.resting_orders(), vec![order]);
}

#[tokio::test]
async fn a_limit_order_that_cannot_fill_is_cancelled_when_ioc() {
    let (broker, _, _) = broker();
    let order = order("ACC-1", Side::Sell, Some(dec!(100.001)), TimeInForce::Ioc);
    assert_eq!(broker.submit(&order).await, Ok(Execution::Cancelled));
    assert!(broker.resting_orders().is_empty());
}

#[tokio::test]
async fn a_resting_buy_fills_at_its_limit_when_the_price_falls_to_it() {
    let (broker, wall, mut fills) = broker();
    let order = limit(Side::Buy, dec!(95));
    broker.submit(&order).await.unwrap();
    wall.advance_ms(1_000);
    assert_eq!(broker.tick().await, 0);
    wall.advance_ms(1_000);
    assert_eq!(broker.tick().await, 1);
    let fill = fills.try_recv().unwrap();
    assert_eq!(
        (fill.order_id, fill.price, fill.time),
        (order.id, dec!(95), wall.now())
    );
    assert!(broker.resting_orders().is_empty());
}

#[tokio::test]
async fn a_resting_sell_fills_when_the_price_rises_to_it() {
    let (broker, wall, mut fills) = broker();
    let order = limit(Side::Sell, dec!(110));
    broker.submit(&order).await.unwrap();
    wall.advance_ms(1_000);
    assert_eq!(broker.tick().await, 1);
    assert_eq!(fills.try_recv().unwrap().price, dec!(110));
}

#[tokio::test]
async fn a_price_that_came_and_went_between_ticks_still_fills() {
    let (broker, wall, mut fills) = broker();
    broker.submit(&limit(Side::Buy, dec!(90))).await.unwrap();
    // Three wall seconds later the price is back at 100, but it was 90 at 120 s.
    wall.advance_ms(3_000);
    assert_eq!(broker.reference_price(&btc()), Some(dec!(100)));
    assert_eq!(broker.tick().await, 1);
    assert_eq!(fills.try_recv().unwrap().price, dec!(90));
}

#[tokio::test]
async fn a_resting_order_is_not_filled_by_prices_from_before_it_was_placed() {
    let (broker, wall, mut fills) = broker();
    wall.advance_ms(2_500);
    broker.submit(&limit(Side::Sell, dec!(105))).await.unwrap();
    wall.advance_ms(400);
    assert_eq!(broker.tick().await, 0);
    assert!(fills.try_recv().is_err());
    assert_eq!(broker.resting_orders().len(), 1);
}

#[tokio::test]
async fn a_resting_order_fills_again_after_the_replay_wraps_around() {
    let (broker, wall, _fills) = broker();
    wall.advance_ms(2_500);
    broker.submit(&limit(Side::Sell, dec!(110))).await.unwrap();
    wall.advance_ms(1_000);
    assert_eq!(broker.tick().await, 0);
    wall.advance_ms(1_000);
    assert_eq!(broker.tick().await, 1);
}

#[tokio::test]
async fn a_cancelled_order_no_longer_fills() {
    let (broker, wall, mut fills) = broker();
    let order = limit(Side::Buy, dec!(95));
    broker.submit(&order).await.unwrap();
    assert_eq!(broker.cancel(order.id).await, Ok(true));
    assert_eq!(broker.cancel(order.id).await, Ok(false));
    wall.advance_ms(2_000);
    assert_eq!(broker.tick().await, 0);
    assert!(fills.try_recv().is_err());
}

#[tokio::test]
async fn cancel_where_cancels_only_the_chosen_orders() {
    let (broker, _, _) = broker();
    let mine = order("ACC-1", Side::Buy, Some(dec!(50)), TimeInForce::Gtc);
    let theirs = order("ACC-2", Side::Buy, Some(dec!(50)), TimeInForce::Gtc);
    broker.submit(&mine).await.unwrap();
    broker.submit(&theirs).await.unwrap();
    let account = mine.account_id.clone();
    let cancelled = broker
        .cancel_where(&|o: &Order| o.account_id == account)
        .await;
    assert_eq!(cancelled, Ok(vec![mine.id]));
    assert_eq!(broker.resting_orders(), vec![theirs]);
}

#[tokio::test]
async fn cancel_many_reports_the_orders_that_were_resting() {
    let (broker, _, _) = broker();
    let resting = limit(Side::Buy, dec!(50));
    broker.submit(&resting).await.unwrap();
    let unknown = OrderId::generate();
    assert_eq!(
        broker.cancel_many(&[unknown, resting.id]).await,
        Ok(vec![resting.id])
    );
    assert!(broker.resting_orders().is_empty());
}

#[tokio::test]
async fn submitting_a_resting_order_again_is_refused() {
    let (broker, _, _) = broker();
    let order = limit(Side::Buy, dec!(50));
    broker.submit(&order).await.unwrap();
    assert_eq!(
        broker.submit(&order).await,
        Err(BrokerError::DuplicateOrder(order.id))
    );
}

#[tokio::test]
async fn an_order_on_an_unpriced_instrument_is_refused() {
    let (broker, _, _) = broker();
    let mut order = limit(Side::Buy, dec!(50));
    order.instrument = "ETH-USD".parse().unwrap();
    let result = broker.submit(&order).await;
    assert_eq!(result, Err(BrokerError::NoReferencePrice(order.instrument)));
}

#[tokio::test]
async fn an_order_that_is_not_open_is_refused() {
    let (broker, _, _) = broker();
    let mut order = limit(Side::Buy, dec!(50));
    order.status = OrderStatus::Rejected;
    assert_eq!(
        broker.submit(&order).await,
        Err(BrokerError::NotWorking(order.id))
    );
    let mut done = limit(Side::Buy, dec!(50));
    done.filled_quantity = done.quantity.value();
    assert_eq!(
        broker.submit(&done).await,
        Err(BrokerError::NotWorking(done.id))
    );
}

#[tokio::test]
async fn a_limit_order_without_a_limit_price_is_refused() {
    let (broker, _, _) = broker();
    let mut order = limit(Side::Buy, dec!(50));
    order.limit_price = None;
    assert_eq!(
        broker.submit(&order).await,
        Err(BrokerError::MissingLimitPrice(order.id))
    );
}

#[tokio::test]
async fn orders_keep_resting_while_nobody_receives_fills() {
    let (broker, wall, fills) = broker();
    broker.submit(&limit(Side::Buy, dec!(95))).await.unwrap();
    drop(fills);
    wall.advance_ms(2_000);
    assert_eq!(broker.tick().await, 0);
    assert_eq!(broker.resting_orders().len(), 1);
}

#[tokio::test]
async fn run_delivers_fills_and_stops_on_shutdown() {
    let (broker, wall, mut fills) = broker();
    let broker = Arc::new(broker);
    let order = limit(Side::Buy, dec!(95));
    broker.submit(&order).await.unwrap();
    wall.advance_ms(2_000);

    let shutdown = CancellationToken::new();
    let task = tokio::spawn({
        let (broker, shutdown) = (broker.clone(), shutdown.clone());
        async move { broker.run(shutdown).await }
    });
    let fill = tokio::time::timeout(Duration::from_secs(10), fills.recv())
        .await
        .unwrap();
    assert_eq!(fill.unwrap().order_id, order.id);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn run_stops_when_the_fill_channel_closes() {
    let (broker, _, fills) = broker();
    drop(fills);
    let shutdown = CancellationToken::new();
    let stopped = tokio::time::timeout(Duration::from_secs(10), broker.run(shutdown)).await;
    assert!(stopped.is_ok());
}

#[tokio::test]
async fn the_paper_broker_works_as_a_shared_broker() {
    let (broker, _, _fills) = broker();
    let shared: Arc<dyn Broker> = Arc::new(broker);
    let order = limit(Side::Buy, dec!(50));
    assert_eq!(shared.submit(&order).await, Ok(Execution::Resting));
    let cancelled = shared.cancel_where(&|o: &Order| o.id == order.id).await;
    assert_eq!(cancelled, Ok(vec![order.id]));
}
