//! The demo's two algorithms: order flow derived from real price moves.
//!
//! `momentum` follows the last few BTC bars, `mean_reversion` trades USD/JPY
//! back towards its moving average. Each also sends, on a fixed schedule, the
//! kind of order a pre-trade control exists to stop (a fat-fingered price, an
//! oversized order), and a passive order that rests until it is cancelled, so
//! that every outcome shows up in a short run. Prices and sizes stay decimals
//! and are rounded onto the instrument's tick and lot.

use chrono::TimeDelta;
use rampart_core::{AccountId, Instrument, OrderRequest, OrderType, Side, TimeInForce};
use rust_decimal::{Decimal, RoundingStrategy};

use super::market::Tape;

/// One order an algorithm wants to send, and why.
#[derive(Debug, Clone)]
pub struct Intent {
    /// The order as it goes on the wire.
    pub request: OrderRequest,
    /// What the order is meant to show, such as `fat finger: price 12% off`.
    pub purpose: Purpose,
}

/// Why an order is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A signal-driven, marketable order.
    Signal,
    /// A passive order away from the market, left to rest.
    Passive,
    /// A limit price far outside the collar, which the collar must stop.
    FatFinger,
    /// A size far above the notional limit, which that limit must stop.
    Oversized,
}

impl Purpose {
    /// A short label for the demo's output.
    pub fn label(self) -> &'static str {
        match self {
            Self::Signal => "signal",
            Self::Passive => "passive",
            Self::FatFinger => "fat finger",
            Self::Oversized => "oversized",
        }
    }
}

/// The market an algorithm trades: its account, instrument and replayed prices.
#[derive(Debug, Clone)]
pub struct Market {
    /// The account the orders go to.
    pub account: AccountId,
    /// The instrument, with its tick and lot size.
    pub instrument: Instrument,
    /// The prices, on the broker's replay clock.
    pub tape: Tape,
}

/// How far back the momentum algorithm looks, in data time.
const MOMENTUM_LOOKBACK: TimeDelta = TimeDelta::minutes(5);
/// How many samples the mean-reversion average takes, and how far apart.
const REVERSION_SAMPLES: i32 = 20;
const REVERSION_SPACING: TimeDelta = TimeDelta::seconds(15);

/// The `step`-th order of the momentum algorithm: buy after a rise, sell after a fall.
pub fn momentum(market: &Market, now: TimeDelta, step: usize) -> Option<Intent> {
    let price = market.tape.price(now)?;
    let before = market.tape.price(now - MOMENTUM_LOOKBACK)?;
    let change = (price - before).checked_div(before)?;

    let side = if change >= Decimal::ZERO {
        Side::Buy
    } else {
        Side::Sell
    };
    // One lot of size per 0.1% move, from 1 to 5 times the base size.
    let strength = (change.abs() * Decimal::ONE_THOUSAND)
        .floor()
        .clamp(Decimal::ZERO, Decimal::from(4));
    let quantity = Decimal::new(1, 2) * (Decimal::ONE + strength);
    let purpose = schedule(step, Purpose::FatFinger);
    let limit = match purpose {
        Purpose::FatFinger => away(price, side, Decimal::new(12, 2)),
        Purpose::Passive => away(price, opposite(side), Decimal::new(8, 3)),
        _ => away(price, side, Decimal::new(1, 2)),
    };
    Some(intent(market, side, quantity, limit, purpose, step))
}

/// The `step`-th order of the mean-reversion algorithm: sell above the average, buy below.
pub fn mean_reversion(market: &Market, now: TimeDelta, step: usize) -> Option<Intent> {
    let price = market.tape.price(now)?;
    let samples: Option<Vec<Decimal>> = (1..=REVERSION_SAMPLES)
        .map(|k| market.tape.price(now - REVERSION_SPACING * k))
        .collect();
    let mean = samples?.iter().sum::<Decimal>() / Decimal::from(REVERSION_SAMPLES);
    let deviation = price - mean;

    let side = if deviation > Decimal::ZERO {
        Side::Sell
    } else {
        Side::Buy
    };
    // Size grows with the deviation: one step per half a pip, at most four.
    let steps = (deviation.abs() / Decimal::new(5, 3))
        .floor()
        .min(Decimal::from(3));
    let purpose = schedule(step, Purpose::Oversized);
    let mut quantity = Decimal::from(100_000) * (Decimal::ONE + steps);
    if purpose == Purpose::Oversized {
        quantity *= Decimal::from(20);
    }
    let limit = match purpose {
        Purpose::Passive => price - signed(side, Decimal::new(15, 2)),
        _ => price + signed(side, Decimal::new(2, 1)),
    };
    Some(intent(market, side, quantity, limit, purpose, step))
}

