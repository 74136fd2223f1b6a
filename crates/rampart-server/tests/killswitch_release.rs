//! Over real HTTPS: releasing the kill switch needs two people. A risk manager
//! proposes the release (202, an approval of kind `killswitch.release`); a
//! second risk manager approves it through `/v1/approvals`; neither the
//! proposer nor the side of whoever engaged it (the person, or the owner of
//! the client that engaged it) may approve. A compliance officer engages but
//! does not release, a trader does neither, and an account-scoped release is
//! proposed and approved only by risk managers assigned that account (a
//! client-scoped one, by those assigned every account of the client). The
//! release is audited with who engaged, who proposed and who approved.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_audit::action;
use rampart_core::{AccountId, Role};
use rampart_testkit::market::BTC;
use rampart_testkit::{Answer, Api, Person, TestGateway, generous_limits, order};
use serde_json::{Value, json};

struct Room {
    gw: TestGateway,
    api: Api,
    account: AccountId,
    trader: String,
    risk: Person,
    second: Person,
    officer: Person,
}

async fn room() -> Room {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let trader = gw.bearer(&[Role::Trader], &[&account]).await;
    let risk = gw.person(&[Role::RiskManager], &[&account]).await;
    let second = gw.person(&[Role::RiskManager], &[&account]).await;
    let officer = gw.person(&[Role::ComplianceOfficer], &[]).await;
    let api = gw.api();
    Room {
        gw,
        api,
        account,
        trader,
        risk,
        second,
        officer,
    }
}

impl Room {
    /// Engages the global kill switch as `token`; returns the engagement id.
    async fn engage(&self, token: &str) -> String {
        let body = json!({"scope": "global", "reason": "drill"});
        self.engage_with(token, &body).await
    }

    /// Engages the kill switch described by `body` as `token`; returns the engagement id.
    async fn engage_with(&self, token: &str, body: &Value) -> String {
        let answer = self
            .api
            .post_json("/v1/kill-switch", Some(token), body)
            .await;
        let engaged = answer.assert_json(201);
        engaged["engagement"]["id"].as_str().unwrap().to_owned()
    }

    async fn propose(&self, token: &str, body: &Value) -> Answer {
        self.api
            .post_json("/v1/kill-switch/release", Some(token), body)
            .await
    }

    /// Proposes the release of `engagement` as `token`; returns the approval id.
    async fn proposed(&self, token: &str, engagement: &str) -> String {
        let body = json!({"engagement_id": engagement, "reason": "drill over"});
        let answer = self.propose(token, &body).await;
        let proposal = answer.assert_json(202);
        assert_eq!(proposal["approval"]["kind"], "killswitch.release");
        assert_eq!(proposal["approval"]["status"], "pending");
        proposal["approval"]["id"].as_str().unwrap().to_owned()
    }

    /// Proposes the release of `engagement` as `token` with the reason `drill over`.
    async fn propose_release(&self, token: &str, engagement: &str) -> Answer {
        let body = json!({"engagement_id": engagement, "reason": "drill over"});
        self.propose(token, &body).await
    }

    /// Has `room.risk` propose the release of `engagement` once `outsider` (a risk manager
    /// assigned none of its accounts) is refused the proposal, then checks that `outsider`
    /// may not approve it either. Returns the id of the pending approval.
    async fn propose_past_an_outsider(&self, outsider: &Person, engagement: &str) -> String {
        self.propose_release(&outsider.token, engagement)
            .await
            .assert_problem(403, "policy.denied");
        let approval = self.proposed(&self.risk.token, engagement).await;
        self.approve(&outsider.token, &approval)
            .await
            .assert_problem(403, "policy.denied");
        approval
    }

    /// How many release proposals the audit log holds.
    async fn release_proposals(&self) -> usize {
        let events = self.gw.audit_events().await;
        events
            .iter()
            .filter(|e| e.action == "killswitch.release_proposed")
            .count()
    }

