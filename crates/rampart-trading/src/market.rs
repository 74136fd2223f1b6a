//! Historical market data for the paper broker, read strictly as decimals.
//!
//! Two files of a market-data directory (the repository's `data/market`) are read:
//! one-minute bars (`timestamp,open,high,low,close,volume`), where the bar
//! labelled `T` covers `[T, T + 1 min)` and its close is the price from
//! `T + 1 min` on; and bid/ask quotes (`timestamp,bid,ask`), whose mid, rounded
//! to the instrument's tick (half to even), is the price from `timestamp` on.
//! Prices never pass through floating point; a bad row is refused with its
//! file and line.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use rampart_core::decimal::parse_positive;
use rampart_core::{Instrument, InstrumentId};
use rust_decimal::{Decimal, RoundingStrategy};

/// The symbol of the bitcoin instrument, priced from the BTC perpetual bars.
pub const BTC_USD: &str = "BTC-USD";
/// The symbol of the dollar-yen instrument, priced from the quotes.
pub const USD_JPY: &str = "USD-JPY";
/// The file of one-minute BTC bars inside a market-data directory.
pub const BTC_USD_FILE: &str = "btc-perp-2022-01-1m.csv";
/// The file of USD/JPY quotes inside a market-data directory.
pub const USD_JPY_FILE: &str = "usdjpy-ticks-2013-01.csv";
/// How long the last price of a series holds before the replay starts again.
pub const WRAP_HOLD: TimeDelta = TimeDelta::seconds(1);

const BAR_LENGTH: TimeDelta = TimeDelta::minutes(1);
const BAR_HEADER: [&str; 6] = ["timestamp", "open", "high", "low", "close", "volume"];
const QUOTE_HEADER: [&str; 3] = ["timestamp", "bid", "ask"];

