//! Over real HTTPS: one administrator cannot create a privileged person and own their account.
//!
//! A person created with `admin`, `risk_manager` or `compliance_officer` gets
//! no set-up token while that grant waits; the approver sees the person's
//! e-mail address in the approval, approving issues and delivers exactly one
//! token, a changed address makes the approval refuse, and a rejected grant
//! delivers nothing. E-mail addresses are one bare ASCII address, and an
//! approved password reset ends every older set-up token even when delivery
//! fails. No approval row or audit event holds the person's address or name;
//! an active person's grant delivers nothing; a grant proposed again after a
//! rejection delivers one token; the decision's transaction itself refuses a
//! changed address; an earlier version's proposal is refused as outdated; and
//! a decided grant whose hand-over cannot be recorded still answers 200; a
//! grant whose proposer was disabled since can only be rejected.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::Duration;
use rampart_audit::Outcome;
use rampart_core::Role;
use rampart_server::init::DATABASE_FILE;
use rampart_server::service::users;
use rampart_testkit::people::{Setup, TestUser};
use rampart_testkit::{Answer, TestGateway};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

const CHOSEN: &str = "a passphrase only the person knows"; // pragma: allowlist secret

async fn admin(gw: &TestGateway) -> String {
    let admin = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    gw.login(&admin).await.0
}

async fn admin_person(gw: &TestGateway) -> TestUser {
    gw.add_user(&[Role::Admin], &[], Setup::READY).await
}

async fn create(gw: &TestGateway, token: &str, body: &Value) -> Value {
    let created = gw.api().post_json("/v1/users", Some(token), body).await;
    created.assert_json(201).clone()
}

async fn decide(gw: &TestGateway, token: &str, approval: &Value, verdict: &str) -> Answer {
    let id = approval["id"].as_str().unwrap();
    let path = format!("/v1/approvals/{id}/{verdict}");
    gw.api().post_json(&path, Some(token), &json!({})).await
}

async fn set_up(gw: &TestGateway, token: &str) -> Answer {
    let body = json!({ "setup_token": token, "new_password": CHOSEN });
    gw.api().post_json("/v1/auth/setup", None, &body).await
}

fn delivered_to(gw: &TestGateway, username: &str) -> usize {
    let files = gw.pickup_files();
    files
        .iter()
        .filter(|(_, doc)| doc["username"] == username)
        .count()
}

