//! Over real HTTPS: each pre-trade control on both sides of its limit. An order
//! exactly at the limit is accepted; one just beyond it is rejected with 422 and
//! the control's stable code, and the rejection is an order record of its own.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::{TimeDelta, Utc};
use rampart_audit::action;
use rampart_core::{AccountId, RiskLimits, Role, TradingHours};
use rampart_server::config::InstrumentConfig;
use rampart_testkit::desk::Desk;
use rampart_testkit::market::{BTC, JPY};
use rampart_testkit::order::{self, shifted};
use rampart_testkit::{Answer, TestGateway, generous_limits};
use rust_decimal::Decimal;
use serde_json::Value;

async fn desk_with(cash: Decimal, adjust: impl FnOnce(&mut RiskLimits)) -> Desk {
    let mut limits = generous_limits();
    adjust(&mut limits);
    Desk::with_cash(limits, cash).await
}

async fn desk(adjust: impl FnOnce(&mut RiskLimits)) -> Desk {
    desk_with(Decimal::new(1_000_000_000, 0), adjust).await
}

fn tick() -> Decimal {
    Decimal::new(1, 3)
}

fn reference() -> Decimal {
    rampart_testkit::market::bundled_reference_price(BTC)
}

/// A price 20% under the market, where a buy rests.
fn resting_price() -> Decimal {
    shifted(reference(), -20, tick())
}

/// Order bodies and outcome checks on the desk's account.
trait Controls {
    fn limit(&self, side: &str, quantity: &str, price: Decimal) -> Value;
    fn market(&self, side: &str, quantity: &str) -> Value;
    async fn accepted(&self, body: &Value) -> Answer;
    async fn rejected(&self, body: &Value, code: &str);
}

impl Controls for Desk {
    fn limit(&self, side: &str, quantity: &str, price: Decimal) -> Value {
        order::limit(&self.account, BTC, side, quantity, price)
    }

    fn market(&self, side: &str, quantity: &str) -> Value {
        order::market(&self.account, BTC, side, quantity)
    }

    async fn accepted(&self, body: &Value) -> Answer {
        let answer = self.api.place(&self.token, body).await;
        assert_eq!(answer.status, 201, "accepted: {}", answer.text);
        answer
    }

    /// Expects a 422 with `code`, and a stored rejection readable over the API.
    async fn rejected(&self, body: &Value, code: &str) {
        let answer = self.api.place(&self.token, body).await;
        answer.assert_problem(422, code);
        let id = answer.json["order_id"]
            .as_str()
            .expect("the rejection's order id")
            .to_owned();

        let record = self.api.order(&self.token, &id).await;
        let record = record.assert_json(200);
        assert_eq!(record["status"], "rejected");
        assert_eq!(record["reject_code"], code);
        assert_eq!(record["account_id"], self.account.as_str());

        let events = self.gw.audit_events().await;
        let target = format!("order:{id}");
        let rejected = events
            .iter()
            .filter(|e| e.target == target && e.action == action::ORDER_REJECTED);
        assert_eq!(rejected.count(), 1, "one `order.rejected` event for {id}");
    }
}

#[tokio::test]
async fn max_order_quantity_accepts_the_limit_and_rejects_one_lot_more() {
    let desk = desk(|l| l.max_order_quantity = Decimal::ONE).await;
    desk.accepted(&desk.limit("buy", "1", resting_price()))
        .await;
    desk.rejected(
        &desk.limit("buy", "1.001", resting_price()),
        "risk.max_order_quantity",
    )
    .await;
}

#[tokio::test]
async fn max_order_notional_accepts_the_limit_and_rejects_one_tick_more() {
    let price = resting_price();
    let desk = desk(|l| l.max_order_notional = price).await;
    desk.accepted(&desk.limit("buy", "1", price)).await;
    desk.rejected(
        &desk.limit("buy", "1", price + tick()),
        "risk.max_order_notional",
    )
    .await;
}

#[tokio::test]
async fn max_order_notional_of_a_market_order_uses_the_reference_price() {
    let desk = desk(|l| l.max_order_notional = reference()).await;
    desk.accepted(&desk.market("buy", "1")).await;
    desk.rejected(&desk.market("buy", "1.001"), "risk.max_order_notional")
        .await;
}

