//! Over real HTTPS: `client_order_id` makes placing an order idempotent. The
//! same id with the same body returns the original order and records nothing
//! new; with another body it is a conflict; concurrent duplicates make one order.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_audit::action;
use rampart_core::Role;
use rampart_testkit::desk::Desk;
use rampart_testkit::market::BTC;
use rampart_testkit::order::{self, shifted};
use rampart_testkit::{TestGateway, generous_limits};
use rust_decimal::Decimal;
use serde_json::{Value, json};

async fn desk() -> Desk {
    Desk::open().await
}

/// A resting buy on the desk's account with `client_order_id`.
fn resting(desk: &Desk, client_order_id: &str, quantity: &str) -> Value {
    let price = shifted(desk.gw.reference_price(BTC), -20, Decimal::new(1, 3));
    let mut body = order::limit(&desk.account, BTC, "buy", quantity, price);
    body["client_order_id"] = json!(client_order_id);
    body
}

#[tokio::test]
async fn same_client_order_id_and_body_returns_the_original_order() {
    let desk = desk().await;
    let body = resting(&desk, "c-0001", "0.01");
    let first = desk.api.place(&desk.token, &body).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let second = desk.api.place(&desk.token, &body).await;

    assert_eq!(
        second.status, 200,
        "a replay is not a creation: {}",
        second.text
    );
    assert_eq!(second.order_id(), first.order_id());
    let read_back = desk.api.order(&desk.token, &first.order_id()).await;
    assert_eq!(
        second.json, read_back.json,
        "the replay is the stored original"
    );
    assert_eq!(
        desk.stored_orders().await.len(),
        1,
        "no second order record"
    );
    assert_eq!(
        desk.order_events(action::ORDER_ACCEPTED, &first.order_id())
            .await,
        1
    );
}

#[tokio::test]
async fn same_client_order_id_with_another_body_is_a_conflict() {
    let desk = desk().await;
    let first = desk
        .api
        .place(&desk.token, &resting(&desk, "c-0002", "0.01"))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);

    let other = desk
        .api
        .place(&desk.token, &resting(&desk, "c-0002", "0.02"))
        .await;
    other.assert_problem(409, "order.duplicate_client_order_id");
    let stored = desk.stored_orders().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].quantity.to_string(),
        "0.01",
        "the original order is unchanged"
    );
}

#[tokio::test]
async fn same_client_order_id_on_another_account_is_another_order() {
    let gw = TestGateway::shared().await;
    let (a, b) = (
        gw.add_account(generous_limits()).await,
        gw.add_account(generous_limits()).await,
    );
    let token = gw.bearer(&[Role::Trader], &[&a, &b]).await;
    let api = gw.api();
    let mut on_a = order::market(&a, BTC, "buy", "0.01");
    on_a["client_order_id"] = json!("shared-id");
    let mut on_b = order::market(&b, BTC, "buy", "0.01");
    on_b["client_order_id"] = json!("shared-id");

    let first = api.place(&token, &on_a).await;
    let second = api.place(&token, &on_b).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(second.status, 201, "{}", second.text);
    assert_ne!(first.order_id(), second.order_id());
}

#[tokio::test]
async fn ten_concurrent_duplicates_create_exactly_one_order() {
    let desk = desk().await;
    let body = resting(&desk, "c-burst", "0.01");
    let answers =
        futures::future::join_all((0..10).map(|_| desk.api.place(&desk.token, &body))).await;

    let created = answers.iter().filter(|a| a.status == 201).count();
    let replayed = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!((created, replayed), (1, 9), "one creation, nine replays");
    let ids: std::collections::BTreeSet<String> = answers.iter().map(|a| a.order_id()).collect();
    assert_eq!(ids.len(), 1, "every answer names the same order");
    assert_eq!(desk.stored_orders().await.len(), 1);
    let id = ids.into_iter().next().unwrap();
    assert_eq!(desk.order_events(action::ORDER_ACCEPTED, &id).await, 1);
}

#[tokio::test]
async fn replaying_a_filled_market_order_returns_it_filled_without_a_second_fill() {
    let desk = desk().await;
    let mut body = order::market(&desk.account, BTC, "buy", "0.01");
    body["client_order_id"] = json!("c-market");
    let first = desk.api.place(&desk.token, &body).await;
    assert_eq!(first.status_field(), "filled", "{}", first.text);
    let again = desk.api.place(&desk.token, &body).await;

    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.status_field(), "filled");
    assert_eq!(
        desk.order_events(action::ORDER_FILLED, &first.order_id())
            .await,
        1
    );
    let positions = desk
        .gw
        .in_store({
            let account = desk.account.clone();
            move |store| async move { store.positions(&account).await }
        })
        .await
        .unwrap();
    assert_eq!(positions[0].quantity, Decimal::new(1, 2), "bought once");
}

#[tokio::test]
async fn retry_of_a_rejected_order_answers_the_same_rejection() {
    // A client that retries after losing the 422 must still learn the order was rejected.
    let desk = desk().await;
    let mut body = resting(&desk, "c-rejected", "0.01");
    body["instrument"] = json!(BTC);
    body["quantity"] = json!("2000000000");
    let first = desk.api.place(&desk.token, &body).await;
    first.assert_problem(422, "risk.max_order_quantity");
    let again = desk.api.place(&desk.token, &body).await;

    again.assert_problem(422, "risk.max_order_quantity");
    assert_eq!(again.json["order_id"], first.json["order_id"]);
    assert_eq!(
        desk.stored_orders().await.len(),
        1,
        "no second rejection record"
    );
}

#[tokio::test]
async fn same_order_spelled_differently_is_the_same_order() {
    // `0.010` is `0.01`, and an omitted `time_in_force` is the `gtc` default of a limit order.
    let desk = desk().await;
    let body = resting(&desk, "c-spelling", "0.01");
    let first = desk.api.place(&desk.token, &body).await;
    assert_eq!(first.status, 201, "{}", first.text);

    let mut respelled = resting(&desk, "c-spelling", "0.010");
    let price = respelled["limit_price"].as_str().unwrap().to_owned();
    let zeros = if price.contains('.') { "00" } else { ".00" };
    respelled["limit_price"] = json!(format!("{price}{zeros}"));
    respelled["time_in_force"] = json!("gtc");
    let again = desk.api.place(&desk.token, &respelled).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.order_id(), first.order_id());
}
