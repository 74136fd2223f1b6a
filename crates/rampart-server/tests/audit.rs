//! Over real HTTPS: after a trading scenario the audit chain verifies, and every
//! change of state in it left exactly one event, written by the actor that made it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_audit::{AuditEvent, action};
use rampart_core::{OrderStatus, Role};
use rampart_store::OrderFilter;
use rampart_testkit::market::BTC;
use rampart_testkit::order::{self, shifted};
use rampart_testkit::{TestGateway, generous_limits};
use rust_decimal::Decimal;
use serde_json::json;

fn count(events: &[AuditEvent], name: &str, target: &str) -> usize {
    events
        .iter()
        .filter(|e| e.action == name && e.target == target)
        .count()
}

#[tokio::test]
async fn every_change_in_a_trading_scenario_has_exactly_one_event() {
    let gw = TestGateway::start().await;
    let mut limits = generous_limits();
    limits.max_order_quantity = Decimal::ONE;
    let account = gw.add_account(limits).await;
    let client = gw.add_client(&[Role::Trader], &[&account]).await;
    let token = gw.token(&client).await;
    let risk = gw.bearer(&[Role::RiskManager], &[]).await;
    let api = gw.api();
    let resting_price = shifted(gw.reference_price(BTC), -20, Decimal::new(1, 3));

    let filled = api
        .place(&token, &order::market(&account, BTC, "buy", "0.5"))
        .await;
    let cancelled = api
        .place(
            &token,
            &order::limit(&account, BTC, "buy", "0.1", resting_price),
        )
        .await;
    api.cancel(&token, &cancelled.order_id())
        .await
        .assert_json(200);
    let rejected = api
        .place(&token, &order::market(&account, BTC, "buy", "2"))
        .await;
    rejected.assert_problem(422, "risk.max_order_quantity");
    let swept = api
        .place(
            &token,
            &order::limit(&account, BTC, "buy", "0.1", resting_price),
        )
        .await;
    let body = json!({"scope": "account", "account_id": account.as_str(), "reason": "scenario"});
    let engaged = api.post_json("/v1/kill-switch", Some(&risk), &body).await;
    assert!([200, 201].contains(&engaged.status), "{}", engaged.text);
    gw.release_kill_switches("scenario over").await;
    gw.shutdown().await;

    gw.verify_audit()
        .await
        .unwrap_or_else(|e| panic!("audit log does not verify: {e}"));
    let events = gw.audit_events().await;
    let stored = gw
        .stored_orders(OrderFilter {
            accounts: Some(vec![account.clone()]),
            status: None,
            limit: 100,
            after: None,
        })
        .await;
    assert_eq!(stored.len(), 4, "four order records");
    for order in &stored {
        let target = format!("order:{}", order.id);
        let (accepted, rejected) = match order.status {
            OrderStatus::Rejected => (0, 1),
            _ => (1, 0),
        };
        assert_eq!(
            count(&events, action::ORDER_ACCEPTED, &target),
            accepted,
            "{order:?}"
        );
        assert_eq!(
            count(&events, action::ORDER_REJECTED, &target),
            rejected,
            "{order:?}"
        );
        let filled = usize::from(order.status == OrderStatus::Filled);
        assert_eq!(
            count(&events, action::ORDER_FILLED, &target),
            filled,
            "{order:?}"
        );
        let cancelled = usize::from(order.status == OrderStatus::Cancelled);
        assert_eq!(
            count(&events, action::ORDER_CANCELLED, &target),
            cancelled,
            "{order:?}"
        );
    }
    let status_of = |id: &str| {
        stored
            .iter()
            .find(|o| o.id.to_string() == id)
            .unwrap()
            .status
    };
    assert_eq!(status_of(&filled.order_id()), OrderStatus::Filled);
    assert_eq!(status_of(&cancelled.order_id()), OrderStatus::Cancelled);
    assert_eq!(
        status_of(&swept.order_id()),
        OrderStatus::Cancelled,
        "swept by the kill switch"
    );

    assert_eq!(count(&events, action::ACCOUNT_CREATED, account.as_str()), 1);
    assert_eq!(count(&events, action::CLIENT_CREATED, &client.id), 1);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == action::KILLSWITCH_ENGAGED)
            .count(),
        1
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == action::KILLSWITCH_RELEASED)
            .count(),
        1
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == action::GATEWAY_STARTED)
            .count(),
        1
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == action::GATEWAY_STOPPED)
            .count(),
        1
    );
    let issued = events
        .iter()
        .filter(|e| e.action == action::AUTH_TOKEN_ISSUED)
        .count();
    assert_eq!(issued, 2, "one event per token issued");
}

