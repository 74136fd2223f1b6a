//! Over real HTTPS: lapsed approvals are marked expired by the gateway's own
//! task, following its clock, while `GET /v1/approvals` only reads, a page at a time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use rampart_core::{AccountId, Role};
use rampart_testkit::identity::generous_limits;
use rampart_testkit::people::Setup;
use rampart_testkit::{Person, TestGateway};
use serde_json::{Value, json};

async fn propose(gw: &TestGateway, who: &Person, account: &AccountId, collar: &str) -> Value {
    let token = gw.sign_in_again(who).await;
    let body = json!({ "changes": { "price_collar_pct": collar }, "reason": "wider" });
    let path = format!("/v1/accounts/{account}/risk-limits/changes");
    let answer = gw.api().post_json(&path, Some(&token), &body).await;
    answer.assert_json(202)["approval"].clone()
}

async fn expiry_events(gw: &TestGateway) -> Vec<rampart_audit::AuditEvent> {
    let events = gw.audit_events().await;
    events
        .into_iter()
        .filter(|e| e.action == "approval.expired")
        .collect()
}

/// A gateway whose expiry task runs every second, with one account and its risk manager.
async fn gateway_with_proposer(every_seconds: u64) -> (TestGateway, AccountId, Person) {
    let gw = TestGateway::start_with(|config| {
        config.risk.approval_expiry_interval_seconds = every_seconds;
    })
    .await;
    let account = gw.add_account(generous_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    (gw, account, proposer)
}

#[tokio::test]
async fn the_expiry_task_records_a_lapsed_proposal_once_without_any_request() {
    let (gw, account, proposer) = gateway_with_proposer(1).await;
    let approval = propose(&gw, &proposer, &account, "55").await;
    gw.clock().advance(Duration::hours(25));

    let deadline = Instant::now() + StdDuration::from_secs(15);
    while expiry_events(&gw).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "no `approval.expired` event was recorded"
        );
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    let events = expiry_events(&gw).await;
    assert_eq!(events.len(), 1);
    let id = approval["id"].as_str().unwrap();
    assert_eq!(events[0].target, format!("approval:{id}"));
    assert_eq!(events[0].actor, "system");
    assert_eq!(events[0].details["payload"], approval["payload"]);
    gw.shutdown().await;
}

#[tokio::test]
async fn listing_approvals_writes_nothing_and_shows_a_lapsed_proposal_as_expired() {
    let (gw, account, proposer) = gateway_with_proposer(3_600).await;
    let approval = propose(&gw, &proposer, &account, "55").await;
    let reader = gw
        .add_user(&[Role::RiskManager], &[&account], Setup::READY)
        .await;
    gw.clock().advance(Duration::hours(25));
    // A person's sign-in follows the gateway's clock; a client's token would not.
    let (token, _) = gw.login(&reader).await;

    let before = gw.audit_events().await.len();
    let path = format!("/v1/approvals?status=expired&account_id={account}");
    let answer = gw.api().get(&path, Some(&token)).await;
    let listed = answer.assert_json(200);
    assert_eq!(listed["approvals"][0]["id"], approval["id"]);
    assert_eq!(listed["approvals"][0]["status"], "expired");
    assert_eq!(
        gw.audit_events().await.len(),
        before,
        "the listing wrote to the log"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn approvals_are_listed_a_page_at_a_time_with_a_cursor() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let mut proposed = Vec::new();
    for collar in ["51", "52", "53"] {
        proposed.push(propose(gw, &proposer, &account, collar).await["id"].clone());
    }
    let token = gw.sign_in_again(&proposer).await;

    let path = format!("/v1/approvals?account_id={account}&limit=2");
    let first = gw
        .api()
        .get(&path, Some(&token))
        .await
        .assert_json(200)
        .clone();
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a cursor after a full page");
    let path = format!("/v1/approvals?account_id={account}&limit=2&cursor={cursor}");
    let second = gw
        .api()
        .get(&path, Some(&token))
        .await
        .assert_json(200)
        .clone();
    assert_eq!(second["next_cursor"], Value::Null);

    let pages = [
        first["approvals"].as_array().unwrap(),
        second["approvals"].as_array().unwrap(),
    ];
    let seen: Vec<Value> = pages
        .iter()
        .flat_map(|p| p.iter())
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(seen, proposed);
}

#[tokio::test]
async fn the_default_page_holds_fifty_approvals() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    for n in 0..51 {
        propose(gw, &proposer, &account, &format!("{}.5", 10 + n)).await;
    }
    let token = gw.sign_in_again(&proposer).await;
    let path = format!("/v1/approvals?account_id={account}");
    let page = gw
        .api()
        .get(&path, Some(&token))
        .await
        .assert_json(200)
        .clone();
    assert_eq!(page["approvals"].as_array().unwrap().len(), 50);
    assert!(page["next_cursor"].is_string());
}

#[tokio::test]
async fn a_bad_limit_or_cursor_is_refused_with_a_problem_naming_it() {
    let gw = TestGateway::shared().await;
    let reader = gw.add_client(&[Role::RiskManager], &[]).await;
    let token = gw.token(&reader).await;
    // A well-formed UUID that is no UUIDv7 cannot be a position among approval ids.
    let not_v7 = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    for (query, field) in [
        ("limit=0".to_owned(), "limit"),
        ("limit=501".to_owned(), "limit"),
        ("limit=ten".to_owned(), "limit"),
        ("cursor=not-a-cursor".to_owned(), "cursor"),
        (format!("cursor={not_v7}"), "cursor"),
    ] {
        let answer = gw
            .api()
            .get(&format!("/v1/approvals?{query}"), Some(&token))
            .await;
        answer.assert_problem(400, "request.invalid");
        let detail = answer.member("detail").unwrap();
        assert!(detail.contains(&format!("`{field}`")), "{query}: {detail}");
    }
}
