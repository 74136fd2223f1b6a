//! Orders, limits and account states shared by the control tests.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use rampart_core::{
    AccountId, InstrumentId, NewOrder, OrderType, Price, Quantity, RiskLimits, Side, TimeInForce,
};
use rampart_trading::AccountState;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

pub fn id(symbol: &str) -> InstrumentId {
    symbol.parse().unwrap()
}

pub fn limits(instrument: &str) -> RiskLimits {
    RiskLimits {
        max_order_quantity: dec!(1000000),
        max_order_notional: dec!(1000000),
        price_collar_pct: dec!(5),
        max_position_quantity: dec!(3),
        max_daily_notional: dec!(5000000),
        max_orders_per_second: 5,
        max_risk_per_trade_pct: dec!(100),
        allowed_instruments: vec![id(instrument)],
        trading_hours: None,
    }
}

pub fn state(equity: Decimal) -> AccountState {
    AccountState {
        equity,
        position: Decimal::ZERO,
        daily_notional: Decimal::ZERO,
        orders_in_last_second: 0,
    }
}

pub fn market(instrument: &str, side: Side, quantity: Decimal) -> NewOrder {
    NewOrder {
        account_id: "ACC-1".parse::<AccountId>().unwrap(),
        instrument: id(instrument),
        side,
        order_type: OrderType::Market,
        quantity: Quantity::new(quantity).unwrap(),
        limit_price: None,
        time_in_force: TimeInForce::Ioc,
        client_order_id: None,
    }
}

pub fn limit(instrument: &str, side: Side, quantity: Decimal, price: Decimal) -> NewOrder {
    NewOrder {
        order_type: OrderType::Limit,
        limit_price: Price::new(price),
        time_in_force: TimeInForce::Gtc,
        ..market(instrument, side, quantity)
    }
}

pub fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 12, 0, 0).unwrap()
}
