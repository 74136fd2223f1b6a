//! Over real HTTPS: what a gateway restarted on the same data directory keeps.
//! Resting orders are re-submitted to the broker and can still be cancelled; a
//! kill switch engagement still stops trading; the audit chain runs on unbroken.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_audit::action;
use rampart_core::Role;
use rampart_testkit::market::BTC;
use rampart_testkit::order::{self, shifted};
use rampart_testkit::{ApiClient, TestGateway, generous_limits};
use rust_decimal::Decimal;
use serde_json::json;

fn resting_price(gw: &TestGateway) -> Decimal {
    shifted(gw.reference_price(BTC), -20, Decimal::new(1, 3))
}

#[tokio::test]
async fn resting_order_survives_a_restart_and_can_still_be_cancelled() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let trader: ApiClient = gw.add_client(&[Role::Trader], &[&account]).await;
    let token = gw.token(&trader).await;
    let body = order::limit(&account, BTC, "buy", "0.01", resting_price(&gw));
    let placed = gw.api().place(&token, &body).await;
    assert_eq!(placed.status_field(), "open", "{}", placed.text);

    let gw = gw.restart().await;
    let token = gw.token(&trader).await;
    let read = gw.api().order(&token, &placed.order_id()).await;
    assert_eq!(read.assert_json(200)["status"], "open");
    let cancelled = gw.api().cancel(&token, &placed.order_id()).await;
    assert_eq!(
        cancelled.assert_json(200)["status"],
        "cancelled",
        "the broker knows it again"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn kill_switch_engagement_survives_a_restart() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let trader = gw.add_client(&[Role::Trader], &[&account]).await;
    let risk = gw.bearer(&[Role::RiskManager], &[]).await;
    let engaged = gw
        .api()
        .post_json(
            "/v1/kill-switch",
            Some(&risk),
            &json!({"scope": "global", "reason": "restart"}),
        )
        .await;
    assert!([200, 201].contains(&engaged.status), "{}", engaged.text);

    let gw = gw.restart().await;
    let token = gw.token(&trader).await;
    let answer = gw
        .api()
        .place(&token, &order::market(&account, BTC, "buy", "0.01"))
        .await;
    answer.assert_problem(422, "risk.kill_switch");
    gw.shutdown().await;
}

#[tokio::test]
async fn audit_chain_verifies_across_a_restart() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let trader = gw.add_client(&[Role::Trader], &[&account]).await;
    let token = gw.token(&trader).await;
    gw.api()
        .place(&token, &order::market(&account, BTC, "buy", "0.01"))
        .await;

    let gw = gw.restart().await;
    let token = gw.token(&trader).await;
    gw.api()
        .place(&token, &order::market(&account, BTC, "sell", "0.01"))
        .await;
    gw.shutdown().await;

    gw.verify_audit()
        .await
        .unwrap_or_else(|e| panic!("audit log does not verify: {e}"));
    let events = gw.audit_events().await;
    let count = |name: &str| events.iter().filter(|e| e.action == name).count();
    assert_eq!(count(action::GATEWAY_STARTED), 2);
    assert_eq!(count(action::GATEWAY_STOPPED), 2);
    assert_eq!(count(action::ORDER_FILLED), 2);
}

#[tokio::test]
async fn signing_key_is_kept_across_a_restart() {
    // The signing key is kept in the secret store, not regenerated at start.
    let gw = TestGateway::start().await;
    let before = gw.signing_key_der().await;
    let gw = gw.restart().await;
    assert_eq!(gw.signing_key_der().await, before);
    gw.shutdown().await;
}

#[tokio::test]
async fn open_order_recovered_under_an_engaged_kill_switch_is_not_left_working() {
    // A stop between persisting an engagement and sweeping the book leaves open orders
    // in the store; the next start must not put them back to work at the broker.
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let trader = gw.add_client(&[Role::Trader], &[&account]).await;
    let token = gw.token(&trader).await;
    let body = order::limit(&account, BTC, "buy", "0.01", resting_price(&gw));
    let placed = gw.api().place(&token, &body).await;
    assert_eq!(placed.status_field(), "open", "{}", placed.text);
    gw.shutdown().await;

    gw.in_store(|store| async move {
        let record = rampart_store::KillSwitchRecord {
            id: uuid::Uuid::now_v7(),
            scope: rampart_core::KillSwitchScope::Global,
            reason: "engaged just before the stop".to_owned(),
            engaged_by: "risk-officer".to_owned(),
            engaged_at: chrono::Utc::now(),
            released_by: None,
            released_at: None,
        };
        let event = rampart_audit::NewEvent::new(
            "risk-officer",
            action::KILLSWITCH_ENGAGED,
            "gateway",
            rampart_audit::Outcome::Success,
            "restart-engaged",
        );
        let mut tx = store.begin().await?;
        tx.insert_kill_switch(&record).await?;
        tx.append(event).await?;
        tx.commit().await
    })
    .await
    .unwrap();

    let gw = gw.restart().await;
    let token = gw.token(&trader).await;
    let read = gw.api().order(&token, &placed.order_id()).await;
    assert_eq!(
        read.assert_json(200)["status"],
        "cancelled",
        "swept at start"
    );
    gw.shutdown().await;
}
