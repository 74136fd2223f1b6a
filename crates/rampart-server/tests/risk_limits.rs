//! Over real HTTPS: risk limits are a versioned object changed only with a second person's
//! approval; tightening may apply at once where configured; caps and bounds refuse bad limits.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::Duration;
use rampart_core::{AccountId, Role};
use rampart_testkit::identity::generous_limits;
use rampart_testkit::{Person, TestGateway};
use serde_json::{Value, json};

struct Desk {
    account: AccountId,
    proposer: Person,
    approver: Person,
}

async fn desk(gw: &TestGateway) -> Desk {
    let account = gw.add_account(generous_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let approver = gw.person(&[Role::RiskManager], &[&account]).await;
    Desk {
        account,
        proposer,
        approver,
    }
}

fn changes_path(account: &AccountId) -> String {
    format!("/v1/accounts/{account}/risk-limits/changes")
}

async fn propose(gw: &TestGateway, who: &Person, account: &AccountId, body: &Value) -> Value {
    let token = who.token.clone();
    let answer = gw
        .api()
        .post_json(&changes_path(account), Some(&token), body)
        .await;
    answer.assert_json(202)["approval"].clone()
}

async fn decide(gw: &TestGateway, who: &Person, approval: &Value, verb: &str) -> u16 {
    let token = who.token.clone();
    let id = approval["id"].as_str().unwrap();
    let path = format!("/v1/approvals/{id}/{verb}");
    gw.api()
        .post_json(&path, Some(&token), &json!({}))
        .await
        .status
}

async fn in_force(gw: &TestGateway, who: &Person, account: &AccountId) -> Value {
    let token = who.token.clone();
    let path = format!("/v1/accounts/{account}/risk-limits");
    gw.api()
        .get(&path, Some(&token))
        .await
        .assert_json(200)
        .clone()
}

fn loosen_collar() -> Value {
    json!({ "changes": { "price_collar_pct": "60" }, "reason": "wider collar for the open" })
}

fn tighten_quantity() -> Value {
    json!({ "changes": { "max_order_quantity": "2" }, "reason": "smaller orders" })
}

#[tokio::test]
async fn a_loosening_waits_for_a_second_risk_manager_and_then_becomes_version_two() {
    let gw = TestGateway::shared().await;
    let desk = desk(gw).await;
    let approval = propose(gw, &desk.proposer, &desk.account, &loosen_collar()).await;
    assert_eq!(approval["kind"], "risk_limits.change");
    assert_eq!(approval["target"], format!("account:{}", desk.account));
    assert_eq!(approval["payload"]["base_version"], 1);
    assert_eq!(approval["payload"]["old"]["price_collar_pct"], "50");
    assert_eq!(approval["payload"]["new"]["price_collar_pct"], "60");
    assert_eq!(
        in_force(gw, &desk.approver, &desk.account).await["version"],
        1
    );

    assert_eq!(decide(gw, &desk.approver, &approval, "approve").await, 200);
    let now = in_force(gw, &desk.approver, &desk.account).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["limits"]["price_collar_pct"], "60");

    let token = desk.approver.token.clone();
    let path = format!("/v1/accounts/{}/risk-limits/history", desk.account);
    let history = gw.api().get(&path, Some(&token)).await;
    let versions = history.assert_json(200)["versions"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["proposed_by"], "system");
    assert_eq!(versions[1]["proposed_by"], desk.proposer.id());
    assert_eq!(versions[1]["approved_by"], desk.approver.id());
    assert_eq!(versions[1]["approval_id"], approval["id"]);
    assert_eq!(versions[1]["reason"], "wider collar for the open");
}

#[tokio::test]
async fn every_step_of_a_change_is_audited_with_old_and_new_values() {
    let gw = TestGateway::shared().await;
    let desk = desk(gw).await;
    let approval = propose(gw, &desk.proposer, &desk.account, &loosen_collar()).await;
    assert_eq!(decide(gw, &desk.approver, &approval, "approve").await, 200);
    let target = format!("account:{}", desk.account);
    let events = gw.audit_events().await;
    for action in [
        "risk_limits.proposed",
        "risk_limits.approved",
        "risk_limits.applied",
    ] {
        let event = events
            .iter()
            .find(|e| e.action == action && e.target == target)
            .unwrap_or_else(|| panic!("no `{action}` event"));
        assert_eq!(event.details["old"]["price_collar_pct"], "50", "{action}");
        assert_eq!(event.details["new"]["price_collar_pct"], "60", "{action}");
    }
    let rejected = propose(gw, &desk.proposer, &desk.account, &tighten_quantity()).await;
    assert_eq!(decide(gw, &desk.approver, &rejected, "reject").await, 200);
    let events = gw.audit_events().await;
    let event = events
        .iter()
        .find(|e| e.action == "risk_limits.rejected" && e.target == target)
        .expect("a `risk_limits.rejected` event");
    assert_eq!(event.details["new"]["max_order_quantity"], "2");
    assert_eq!(
        in_force(gw, &desk.approver, &desk.account).await["version"],
        2
    );
}

