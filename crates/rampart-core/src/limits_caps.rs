//! Firm-wide hard caps on risk limits: no account's limits may exceed them.
//!
//! Caps are set by configuration, not by any person through the API, so a
//! proposal above a cap is refused whoever proposes or approves it.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::limits::RiskLimits;

/// The firm-wide ceiling of each limit; an absent cap leaves only the built-in bounds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitCaps {
    /// The ceiling of `max_order_quantity`.
    #[serde(skip_serializing_if = "Option::is_none", with = "cap")]
    pub max_order_quantity: Option<Decimal>,
    /// The ceiling of `max_order_notional`.
    #[serde(skip_serializing_if = "Option::is_none", with = "cap")]
    pub max_order_notional: Option<Decimal>,
    /// The ceiling of `price_collar_pct`.
    #[serde(skip_serializing_if = "Option::is_none", with = "cap")]
    pub price_collar_pct: Option<Decimal>,
    /// The ceiling of `max_position_quantity`.
    #[serde(skip_serializing_if = "Option::is_none", with = "cap")]
    pub max_position_quantity: Option<Decimal>,
    /// The ceiling of `max_daily_notional`.
    #[serde(skip_serializing_if = "Option::is_none", with = "cap")]
    pub max_daily_notional: Option<Decimal>,
    /// The ceiling of `max_orders_per_second`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_orders_per_second: Option<u32>,
    /// The ceiling of `max_risk_per_trade_pct`.
    #[serde(skip_serializing_if = "Option::is_none", with = "cap")]
    pub max_risk_per_trade_pct: Option<Decimal>,
}

/// A limit above its firm-wide cap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` must be at most the firm-wide cap of {cap}")]
pub struct CapExceeded {
    /// The limit's field name.
    pub field: &'static str,
    /// The cap, as text.
    pub cap: String,
}

/// A limit in force above its cap: what the report at start names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapBreach {
    /// The limit's field name.
    pub field: &'static str,
    /// The value in force, as text.
    pub value: String,
    /// The cap, as text.
    pub cap: String,
}

impl LimitCaps {
    /// Every limit of `limits` above its cap, in declaration order.
    pub fn breaches(&self, limits: &RiskLimits) -> Vec<CapBreach> {
        let decimals = self.decimal_caps(limits).into_iter();
        let mut found: Vec<CapBreach> = decimals
            .filter_map(|(field, cap, value)| {
                let cap = cap.filter(|cap| value > *cap)?;
                Some(CapBreach {
                    field,
                    value: value.normalize().to_string(),
                    cap: cap.normalize().to_string(),
                })
            })
            .collect();
        let rate = limits.max_orders_per_second;
        if let Some(cap) = self.max_orders_per_second.filter(|cap| rate > *cap) {
            found.push(CapBreach {
                field: "max_orders_per_second",
                value: rate.to_string(),
                cap: cap.to_string(),
            });
        }
        found
    }

    /// Every (field, cap) pair that is set, decimals first, in declaration order.
    fn decimal_caps(&self, limits: &RiskLimits) -> [(&'static str, Option<Decimal>, Decimal); 6] {
        [
            (
                "max_order_quantity",
                self.max_order_quantity,
                limits.max_order_quantity,
            ),
            (
                "max_order_notional",
                self.max_order_notional,
                limits.max_order_notional,
            ),
            (
                "price_collar_pct",
                self.price_collar_pct,
                limits.price_collar_pct,
            ),
            (
                "max_position_quantity",
                self.max_position_quantity,
                limits.max_position_quantity,
            ),
            (
                "max_daily_notional",
                self.max_daily_notional,
                limits.max_daily_notional,
            ),
            (
                "max_risk_per_trade_pct",
                self.max_risk_per_trade_pct,
                limits.max_risk_per_trade_pct,
            ),
        ]
    }

    /// Refuses `limits` if any value is above its cap, naming the first such field.
    pub fn check(&self, limits: &RiskLimits) -> Result<(), CapExceeded> {
        for (field, cap, value) in self.decimal_caps(limits) {
            if let Some(cap) = cap.filter(|cap| value > *cap) {
                return Err(CapExceeded {
                    field,
                    cap: cap.normalize().to_string(),
                });
            }
        }
        match self.max_orders_per_second {
            Some(cap) if limits.max_orders_per_second > cap => Err(CapExceeded {
                field: "max_orders_per_second",
                cap: cap.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// The name of the first cap that is zero or negative, if any.
    pub fn first_invalid(&self) -> Option<&'static str> {
        let decimals = [
            ("max_order_quantity", self.max_order_quantity),
            ("max_order_notional", self.max_order_notional),
            ("price_collar_pct", self.price_collar_pct),
            ("max_position_quantity", self.max_position_quantity),
            ("max_daily_notional", self.max_daily_notional),
            ("max_risk_per_trade_pct", self.max_risk_per_trade_pct),
        ];
        let bad_decimal = decimals
            .into_iter()
            .find(|(_, cap)| cap.is_some_and(|cap| cap <= Decimal::ZERO))
            .map(|(field, _)| field);
        bad_decimal.or((self.max_orders_per_second == Some(0)).then_some("max_orders_per_second"))
    }
}

/// Serde for an optional cap written as a strict decimal string.
mod cap {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the cap as a decimal string.
    pub fn serialize<S: Serializer>(
        value: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.collect_str(&value.normalize()),
            None => serializer.serialize_none(),
        }
    }

    /// Reads a strict decimal string.
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
    use rust_decimal_macros::dec;

    use super::*;

    fn limits() -> RiskLimits {
        RiskLimits {
            max_order_quantity: dec!(10),
            max_order_notional: dec!(50000),
            price_collar_pct: dec!(5),
            max_position_quantity: dec!(100),
            max_daily_notional: dec!(1000000),
            max_orders_per_second: 20,
            max_risk_per_trade_pct: dec!(2),
            allowed_instruments: vec!["BTC-USD".parse().unwrap()],
            trading_hours: None,
        }
    }

    #[test]
    fn every_limit_above_its_cap_is_reported_with_value_and_cap() {
        let caps = LimitCaps {
            max_order_notional: Some(dec!(20000)),
            price_collar_pct: Some(dec!(5)),
            max_orders_per_second: Some(10),
            ..LimitCaps::default()
        };
        let breaches = caps.breaches(&limits());
        let named: Vec<(&str, &str, &str)> = breaches
            .iter()
            .map(|b| (b.field, b.value.as_str(), b.cap.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("max_order_notional", "50000", "20000"),
                ("max_orders_per_second", "20", "10"),
            ]
        );
    }

    #[test]
    fn limits_within_every_cap_report_nothing() {
        let caps = LimitCaps {
            max_order_quantity: Some(dec!(10)),
            max_orders_per_second: Some(20),
            ..LimitCaps::default()
        };
        assert!(caps.breaches(&limits()).is_empty());
        assert_eq!(caps.check(&limits()), Ok(()));
    }
}
