//! Changes to risk limits: a partial change, its result, and whether it tightens or loosens.
//!
//! Four-eyes governance rests on this classification: a change that only
//! makes limits stricter (lower caps, a narrower collar, fewer instruments,
//! narrower hours) may be applied at once where the firm allows it; anything
//! that loosens even one field always waits for a second person.

use std::collections::BTreeSet;

use chrono::{NaiveTime, Timelike};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::InstrumentId;
use crate::limits::{RiskLimits, TradingHours};

/// A partial change of risk limits: an absent field keeps its value.
///
/// `trading_hours: null` removes the window (orders at any time), which loosens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsChange {
    /// A new largest order quantity.
    #[serde(default, with = "strict_option")]
    pub max_order_quantity: Option<Decimal>,
    /// A new largest order notional.
    #[serde(default, with = "strict_option")]
    pub max_order_notional: Option<Decimal>,
    /// A new price collar, in percent.
    #[serde(default, with = "strict_option")]
    pub price_collar_pct: Option<Decimal>,
    /// A new largest absolute position per instrument.
    #[serde(default, with = "strict_option")]
    pub max_position_quantity: Option<Decimal>,
    /// A new largest daily notional.
    #[serde(default, with = "strict_option")]
    pub max_daily_notional: Option<Decimal>,
    /// A new most orders per second.
    #[serde(default)]
    pub max_orders_per_second: Option<u32>,
    /// A new largest order notional as a share of equity, in percent.
    #[serde(default, with = "strict_option")]
    pub max_risk_per_trade_pct: Option<Decimal>,
    /// A new list of allowed instruments.
    #[serde(default)]
    pub allowed_instruments: Option<Vec<InstrumentId>>,
    /// A new trading window; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    pub trading_hours: Option<Option<TradingHours>>,
}

/// How a new set of limits compares with the one in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// Every field whose value changes, in declaration order.
    pub changed: Vec<&'static str>,
    /// The changed fields that become less strict.
    pub loosened: Vec<&'static str>,
}

impl Classification {
    /// Whether nothing changes at all.
    pub fn is_unchanged(&self) -> bool {
        self.changed.is_empty()
    }

    /// Whether something changes and every change is stricter.
    pub fn is_tightening(&self) -> bool {
        !self.changed.is_empty() && self.loosened.is_empty()
    }
}

impl LimitsChange {
    /// Whether the change names no field at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The limits that result from applying this change to `base`.
    pub fn apply_to(&self, base: &RiskLimits) -> RiskLimits {
        let mut next = base.clone();
        let set = |target: &mut Decimal, value: Option<Decimal>| {
            if let Some(value) = value {
                *target = value;
            }
        };
        set(&mut next.max_order_quantity, self.max_order_quantity);
        set(&mut next.max_order_notional, self.max_order_notional);
        set(&mut next.price_collar_pct, self.price_collar_pct);
        set(&mut next.max_position_quantity, self.max_position_quantity);
        set(&mut next.max_daily_notional, self.max_daily_notional);
        set(
            &mut next.max_risk_per_trade_pct,
            self.max_risk_per_trade_pct,
        );
        if let Some(rate) = self.max_orders_per_second {
            next.max_orders_per_second = rate;
        }
        if let Some(instruments) = &self.allowed_instruments {
            next.allowed_instruments.clone_from(instruments);
        }
        if let Some(hours) = self.trading_hours {
            next.trading_hours = hours;
        }
        next
    }
}

