//! Tests of each pre-trade control at its boundary, and that none of them panics.

use chrono::{NaiveTime, TimeZone};
use rampart_core::{AccountId, Price, Quantity, TimeInForce, TradingHours};
use rust_decimal_macros::dec;

use super::*;

const TICK: Decimal = dec!(0.001);
const LOT: Decimal = dec!(0.001);

fn btc() -> InstrumentId {
    "BTC-USD".parse().unwrap()
}

fn limits() -> RiskLimits {
    RiskLimits {
        max_order_quantity: dec!(2),
        max_order_notional: dec!(100000),
        price_collar_pct: dec!(5),
        max_position_quantity: dec!(3),
        max_daily_notional: dec!(500000),
        max_orders_per_second: 5,
        max_risk_per_trade_pct: dec!(10),
        allowed_instruments: vec![btc()],
        trading_hours: None,
    }
}

fn state() -> AccountState {
    AccountState {
        equity: dec!(10000000),
        position: Decimal::ZERO,
        daily_notional: Decimal::ZERO,
        orders_in_last_second: 0,
    }
}

fn order(side: Side, quantity: Decimal, limit: Option<Decimal>) -> NewOrder {
    NewOrder {
        account_id: "ACC-1".parse::<AccountId>().unwrap(),
        instrument: btc(),
        side,
        order_type: if limit.is_some() {
            OrderType::Limit
        } else {
            OrderType::Market
        },
        quantity: Quantity::new(quantity).unwrap(),
        limit_price: limit.map(|p| Price::new(p).unwrap()),
        time_in_force: if limit.is_some() {
            TimeInForce::Gtc
        } else {
            TimeInForce::Ioc
        },
        client_order_id: None,
    }
}

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 12, 0, 0).unwrap()
}

fn run(order: &NewOrder, limits: &RiskLimits, state: &AccountState) -> Result<(), Rejection> {
    check(order, limits, state, dec!(40000), noon())
}

fn code_of(result: Result<(), Rejection>) -> ControlCode {
    result.unwrap_err().code
}

#[test]
fn accepts_an_order_inside_every_limit() {
    assert_eq!(
        run(
            &order(Side::Buy, dec!(1), Some(dec!(40000))),
            &limits(),
            &state()
        ),
        Ok(())
    );
}

#[test]
fn codes_are_stable_and_distinct() {
    let codes: std::collections::BTreeSet<_> =
        ControlCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes.len(), ControlCode::ALL.len());
    assert!(codes.iter().all(|c| c.starts_with("risk.")));
    assert_eq!(
        ControlCode::MaxOrderNotional.as_str(),
        "risk.max_order_notional"
    );
}

#[test]
fn rejects_an_instrument_the_account_may_not_trade() {
    let mut limits = limits();
    limits.allowed_instruments = vec!["USD-JPY".parse().unwrap()];
    let result = run(&order(Side::Buy, dec!(1), None), &limits, &state());
    assert_eq!(code_of(result), ControlCode::InstrumentNotAllowed);
}

#[test]
fn trading_hours_allow_the_opening_minute_and_refuse_the_closing_one() {
    let mut limits = limits();
    limits.trading_hours = Some(TradingHours {
        start: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
    });
    let order = order(Side::Buy, dec!(1), None);
    let at = |h, m| Utc.with_ymd_and_hms(2026, 1, 5, h, m, 0).unwrap();
    assert_eq!(
        check(&order, &limits, &state(), dec!(40000), at(12, 0)),
        Ok(())
    );
    let late = check(&order, &limits, &state(), dec!(40000), at(13, 0));
    assert_eq!(code_of(late), ControlCode::TradingHours);
    let early = check(&order, &limits, &state(), dec!(40000), at(11, 59));
    assert_eq!(code_of(early), ControlCode::TradingHours);
}

#[test]
fn trading_hours_across_midnight_accept_orders_after_midnight() {
    let mut limits = limits();
    limits.trading_hours = Some(TradingHours {
        start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(2, 0, 0).unwrap(),
    });
    let order = order(Side::Buy, dec!(1), None);
    let at = |h| Utc.with_ymd_and_hms(2026, 1, 5, h, 0, 0).unwrap();
    assert_eq!(check(&order, &limits, &state(), dec!(40000), at(1)), Ok(()));
    assert_eq!(
        check(&order, &limits, &state(), dec!(40000), at(23)),
        Ok(())
    );
    let noon = check(&order, &limits, &state(), dec!(40000), at(12));
    assert_eq!(code_of(noon), ControlCode::TradingHours);
}

#[test]
fn rejects_a_missing_reference_price() {
    let result = check(
        &order(Side::Buy, dec!(1), None),
        &limits(),
        &state(),
        dec!(0),
        noon(),
    );
    assert_eq!(code_of(result), ControlCode::NoReferencePrice);
}

#[test]
fn max_order_quantity_allows_the_limit_and_refuses_one_lot_more() {
    let mut limits = limits();
    limits.max_order_notional = dec!(1000000);
    assert_eq!(
        run(&order(Side::Buy, dec!(2), None), &limits, &state()),
        Ok(())
    );
    let result = run(&order(Side::Buy, dec!(2) + LOT, None), &limits, &state());
    assert_eq!(code_of(result), ControlCode::MaxOrderQuantity);
}

