//! Over real HTTPS: `/oauth/revoke` authenticates the calling client (RFC 7009,
//! section 2.1). A client revokes its own tokens only, with its credentials
//! (a secret or `private_key_jwt`); unknown tokens still answer 200; every
//! refused attempt is audited.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_core::Role;
use rampart_testkit::TestGateway;
use rampart_testkit::api::Answer;
use rampart_testkit::identity::ApiClient;
use rampart_testkit::people::KeyClient;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn refusals(gw: &TestGateway) -> Vec<(String, String)> {
    gw.audit_events()
        .await
        .into_iter()
        .filter(|e| e.action == "auth.token.revocation_refused")
        .map(|e| {
            (
                e.actor,
                e.details["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn revoke_with_assertion(gw: &TestGateway, client: &KeyClient, token: &str) -> Answer {
    let aud = format!("{}/oauth/token", gw.base_url());
    let assertion = gw.assertion(client, &client.key, &aud);
    let form = [
        ("token", token),
        ("client_id", client.id.as_str()),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion.as_str()),
    ];
    gw.post_form("/oauth/revoke", &form).await
}

async fn revoke_as(gw: &TestGateway, client: &ApiClient, token: &str) -> Answer {
    let form = [
        ("token", token),
        ("client_id", client.id.as_str()),
        ("client_secret", client.expose_secret()),
    ];
    gw.post_form("/oauth/revoke", &form).await
}

async fn works(gw: &TestGateway, token: &str) -> bool {
    gw.api().get("/v1/kill-switch", Some(token)).await.status == 200
}

#[tokio::test]
async fn a_client_revokes_its_own_token_with_its_credentials() {
    let gw = TestGateway::start().await;
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    let token = gw.token(&client).await;
    assert!(works(&gw, &token).await);

    let answer = revoke_as(&gw, &client, &token).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(!works(&gw, &token).await);
}

#[tokio::test]
async fn a_client_token_is_not_revoked_without_client_credentials() {
    let gw = TestGateway::start().await;
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    let token = gw.token(&client).await;

    let answer = gw.post_form("/oauth/revoke", &[("token", &token)]).await;
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert_eq!(answer.member("error"), Some("invalid_client"));
    assert!(works(&gw, &token).await);
}

#[tokio::test]
async fn a_client_cannot_revoke_another_clients_token() {
    let gw = TestGateway::start().await;
    let owner = gw.add_client(&[Role::Auditor], &[]).await;
    let other = gw.add_client(&[Role::Auditor], &[]).await;
    let token = gw.token(&owner).await;

    let answer = revoke_as(&gw, &other, &token).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.member("error"), Some("unauthorized_client"));
    assert!(works(&gw, &token).await);
}

#[tokio::test]
async fn wrong_client_credentials_are_refused_and_revoke_nothing() {
    let gw = TestGateway::start().await;
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    let token = gw.token(&client).await;
    let impostor = ApiClient::new(&client.id, "not-the-secret-of-this-client");

    let answer = revoke_as(&gw, &impostor, &token).await;
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert!(works(&gw, &token).await);
}

#[tokio::test]
async fn an_unknown_token_answers_200_to_an_authenticated_client() {
    let gw = TestGateway::start().await;
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    let answer = revoke_as(&gw, &client, "an.unknown.token").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

#[tokio::test]
async fn a_revocation_by_another_client_is_audited_naming_that_client() {
    let gw = TestGateway::start().await;
    let owner = gw.add_client(&[Role::Auditor], &[]).await;
    let other = gw.add_client(&[Role::Auditor], &[]).await;
    let token = gw.token(&owner).await;

    assert_eq!(revoke_as(&gw, &other, &token).await.status, 400);
    let refused = refusals(&gw).await;
    assert_eq!(
        refused,
        [(other.id.clone(), "another_clients_token".to_owned())]
    );
}

#[tokio::test]
async fn a_revocation_with_a_wrong_secret_is_audited() {
    let gw = TestGateway::start().await;
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    let token = gw.token(&client).await;
    let impostor = ApiClient::new(&client.id, "not-the-secret-of-this-client");

    assert_eq!(revoke_as(&gw, &impostor, &token).await.status, 401);
    let refused = refusals(&gw).await;
    assert_eq!(refused, [(client.id.clone(), "wrong_secret".to_owned())]);
}

#[tokio::test]
async fn a_client_token_revoked_without_client_authentication_is_refused_and_audited() {
    let gw = TestGateway::start().await;
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    let token = gw.token(&client).await;

    assert_eq!(
        gw.post_form("/oauth/revoke", &[("token", &token)])
            .await
            .status,
        401
    );
    let refused = refusals(&gw).await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].1, "client_authentication_required");
}

#[tokio::test]
async fn a_key_client_revokes_its_own_token_with_a_signed_assertion() {
    let gw = TestGateway::start().await;
    let client = gw.add_key_client(&[Role::Auditor], &[]).await;
    let aud = format!("{}/oauth/token", gw.base_url());
    let issued = gw
        .assertion_token(&client.id, &gw.assertion(&client, &client.key, &aud))
        .await;
    let token = issued.assert_json(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(works(&gw, &token).await);

    let answer = revoke_with_assertion(&gw, &client, &token).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(!works(&gw, &token).await);
    assert!(refusals(&gw).await.is_empty());
}

#[tokio::test]
async fn an_assertion_signed_by_another_key_revokes_nothing_and_is_audited() {
    let gw = TestGateway::start().await;
    let client = gw.add_key_client(&[Role::Auditor], &[]).await;
    let aud = format!("{}/oauth/token", gw.base_url());
    let issued = gw
        .assertion_token(&client.id, &gw.assertion(&client, &client.key, &aud))
        .await;
    let token = issued.assert_json(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let stranger = rampart_auth::SigningKey::generate().unwrap();
    let forged = gw.assertion(&client, &stranger, &aud);
    let form = [
        ("token", token.as_str()),
        ("client_id", client.id.as_str()),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", forged.as_str()),
    ];
    let answer = gw.post_form("/oauth/revoke", &form).await;
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert_eq!(answer.member("error"), Some("invalid_client"));
    assert!(works(&gw, &token).await);
    assert_eq!(
        refusals(&gw).await,
        [(client.id.clone(), "bad_assertion".to_owned())]
    );
}
