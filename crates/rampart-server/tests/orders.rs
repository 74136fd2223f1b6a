//! Over real HTTPS: placing, reading, listing and cancelling orders against the
//! replayed market, the fills they make and what concurrency cannot break.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::collections::BTreeSet;
use std::str::FromStr;

use rampart_core::{AccountId, Role};
use rampart_testkit::desk::Desk;
use rampart_testkit::market::{BTC, JPY};
use rampart_testkit::order::{self, shifted};
use rampart_testkit::{Answer, TestGateway};
use rust_decimal::Decimal;
use serde_json::Value;

async fn desk() -> Desk {
    Desk::open().await
}

fn tick() -> Decimal {
    Decimal::new(1, 3)
}

fn decimal(value: &Value) -> Decimal {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a decimal string, not {value}"));
    Decimal::from_str(text).unwrap()
}

/// Places a BTC-USD market order of `quantity` on the desk's account.
async fn market(desk: &Desk, side: &str, quantity: &str) -> Answer {
    desk.place(&order::market(&desk.account, BTC, side, quantity))
        .await
}

/// Places the BTC-USD limit order `side` at `price` and requires it filled at the
/// replayed reference price.
async fn assert_fills_at_the_reference(desk: &Desk, side: &str, price: Decimal) {
    let answer = desk
        .place(&order::limit(&desk.account, BTC, side, "0.01", price))
        .await;
    assert_eq!(
        answer.assert_json(201)["status"],
        "filled",
        "{}",
        answer.text
    );
    assert_eq!(
        decimal(&answer.json["average_fill_price"]),
        desk.gw.reference_price(BTC)
    );
}

/// How many `order.cancelled` events the audit log holds for order `id`.
async fn cancellations(desk: &Desk, id: &str) -> usize {
    let events = desk.gw.audit_events().await;
    let target = format!("order:{id}");
    events
        .iter()
        .filter(|e| e.action == "order.cancelled" && e.target == target)
        .count()
}

