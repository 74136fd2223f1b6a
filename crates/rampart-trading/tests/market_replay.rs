//! The paper broker and the controls on the market data shipped with the repository.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rampart_core::{InstrumentCatalog, InstrumentId, Order, OrderId, OrderRequest, OrderStatus};
use rampart_core::{RiskLimits, Side};
use rampart_trading::controls::{self, AccountState};
use rampart_trading::default_instruments;
use rampart_trading::market::{BTC_USD, PricePoint, USD_JPY};
use rampart_trading::{Broker, Clock, Execution, MarketData, PaperBroker, ReplayConfig};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tokio::sync::mpsc;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/market")
}

static MARKET: LazyLock<Arc<MarketData>> =
    LazyLock::new(|| Arc::new(MarketData::load_dir(&data_dir()).unwrap()));

fn market() -> Arc<MarketData> {
    MARKET.clone()
}

fn id(symbol: &str) -> InstrumentId {
    symbol.parse().unwrap()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

struct Wall(Arc<Mutex<DateTime<Utc>>>);

impl Wall {
    fn advance(&self, delta: TimeDelta) {
        *self.0.lock().unwrap() += delta;
    }
}

fn broker(
    start: Option<DateTime<Utc>>,
) -> (PaperBroker, Wall, mpsc::Receiver<rampart_trading::Fill>) {
    let wall = Arc::new(Mutex::new(utc(2026, 1, 5, 9, 0, 0)));
    let shared = wall.clone();
    let clock: Arc<dyn Clock> = Arc::new(move || *shared.lock().unwrap());
    let (sender, receiver) = mpsc::channel(64);
    let config = ReplayConfig { start, speed: 60 };
    (
        PaperBroker::with_clock(market(), config, sender, clock),
        Wall(wall),
        receiver,
    )
}

fn example_request() -> OrderRequest {
    serde_json::from_str(
        r#"{"account_id": "ACC-1", "instrument": "BTC-USD", "side": "buy", "type": "limit",
            "quantity": "0.50", "limit_price": "43000.10", "time_in_force": "gtc",
            "client_order_id": "c-0001"}"#,
    )
    .unwrap()
}

#[test]
fn the_btc_bars_load_as_one_price_per_minute() {
    let market = market();
    let series = market.series(&id(BTC_USD)).unwrap();
    assert_eq!(series.len(), 45_031);
    assert_eq!(series.first_time(), utc(2021, 12, 31, 23, 2, 0));
    assert_eq!(series.last_time(), utc(2022, 2, 1, 5, 32, 0));
    assert_eq!(
        series.price_at(utc(2021, 12, 31, 23, 2, 30)),
        Some(dec!(46377.0))
    );
    assert_eq!(
        series.price_at(utc(2022, 2, 1, 5, 32, 0)),
        Some(dec!(38544.0))
    );
}

#[test]
fn the_usdjpy_quotes_load_as_mid_prices_on_the_tick() {
    let market = market();
    let series = market.series(&id(USD_JPY)).unwrap();
    assert_eq!(series.len(), 1_000);
    let first = utc(2013, 1, 1, 22, 0, 0) + TimeDelta::milliseconds(295);
    assert_eq!(series.first_time(), first);
    assert_eq!(series.price_at(first), Some(dec!(86.692)));
    assert_eq!(
        series.price_at(utc(2013, 1, 1, 23, 0, 0)),
        Some(dec!(86.845))
    );
}

#[test]
fn every_replayed_price_is_on_its_instrument_tick() {
    let market = market();
    for instrument in default_instruments() {
        let series = market.series(&instrument.id).unwrap();
        let off_tick: Vec<PricePoint> = series
            .points()
            .filter(|p| !instrument.on_tick(p.price))
            .collect();
        assert!(
            off_tick.is_empty(),
            "{}: {:?}",
            instrument.id,
            off_tick.first()
        );
    }
}

