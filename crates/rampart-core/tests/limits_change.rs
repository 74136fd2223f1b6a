//! Changes to risk limits: partial changes, tightening against loosening, and firm-wide caps.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::NaiveTime;
use rampart_core::limits::MAX_LIMIT_VALUE;
use rampart_core::{
    FieldErrorKind, Instrument, InstrumentCatalog, LimitCaps, LimitsChange, RiskLimits,
    TradingHours, classify,
};
use rust_decimal_macros::dec;
use serde_json::json;

fn catalog() -> InstrumentCatalog {
    InstrumentCatalog::new(["BTC-USD", "USD-JPY"].map(|id| Instrument {
        id: id.parse().unwrap(),
        tick_size: dec!(0.001),
        lot_size: dec!(0.001),
        currency: "USD".into(),
    }))
}

fn limits() -> RiskLimits {
    RiskLimits {
        max_order_quantity: dec!(5),
        max_order_notional: dec!(250000),
        price_collar_pct: dec!(5),
        max_position_quantity: dec!(10),
        max_daily_notional: dec!(1000000),
        max_orders_per_second: 10,
        max_risk_per_trade_pct: dec!(20),
        allowed_instruments: vec!["BTC-USD".parse().unwrap(), "USD-JPY".parse().unwrap()],
        trading_hours: None,
    }
}

fn change(body: serde_json::Value) -> LimitsChange {
    serde_json::from_value(body).unwrap()
}

fn hours(start: u32, end: u32) -> TradingHours {
    TradingHours {
        start: NaiveTime::from_hms_opt(start, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(end, 0, 0).unwrap(),
    }
}

#[test]
fn a_partial_change_keeps_every_field_it_does_not_name() {
    let next = change(json!({ "max_order_quantity": "2" })).apply_to(&limits());
    let mut expected = limits();
    expected.max_order_quantity = dec!(2);
    assert_eq!(next, expected);
}

#[test]
fn a_partial_change_refuses_numbers_unknown_fields_and_null_decimals() {
    for body in [
        json!({ "max_order_quantity": 2 }),
        json!({ "max_order_qty": "2" }),
        json!({ "max_order_quantity": null }),
        json!({ "max_order_quantity": "1e3" }),
    ] {
        assert!(
            serde_json::from_value::<LimitsChange>(body.clone()).is_err(),
            "{body}"
        );
    }
}

#[test]
fn null_trading_hours_removes_the_window() {
    let mut base = limits();
    base.trading_hours = Some(hours(8, 18));
    let next = change(json!({ "trading_hours": null })).apply_to(&base);
    assert_eq!(next.trading_hours, None);
    assert_eq!(classify(&base, &next).loosened, vec!["trading_hours"]);
}

#[test]
fn lower_caps_fewer_instruments_and_narrower_hours_are_a_tightening() {
    let mut base = limits();
    base.trading_hours = Some(hours(8, 18));
    let next = change(json!({
        "max_order_notional": "1000",
        "max_orders_per_second": 2,
        "price_collar_pct": "1",
        "allowed_instruments": ["BTC-USD"],
        "trading_hours": { "start": "09:00:00", "end": "17:00:00" },
    }))
    .apply_to(&base);
    let verdict = classify(&base, &next);
    assert!(verdict.is_tightening(), "{verdict:?}");
    assert_eq!(verdict.changed.len(), 5);
}

#[test]
fn one_looser_field_makes_the_whole_change_a_loosening() {
    let next = change(json!({ "max_order_quantity": "1", "max_daily_notional": "2000000" }))
        .apply_to(&limits());
    let verdict = classify(&limits(), &next);
    assert!(!verdict.is_tightening());
    assert_eq!(verdict.loosened, vec!["max_daily_notional"]);
}

#[test]
fn a_new_instrument_is_a_loosening_even_when_another_goes() {
    let mut base = limits();
    base.allowed_instruments = vec!["BTC-USD".parse().unwrap()];
    let next = change(json!({ "allowed_instruments": ["USD-JPY"] })).apply_to(&base);
    assert_eq!(classify(&base, &next).loosened, vec!["allowed_instruments"]);
}

#[test]
fn reordering_instruments_is_no_change() {
    let next = change(json!({ "allowed_instruments": ["USD-JPY", "BTC-USD"] })).apply_to(&limits());
    assert!(classify(&limits(), &next).is_unchanged());
}

#[test]
fn wider_hours_and_a_first_window_are_told_apart() {
    let mut base = limits();
    let first = change(json!({ "trading_hours": { "start": "08:00:00", "end": "18:00:00" } }))
        .apply_to(&base);
    assert!(classify(&base, &first).is_tightening());
    base.trading_hours = Some(hours(9, 17));
    assert_eq!(classify(&base, &first).loosened, vec!["trading_hours"]);
}

#[test]
fn values_above_the_built_in_bound_are_refused() {
    let mut big = limits();
    big.max_daily_notional = MAX_LIMIT_VALUE + dec!(1);
    let error = big.validate(&catalog()).unwrap_err();
    assert_eq!(error.field, "max_daily_notional");
    assert!(matches!(error.kind, FieldErrorKind::OutOfRange(_)));
}

#[test]
fn an_instrument_named_twice_is_refused() {
    let mut twice = limits();
    twice.allowed_instruments = vec!["BTC-USD".parse().unwrap(), "BTC-USD".parse().unwrap()];
    assert_eq!(
        twice.validate(&catalog()).unwrap_err().field,
        "allowed_instruments"
    );
}

#[test]
fn a_cap_names_the_first_field_above_it() {
    let caps: LimitCaps = serde_json::from_value(json!({
        "max_order_notional": "100000",
        "max_orders_per_second": 20,
    }))
    .unwrap();
    let error = caps.check(&limits()).unwrap_err();
    assert_eq!(
        (error.field, error.cap.as_str()),
        ("max_order_notional", "100000")
    );

    let mut within = limits();
    within.max_order_notional = dec!(100000);
    assert!(caps.check(&within).is_ok());
    within.max_orders_per_second = 21;
    assert_eq!(
        caps.check(&within).unwrap_err().field,
        "max_orders_per_second"
    );
}

#[test]
fn caps_refuse_unknown_keys_and_report_zero_caps() {
    assert!(serde_json::from_value::<LimitCaps>(json!({ "max_qty": "1" })).is_err());
    let zero: LimitCaps = serde_json::from_value(json!({ "price_collar_pct": "0" })).unwrap();
    assert_eq!(zero.first_invalid(), Some("price_collar_pct"));
}