/// Compares `new` with `old`, field by field.
pub fn classify(old: &RiskLimits, new: &RiskLimits) -> Classification {
    let mut result = Classification {
        changed: Vec::new(),
        loosened: Vec::new(),
    };
    let mut note = |field: &'static str, changed: bool, looser: bool| {
        if changed {
            result.changed.push(field);
            if looser {
                result.loosened.push(field);
            }
        }
    };
    let cap = |a: Decimal, b: Decimal| (a != b, b > a);
    let pairs = [
        (
            "max_order_quantity",
            old.max_order_quantity,
            new.max_order_quantity,
        ),
        (
            "max_order_notional",
            old.max_order_notional,
            new.max_order_notional,
        ),
        (
            "price_collar_pct",
            old.price_collar_pct,
            new.price_collar_pct,
        ),
        (
            "max_position_quantity",
            old.max_position_quantity,
            new.max_position_quantity,
        ),
        (
            "max_daily_notional",
            old.max_daily_notional,
            new.max_daily_notional,
        ),
    ];
    for (field, a, b) in pairs {
        let (changed, looser) = cap(a, b);
        note(field, changed, looser);
    }
    let (a, b) = (old.max_orders_per_second, new.max_orders_per_second);
    note("max_orders_per_second", a != b, b > a);
    let (changed, looser) = cap(old.max_risk_per_trade_pct, new.max_risk_per_trade_pct);
    note("max_risk_per_trade_pct", changed, looser);
    let (changed, looser) = instruments(&old.allowed_instruments, &new.allowed_instruments);
    note("allowed_instruments", changed, looser);
    let (changed, looser) = hours(old.trading_hours, new.trading_hours);
    note("trading_hours", changed, looser);
    result
}

/// (changed, looser) for the instrument lists, compared as sets.
fn instruments(old: &[InstrumentId], new: &[InstrumentId]) -> (bool, bool) {
    let old: BTreeSet<_> = old.iter().collect();
    let new: BTreeSet<_> = new.iter().collect();
    (old != new, !new.is_subset(&old))
}

/// (changed, looser) for the trading windows: looser unless the new one lies inside the old.
fn hours(old: Option<TradingHours>, new: Option<TradingHours>) -> (bool, bool) {
    match (old, new) {
        (None, None) => (false, false),
        (None, Some(_)) => (true, false),
        (Some(_), None) => (true, true),
        (Some(a), Some(b)) => (a != b, !window_within(b, a)),
    }
}

const DAY_NANOS: i64 = 86_400 * 1_000_000_000;

/// Whether every instant of window `inner` lies in window `outer` (both may cross midnight).
fn window_within(inner: TradingHours, outer: TradingHours) -> bool {
    let offset = |t: NaiveTime| (nanos(t) - nanos(outer.start)).rem_euclid(DAY_NANOS);
    let outer_len = offset(outer.end);
    let inner_start = offset(inner.start);
    let inner_len = (nanos(inner.end) - nanos(inner.start)).rem_euclid(DAY_NANOS);
    inner_start.saturating_add(inner_len) <= outer_len
}

fn nanos(time: NaiveTime) -> i64 {
    i64::from(time.num_seconds_from_midnight()) * 1_000_000_000
        + i64::from(time.nanosecond().min(999_999_999))
}

/// Reads a field that is present (possibly `null`) as `Some`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Serde for an optional strict decimal string.
mod strict_option {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer};

    /// Reads a strict decimal string; `null` is refused (omit the field instead).
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        struct Strict(#[serde(with = "crate::decimal::strict")] Decimal);
        Strict::deserialize(deserializer).map(|Strict(value)| Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, 0, 0).unwrap()
    }

    fn window(start: u32, end: u32) -> TradingHours {
        TradingHours {
            start: at(start),
            end: at(end),
        }
    }

    #[test]
    fn a_window_inside_another_is_narrower() {
        assert!(window_within(window(9, 17), window(8, 18)));
        assert!(!window_within(window(7, 17), window(8, 18)));
    }

    #[test]
    fn windows_across_midnight_compare_on_the_circle() {
        assert!(window_within(window(23, 1), window(22, 2)));
        assert!(!window_within(window(21, 1), window(22, 2)));
        assert!(window_within(window(9, 17), window(8, 7)));
        assert!(!window_within(window(8, 7), window(9, 17)));
    }
}
