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

impl LimitCaps {
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
