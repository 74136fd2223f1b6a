//! Over real HTTPS with the paper broker: the repeated-execution guard (RTS 6,
//! Article 15). Too many fills of one algorithm within the window switch its
//! client off (actor `system`), withdrawing its open orders; other algorithms
//! trade on; a designated risk manager re-enables it and its orders flow again.
//! The owner of the stopped client is on its side: their request is only a
//! proposal, which someone else approves.

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
use rampart_server::config::execution_guard::ExecutionGuardConfig;
use rampart_testkit::market::BTC;
use rampart_testkit::order::{self, shifted};
use rampart_testkit::{Api, TestGateway, generous_limits};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Fills that trip the guard in these tests.
const MAX_FILLS: u32 = 3;

struct Floor {
    gw: TestGateway,
    api: Api,
    account: AccountId,
    algo: (String, String),
    other: String,
    risk: String,
    officer: String,
}

async fn floor() -> Floor {
    let gw = TestGateway::start_with(|config| {
        config.risk.execution_guard = ExecutionGuardConfig {
            max_fills: MAX_FILLS,
            window_seconds: 60,
        };
    })
    .await;
    let account = gw.add_account(generous_limits()).await;
    let algo = gw.add_client(&[Role::Trader], &[&account]).await;
    let algo = (algo.id.clone(), gw.token(&algo).await);
    let other = gw.bearer(&[Role::Trader], &[&account]).await;
    let risk = gw.person(&[Role::RiskManager], &[&account]).await.token;
    let officer = gw.person(&[Role::ComplianceOfficer], &[]).await.token;
    let api = gw.api();
    Floor {
        gw,
        api,
        account,
        algo,
        other,
        risk,
        officer,
    }
}

impl Floor {
    async fn fill(&self, token: &str) -> u16 {
        let body = order::market(&self.account, BTC, "buy", "0.01");
        self.api.place(token, &body).await.status
    }

    async fn rest(&self, token: &str) -> String {
        let price = shifted(self.gw.reference_price(BTC), -20, Decimal::new(1, 3));
        let body = order::limit(&self.account, BTC, "buy", "0.01", price);
        let answer = self.api.place(token, &body).await;
        assert_eq!(answer.status_field(), "open", "{}", answer.text);
        answer.order_id()
    }

