//! Controls in the account's currency: `USD-JPY` notional is in yen, limits may be in dollars.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use common::{id, limit, limits, market, noon, state};
use rampart_core::{InstrumentId, RiskLimits, Side};
use rampart_trading::controls::{check, check_in_currency};
use rampart_trading::{
    ControlCode, Conversion, convert, daily_notional_in_currency, equity_in_currency,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const USD_JPY: Decimal = dec!(150);
const BTC_USD: Decimal = dec!(40000);

fn prices(instrument: &InstrumentId) -> Option<Decimal> {
    match instrument.as_str() {
        "USD-JPY" => Some(USD_JPY),
        "BTC-USD" => Some(BTC_USD),
        _ => None,
    }
}

fn currency_of(instrument: &InstrumentId) -> Option<String> {
    match instrument.as_str() {
        "USD-JPY" => Some("JPY".to_owned()),
        "BTC-USD" => Some("USD".to_owned()),
        _ => None,
    }
}

fn conversion<'a>(instrument_currency: &'a str, account_currency: &'a str) -> Conversion<'a> {
    Conversion {
        instrument_currency,
        account_currency,
        price_of: &prices,
    }
}

fn fx_limits(max_order_notional: Decimal) -> RiskLimits {
    RiskLimits {
        max_order_notional,
        max_position_quantity: dec!(1000000),
        ..limits("USD-JPY")
    }
}

#[test]
fn usd_jpy_order_in_a_usd_account_meets_the_limit_in_dollars() {
    let order = market("USD-JPY", Side::Buy, dec!(1000));
    let usd = conversion("JPY", "USD");

    let at_limit = check_in_currency(
        &order,
        &fx_limits(dec!(1000)),
        &state(dec!(1000000)),
        USD_JPY,
        noon(),
        &usd,
    );
    let over_limit = check_in_currency(
        &order,
        &fx_limits(dec!(999.99)),
        &state(dec!(1000000)),
        USD_JPY,
        noon(),
        &usd,
    );

    assert_eq!(at_limit, Ok(()), "1000 dollars at 150 is 150000 yen");
    assert_eq!(over_limit.unwrap_err().code, ControlCode::MaxOrderNotional);
}

#[test]
fn usd_jpy_order_in_a_jpy_account_meets_the_limit_in_yen() {
    let order = market("USD-JPY", Side::Buy, dec!(1000));
    let jpy = conversion("JPY", "JPY");

    let at_limit = check_in_currency(
        &order,
        &fx_limits(dec!(150000)),
        &state(dec!(100000000)),
        USD_JPY,
        noon(),
        &jpy,
    );
    let over_limit = check_in_currency(
        &order,
        &fx_limits(dec!(149999)),
        &state(dec!(100000000)),
        USD_JPY,
        noon(),
        &jpy,
    );

    assert_eq!(at_limit, Ok(()));
    assert_eq!(over_limit.unwrap_err().code, ControlCode::MaxOrderNotional);
}

#[test]
fn the_plain_check_would_compare_yen_with_a_dollar_limit() {
    let order = market("USD-JPY", Side::Buy, dec!(1000));
    let plain = check(
        &order,
        &fx_limits(dec!(1000)),
        &state(dec!(1000000)),
        USD_JPY,
        noon(),
    );
    assert_eq!(plain.unwrap_err().code, ControlCode::MaxOrderNotional);
}

#[test]
fn risk_per_trade_compares_dollar_notional_with_dollar_equity() {
    let mut limits = fx_limits(dec!(1000000));
    limits.max_risk_per_trade_pct = dec!(10);
    let usd = conversion("JPY", "USD");
    let run = |quantity| {
        let order = limit("USD-JPY", Side::Buy, quantity, USD_JPY);
        check_in_currency(&order, &limits, &state(dec!(10000)), USD_JPY, noon(), &usd)
    };

    assert_eq!(run(dec!(1000)), Ok(()));
    assert_eq!(
        run(dec!(1001)).unwrap_err().code,
        ControlCode::MaxRiskPerTrade
    );
}

#[test]
fn daily_notional_is_added_in_the_account_currency() {
    let mut limits = fx_limits(dec!(1000000));
    limits.max_daily_notional = dec!(5000);
    let mut account = state(dec!(1000000));
    account.daily_notional = dec!(4000);
    let usd = conversion("JPY", "USD");
    let run = |quantity| {
        let order = market("USD-JPY", Side::Buy, quantity);
        check_in_currency(&order, &limits, &account, USD_JPY, noon(), &usd)
    };

    assert_eq!(run(dec!(1000)), Ok(()));
    assert_eq!(
        run(dec!(1001)).unwrap_err().code,
        ControlCode::MaxDailyNotional
    );
}

#[test]
fn btc_order_in_a_jpy_account_converts_dollars_to_yen_by_multiplying() {
    let mut limits = limits("BTC-USD");
    limits.max_order_notional = dec!(6000000);
    limits.max_daily_notional = dec!(6000000);
    let order = market("BTC-USD", Side::Buy, dec!(1));
    let jpy = conversion("USD", "JPY");

    let verdict = check_in_currency(&order, &limits, &state(dec!(1e9)), BTC_USD, noon(), &jpy);
    assert_eq!(verdict, Ok(()), "40000 dollars at 150 is 6000000 yen");

    limits.max_order_notional = dec!(5999999);
    let verdict = check_in_currency(&order, &limits, &state(dec!(1e9)), BTC_USD, noon(), &jpy);
    assert_eq!(verdict.unwrap_err().code, ControlCode::MaxOrderNotional);
}

#[test]
fn an_order_without_a_conversion_rate_is_refused_with_its_own_code() {
    let order = market("USD-JPY", Side::Buy, dec!(1000));
    let eur = conversion("JPY", "EUR");

    let verdict = check_in_currency(
        &order,
        &fx_limits(dec!(1000000)),
        &state(dec!(1000000)),
        USD_JPY,
        noon(),
        &eur,
    );

    let rejection = verdict.unwrap_err();
    assert_eq!(rejection.code, ControlCode::NoConversion);
    assert_eq!(rejection.code.as_str(), "risk.no_conversion_rate");
    assert!(rejection.detail.contains("`JPY`") && rejection.detail.contains("`EUR`"));
}

#[test]
fn convert_multiplies_by_from_to_and_divides_by_to_from() {
    assert_eq!(convert(dec!(2), "USD", "JPY", prices), Ok(dec!(300)));
    assert_eq!(convert(dec!(300), "JPY", "USD", prices), Ok(dec!(2)));
    assert_eq!(convert(dec!(7), "XAU", "XAU", |_| None), Ok(dec!(7)));
}

#[test]
fn convert_ignores_a_price_that_is_not_positive() {
    let zero = |i: &InstrumentId| (i == &id("USD-JPY")).then_some(Decimal::ZERO);
    let refused = convert(dec!(300), "JPY", "USD", zero).unwrap_err();
    assert_eq!(refused.code, ControlCode::NoConversion);
}

#[test]
fn convert_refuses_an_overflow_instead_of_panicking() {
    let huge = |_: &InstrumentId| Some(Decimal::MAX);
    let refused = convert(Decimal::MAX, "USD", "JPY", huge).unwrap_err();
    assert_eq!(refused.code, ControlCode::NoConversion);
    let tiny =
        |i: &InstrumentId| (i == &id("USD-JPY")).then_some(dec!(0.0000000000000000000000000001));
    let refused = convert(Decimal::MAX, "JPY", "USD", tiny).unwrap_err();
    assert_eq!(refused.code, ControlCode::NoConversion);
}

#[test]
fn equity_in_dollars_marks_a_usd_jpy_position_and_converts_the_yen() {
    let positions = [(id("USD-JPY"), dec!(1000)), (id("BTC-USD"), dec!(0.5))];
    let equity = equity_in_currency(dec!(500), &positions, "USD", currency_of, prices);
    assert_eq!(equity, Ok(dec!(500) + dec!(1000) + dec!(20000)));
}

#[test]
fn equity_in_yen_converts_a_btc_position_by_multiplying() {
    let positions = [(id("BTC-USD"), dec!(-0.5))];
    let equity = equity_in_currency(dec!(10000000), &positions, "JPY", currency_of, prices);
    assert_eq!(equity, Ok(dec!(10000000) - dec!(3000000)));
}

#[test]
fn equity_refuses_a_position_whose_currency_has_no_rate() {
    let positions = [(id("USD-JPY"), dec!(1000))];
    let refused = equity_in_currency(dec!(0), &positions, "EUR", currency_of, prices).unwrap_err();
    assert_eq!(refused.code, ControlCode::NoConversion);
}

#[test]
fn daily_notional_of_yen_and_dollar_orders_adds_up_in_dollars_and_in_yen() {
    let by_instrument = [(id("BTC-USD"), dec!(40000)), (id("USD-JPY"), dec!(150000))];
    let in_dollars = daily_notional_in_currency(&by_instrument, "USD", currency_of, prices);
    let in_yen = daily_notional_in_currency(&by_instrument, "JPY", currency_of, prices);
    assert_eq!(in_dollars, Ok(dec!(41000)));
    assert_eq!(in_yen, Ok(dec!(6150000)));
}

#[test]
fn daily_notional_of_an_instrument_of_unknown_currency_is_refused() {
    let by_instrument = [(id("ETH-USD"), dec!(1))];
    let refused = daily_notional_in_currency(&by_instrument, "USD", currency_of, prices);
    assert_eq!(refused.unwrap_err().code, ControlCode::NoConversion);
}