    async fn approve(&self, token: &str, approval: &str) -> Answer {
        let path = format!("/v1/approvals/{approval}/approve");
        self.api.post_json(&path, Some(token), &json!({})).await
    }

    async fn engaged(&self) -> usize {
        let listed = self
            .api
            .get("/v1/kill-switch", Some(&self.risk.token))
            .await;
        listed.assert_json(200)["engagements"]
            .as_array()
            .unwrap()
            .len()
    }

    async fn order_status(&self) -> u16 {
        let body = order::market(&self.account, BTC, "buy", "0.01");
        self.api.place(&self.trader, &body).await.status
    }
}

#[tokio::test]
async fn a_proposal_leaves_the_switch_engaged_until_a_second_person_approves() {
    let room = room().await;
    let engagement = room.engage(&room.risk.token).await;
    let approval = room.proposed(&room.risk.token, &engagement).await;
    assert_eq!(room.engaged().await, 1);
    assert_eq!(
        room.order_status().await,
        422,
        "still stopped while pending"
    );

    let approved = room.approve(&room.second.token, &approval).await;
    let body = approved.assert_json(200);
    assert_eq!(body["applied"]["released"], engagement.as_str());
    assert_eq!(room.engaged().await, 0);
    assert_eq!(
        room.order_status().await,
        201,
        "orders flow after the release"
    );

    let events = room.gw.audit_events().await;
    let released = events
        .iter()
        .find(|e| e.action == action::KILLSWITCH_RELEASED)
        .expect("the release is audited");
    assert_eq!(released.actor, room.second.id());
    assert_eq!(released.details["engaged_by"], room.risk.id());
    assert_eq!(released.details["proposed_by"], room.risk.id());
    assert_eq!(released.details["approved_by"], room.second.id());
    assert_eq!(released.details["old"]["engaged"], true);
    assert_eq!(released.details["new"]["engaged"], false);
    assert_eq!(room.release_proposals().await, 1);
    room.gw.shutdown().await;
}

#[tokio::test]
async fn the_proposer_cannot_approve_their_own_release() {
    let room = room().await;
    let engagement = room.engage(&room.officer.token).await;
    let approval = room.proposed(&room.risk.token, &engagement).await;
    room.approve(&room.risk.token, &approval)
        .await
        .assert_problem(403, "approval.self_approval");
    assert_eq!(room.engaged().await, 1);
    room.gw.shutdown().await;
}

#[tokio::test]
async fn the_person_who_engaged_cannot_approve_the_release() {
    let room = room().await;
    let engagement = room.engage(&room.risk.token).await;
    let approval = room.proposed(&room.second.token, &engagement).await;
    room.approve(&room.risk.token, &approval)
        .await
        .assert_problem(403, "approval.self_approval");
    assert_eq!(room.engaged().await, 1);
    assert_eq!(room.order_status().await, 422);
    room.gw.shutdown().await;
}

#[tokio::test]
async fn a_trader_can_neither_propose_nor_approve_a_release() {
    let room = room().await;
    let engagement = room.engage(&room.risk.token).await;
    let body = json!({"engagement_id": engagement, "reason": "let me trade"});
    let refused = room.propose(&room.trader, &body).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    refused.assert_problem_shape();

    let approval = room.proposed(&room.second.token, &engagement).await;
    let refused = room.approve(&room.trader, &approval).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(room.engaged().await, 1);
    room.gw.shutdown().await;
}

#[tokio::test]
async fn malformed_or_unknown_releases_are_refused() {
    let room = room().await;
    let engagement = room.engage(&room.risk.token).await;
    let cases = [
        (
            json!({"engagement_id": "not-a-uuid", "reason": "x"}),
            "engagement_id",
        ),
        (json!({"engagement_id": engagement, "reason": ""}), "reason"),
        (
            json!({"engagement_id": engagement, "reason": "a\u{202E}b"}),
            "reason",
        ),
        (json!({"engagement_id": engagement}), "reason"),
        (
            json!({"engagement_id": engagement, "reason": "x", "force": true}),
            "",
        ),
    ];
    for (body, field) in cases {
        let answer = room.propose(&room.risk.token, &body).await;
        answer.assert_problem(400, "request.invalid");
        if !field.is_empty() {
            assert_eq!(answer.json["field"], field, "{body}: {}", answer.text);
        }
    }
    let unknown = json!({"engagement_id": uuid::Uuid::now_v7(), "reason": "x"});
    room.propose(&room.risk.token, &unknown)
        .await
        .assert_problem(404, "not_found");
    assert_eq!(room.engaged().await, 1);
    room.gw.shutdown().await;
}

