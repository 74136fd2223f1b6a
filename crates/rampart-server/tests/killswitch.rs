//! Over real HTTPS: the kill switch (MiFID II RTS 6, Article 12). Engaged by a
//! risk manager or compliance officer, globally or for one account, it rejects
//! new orders with `risk.kill_switch` and cancels resting ones; a trader cannot
//! engage it; released through the store as the command line does, orders flow again.
//!
//! Each test runs its own gateway, since a global engagement stops every account.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::time::Duration;

use rampart_audit::action;
use rampart_core::{AccountId, Role};
use rampart_testkit::market::BTC;
use rampart_testkit::order::{self, shifted};
use rampart_testkit::{Answer, Api, TestGateway, generous_limits};
use rust_decimal::Decimal;
use serde_json::{Value, json};

struct Floor {
    gw: TestGateway,
    api: Api,
    account: AccountId,
    other: AccountId,
    trader: String,
    risk: String,
}

async fn floor() -> Floor {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let other = gw.add_account(generous_limits()).await;
    let trader = gw.bearer(&[Role::Trader], &[&account, &other]).await;
    let risk = gw.bearer(&[Role::RiskManager], &[]).await;
    let api = gw.api();
    Floor {
        gw,
        api,
        account,
        other,
        trader,
        risk,
    }
}

impl Floor {
    fn resting(&self, account: &AccountId) -> Value {
        let price = shifted(self.gw.reference_price(BTC), -20, Decimal::new(1, 3));
        order::limit(account, BTC, "buy", "0.01", price)
    }

    async fn rest(&self, account: &AccountId) -> String {
        let answer = self.api.place(&self.trader, &self.resting(account)).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        assert_eq!(answer.status_field(), "open");
        answer.order_id()
    }

    async fn engage(&self, token: &str, body: Value) -> Answer {
        self.api
            .post_json("/v1/kill-switch", Some(token), &body)
            .await
    }

    /// Engages the kill switch described by `body` as `token`, and requires it took.
    async fn engage_ok(&self, token: &str, body: Value) {
        let engaged = self.engage(token, body).await;
        assert!([200, 201].contains(&engaged.status), "{}", engaged.text);
    }

    /// Places a small market buy on `account` as the trader.
    async fn place_market(&self, account: &AccountId) -> Answer {
        let body = order::market(account, BTC, "buy", "0.01");
        self.api.place(&self.trader, &body).await
    }