#[tokio::test]
async fn the_proposer_cannot_approve_their_own_change() {
    let gw = TestGateway::shared().await;
    let desk = desk(gw).await;
    let approval = propose(gw, &desk.proposer, &desk.account, &loosen_collar()).await;
    let token = desk.proposer.token.clone();
    let path = format!("/v1/approvals/{}/approve", approval["id"].as_str().unwrap());
    let answer = gw.api().post_json(&path, Some(&token), &json!({})).await;
    answer.assert_problem(403, "approval.self_approval");
    assert_eq!(
        in_force(gw, &desk.approver, &desk.account).await["version"],
        1
    );
}

#[tokio::test]
async fn a_client_owned_by_the_proposer_cannot_approve_the_change() {
    let gw = TestGateway::shared().await;
    let desk = desk(gw).await;
    let person = gw
        .add_user(
            &[Role::RiskManager],
            &[&desk.account],
            rampart_testkit::people::Setup::READY,
        )
        .await;
    let (person_token, _) = gw.login(&person).await;
    let answer = gw
        .api()
        .post_json(
            &changes_path(&desk.account),
            Some(&person_token),
            &loosen_collar(),
        )
        .await;
    let approval = answer.assert_json(202)["approval"].clone();

    let bot = gw
        .add_owned_client(&[Role::RiskManager], &[&desk.account], &person.id)
        .await;
    let token = gw.token(&bot).await;
    let path = format!("/v1/approvals/{}/approve", approval["id"].as_str().unwrap());
    let answer = gw.api().post_json(&path, Some(&token), &json!({})).await;
    // An API client decides nothing; the store would refuse the proposer's side too.
    answer.assert_problem(403, "policy.denied");
}

#[tokio::test]
async fn a_trader_cannot_propose_or_approve_a_change() {
    let gw = TestGateway::shared().await;
    let desk = desk(gw).await;
    let trader = gw.add_client(&[Role::Trader], &[&desk.account]).await;
    let token = gw.token(&trader).await;
    let answer = gw
        .api()
        .post_json(&changes_path(&desk.account), Some(&token), &loosen_collar())
        .await;
    answer.assert_problem(403, "policy.denied");

    let approval = propose(gw, &desk.proposer, &desk.account, &loosen_collar()).await;
    let path = format!("/v1/approvals/{}/approve", approval["id"].as_str().unwrap());
    let answer = gw.api().post_json(&path, Some(&token), &json!({})).await;
    answer.assert_problem(403, "policy.denied");
}

#[tokio::test]
async fn a_risk_manager_of_other_accounts_cannot_approve() {
    let gw = TestGateway::shared().await;
    let desk = desk(gw).await;
    let elsewhere = gw.add_account(generous_limits()).await;
    let outsider = gw.person(&[Role::RiskManager], &[&elsewhere]).await;
    let approval = propose(gw, &desk.proposer, &desk.account, &loosen_collar()).await;
    assert_eq!(decide(gw, &outsider, &approval, "approve").await, 403);
}

#[tokio::test]
async fn an_expired_proposal_cannot_be_approved_and_its_expiry_is_audited() {
    let gw = TestGateway::start().await;
    let desk = desk(&gw).await;
    let approver = gw
        .add_user(
            &[Role::RiskManager],
            &[&desk.account],
            rampart_testkit::people::Setup::READY,
        )
        .await;
    let approval = propose(&gw, &desk.proposer, &desk.account, &loosen_collar()).await;
    gw.clock().advance(Duration::hours(25));
    // A person's sign-in follows the gateway's clock; so does the proposal's expiry.
    let (token, _) = gw.login(&approver).await;
    let path = format!("/v1/approvals/{}/approve", approval["id"].as_str().unwrap());
    let answer = gw.api().post_json(&path, Some(&token), &json!({})).await;
    answer.assert_problem(409, "approval.closed");
    let path = format!("/v1/accounts/{}/risk-limits", desk.account);
    let limits = gw.api().get(&path, Some(&token)).await;
    assert_eq!(limits.assert_json(200)["version"], 1);

    let expired = gw
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.action == "approval.expired")
        .count();
    assert_eq!(expired, 1);
    let listed = gw
        .api()
        .get("/v1/approvals?status=expired", Some(&token))
        .await;
    assert_eq!(
        listed.assert_json(200)["approvals"][0]["id"],
        approval["id"]
    );
}

