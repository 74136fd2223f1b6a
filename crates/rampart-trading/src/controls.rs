//! Pre-trade controls (MiFID II RTS 6, Article 15): one check per risk limit.
//!
//! `check` is pure: it takes the validated order, the account's limits, a
//! snapshot of the account and the reference price, and returns either `Ok`
//! or the first control that refuses the order with a stable code. Arithmetic
//! is checked: a value too large to evaluate is a rejection, never a panic.
//! `check_in_currency` runs the same controls with the order's notional
//! converted into the account's currency (see [`crate::conversion`]), which
//! is where notional limits, equity and daily notional are kept.

use chrono::{DateTime, Utc};
use rampart_core::{InstrumentId, NewOrder, OrderType, RiskLimits, Side};
use rust_decimal::Decimal;

pub use crate::conversion::{
    Conversion, convert, daily_notional_in_currency, equity, equity_in_currency,
};

/// What the controls need to know about an account at the time of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    /// Cash plus positions marked at reference prices (see [`equity`]).
    pub equity: Decimal,
    /// The signed position in the order's instrument before this order.
    pub position: Decimal,
    /// Notional of the orders accepted today (UTC), excluding this one.
    pub daily_notional: Decimal,
    /// Orders placed in the last second, excluding this one.
    pub orders_in_last_second: u32,
}

/// The stable code of the control that refused an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlCode {
    /// A kill switch covers the account.
    KillSwitch,
    /// The instrument is not in the account's `allowed_instruments`.
    InstrumentNotAllowed,
    /// The order arrived outside the account's trading hours.
    TradingHours,
    /// The quantity exceeds `max_order_quantity`.
    MaxOrderQuantity,
    /// The notional exceeds `max_order_notional`.
    MaxOrderNotional,
    /// The limit price is outside the collar around the reference price.
    PriceCollar,
    /// The position after the fill would exceed `max_position_quantity`.
    MaxPositionQuantity,
    /// Today's notional including this order would exceed `max_daily_notional`.
    MaxDailyNotional,
    /// The order would exceed `max_orders_per_second`.
    MaxOrdersPerSecond,
    /// The notional as a share of equity exceeds `max_risk_per_trade_pct`.
    MaxRiskPerTrade,
    /// No usable reference price is known for the instrument.
    NoReferencePrice,
    /// No reference price converts the instrument's currency into the account's.
    NoConversion,
}

impl ControlCode {
    /// Every code, in the order the controls run.
    pub const ALL: [ControlCode; 12] = [
        Self::KillSwitch,
        Self::InstrumentNotAllowed,
        Self::TradingHours,
        Self::NoReferencePrice,
        Self::NoConversion,
        Self::MaxOrderQuantity,
        Self::MaxOrderNotional,
        Self::PriceCollar,
        Self::MaxPositionQuantity,
        Self::MaxDailyNotional,
        Self::MaxOrdersPerSecond,
        Self::MaxRiskPerTrade,
    ];

    /// The stable machine code, such as `risk.max_order_notional`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KillSwitch => "risk.kill_switch",
            Self::InstrumentNotAllowed => "risk.instrument_not_allowed",
            Self::TradingHours => "risk.trading_hours",
            Self::MaxOrderQuantity => "risk.max_order_quantity",
            Self::MaxOrderNotional => "risk.max_order_notional",
            Self::PriceCollar => "risk.price_collar",
            Self::MaxPositionQuantity => "risk.max_position_quantity",
            Self::MaxDailyNotional => "risk.max_daily_notional",
            Self::MaxOrdersPerSecond => "risk.max_orders_per_second",
            Self::MaxRiskPerTrade => "risk.max_risk_per_trade",
            Self::NoReferencePrice => "risk.no_reference_price",
            Self::NoConversion => "risk.no_conversion_rate",
        }
    }
}

impl std::fmt::Display for ControlCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order refused by a control: the control's code and why, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Rejection {
    /// The control that refused the order.
    pub code: ControlCode,
    /// Why, in the user's terms; names limits and values, nothing secret.
    pub detail: String,
}

impl Rejection {
    /// A rejection by `code` for the reason `detail`.
    pub fn new(code: ControlCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }

    /// The rejection of an order that a kill switch blocks.
    pub fn kill_switch(engagement: &crate::killswitch::Engagement) -> Self {
        Self::new(
            ControlCode::KillSwitch,
            format!(
                "trading is stopped by the kill switch for `{}`",
                engagement.scope
            ),
        )
    }

