//! Over real HTTPS: limits, equity, daily notional and cash are kept in the
//! account's currency, and an order's notional is converted into it.
//!
//! `USD-JPY` is priced in yen and `BTC-USD` in dollars; the replayed reference
//! price of `USD-JPY` converts between the two. An account in a currency that
//! no instrument converts into is refused with `risk.no_conversion_rate`, and
//! a market order counts in the day's notional from the moment it is accepted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::str::FromStr;

use chrono::Utc;
use rampart_audit::{NewEvent, Outcome, action};
use rampart_core::{AccountId, InstrumentId, OrderStatus, RiskLimits, Role};
use rampart_store::AccountRecord;
use rampart_testkit::identity::unique_account_id;
use rampart_testkit::market::{BTC, JPY};
use rampart_testkit::{Answer, TestGateway, generous_limits, order};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const CASH: i64 = 1_000_000_000;

/// A trader on a fresh account of the shared gateway, in a chosen currency.
struct Trader {
    gw: &'static TestGateway,
    account: AccountId,
    token: String,
}

impl Trader {
    /// An account in `currency` with a billion of cash and `limits` as `adjust` leaves them.
    async fn open(currency: &str, adjust: impl FnOnce(&mut RiskLimits)) -> Trader {
        let gw = TestGateway::shared().await;
        let mut limits = generous_limits();
        adjust(&mut limits);
        let account = add_account(gw, currency, limits).await;
        let token = gw.bearer(&[Role::Trader], &[&account]).await;
        Trader { gw, account, token }
    }

    async fn place(&self, body: &Value) -> Answer {
        self.gw.api().place(&self.token, body).await
    }

    async fn market(&self, instrument: &str, quantity: &str) -> Answer {
        let body = order::market(&self.account, instrument, "buy", quantity);
        self.place(&body).await
    }

    async fn accepted(&self, instrument: &str, quantity: &str) -> Answer {
        let answer = self.market(instrument, quantity).await;
        assert_eq!(answer.status, 201, "accepted: {}", answer.text);
        answer
    }

    async fn rejected(&self, instrument: &str, quantity: &str, code: &str) -> Answer {
        let answer = self.market(instrument, quantity).await;
        answer.assert_problem(422, code);
        answer
    }

    /// The account's cash, as the order path reads it.
    async fn cash(&self) -> Decimal {
        let account = self.account.clone();
        let instrument: InstrumentId = BTC.parse().unwrap();
        self.gw
            .in_store(move |store| async move {
                let mut tx = store.begin().await?;
                let snapshot = tx.account_state(&account, &instrument, Utc::now()).await?;
                tx.rollback().await?;
                Ok(snapshot.cash)
            })
            .await
            .unwrap()
    }
}

/// Creates an account in `currency`, record and audit event together, as `rampart account add`.
async fn add_account(gw: &TestGateway, currency: &str, limits: RiskLimits) -> AccountId {
    let record = AccountRecord {
        id: unique_account_id(),
        currency: currency.to_owned(),
        initial_cash: Decimal::new(CASH, 0),
        limits,
        created_at: Utc::now(),
        desk: None,
    };
    let event = NewEvent::new(
        "operator",
        action::ACCOUNT_CREATED,
        record.id.as_str(),
        Outcome::Success,
        uuid::Uuid::now_v7().to_string(),
    )
    .details(json!({ "currency": record.currency }));
    let id = record.id.clone();
    gw.in_store(move |store| async move {
        let mut tx = store.begin().await?;
        tx.insert_account(&record).await?;
        tx.append(event).await?;
        tx.commit().await
    })
    .await
    .unwrap();
    id
}

fn decimal(answer: &Answer, member: &str) -> Decimal {
    Decimal::from_str(answer.member(member).unwrap()).unwrap()
}

fn usd_jpy() -> Decimal {
    rampart_testkit::market::bundled_reference_price(JPY)
}

fn btc_usd() -> Decimal {
    rampart_testkit::market::bundled_reference_price(BTC)
}

#[tokio::test]
async fn usd_account_checks_a_yen_order_against_its_limit_in_dollars() {
    let limit = Decimal::new(1500, 0);
    let trader = Trader::open("USD", |l| l.max_order_notional = limit).await;
    assert!(
        Decimal::new(1000, 0) * usd_jpy() > limit,
        "the yen figure is over"
    );

    trader.accepted(JPY, "1000").await;
    let refused = trader
        .rejected(JPY, "1501", "risk.max_order_notional")
        .await;

    let stored = trader
        .gw
        .stored_order(refused.order_id().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        stored.reject_code.as_deref(),
        Some("risk.max_order_notional")
    );
}