#[tokio::test]
async fn concurrent_approvals_of_one_proposal_apply_it_once() {
    let gw = TestGateway::shared().await;
    let desk = desk(gw).await;
    let approval = propose(gw, &desk.proposer, &desk.account, &loosen_collar()).await;
    let mut deciders = Vec::new();
    for _ in 0..4 {
        deciders.push(gw.person(&[Role::RiskManager], &[&desk.account]).await);
    }
    let mut tokens = Vec::new();
    for decider in &deciders {
        tokens.push(decider.token.clone());
    }
    let path = format!("/v1/approvals/{}/approve", approval["id"].as_str().unwrap());
    let answers = futures::future::join_all(tokens.iter().map(|token| {
        let api = gw.api();
        let path = path.clone();
        let token = token.clone();
        async move { api.post_json(&path, Some(&token), &json!({})).await }
    }))
    .await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        in_force(gw, &desk.approver, &desk.account).await["version"],
        2
    );
    let applied = gw
        .audit_events()
        .await
        .into_iter()
        .filter(|e| {
            e.action == "risk_limits.applied" && e.target == format!("account:{}", desk.account)
        })
        .count();
    assert_eq!(applied, 1);
}

#[tokio::test]
async fn a_proposal_on_a_stale_version_is_refused_at_approval() {
    let gw = TestGateway::shared().await;
    let desk = desk(gw).await;
    let first = propose(gw, &desk.proposer, &desk.account, &loosen_collar()).await;
    let second = propose(gw, &desk.proposer, &desk.account, &tighten_quantity()).await;
    assert_eq!(decide(gw, &desk.approver, &first, "approve").await, 200);
    let token = desk.approver.token.clone();
    let path = format!("/v1/approvals/{}/approve", second["id"].as_str().unwrap());
    let answer = gw.api().post_json(&path, Some(&token), &json!({})).await;
    answer.assert_problem(409, "risk_limits.stale");
    let limits = in_force(gw, &desk.approver, &desk.account).await;
    assert_eq!(limits["version"], 2);
    assert_eq!(limits["limits"]["max_order_quantity"], "1000000000");
}

