//! A gateway started on a free port serves a real client end to end over verified TLS.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use common::{base_url, https_client, provision_account, provision_client, token};
use rampart_audit::action;
use rampart_core::Role;
use rampart_server::{Config, Gateway};
use rust_decimal::Decimal;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_order_placed_over_verified_tls_is_filled_and_audited() {
    let temp = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(Config::for_tests(temp.path()))
        .await
        .unwrap();
    assert_ne!(gateway.addr().port(), 0);
    provision_account(&gateway).await;
    let secret = provision_client(&gateway, "algo-smoke", Role::Trader).await;
    let http = https_client(gateway.ca_pem_path().unwrap());
    let base = base_url(&gateway);

    let access_token = token(&http, &base, "algo-smoke", &secret).await;
    let order = json!({"account_id": "ACC-SMOKE", "instrument": "BTC-USD", "side": "buy",
        "type": "market", "quantity": "0.010", "client_order_id": "smoke-1"});
    let response = http
        .post(format!("{base}/v1/orders"))
        .bearer_auth(&access_token)
        .json(&order)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 201);
    let headers = response.headers().clone();
    assert_eq!(
        headers["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("x-request-id"));
    let placed: Value = response.json().await.unwrap();
    assert_eq!(placed["status"], "filled");
    assert_eq!(placed["filled_quantity"], "0.01");
    let price: Decimal = placed["average_fill_price"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        price > Decimal::new(30_000, 0) && price < Decimal::new(70_000, 0),
        "{price}"
    );

    let data_dir = gateway.data_dir().to_path_buf();
    gateway.shutdown().await.unwrap();
    let store = rampart_store::Store::open(&data_dir.join("rampart.db"))
        .await
        .unwrap();
    let events = store.audit_events(0, 1000).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.event.action.as_str()).collect();
    for expected in [
        action::GATEWAY_STARTED,
        action::AUTH_TOKEN_ISSUED,
        action::ORDER_ACCEPTED,
        action::ORDER_FILLED,
        action::GATEWAY_STOPPED,
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert_eq!(actions.last(), Some(&action::GATEWAY_STOPPED));
    let positions = store
        .positions(&"ACC-SMOKE".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(positions[0].quantity, Decimal::new(1, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_without_token_gets_a_problem_document_and_an_audit_event() {
    let temp = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(Config::for_tests(temp.path()))
        .await
        .unwrap();
    let http = https_client(gateway.ca_pem_path().unwrap());
    let base = base_url(&gateway);

    let response = http.get(format!("{base}/v1/orders")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(response.headers().contains_key("www-authenticate"));
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "auth.missing_token");

    let events = gateway.store().audit_events(0, 100).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.event.action == action::AUTH_BEARER_REJECTED)
    );
    gateway.shutdown().await.unwrap();
}