    async fn status_of(&self, id: &str) -> String {
        let answer = self.api.order(&self.trader, id).await;
        answer.assert_json(200)["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The engagements `GET /v1/kill-switch` lists.
    async fn engagements(&self) -> Vec<Value> {
        let answer = self.api.get("/v1/kill-switch", Some(&self.risk)).await;
        let body = answer.assert_json(200);
        body["engagements"]
            .as_array()
            .expect("an `engagements` list")
            .clone()
    }

    async fn assert_blocked(&self, account: &AccountId) {
        let answer = self.place_market(account).await;
        answer.assert_problem(422, "risk.kill_switch");
        let id: rampart_core::OrderId = answer.json["order_id"].as_str().unwrap().parse().unwrap();
        let stored = self
            .gw
            .stored_order(id)
            .await
            .expect("the rejection is recorded");
        assert_eq!(stored.reject_code.as_deref(), Some("risk.kill_switch"));
    }

    async fn assert_flows(&self, account: &AccountId) {
        let answer = self.place_market(account).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        assert_eq!(answer.status_field(), "filled");
    }
}

/// How many `killswitch.engaged` events `events` holds.
fn engagements_audited(events: &[rampart_audit::AuditEvent]) -> usize {
    events
        .iter()
        .filter(|e| e.action == action::KILLSWITCH_ENGAGED)
        .count()
}

/// How many `order.cancelled` events of order `id` `events` holds.
fn cancellations_audited(events: &[rampart_audit::AuditEvent], id: &str) -> usize {
    let target = format!("order:{id}");
    events
        .iter()
        .filter(|e| e.action == action::ORDER_CANCELLED && e.target == target)
        .count()
}

#[tokio::test]
async fn global_engagement_rejects_new_orders_and_cancels_resting_ones() {
    let floor = floor().await;
    let resting = floor.rest(&floor.account).await;

    floor
        .engage_ok(
            &floor.risk,
            json!({"scope": "global", "reason": "runaway algo"}),
        )
        .await;

    assert_eq!(floor.status_of(&resting).await, "cancelled");
    floor.assert_blocked(&floor.account).await;
    floor.assert_blocked(&floor.other).await;
    assert_eq!(floor.engagements().await.len(), 1);

    let events = floor.gw.audit_events().await;
    assert_eq!(engagements_audited(&events), 1);
    assert_eq!(
        cancellations_audited(&events, &resting),
        1,
        "the cancellation of the resting order is audited once"
    );
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn account_engagement_stops_only_that_account() {
    let floor = floor().await;
    let stopped = floor.rest(&floor.account).await;
    let untouched = floor.rest(&floor.other).await;

    let body =
        json!({"scope": "account", "account_id": floor.account.as_str(), "reason": "limit breach"});
    floor.engage_ok(&floor.risk, body).await;

    assert_eq!(floor.status_of(&stopped).await, "cancelled");
    assert_eq!(floor.status_of(&untouched).await, "open");
    floor.assert_blocked(&floor.account).await;
    floor.assert_flows(&floor.other).await;
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn compliance_officer_may_engage_the_kill_switch() {
    let floor = floor().await;
    let officer = floor.gw.bearer(&[Role::ComplianceOfficer], &[]).await;
    floor
        .engage_ok(
            &officer,
            json!({"scope": "global", "reason": "market abuse alert"}),
        )
        .await;
    floor.assert_blocked(&floor.account).await;
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn trader_cannot_engage_the_kill_switch() {
    let floor = floor().await;
    let global = floor
        .engage(&floor.trader, json!({"scope": "global", "reason": "x"}))
        .await;
    assert!([403, 404].contains(&global.status), "{}", global.text);
    global.assert_problem_shape();
    let own = json!({"scope": "account", "account_id": floor.account.as_str(), "reason": "x"});
    let own = floor.engage(&floor.trader, own).await;
    assert!([403, 404].contains(&own.status), "{}", own.text);

    assert!(floor.engagements().await.is_empty());
    floor.assert_flows(&floor.account).await;
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn after_release_through_the_store_orders_flow_again() {
    let floor = floor().await;
    floor
        .engage_ok(&floor.risk, json!({"scope": "global", "reason": "drill"}))
        .await;
    floor.assert_blocked(&floor.account).await;

    let released = floor.gw.release_kill_switches("drill over").await;
    assert_eq!(released.len(), 1, "the engagement was stored as active");
    let mut waited = Duration::ZERO;
    while !floor.engagements().await.is_empty() {
        assert!(
            waited < Duration::from_secs(10),
            "the gateway never saw the release"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        waited += Duration::from_millis(200);
    }
    floor.assert_flows(&floor.account).await;
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn engagement_is_written_to_the_store_as_active() {
    let floor = floor().await;
    let body = json!({"scope": "account", "account_id": floor.other.as_str(), "reason": "stored"});
    floor.engage_ok(&floor.risk, body).await;

    let stored = floor
        .gw
        .in_store(|store| async move { store.kill_switches(true).await })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].reason, "stored");
    assert!(stored[0].released_at.is_none());
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn malformed_engagements_are_refused_by_field() {
    let floor = floor().await;
    let cases = [
        (json!({"scope": "account", "reason": "x"}), "account_id"),
        (json!({"scope": "global"}), "reason"),
        (json!({"scope": "global", "reason": ""}), "reason"),
        (
            json!({"scope": "global", "reason": "x".repeat(501)}),
            "reason",
        ),
        (json!({"scope": "everything", "reason": "x"}), "scope"),
        (json!({"scope": "global", "reason": "x", "force": true}), ""),
    ];
    for (body, field) in cases {
        let answer = floor.engage(&floor.risk, body.clone()).await;
        answer.assert_problem(400, "request.invalid");
        if !field.is_empty() {
            assert_eq!(answer.json["field"], field, "{body}: {}", answer.text);
        }
    }
    assert!(floor.engagements().await.is_empty(), "nothing was engaged");
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn engaging_the_same_scope_twice_is_a_conflict_and_records_one_engagement() {
    let floor = floor().await;
    let body = json!({"scope": "global", "reason": "first"});
    floor.engage_ok(&floor.risk, body.clone()).await;
    let second = floor.engage(&floor.risk, body).await;
    second.assert_problem(409, "killswitch.already_engaged");

    assert_eq!(floor.engagements().await.len(), 1);
    let events = floor.gw.audit_events().await;
    assert_eq!(engagements_audited(&events), 1);
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn engaging_an_unknown_account_is_not_found() {
    let floor = floor().await;
    let body = json!({"scope": "account", "account_id": "ACC-NOBODY", "reason": "typo"});
    floor
        .engage(&floor.risk, body)
        .await
        .assert_problem(404, "not_found");
    assert!(floor.engagements().await.is_empty());
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn no_order_placed_during_an_engagement_is_left_working() {
    // Orders racing the engagement are either rejected or swept; none stays open.
    let floor = floor().await;
    let body = floor.resting(&floor.account);
    let placing = futures::future::join_all((0..12).map(|_| floor.api.place(&floor.trader, &body)));
    let engaging = floor.engage(&floor.risk, json!({"scope": "global", "reason": "race"}));
    let (answers, engaged) = tokio::join!(placing, engaging);
    assert!([200, 201].contains(&engaged.status), "{}", engaged.text);

    for answer in &answers {
        assert!([201, 422].contains(&answer.status), "{}", answer.text);
        let status = floor.status_of(&answer.order_id()).await;
        assert!(
            ["cancelled", "rejected"].contains(&status.as_str()),
            "order left {status}"
        );
    }
    let events = floor.gw.audit_events().await;
    for answer in answers.iter().filter(|a| a.status == 201) {
        assert_eq!(
            cancellations_audited(&events, &answer.order_id()),
            1,
            "one cancellation event per swept order"
        );
    }
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn two_simultaneous_global_engagements_make_one() {
    let floor = floor().await;
    let officer = floor.gw.bearer(&[Role::ComplianceOfficer], &[]).await;
    let body = json!({"scope": "global", "reason": "both at once"});
    let (a, b) = tokio::join!(
        floor.engage(&floor.risk, body.clone()),
        floor.engage(&officer, body)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} / {}", a.text, b.text);
    assert_eq!(floor.engagements().await.len(), 1);
    let events = floor.gw.audit_events().await;
    assert_eq!(engagements_audited(&events), 1);
    floor.gw.shutdown().await;
}