#[tokio::test]
async fn price_collar_accepts_the_edge_of_the_band_and_rejects_one_tick_beyond() {
    let desk = desk(|l| l.price_collar_pct = Decimal::TEN).await;
    let band = reference() * Decimal::TEN / Decimal::ONE_HUNDRED;
    let low = reference() - band;
    let high = reference() + band;
    assert_eq!(
        low % tick(),
        Decimal::ZERO,
        "the band's edge is on the tick"
    );

    desk.accepted(&desk.limit("buy", "0.01", low)).await;
    desk.rejected(
        &desk.limit("buy", "0.01", low - tick()),
        "risk.price_collar",
    )
    .await;
    desk.accepted(&desk.limit("sell", "0.01", high)).await;
    desk.rejected(
        &desk.limit("sell", "0.01", high + tick()),
        "risk.price_collar",
    )
    .await;
}

#[tokio::test]
async fn max_position_accepts_a_fill_up_to_the_limit_and_rejects_one_lot_more() {
    let desk = desk(|l| l.max_position_quantity = Decimal::TWO).await;
    let filled = desk.accepted(&desk.market("buy", "2")).await;
    assert_eq!(filled.status_field(), "filled");
    desk.rejected(&desk.market("buy", "0.001"), "risk.max_position_quantity")
        .await;
    let reducing = desk.accepted(&desk.market("sell", "0.5")).await;
    assert_eq!(
        reducing.status_field(),
        "filled",
        "reducing the position is allowed"
    );
}

#[tokio::test]
async fn max_position_applies_to_short_positions_too() {
    let desk = desk(|l| l.max_position_quantity = Decimal::ONE).await;
    desk.accepted(&desk.market("sell", "1")).await;
    desk.rejected(&desk.market("sell", "0.001"), "risk.max_position_quantity")
        .await;
}

#[tokio::test]
async fn max_daily_notional_accepts_up_to_the_limit_and_rejects_beyond() {
    let price = resting_price();
    let desk = desk(|l| l.max_daily_notional = price * Decimal::TWO).await;
    desk.accepted(&desk.limit("buy", "1", price)).await;
    desk.accepted(&desk.limit("buy", "1", price)).await;
    desk.rejected(
        &desk.limit("buy", "0.001", price),
        "risk.max_daily_notional",
    )
    .await;
}

#[tokio::test]
async fn rejected_orders_do_not_count_towards_the_daily_notional() {
    let price = resting_price();
    let desk = desk(|l| {
        l.max_daily_notional = price;
        l.max_order_quantity = Decimal::ONE;
    })
    .await;
    desk.rejected(&desk.limit("buy", "2", price), "risk.max_order_quantity")
        .await;
    desk.accepted(&desk.limit("buy", "1", price)).await;
}

#[tokio::test]
async fn max_orders_per_second_accepts_the_limit_and_rejects_the_next() {
    // Sent together, so that all six arrive within one second even on a busy machine.
    let desk = desk(|l| l.max_orders_per_second = 3).await;
    let body = desk.limit("buy", "0.01", resting_price());
    let answers =
        futures::future::join_all((0..6).map(|_| desk.api.place(&desk.token, &body))).await;

    let accepted = answers.iter().filter(|a| a.status == 201).count();
    let limited: Vec<&Answer> = answers.iter().filter(|a| a.status == 422).collect();
    assert_eq!(
        (accepted, limited.len()),
        (3, 3),
        "three accepted, three rejected"
    );
    for answer in limited {
        answer.assert_problem(422, "risk.max_orders_per_second");
        let record = desk.api.order(&desk.token, &answer.order_id()).await;
        assert_eq!(
            record.assert_json(200)["reject_code"],
            "risk.max_orders_per_second"
        );
    }
}

#[tokio::test]
async fn max_risk_per_trade_accepts_the_share_of_equity_and_rejects_beyond() {
    let price = resting_price();
    let desk = desk_with(price * Decimal::TEN, |l| {
        l.max_risk_per_trade_pct = Decimal::TEN
    })
    .await;
    desk.accepted(&desk.limit("buy", "1", price)).await;
    desk.rejected(
        &desk.limit("buy", "1.001", price),
        "risk.max_risk_per_trade",
    )
    .await;
}

#[tokio::test]
async fn instrument_outside_the_allowed_list_is_rejected() {
    let desk = desk(|l| l.allowed_instruments = vec![BTC.parse().unwrap()]).await;
    desk.accepted(&desk.market("buy", "0.01")).await;
    let jpy = order::market(&desk.account, JPY, "buy", "100");
    desk.rejected(&jpy, "risk.instrument_not_allowed").await;
}

#[tokio::test]
async fn order_inside_the_trading_hours_is_accepted() {
    let now = Utc::now().time();
    let hours = TradingHours {
        start: now - TimeDelta::hours(1),
        end: now + TimeDelta::hours(1),
    };
    let desk = desk(|l| l.trading_hours = Some(hours)).await;
    desk.accepted(&desk.market("buy", "0.01")).await;
}

