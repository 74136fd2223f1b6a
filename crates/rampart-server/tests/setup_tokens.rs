//! Over real HTTPS: set-up tokens work once and expire, a password reset ends
//! the earlier ones and cuts off sessions, a password change is throttled like
//! sign-in, and introspection never shows a password-only token as a full one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::Duration;
use rampart_core::Role;
use rampart_testkit::TestGateway;
use rampart_testkit::api::Answer;
use rampart_testkit::people::{PASSWORD, Setup};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

const CHOSEN: &str = "a passphrase only the person knows"; // pragma: allowlist secret

async fn admin_token(gw: &TestGateway) -> String {
    let admin = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    gw.login(&admin).await.0
}

async fn create(gw: &TestGateway, admin: &str, username: &str) -> Value {
    let body = json!({ "username": username, "roles": ["auditor"] });
    gw.api()
        .post_json("/v1/users", Some(admin), &body)
        .await
        .assert_json(201)
        .clone()
}

async fn set_up(gw: &TestGateway, token: &str, password: &str) -> Answer {
    let body = json!({ "setup_token": token, "new_password": password });
    gw.api().post_json("/v1/auth/setup", None, &body).await
}

#[tokio::test]
async fn a_setup_token_sets_a_password_once_only() {
    let gw = TestGateway::start().await;
    let admin = admin_token(&gw).await;
    create(&gw, &admin, "frank").await;
    let token = gw.setup_token_for("frank");

    set_up(&gw, &token, CHOSEN).await.assert_json(200);
    let again = set_up(&gw, &token, "another passphrase entirely").await;
    again.assert_problem(400, "request.invalid");
    let login = gw
        .login_with(&json!({ "username": "frank", "password": CHOSEN }))
        .await;
    assert_eq!(login.assert_json(200)["restricted"], true);
}

#[tokio::test]
async fn a_setup_token_is_refused_once_it_expires() {
    let gw = TestGateway::start().await;
    let admin = admin_token(&gw).await;
    create(&gw, &admin, "grace").await;
    gw.clock().advance(Duration::hours(25));
    let late = set_up(&gw, &gw.setup_token_for("grace"), CHOSEN).await;
    late.assert_problem(400, "request.invalid");
}

#[tokio::test]
async fn a_password_reset_ends_earlier_setup_tokens_and_cuts_off_sessions() {
    let gw = TestGateway::start().await;
    let admin = admin_token(&gw).await;
    let person = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let (access, _) = gw.login(&person).await;
    let path = format!("/v1/users/{}/reset-password", person.id);
    let first = gw.api().post_json(&path, Some(&admin), &json!({})).await;
    assert_eq!(first.assert_json(200)["setup"]["delivery"], "pickup");
    let first = gw.setup_token_for(&person.username);
    let second = gw.api().post_json(&path, Some(&admin), &json!({})).await;
    second.assert_json(200);
    let second = gw.setup_token_for(&person.username);
    assert_ne!(first, second);

    gw.api()
        .get("/v1/kill-switch", Some(&access))
        .await
        .assert_problem(401, "auth.invalid_token");
    let old_password = json!({ "username": person.username, "password": PASSWORD });
    gw.login_with(&old_password)
        .await
        .assert_problem(401, "auth.login_failed");
    set_up(&gw, &first, CHOSEN)
        .await
        .assert_problem(400, "request.invalid");
    set_up(&gw, &second, CHOSEN).await.assert_json(200);
}

#[tokio::test]
async fn a_password_change_ends_the_setup_tokens_still_out() {
    let gw = TestGateway::start().await;
    let person = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let (token, hash) = rampart_auth::RefreshToken::generate().unwrap();
    let (id, now) = (person.id.clone(), gw.clock().now());
    gw.in_store(move |store| async move {
        let mut tx = store.begin().await?;
        tx.insert_setup_token(hash.as_str(), &id, now, now + Duration::hours(1))
            .await?;
        tx.commit().await
    })
    .await
    .unwrap();

    let (access, _) = gw.login(&person).await;
    let change = json!({ "current_password": PASSWORD, "new_password": CHOSEN });
    gw.api()
        .post_json("/v1/auth/password", Some(&access), &change)
        .await
        .assert_json(200);
    set_up(&gw, token.expose_secret(), "yet another long passphrase")
        .await
        .assert_problem(400, "request.invalid");
}

#[tokio::test]
async fn wrong_current_passwords_lock_the_password_change_like_sign_in() {
    let gw = TestGateway::start_with(|config| {
        config.auth.login.max_failures = 2;
        config.auth.login.delay_base_ms = 0;
    })
    .await;
    let person = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let (access, _) = gw.login(&person).await;
    let wrong = json!({ "current_password": "not my password at all", "new_password": CHOSEN }); // pragma: allowlist secret
    for _ in 0..2 {
        gw.api()
            .post_json("/v1/auth/password", Some(&access), &wrong)
            .await
            .assert_problem(400, "request.invalid");
    }
    let right = json!({ "current_password": PASSWORD, "new_password": CHOSEN });
    gw.api()
        .post_json("/v1/auth/password", Some(&access), &right)
        .await
        .assert_problem(429, "auth.locked");
}

#[tokio::test]
async fn introspection_shows_a_password_only_token_with_the_setup_scope_only() {
    let gw = TestGateway::start().await;
    let person = gw.add_user(&[Role::Auditor], &[], Setup::NO_MFA).await;
    let body = json!({ "username": person.username, "password": PASSWORD });
    let signed_in = gw.login_with(&body).await;
    let restricted = signed_in.assert_json(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = gw.add_client(&[Role::Auditor], &[]).await;

    let form = [
        ("token", restricted.as_str()),
        ("client_id", client.id.as_str()),
        ("client_secret", client.expose_secret()),
    ];
    let answer = gw.post_form("/oauth/introspect", &form).await;
    let view = answer.assert_json(200);
    assert_eq!(view["active"], true);
    assert_eq!(view["scope"], "setup");
    assert_eq!(view["amr"], json!(["pwd"]));
    assert_eq!(view["roles"], json!([]));
}