    /// The rejection of an order on an instrument without a reference price.
    pub fn no_reference_price(instrument: &InstrumentId) -> Self {
        Self::new(
            ControlCode::NoReferencePrice,
            format!("no reference price is known for `{instrument}`"),
        )
    }
}

/// Runs every pre-trade control on `order` and returns the first that refuses it.
///
/// The notional of a market order uses `reference_price`; of a limit order, its
/// limit price. The kill switch is checked by the caller before this
/// ([`Rejection::kill_switch`]), because it is state outside the account.
///
/// Notional limits are compared with the order's notional as it is, so this is
/// only right when the instrument is priced in the account's currency; use
/// [`check_in_currency`] otherwise.
pub fn check(
    order: &NewOrder,
    limits: &RiskLimits,
    state: &AccountState,
    reference_price: Decimal,
    now: DateTime<Utc>,
) -> Result<(), Rejection> {
    let same = Conversion {
        instrument_currency: "",
        account_currency: "",
        price_of: &|_| None,
    };
    check_in_currency(order, limits, state, reference_price, now, &same)
}

/// Runs every pre-trade control with notional converted into the account's currency.
///
/// `reference_price` is the instrument's, in its own currency; the price collar
/// compares it with the limit price as they are. The order's notional is
/// converted through `conversion` before it meets `max_order_notional`,
/// `max_daily_notional` and `max_risk_per_trade_pct`, and `state` must hold
/// equity and daily notional already in the account's currency. Without a
/// conversion rate the order is refused with `risk.no_conversion_rate`.
pub fn check_in_currency(
    order: &NewOrder,
    limits: &RiskLimits,
    state: &AccountState,
    reference_price: Decimal,
    now: DateTime<Utc>,
    conversion: &Conversion<'_>,
) -> Result<(), Rejection> {
    check_instrument(order, limits)?;
    check_trading_hours(limits, now)?;
    if reference_price <= Decimal::ZERO {
        return Err(Rejection::no_reference_price(&order.instrument));
    }

    let notional = conversion.to_account(notional(order, reference_price)?)?;
    check_order_quantity(order, limits)?;
    check_order_notional(notional, limits)?;
    check_price_collar(order, limits, reference_price)?;
    check_position(order, limits, state)?;
    check_daily_notional(notional, limits, state)?;
    check_order_rate(limits, state)?;
    check_risk_per_trade(notional, limits, state)
}

/// The notional of `order`: quantity times limit price, or reference price for a market order.
pub fn notional(order: &NewOrder, reference_price: Decimal) -> Result<Decimal, Rejection> {
    let price = match (order.order_type, order.limit_price) {
        (OrderType::Limit, Some(limit)) => limit.value(),
        _ => reference_price,
    };
    order
        .quantity
        .value()
        .checked_mul(price)
        .ok_or_else(|| Rejection::new(ControlCode::MaxOrderNotional, "order notional is too large"))
}

fn check_instrument(order: &NewOrder, limits: &RiskLimits) -> Result<(), Rejection> {
    if limits.allowed_instruments.contains(&order.instrument) {
        return Ok(());
    }
    Err(Rejection::new(
        ControlCode::InstrumentNotAllowed,
        format!(
            "`{}` is not an allowed instrument of this account",
            order.instrument
        ),
    ))
}

fn check_trading_hours(limits: &RiskLimits, now: DateTime<Utc>) -> Result<(), Rejection> {
    match limits.trading_hours {
        Some(hours) if !hours.contains(now.time()) => Err(Rejection::new(
            ControlCode::TradingHours,
            format!(
                "orders are accepted from {} to {} UTC",
                hours.start, hours.end
            ),
        )),
        _ => Ok(()),
    }
}

fn check_order_quantity(order: &NewOrder, limits: &RiskLimits) -> Result<(), Rejection> {
    let quantity = order.quantity.value();
    if quantity <= limits.max_order_quantity {
        return Ok(());
    }
    Err(exceeds(
        ControlCode::MaxOrderQuantity,
        "quantity",
        quantity,
        limits.max_order_quantity,
    ))
}

fn check_order_notional(notional: Decimal, limits: &RiskLimits) -> Result<(), Rejection> {
    if notional <= limits.max_order_notional {
        return Ok(());
    }
    Err(exceeds(
        ControlCode::MaxOrderNotional,
        "notional",
        notional,
        limits.max_order_notional,
    ))
}

