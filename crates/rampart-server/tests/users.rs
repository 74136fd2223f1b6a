//! Over real HTTPS: administrators create users with single-use set-up tokens,
//! segregation-of-duties conflicts are refused at grant time, and privileged
//! roles need a second administrator, never the proposer or a client they own.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_core::Role;
use rampart_testkit::TestGateway;
use rampart_testkit::people::Setup;
use serde_json::{Value, json};

async fn admin_token(gw: &TestGateway) -> (String, String) {
    let admin = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    let (token, _) = gw.login(&admin).await;
    (admin.id, token)
}

async fn create(gw: &TestGateway, token: &str, body: &Value) -> Value {
    gw.api()
        .post_json("/v1/users", Some(token), body)
        .await
        .assert_json(201)
        .clone()
}

#[tokio::test]
async fn an_admin_creates_a_user_who_sets_a_password_the_admin_never_learns() {
    let gw = TestGateway::start().await;
    let (_, token) = admin_token(&gw).await;
    let body = json!({ "username": "carol", "roles": ["auditor"], "email": "carol@example.com" });
    let created = create(&gw, &token, &body).await;
    assert_eq!(created["user"]["must_change_password"], true);
    assert!(created["approval"].is_null());
    assert!(created.get("one_time_password").is_none(), "{created}");
    assert!(created.get("setup_token").is_none(), "{created}");
    assert_eq!(created["setup"]["delivery"], "pickup");
    assert!(created["setup"]["expires_at"].is_string(), "{created}");
    let setup_token = gw.setup_token_for("carol");
    let setup_token = setup_token.as_str();
    let chosen = "a passphrase nobody else knows"; // pragma: allowlist secret
    gw.api()
        .post_json(
            "/v1/auth/setup",
            None,
            &json!({ "setup_token": setup_token, "new_password": chosen }),
        )
        .await
        .assert_json(200);
    let login = gw
        .login_with(&json!({ "username": "carol", "password": chosen }))
        .await;
    assert_eq!(login.assert_json(200)["restricted"], true);

    let list = gw.api().get("/v1/users", Some(&token)).await;
    let text = list.text.clone();
    assert!(
        text.contains("carol") && !text.contains("carol@example.com"),
        "{text}"
    );
    let again = gw.api().post_json("/v1/users", Some(&token), &body).await;
    again.assert_problem(409, "request.duplicate");
}

#[tokio::test]
async fn conflicting_roles_are_refused_at_grant_with_both_roles_named() {
    let gw = TestGateway::start().await;
    let (_, token) = admin_token(&gw).await;
    let body = json!({ "username": "dave", "roles": ["trader", "risk_manager"] });
    let refused = gw.api().post_json("/v1/users", Some(&token), &body).await;
    refused.assert_problem(409, "user.role_conflict");
    let detail = refused.member("detail").unwrap();
    assert!(
        detail.contains("`trader`") && detail.contains("`risk_manager`"),
        "{detail}"
    );

    let created = create(
        &gw,
        &token,
        &json!({ "username": "erin", "roles": ["trader"] }),
    )
    .await;
    let id = created["user"]["id"].as_str().unwrap();
    let patch = json!({ "roles": ["trader", "admin"] });
    let answer = gw
        .api()
        .request(
            reqwest::Method::PATCH,
            &format!("/v1/users/{id}"),
            Some(&token),
        )
        .json(&patch);
    let answer = rampart_testkit::Answer::of(answer).await;
    answer.assert_problem(409, "user.role_conflict");
}

#[tokio::test]
async fn a_display_name_that_reorders_or_hides_text_is_refused_naming_the_field() {
    let gw = TestGateway::start().await;
    let (_, token) = admin_token(&gw).await;
    for name in ["Eve\u{202E}nimda", "Ad\u{200B}min", "Tab\there"] {
        let body = json!({ "username": "nadia", "roles": ["trader"], "display_name": name });
        let refused = gw.api().post_json("/v1/users", Some(&token), &body).await;
        refused.assert_problem(400, "request.invalid");
        assert_eq!(refused.json["field"], "display_name", "{name:?}");
    }
    let body = json!({ "username": "nadia", "roles": ["trader"], "display_name": "Nádia Ōsaka" });
    create(&gw, &token, &body).await;
}

#[tokio::test]
async fn a_non_admin_cannot_manage_users() {
    let gw = TestGateway::start().await;
    let auditor = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let (token, _) = gw.login(&auditor).await;
    let body = json!({ "username": "frank" });
    gw.api()
        .post_json("/v1/users", Some(&token), &body)
        .await
        .assert_problem(403, "policy.denied");
    gw.api()
        .get("/v1/approvals", Some(&token))
        .await
        .assert_problem(403, "policy.denied");
}

