//! Over real HTTPS: every `/v1` route refuses each kind of bad bearer token with
//! a 401 problem and leaves an `auth.bearer.rejected` audit event: no token,
//! expired, not yet valid, wrong audience or issuer, `alg: none`, HS256 keyed
//! with the public key, unknown or foreign keys, tampered claims, oversized
//! tokens and tokens that bring their own key.

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
use rampart_testkit::forge::{self, Forge};
use rampart_testkit::market::BTC;
use rampart_testkit::{Answer, Api, ApiClient, TestGateway, order};
use reqwest::Method;
use serde_json::{Value, json};

/// A trader with an account, and a genuine token for it.
async fn trader() -> (&'static TestGateway, ApiClient, String) {
    let gw = TestGateway::shared().await;
    let (client, token) = gw.trader().await;
    (gw, client, token)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn signing_key(gw: &TestGateway) -> Vec<u8> {
    gw.signing_key_der().await
}

/// Every `/v1` route of the API, with a body where it takes one.
fn routes() -> Vec<(Method, String, Option<Value>)> {
    let id = uuid::Uuid::now_v7();
    let account: rampart_core::AccountId = "ACC-1".parse().unwrap();
    vec![
        (
            Method::POST,
            "/v1/orders".into(),
            Some(order::market(&account, BTC, "buy", "0.01")),
        ),
        (Method::GET, "/v1/orders".into(), None),
        (Method::GET, format!("/v1/orders/{id}"), None),
        (
            Method::POST,
            format!("/v1/orders/{id}/cancel"),
            Some(json!({})),
        ),
        (Method::GET, "/v1/accounts/ACC-1/risk-limits".into(), None),
        (
            Method::POST,
            "/v1/kill-switch".into(),
            Some(json!({"scope": "global", "reason": "x"})),
        ),
        (Method::GET, "/v1/kill-switch".into(), None),
    ]
}

/// Sends `token` to every `/v1` route and checks each answer is 401 with `code`,
/// and that each refusal left an `auth.bearer.rejected` event.
async fn assert_every_route_refuses(gw: &TestGateway, token: Option<&str>, code: &str) {
    assert_every_route_refuses_over(gw, &gw.api(), token, code).await;
}

async fn assert_every_route_refuses_over(
    gw: &TestGateway,
    api: &Api,
    token: Option<&str>,
    code: &str,
) {
    let mut request_ids = Vec::new();
    for (method, path, body) in routes() {
        let request_id = format!("refuse-{}", uuid::Uuid::new_v4().simple());
        let mut request = api
            .request(method.clone(), &path, token)
            .header("x-request-id", &request_id);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let answer = Answer::of(request).await;
        assert_eq!(answer.status, 401, "{method} {path}: {}", answer.text);
        answer.assert_problem(401, code);
        let challenge = answer
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok());
        assert!(
            challenge.is_some_and(|c| c.starts_with("Bearer")),
            "{method} {path} challenge"
        );
        request_ids.push(request_id);
    }

    let events = gw.audit_events().await;
    for request_id in request_ids {
        let found = events
            .iter()
            .filter(|e| {
                e.details["client_request_id"] == request_id
                    && e.action == action::AUTH_BEARER_REJECTED
            })
            .count();
        assert_eq!(
            found, 1,
            "one `auth.bearer.rejected` event for request {request_id}"
        );
    }
}

#[tokio::test]
async fn every_route_refuses_a_request_without_a_token() {
    let gw = TestGateway::shared().await;
    let api = gw.api();
    for (method, path, body) in routes() {
        let mut request = api.request(method.clone(), &path, None);
        if let Some(body) = &body {
            request = request.json(body);
        }
        Answer::of(request)
            .await
            .assert_problem(401, "auth.missing_token");
    }
}

#[tokio::test]
async fn request_without_a_token_is_refused_before_its_body_is_read() {
    let gw = TestGateway::shared().await;
    let answer = gw
        .api()
        .post_raw("/v1/orders", None, "application/json", "{not json")
        .await;
    answer.assert_problem(401, "auth.missing_token");
}

