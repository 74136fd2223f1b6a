//! Over real HTTPS: the cursor of `GET /v1/approvals` is opaque.
//!
//! A page may end on an approval the caller cannot read; the cursor is that
//! position sealed under a per-process key, so it carries no approval id,
//! cannot be made up from one, and is refused after a restart with a problem
//! naming `cursor` that says to start again.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

/// What a listing from `cursor` answers: its status, problem code and detail.
async fn page(gw: &TestGateway, who: &Person, account: &AccountId, cursor: &str) -> Value {
    let path = format!("/v1/approvals?account_id={account}&cursor={cursor}");
    let answer = gw.api().get(&path, Some(&who.token)).await;
    json!({
        "status": answer.status,
        "code": answer.member("code"),
        "detail": answer.member("detail"),
    })
}

/// Asserts that `cursor` names none of `hidden`, in any spelling, and decodes to no id.
fn assert_opaque(cursor: &str, hidden: &[String]) {
    assert!(uuid::Uuid::try_parse(cursor).is_err(), "{cursor}");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).unwrap_or_default();
    for id in hidden {
        let uuid = uuid::Uuid::try_parse(id).unwrap();
        assert!(!cursor.contains(id.as_str()), "{cursor} names {id}");
        assert!(
            !cursor.contains(&uuid.simple().to_string()),
            "{cursor} names {id}"
        );
        let raw = uuid.as_bytes();
        assert!(
            !bytes.windows(16).any(|w| w == raw),
            "{cursor} carries {id}"
        );
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(id.as_str()), "{cursor} carries {id}");
    }
}

async fn list(gw: &TestGateway, who: &Person, cursor: Option<&str>) -> Value {
    let path = match cursor {
        Some(cursor) => format!("/v1/approvals?limit=1&cursor={cursor}"),
        None => "/v1/approvals?limit=1".to_owned(),
    };
    let answer = gw.api().get(&path, Some(&who.token)).await;
    answer.assert_json(200).clone()
}

#[tokio::test]
async fn a_cursor_ending_on_hidden_approvals_names_none_and_paging_still_reaches_readable_ones() {
    let gw = TestGateway::start().await;
    let stranger_accounts = {
        let mut accounts = Vec::new();
        for _ in 0..10 {
            accounts.push(gw.add_account(generous_limits()).await);
        }
        accounts
    };
    let own = gw.add_account(generous_limits()).await;
    let stranger_refs: Vec<&AccountId> = stranger_accounts.iter().collect();
    let stranger = gw.person(&[Role::RiskManager], &stranger_refs).await;
    let reader = gw.person(&[Role::RiskManager], &[&own]).await;
    let colleague = gw.person(&[Role::RiskManager], &[&own]).await;
    let mut hidden = Vec::new();
    for account in &stranger_accounts {
        hidden.push(propose(&gw, &stranger, account).await);
    }
    let visible = propose(&gw, &colleague, &own).await;

    let (mut seen, mut cursors, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    for _ in 0..20 {
        let page = list(&gw, &reader, cursor.as_deref()).await;
        for approval in page["approvals"].as_array().unwrap() {
            seen.push(approval["id"].as_str().unwrap().to_owned());
        }
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        match &cursor {
            Some(next) => cursors.push(next.clone()),
            None => break,
        }
    }
    assert!(
        !cursors.is_empty(),
        "ten hidden approvals outrun one listing's scan"
    );
    for next in &cursors {
        assert_opaque(next, &hidden);
    }
    assert_eq!(seen, vec![visible]);
    assert_eq!(cursor, None);
}

#[tokio::test]
async fn an_approvals_id_is_refused_as_a_cursor_naming_the_cursor() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let reader = gw.person(&[Role::RiskManager], &[&account]).await;
    let id = propose(gw, &proposer, &account).await;
    let nothing = uuid::Uuid::now_v7().to_string();

    let named = page(gw, &reader, &account, &id).await;
    let made_up = page(gw, &reader, &account, &nothing).await;
    assert_eq!(named, made_up);
    assert_eq!(named["status"], 400);
    assert!(named["detail"].as_str().unwrap().contains("`cursor`"));
}

#[tokio::test]
async fn a_cursor_from_before_a_restart_is_refused_saying_to_start_again() {
    let gw = TestGateway::start().await;
    let (account, other) = (
        gw.add_account(generous_limits()).await,
        gw.add_account(generous_limits()).await,
    );
    let proposer = gw.person(&[Role::RiskManager], &[&account, &other]).await;
    propose(&gw, &proposer, &account).await;
    propose(&gw, &proposer, &other).await;
    let first = list(&gw, &proposer, None).await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let resumed = list(&gw, &proposer, Some(&cursor)).await;
    assert_eq!(resumed["approvals"].as_array().unwrap().len(), 1);

    let gw = gw.restart().await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let path = format!("/v1/approvals?limit=1&cursor={cursor}");
    let answer = gw.api().get(&path, Some(&proposer.token)).await;
    answer.assert_problem(400, "request.invalid");
    let detail = answer.member("detail").unwrap();
    assert!(
        detail.contains("`cursor`") && detail.contains("start again"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_cursor_that_is_no_cursor_of_this_gateway_is_refused_naming_the_cursor() {
    let gw = TestGateway::shared().await;
    let reader = gw.person(&[Role::RiskManager], &[]).await;
    let forged = URL_SAFE_NO_PAD.encode([7u8; 44]);
    for cursor in [
        "not-a-cursor",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "",
        &forged,
    ] {
        let path = format!("/v1/approvals?cursor={cursor}");
        let answer = gw.api().get(&path, Some(&reader.token)).await;
        answer.assert_problem(400, "request.invalid");
        let detail = answer.member("detail").unwrap();
        assert!(detail.contains("`cursor`"), "{cursor}: {detail}");
    }
}
