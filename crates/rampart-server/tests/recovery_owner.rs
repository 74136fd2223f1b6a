//! Over real HTTPS: restart recovery stops an API client's open order under a
//! kill switch scoped to the person who owns the client, as placement does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_audit::{NewEvent, Outcome, action};
use rampart_core::KillSwitchScope;
use rampart_core::Role;
use rampart_store::KillSwitchRecord;
use rampart_testkit::market::BTC;
use rampart_testkit::order::{self, shifted};
use rampart_testkit::{TestGateway, generous_limits};
use rust_decimal::Decimal;

#[tokio::test]
async fn an_owned_clients_open_order_is_cancelled_at_start_under_a_stop_of_its_owner() {
    // A stop between persisting the engagement and sweeping the book leaves the
    // client's order open in the store; the engagement names the owner, not the client.
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let owner = gw.person(&[Role::Trader], &[&account]).await;
    let client = gw
        .add_owned_client(&[Role::Trader], &[&account], owner.id())
        .await;
    let other = gw.add_client(&[Role::Trader], &[&account]).await;
    let price = shifted(gw.reference_price(BTC), -20, Decimal::new(1, 3));
    let body = order::limit(&account, BTC, "buy", "0.01", price);
    let token = gw.token(&client).await;
    let stopped = gw.api().place(&token, &body).await;
    assert_eq!(stopped.status_field(), "open", "{}", stopped.text);
    let other_token = gw.token(&other).await;
    let body = order::limit(&account, BTC, "buy", "0.01", price);
    let untouched = gw.api().place(&other_token, &body).await;
    assert_eq!(untouched.status_field(), "open", "{}", untouched.text);
    gw.shutdown().await;

    let person = owner.id().to_owned();
    gw.in_store(move |store| async move {
        let record = KillSwitchRecord {
            id: uuid::Uuid::now_v7(),
            scope: KillSwitchScope::Trader(person),
            reason: "engaged just before the stop".to_owned(),
            engaged_by: "risk-officer".to_owned(),
            engaged_at: chrono::Utc::now(),
            released_by: None,
            released_at: None,
        };
        let event = NewEvent::new(
            "risk-officer",
            action::KILLSWITCH_ENGAGED,
            "gateway",
            Outcome::Success,
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
    let token = gw.token(&client).await;
    let read = gw.api().order(&token, &stopped.order_id()).await;
    assert_eq!(
        read.assert_json(200)["status"],
        "cancelled",
        "swept at start"
    );
    let other_token = gw.token(&other).await;
    let read = gw.api().order(&other_token, &untouched.order_id()).await;
    assert_eq!(
        read.assert_json(200)["status"],
        "open",
        "another client works on"
    );
    gw.shutdown().await;
}
