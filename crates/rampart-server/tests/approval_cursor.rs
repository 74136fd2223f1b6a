//! Over real HTTPS: the cursor of `GET /v1/approvals` is a pure position.
//!
//! It is never looked up, so an answer reads the same whether the cursor is
//! the id of an approval the caller cannot read or an id that names nothing:
//! the listing tells nobody whether an approval exists. A cursor that is no
//! UUIDv7 is refused with a problem naming `cursor`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_core::{AccountId, Role};
use rampart_testkit::{Person, TestGateway, generous_limits};
use serde_json::{Value, json};

async fn propose(gw: &TestGateway, who: &Person, account: &AccountId) -> String {
    let body = json!({ "changes": { "price_collar_pct": "45" }, "reason": "wider" });
    let path = format!("/v1/accounts/{account}/risk-limits/changes");
    let answer = gw.api().post_json(&path, Some(&who.token), &body).await;
    answer.assert_json(202)["approval"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn page(gw: &TestGateway, who: &Person, account: &AccountId, cursor: &str) -> Value {
    let path = format!("/v1/approvals?account_id={account}&cursor={cursor}");
    let answer = gw.api().get(&path, Some(&who.token)).await;
    answer.assert_json(200).clone()
}

#[tokio::test]
async fn a_hidden_approvals_id_and_an_id_naming_nothing_read_alike_as_cursors() {
    let gw = TestGateway::shared().await;
    let (hidden_account, own_account) = (
        gw.add_account(generous_limits()).await,
        gw.add_account(generous_limits()).await,
    );
    let stranger = gw.person(&[Role::RiskManager], &[&hidden_account]).await;
    let reader = gw.person(&[Role::RiskManager], &[&own_account]).await;
    let colleague = gw.person(&[Role::RiskManager], &[&own_account]).await;
    let hidden = propose(gw, &stranger, &hidden_account).await;
    let nothing = uuid::Uuid::now_v7().to_string();
    let visible = propose(gw, &colleague, &own_account).await;

    let after_hidden = page(gw, &reader, &own_account, &hidden).await;
    let after_nothing = page(gw, &reader, &own_account, &nothing).await;
    assert_eq!(after_hidden, after_nothing);
    assert_eq!(after_hidden["approvals"][0]["id"], visible.as_str());
    assert_eq!(after_hidden["approvals"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_cursor_past_every_approval_reads_an_empty_last_page() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let reader = gw.person(&[Role::RiskManager], &[&account]).await;
    propose(gw, &proposer, &account).await;
    let past = uuid::Uuid::now_v7().to_string();

    let answer = page(gw, &reader, &account, &past).await;
    assert_eq!(answer["approvals"], json!([]));
    assert_eq!(answer["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_cursor_that_is_no_uuid_v7_is_refused_naming_the_cursor() {
    let gw = TestGateway::shared().await;
    let reader = gw.person(&[Role::RiskManager], &[]).await;
    for cursor in ["not-a-cursor", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", ""] {
        let path = format!("/v1/approvals?cursor={cursor}");
        let answer = gw.api().get(&path, Some(&reader.token)).await;
        answer.assert_problem(400, "request.invalid");
        let detail = answer.member("detail").unwrap();
        assert!(detail.contains("`cursor`"), "{cursor}: {detail}");
    }
}
