//! Over real HTTPS: a privileged API client that no person owns (one registered
//! before owners were required) can take no part in a four-eyes approval, and
//! every start warns about such clients and audits their list once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::Duration;
use rampart_core::Role;
use rampart_store::{ApprovalRecord, NewApproval};
use rampart_testkit::TestGateway;
use serde_json::json;

/// A role grant for `user` proposed by `proposer`, stored as an older gateway would have.
async fn grant_proposed_by(gw: &TestGateway, proposer: &str, user: &str) -> ApprovalRecord {
    let now = gw.clock().now();
    let proposal = NewApproval {
        kind: "role.grant".to_owned(),
        target: format!("user:{user}"),
        payload: json!({ "roles": ["admin"], "accounts": [] }),
        proposed_by: proposer.to_owned(),
        expires_at: now + Duration::hours(24),
    };
    gw.in_store(move |store| async move {
        let mut tx = store.begin().await?;
        let record = tx.propose(&proposal, now).await?;
        tx.commit().await?;
        Ok(record)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_proposal_by_an_unowned_privileged_client_cannot_be_approved_and_the_refusal_is_audited()
{
    let gw = TestGateway::shared().await;
    let unowned = gw.add_client(&[Role::Admin], &[]).await;
    let grantee = gw.person(&[Role::Auditor], &[]).await;
    let pending = grant_proposed_by(gw, &unowned.id, grantee.id()).await;
    let admin = gw.person(&[Role::Admin], &[]).await;

    let path = format!("/v1/approvals/{}/approve", pending.id);
    let answer = gw
        .api()
        .post_json(&path, Some(&admin.token), &json!({}))
        .await;
    answer.assert_problem(403, "approval.unowned_privileged_client");
    let problem = &answer.json;
    assert!(
        problem["detail"].as_str().unwrap().contains(&unowned.id),
        "{problem}"
    );

    let target = format!("approval:{}", pending.id);
    let events = gw.audit_events().await;
    let refused = events
        .iter()
        .find(|e| e.action == "approval.refused" && e.target == target)
        .expect("the refusal is audited");
    assert_eq!(refused.actor, admin.id());
    assert_eq!(refused.details["reason"], "unowned_privileged_client");
    assert!(
        !events
            .iter()
            .any(|e| e.action == "user.role.granted" && e.target.contains(grantee.id())),
        "the grant must not be applied"
    );
}

#[tokio::test]
async fn a_proposal_by_a_person_stays_decidable_when_the_decider_owns_no_client() {
    let gw = TestGateway::shared().await;
    let proposer = gw.person(&[Role::Admin], &[]).await;
    let grantee = gw.person(&[Role::Auditor], &[]).await;
    let pending = grant_proposed_by(gw, proposer.id(), grantee.id()).await;
    let admin = gw.person(&[Role::Admin], &[]).await;

    let path = format!("/v1/approvals/{}/approve", pending.id);
    let answer = gw
        .api()
        .post_json(&path, Some(&admin.token), &json!({}))
        .await;
    let decided = answer.assert_json(200);
    assert_eq!(decided["approval"]["status"], "approved");
}

#[tokio::test]
async fn a_start_warns_about_unowned_privileged_clients_in_one_audit_event() {
    let gw = TestGateway::start().await;
    let owner = gw.person(&[Role::Auditor], &[]).await;
    let unowned = gw.add_client(&[Role::RiskManager], &[]).await;
    let owned = gw.add_owned_client(&[Role::Admin], &[], owner.id()).await;
    let trader = gw.add_client(&[Role::Trader], &[]).await;

    let gw = gw.restart().await;
    let events = gw.audit_events().await;
    let reports: Vec<_> = events
        .iter()
        .filter(|e| e.action == "client.unowned_privileged")
        .collect();
    let last = reports.last().expect("the start reports unowned clients");
    let listed: Vec<&str> = last.details["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(listed.contains(&unowned.id.as_str()), "{listed:?}");
    assert!(!listed.contains(&owned.id.as_str()), "{listed:?}");
    assert!(!listed.contains(&trader.id.as_str()), "{listed:?}");
    let started = events
        .iter()
        .rposition(|e| e.action == "gateway.started")
        .unwrap();
    let reported = events
        .iter()
        .rposition(|e| e.action == "client.unowned_privileged")
        .unwrap();
    assert!(reported < started, "reported during the start");
    gw.shutdown().await;
}