#[tokio::test]
async fn the_design_example_order_passes_the_controls_and_fills_at_the_reference_price() {
    let catalog = InstrumentCatalog::new(default_instruments());
    let order = example_request().validate(&catalog).unwrap();
    let (broker, _, _fills) = broker(Some(utc(2022, 1, 20, 12, 0, 0)));
    let reference = broker.reference_price(&order.instrument).unwrap();
    assert!(
        reference > dec!(41000) && reference < dec!(43000.10),
        "{reference}"
    );

    let limits = RiskLimits {
        max_order_quantity: dec!(1),
        max_order_notional: dec!(25000),
        price_collar_pct: dec!(5),
        max_position_quantity: dec!(2),
        max_daily_notional: dec!(100000),
        max_orders_per_second: 10,
        max_risk_per_trade_pct: dec!(25),
        allowed_instruments: vec![id(BTC_USD)],
        trading_hours: None,
    };
    limits.validate(&catalog).unwrap();
    let equity = controls::equity(dec!(100000), &[(id(BTC_USD), dec!(0.1))], |i| {
        broker.reference_price(i)
    })
    .unwrap();
    let state = AccountState {
        equity,
        position: dec!(0.1),
        daily_notional: Decimal::ZERO,
        orders_in_last_second: 0,
    };
    let now = utc(2026, 1, 5, 9, 0, 0);
    assert_eq!(
        controls::check(&order, &limits, &state, reference, now),
        Ok(())
    );

    let record = Order::from_new(
        OrderId::generate(),
        &order,
        &rampart_core::Attribution::new("trader-1", rampart_core::PlacedByKind::User),
        OrderStatus::Open,
        now,
    );
    let execution = broker.submit(&record).await.unwrap();
    assert_eq!(
        execution,
        Execution::Filled(rampart_trading::Fill {
            order_id: record.id,
            account_id: record.account_id.clone(),
            instrument: record.instrument.clone(),
            side: Side::Buy,
            quantity: dec!(0.50),
            price: reference,
            time: now,
        })
    );
}

#[tokio::test]
async fn a_resting_order_fills_when_the_real_prices_first_reach_it() {
    let start = utc(2022, 1, 10, 0, 0, 0);
    let (broker, wall, mut fills) = broker(Some(start));
    let series = broker_series();
    let opening = series.price_at(start).unwrap();

    // The lowest price of the next hour, and the minute it first trades.
    let hour: Vec<PricePoint> = series
        .points()
        .filter(|p| p.time > start && p.time <= start + TimeDelta::hours(1))
        .collect();
    let low = hour.iter().map(|p| p.price).min().unwrap();
    let first_low = hour.iter().find(|p| p.price == low).unwrap().time;
    assert!(low < opening, "the test needs a falling hour");

    let catalog = InstrumentCatalog::new(default_instruments());
    let mut request = example_request();
    request.limit_price = Some(low.to_string());
    let order = request.validate(&catalog).unwrap();
    let record = Order::from_new(
        OrderId::generate(),
        &order,
        &rampart_core::Attribution::new("t", rampart_core::PlacedByKind::User),
        OrderStatus::Open,
        start,
    );
    assert_eq!(broker.submit(&record).await, Ok(Execution::Resting));

    // At speed 60 one wall second replays one data minute.
    let minutes_to_low = (first_low - start).num_minutes() as i32;
    wall.advance(TimeDelta::seconds(i64::from(minutes_to_low - 1)));
    assert_eq!(broker.tick().await, 0);
    wall.advance(TimeDelta::seconds(1));
    assert_eq!(broker.tick().await, 1);
    let fill = fills.recv().await.unwrap();
    assert_eq!(
        (fill.order_id, fill.price, fill.side),
        (record.id, low, Side::Buy)
    );
}

#[test]
fn the_short_usdjpy_series_wraps_around_while_btc_runs_on() {
    let (broker, wall, _fills) = broker(None);
    let jpy = market().series(&id(USD_JPY)).unwrap().clone();
    let span = jpy.last_time() - jpy.first_time();
    // One wall second is one data minute: a little over one cycle of USD/JPY.
    wall.advance(TimeDelta::seconds(span.num_minutes() + 2));
    let replayed = broker.data_time(&id(USD_JPY)).unwrap();
    assert!(
        replayed < jpy.first_time() + TimeDelta::minutes(3),
        "{replayed}"
    );
    let btc = broker.data_time(&id(BTC_USD)).unwrap();
    assert_eq!(
        btc,
        utc(2021, 12, 31, 23, 2, 0) + TimeDelta::minutes(span.num_minutes() + 2)
    );
}

fn broker_series() -> rampart_trading::market::Series {
    market().series(&id(BTC_USD)).unwrap().clone()
}