/// The instruments the bundled market data prices, with matching tick and lot sizes.
///
/// BTC prices carry up to three decimals (such as `46821.125`), so the tick is
/// `0.001`; USD/JPY quotes carry three. Quantities of BTC are in coins (lot
/// `0.001`), of USD/JPY in dollars (lot `1`).
pub fn default_instruments() -> Vec<Instrument> {
    let instrument = |symbol: &str, tick_size, lot_size, currency: &str| {
        symbol.parse().ok().map(|id| Instrument {
            id,
            tick_size,
            lot_size,
            currency: currency.to_owned(),
        })
    };
    [
        instrument(BTC_USD, Decimal::new(1, 3), Decimal::new(1, 3), "USD"),
        instrument(USD_JPY, Decimal::new(1, 3), Decimal::ONE, "JPY"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A price from a point in time on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricePoint {
    /// From when the price holds (UTC).
    pub time: DateTime<Utc>,
    /// The price, greater than zero.
    pub price: Decimal,
}

/// What went wrong while loading market data.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    /// The file could not be opened or read.
    #[error("cannot read `{file}`: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A row, or the header at line 1, is malformed.
    #[error("`{file}` line {line}: {reason}")]
    Row {
        /// The file.
        file: PathBuf,
        /// The line, counting from 1.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The points do not form a series: none at all, or out of time order.
    #[error("{0}")]
    Series(String),
}

/// The prices of one instrument over time, as a step function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    start: DateTime<Utc>,
    // INVARIANT: non-empty, same length as `prices`, sorted, first element 0.
    offsets: Vec<i64>,
    prices: Vec<Decimal>,
}

impl Series {
    /// A series from points in time order; refuses an empty or unordered list.
    pub fn new(points: &[PricePoint]) -> Result<Self, MarketError> {
        let first = points
            .first()
            .ok_or_else(|| series_error("a series needs a price"))?;
        let mut offsets = Vec::with_capacity(points.len());
        for point in points {
            let offset = (point.time - first.time).num_microseconds();
            match (offset, offsets.last()) {
                (Some(offset), last) if last.is_none_or(|last| *last <= offset) => {
                    offsets.push(offset);
                }
                _ => return Err(series_error("prices must be in time order")),
            }
        }
        if points.iter().any(|p| p.price <= Decimal::ZERO) {
            return Err(series_error("prices must be greater than zero"));
        }
        let prices = points.iter().map(|p| p.price).collect();
        Ok(Self {
            start: first.time,
            offsets,
            prices,
        })
    }

    /// The time of the first price.
    pub fn first_time(&self) -> DateTime<Utc> {
        self.start
    }

    /// The time of the last price.
    pub fn last_time(&self) -> DateTime<Utc> {
        self.start + TimeDelta::microseconds(self.offsets.last().copied().unwrap_or(0))
    }

    /// How many prices the series holds.
    pub fn len(&self) -> usize {
        self.prices.len()
    }

    /// Whether the series holds no price (never true of a built series).
    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }

    /// Every price with the time it was set, in time order.
    pub fn points(&self) -> impl Iterator<Item = PricePoint> + '_ {
        let time = |offset: &i64| self.start + TimeDelta::microseconds(*offset);
        self.offsets
            .iter()
            .zip(&self.prices)
            .map(move |(o, p)| PricePoint {
                time: time(o),
                price: *p,
            })
    }

    /// The price in force at `time`: the last one at or before it.
    pub fn price_at(&self, time: DateTime<Utc>) -> Option<Decimal> {
        let offset = (time - self.start).num_microseconds()?;
        if offset < 0 {
            return None;
        }
        self.price_at_offset(offset)
    }

    /// The length of one replay cycle in microseconds: the span plus [`WRAP_HOLD`].
    pub(crate) fn cycle_micros(&self) -> i64 {
        let hold = WRAP_HOLD.num_microseconds().unwrap_or(1);
        self.offsets
            .last()
            .copied()
            .unwrap_or(0)
            .saturating_add(hold)
    }

    /// The offset from the first price to `time`, in microseconds, if inside the series.
    pub(crate) fn offset_of(&self, time: DateTime<Utc>) -> Option<i64> {
        let offset = (time - self.start).num_microseconds()?;
        (0..self.cycle_micros()).contains(&offset).then_some(offset)
    }

    /// The price in force `offset` microseconds after the first one.
    pub(crate) fn price_at_offset(&self, offset: i64) -> Option<Decimal> {
        let end = self.offsets.partition_point(|o| *o <= offset);
        self.prices.get(end.checked_sub(1)?).copied()
    }

    /// The lowest and highest price set in the replay window `(from, to]`.
    ///
    /// `from` and `to` count microseconds of replay since the first price and
    /// may run past the end of the series, which then starts again.
    pub(crate) fn extremes(&self, from: i128, to: i128) -> Option<(Decimal, Decimal)> {
        let cycle = i128::from(self.cycle_micros());
        if to <= from {
            return None;
        }
        if to - from >= cycle {
            return min_max(&self.prices);
        }

        let (low, high) = (self.wrap(from), self.wrap(to));
        if from.div_euclid(cycle) == to.div_euclid(cycle) {
            return self.window(low, high);
        }
        let tail = self.window(low, self.cycle_micros());
        let head = self.window(-1, high);
        match (tail, head) {
            (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
            (one, other) => one.or(other),
        }
    }

    /// A replay position folded into one cycle.
    pub(crate) fn wrap(&self, position: i128) -> i64 {
        let cycle = i128::from(self.cycle_micros().max(1));
        i64::try_from(position.rem_euclid(cycle)).unwrap_or(0)
    }

    fn window(&self, after: i64, through: i64) -> Option<(Decimal, Decimal)> {
        let start = self.offsets.partition_point(|o| *o <= after);
        let end = self.offsets.partition_point(|o| *o <= through);
        min_max(self.prices.get(start..end)?)
    }
}

/// Prices of several instruments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarketData {
    series: BTreeMap<InstrumentId, Series>,
}

impl MarketData {
    /// Loads `BTC-USD` from the bar file and `USD-JPY` from the quote file in `dir`.
    pub fn load_dir(dir: &Path) -> Result<Self, MarketError> {
        let mut series = BTreeMap::new();
        for instrument in default_instruments() {
            let loaded = match instrument.id.as_str() {
                BTC_USD => load_bars(&dir.join(BTC_USD_FILE))?,
                _ => load_quotes(&dir.join(USD_JPY_FILE), instrument.tick_size)?,
            };
            let prices = loaded.len();
            tracing::info!(instrument = %instrument.id, prices, "market data loaded");
            series.insert(instrument.id, loaded);
        }
        Ok(Self { series })
    }

    /// Market data from series already built, one per instrument.
    pub fn from_series(series: impl IntoIterator<Item = (InstrumentId, Series)>) -> Self {
        Self {
            series: series.into_iter().collect(),
        }
    }

    /// The series of `instrument`.
    pub fn series(&self, instrument: &InstrumentId) -> Option<&Series> {
        self.series.get(instrument)
    }

    /// The instruments priced, in symbol order.
    pub fn instruments(&self) -> impl Iterator<Item = &InstrumentId> {
        self.series.keys()
    }
}