#[tokio::test]
async fn every_route_refuses_an_expired_token() {
    let (gw, _, token) = trader().await;
    let iat = now() - 3600;
    let forged = Forge::from_token(&token)
        .claim("iat", json!(iat))
        .claim("nbf", json!(iat))
        .claim("exp", json!(iat + 300))
        .sign_eddsa(&signing_key(gw).await);
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_token_that_is_not_yet_valid() {
    let (gw, _, token) = trader().await;
    let forged = Forge::from_token(&token)
        .claim("nbf", json!(now() + 3600))
        .sign_eddsa(&signing_key(gw).await);
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_token_for_another_audience() {
    let (gw, _, token) = trader().await;
    let forged = Forge::from_token(&token)
        .claim("aud", json!("another-api"))
        .sign_eddsa(&signing_key(gw).await);
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_token_from_another_issuer() {
    let (gw, _, token) = trader().await;
    let forged = Forge::from_token(&token)
        .claim("iss", json!("https://evil.example"))
        .sign_eddsa(&signing_key(gw).await);
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_an_unsigned_token_with_alg_none() {
    let (gw, _, token) = trader().await;
    let forged = Forge::from_token(&token).unsigned();
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_hs256_keyed_with_the_public_key() {
    let (gw, _, token) = trader().await;
    let public = forge::public_key_of(&signing_key(gw).await);
    let raw_key = Forge::from_token(&token).sign_hs256(&public);
    assert_every_route_refuses(gw, Some(&raw_key), "auth.invalid_token").await;
    let jwk_x = URL_SAFE_NO_PAD.encode(&public);
    let x_key = Forge::from_token(&token).sign_hs256(jwk_x.as_bytes());
    assert_every_route_refuses(gw, Some(&x_key), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_token_naming_an_unknown_kid() {
    let (gw, _, token) = trader().await;
    let forged = Forge::from_token(&token)
        .header("kid", json!("no-such-key"))
        .sign_eddsa(&signing_key(gw).await);
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_token_signed_with_a_foreign_key_under_the_gateway_kid() {
    let (gw, _, token) = trader().await;
    let forged = Forge::from_token(&token).sign_eddsa(&forge::foreign_key());
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_token_whose_payload_was_tampered_with() {
    let (gw, _, token) = trader().await;
    let forge = Forge::from_token(&token);
    let roles = json!(["risk_manager"]);
    let forged = forge.claim("roles", roles).with_original_signature();
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

async fn padded(gw: &TestGateway, token: &str, bytes: usize) -> String {
    let padding = "A".repeat(bytes);
    let forged = Forge::from_token(token)
        .claim("pad", json!(padding))
        .sign_eddsa(&signing_key(gw).await);
    assert!(forged.len() > bytes);
    forged
}

#[tokio::test]
async fn every_route_refuses_a_token_over_the_size_cap() {
    let (gw, _, token) = trader().await;
    let forged = padded(gw, &token, 9 * 1024).await;
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_64_kib_token_over_http1() {
    let (gw, _, token) = trader().await;
    let forged = padded(gw, &token, 64 * 1024).await;
    assert_every_route_refuses_over(gw, &gw.api_http1(), Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_64_kib_token_over_http2() {
    let (gw, _, token) = trader().await;
    let forged = padded(gw, &token, 64 * 1024).await;
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_token_carrying_its_own_jwk() {
    let (gw, _, token) = trader().await;
    let foreign = forge::foreign_key();
    let public = forge::public_key_of(&foreign);
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(public)});
    let forged = Forge::from_token(&token)
        .header("jwk", jwk)
        .sign_eddsa(&foreign);
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_token_pointing_at_a_jku_even_when_signed_by_the_gateway() {
    let (gw, _, token) = trader().await;
    let forged = Forge::from_token(&token)
        .header("jku", json!("https://evil.example/jwks.json"))
        .sign_eddsa(&signing_key(gw).await);
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_token_that_is_not_a_jwt() {
    let gw = TestGateway::shared().await;
    assert_every_route_refuses(gw, Some("not-a-token"), "auth.invalid_token").await;
}

#[tokio::test]
async fn a_genuine_token_re_signed_by_the_gateway_key_is_accepted() {
    // The control for the forgeries above: the forging itself produces valid tokens.
    let (gw, _, token) = trader().await;
    let forged = Forge::from_token(&token).sign_eddsa(&signing_key(gw).await);
    let answer = gw.api().get("/v1/orders", Some(&forged)).await;
    answer.assert_json(200);
}

#[tokio::test]
async fn token_of_a_client_disabled_after_issuance_is_refused() {
    // Disabling a client must cut it off at once, not when its last token expires.
    let (gw, client, token) = trader().await;
    assert_eq!(gw.api().get("/v1/orders", Some(&token)).await.status, 200);
    gw.disable_client(&client).await;

    let answer = gw.api().get("/v1/orders", Some(&token)).await;
    answer.assert_problem(401, "auth.invalid_token");
}

#[tokio::test]
async fn every_route_refuses_a_gateway_signed_token_whose_roles_break_segregation_of_duties() {
    let (gw, _, token) = trader().await;
    let forged = Forge::from_token(&token)
        .claim("roles", json!(["admin", "trader"]))
        .sign_eddsa(&signing_key(gw).await);
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn token_in_the_query_string_is_not_accepted() {
    let (gw, _, token) = trader().await;
    let path = format!("/v1/kill-switch?access_token={token}");
    let answer = gw.api().get(&path, None).await;
    answer.assert_problem(401, "auth.missing_token");
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    // A proxy and the gateway could each read a different one.
    let (gw, _, token) = trader().await;
    let api = gw.api();
    let request = api
        .http()
        .get(api.url("/v1/orders"))
        .header("authorization", format!("Bearer {token}"))
        .header("authorization", "Bearer not-a-token");
    let answer = Answer::of(request).await;
    assert_eq!(answer.status, 401, "{}", answer.text);
    answer.assert_problem_shape();
}

#[tokio::test]
async fn every_route_refuses_a_token_issued_in_the_future() {
    let (gw, _, token) = trader().await;
    let iat = now() + 3600;
    let forged = Forge::from_token(&token)
        .claim("iat", json!(iat))
        .claim("nbf", json!(now() - 10))
        .claim("exp", json!(iat + 300))
        .sign_eddsa(&signing_key(gw).await);
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_token_living_longer_than_fifteen_minutes() {
    let (gw, _, token) = trader().await;
    let forged = Forge::from_token(&token)
        .claim("exp", json!(now() + 24 * 3600))
        .sign_eddsa(&signing_key(gw).await);
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_token_of_another_type() {
    let (gw, _, token) = trader().await;
    let forged = Forge::from_token(&token)
        .header("typ", json!("JWT"))
        .sign_eddsa(&signing_key(gw).await);
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}

#[tokio::test]
async fn every_route_refuses_a_gateway_signed_token_for_a_client_that_does_not_exist() {
    let (gw, _, token) = trader().await;
    let forged = Forge::from_token(&token)
        .claim("sub", json!("cl-ghost"))
        .sign_eddsa(&signing_key(gw).await);
    assert_every_route_refuses(gw, Some(&forged), "auth.invalid_token").await;
}
