//! Over real HTTPS: `/oauth/revoke` authenticates the calling client (RFC 7009,
//! section 2.1). A client revokes its own tokens only, with its credentials;
//! unknown tokens still answer 200.

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