#[tokio::test]
async fn a_compliance_officer_engages_but_neither_proposes_nor_approves_a_release() {
    let room = room().await;
    let engagement = room.engage(&room.officer.token).await;
    let refused = room.propose_release(&room.officer.token, &engagement).await;
    refused.assert_problem(403, "policy.denied");
    let approval = room.proposed(&room.risk.token, &engagement).await;
    room.approve(&room.officer.token, &approval)
        .await
        .assert_problem(403, "policy.denied");
    assert_eq!(room.engaged().await, 1);
    room.gw.shutdown().await;
}

#[tokio::test]
async fn the_owner_of_the_engaging_client_cannot_approve_the_release() {
    let room = room().await;
    let client = room
        .gw
        .add_owned_client(&[Role::RiskManager], &[], room.second.id())
        .await;
    let engagement = room.engage(&room.gw.token(&client).await).await;
    let approval = room.proposed(&room.risk.token, &engagement).await;
    room.approve(&room.second.token, &approval)
        .await
        .assert_problem(403, "approval.self_approval");
    assert_eq!(room.engaged().await, 1);
    assert_eq!(room.order_status().await, 422);
    room.gw.shutdown().await;
}

#[tokio::test]
async fn a_second_release_proposal_is_refused_naming_the_pending_one() {
    let room = room().await;
    let engagement = room.engage(&room.officer.token).await;
    let first = room.proposed(&room.risk.token, &engagement).await;
    let body = json!({"engagement_id": engagement, "reason": "me too"});
    let second = room.propose(&room.second.token, &body).await;
    second.assert_problem(409, "request.duplicate");
    let detail = second.json["detail"].as_str().unwrap();
    assert!(detail.contains(&first), "{detail}");
    assert_eq!(room.release_proposals().await, 1);

    room.approve(&room.second.token, &first)
        .await
        .assert_json(200);
    assert_eq!(room.engaged().await, 0);
    room.gw.shutdown().await;
}

#[tokio::test]
async fn an_account_scoped_release_is_proposed_and_approved_only_by_its_risk_managers() {
    let room = room().await;
    let outsider = room.gw.person(&[Role::RiskManager], &[]).await;
    let body = json!({"scope": "account", "account_id": room.account, "reason": "drill"});
    let engagement = room.engage_with(&room.officer.token, &body).await;
    let approval = room.propose_past_an_outsider(&outsider, &engagement).await;
    assert_eq!(room.order_status().await, 422);
    room.approve(&room.second.token, &approval)
        .await
        .assert_json(200);
    assert_eq!(room.order_status().await, 201);
    room.gw.shutdown().await;
}

#[tokio::test]
async fn a_client_scoped_release_is_proposed_and_approved_only_by_risk_managers_of_its_accounts() {
    let room = room().await;
    let outsider = room.gw.person(&[Role::RiskManager], &[]).await;
    let algo = room.gw.add_client(&[Role::Trader], &[&room.account]).await;
    let body = json!({"scope": "client", "client_id": algo.id, "reason": "drill"});
    let engagement = room.engage_with(&room.officer.token, &body).await;
    let approval = room.propose_past_an_outsider(&outsider, &engagement).await;
    assert_eq!(room.engaged().await, 1);
    room.approve(&room.second.token, &approval)
        .await
        .assert_json(200);
    assert_eq!(room.engaged().await, 0);
    room.gw.shutdown().await;
}