#[tokio::test]
async fn market_order_fills_at_the_replayed_price() {
    let desk = desk().await;
    let answer = market(&desk, "buy", "0.25").await;
    let body = answer.assert_json(201);

    assert_eq!(body["status"], "filled", "{}", answer.text);
    assert_eq!(
        decimal(&body["average_fill_price"]),
        desk.gw.reference_price(BTC)
    );
    assert_eq!(decimal(&body["filled_quantity"]), Decimal::new(25, 2));
    let stored = desk
        .gw
        .stored_order(answer.order_id().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(stored.status.as_str(), "filled");
    assert_eq!(
        stored.average_fill_price,
        Some(desk.gw.reference_price(BTC))
    );
}

#[tokio::test]
async fn market_order_on_usd_jpy_fills_at_the_replayed_quote_mid() {
    let desk = desk().await;
    let answer = desk
        .place(&order::market(&desk.account, JPY, "sell", "1000"))
        .await;
    let body = answer.assert_json(201);
    assert_eq!(body["status"], "filled", "{}", answer.text);
    assert_eq!(
        decimal(&body["average_fill_price"]),
        desk.gw.reference_price(JPY)
    );
}

#[tokio::test]
async fn limit_order_away_from_the_market_rests_and_is_visible() {
    let desk = desk().await;
    let body = desk.resting_buy();
    let placed = desk.place(&body).await;
    placed.assert_json(201);
    assert_eq!(placed.status_field(), "open");

    let read = desk.api.order(&desk.token, &placed.order_id()).await;
    let order = read.assert_json(200);
    assert_eq!(order["status"], "open");
    assert_eq!(order["account_id"], desk.account.as_str());
    assert_eq!(
        decimal(&order["limit_price"]),
        decimal(&body["limit_price"])
    );
    assert_eq!(decimal(&order["filled_quantity"]), Decimal::ZERO);
    assert_eq!(order["time_in_force"], "gtc");
}

#[tokio::test]
async fn marketable_limit_order_fills_at_the_reference_price() {
    let desk = desk().await;
    let above = shifted(desk.gw.reference_price(BTC), 1, tick());
    assert_fills_at_the_reference(&desk, "buy", above).await;
}

#[tokio::test]
async fn resting_order_can_be_cancelled_once() {
    let desk = desk().await;
    let id = desk.place(&desk.resting_buy()).await.order_id();

    let cancelled = desk.api.cancel(&desk.token, &id).await;
    assert_eq!(cancelled.assert_json(200)["status"], "cancelled");
    assert_eq!(
        desk.api.order(&desk.token, &id).await.json["status"],
        "cancelled"
    );
    desk.api
        .cancel(&desk.token, &id)
        .await
        .assert_problem(409, "order.not_cancellable");
}

#[tokio::test]
async fn cancelling_a_filled_order_is_a_conflict() {
    let desk = desk().await;
    let filled = market(&desk, "buy", "0.01").await;
    assert_eq!(filled.status_field(), "filled");
    let answer = desk.api.cancel(&desk.token, &filled.order_id()).await;
    answer.assert_problem(409, "order.not_cancellable");
    let stored = desk
        .gw
        .stored_order(filled.order_id().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(stored.status.as_str(), "filled");
}

#[tokio::test]
async fn cancelling_an_unknown_order_is_not_found() {
    let desk = desk().await;
    let id = uuid::Uuid::now_v7().to_string();
    desk.api
        .cancel(&desk.token, &id)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn reading_an_order_by_a_malformed_id_is_a_bad_request() {
    let desk = desk().await;
    let answer = desk.api.order(&desk.token, "not-a-uuid").await;
    answer.assert_problem(400, "request.invalid");
}

#[tokio::test]
async fn order_list_filters_by_status_and_pages_with_a_cursor() {
    let desk = desk().await;
    let mut placed = Vec::new();
    for _ in 0..3 {
        placed.push(desk.place(&desk.resting_buy()).await.order_id());
    }
    for _ in 0..2 {
        placed.push(market(&desk, "buy", "0.01").await.order_id());
    }
    let account = desk.account.as_str();

    let open = desk
        .api
        .get(
            &format!("/v1/orders?account_id={account}&status=open"),
            Some(&desk.token),
        )
        .await;
    let open: Vec<Value> = open.assert_json(200)["orders"].as_array().unwrap().clone();
    assert_eq!(open.len(), 3);
    assert!(open.iter().all(|o| o["status"] == "open"));

    let mut seen = Vec::new();
    let mut path = format!("/v1/orders?account_id={account}&limit=2");
    for _ in 0..10 {
        let page = desk.api.get(&path, Some(&desk.token)).await;
        let body = page.assert_json(200).clone();
        let orders = body["orders"].as_array().unwrap();
        assert!(orders.len() <= 2, "a page holds at most `limit` orders");
        seen.extend(orders.iter().map(|o| o["id"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/orders?account_id={account}&limit=2&after={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(seen, placed, "every order once, oldest first");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 5);
}

#[tokio::test]
async fn order_list_refuses_an_unknown_query_parameter_and_a_bad_limit() {
    let desk = desk().await;
    let unknown = desk
        .api
        .get("/v1/orders?acount_id=x", Some(&desk.token))
        .await;
    unknown.assert_problem(400, "request.invalid");
    for limit in ["0", "501", "-1", "1e2", "ten"] {
        let answer = desk
            .api
            .get(&format!("/v1/orders?limit={limit}"), Some(&desk.token))
            .await;
        answer.assert_problem(400, "request.invalid");
        assert_eq!(answer.json["field"], "limit", "{}", answer.text);
    }
    let status = desk
        .api
        .get("/v1/orders?status=working", Some(&desk.token))
        .await;
    status.assert_problem(400, "request.invalid");
}

#[tokio::test]
async fn order_on_an_unknown_account_is_not_found() {
    let gw = TestGateway::shared().await;
    let ghost: AccountId = "ACC-GHOST-1".parse().unwrap();
    let token = gw.bearer(&[Role::Trader], &[]).await;
    let body = order::market(&ghost, BTC, "buy", "0.01");
    let answer = gw.api().place(&token, &body).await;
    answer.assert_problem(404, "not_found");
}

#[tokio::test]
async fn order_answer_matches_the_record_read_back_to_the_microsecond() {
    // Times are shown with microsecond precision; the answer to a new order must
    // say exactly what the stored record says.
    let desk = desk().await;
    let placed = desk.place(&desk.resting_buy()).await;
    placed.assert_json(201);
    let read_back = desk.api.order(&desk.token, &placed.order_id()).await;
    let created = placed.json["created_at"].as_str().unwrap();
    assert_eq!(
        created.len(),
        "2026-01-01T00:00:00.000000Z".len(),
        "{created}"
    );
    assert_eq!(placed.json, read_back.json);
}

#[tokio::test]
async fn concurrent_cancels_of_one_order_succeed_once() {
    let desk = desk().await;
    let id = desk.place(&desk.resting_buy()).await.order_id();
    let answers =
        futures::future::join_all((0..8).map(|_| desk.api.cancel(&desk.token, &id))).await;

    let done = answers.iter().filter(|a| a.status == 200).count();
    let refused = answers.iter().filter(|a| a.status == 409).count();
    assert_eq!((done, refused), (1, 7));
    assert_eq!(cancellations(&desk, &id).await, 1);
}

#[tokio::test]
async fn market_fills_move_the_position_and_the_cash_of_the_account() {
    let desk = desk().await;
    let price = desk.gw.reference_price(BTC);
    market(&desk, "buy", "1.5").await.assert_json(201);
    market(&desk, "sell", "0.5").await.assert_json(201);

    let account = desk.account.clone();
    let snapshot = desk
        .gw
        .in_store(move |store| async move {
            let mut tx = store.begin().await?;
            let instrument = BTC.parse().unwrap();
            let snapshot = tx
                .account_state(&account, &instrument, chrono::Utc::now())
                .await;
            tx.rollback().await?;
            snapshot
        })
        .await
        .unwrap();
    assert_eq!(snapshot.position_in_instrument, Decimal::ONE);
    assert_eq!(snapshot.cash, Decimal::new(1_000_000_000, 0) - price);
}

#[tokio::test]
async fn immediate_or_cancel_limit_order_that_cannot_fill_is_cancelled_at_once() {
    let desk = desk().await;
    let mut body = desk.resting_buy();
    body["time_in_force"] = serde_json::json!("ioc");
    let answer = desk.place(&body).await;
    assert_eq!(
        answer.assert_json(201)["status"],
        "cancelled",
        "{}",
        answer.text
    );
    assert_eq!(cancellations(&desk, &answer.order_id()).await, 1);
}

#[tokio::test]
async fn marketable_sell_limit_fills_at_the_better_reference_price() {
    let desk = desk().await;
    let below = shifted(desk.gw.reference_price(BTC), -1, tick());
    assert_fills_at_the_reference(&desk, "sell", below).await;
}

#[tokio::test]
async fn cancelling_a_rejected_order_is_a_conflict() {
    let mut limits = rampart_testkit::generous_limits();
    limits.max_order_quantity = Decimal::ONE;
    let desk = Desk::with_limits(limits).await;
    let rejected = market(&desk, "buy", "2").await;
    rejected.assert_problem(422, "risk.max_order_quantity");
    let answer = desk.api.cancel(&desk.token, &rejected.order_id()).await;
    answer.assert_problem(409, "order.not_cancellable");
}