#[test]
fn market_order_notional_uses_the_reference_price() {
    // 2.5 × 40000 = 100000: exactly the limit.
    let mut limits = limits();
    limits.max_order_quantity = dec!(10);
    limits.max_position_quantity = dec!(10);
    assert_eq!(
        run(&order(Side::Buy, dec!(2.5), None), &limits, &state()),
        Ok(())
    );
    let result = run(&order(Side::Buy, dec!(2.5) + LOT, None), &limits, &state());
    assert_eq!(code_of(result), ControlCode::MaxOrderNotional);
}

#[test]
fn limit_order_notional_uses_the_limit_price() {
    // 2 × 40000 = 80000 at the reference, but 2 × 41000 = 82000 at the limit.
    let mut limits = limits();
    limits.max_order_notional = dec!(82000);
    assert_eq!(
        run(
            &order(Side::Buy, dec!(2), Some(dec!(41000))),
            &limits,
            &state()
        ),
        Ok(())
    );
    let beyond = order(Side::Buy, dec!(2), Some(dec!(41000) + TICK));
    assert_eq!(
        code_of(run(&beyond, &limits, &state())),
        ControlCode::MaxOrderNotional
    );
}

#[test]
fn price_collar_allows_the_band_edge_and_refuses_one_tick_beyond() {
    // 5% of 40000 is 2000: the band is 38000 to 42000.
    for (price, side) in [(dec!(42000), Side::Buy), (dec!(38000), Side::Sell)] {
        assert_eq!(
            run(&order(side, dec!(1), Some(price)), &limits(), &state()),
            Ok(())
        );
    }
    for (price, side) in [
        (dec!(42000) + TICK, Side::Buy),
        (dec!(38000) - TICK, Side::Sell),
    ] {
        let result = run(&order(side, dec!(1), Some(price)), &limits(), &state());
        assert_eq!(code_of(result), ControlCode::PriceCollar);
    }
}

#[test]
fn price_collar_does_not_apply_to_market_orders() {
    let mut limits = limits();
    limits.price_collar_pct = dec!(0.001);
    assert_eq!(
        run(&order(Side::Buy, dec!(1), None), &limits, &state()),
        Ok(())
    );
}

#[test]
fn max_position_counts_the_position_after_the_fill() {
    let mut state = state();
    state.position = dec!(1.5);
    assert_eq!(
        run(&order(Side::Buy, dec!(1.5), None), &limits(), &state),
        Ok(())
    );
    let result = run(&order(Side::Buy, dec!(1.5) + LOT, None), &limits(), &state);
    assert_eq!(code_of(result), ControlCode::MaxPositionQuantity);
}

#[test]
fn max_position_is_absolute_for_short_positions() {
    let mut state = state();
    state.position = dec!(-1.5);
    assert_eq!(
        run(&order(Side::Sell, dec!(1.5), None), &limits(), &state),
        Ok(())
    );
    let result = run(&order(Side::Sell, dec!(1.5) + LOT, None), &limits(), &state);
    assert_eq!(code_of(result), ControlCode::MaxPositionQuantity);
}

#[test]
fn max_position_allows_an_order_that_reduces_a_position_above_the_limit() {
    let mut state = state();
    state.position = dec!(5);
    assert_eq!(
        run(&order(Side::Sell, dec!(1), None), &limits(), &state),
        Ok(())
    );
    let result = run(&order(Side::Buy, LOT, None), &limits(), &state);
    assert_eq!(code_of(result), ControlCode::MaxPositionQuantity);
}

#[test]
fn max_daily_notional_includes_this_order() {
    let mut state = state();
    state.daily_notional = dec!(460000);
    // 1 × 40000 brings the day to exactly 500000.
    assert_eq!(
        run(&order(Side::Buy, dec!(1), None), &limits(), &state),
        Ok(())
    );
    let result = run(&order(Side::Buy, dec!(1) + LOT, None), &limits(), &state);
    assert_eq!(code_of(result), ControlCode::MaxDailyNotional);
}

#[test]
fn max_orders_per_second_allows_the_last_order_of_the_budget() {
    let mut state = state();
    state.orders_in_last_second = 4;
    assert_eq!(
        run(&order(Side::Buy, dec!(1), None), &limits(), &state),
        Ok(())
    );
    state.orders_in_last_second = 5;
    let result = run(&order(Side::Buy, dec!(1), None), &limits(), &state);
    assert_eq!(code_of(result), ControlCode::MaxOrdersPerSecond);
}

#[test]
fn max_risk_per_trade_compares_notional_with_equity() {
    let mut state = state();
    // 10% of 400000 is 40000: one BTC at 40000.
    state.equity = dec!(400000);
    assert_eq!(
        run(&order(Side::Buy, dec!(1), None), &limits(), &state),
        Ok(())
    );
    let result = run(&order(Side::Buy, dec!(1) + LOT, None), &limits(), &state);
    assert_eq!(code_of(result), ControlCode::MaxRiskPerTrade);
}