/// Loads one-minute bars; each bar's close is the price from the end of its minute.
pub fn load_bars(path: &Path) -> Result<Series, MarketError> {
    let points = read_rows(path, &BAR_HEADER, |row| {
        let start = parse_time(row.field(0)?).ok_or("`timestamp` is not a valid time")?;
        for (index, column) in [(1, "open"), (2, "high"), (3, "low")] {
            parse_positive(column, row.field(index)?).map_err(|e| e.to_string())?;
        }
        let close = parse_positive("close", row.field(4)?).map_err(|e| e.to_string())?;
        let time = start
            .checked_add_signed(BAR_LENGTH)
            .ok_or("`timestamp` is out of range")?;
        Ok(PricePoint { time, price: close })
    })?;
    series_of(path, points)
}

/// Loads bid/ask quotes; each mid, rounded to `tick` half to even, is a price.
pub fn load_quotes(path: &Path, tick: Decimal) -> Result<Series, MarketError> {
    let points = read_rows(path, &QUOTE_HEADER, |row| {
        let time = parse_time(row.field(0)?).ok_or("`timestamp` is not a valid time")?;
        let bid = parse_positive("bid", row.field(1)?).map_err(|e| e.to_string())?;
        let ask = parse_positive("ask", row.field(2)?).map_err(|e| e.to_string())?;
        if ask < bid {
            return Err("`ask` is below `bid`".to_owned());
        }
        let price = mid_on_tick(bid, ask, tick).ok_or("the mid price is out of range")?;
        Ok(PricePoint { time, price })
    })?;
    series_of(path, points)
}

/// The mid of `bid` and `ask`, rounded to a whole number of `tick`s, half to even.
pub fn mid_on_tick(bid: Decimal, ask: Decimal, tick: Decimal) -> Option<Decimal> {
    let mid = bid.checked_add(ask)?.checked_div(Decimal::TWO)?;
    let ticks = mid
        .checked_div(tick)?
        .round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
    ticks
        .checked_mul(tick)
        .filter(|price| *price > Decimal::ZERO)
}

struct Row<'a>(&'a csv::StringRecord);

impl Row<'_> {
    fn field(&self, index: usize) -> Result<&str, String> {
        self.0
            .get(index)
            .ok_or_else(|| format!("column {} is missing", index + 1))
    }
}

fn read_rows(
    path: &Path,
    header: &[&str],
    parse: impl Fn(&Row<'_>) -> Result<PricePoint, String>,
) -> Result<Vec<PricePoint>, MarketError> {
    let file = File::open(path).map_err(|source| MarketError::Io {
        file: path.into(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(file);
    let mut points = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut line = 0;
    loop {
        line += 1;
        let row_error = |reason: String| MarketError::Row {
            file: path.into(),
            line,
            reason,
        };
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Err(error) => return Err(row_error(error.to_string())),
            Ok(true) if line == 1 => check_header(&record, header).map_err(row_error)?,
            Ok(true) => points.push(parse(&Row(&record)).map_err(row_error)?),
        }
    }
    Ok(points)
}

fn check_header(record: &csv::StringRecord, header: &[&str]) -> Result<(), String> {
    if record.iter().eq(header.iter().copied()) {
        return Ok(());
    }
    Err(format!("the header must be `{}`", header.join(",")))
}

fn series_of(path: &Path, points: Vec<PricePoint>) -> Result<Series, MarketError> {
    let unordered =
        |pair: &[PricePoint]| pair.first().map(|p| p.time) > pair.last().map(|p| p.time);
    if let Some(index) = points.windows(2).position(unordered) {
        let line = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(3);
        let reason = "the timestamp is earlier than the row before".to_owned();
        return Err(MarketError::Row {
            file: path.into(),
            line,
            reason,
        });
    }
    Series::new(&points).map_err(|e| MarketError::Series(format!("`{}`: {e}", path.display())))
}

/// Parses `2022-01-01 03:04:00.000000` (UTC) or the same with an offset such as `+00:00`.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z")
        .map(|time| time.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").map(|t| t.and_utc())
        })
        .ok()
}

fn series_error(reason: &str) -> MarketError {
    MarketError::Series(reason.to_owned())
}

fn min_max(prices: &[Decimal]) -> Option<(Decimal, Decimal)> {
    let first = *prices.first()?;
    Some(
        prices
            .iter()
            .fold((first, first), |(low, high), p| (low.min(*p), high.max(*p))),
    )
}

#[cfg(test)]
#[path = "market_tests.rs"]
mod tests;
