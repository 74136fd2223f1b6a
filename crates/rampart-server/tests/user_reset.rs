//! Over real HTTPS: no single administrator can take over a privileged person.
//!
//! A reset of a risk manager's or an administrator's password or second
//! factor is a `user.reset` proposal that changes nothing until a second
//! administrator approves it; neither the proposer nor the person reset may
//! decide it. Once approved, the old password or factor fails, the person is
//! cut off, and the new set-up token is found in the pickup file only: never
//! in an answer, a log line or an audit event. Other people's resets stay one
//! step, their token going to the pickup file too.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use rampart_core::Role;
use rampart_testkit::people::{PASSWORD, Setup, TestUser};
use rampart_testkit::{Answer, TestGateway};
use serde_json::{Value, json};

const CHOSEN: &str = "a passphrase only the person knows"; // pragma: allowlist secret

/// Every log line written, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "trace,hyper=info,h2=info,rustls=info,sqlx=info",
        ))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    captured
}

async fn signed_in(gw: &TestGateway, roles: &[Role]) -> (TestUser, String) {
    let person = gw.add_user(roles, &[], Setup::READY).await;
    let (token, _) = gw.login(&person).await;
    (person, token)
}

async fn post(gw: &TestGateway, path: &str, token: &str) -> Answer {
    gw.api().post_json(path, Some(token), &json!({})).await
}

