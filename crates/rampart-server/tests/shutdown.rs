//! Over real HTTPS: graceful shutdown under load loses nothing. Every order whose
//! request was answered is in the store with its audit events, the audit chain
//! verifies, and `gateway.stopped` is the last event.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rampart_audit::action;
use rampart_core::{AccountId, OrderId, Role};
use rampart_testkit::market::BTC;
use rampart_testkit::order::{self, shifted};
use rampart_testkit::{Api, TestGateway, generous_limits};
use rust_decimal::Decimal;
use serde_json::Value;

/// What the gateway answered one order request, when it answered with an order.
#[derive(Debug, Clone)]
struct Answered {
    id: String,
    http_status: u16,
    order_status: String,
}

/// Places orders in a loop until the gateway stops answering; returns what was answered.
async fn place_until_refused(
    api: Api,
    token: String,
    bodies: Vec<Value>,
    count: Arc<AtomicUsize>,
) -> Vec<Answered> {
    let mut answered = Vec::new();
    for body in bodies.iter().cycle() {
        let sent = api
            .http()
            .post(api.url("/v1/orders"))
            .bearer_auth(&token)
            .json(body)
            .send()
            .await;
        let Ok(response) = sent else { break };
        let http_status = response.status().as_u16();
        let Ok(json) = response.json::<Value>().await else {
            break;
        };
        if http_status == 503 {
            break;
        }
        let id = json["id"].as_str().or_else(|| json["order_id"].as_str());
        let id = id.unwrap_or_else(|| panic!("{http_status} without an order: {json}"));
        let order_status = json["status"].as_str().unwrap_or("rejected").to_owned();
        answered.push(Answered {
            id: id.to_owned(),
            http_status,
            order_status,
        });
        count.fetch_add(1, Ordering::SeqCst);
    }
    answered
}

fn bodies(gw: &TestGateway, account: &AccountId) -> Vec<Value> {
    let resting = shifted(gw.reference_price(BTC), -20, Decimal::new(1, 3));
    vec![
        order::market(account, BTC, "buy", "0.01"),
        order::limit(account, BTC, "buy", "0.01", resting),
        order::market(account, BTC, "sell", "0.01"),
        order::limit(account, BTC, "buy", "1000000000", resting),
    ]
}

/// Starts a gateway, puts four order-placing tasks on it, shuts it down once
/// `before` answers were received, and returns the gateway and every answer.
async fn shut_down_under_load(before: usize) -> (TestGateway, Vec<Answered>) {
    let gw = TestGateway::start().await;
    let count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let account = gw.add_account(generous_limits()).await;
        let token = gw.bearer(&[Role::Trader], &[&account]).await;
        let work = place_until_refused(gw.api(), token, bodies(&gw, &account), count.clone());
        tasks.push(tokio::spawn(work));
    }
    while count.load(Ordering::SeqCst) < before {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    gw.shutdown().await;
    let mut answered = Vec::new();
    for task in tasks {
        answered.extend(task.await.unwrap());
    }
    (gw, answered)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_order_is_stored_with_its_audit_events_after_shutdown() {
    let (gw, answered) = shut_down_under_load(40).await;
    assert!(answered.len() >= 40);
    let events = gw.audit_events().await;

    for order in &answered {
        let stored = gw.stored_order(order.id.parse::<OrderId>().unwrap()).await;
        let stored = stored.unwrap_or_else(|| panic!("answered order {} is not stored", order.id));
        let target = format!("order:{}", order.id);
        let count = |name: &str| {
            events
                .iter()
                .filter(|e| e.action == name && e.target == target)
                .count()
        };
        match order.http_status {
            201 => assert_eq!(count(action::ORDER_ACCEPTED), 1, "{order:?}"),
            422 => assert_eq!(count(action::ORDER_REJECTED), 1, "{order:?}"),
            other => panic!("unexpected status {other} for {order:?}"),
        }
        if order.order_status == "filled" {
            assert_eq!(stored.status.as_str(), "filled", "{order:?}");
            assert_eq!(count(action::ORDER_FILLED), 1, "{order:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_chain_verifies_after_shutdown_under_load() {
    let (gw, answered) = shut_down_under_load(40).await;
    let summary = gw
        .verify_audit()
        .await
        .unwrap_or_else(|e| panic!("audit log does not verify: {e}"));
    let events = gw.audit_events().await;
    assert_eq!(summary.events, events.len() as u64);
    assert!(summary.events as usize > answered.len());
    assert_eq!(
        events.last().unwrap().action,
        action::GATEWAY_STOPPED,
        "the last event"
    );
}

#[tokio::test]
async fn gateway_refuses_connections_after_shutdown() {
    let gw = TestGateway::start().await;
    let api = gw.api();
    assert_eq!(api.get("/healthz", None).await.status, 200);
    gw.shutdown().await;

    let fresh = gw.api();
    let after = fresh.http().get(fresh.url("/healthz")).send().await;
    assert!(after.is_err(), "nothing listens after shutdown: {after:?}");
}

#[tokio::test]
async fn orders_resting_at_shutdown_stay_open_in_the_store() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let token = gw.bearer(&[Role::Trader], &[&account]).await;
    let resting = shifted(gw.reference_price(BTC), -20, Decimal::new(1, 3));
    let placed = gw
        .api()
        .place(&token, &order::limit(&account, BTC, "buy", "0.01", resting))
        .await;
    assert_eq!(placed.status_field(), "open", "{}", placed.text);
    gw.shutdown().await;

    let stored = gw
        .stored_order(placed.order_id().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        stored.status.as_str(),
        "open",
        "a restart re-submits it; nothing lost it"
    );
}