/// Every eighth order is the deliberate breach, every sixth a passive one.
fn schedule(step: usize, breach: Purpose) -> Purpose {
    match (step % 8, step % 6) {
        (5, _) => breach,
        (_, 2) => Purpose::Passive,
        _ => Purpose::Signal,
    }
}

fn intent(
    market: &Market,
    side: Side,
    quantity: Decimal,
    limit: Decimal,
    purpose: Purpose,
    step: usize,
) -> Intent {
    let instrument = &market.instrument;
    let request = OrderRequest {
        account_id: market.account.clone(),
        instrument: instrument.id.to_string(),
        side,
        order_type: OrderType::Limit,
        quantity: on_step(quantity, instrument.lot_size).to_string(),
        limit_price: Some(on_step(limit, instrument.tick_size).to_string()),
        time_in_force: Some(TimeInForce::Gtc),
        client_order_id: format!("{}-{step:05}", market.account).parse().ok(),
        algo_id: None,
    };
    Intent { request, purpose }
}

/// `price` moved by `fraction` in the direction that makes an order on `side` aggressive.
fn away(price: Decimal, side: Side, fraction: Decimal) -> Decimal {
    price + signed(side, price * fraction)
}

fn signed(side: Side, amount: Decimal) -> Decimal {
    match side {
        Side::Buy => amount,
        Side::Sell => -amount,
    }
}

fn opposite(side: Side) -> Side {
    match side {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    }
}

/// Rounds `value` to a whole, positive number of `step`s.
fn on_step(value: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return value.normalize();
    }
    let steps = (value / step).round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
    (steps.max(Decimal::ONE) * step).normalize()
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use chrono::{DateTime, Utc};
    use rampart_trading::market::{PricePoint, Series};

    use super::*;

    fn market(prices: &[i64], tick: Decimal, lot: Decimal) -> Market {
        let start: DateTime<Utc> = "2022-01-01T00:00:00Z".parse().unwrap();
        let points: Vec<PricePoint> = prices
            .iter()
            .enumerate()
            .map(|(i, p)| PricePoint {
                time: start + TimeDelta::minutes(i as i64),
                price: Decimal::from(*p),
            })
            .collect();
        Market {
            account: "ACC-T".parse().unwrap(),
            instrument: Instrument {
                id: "BTC-USD".parse().unwrap(),
                tick_size: tick,
                lot_size: lot,
                currency: "USD".to_owned(),
            },
            tape: Tape::new(Series::new(&points).unwrap(), 60, Instant::now()),
        }
    }

    const AT_SIX: TimeDelta = TimeDelta::minutes(6);

    #[test]
    fn momentum_buys_after_a_rise_and_sells_after_a_fall() {
        let rising = market(
            &[100, 101, 102, 103, 104, 105, 106],
            Decimal::ONE,
            Decimal::new(1, 2),
        );
        assert_eq!(
            momentum(&rising, AT_SIX, 0).unwrap().request.side,
            Side::Buy
        );
        let falling = market(
            &[106, 105, 104, 103, 102, 101, 100],
            Decimal::ONE,
            Decimal::new(1, 2),
        );
        assert_eq!(
            momentum(&falling, AT_SIX, 0).unwrap().request.side,
            Side::Sell
        );
    }

    #[test]
    fn fat_finger_price_is_twelve_percent_through_the_market() {
        let flat = market(&[100; 10], Decimal::ONE, Decimal::ONE);
        let intent = momentum(&flat, AT_SIX, 5).unwrap();
        assert_eq!(intent.purpose, Purpose::FatFinger);
        assert_eq!(intent.request.limit_price.as_deref(), Some("112"));
    }

    #[test]
    fn orders_land_on_the_tick_and_lot_grid() {
        let prices: Vec<i64> = (0..30).map(|i| 86_600 + i % 7).collect();
        let jpy = market(&prices, Decimal::new(1, 3), Decimal::from(1000));
        for step in 0..10 {
            let request = mean_reversion(&jpy, TimeDelta::minutes(20), step)
                .unwrap()
                .request;
            let price: Decimal = request.limit_price.unwrap().parse().unwrap();
            let quantity: Decimal = request.quantity.parse().unwrap();
            assert!(jpy.instrument.on_tick(price), "{price}");
            assert!(jpy.instrument.on_lot(quantity), "{quantity}");
        }
    }

    #[test]
    fn oversized_order_is_twenty_times_the_signal_size() {
        let flat = market(&[100; 40], Decimal::ONE, Decimal::ONE);
        let normal = mean_reversion(&flat, AT_SIX, 4).unwrap();
        let oversized = mean_reversion(&flat, AT_SIX, 5).unwrap();
        assert_eq!(oversized.purpose, Purpose::Oversized);
        let size = |i: &Intent| i.request.quantity.parse::<Decimal>().unwrap();
        assert_eq!(size(&oversized), size(&normal) * Decimal::from(20));
    }
}
