//! Over real HTTPS: refresh tokens rotate on every use and their reuse revokes
//! the family; revocation, sign-out and disabling a user take effect at once,
//! cached tokens included; introspection tells active from inactive tokens.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::Duration;
use rampart_core::Role;
use rampart_testkit::people::{Setup, TestUser};
use rampart_testkit::{Answer, TestGateway, generous_limits};
use serde_json::json;

async fn signed_in_trader(gw: &TestGateway) -> (TestUser, String, String, String) {
    let account = gw.add_account(generous_limits()).await;
    let user = gw
        .add_user(&[Role::Trader], &[&account], Setup::READY)
        .await;
    let (access, refresh) = gw.login(&user).await;
    let path = format!("/v1/accounts/{account}/risk-limits");
    (user, access, refresh.unwrap(), path)
}

fn tokens(answer: &Answer) -> (String, String) {
    let body = answer.assert_json(200);
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_refresh_token_rotates_and_the_new_pair_works() {
    let gw = TestGateway::start().await;
    let (_, _, refresh, path) = signed_in_trader(&gw).await;
    let (access, next) = tokens(&gw.refresh(&refresh).await);
    assert_ne!(next, refresh);
    gw.api().get(&path, Some(&access)).await.assert_json(200);
    let (_, third) = tokens(&gw.refresh(&next).await);
    assert_ne!(third, next);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family_at_once() {
    let gw = TestGateway::start().await;
    let (user, _, refresh, path) = signed_in_trader(&gw).await;
    let (access, next) = tokens(&gw.refresh(&refresh).await);
    gw.api().get(&path, Some(&access)).await.assert_json(200);

    let reuse = gw.refresh(&refresh).await;
    assert_eq!(reuse.status, 400);
    assert_eq!(reuse.member("error"), Some("invalid_grant"));
    let after = gw.refresh(&next).await;
    assert_eq!(
        after.member("error"),
        Some("invalid_grant"),
        "the family is revoked"
    );
    gw.api()
        .get(&path, Some(&access))
        .await
        .assert_problem(401, "auth.invalid_token");

    let events = gw.audit_events().await;
    let reused = events
        .iter()
        .find(|e| e.action == "auth.refresh.reused")
        .unwrap();
    assert_eq!(reused.actor, user.id);
}

#[tokio::test]
async fn an_idle_refresh_token_expires() {
    let gw = TestGateway::start_with(|config| {
        config.auth.refresh.idle_seconds = 120;
        config.auth.refresh.absolute_seconds = 3600;
    })
    .await;
    let (_, _, refresh, _) = signed_in_trader(&gw).await;
    gw.clock().advance(Duration::seconds(121));
    assert_eq!(
        gw.refresh(&refresh).await.member("error"),
        Some("invalid_grant")
    );
}

#[tokio::test]
async fn a_revoked_access_token_is_refused_at_once_even_when_cached() {
    let gw = TestGateway::start().await;
    let (_, access, refresh, path) = signed_in_trader(&gw).await;
    gw.api().get(&path, Some(&access)).await.assert_json(200);
    gw.api().get(&path, Some(&access)).await.assert_json(200);

    let revoked = gw.post_form("/oauth/revoke", &[("token", &access)]).await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    gw.api()
        .get(&path, Some(&access))
        .await
        .assert_problem(401, "auth.invalid_token");
    tokens(&gw.refresh(&refresh).await);
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_session_and_unknown_tokens_still_get_200() {
    let gw = TestGateway::start().await;
    let (_, access, refresh, path) = signed_in_trader(&gw).await;
    let revoked = gw.post_form("/oauth/revoke", &[("token", &refresh)]).await;
    assert_eq!(revoked.status, 200);
    assert_eq!(
        gw.refresh(&refresh).await.member("error"),
        Some("invalid_grant")
    );
    gw.api()
        .get(&path, Some(&access))
        .await
        .assert_problem(401, "auth.invalid_token");
    let unknown = gw
        .post_form("/oauth/revoke", &[("token", "not-a-token")])
        .await;
    assert_eq!(unknown.status, 200);
}

#[tokio::test]
async fn signing_out_refuses_the_token_and_the_refresh_token_at_once() {
    let gw = TestGateway::start().await;
    let (_, access, refresh, path) = signed_in_trader(&gw).await;
    let out = gw
        .api()
        .post_json("/v1/auth/logout", Some(&access), &json!({}))
        .await;
    out.assert_json(200);
    gw.api()
        .get(&path, Some(&access))
        .await
        .assert_problem(401, "auth.invalid_token");
    assert_eq!(
        gw.refresh(&refresh).await.member("error"),
        Some("invalid_grant")
    );
}

#[tokio::test]
async fn disabling_a_user_cuts_off_their_tokens_at_once() {
    let gw = TestGateway::start().await;
    let (user, access, refresh, path) = signed_in_trader(&gw).await;
    let admin = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    let (admin_token, _) = gw.login(&admin).await;
    gw.api().get(&path, Some(&access)).await.assert_json(200);

    let disable = format!("/v1/users/{}/disable", user.id);
    let answer = gw
        .api()
        .post_json(&disable, Some(&admin_token), &json!({}))
        .await;
    assert_eq!(answer.assert_json(200)["revoked_sessions"], 1);
    gw.api()
        .get(&path, Some(&access))
        .await
        .assert_problem(401, "auth.invalid_token");
    assert_eq!(
        gw.refresh(&refresh).await.member("error"),
        Some("invalid_grant")
    );
    gw.login_answer(&user)
        .await
        .assert_problem(401, "auth.login_failed");
}

#[tokio::test]
async fn introspection_needs_a_client_and_tells_active_from_revoked_tokens() {
    let gw = TestGateway::start().await;
    let (user, access, refresh, _) = signed_in_trader(&gw).await;
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    let api = gw.api();
    let introspect = |token: String| {
        let request = api
            .http()
            .post(api.url("/oauth/introspect"))
            .basic_auth(&client.id, Some(client.expose_secret()))
            .form(&[("token", token)]);
        Answer::of(request)
    };

    let active = introspect(access.clone()).await;
    let body = active.assert_json(200);
    assert_eq!(body["active"], true);
    assert_eq!(body["sub"], user.id.as_str());
    assert_eq!(body["token_type"], "Bearer");
    let refresh_view = introspect(refresh.clone()).await;
    assert_eq!(refresh_view.json["token_type"], "refresh_token");
    assert_eq!(
        introspect("garbage".to_owned()).await.json,
        json!({ "active": false })
    );

    gw.post_form("/oauth/revoke", &[("token", &access)]).await;
    assert_eq!(introspect(access).await.json, json!({ "active": false }));

    let anonymous = gw
        .post_form("/oauth/introspect", &[("token", &refresh)])
        .await;
    assert_eq!(anonymous.status, 400);
    let wrong = api
        .http()
        .post(api.url("/oauth/introspect"))
        .basic_auth(&client.id, Some("wrong secret"))
        .form(&[("token", &refresh)]);
    assert_eq!(Answer::of(wrong).await.status, 401);
    let tokenless = api
        .http()
        .post(api.url("/oauth/introspect"))
        .basic_auth(&client.id, Some(client.expose_secret()))
        .form(&[("token_type_hint", "access_token")]);
    let tokenless = Answer::of(tokenless).await;
    assert_eq!(tokenless.status, 400);
    assert_eq!(tokenless.json["error"], "invalid_request");
    let events = gw.audit_events().await;
    assert!(
        events
            .iter()
            .any(|e| e.action == "auth.token.introspection_refused"
                && e.actor == client.id
                && e.details["reason"] == "no_token"),
        "the tokenless introspection is audited"
    );
}

#[tokio::test]
async fn a_refresh_token_of_a_disabled_person_is_not_active() {
    let gw = TestGateway::start().await;
    let (user, _, refresh, _) = signed_in_trader(&gw).await;
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    let api = gw.api();
    let introspect = || {
        let request = api
            .http()
            .post(api.url("/oauth/introspect"))
            .basic_auth(&client.id, Some(client.expose_secret()))
            .form(&[("token", refresh.clone())]);
        Answer::of(request)
    };
    assert_eq!(introspect().await.json["active"], true);

    // Disabled in the store alone, as another process would: the family stays unrevoked.
    let id = user.id.clone();
    gw.in_store(move |store| async move {
        let mut tx = store.begin().await?;
        tx.set_user_disabled(&id, true).await?;
        tx.commit().await
    })
    .await
    .unwrap();
    assert_eq!(introspect().await.json, json!({ "active": false }));
}

#[tokio::test]
async fn a_revocation_survives_a_restart() {
    let gw = TestGateway::start().await;
    let (_, access, _, path) = signed_in_trader(&gw).await;
    gw.post_form("/oauth/revoke", &[("token", &access)]).await;
    let gw = gw.restart().await;
    let answer = gw.api().get(&path, Some(&access)).await;
    assert_eq!(answer.status, 401, "{}", answer.text);
}