    async fn engagements(&self) -> Vec<Value> {
        let answer = self.api.get("/v1/kill-switch", Some(&self.risk)).await;
        answer.assert_json(200)["engagements"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Waits for the guard's engagement, which runs once the tripping order is recorded.
    async fn tripped(&self) -> Value {
        for _ in 0..50 {
            if let Some(found) = self.engagements().await.pop() {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the guard never engaged");
    }

    /// The status of order `id` once the guard's sweep of the book has reached it.
    async fn settled_status(&self, id: &str) -> String {
        let mut status = String::new();
        for _ in 0..50 {
            let order = self.api.order(&self.risk, id).await;
            status = order.assert_json(200)["status"]
                .as_str()
                .unwrap()
                .to_owned();
            if status != "open" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        status
    }

    async fn trip(&self) -> Value {
        for _ in 0..MAX_FILLS {
            assert_eq!(self.fill(&self.algo.1).await, 201);
        }
        self.tripped().await
    }

    async fn release(&self, token: &str, engagement: &Value) -> (u16, Value) {
        let body = json!({"engagement_id": engagement["id"], "reason": "algorithm checked"});
        let answer = self
            .api
            .post_json("/v1/kill-switch/release", Some(token), &body)
            .await;
        (answer.status, answer.json.clone())
    }
}

#[tokio::test]
async fn too_many_fills_switch_the_algorithm_off_and_withdraw_its_orders() {
    let floor = floor().await;
    let resting = floor.rest(&floor.algo.1).await;
    let engagement = floor.trip().await;
    assert_eq!(engagement["scope"], "client");
    assert_eq!(engagement["target"], floor.algo.0.as_str());
    assert_eq!(engagement["engaged_by"], "system");
    assert_eq!(engagement["reason"], "repeated executions: 3 fills in 60 s");

    assert_eq!(floor.settled_status(&resting).await, "cancelled");
    let stopped = floor.fill(&floor.algo.1).await;
    assert_eq!(stopped, 422, "the algorithm is switched off");
    assert_eq!(
        floor.fill(&floor.other).await,
        201,
        "another algorithm trades on"
    );

    let events = floor.gw.audit_events().await;
    let engaged = events
        .iter()
        .find(|e| e.action == action::KILLSWITCH_ENGAGED)
        .expect("the trip is audited");
    assert_eq!(engaged.actor, "system");
    assert_eq!(engaged.details["context"]["guard"], "repeated_executions");
    assert_eq!(engaged.details["context"]["fills"], MAX_FILLS);
    assert_eq!(engaged.details["old"]["engaged"], false);
    assert_eq!(engaged.details["new"]["engaged"], true);
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn a_client_naming_a_new_algorithm_on_every_order_still_trips_the_guard() {
    let floor = floor().await;
    for n in 0..MAX_FILLS {
        let mut body = order::market(&floor.account, BTC, "buy", "0.01");
        body["algo_id"] = json!(format!("fresh-{n}"));
        let answer = floor.api.place(&floor.algo.1, &body).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
    }
    let engagement = floor.tripped().await;
    assert_eq!(engagement["scope"], "client");
    assert_eq!(engagement["target"], floor.algo.0.as_str());
    assert_eq!(floor.fill(&floor.algo.1).await, 422, "switched off");
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn fewer_fills_than_the_threshold_leave_the_algorithm_trading() {
    let floor = floor().await;
    for _ in 0..MAX_FILLS - 1 {
        assert_eq!(floor.fill(&floor.algo.1).await, 201);
    }
    assert_eq!(
        floor.fill(&floor.other).await,
        201,
        "fills of others do not count"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(floor.engagements().await.is_empty());
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn a_designated_risk_manager_re_enables_the_algorithm_alone() {
    let floor = floor().await;
    let engagement = floor.trip().await;
    let (status, body) = floor.release(&floor.risk, &engagement).await;
    assert_eq!(status, 200, "{body}");
    assert!(floor.engagements().await.is_empty());
    assert_eq!(floor.fill(&floor.algo.1).await, 201, "orders flow again");

    let events = floor.gw.audit_events().await;
    let released = events
        .iter()
        .find(|e| e.action == action::KILLSWITCH_RELEASED)
        .expect("the re-enabling is audited");
    assert_eq!(released.details["engaged_by"], "system");
    assert_eq!(released.details["single_designated_person"], true);
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn a_compliance_officer_cannot_re_enable_a_guard_engagement() {
    let floor = floor().await;
    let engagement = floor.trip().await;
    let (status, body) = floor.release(&floor.officer, &engagement).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "policy.denied");
    assert_eq!(floor.engagements().await.len(), 1, "still switched off");
    assert_eq!(floor.fill(&floor.algo.1).await, 422);
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn the_owner_of_the_stopped_algorithm_only_proposes_its_re_enabling() {
    let floor = floor().await;
    // An owner holding a risk role (given through the test kit, which skips the CLI's
    // segregation-of-duties check), assigned the account the stopped client trades.
    let owner = floor
        .gw
        .person(&[Role::RiskManager], &[&floor.account])
        .await;
    let algo = floor
        .gw
        .add_owned_client(&[Role::Trader], &[&floor.account], owner.id())
        .await;
    let algo = floor.gw.token(&algo).await;
    for _ in 0..MAX_FILLS {
        assert_eq!(floor.fill(&algo).await, 201);
    }
    let engagement = floor.tripped().await;

    let (status, body) = floor.release(&owner.token, &engagement).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["approval"]["kind"], "killswitch.release");
    assert_eq!(floor.fill(&algo).await, 422, "still switched off");
    let path = format!(
        "/v1/approvals/{}/approve",
        body["approval"]["id"].as_str().unwrap()
    );
    let own = floor
        .api
        .post_json(&path, Some(&owner.token), &json!({}))
        .await;
    own.assert_problem(403, "approval.self_approval");

    let approved = floor
        .api
        .post_json(&path, Some(&floor.risk), &json!({}))
        .await;
    approved.assert_json(200);
    assert!(floor.engagements().await.is_empty());
    assert_eq!(floor.fill(&algo).await, 201, "orders flow again");
    floor.gw.shutdown().await;
}
