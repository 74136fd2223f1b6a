//! Risk limits: every bound of `RiskLimits::validate`, and trading hours.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::NaiveTime;
use rampart_core::limits::MAX_ORDERS_PER_SECOND;
use rampart_core::{FieldErrorKind, Instrument, InstrumentCatalog, RiskLimits, TradingHours};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

fn catalog() -> InstrumentCatalog {
    InstrumentCatalog::new([Instrument {
        id: "BTC-USD".parse().unwrap(),
        tick_size: dec!(0.001),
        lot_size: dec!(0.001),
        currency: "USD".into(),
    }])
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
        allowed_instruments: vec!["BTC-USD".parse().unwrap()],
        trading_hours: None,
    }
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn field_of(limits: &RiskLimits) -> &'static str {
    limits.validate(&catalog()).unwrap_err().field
}

type Setter = fn(&mut RiskLimits, Decimal);

const AMOUNTS: [(&str, Setter); 4] = [
    ("max_order_quantity", |l, v| l.max_order_quantity = v),
    ("max_order_notional", |l, v| l.max_order_notional = v),
    ("max_position_quantity", |l, v| l.max_position_quantity = v),
    ("max_daily_notional", |l, v| l.max_daily_notional = v),
];

const PERCENTAGES: [(&str, Setter); 2] = [
    ("price_collar_pct", |l, v| l.price_collar_pct = v),
    ("max_risk_per_trade_pct", |l, v| {
        l.max_risk_per_trade_pct = v
    }),
];

#[test]
fn valid_limits_pass() {
    assert_eq!(limits().validate(&catalog()), Ok(()));
}

#[test]
fn zero_and_negative_amounts_are_refused_with_their_field() {
    for (field, set) in AMOUNTS {
        for value in [Decimal::ZERO, dec!(-1), dec!(-0.001)] {
            let mut limits = limits();
            set(&mut limits, value);
            let error = limits.validate(&catalog()).unwrap_err();
            assert_eq!(
                (error.field, error.kind),
                (field, FieldErrorKind::NotPositive)
            );
        }
        let mut smallest = limits();
        set(&mut smallest, dec!(0.001));
        assert_eq!(smallest.validate(&catalog()), Ok(()), "{field}");
    }
}

#[test]
fn percentages_must_be_above_zero_and_at_most_one_hundred() {
    for (field, set) in PERCENTAGES {
        for value in [Decimal::ZERO, dec!(-5), dec!(100.001), dec!(1000)] {
            let mut limits = limits();
            set(&mut limits, value);
            assert_eq!(field_of(&limits), field, "{value}");
        }
        for value in [dec!(0.001), dec!(100)] {
            let mut limits = limits();
            set(&mut limits, value);
            assert_eq!(limits.validate(&catalog()), Ok(()), "{field} = {value}");
        }
    }
}

#[test]
fn orders_per_second_must_be_from_one_to_the_maximum() {
    for (value, ok) in [
        (0, false),
        (1, true),
        (MAX_ORDERS_PER_SECOND, true),
        (MAX_ORDERS_PER_SECOND + 1, false),
    ] {
        let limits = RiskLimits {
            max_orders_per_second: value,
            ..limits()
        };
        assert_eq!(limits.validate(&catalog()).is_ok(), ok, "{value}");
        if !ok {
            assert_eq!(field_of(&limits), "max_orders_per_second");
        }
    }
}

#[test]
fn an_unknown_allowed_instrument_is_refused() {
    let mut limits = limits();
    limits.allowed_instruments.push("ETH-USD".parse().unwrap());
    let error = limits.validate(&catalog()).unwrap_err();
    assert_eq!(
        (error.field, error.kind),
        ("allowed_instruments", FieldErrorKind::UnknownInstrument)
    );
}

#[test]
fn an_empty_trading_window_is_refused() {
    let hours = TradingHours {
        start: time(9, 0),
        end: time(9, 0),
    };
    let limits = RiskLimits {
        trading_hours: Some(hours),
        ..limits()
    };
    assert_eq!(field_of(&limits), "trading_hours");
}

#[test]
fn limits_from_json_refuse_numbers_and_unknown_fields() {
    let mut value = serde_json::to_value(limits()).unwrap();
    assert_eq!(value["max_order_notional"], json!("250000"));
    assert_eq!(
        serde_json::from_value::<RiskLimits>(value.clone()).unwrap(),
        limits()
    );
    value["max_order_notional"] = json!(250000);
    assert!(serde_json::from_value::<RiskLimits>(value.clone()).is_err());
    value["max_order_notional"] = json!("2.5e5");
    assert!(serde_json::from_value::<RiskLimits>(value.clone()).is_err());
    value["max_order_notional"] = json!("250000");
    value["max_leverage"] = json!("3");
    assert!(serde_json::from_value::<RiskLimits>(value).is_err());
}

#[test]
fn trading_hours_include_the_opening_and_exclude_the_closing_time() {
    let hours = TradingHours {
        start: time(8, 0),
        end: time(16, 30),
    };
    assert!(hours.contains(time(8, 0)));
    assert!(hours.contains(time(16, 29)));
    assert!(!hours.contains(time(16, 30)));
    assert!(!hours.contains(time(7, 59)));
}

#[test]
fn trading_hours_may_cross_midnight() {
    let hours = TradingHours {
        start: time(22, 0),
        end: time(6, 0),
    };
    for open in [time(22, 0), time(23, 59), time(0, 0), time(5, 59)] {
        assert!(hours.contains(open), "{open}");
    }
    for closed in [time(6, 0), time(12, 0), time(21, 59)] {
        assert!(!hours.contains(closed), "{closed}");
    }
}

#[test]
fn trading_hours_parse_from_json_times() {
    let hours: TradingHours =
        serde_json::from_value(json!({"start": "22:00:00", "end": "06:00:00"})).unwrap();
    assert_eq!(
        hours,
        TradingHours {
            start: time(22, 0),
            end: time(6, 0)
        }
    );
    assert!(
        serde_json::from_value::<TradingHours>(json!({"start": "25:00:00", "end": "06:00:00"}))
            .is_err()
    );
}
