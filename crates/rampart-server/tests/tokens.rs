//! Over real HTTPS: issuing tokens at `POST /oauth/token` (client_secret_basic
//! and client_secret_post), refusing bad credentials without telling them
//! apart, and publishing the JWKS and RFC 8414 metadata that match the tokens.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_audit::action;
use rampart_core::Role;
use rampart_testkit::forge;
use rampart_testkit::{Answer, Api, ApiClient, TestGateway};
use serde_json::{Value, json};

/// A trader with an account, and a genuine token for it.
async fn trader() -> (&'static TestGateway, ApiClient, String) {
    let gw = TestGateway::shared().await;
    let (client, token) = gw.trader().await;
    (gw, client, token)
}

/// A fresh auditor client on the shared gateway.
async fn auditor() -> (&'static TestGateway, ApiClient) {
    let gw = TestGateway::shared().await;
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    (gw, client)
}

/// A `POST /oauth/token` authenticated as `client` with client_secret_basic.
fn basic_token_request(api: &Api, client: &ApiClient) -> reqwest::RequestBuilder {
    api.http()
        .post(api.url("/oauth/token"))
        .basic_auth(&client.id, Some(client.expose_secret()))
}

/// Requires an OAuth error answer: `status`, and `error` in the body.
fn assert_oauth_error(answer: &Answer, status: u16, error: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.json["error"], error);
}

/// The value of the header `name` of `answer`, when it is text.
fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn token_is_issued_with_client_secret_basic() {
    let (gw, client) = auditor().await;
    let answer = gw.token_answer(&client).await;

    let body = answer.assert_json(200);
    assert!(
        body["token_type"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("bearer")
    );
    let expires_in = body["expires_in"].as_u64().unwrap();
    assert!((1..=900).contains(&expires_in), "expires_in {expires_in}");
    let no_store = header(&answer, "cache-control");
    assert!(
        no_store.is_some_and(|v| v.contains("no-store")),
        "token answers are not cached"
    );

    let token = body["access_token"].as_str().unwrap();
    assert_eq!(forge::claims_of(token)["sub"], client.id.as_str());
    let listed = gw.api().get("/v1/kill-switch", Some(token)).await;
    assert_eq!(
        listed.status, 200,
        "the issued token works: {}",
        listed.text
    );
}

#[tokio::test]
async fn token_is_issued_with_client_secret_post() {
    let (gw, client) = auditor().await;
    let api = gw.api();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client.id.as_str()),
        ("client_secret", client.expose_secret()),
    ];
    let answer = Answer::of(api.http().post(api.url("/oauth/token")).form(&form)).await;

    let token = answer.assert_json(200)["access_token"].as_str().unwrap();
    assert_eq!(forge::claims_of(token)["sub"], client.id.as_str());
}

#[tokio::test]
async fn issuing_a_token_is_audited_once() {
    let (gw, client) = auditor().await;
    let api = gw.api();
    let request = basic_token_request(&api, &client)
        .header("x-request-id", "token-issued-audit")
        .form(&[("grant_type", "client_credentials")]);
    Answer::of(request).await.assert_json(200);

    let events = gw.audit_events().await;
    let issued: Vec<_> = events
        .iter()
        .filter(|e| {
            e.details["client_request_id"] == "token-issued-audit"
                && e.action == action::AUTH_TOKEN_ISSUED
        })
        .collect();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].actor, client.id);
}

#[tokio::test]
async fn wrong_secret_and_unknown_client_get_the_same_refusal() {
    let (gw, client) = auditor().await;
    let wrong = ApiClient::new(&client.id, "not-the-secret");
    let unknown = ApiClient::new("cl-unknown", "not-the-secret");

    let a = gw.token_answer(&wrong).await;
    let b = gw.token_answer(&unknown).await;
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(b.status, 401, "{}", b.text);
    assert_eq!(a.json["error"], "invalid_client", "{}", a.text);
    assert_eq!(without_request_id(&a.json), without_request_id(&b.json));
    assert_eq!(a.media_type(), b.media_type());
    assert!(
        !a.text.contains("not-the-secret"),
        "the secret is never echoed"
    );
}

fn without_request_id(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("request_id");
    }
    body
}

#[tokio::test]
async fn disabled_client_is_refused_a_token() {
    let (gw, client) = auditor().await;
    gw.disable_client(&client).await;

    let answer = gw.token_answer(&client).await;
    assert_oauth_error(&answer, 401, "invalid_client");
    assert!(answer.json.get("access_token").is_none());
}