#[test]
fn max_risk_per_trade_refuses_every_order_without_positive_equity() {
    for equity in [Decimal::ZERO, dec!(-1)] {
        let state = AccountState { equity, ..state() };
        let result = run(&order(Side::Buy, LOT, None), &limits(), &state);
        assert_eq!(code_of(result), ControlCode::MaxRiskPerTrade);
    }
}

#[test]
fn an_overflowing_notional_is_a_rejection_not_a_panic() {
    let mut limits = limits();
    limits.max_order_quantity = Decimal::MAX;
    let huge = order(Side::Buy, Decimal::MAX, None);
    let result = check(&huge, &limits, &state(), Decimal::MAX, noon());
    assert_eq!(code_of(result), ControlCode::MaxOrderNotional);
}

#[test]
fn an_overflowing_position_is_a_rejection_not_a_panic() {
    let mut limits = limits();
    limits.max_order_quantity = Decimal::MAX;
    limits.max_order_notional = Decimal::MAX;
    limits.price_collar_pct = dec!(100);
    let state = AccountState {
        position: Decimal::MAX,
        ..state()
    };
    let result = check(
        &order(Side::Buy, dec!(1), None),
        &limits,
        &state,
        dec!(1),
        noon(),
    );
    assert_eq!(code_of(result), ControlCode::MaxPositionQuantity);
}

#[test]
fn equity_marks_positions_at_reference_prices() {
    let jpy: InstrumentId = "USD-JPY".parse().unwrap();
    let positions = [(btc(), dec!(-0.5)), (jpy.clone(), Decimal::ZERO)];
    let prices = |id: &InstrumentId| (*id == btc()).then_some(dec!(40000));
    assert_eq!(equity(dec!(100000), &positions, prices), Ok(dec!(80000)));
}

#[test]
fn equity_needs_a_price_for_every_open_position() {
    let positions = [(btc(), dec!(1))];
    let result = equity(dec!(100), &positions, |_| None);
    assert_eq!(result.unwrap_err().code, ControlCode::NoReferencePrice);
}

#[test]
fn equity_overflow_is_a_rejection_not_a_panic() {
    let positions = [(btc(), Decimal::MAX)];
    let result = equity(Decimal::MAX, &positions, |_| Some(dec!(2)));
    assert_eq!(result.unwrap_err().code, ControlCode::MaxRiskPerTrade);
}

#[test]
fn a_kill_switch_rejection_names_the_scope_not_the_reason() {
    let switch = crate::killswitch::KillSwitch::new();
    let scope = crate::killswitch::KillSwitchScope::Global;
    let engagement = switch
        .engage(scope, "internal incident 42", "risk-1", noon())
        .unwrap();
    let rejection = Rejection::kill_switch(&engagement);
    assert_eq!(rejection.code.as_str(), "risk.kill_switch");
    assert!(
        rejection.detail.contains("`global`"),
        "{}",
        rejection.detail
    );
    assert!(
        !rejection.detail.contains("incident"),
        "{}",
        rejection.detail
    );
}

#[test]
fn a_missing_reference_price_rejection_names_the_instrument() {
    let rejection = Rejection::no_reference_price(&btc());
    assert_eq!(rejection.code.as_str(), "risk.no_reference_price");
    assert_eq!(
        rejection.to_string(),
        "no reference price is known for `BTC-USD`"
    );
}

fn any_decimal() -> impl proptest::strategy::Strategy<Value = Decimal> {
    use proptest::prelude::*;
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<bool>(),
        0u32..=28,
    )
        .prop_map(|(lo, mid, hi, negative, scale)| {
            Decimal::from_parts(lo, mid, hi, negative, scale)
        })
}

proptest::proptest! {
    #[test]
    fn no_combination_of_values_makes_the_controls_panic(
        quantity in any_decimal(),
        limit in proptest::option::of(any_decimal()),
        reference in any_decimal(),
        equity in any_decimal(),
        position in any_decimal(),
        daily_notional in any_decimal(),
        max in any_decimal(),
    ) {
        let positive = |d: Decimal| Some(d.abs()).filter(|d| !d.is_zero());
        let (Some(quantity), Some(max)) = (positive(quantity), positive(max)) else {
            return Ok(());
        };
        let limit = limit.and_then(positive);
        let order = order(Side::Sell, quantity, limit);
        let limits = RiskLimits {
            max_order_quantity: max,
            max_order_notional: max,
            max_position_quantity: max,
            max_daily_notional: max,
            ..limits()
        };
        let state = AccountState { equity, position, daily_notional, orders_in_last_second: 0 };
        if check(&order, &limits, &state, reference, noon()).is_ok() {
            proptest::prop_assert!(quantity <= max && reference > Decimal::ZERO);
        }
        let _ = equity_of(position, reference);
    }
}

fn equity_of(position: Decimal, price: Decimal) -> Result<Decimal, Rejection> {
    equity(Decimal::MAX, &[(btc(), position)], |_| Some(price))
}