#[tokio::test]
async fn order_events_name_the_client_that_placed_the_order_and_the_policy_version() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let client = gw.add_client(&[Role::Trader], &[&account]).await;
    let token = gw.token(&client).await;
    let placed = gw
        .api()
        .place(&token, &order::market(&account, BTC, "buy", "0.01"))
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text);

    let target = format!("order:{}", placed.order_id());
    let events = gw.audit_events().await;
    let accepted = events
        .iter()
        .find(|e| e.action == action::ORDER_ACCEPTED && e.target == target);
    let accepted = accepted.expect("an `order.accepted` event");
    assert_eq!(accepted.actor, client.id);
    let version = rampart_policy::Authorizer::with_default_policies()
        .unwrap()
        .version()
        .to_owned();
    assert_eq!(accepted.policy_version.as_deref(), Some(version.as_str()));
    let request_id = placed
        .headers
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(
        accepted.request_id, request_id,
        "the event names the request"
    );
    let policies = accepted.details["policy_ids"].to_string();
    assert!(
        policies.contains("orders.trader.place_cancel"),
        "deciding policy: {policies}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn refused_order_body_is_audited_once_naming_the_field() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let token = gw.bearer(&[Role::Trader], &[&account]).await;
    let api = gw.api();
    let body = order::market(&account, BTC, "buy", "0");
    let request = api
        .request(reqwest::Method::POST, "/v1/orders", Some(&token))
        .header("x-request-id", "audit-invalid-1")
        .json(&body);
    rampart_testkit::Answer::of(request)
        .await
        .assert_problem(400, "request.invalid");
    gw.shutdown().await;

    let events = gw.audit_events().await;
    let invalid: Vec<_> = events
        .iter()
        .filter(|e| e.details["client_request_id"] == "audit-invalid-1")
        .collect();
    assert_eq!(invalid.len(), 1, "one event for the refused request");
    assert_eq!(invalid[0].action, action::REQUEST_INVALID);
    assert_eq!(invalid[0].details["field"], "quantity");
}

#[tokio::test]
async fn audit_times_are_utc_with_microseconds_and_seqs_have_no_gaps() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let token = gw.bearer(&[Role::Trader], &[&account]).await;
    gw.api()
        .place(&token, &order::market(&account, BTC, "buy", "0.01"))
        .await;
    gw.shutdown().await;

    let events = gw.audit_events().await;
    for (index, event) in events.iter().enumerate() {
        assert_eq!(event.seq, index as u64 + 1, "seq without gaps");
        let text = serde_json::to_value(event).unwrap()["time"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            text.ends_with('Z') && text.len() == "2026-01-01T00:00:00.000000Z".len(),
            "{text}"
        );
    }
}

#[tokio::test]
async fn verification_names_an_event_changed_behind_the_gateways_back() {
    // The negative control of every `verify_audit` above: someone with the database
    // file drops the append-only trigger and changes an actor; verification catches it.
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let token = gw.bearer(&[Role::Trader], &[&account]).await;
    gw.api()
        .place(&token, &order::market(&account, BTC, "buy", "0.01"))
        .await;
    gw.shutdown().await;
    gw.verify_audit().await.unwrap();

    let database = gw.data_dir().join(rampart_server::init::DATABASE_FILE);
    let status = std::process::Command::new("sqlite3")
        .arg(&database)
        .arg(
            "DROP TRIGGER audit_events_no_update; \
             UPDATE audit_events SET actor = 'mallory' WHERE seq = 3;",
        )
        .status()
        .unwrap();
    assert!(status.success());
    let error = gw
        .verify_audit()
        .await
        .expect_err("a changed event is detected");
    assert!(
        error.to_string().contains('3'),
        "the changed event is named: {error}"
    );
}
