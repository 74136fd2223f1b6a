//! Over real HTTPS: `/v1/approvals` lists what the caller may read, filtered by status, kind
//! and account, and each kind is decided only by its own deciders, who are people: an API
//! client never proposes or decides, whatever its roles.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_core::{AccountId, Role};
use rampart_testkit::identity::generous_limits;
use rampart_testkit::{Person, TestGateway};
use serde_json::{Value, json};

async fn propose(gw: &TestGateway, who: &Person, account: &AccountId) -> Value {
    let token = &who.token;
    let body = json!({ "changes": { "price_collar_pct": "55" }, "reason": "wider" });
    let path = format!("/v1/accounts/{account}/risk-limits/changes");
    let answer = gw.api().post_json(&path, Some(token), &body).await;
    answer.assert_json(202)["approval"].clone()
}

async fn listed(gw: &TestGateway, who: &Person, query: &str) -> Vec<Value> {
    let answer = gw
        .api()
        .get(&format!("/v1/approvals{query}"), Some(&who.token))
        .await;
    answer.assert_json(200)["approvals"]
        .as_array()
        .unwrap()
        .clone()
}

fn ids(list: &[Value]) -> Vec<&str> {
    list.iter().map(|a| a["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_list_filters_by_account_kind_and_status() {
    let gw = TestGateway::shared().await;
    let (first, second) = (
        gw.add_account(generous_limits()).await,
        gw.add_account(generous_limits()).await,
    );
    let proposer = gw.person(&[Role::RiskManager], &[&first, &second]).await;
    let reader = gw.person(&[Role::RiskManager], &[&first, &second]).await;
    let on_first = propose(gw, &proposer, &first).await;
    let on_second = propose(gw, &proposer, &second).await;

    let by_account = listed(gw, &reader, &format!("?account_id={first}")).await;
    assert_eq!(ids(&by_account), [on_first["id"].as_str().unwrap()]);
    let by_target = listed(gw, &reader, &format!("?target=account:{second}")).await;
    assert_eq!(ids(&by_target), [on_second["id"].as_str().unwrap()]);
    let query = format!("?kind=risk_limits.change&status=pending&account_id={second}");
    assert_eq!(listed(gw, &reader, &query).await.len(), 1);
    let query = format!("?kind=role.grant&account_id={second}");
    assert!(listed(gw, &reader, &query).await.is_empty());
    let query = format!("?status=approved&account_id={second}");
    assert!(listed(gw, &reader, &query).await.is_empty());
}

#[tokio::test]
async fn a_risk_manager_of_other_accounts_does_not_see_the_change() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let elsewhere = gw.add_account(generous_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let outsider = gw.person(&[Role::RiskManager], &[&elsewhere]).await;
    propose(gw, &proposer, &account).await;
    let query = format!("?account_id={account}");
    assert!(listed(gw, &outsider, &query).await.is_empty());
}

#[tokio::test]
async fn an_administrator_neither_sees_nor_decides_a_risk_change() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let approval = propose(gw, &proposer, &account).await;
    let admin = gw.person(&[Role::Admin], &[]).await;
    assert!(
        listed(gw, &admin, &format!("?account_id={account}"))
            .await
            .is_empty()
    );
    let path = format!("/v1/approvals/{}/approve", approval["id"].as_str().unwrap());
    let answer = gw
        .api()
        .post_json(&path, Some(&admin.token), &json!({}))
        .await;
    answer.assert_problem(403, "policy.denied");
}

#[tokio::test]
async fn a_trader_cannot_list_approvals() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let trader = gw.add_client(&[Role::Trader], &[&account]).await;
    let token = gw.token(&trader).await;
    let answer = gw.api().get("/v1/approvals", Some(&token)).await;
    answer.assert_problem(403, "policy.denied");
}

#[tokio::test]
async fn bad_filters_and_bad_comments_are_refused_with_400() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let decider = gw.person(&[Role::RiskManager], &[&account]).await;
    let token = decider.token.clone();
    for query in ["?status=lost", "?account_id=not%20valid", "?colour=red"] {
        let answer = gw
            .api()
            .get(&format!("/v1/approvals{query}"), Some(&token))
            .await;
        assert_eq!(answer.status, 400, "{query}: {}", answer.text);
        answer.assert_problem_shape();
    }
    let approval = propose(gw, &proposer, &account).await;
    let path = format!("/v1/approvals/{}/reject", approval["id"].as_str().unwrap());
    let long = "x".repeat(501);
    let answer = gw
        .api()
        .post_json(&path, Some(&token), &json!({ "comment": long }))
        .await;
    answer.assert_problem(400, "request.invalid");
    let answer = gw
        .api()
        .post_json(&path, Some(&token), &json!({ "comment": "no" }))
        .await;
    assert_eq!(answer.assert_json(200)["approval"]["status"], "rejected");
}

#[tokio::test]
async fn an_unknown_approval_is_404() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let decider = gw.person(&[Role::RiskManager], &[&account]).await;
    let token = decider.token.clone();
    let path = "/v1/approvals/019a0000-0000-7000-8000-000000000001/approve";
    let answer = gw.api().post_json(path, Some(&token), &json!({})).await;
    answer.assert_problem(404, "not_found");
}

#[tokio::test]
async fn an_api_client_with_a_deciding_role_can_neither_approve_nor_reject() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let approval = propose(gw, &proposer, &account).await;
    let id = approval["id"].as_str().unwrap();
    let owner = gw.person(&[Role::Auditor], &[]).await;
    let owned = gw
        .add_owned_client(&[Role::RiskManager], &[&account], owner.id())
        .await;
    let unowned = gw.add_client(&[Role::RiskManager], &[&account]).await;
    for client in [&owned, &unowned] {
        let token = gw.token(client).await;
        for verb in ["approve", "reject"] {
            let path = format!("/v1/approvals/{id}/{verb}");
            let answer = gw.api().post_json(&path, Some(&token), &json!({})).await;
            answer.assert_problem(403, "policy.denied");
        }
    }
    let reader = gw.person(&[Role::RiskManager], &[&account]).await;
    let still = listed(
        gw,
        &reader,
        &format!("?account_id={account}&status=pending"),
    )
    .await;
    assert_eq!(ids(&still), [id]);
}

#[tokio::test]
async fn an_api_client_with_a_risk_role_cannot_propose_a_change() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let owner = gw.person(&[Role::Auditor], &[]).await;
    let client = gw
        .add_owned_client(&[Role::RiskManager], &[&account], owner.id())
        .await;
    let token = gw.token(&client).await;
    let body = json!({ "changes": { "price_collar_pct": "55" }, "reason": "wider" });
    let path = format!("/v1/accounts/{account}/risk-limits/changes");
    let answer = gw.api().post_json(&path, Some(&token), &body).await;
    answer.assert_problem(403, "policy.denied");
}