#[tokio::test]
async fn yen_account_checks_a_dollar_order_against_its_limit_in_yen() {
    let quantity = Decimal::new(1, 2);
    let limit = quantity * btc_usd() * usd_jpy();
    let trader = Trader::open("JPY", |l| l.max_order_notional = limit).await;
    let over = Decimal::new(11, 3);
    assert!(over * btc_usd() < limit, "the dollar figure is under");

    trader.accepted(BTC, "0.01").await;
    trader
        .rejected(BTC, "0.011", "risk.max_order_notional")
        .await;
}

#[tokio::test]
async fn account_in_a_currency_without_a_rate_is_refused_for_lack_of_one() {
    let trader = Trader::open("EUR", |_| {}).await;

    let refused = trader
        .rejected(BTC, "0.01", "risk.no_conversion_rate")
        .await;
    trader.rejected(JPY, "1", "risk.no_conversion_rate").await;

    let stored = trader
        .gw
        .stored_order(refused.order_id().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(stored.status, OrderStatus::Rejected);
    assert_eq!(trader.cash().await, Decimal::new(CASH, 0));
}

#[tokio::test]
async fn second_market_order_is_refused_once_the_first_fills_the_daily_notional() {
    let one = Decimal::new(1, 2) * btc_usd();
    let limit = one + one / Decimal::TWO;
    let trader = Trader::open("USD", |l| l.max_daily_notional = limit).await;

    let first = trader.accepted(BTC, "0.01").await;
    trader
        .rejected(BTC, "0.01", "risk.max_daily_notional")
        .await;

    let target = format!("order:{}", first.order_id());
    let events = trader.gw.audit_events().await;
    let accepted = events
        .iter()
        .find(|e| e.action == action::ORDER_ACCEPTED && e.target == target)
        .unwrap();
    let check_price = accepted.details["check_price"].as_str().unwrap();
    assert_eq!(Decimal::from_str(check_price).unwrap(), btc_usd());
}

#[tokio::test]
async fn concurrent_market_orders_never_exceed_the_daily_notional_together() {
    let one = Decimal::new(1, 2) * btc_usd();
    let limit = one * Decimal::TWO + one / Decimal::TWO;
    let trader = Trader::open("USD", |l| l.max_daily_notional = limit).await;
    let body = order::market(&trader.account, BTC, "buy", "0.01");

    let api = trader.gw.api();
    let answers = futures::future::join_all((0..6).map(|_| api.place(&trader.token, &body)));
    let answers = answers.await;

    let accepted = answers.iter().filter(|a| a.status == 201).count();
    assert_eq!(accepted, 2, "two fit under the limit");
    for refused in answers.iter().filter(|a| a.status != 201) {
        refused.assert_problem(422, "risk.max_daily_notional");
    }
}

#[tokio::test]
async fn daily_notional_of_yen_orders_is_counted_in_dollars() {
    let limit = Decimal::new(1500, 0);
    let trader = Trader::open("USD", |l| l.max_daily_notional = limit).await;

    trader.accepted(JPY, "1000").await;
    trader.accepted(JPY, "500").await;
    trader.rejected(JPY, "1", "risk.max_daily_notional").await;
}

#[tokio::test]
async fn yen_fill_moves_a_dollar_account_by_its_dollar_notional() {
    let trader = Trader::open("USD", |_| {}).await;
    let quantity = Decimal::new(1000, 0);

    let filled = trader.accepted(JPY, "1000").await;
    assert_eq!(filled.status_field(), "filled", "{}", filled.text);
    let price = decimal(&filled, "average_fill_price");

    let dollars = quantity * price / usd_jpy();
    assert_eq!(trader.cash().await, Decimal::new(CASH, 0) - dollars);
    assert_ne!(
        dollars,
        quantity * price,
        "the yen notional is not what moves"
    );
}

#[tokio::test]
async fn dollar_fill_moves_a_yen_account_by_its_yen_notional() {
    let trader = Trader::open("JPY", |_| {}).await;

    let filled = trader.accepted(BTC, "0.01").await;
    assert_eq!(filled.status_field(), "filled", "{}", filled.text);
    let price = decimal(&filled, "average_fill_price");

    let yen = Decimal::new(1, 2) * price * usd_jpy();
    assert_eq!(trader.cash().await, Decimal::new(CASH, 0) - yen);
}
