//! Over real HTTPS: a decision refused while its approval is being applied is
//! answered 403 and leaves exactly one `approval.refused` event, naming the
//! approval, the decider and the reason, although the decision itself is
//! rolled back: a kill-switch release approved by the side of whoever engaged
//! it or of the identity it stops, and a `user.reset` decided by the person reset.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_audit::{AuditEvent, Outcome};
use rampart_core::Role;
use rampart_store::ApprovalStatus;
use rampart_testkit::{Answer, Person, TestGateway, generous_limits};
use serde_json::{Value, json};

async fn post(gw: &TestGateway, path: &str, token: &str, body: &Value) -> Answer {
    gw.api().post_json(path, Some(token), body).await
}

/// Engages the kill switch for `scope` as `token`; returns the engagement id.
async fn engage(gw: &TestGateway, token: &str, scope: Value) -> String {
    let answer = post(gw, "/v1/kill-switch", token, &scope).await;
    answer.assert_json(201)["engagement"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Proposes the release of `engagement` as `token`; returns the approval id.
async fn propose_release(gw: &TestGateway, token: &str, engagement: &str) -> String {
    let body = json!({"engagement_id": engagement, "reason": "drill over"});
    let answer = post(gw, "/v1/kill-switch/release", token, &body).await;
    answer.assert_json(202)["approval"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Proposes the second-factor reset of `target` as `token`; returns the approval id.
async fn propose_reset(gw: &TestGateway, token: &str, target: &Person) -> String {
    let path = format!("/v1/users/{}/reset-mfa", target.id());
    let answer = post(gw, &path, token, &json!({})).await;
    answer.assert_json(202)["approval"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn decide(gw: &TestGateway, who: &Person, approval: &str, verb: &str) -> Answer {
    let path = format!("/v1/approvals/{approval}/{verb}");
    post(gw, &path, &who.token, &json!({})).await
}

/// The `approval.refused` events of `approval`.
async fn refusals(gw: &TestGateway, approval: &str) -> Vec<AuditEvent> {
    let target = format!("approval:{approval}");
    let events = gw.audit_events().await;
    events
        .into_iter()
        .filter(|e| e.action == "approval.refused" && e.target == target)
        .collect()
}

/// Asserts that `approval` has exactly one refusal, by `decider`, for `reason`.
async fn assert_refused_once(gw: &TestGateway, approval: &str, decider: &Person, reason: &str) {
    let found = refusals(gw, approval).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let event = &found[0];
    assert_eq!(event.actor, decider.id());
    assert_eq!(event.outcome, Outcome::Denied);
    assert_eq!(event.details["reason"], reason);
    assert_eq!(event.details["approval_id"], approval);
    assert_eq!(event.details["decided_by"], decider.id());
}

/// Where `approval` stands in the store.
async fn status_of(gw: &TestGateway, approval: &str) -> ApprovalStatus {
    let id = uuid::Uuid::try_parse(approval).unwrap();
    let now = gw.clock().now();
    let found = gw
        .in_store(move |store| async move { store.approval(id, now).await })
        .await
        .unwrap();
    found.expect("the approval exists").status
}

#[tokio::test]
async fn the_engagers_approval_of_a_release_is_refused_and_recorded_as_engager_side() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let engager = gw.person(&[Role::RiskManager], &[&account]).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let scope = json!({"scope": "account", "account_id": account, "reason": "drill"});
    let engagement = engage(gw, &engager.token, scope).await;
    let approval = propose_release(gw, &proposer.token, &engagement).await;

    decide(gw, &engager, &approval, "approve")
        .await
        .assert_problem(403, "approval.self_approval");
    assert_refused_once(gw, &approval, &engager, "engager_side").await;
    assert_eq!(status_of(gw, &approval).await, ApprovalStatus::Pending);
}

#[tokio::test]
async fn the_stopped_persons_approval_of_a_release_is_refused_and_recorded_as_stopped_side() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let officer = gw.person(&[Role::ComplianceOfficer], &[]).await;
    let stopped = gw.person(&[Role::RiskManager], &[&account]).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let scope = json!({"scope": "trader", "trader_id": stopped.id(), "reason": "desk review"});
    let engagement = engage(gw, &officer.token, scope).await;
    let approval = propose_release(gw, &proposer.token, &engagement).await;

    decide(gw, &stopped, &approval, "approve")
        .await
        .assert_problem(403, "approval.self_approval");
    assert_refused_once(gw, &approval, &stopped, "stopped_side").await;
    assert_eq!(status_of(gw, &approval).await, ApprovalStatus::Pending);
}

#[tokio::test]
async fn the_person_reset_approving_their_reset_is_refused_and_recorded_as_target_side() {
    let gw = TestGateway::shared().await;
    let proposer = gw.person(&[Role::Admin], &[]).await;
    let target = gw.person(&[Role::Admin], &[]).await;
    let approval = propose_reset(gw, &proposer.token, &target).await;

    decide(gw, &target, &approval, "approve")
        .await
        .assert_problem(403, "approval.self_approval");
    assert_refused_once(gw, &approval, &target, "target_side").await;
    assert_eq!(status_of(gw, &approval).await, ApprovalStatus::Pending);
}

#[tokio::test]
async fn the_person_reset_rejecting_their_reset_is_refused_and_recorded_as_target_side() {
    let gw = TestGateway::shared().await;
    let proposer = gw.person(&[Role::Admin], &[]).await;
    let target = gw.person(&[Role::Admin], &[]).await;
    let approval = propose_reset(gw, &proposer.token, &target).await;

    decide(gw, &target, &approval, "reject")
        .await
        .assert_problem(403, "approval.self_approval");
    assert_refused_once(gw, &approval, &target, "target_side").await;
    assert_eq!(status_of(gw, &approval).await, ApprovalStatus::Pending);
}

#[tokio::test]
async fn the_proposers_own_decision_is_still_recorded_once_as_self_approval() {
    let gw = TestGateway::shared().await;
    let proposer = gw.person(&[Role::Admin], &[]).await;
    let target = gw.person(&[Role::Admin], &[]).await;
    let approval = propose_reset(gw, &proposer.token, &target).await;

    decide(gw, &proposer, &approval, "approve")
        .await
        .assert_problem(403, "approval.self_approval");
    assert_refused_once(gw, &approval, &proposer, "self_approval").await;
}

/// Proposes a wider price collar on `account` as `who`; returns the approval id.
async fn propose_wider_collar(gw: &TestGateway, who: &Person, account: &str) -> String {
    let body = json!({ "changes": { "price_collar_pct": "45" }, "reason": "wider" });
    let path = format!("/v1/accounts/{account}/risk-limits/changes");
    let answer = post(gw, &path, &who.token, &body).await;
    answer.assert_json(202)["approval"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Stores a copy of `approval` whose new limits allow an instrument the gateway does
/// not trade, as a change reads once the catalog lost it; returns the copy's id.
async fn inadmissible_copy(gw: &TestGateway, approval: &str) -> String {
    let id = uuid::Uuid::try_parse(approval).unwrap();
    let now = gw.clock().now();
    let copied = gw
        .in_store(move |store| async move {
            let original = store.approval(id, now).await?.expect("the approval exists");
            let mut payload = original.payload.clone();
            payload["new"]["allowed_instruments"] = json!(["ETH-USD"]);
            let copy = rampart_store::NewApproval {
                kind: original.kind,
                target: original.target,
                payload,
                proposed_by: original.proposed_by,
                expires_at: now + chrono::Duration::hours(1),
            };
            let mut tx = store.begin().await?;
            let stored = tx.propose(&copy, now).await?;
            tx.commit().await?;
            Ok(stored.id)
        })
        .await
        .unwrap();
    copied.to_string()
}

#[tokio::test]
async fn a_limit_change_inadmissible_when_approved_is_refused_and_recorded_with_its_code() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let decider = gw.person(&[Role::RiskManager], &[&account]).await;
    let original = propose_wider_collar(gw, &proposer, &account.to_string()).await;
    let approval = inadmissible_copy(gw, &original).await;

    decide(gw, &decider, &approval, "approve")
        .await
        .assert_problem(400, "request.invalid");
    assert_refused_once(gw, &approval, &decider, "request.invalid").await;
    assert_eq!(status_of(gw, &approval).await, ApprovalStatus::Pending);
}