/// Runs `sql` on the database of a gateway that was shut down, as someone holding the file;
/// returns what it printed.
fn sqlite(gw: &TestGateway, sql: &str) -> String {
    let database = gw.data_dir().join(DATABASE_FILE);
    let output = std::process::Command::new("sqlite3")
        .arg(database)
        .arg(sql)
        .output()
        .expect("the `sqlite3` shell is installed (apt-get install sqlite3)");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn privileged(username: &str) -> Value {
    json!({
        "username": username,
        "roles": ["auditor", "risk_manager"],
        "display_name": "Pat Example",
        "email": format!("{username}@bank.example"),
    })
}

#[tokio::test]
async fn a_privileged_person_gets_no_setup_token_until_a_second_admin_approves() {
    let gw = TestGateway::start().await;
    let (first, second) = (admin(&gw).await, admin(&gw).await);
    let created = create(&gw, &first, &privileged("pat")).await;
    assert!(created["setup"].is_null(), "{created}");
    assert_eq!(created["user"]["roles"], json!(["auditor"]));
    assert_eq!(
        delivered_to(&gw, "pat"),
        0,
        "nothing is delivered while pending"
    );

    let approved = decide(&gw, &second, &created["approval"], "approve").await;
    let body = approved.assert_json(200);
    assert_eq!(body["setup"]["delivered"], true, "{body}");
    assert_eq!(body["setup"]["delivery"], "pickup");
    assert!(!approved.text.contains(&gw.setup_token_for("pat")));
    assert_eq!(
        delivered_to(&gw, "pat"),
        1,
        "exactly one token is delivered"
    );
    set_up(&gw, &gw.setup_token_for("pat"))
        .await
        .assert_json(200);
    let login = gw
        .login_with(&json!({ "username": "pat", "password": CHOSEN }))
        .await;
    assert_eq!(login.assert_json(200)["restricted"], true);
}

#[tokio::test]
async fn no_setup_token_can_be_asked_for_while_the_grant_is_pending() {
    let gw = TestGateway::start().await;
    let first = admin(&gw).await;
    let created = create(&gw, &first, &privileged("quinn")).await;
    let id = created["user"]["id"].as_str().unwrap();
    let path = format!("/v1/users/{id}/reset-password");
    let asked = gw.api().post_json(&path, Some(&first), &json!({})).await;
    asked.assert_problem(409, "user.grant_pending");
    assert_eq!(delivered_to(&gw, "quinn"), 0);
    let events = gw.audit_events().await;
    let refusal = events
        .iter()
        .find(|e| e.action == "auth.password.reset")
        .expect("the refusal is audited");
    assert_eq!(refusal.outcome, Outcome::Denied);
    assert_eq!(refusal.details["reason"], "grant_pending");
}

#[tokio::test]
async fn the_approval_shows_the_address_and_refuses_once_it_changed() {
    let gw = TestGateway::start().await;
    let (first, approver) = (admin(&gw).await, admin_person(&gw).await);
    let second = gw.login(&approver).await.0;
    let created = create(&gw, &first, &privileged("rosa")).await;
    let listed = gw
        .api()
        .get(
            "/v1/approvals?kind=role.grant&status=pending",
            Some(&second),
        )
        .await;
    let shown = &listed.assert_json(200)["approvals"][0]["person"];
    assert_eq!(shown["email"], "rosa@bank.example", "{shown}");
    assert_eq!(shown["username"], "rosa");
    assert_eq!(shown["display_name"], "Pat Example");
    assert_eq!(shown["email_as_proposed"], true);
    assert_eq!(shown["must_change_password"], true);
    assert_eq!(shown["mfa_enrolled"], false);
    assert_eq!(shown["setup_token_live"], false);
    let approval_id = created["approval"]["id"].as_str().unwrap();
    let one = gw
        .api()
        .get(&format!("/v1/approvals/{approval_id}"), Some(&second))
        .await;
    let one = one.assert_json(200);
    assert_eq!(one["approval"]["person"]["email"], "rosa@bank.example");
    let auditor = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let auditor = gw.login(&auditor).await.0;
    let path = format!("/v1/approvals/{approval_id}");
    let denied = gw.api().get(&path, Some(&auditor)).await;
    denied.assert_problem(403, "policy.denied");

    let id = created["user"]["id"].as_str().unwrap().to_owned();
    gw.shutdown().await;
    sqlite(
        &gw,
        &format!("UPDATE user_profiles SET email = 'eve@bank.example' WHERE user_id = '{id}'"),
    );
    let gw = gw.restart().await;
    let second = gw.login(&approver).await.0;
    let refused = decide(&gw, &second, &created["approval"], "approve").await;
    refused.assert_problem(409, "approval.target_changed");
    assert!(refused.member("detail").unwrap().contains("`email`"));
    assert_eq!(delivered_to(&gw, "rosa"), 0);
    let events = gw.audit_events().await;
    let refusal = events
        .iter()
        .find(|e| e.action == "approval.refused")
        .expect("the refusal is audited");
    assert_eq!(refusal.details["reason"], "target_changed");
    assert!(!events.iter().any(|e| e.action == "user.role.granted"));
    let user = gw
        .in_store(move |store| async move { store.user(&id).await })
        .await;
    assert!(!user.unwrap().unwrap().roles.contains(Role::RiskManager));
}

#[tokio::test]
async fn a_rejected_grant_delivers_nothing_and_the_existing_path_then_does() {
    let gw = TestGateway::start().await;
    let (first, second) = (admin(&gw).await, admin(&gw).await);
    let created = create(&gw, &first, &privileged("sam")).await;
    let rejected = decide(&gw, &second, &created["approval"], "reject").await;
    let body = rejected.assert_json(200);
    assert!(body["setup"].is_null(), "{body}");
    assert_eq!(delivered_to(&gw, "sam"), 0);

    let id = created["user"]["id"].as_str().unwrap();
    let path = format!("/v1/users/{id}/reset-password");
    let asked = gw.api().post_json(&path, Some(&first), &json!({})).await;
    assert_eq!(asked.assert_json(200)["setup"]["delivery"], "pickup");
    assert_eq!(delivered_to(&gw, "sam"), 1);
    set_up(&gw, &gw.setup_token_for("sam"))
        .await
        .assert_json(200);
}

#[tokio::test]
async fn an_expired_grant_leaves_only_the_direct_roles_and_delivers_nothing() {
    let gw = TestGateway::start().await;
    let (first, approver) = (admin(&gw).await, admin_person(&gw).await);
    let created = create(&gw, &first, &privileged("tess")).await;
    let ttl = gw.config().auth.approvals.ttl_seconds;
    gw.clock()
        .advance(Duration::seconds(i64::try_from(ttl).unwrap() + 1));
    let second = gw.login(&approver).await.0;
    let late = decide(&gw, &second, &created["approval"], "approve").await;
    late.assert_problem(409, "approval.closed");
    assert_eq!(delivered_to(&gw, "tess"), 0);
    let users = gw.api().get("/v1/users", Some(&second)).await;
    let listed = users.assert_json(200)["users"].as_array().unwrap().clone();
    let tess = listed.iter().find(|u| u["username"] == "tess").unwrap();
    assert_eq!(tess["roles"], json!(["auditor"]));
}

#[tokio::test]
async fn addresses_that_are_not_one_bare_mailbox_are_refused_naming_email() {
    let gw = TestGateway::start().await;
    let token = admin(&gw).await;
    for (n, email) in [
        "bob@x <eve@y>",
        "Bob <bob@bank.example>",
        "\"bob smith\"@bank.example",
        "bob@bank.example eve@bank.example",
        " bob@bank.example",
        "bob@bank.example\r\nBcc: eve@y",
        "bob\u{0}@bank.example",
        "not-an-address",
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({ "username": format!("bob-{n}"), "email": email });
        let refused = gw.api().post_json("/v1/users", Some(&token), &body).await;
        refused.assert_problem(400, "request.invalid");
        assert_eq!(refused.member("field"), Some("email"), "{email:?}");
    }
    let users = gw.api().get("/v1/users", Some(&token)).await;
    assert!(!users.text.contains("bob-"), "nobody was created");
    assert!(gw.pickup_files().is_empty());
}

#[tokio::test]
async fn an_approved_password_reset_ends_an_older_setup_token_even_when_delivery_fails() {
    let gw = TestGateway::start().await;
    let (first, second) = (admin(&gw).await, admin(&gw).await);
    let manager = gw.add_user(&[Role::RiskManager], &[], Setup::READY).await;
    let (older, hash) = rampart_auth::RefreshToken::generate().unwrap();
    let (id, now) = (manager.id.clone(), gw.clock().now());
    gw.in_store(move |store| async move {
        let mut tx = store.begin().await?;
        tx.insert_setup_token(hash.as_str(), &id, now, now + Duration::hours(24))
            .await?;
        tx.commit().await
    })
    .await
    .unwrap();
    // A regular file where the pickup directory should be: every delivery fails.
    std::fs::create_dir_all(gw.pickup_dir().parent().unwrap()).unwrap();
    std::fs::write(gw.pickup_dir(), b"not a directory").unwrap();

    let path = format!("/v1/users/{}/reset-password", manager.id);
    let proposed = gw.api().post_json(&path, Some(&first), &json!({})).await;
    let approval = proposed.assert_json(202)["approval"].clone();
    let approved = decide(&gw, &second, &approval, "approve").await;
    let body = approved.assert_json(200);
    assert_eq!(body["approval"]["status"], "approved");
    assert_eq!(body["setup"]["delivered"], false, "{body}");
    assert_eq!(body["setup"]["withdrawn"], true);
    let events = gw.audit_events().await;
    assert!(events.iter().any(|e| e.action == "auth.setup.undelivered"));
    let reset = events
        .iter()
        .find(|e| e.action == "auth.password.reset")
        .unwrap();
    assert_eq!(reset.details["setup_tokens_ended"], 1);
    set_up(&gw, older.expose_secret())
        .await
        .assert_problem(400, "request.invalid");
}

#[tokio::test]
async fn an_expired_grant_and_a_reset_leave_no_address_or_username_in_approvals_or_audit() {
    let gw = TestGateway::start().await;
    let (first, approver) = (admin(&gw).await, admin_person(&gw).await);
    let body = json!({
        "username": "ursula-private",
        "roles": ["risk_manager"],
        "display_name": "Ursula Private",
        "email": "ursula.private@bank.example",
    });
    let created = create(&gw, &first, &body).await;
    let manager = gw.add_user(&[Role::RiskManager], &[], Setup::READY).await;
    let path = format!("/v1/users/{}/reset-password", manager.id);
    let proposed = gw.api().post_json(&path, Some(&first), &json!({})).await;
    assert_eq!(
        proposed.assert_json(202)["approval"]["person"]["username"],
        manager.username
    );
    let ttl = gw.config().auth.approvals.ttl_seconds;
    gw.clock()
        .advance(Duration::seconds(i64::try_from(ttl).unwrap() + 1));
    let second = gw.login(&approver).await.0;
    let late = decide(&gw, &second, &created["approval"], "approve").await;
    late.assert_problem(409, "approval.closed");

    let events = gw.audit_events().await;
    let expired = events
        .iter()
        .find(|e| e.action == "approval.expired" && e.details["kind"] == "role.grant")
        .expect("the grant's expiry is audited");
    assert_eq!(expired.details["payload"]["roles"], json!(["risk_manager"]));
    let text = serde_json::to_string(&events).unwrap();
    for fingerprint in ["email_sha256", "email_salt"] {
        assert!(!text.contains(fingerprint), "audit holds {fingerprint}");
    }
    gw.shutdown().await;
    let rows = sqlite(&gw, "SELECT * FROM approvals; SELECT * FROM audit_events;");
    assert!(
        rows.contains("role.grant") && rows.contains("user.reset"),
        "{rows}"
    );
    assert!(
        rows.contains("\"email_salt\""),
        "the proposal salts its fingerprint"
    );
    for secret in [
        "ursula",
        "Ursula Private",
        "bank.example",
        manager.username.as_str(),
    ] {
        assert!(!text.contains(secret), "audit holds {secret:?}");
        assert!(!rows.contains(secret), "the database rows hold {secret:?}");
    }
}

#[tokio::test]
async fn an_address_with_a_cyrillic_letter_is_refused_as_not_ascii() {
    let gw = TestGateway::start().await;
    let token = admin(&gw).await;
    let body = json!({ "username": "lookalike", "email": "\u{430}dmin@bank.example" });
    let refused = gw.api().post_json("/v1/users", Some(&token), &body).await;
    refused.assert_problem(400, "request.invalid");
    assert_eq!(refused.member("field"), Some("email"));
    assert!(refused.member("detail").unwrap().contains("ASCII"));
    assert!(gw.pickup_files().is_empty());
}

async fn patch(gw: &TestGateway, token: &str, id: &str, body: &Value) -> Answer {
    let path = format!("/v1/users/{id}");
    let request = gw.api().request(reqwest::Method::PATCH, &path, Some(token));
    Answer::of(request.json(body)).await
}

fn with_manager() -> Value {
    json!({ "roles": ["auditor", "risk_manager"] })
}

#[tokio::test]
async fn approving_a_grant_for_an_active_person_delivers_nothing() {
    let gw = TestGateway::start().await;
    let (first, second) = (admin(&gw).await, admin(&gw).await);
    let active = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let proposed = patch(&gw, &first, &active.id, &with_manager()).await;
    let approval = proposed.assert_json(202)["approval"].clone();
    assert_eq!(
        approval["person"]["must_change_password"], false,
        "{approval}"
    );
    assert_eq!(approval["person"]["mfa_enrolled"], true);
    assert_eq!(approval["person"]["setup_token_live"], false);
    let approved = decide(&gw, &second, &approval, "approve").await;
    let body = approved.assert_json(200);
    assert!(body["setup"].is_null(), "{body}");
    let roles = body["user"]["roles"].as_array().unwrap();
    assert!(roles.contains(&json!("risk_manager")), "{body}");
    assert_eq!(delivered_to(&gw, &active.username), 0);
    assert!(gw.pickup_files().is_empty());
}

#[tokio::test]
async fn an_active_person_with_a_pending_grant_can_still_have_their_password_reset() {
    let gw = TestGateway::start().await;
    let first = admin(&gw).await;
    let active = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    patch(&gw, &first, &active.id, &with_manager())
        .await
        .assert_json(202);
    let path = format!("/v1/users/{}/reset-password", active.id);
    let reset = gw.api().post_json(&path, Some(&first), &json!({})).await;
    assert_eq!(reset.assert_json(200)["setup"]["delivered"], true);
    assert_eq!(delivered_to(&gw, &active.username), 1);
}

#[tokio::test]
async fn a_grant_proposed_again_after_a_rejection_delivers_exactly_one_token() {
    let gw = TestGateway::start().await;
    let (first, second) = (admin(&gw).await, admin(&gw).await);
    let created = create(&gw, &first, &privileged("vera")).await;
    decide(&gw, &second, &created["approval"], "reject")
        .await
        .assert_json(200);
    let id = created["user"]["id"].as_str().unwrap();
    let again = patch(&gw, &first, id, &with_manager()).await;
    let approval = again.assert_json(202)["approval"].clone();
    assert_eq!(approval["person"]["email"], "vera@bank.example");
    let approved = decide(&gw, &second, &approval, "approve").await;
    assert_eq!(approved.assert_json(200)["setup"]["delivered"], true);
    assert_eq!(delivered_to(&gw, "vera"), 1);
    set_up(&gw, &gw.setup_token_for("vera"))
        .await
        .assert_json(200);
}

#[tokio::test]
async fn the_decision_transaction_itself_refuses_a_grant_whose_address_changed() {
    let gw = TestGateway::start().await;
    let first = admin(&gw).await;
    let created = create(&gw, &first, &privileged("wren")).await;
    let approval_id: uuid::Uuid = created["approval"]["id"].as_str().unwrap().parse().unwrap();
    let id = created["user"]["id"].as_str().unwrap().to_owned();
    gw.shutdown().await;
    sqlite(
        &gw,
        &format!("UPDATE user_profiles SET email = 'eve@bank.example' WHERE user_id = '{id}'"),
    );
    let gw = gw.restart().await;
    let now = gw.clock().now();
    let outcome = gw
        .in_store(move |store| async move {
            let approval = store.approval(approval_id, now).await?.unwrap();
            let mut tx = store.begin().await?;
            let applied = users::apply_grant(&mut tx, "decider", &approval, now).await;
            Ok(applied.map(|_| ()).map_err(|e| e.to_string()))
        })
        .await
        .unwrap();
    let refusal = outcome.expect_err("the changed address is refused inside the transaction");
    assert!(refusal.contains("`email`"), "{refusal}");
}

#[tokio::test]
async fn a_grant_proposed_by_an_earlier_version_is_refused_as_outdated() {
    let gw = TestGateway::start().await;
    let (first, approver) = (admin(&gw).await, admin_person(&gw).await);
    let created = create(&gw, &first, &privileged("xena")).await;
    let approval_id = created["approval"]["id"].as_str().unwrap().to_owned();
    gw.shutdown().await;
    let old = r#"{"roles":["auditor","risk_manager"],"accounts":[],"email":"xena@bank.example"}"#;
    sqlite(
        &gw,
        &format!("UPDATE approvals SET payload = '{old}' WHERE id = '{approval_id}'"),
    );
    let gw = gw.restart().await;
    let second = gw.login(&approver).await.0;
    let refused = decide(&gw, &second, &created["approval"], "approve").await;
    refused.assert_problem(409, "approval.proposal_outdated");
    assert!(
        refused
            .member("detail")
            .unwrap()
            .contains("propose it again")
    );
    let events = gw.audit_events().await;
    let refusal = events
        .iter()
        .find(|e| e.action == "approval.refused")
        .expect("the refusal is audited");
    assert_eq!(refusal.details["reason"], "proposal_outdated");
    assert_eq!(delivered_to(&gw, "xena"), 0);
}

#[tokio::test]
async fn an_approved_grant_answers_200_when_its_failed_delivery_cannot_be_recorded() {
    let gw = TestGateway::start().await;
    let (first, approver) = (admin(&gw).await, admin_person(&gw).await);
    let created = create(&gw, &first, &privileged("yara")).await;
    gw.shutdown().await;
    // The store refuses to end set-up tokens: withdrawing the undelivered one fails.
    sqlite(
        &gw,
        "CREATE TRIGGER setup_tokens_stay BEFORE UPDATE ON setup_tokens \
         BEGIN SELECT RAISE(ABORT, 'the store refuses'); END;",
    );
    let gw = gw.restart().await;
    std::fs::create_dir_all(gw.pickup_dir().parent().unwrap()).unwrap();
    std::fs::write(gw.pickup_dir(), b"not a directory").unwrap();
    let second = gw.login(&approver).await.0;
    let approved = decide(&gw, &second, &created["approval"], "approve").await;
    let body = approved.assert_json(200);
    assert_eq!(body["approval"]["status"], "approved", "{body}");
    assert_eq!(body["setup"]["delivered"], false);
    assert_eq!(body["setup"]["recorded"], false);
    let roles = body["user"]["roles"].as_array().unwrap();
    assert!(roles.contains(&json!("risk_manager")), "{body}");
}

#[tokio::test]
async fn a_grant_whose_proposer_was_disabled_since_can_only_be_rejected() {
    let gw = TestGateway::start().await;
    let proposer = admin_person(&gw).await;
    let first = gw.login(&proposer).await.0;
    let approver = admin_person(&gw).await;
    let created = create(&gw, &first, &privileged("vera")).await;
    let second = gw.login(&approver).await.0;
    let path = format!("/v1/users/{}/disable", proposer.id);
    let disabled = gw.api().post_json(&path, Some(&second), &json!({})).await;
    disabled.assert_json(200);

    let refused = decide(&gw, &second, &created["approval"], "approve").await;
    refused.assert_problem(409, "approval.proposer_disabled");
    assert_eq!(delivered_to(&gw, "vera"), 0);
    let events = gw.audit_events().await;
    let refusal = events
        .iter()
        .find(|e| e.action == "approval.refused")
        .expect("the refusal is audited");
    assert_eq!(refusal.details["reason"], "proposer_disabled");
    assert!(!events.iter().any(|e| e.action == "user.role.granted"));

    let rejected = decide(&gw, &second, &created["approval"], "reject").await;
    assert_eq!(rejected.assert_json(200)["approval"]["status"], "rejected");
}
