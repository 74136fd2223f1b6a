//! The replayed market a test gateway runs on, and its reference prices.
//!
//! Test gateways replay the bundled data from a fixed moment at one data
//! second per wall second. BTC-USD is started inside a stretch of seven
//! one-minute bars with the same close, and USD-JPY (whose data does not cover
//! that moment) starts at its first quote, which holds for over two minutes:
//! so the reference prices stay put for the whole of a test run, and a test
//! can read the price it expects from the data files themselves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeZone, Utc};
use rampart_core::InstrumentId;
use rampart_trading::MarketData;
use rust_decimal::Decimal;

/// The bitcoin instrument.
pub const BTC: &str = "BTC-USD";

/// The dollar-yen instrument.
pub const JPY: &str = "USD-JPY";

/// Market data directories already read, since reading one takes a while.
static LOADED: Mutex<BTreeMap<PathBuf, Arc<MarketData>>> = Mutex::new(BTreeMap::new());

/// The data time test gateways start replaying at.
pub fn replay_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 1, 15, 22, 36, 0)
        .single()
        .expect("a valid time")
}

/// The market data in `dir`, read once per test binary.
fn load(dir: &Path) -> Arc<MarketData> {
    let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
    let data = loaded.entry(dir.to_path_buf()).or_insert_with(|| {
        Arc::new(MarketData::load_dir(dir).expect("the bundled market data loads"))
    });
    Arc::clone(data)
}

/// The price `data` sets for `instrument` at `time`, or at its first price when
/// `time` is outside the series (as the replay does).
fn price_in(data: &MarketData, instrument: &str, time: DateTime<Utc>) -> Decimal {
    let id: InstrumentId = instrument.parse().expect("a valid instrument id");
    let series = data
        .series(&id)
        .expect("the instrument is in the market data");
    let covered = time >= series.first_time() && time <= series.last_time();
    let at = if covered { time } else { series.first_time() };
    series.price_at(at).expect("a price at that time")
}

/// The price the data in `market_dir` sets for `instrument` when a replay starts at
/// [`replay_start`].
pub fn reference_price(market_dir: &Path, instrument: &str) -> Decimal {
    price_in(&load(market_dir), instrument, replay_start())
}

/// [`reference_price`] in the repository's bundled market data, which test gateways replay.
pub fn bundled_reference_price(instrument: &str) -> Decimal {
    reference_price(&bundled_dir(), instrument)
}

/// The price the bundled data sets for `instrument` at `time`.
pub fn bundled_price_at(instrument: &str, time: DateTime<Utc>) -> Decimal {
    price_in(&load(&bundled_dir()), instrument, time)
}

fn bundled_dir() -> PathBuf {
    rampart_server::config::Config::for_tests(Path::new("unused"))
        .market
        .data_dir
}
