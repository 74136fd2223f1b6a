//! Over real HTTPS: a resting limit order fills, at its limit price, when the
//! replayed market reaches it, and the fill is recorded with its audit event.
//!
//! The gateway replays BTC-USD from ten seconds before the close of a bar whose
//! price is lower than the one before it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use rampart_audit::action;
use rampart_core::Role;
use rampart_testkit::market::{BTC, bundled_price_at};
use rampart_testkit::{TestGateway, generous_limits, order};
use rust_decimal::Decimal;
use std::str::FromStr;

#[tokio::test]
async fn resting_buy_fills_at_its_limit_when_the_replayed_price_falls_to_it() {
    let drop_at = Utc
        .with_ymd_and_hms(2022, 1, 15, 22, 36, 0)
        .single()
        .unwrap();
    let start = drop_at - TimeDelta::seconds(10);
    let (before, after) = (bundled_price_at(BTC, start), bundled_price_at(BTC, drop_at));
    assert!(after < before, "the data falls at {drop_at}");
    let tick = Decimal::new(1, 3);
    let limit = ((before + after) / Decimal::TWO / tick).floor() * tick;

    let gw = TestGateway::start_with(|config| config.market.start = Some(start)).await;
    let account = gw.add_account(generous_limits()).await;
    let token = gw.bearer(&[Role::Trader], &[&account]).await;
    let api = gw.api();
    let buy = api
        .place(&token, &order::limit(&account, BTC, "buy", "0.3", limit))
        .await;
    assert_eq!(
        buy.status_field(),
        "open",
        "placed before the price fell: {}",
        buy.text
    );
    let sell_price = before + Decimal::ONE;
    let sell = api
        .place(
            &token,
            &order::limit(&account, BTC, "sell", "0.1", sell_price),
        )
        .await;
    assert_eq!(sell.status_field(), "open", "{}", sell.text);

    let mut filled = None;
    for _ in 0..100 {
        let read = api.order(&token, &buy.order_id()).await;
        if read.json["status"] == "filled" {
            filled = Some(read.json.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let filled = filled.expect("the resting buy filled once the price fell");
    let price = Decimal::from_str(filled["average_fill_price"].as_str().unwrap()).unwrap();
    assert_eq!(price, limit, "a resting order fills at its limit price");
    assert_eq!(
        api.order(&token, &sell.order_id()).await.json["status"],
        "open"
    );

    let events = gw.audit_events().await;
    let target = format!("order:{}", buy.order_id());
    let fills: Vec<_> = events
        .iter()
        .filter(|e| e.action == action::ORDER_FILLED && e.target == target)
        .collect();
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].actor, "system");
    let account_id = account.clone();
    let positions = gw
        .in_store(move |store| async move { store.positions(&account_id).await })
        .await
        .unwrap();
    assert_eq!(positions[0].quantity, Decimal::new(3, 1));
    gw.shutdown().await;
}
