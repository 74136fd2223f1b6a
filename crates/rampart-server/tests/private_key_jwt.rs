//! Over real HTTPS: API clients authenticate with `private_key_jwt` (RFC 7523);
//! an assertion is accepted once, only with the registered key and our audience.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_core::Role;
use rampart_testkit::{TestGateway, generous_limits};
use serde_json::json;

#[tokio::test]
async fn a_signed_assertion_gets_a_token_once_and_its_replay_is_refused() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let client = gw.add_key_client(&[Role::Trader], &[&account]).await;
    let aud = format!("{}/oauth/token", gw.base_url());
    let assertion = gw.assertion(&client, &client.key, &aud);

    let answer = gw.assertion_token(&client.id, &assertion).await;
    let token = answer.assert_json(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/accounts/{account}/risk-limits");
    gw.api().get(&path, Some(&token)).await.assert_json(200);

    let replay = gw.assertion_token(&client.id, &assertion).await;
    assert_eq!(replay.status, 401);
    assert_eq!(replay.member("error"), Some("invalid_client"));
}

#[tokio::test]
async fn an_assertion_signed_by_another_key_or_for_another_audience_is_refused() {
    let gw = TestGateway::start().await;
    let client = gw.add_key_client(&[Role::Auditor], &[]).await;
    let aud = format!("{}/oauth/token", gw.base_url());
    let stranger = rampart_auth::SigningKey::generate().unwrap();
    let forged = gw.assertion(&client, &stranger, &aud);
    assert_eq!(gw.assertion_token(&client.id, &forged).await.status, 401);
    let elsewhere = gw.assertion(
        &client,
        &client.key,
        "https://elsewhere.example/oauth/token",
    );
    assert_eq!(gw.assertion_token(&client.id, &elsewhere).await.status, 401);
    let plain = gw.add_client(&[Role::Auditor], &[]).await;
    let keyless = gw.assertion(&client, &client.key, &aud);
    assert_eq!(gw.assertion_token(&plain.id, &keyless).await.status, 401);
}

#[tokio::test]
async fn an_assertion_beside_a_client_secret_is_refused() {
    let gw = TestGateway::start().await;
    let client = gw.add_key_client(&[Role::Auditor], &[]).await;
    let aud = format!("{}/oauth/token", gw.base_url());
    let assertion = gw.assertion(&client, &client.key, &aud);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_secret", "x"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion.as_str()),
    ];
    let answer = gw.post_form("/oauth/token", &form).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.member("error"), Some("invalid_request"));
}

#[tokio::test]
async fn metadata_advertises_the_identity_endpoints_and_methods() {
    let gw = TestGateway::start().await;
    let metadata = gw
        .api()
        .get("/.well-known/oauth-authorization-server", None)
        .await;
    let body = metadata.assert_json(200);
    assert!(
        body["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("private_key_jwt"))
    );
    assert!(
        body["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("refresh_token"))
    );
    assert_eq!(
        body["revocation_endpoint"],
        format!("{}/oauth/revoke", gw.base_url())
    );
    assert_eq!(
        body["introspection_endpoint"],
        format!("{}/oauth/introspect", gw.base_url())
    );
}
