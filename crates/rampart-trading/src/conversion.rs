//! Currency conversion for the pre-trade controls, at reference prices.
//!
//! Risk limits, equity and daily notional are in the account's currency; an
//! order's notional is in its instrument's currency (`USD-JPY` notional is in
//! yen). An amount moves from one currency to the other through the reference
//! price of the instrument that quotes one in the other: `FROM-TO` multiplies,
//! `TO-FROM` divides. Without either there is no rate, and the order is
//! refused with `risk.no_conversion_rate` rather than checked in the wrong
//! currency. Arithmetic is checked: an amount too large to convert is a
//! rejection, never a panic. Equity, the sum of cash and marked positions,
//! is valued here for the same reason.

use rampart_core::InstrumentId;
use rust_decimal::Decimal;

use crate::controls::{ControlCode, Rejection};

/// The currencies an order's controls run in, and where conversion rates come from.
pub struct Conversion<'a> {
    /// The currency of the order's instrument: of its prices and notional.
    pub instrument_currency: &'a str,
    /// The account's currency: of its limits, equity and daily notional.
    pub account_currency: &'a str,
    /// The reference price of an instrument, if one is known.
    pub price_of: &'a dyn Fn(&InstrumentId) -> Option<Decimal>,
}

impl Conversion<'_> {
    /// Converts `amount` from the instrument's currency into the account's.
    pub fn to_account(&self, amount: Decimal) -> Result<Decimal, Rejection> {
        convert(
            amount,
            self.instrument_currency,
            self.account_currency,
            self.price_of,
        )
    }
}

/// Converts `amount` from currency `from` into currency `to` at reference prices.
///
/// The same currency converts to itself without a price. Otherwise the
/// reference price of `FROM-TO` multiplies the amount, or failing that the
/// price of `TO-FROM` divides it; a price that is absent or not positive does
/// not count. Without a rate the answer is `risk.no_conversion_rate`.
pub fn convert(
    amount: Decimal,
    from: &str,
    to: &str,
    price_of: impl Fn(&InstrumentId) -> Option<Decimal>,
) -> Result<Decimal, Rejection> {
    if from == to {
        return Ok(amount);
    }
    let too_large = || Rejection::new(ControlCode::NoConversion, "amount is too large to convert");
    if let Some(rate) = rate_of(from, to, &price_of) {
        return amount.checked_mul(rate).ok_or_else(too_large);
    }
    if let Some(rate) = rate_of(to, from, &price_of) {
        return amount.checked_div(rate).ok_or_else(too_large);
    }
    Err(Rejection::new(
        ControlCode::NoConversion,
        format!("no reference price converts `{from}` into `{to}`"),
    ))
}

/// The positive reference price of the instrument `BASE-QUOTE`, if there is one.
fn rate_of(
    base: &str,
    quote: &str,
    price_of: &impl Fn(&InstrumentId) -> Option<Decimal>,
) -> Option<Decimal> {
    let instrument: InstrumentId = format!("{base}-{quote}").parse().ok()?;
    price_of(&instrument).filter(|price| *price > Decimal::ZERO)
}

/// Account equity: `cash` plus every position marked at its reference price.
///
/// `prices` gives each instrument's price in the account's currency, so this
/// is only right when every instrument is priced in it (otherwise use
/// [`equity_in_currency`]). A position of zero needs no price; any other
/// position without one refuses with `risk.no_reference_price`, and an
/// overflow with `risk.max_risk_per_trade`.
pub fn equity(
    cash: Decimal,
    positions: &[(InstrumentId, Decimal)],
    prices: impl Fn(&InstrumentId) -> Option<Decimal>,
) -> Result<Decimal, Rejection> {
    let too_large = || Rejection::new(ControlCode::MaxRiskPerTrade, "equity is too large");
    positions
        .iter()
        .filter(|(_, quantity)| !quantity.is_zero())
        .try_fold(cash, |total, (instrument, quantity)| {
            let price =
                prices(instrument).ok_or_else(|| Rejection::no_reference_price(instrument))?;
            let value = quantity.checked_mul(price).ok_or_else(too_large)?;
            total.checked_add(value).ok_or_else(too_large)
        })
}

/// Account equity in `account_currency`: cash plus every position marked and converted.
///
/// Each open position is marked at its instrument's reference price, in the
/// instrument's currency (`currency_of`), and converted into the account's;
/// `cash` must already be in the account's currency. A position of zero needs
/// no price; any other needs a reference price (`risk.no_reference_price`) and
/// a conversion rate (`risk.no_conversion_rate`).
pub fn equity_in_currency(
    cash: Decimal,
    positions: &[(InstrumentId, Decimal)],
    account_currency: &str,
    currency_of: impl Fn(&InstrumentId) -> Option<String>,
    price_of: impl Fn(&InstrumentId) -> Option<Decimal>,
) -> Result<Decimal, Rejection> {
    let too_large = || Rejection::new(ControlCode::MaxRiskPerTrade, "equity is too large");
    positions
        .iter()
        .filter(|(_, quantity)| !quantity.is_zero())
        .try_fold(cash, |total, (instrument, quantity)| {
            let price =
                price_of(instrument).ok_or_else(|| Rejection::no_reference_price(instrument))?;
            let currency = currency_of(instrument).ok_or_else(|| unknown_currency(instrument))?;
            let value = quantity.checked_mul(price).ok_or_else(too_large)?;
            let value = convert(value, &currency, account_currency, &price_of)?;
            total.checked_add(value).ok_or_else(too_large)
        })
}

/// The day's notional in `account_currency`, from per-instrument sums in their own currencies.
///
/// `by_instrument` is what the store reports per instrument; each sum is
/// converted at reference prices and added. An instrument of unknown
/// currency, or without a conversion rate, refuses with
/// `risk.no_conversion_rate`.
pub fn daily_notional_in_currency(
    by_instrument: &[(InstrumentId, Decimal)],
    account_currency: &str,
    currency_of: impl Fn(&InstrumentId) -> Option<String>,
    price_of: impl Fn(&InstrumentId) -> Option<Decimal>,
) -> Result<Decimal, Rejection> {
    let too_large = || Rejection::new(ControlCode::MaxDailyNotional, "daily notional is too large");
    by_instrument
        .iter()
        .try_fold(Decimal::ZERO, |total, (instrument, notional)| {
            let currency = currency_of(instrument).ok_or_else(|| unknown_currency(instrument))?;
            let converted = convert(*notional, &currency, account_currency, &price_of)?;
            total.checked_add(converted).ok_or_else(too_large)
        })
}

fn unknown_currency(instrument: &InstrumentId) -> Rejection {
    Rejection::new(
        ControlCode::NoConversion,
        format!("the currency of `{instrument}` is not known"),
    )
}