#[tokio::test]
async fn a_proposal_above_a_firm_wide_cap_is_refused_naming_the_field_and_cap() {
    let gw = TestGateway::start_with(|config| {
        config.risk.caps.max_order_notional = Some(rust_decimal::Decimal::new(5_000_000, 0));
    })
    .await;
    let account = gw.add_account(capped_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let token = proposer.token.clone();
    let body = json!({ "changes": { "max_order_notional": "5000001" }, "reason": "more" });
    let answer = gw
        .api()
        .post_json(&changes_path(&account), Some(&token), &body)
        .await;
    answer.assert_problem(422, "risk_limits.above_cap");
    let detail = answer.member("detail").unwrap();
    assert!(
        detail.contains("`max_order_notional`") && detail.contains("5000000"),
        "{detail}"
    );

    let within = json!({ "changes": { "max_order_notional": "5000000" }, "reason": "up to cap" });
    let answer = gw
        .api()
        .post_json(&changes_path(&account), Some(&token), &within)
        .await;
    assert_eq!(answer.status, 202, "{}", answer.text);
}

fn capped_limits() -> rampart_core::RiskLimits {
    let mut limits = generous_limits();
    limits.max_order_notional = rust_decimal::Decimal::new(1_000_000, 0);
    limits
}

#[tokio::test]
async fn bad_limits_are_refused_with_problem_documents_naming_the_field() {
    let gw = TestGateway::shared().await;
    let desk = desk(gw).await;
    let token = desk.proposer.token.clone();
    let cases = [
        (
            json!({ "changes": { "max_order_quantity": "-1" }, "reason": "r" }),
            "max_order_quantity",
        ),
        (
            json!({ "changes": { "max_order_quantity": "0" }, "reason": "r" }),
            "max_order_quantity",
        ),
        (
            json!({ "changes": { "price_collar_pct": "100.5" }, "reason": "r" }),
            "price_collar_pct",
        ),
        (
            json!({ "changes": { "max_orders_per_second": 0 }, "reason": "r" }),
            "max_orders_per_second",
        ),
        (
            json!({ "changes": { "allowed_instruments": ["XAU-USD"] }, "reason": "r" }),
            "allowed_instruments",
        ),
        (
            json!({ "changes": { "max_order_size": "1" }, "reason": "r" }),
            "changes",
        ),
        (
            json!({ "changes": { "max_order_quantity": 5 }, "reason": "r" }),
            "changes",
        ),
        (
            json!({ "changes": { "max_order_quantity": "1" } }),
            "reason",
        ),
        (
            json!({ "changes": { "max_order_quantity": "1" }, "reason": "" }),
            "reason",
        ),
        (
            json!({ "changes": { "max_order_quantity": "1" }, "reason": "a\u{7}b" }),
            "reason",
        ),
        (json!({ "changes": {}, "reason": "nothing" }), "changes"),
        (json!({ "reason": "neither" }), "limits"),
    ];
    for (body, field) in cases {
        let answer = gw
            .api()
            .post_json(&changes_path(&desk.account), Some(&token), &body)
            .await;
        assert!(
            matches!(answer.status, 400 | 422),
            "{body}: {}",
            answer.text
        );
        answer.assert_problem_shape();
        let named = answer.member("field").unwrap_or_default().to_owned()
            + answer.member("detail").unwrap();
        assert!(named.contains(field), "{body}: {}", answer.text);
    }
    assert_eq!(
        in_force(gw, &desk.approver, &desk.account).await["version"],
        1
    );
}

#[tokio::test]
async fn with_tighten_at_once_a_tightening_applies_at_once_and_is_flagged_for_review() {
    let gw = TestGateway::start_with(|config| config.risk.tighten_at_once = true).await;
    let desk = desk(&gw).await;
    let token = desk.proposer.token.clone();
    let answer = gw
        .api()
        .post_json(
            &changes_path(&desk.account),
            Some(&token),
            &tighten_quantity(),
        )
        .await;
    let applied = answer.assert_json(201)["applied"].clone();
    assert_eq!(applied["version"], 2);
    assert_eq!(applied["approved_by"], Value::Null);
    assert_eq!(applied["reviewable_after_the_fact"], true);
    assert_eq!(
        in_force(&gw, &desk.approver, &desk.account).await["limits"]["max_order_quantity"],
        "2"
    );

    let loosening = gw
        .api()
        .post_json(&changes_path(&desk.account), Some(&token), &loosen_collar())
        .await;
    assert_eq!(loosening.status, 202, "{}", loosening.text);
    assert_eq!(
        in_force(&gw, &desk.approver, &desk.account).await["version"],
        2
    );
}

#[tokio::test]
async fn without_tighten_at_once_a_tightening_also_waits_for_a_second_person() {
    let gw = TestGateway::shared().await;
    let desk = desk(gw).await;
    let approval = propose(gw, &desk.proposer, &desk.account, &tighten_quantity()).await;
    assert_eq!(approval["payload"]["loosened"], json!([]));
    assert_eq!(
        in_force(gw, &desk.approver, &desk.account).await["version"],
        1
    );
}

#[tokio::test]
async fn orders_racing_an_approval_are_each_checked_against_exactly_one_version_they_name() {
    let gw = TestGateway::shared().await;
    let desk = desk(gw).await;
    let body = json!({ "changes": { "max_order_quantity": "1" }, "reason": "cut size" });
    let approval = propose(gw, &desk.proposer, &desk.account, &body).await;
    let trader = gw.add_client(&[Role::Trader], &[&desk.account]).await;
    let trader_token = gw.token(&trader).await;
    let approver_token = desk.approver.token.clone();
    let price = rampart_testkit::order::shifted(
        gw.reference_price(rampart_testkit::market::BTC),
        -20,
        rust_decimal::Decimal::new(1, 3),
    );
    let order = rampart_testkit::order::limit(
        &desk.account,
        rampart_testkit::market::BTC,
        "buy",
        "2",
        price,
    );
    let approve = format!("/v1/approvals/{}/approve", approval["id"].as_str().unwrap());
    let api = gw.api();
    let orders = futures::future::join_all((0..8).map(|_| api.place(&trader_token, &order)));
    let empty = json!({});
    let deciding = api.post_json(&approve, Some(&approver_token), &empty);
    let (answers, decided) = tokio::join!(orders, deciding);
    assert_eq!(decided.status, 200, "{}", decided.text);

    for answer in &answers {
        let stored = gw
            .stored_order(answer.order_id().parse().unwrap())
            .await
            .expect("the order is recorded");
        match (answer.status, stored.limits_version) {
            (201, Some(1)) => {}
            (422, Some(2)) => assert_eq!(answer.code(), "risk.max_order_quantity"),
            other => panic!("an order of 2 answered {other:?}: {}", answer.text),
        }
    }
    let after = api.place(&trader_token, &order).await;
    after.assert_problem(422, "risk.max_order_quantity");
    let stored = gw
        .stored_order(after.order_id().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(stored.limits_version, Some(2));
}
