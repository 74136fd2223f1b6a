//! Per-account pre-trade risk limits (MiFID II RTS 6, Article 15).
//!
//! Every limit is typed and bounded: no negative values, percentages above 0
//! and at most 100, counts within sane ranges.

use chrono::NaiveTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::decimal::strict;
use crate::error::{FieldError, FieldErrorKind};
use crate::ids::InstrumentId;
use crate::instrument::InstrumentCatalog;

/// The most orders per second a limit may allow.
pub const MAX_ORDERS_PER_SECOND: u32 = 10_000;

/// The largest quantity or amount any limit may hold (10^15): far above any real
/// book, low enough that sums of a day's orders cannot overflow a `Decimal`.
pub const MAX_LIMIT_VALUE: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// The risk limits of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskLimits {
    /// The largest quantity of one order.
    #[serde(with = "strict")]
    pub max_order_quantity: Decimal,
    /// The largest notional (quantity × price) of one order, in the account's currency.
    #[serde(with = "strict")]
    pub max_order_notional: Decimal,
    /// How far a limit price may stray from the reference price, in percent.
    #[serde(with = "strict")]
    pub price_collar_pct: Decimal,
    /// The largest absolute position in any one instrument.
    #[serde(with = "strict")]
    pub max_position_quantity: Decimal,
    /// The most notional that may be placed in one UTC day, in the account's currency.
    #[serde(with = "strict")]
    pub max_daily_notional: Decimal,
    /// The most orders that may be placed in any one second.
    pub max_orders_per_second: u32,
    /// The largest order notional as a share of account equity, in percent.
    #[serde(with = "strict")]
    pub max_risk_per_trade_pct: Decimal,
    /// The instruments this account may trade.
    pub allowed_instruments: Vec<InstrumentId>,
    /// When orders are accepted, in UTC; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trading_hours: Option<TradingHours>,
}

/// A daily window, in UTC, during which orders are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradingHours {
    /// Opening time, inclusive.
    pub start: NaiveTime,
    /// Closing time, exclusive. A window may cross midnight (`start` after `end`);
    /// `start` equal to `end` is an empty window, refused by [`RiskLimits::validate`].
    pub end: NaiveTime,
}

impl TradingHours {
    /// Whether `time` falls inside the window.
    pub fn contains(&self, time: NaiveTime) -> bool {
        if self.start <= self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }
}

impl RiskLimits {
    /// Checks every bound, naming the first field that breaks one.
    pub fn validate(&self, catalog: &InstrumentCatalog) -> Result<(), FieldError> {
        bounded("max_order_quantity", self.max_order_quantity)?;
        bounded("max_order_notional", self.max_order_notional)?;
        percentage("price_collar_pct", self.price_collar_pct)?;
        bounded("max_position_quantity", self.max_position_quantity)?;
        bounded("max_daily_notional", self.max_daily_notional)?;
        percentage("max_risk_per_trade_pct", self.max_risk_per_trade_pct)?;

        if !(1..=MAX_ORDERS_PER_SECOND).contains(&self.max_orders_per_second) {
            return Err(FieldError::new(
                "max_orders_per_second",
                FieldErrorKind::OutOfRange(format!("from 1 to {MAX_ORDERS_PER_SECOND}")),
            ));
        }
        if self
            .trading_hours
            .is_some_and(|hours| hours.start == hours.end)
        {
            return Err(FieldError::new(
                "trading_hours",
                FieldErrorKind::OutOfRange("a window whose `start` differs from its `end`".into()),
            ));
        }
        self.validate_instruments(catalog)
    }

    /// Every allowed instrument is in the catalog, and none is named twice.
    fn validate_instruments(&self, catalog: &InstrumentCatalog) -> Result<(), FieldError> {
        let field = "allowed_instruments";
        if self
            .allowed_instruments
            .iter()
            .any(|i| catalog.get(i).is_none())
        {
            return Err(FieldError::new(field, FieldErrorKind::UnknownInstrument));
        }
        let mut seen = std::collections::BTreeSet::new();
        if !self.allowed_instruments.iter().all(|i| seen.insert(i)) {
            return Err(FieldError::new(
                field,
                FieldErrorKind::Invalid("a list naming each instrument once"),
            ));
        }
        Ok(())
    }
}

fn bounded(field: &'static str, value: Decimal) -> Result<(), FieldError> {
    if value <= Decimal::ZERO {
        return Err(FieldError::new(field, FieldErrorKind::NotPositive));
    }
    if value > MAX_LIMIT_VALUE {
        return Err(FieldError::new(
            field,
            FieldErrorKind::OutOfRange(format!("at most {MAX_LIMIT_VALUE}")),
        ));
    }
    Ok(())
}

fn percentage(field: &'static str, value: Decimal) -> Result<(), FieldError> {
    if value <= Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        return Err(FieldError::new(
            field,
            FieldErrorKind::OutOfRange("above 0 and at most 100".to_owned()),
        ));
    }
    Ok(())
}