async fn patch_roles(
    gw: &TestGateway,
    token: &str,
    id: &str,
    roles: &[&str],
) -> rampart_testkit::Answer {
    let request = gw
        .api()
        .request(
            reqwest::Method::PATCH,
            &format!("/v1/users/{id}"),
            Some(token),
        )
        .json(&json!({ "roles": roles }));
    rampart_testkit::Answer::of(request).await
}

#[tokio::test]
async fn a_privileged_grant_waits_for_a_second_admin_and_is_applied_once() {
    let gw = TestGateway::start().await;
    let (first_id, first) = admin_token(&gw).await;
    let (second_id, second) = admin_token(&gw).await;
    let created = create(
        &gw,
        &first,
        &json!({ "username": "grace", "roles": ["auditor"] }),
    )
    .await;
    let id = created["user"]["id"].as_str().unwrap().to_owned();

    let proposed = patch_roles(&gw, &first, &id, &["auditor", "compliance_officer"]).await;
    assert_eq!(proposed.status, 202, "{}", proposed.text);
    let approval = proposed.json["approval"]["id"].as_str().unwrap().to_owned();
    assert_eq!(proposed.json["approval"]["proposed_by"], first_id.as_str());
    let listed = gw
        .api()
        .get("/v1/approvals?status=pending", Some(&second))
        .await;
    assert_eq!(
        listed.assert_json(200)["approvals"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let approve = format!("/v1/approvals/{approval}/approve");
    let own = gw.api().post_json(&approve, Some(&first), &json!({})).await;
    own.assert_problem(403, "approval.self_approval");
    let users = gw.api().get("/v1/users", Some(&first)).await;
    assert!(
        !users.text.contains("compliance_officer"),
        "nothing applied yet"
    );

    let done = gw
        .api()
        .post_json(&approve, Some(&second), &json!({ "comment": "ok" }))
        .await;
    let body = done.assert_json(200);
    assert_eq!(body["approval"]["status"], "approved");
    assert_eq!(body["approval"]["decided_by"], second_id.as_str());
    assert_eq!(
        body["user"]["roles"],
        json!(["compliance_officer", "auditor"])
    );
    let again = gw
        .api()
        .post_json(&approve, Some(&second), &json!({}))
        .await;
    again.assert_problem(409, "approval.closed");
    let events = gw.audit_events().await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "user.role.granted")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_client_owned_by_the_proposer_cannot_approve_the_grant() {
    let gw = TestGateway::start().await;
    let (first_id, first) = admin_token(&gw).await;
    let created = create(&gw, &first, &json!({ "username": "heidi" })).await;
    let id = created["user"]["id"].as_str().unwrap().to_owned();
    let proposed = patch_roles(&gw, &first, &id, &["risk_manager"]).await;
    let approval = proposed.json["approval"]["id"].as_str().unwrap().to_owned();

    let bot = gw.add_owned_client(&[Role::Admin], &[], &first_id).await;
    let bot_token = gw.token(&bot).await;
    let approve = format!("/v1/approvals/{approval}/approve");
    let answer = gw
        .api()
        .post_json(&approve, Some(&bot_token), &json!({}))
        .await;
    // An API client decides nothing; the store would refuse the proposer's side too.
    answer.assert_problem(403, "policy.denied");
    let reject = format!("/v1/approvals/{approval}/reject");
    let answer = gw
        .api()
        .post_json(&reject, Some(&bot_token), &json!({}))
        .await;
    answer.assert_problem(403, "policy.denied");
    let user = gw
        .in_store(move |store| async move { store.user(&id).await })
        .await;
    assert_eq!(
        user.unwrap().unwrap().roles.iter().count(),
        0,
        "nothing was granted"
    );
}

#[tokio::test]
async fn creating_a_user_with_a_privileged_role_holds_that_role_for_approval() {
    let gw = TestGateway::start().await;
    let (_, token) = admin_token(&gw).await;
    let body = json!({ "username": "ivan", "roles": ["auditor", "risk_manager"] });
    let created = create(&gw, &token, &body).await;
    assert_eq!(created["user"]["roles"], json!(["auditor"]));
    assert_eq!(created["approval"]["kind"], "role.grant");
    assert_eq!(
        created["approval"]["payload"]["roles"],
        json!(["risk_manager", "auditor"])
    );
}
