//! The OpenAPI document describes what the gateway really answers: each member
//! of a real answer is a property of its schema, and each required property is there.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::collections::BTreeSet;

use rampart_core::Role;
use rampart_testkit::{TestGateway, generous_limits};
use serde_json::{Value, json};

async fn document(gw: &TestGateway) -> Value {
    gw.api()
        .get("/openapi.json", None)
        .await
        .assert_json(200)
        .clone()
}

/// Asserts that `answer` has exactly the members schema `name` allows and requires.
fn assert_matches(doc: &Value, name: &str, answer: &Value) {
    let schema = &doc["components"]["schemas"][name];
    let properties = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema `{name}` has no properties: {schema}"));
    let documented: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
    let answered: BTreeSet<&str> = answer
        .as_object()
        .unwrap_or_else(|| panic!("`{name}` answer is not an object: {answer}"))
        .keys()
        .map(String::as_str)
        .collect();
    let undocumented: Vec<_> = answered.difference(&documented).collect();
    assert!(undocumented.is_empty(), "`{name}` lacks {undocumented:?}");
    let required = schema["required"].as_array().cloned().unwrap_or_default();
    for member in required.iter().map(|r| r.as_str().unwrap()) {
        assert!(
            answered.contains(member),
            "`{name}` answer lacks `{member}`: {answer}"
        );
    }
}

#[tokio::test]
async fn the_risk_limits_answers_match_their_schemas() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let token = gw.bearer(&[Role::RiskManager], &[&account]).await;
    let doc = document(gw).await;
    let path = format!("/v1/accounts/{account}/risk-limits");
    let in_force = gw
        .api()
        .get(&path, Some(&token))
        .await
        .assert_json(200)
        .clone();
    assert_matches(&doc, "AccountLimits", &in_force);
    assert_matches(&doc, "RiskLimits", &in_force["limits"]);
    assert!(in_force["version"].is_i64(), "{in_force}");

    let path = format!("/v1/accounts/{account}/risk-limits/history");
    let history = gw
        .api()
        .get(&path, Some(&token))
        .await
        .assert_json(200)
        .clone();
    assert_matches(&doc, "LimitsHistory", &history);
    assert_matches(&doc, "LimitsVersion", &history["versions"][0]);
}

#[tokio::test]
async fn the_approvals_page_matches_its_schema() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let token = gw.person(&[Role::RiskManager], &[&account]).await.token;
    let body = json!({ "changes": { "price_collar_pct": "55" }, "reason": "wider" });
    let path = format!("/v1/accounts/{account}/risk-limits/changes");
    gw.api()
        .post_json(&path, Some(&token), &body)
        .await
        .assert_json(202);

    let doc = document(gw).await;
    let path = format!("/v1/approvals?account_id={account}");
    let page = gw
        .api()
        .get(&path, Some(&token))
        .await
        .assert_json(200)
        .clone();
    assert_matches(&doc, "ApprovalPage", &page);
    assert_matches(&doc, "Approval", &page["approvals"][0]);
}