/// Proposes `reset` (`reset-password` or `reset-mfa`) of person `id` as `token`; the approval id.
async fn propose(gw: &TestGateway, reset: &str, id: &str, token: &str) -> String {
    let proposed = post(gw, &format!("/v1/users/{id}/{reset}"), token).await;
    proposed.assert_json(202)["approval"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn still_signed_in(gw: &TestGateway, token: &str) -> bool {
    gw.api().get("/v1/approvals", Some(token)).await.status == 200
}

fn old_password(person: &TestUser) -> Value {
    json!({ "username": person.username, "password": PASSWORD })
}

#[tokio::test]
async fn a_single_admins_reset_of_a_risk_manager_waits_and_changes_nothing() {
    let gw = TestGateway::start().await;
    let (first, first_token) = signed_in(&gw, &[Role::Admin]).await;
    let (manager, manager_token) = signed_in(&gw, &[Role::RiskManager]).await;

    let path = format!("/v1/users/{}/reset-password", manager.id);
    let proposed = post(&gw, &path, &first_token).await;
    let body = proposed.assert_json(202);
    assert_eq!(body["approval"]["kind"], "user.reset");
    assert_eq!(body["approval"]["payload"]["reset"], "password");
    assert_eq!(body["approval"]["proposed_by"], first.id.as_str());

    assert!(
        still_signed_in(&gw, &manager_token).await,
        "sessions untouched"
    );
    assert!(gw.pickup_files().is_empty(), "no set-up token issued");
    gw.login(&manager).await;
    let mfa = format!("/v1/users/{}/reset-mfa", manager.id);
    let proposed_mfa = post(&gw, &mfa, &first_token).await;
    assert_eq!(
        proposed_mfa.assert_json(202)["approval"]["payload"]["reset"],
        "mfa"
    );
    let users = gw.api().get("/v1/users", Some(&first_token)).await;
    let listed = users.assert_json(200)["users"].as_array().unwrap().clone();
    let row = listed
        .iter()
        .find(|u| u["id"] == manager.id.as_str())
        .unwrap();
    assert_eq!(
        row["mfa_enrolled"], true,
        "the second factor is still there"
    );
}

#[tokio::test]
async fn neither_the_proposer_nor_the_person_reset_can_approve_it() {
    let gw = TestGateway::start().await;
    let (_, first_token) = signed_in(&gw, &[Role::Admin]).await;
    let (target, target_token) = signed_in(&gw, &[Role::Admin]).await;
    let (manager, manager_token) = signed_in(&gw, &[Role::RiskManager]).await;

    let approval = propose(&gw, "reset-mfa", &target.id, &first_token).await;
    let approve = format!("/v1/approvals/{approval}/approve");

    post(&gw, &approve, &first_token)
        .await
        .assert_problem(403, "approval.self_approval");
    post(&gw, &approve, &target_token)
        .await
        .assert_problem(403, "approval.self_approval");
    post(&gw, &approve, &manager_token)
        .await
        .assert_problem(403, "policy.denied");
    assert!(still_signed_in(&gw, &target_token).await);
    let pending = "/v1/approvals?status=pending";
    let listed = gw.api().get(pending, Some(&first_token)).await;
    let pending = listed.assert_json(200)["approvals"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(pending, 1, "still waiting for a second administrator");
    assert!(still_signed_in(&gw, &manager_token).await);
    gw.login(&manager).await;
}

#[tokio::test]
async fn an_approved_reset_ends_the_old_password_and_delivers_the_token_to_pickup_only() {
    let logs = capture_logs();
    let gw = TestGateway::start().await;
    let (_, first_token) = signed_in(&gw, &[Role::Admin]).await;
    let (second, second_token) = signed_in(&gw, &[Role::Admin]).await;
    let (manager, manager_token) = signed_in(&gw, &[Role::RiskManager]).await;

    let path = format!("/v1/users/{}/reset-password", manager.id);
    let proposed = post(&gw, &path, &first_token).await;
    let approval = proposed.assert_json(202)["approval"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let approve = format!("/v1/approvals/{approval}/approve");
    let done = post(&gw, &approve, &second_token).await;
    let body = done.assert_json(200).clone();
    assert_eq!(body["approval"]["decided_by"], second.id.as_str());
    assert_eq!(body["setup"]["delivery"], "pickup");

    assert!(
        !still_signed_in(&gw, &manager_token).await,
        "cut off at once"
    );
    gw.login_with(&old_password(&manager))
        .await
        .assert_problem(401, "auth.login_failed");
    let token = gw.setup_token_for(&manager.username);
    assert!(
        !done.text.contains(&token),
        "the answer never holds the token"
    );
    assert!(!proposed.text.contains(&token));
    let audit = serde_json::to_string(&gw.audit_events().await).unwrap();
    assert!(!audit.contains(&token), "no audit event holds the token");
    let applied = gw.audit_events().await;
    let reset = applied
        .iter()
        .find(|e| e.action == "auth.password.reset")
        .unwrap();
    assert_eq!(reset.actor, second.id);
    assert_eq!(reset.details["approval_id"], approval.as_str());
    assert!(applied.iter().any(|e| e.action == "auth.setup.delivered"));

    let setup = json!({ "setup_token": token, "new_password": CHOSEN });
    let set = gw.api().post_json("/v1/auth/setup", None, &setup).await;
    set.assert_json(200);
    let chosen = TestUser {
        password: CHOSEN.to_owned(),
        ..manager
    };
    gw.login(&chosen).await;
    let captured = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(!captured.is_empty(), "the logs were captured");
    assert!(!captured.contains(&token), "no log line holds the token");
}

#[tokio::test]
async fn a_rejected_reset_changes_nothing() {
    let gw = TestGateway::start().await;
    let (_, first_token) = signed_in(&gw, &[Role::Admin]).await;
    let (_, second_token) = signed_in(&gw, &[Role::Admin]).await;
    let (officer, officer_token) = signed_in(&gw, &[Role::ComplianceOfficer]).await;

    let approval = propose(&gw, "reset-password", &officer.id, &first_token).await;
    let reject = format!("/v1/approvals/{approval}/reject");
    let done = post(&gw, &reject, &second_token).await;
    assert_eq!(done.assert_json(200)["approval"]["status"], "rejected");
    assert!(still_signed_in(&gw, &officer_token).await);
    gw.login(&officer).await;
    assert!(gw.pickup_files().is_empty());
    let events = gw.audit_events().await;
    assert!(events.iter().any(|e| e.action == "approval.rejected"));
    assert!(!events.iter().any(|e| e.action == "auth.password.reset"));
}

#[tokio::test]
async fn the_person_reset_cannot_reject_it() {
    let gw = TestGateway::start().await;
    let (_, first_token) = signed_in(&gw, &[Role::Admin]).await;
    let (target, target_token) = signed_in(&gw, &[Role::Admin]).await;

    let approval = propose(&gw, "reset-password", &target.id, &first_token).await;
    let reject = format!("/v1/approvals/{approval}/reject");
    post(&gw, &reject, &target_token)
        .await
        .assert_problem(403, "approval.self_approval");
    let pending = "/v1/approvals?status=pending";
    let listed = gw.api().get(pending, Some(&first_token)).await;
    let pending = listed.assert_json(200)["approvals"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        pending, 1,
        "the reset still waits for a second administrator"
    );
}

#[tokio::test]
async fn an_approved_mfa_reset_makes_the_person_enrol_again() {
    let gw = TestGateway::start().await;
    let (_, first_token) = signed_in(&gw, &[Role::Admin]).await;
    let (_, second_token) = signed_in(&gw, &[Role::Admin]).await;
    let (manager, manager_token) = signed_in(&gw, &[Role::RiskManager]).await;

    let approval = propose(&gw, "reset-mfa", &manager.id, &first_token).await;
    let done = post(
        &gw,
        &format!("/v1/approvals/{approval}/approve"),
        &second_token,
    )
    .await;
    assert_eq!(done.assert_json(200)["user"]["mfa_enrolled"], false);
    assert!(!still_signed_in(&gw, &manager_token).await);
    let signed = gw.login_with(&old_password(&manager)).await;
    assert_eq!(
        signed.assert_json(200)["restricted"],
        true,
        "enrolment first"
    );
}

#[tokio::test]
async fn a_traders_reset_takes_effect_in_one_step_with_its_token_in_pickup() {
    let gw = TestGateway::start().await;
    let (_, admin_token) = signed_in(&gw, &[Role::Admin]).await;
    let (trader, trader_token) = signed_in(&gw, &[Role::Trader]).await;

    let path = format!("/v1/users/{}/reset-password", trader.id);
    let answer = post(&gw, &path, &admin_token).await;
    let body = answer.assert_json(200);
    assert_eq!(body["setup"]["delivery"], "pickup");
    assert!(body["setup"]["expires_at"].is_string());
    assert!(body.get("setup_token").is_none(), "{body}");
    let token = gw.setup_token_for(&trader.username);
    assert!(!answer.text.contains(&token));
    assert_eq!(
        gw.api().get("/v1/orders", Some(&trader_token)).await.status,
        401
    );
    gw.login_with(&old_password(&trader))
        .await
        .assert_problem(401, "auth.login_failed");
    let setup = json!({ "setup_token": token, "new_password": CHOSEN });
    let set = gw.api().post_json("/v1/auth/setup", None, &setup).await;
    set.assert_json(200);
}

#[tokio::test]
async fn an_admin_cannot_change_a_persons_email_address() {
    let gw = TestGateway::start().await;
    let (_, admin_token) = signed_in(&gw, &[Role::Admin]).await;
    let (manager, _) = signed_in(&gw, &[Role::RiskManager]).await;
    let request = gw
        .api()
        .request(
            reqwest::Method::PATCH,
            &format!("/v1/users/{}", manager.id),
            Some(&admin_token),
        )
        .json(&json!({ "email": "someone-else@example.com" }));
    Answer::of(request)
        .await
        .assert_problem(400, "request.invalid");
}

#[tokio::test]
async fn a_pickup_file_is_private_to_the_gateway_user() {
    use std::os::unix::fs::PermissionsExt;
    let gw = TestGateway::start().await;
    let (_, admin_token) = signed_in(&gw, &[Role::Admin]).await;
    let body = json!({ "username": "judy", "roles": ["auditor"] });
    let created = gw
        .api()
        .post_json("/v1/users", Some(&admin_token), &body)
        .await;
    assert_eq!(created.assert_json(201)["setup"]["delivery"], "pickup");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&gw.pickup_dir()), 0o700);
    let files = gw.pickup_files();
    assert_eq!(files.len(), 1);
    let (path, document) = &files[0];
    assert_eq!(mode(path), 0o600);
    assert_eq!(document["username"], "judy");
    assert!(document["expires_at"].is_string());
    assert!(
        document["setup_url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
}

#[tokio::test]
async fn an_approved_reset_of_a_person_disabled_meanwhile_issues_no_setup_token() {
    let gw = TestGateway::start().await;
    let (_, first_token) = signed_in(&gw, &[Role::Admin]).await;
    let (_, second_token) = signed_in(&gw, &[Role::Admin]).await;
    let (manager, _) = signed_in(&gw, &[Role::RiskManager]).await;
    let approval = propose(&gw, "reset-password", &manager.id, &first_token).await;
    let disable = format!("/v1/users/{}/disable", manager.id);
    post(&gw, &disable, &second_token).await.assert_json(200);

    let approve = format!("/v1/approvals/{approval}/approve");
    let done = post(&gw, &approve, &second_token).await;
    let body = done.assert_json(200).clone();

    assert_eq!(body["setup"]["issued"], false, "{body}");
    assert_eq!(body["setup"]["reason"], "disabled");
    let files = gw.pickup_files();
    assert!(
        !files
            .iter()
            .any(|(_, doc)| doc["username"] == manager.username),
        "nothing is handed to a disabled person"
    );
    let events = gw.audit_events().await;
    let withheld = events
        .iter()
        .find(|e| e.action == "auth.setup.withheld")
        .expect("the withheld token is audited");
    assert_eq!(withheld.target, format!("user:{}", manager.id));
}