#[tokio::test]
async fn order_outside_the_trading_hours_is_rejected() {
    let now = Utc::now().time();
    let hours = TradingHours {
        start: now + TimeDelta::hours(1),
        end: now + TimeDelta::hours(2),
    };
    let desk = desk(|l| l.trading_hours = Some(hours)).await;
    desk.rejected(&desk.market("buy", "0.01"), "risk.trading_hours")
        .await;
}

#[tokio::test]
async fn order_on_an_instrument_without_market_data_is_rejected_for_lack_of_a_reference_price() {
    let gw = TestGateway::start_with(|config| {
        let mut instruments: Vec<InstrumentConfig> = rampart_trading::default_instruments()
            .into_iter()
            .map(|i| InstrumentConfig {
                id: i.id,
                tick_size: i.tick_size,
                lot_size: i.lot_size,
                currency: i.currency,
            })
            .collect();
        instruments.push(InstrumentConfig {
            id: "ETH-USD".parse().unwrap(),
            tick_size: Decimal::new(1, 2),
            lot_size: Decimal::new(1, 3),
            currency: "USD".to_owned(),
        });
        config.instruments = Some(instruments);
    })
    .await;
    let mut limits = generous_limits();
    limits.allowed_instruments.push("ETH-USD".parse().unwrap());
    let account = gw.add_account(limits).await;
    let token = gw.bearer(&[Role::Trader], &[&account]).await;

    let answer = gw
        .api()
        .place(&token, &order::market(&account, "ETH-USD", "buy", "1"))
        .await;
    answer.assert_problem(422, "risk.no_reference_price");
    let id = answer.json["order_id"].as_str().unwrap().parse().unwrap();
    let stored = gw.stored_order(id).await.unwrap();
    assert_eq!(
        stored.reject_code.as_deref(),
        Some("risk.no_reference_price")
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn risk_limits_are_served_as_stored() {
    let desk = desk(|l| l.max_order_quantity = Decimal::new(12345, 3)).await;
    let path = format!("/v1/accounts/{}/risk-limits", desk.account);
    let answer = desk.api.get(&path, Some(&desk.token)).await;
    let body = answer.assert_json(200);
    let text = body.to_string();
    assert!(
        text.contains("\"12.345\""),
        "limits as decimal strings: {text}"
    );
    assert!(text.contains("max_orders_per_second"), "{text}");
}

/// The position the store holds for `account` in BTC.
async fn btc_position(gw: &TestGateway, account: &AccountId) -> Decimal {
    let account = account.clone();
    let positions = gw
        .in_store(move |store| async move { store.positions(&account).await })
        .await
        .unwrap();
    positions
        .iter()
        .filter(|p| p.instrument.as_str() == BTC)
        .map(|p| p.quantity)
        .sum()
}

#[tokio::test]
async fn concurrent_market_orders_cannot_push_the_position_past_its_limit() {
    // Each order is checked against the position before the others' fills are recorded
    // unless the check also counts accepted orders that have not filled yet.
    let desk = desk(|l| l.max_position_quantity = Decimal::ONE).await;
    let body = desk.market("buy", "0.5");
    let answers =
        futures::future::join_all((0..8).map(|_| desk.api.place(&desk.token, &body))).await;

    let accepted = answers.iter().filter(|a| a.status == 201).count();
    let position = btc_position(desk.gw, &desk.account).await;
    assert!(
        position <= Decimal::ONE,
        "position {position} after {accepted} accepted orders"
    );
    assert_eq!(
        accepted, 2,
        "exactly two half-coin buys fit under a one-coin limit"
    );
}

#[tokio::test]
async fn concurrent_market_orders_cannot_exceed_the_daily_notional() {
    let notional = reference() * Decimal::new(5, 1);
    let desk = desk(|l| l.max_daily_notional = notional * Decimal::TWO).await;
    let body = desk.market("buy", "0.5");
    let answers =
        futures::future::join_all((0..8).map(|_| desk.api.place(&desk.token, &body))).await;

    let accepted = answers.iter().filter(|a| a.status == 201).count();
    assert_eq!(accepted, 2, "two orders of half the daily limit fill it");
}

#[tokio::test]
async fn working_buy_orders_count_towards_the_position_limit() {
    // Three resting half-coin buys under a one-coin limit would hold 1.5 coins once
    // they fill; the third must be refused when it is placed, not discovered later.
    let desk = desk(|l| l.max_position_quantity = Decimal::ONE).await;
    desk.accepted(&desk.limit("buy", "0.5", resting_price()))
        .await;
    desk.accepted(&desk.limit("buy", "0.5", resting_price()))
        .await;
    desk.rejected(
        &desk.limit("buy", "0.5", resting_price()),
        "risk.max_position_quantity",
    )
    .await;
}
