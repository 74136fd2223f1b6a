//! The replayed market as the demo's algorithms see it.
//!
//! The algorithms watch the same historical series the paper broker replays,
//! on the same clock (`speed` data seconds per wall second from the gateway's
//! start, each series starting again after its last price), so the prices
//! they quote are the broker's reference prices give or take a few
//! milliseconds. Series are loaded by `rampart_trading::market`, the broker's
//! own strict decimal reader.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::TimeDelta;
use rampart_trading::market::{BTC_USD_FILE, Series, USD_JPY_FILE, WRAP_HOLD};
use rust_decimal::Decimal;

/// Why no market-data folder could be used.
#[derive(Debug, thiserror::Error)]
#[error("no market data (`{BTC_USD_FILE}`, `{USD_JPY_FILE}`) found; pass `--market-data <DIR>`")]
pub struct NoMarketData;

/// Finds the market-data folder: the flag if given, else the configured one, else the
/// repository's own (or the shared copy beside the repository).
pub fn locate(flag: Option<&Path>, configured: &Path) -> Result<PathBuf, NoMarketData> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = match flag {
        Some(dir) => vec![dir.to_path_buf()],
        None => vec![
            configured.to_path_buf(),
            manifest.join("../../data/market"),
            manifest.join("../../../shared/data/market"),
        ],
    };
    candidates
        .into_iter()
        .find(|dir| dir.join(BTC_USD_FILE).is_file() && dir.join(USD_JPY_FILE).is_file())
        .and_then(|dir| dir.canonicalize().ok())
        .ok_or(NoMarketData)
}

/// One instrument's replayed prices on the broker's clock.
#[derive(Debug, Clone)]
pub struct Tape {
    series: Series,
    speed: u32,
    origin: Instant,
}

impl Tape {
    /// A tape replaying `series` at `speed` from `origin` (the gateway's start).
    pub fn new(series: Series, speed: u32, origin: Instant) -> Self {
        Self {
            series,
            speed,
            origin,
        }
    }

    /// How far into the data the replay is now.
    pub fn position(&self) -> TimeDelta {
        let elapsed = TimeDelta::from_std(self.origin.elapsed()).unwrap_or(TimeDelta::zero());
        elapsed * i32::try_from(self.speed).unwrap_or(i32::MAX)
    }

    /// The price in force at replay position `position` (negative positions clamp to the start).
    pub fn price(&self, position: TimeDelta) -> Option<Decimal> {
        let span = self.series.last_time() - self.series.first_time() + WRAP_HOLD;
        let cycle = span.num_microseconds()?.max(1);
        let offset = position.num_microseconds()?.max(0).rem_euclid(cycle);
        self.series
            .price_at(self.series.first_time() + TimeDelta::microseconds(offset))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use rampart_trading::market::PricePoint;

    use super::*;

    fn series() -> Series {
        let start: DateTime<Utc> = "2022-01-01T00:00:00Z".parse().unwrap();
        let point = |minutes, price| PricePoint {
            time: start + TimeDelta::minutes(minutes),
            price: Decimal::from(price),
        };
        Series::new(&[point(0, 100), point(1, 101), point(2, 102)]).unwrap()
    }

    #[test]
    fn price_follows_the_series_as_a_step_function() {
        let tape = Tape::new(series(), 60, Instant::now());
        assert_eq!(tape.price(TimeDelta::seconds(30)), Some(Decimal::from(100)));
        assert_eq!(tape.price(TimeDelta::seconds(90)), Some(Decimal::from(101)));
    }

    #[test]
    fn replay_starts_again_after_the_last_price_held() {
        let tape = Tape::new(series(), 60, Instant::now());
        let cycle = TimeDelta::minutes(2) + WRAP_HOLD;
        assert_eq!(
            tape.price(cycle + TimeDelta::seconds(30)),
            Some(Decimal::from(100))
        );
    }

    #[test]
    fn a_wrong_flag_is_an_error_not_a_fallback() {
        assert!(locate(Some(Path::new("no-such-folder")), Path::new("data/market")).is_err());
    }

    #[test]
    fn repository_market_data_is_found_without_a_flag() {
        let dir = locate(None, Path::new("no-such-folder")).unwrap();
        assert!(dir.join(BTC_USD_FILE).is_file());
    }
}