fn check_price_collar(
    order: &NewOrder,
    limits: &RiskLimits,
    reference_price: Decimal,
) -> Result<(), Rejection> {
    let Some(limit) = order.limit_price.map(|p| p.value()) else {
        return Ok(());
    };
    let too_large = || Rejection::new(ControlCode::PriceCollar, "limit price is too large");
    let distance = limit
        .checked_sub(reference_price)
        .ok_or_else(too_large)?
        .abs();
    let band = reference_price
        .checked_mul(limits.price_collar_pct)
        .and_then(|v| v.checked_div(Decimal::ONE_HUNDRED))
        .ok_or_else(too_large)?;
    if distance <= band {
        return Ok(());
    }
    Err(Rejection::new(
        ControlCode::PriceCollar,
        format!(
            "limit price {} is more than {}% from the reference price {}",
            limit.normalize(),
            limits.price_collar_pct.normalize(),
            reference_price.normalize(),
        ),
    ))
}

/// Refuses an order whose fill would leave an absolute position above the limit.
///
/// An order that brings the position closer to zero without crossing it is
/// always allowed, so that an account above a lowered limit can still reduce
/// its risk; one that crosses zero must leave a position within the limit.
fn check_position(
    order: &NewOrder,
    limits: &RiskLimits,
    state: &AccountState,
) -> Result<(), Rejection> {
    let quantity = order.quantity.value();
    let after = match order.side {
        Side::Buy => state.position.checked_add(quantity),
        Side::Sell => state.position.checked_sub(quantity),
    };
    let Some(after) = after else {
        return Err(Rejection::new(
            ControlCode::MaxPositionQuantity,
            "position is too large",
        ));
    };
    if after.abs() <= limits.max_position_quantity || reduces(state.position, after) {
        return Ok(());
    }
    Err(exceeds(
        ControlCode::MaxPositionQuantity,
        "position after the fill",
        after.abs(),
        limits.max_position_quantity,
    ))
}

/// Whether `after` is closer to zero than `before` on the same side of it.
///
/// A fill that crosses through zero opens a new position on the other side,
/// which must fit the limit on its own.
fn reduces(before: Decimal, after: Decimal) -> bool {
    let same_side = after.is_zero() || after.is_sign_negative() == before.is_sign_negative();
    same_side && after.abs() < before.abs()
}

fn check_daily_notional(
    notional: Decimal,
    limits: &RiskLimits,
    state: &AccountState,
) -> Result<(), Rejection> {
    let code = ControlCode::MaxDailyNotional;
    let total = state
        .daily_notional
        .checked_add(notional)
        .ok_or_else(|| Rejection::new(code, "daily notional is too large"))?;
    if total <= limits.max_daily_notional {
        return Ok(());
    }
    Err(exceeds(
        code,
        "daily notional including this order",
        total,
        limits.max_daily_notional,
    ))
}

fn check_order_rate(limits: &RiskLimits, state: &AccountState) -> Result<(), Rejection> {
    if state.orders_in_last_second < limits.max_orders_per_second {
        return Ok(());
    }
    Err(Rejection::new(
        ControlCode::MaxOrdersPerSecond,
        format!(
            "at most {} orders per second are allowed",
            limits.max_orders_per_second
        ),
    ))
}

/// Refuses an order whose notional exceeds `max_risk_per_trade_pct` of equity.
///
/// Compares `notional × 100` with `pct × equity` so that no division rounds.
fn check_risk_per_trade(
    notional: Decimal,
    limits: &RiskLimits,
    state: &AccountState,
) -> Result<(), Rejection> {
    let code = ControlCode::MaxRiskPerTrade;
    let too_large = || Rejection::new(code, "order notional is too large");
    let scaled_notional = notional
        .checked_mul(Decimal::ONE_HUNDRED)
        .ok_or_else(too_large)?;
    let allowed = limits.max_risk_per_trade_pct.checked_mul(state.equity);
    match allowed {
        Some(allowed) if state.equity > Decimal::ZERO && scaled_notional <= allowed => Ok(()),
        _ => Err(Rejection::new(
            code,
            format!(
                "order notional {} is more than {}% of account equity {}",
                notional.normalize(),
                limits.max_risk_per_trade_pct.normalize(),
                state.equity.normalize(),
            ),
        )),
    }
}

fn exceeds(code: ControlCode, what: &str, value: Decimal, limit: Decimal) -> Rejection {
    Rejection::new(
        code,
        format!(
            "{what} {} exceeds the limit of {}",
            value.normalize(),
            limit.normalize()
        ),
    )
}

#[cfg(test)]
#[path = "controls_tests.rs"]
mod tests;