#[tokio::test]
async fn unsupported_grant_type_is_refused_with_an_oauth_error() {
    let (gw, client) = auditor().await;
    let api = gw.api();
    let request = basic_token_request(&api, &client).form(&[("grant_type", "password")]);
    let answer = Answer::of(request).await;
    assert_oauth_error(&answer, 400, "unsupported_grant_type");
}

#[tokio::test]
async fn jwks_publishes_the_key_that_signs_issued_tokens() {
    let (gw, _, token) = trader().await;
    let jwks = gw.api().get("/.well-known/jwks.json", None).await;
    let keys = jwks.assert_json(200)["keys"].as_array().unwrap().clone();

    let kid = forge::header_of(&token)["kid"].as_str().unwrap().to_owned();
    let key = keys
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the token's kid is published");
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert!(key.get("d").is_none(), "no private part is published");

    let x = URL_SAFE_NO_PAD.decode(key["x"].as_str().unwrap()).unwrap();
    assert!(
        forge::verifies_under(&token, &x),
        "the JWKS key verifies the token"
    );
}

#[tokio::test]
async fn metadata_names_the_issuer_of_issued_tokens() {
    let (gw, _, token) = trader().await;
    let metadata = gw
        .api()
        .get("/.well-known/oauth-authorization-server", None)
        .await;
    let metadata = metadata.assert_json(200);
    assert_eq!(metadata["issuer"], forge::claims_of(&token)["iss"]);
    let grants = metadata["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&json!("client_credentials")));
}

#[tokio::test]
async fn metadata_endpoints_point_at_the_listening_gateway() {
    // Without a configured public URL, clients must be sent to where the gateway listens.
    let gw = TestGateway::shared().await;
    let api: Api = gw.api();
    let metadata = api
        .get("/.well-known/oauth-authorization-server", None)
        .await;
    let metadata = metadata.assert_json(200);
    assert_eq!(metadata["token_endpoint"], api.url("/oauth/token"));
    assert_eq!(metadata["jwks_uri"], api.url("/.well-known/jwks.json"));
}

#[tokio::test]
async fn both_client_authentication_methods_at_once_are_refused() {
    let (gw, client) = auditor().await;
    let api = gw.api();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client.id.as_str()),
        ("client_secret", client.expose_secret()),
    ];
    let request = basic_token_request(&api, &client).form(&form);
    let answer = Answer::of(request).await;
    assert_oauth_error(&answer, 400, "invalid_request");
}

#[tokio::test]
async fn token_request_with_a_json_body_is_refused() {
    let (gw, client) = auditor().await;
    let body = json!({"grant_type": "client_credentials", "client_id": client.id,
        "client_secret": client.expose_secret()});
    let answer = gw.api().post_json("/oauth/token", None, &body).await;
    assert_oauth_error(&answer, 400, "invalid_request");
}

#[tokio::test]
async fn repeated_token_parameters_are_refused() {
    let (gw, client) = auditor().await;
    let api = gw.api();
    let form = [
        ("grant_type", "client_credentials"),
        ("grant_type", "client_credentials"),
    ];
    let request = basic_token_request(&api, &client).form(&form);
    let answer = Answer::of(request).await;
    assert_oauth_error(&answer, 400, "invalid_request");
}

#[tokio::test]
async fn token_of_a_trader_names_its_roles_and_accounts_only() {
    let (_, _, token) = trader().await;
    let claims = forge::claims_of(&token);
    assert_eq!(claims["roles"], json!(["trader"]));
    assert_eq!(claims["accounts"].as_array().unwrap().len(), 1);
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert!((1..=900).contains(&lifetime), "lifetime {lifetime}");
    assert_eq!(forge::header_of(&token)["alg"], "EdDSA");
}

#[tokio::test]
async fn refused_client_authentication_over_basic_carries_a_basic_challenge() {
    let gw = TestGateway::shared().await;
    let answer = gw.token_answer(&ApiClient::new("cl-nobody", "wrong")).await;
    assert_eq!(answer.status, 401, "{}", answer.text);
    let challenge = header(&answer, "www-authenticate");
    assert!(
        challenge.is_some_and(|c| c.starts_with("Basic")),
        "{challenge:?}"
    );
    let cache = header(&answer, "cache-control");
    assert!(cache.is_some_and(|c| c.contains("no-store")));
}

#[tokio::test]
async fn oversized_token_request_is_refused_without_a_server_error() {
    let gw = TestGateway::shared().await;
    let body = format!(
        "grant_type=client_credentials&client_secret={}",
        "x".repeat(1 << 20)
    );
    let answer = gw
        .api()
        .post_raw(
            "/oauth/token",
            None,
            "application/x-www-form-urlencoded",
            body,
        )
        .await;
    assert_eq!(answer.status, 413, "{}", answer.text);
}
