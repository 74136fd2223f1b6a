//! Over real HTTPS: a few hundred random and malformed bodies, paths and headers
//! from a seeded generator. The gateway never answers 5xx, and every error is an
//! RFC 9457 problem (or, from the token endpoint, an OAuth error document).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_core::Role;
use rampart_testkit::market::BTC;
use rampart_testkit::{Answer, Api, TestGateway, generous_limits, order};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{Value, json};

const CASES: usize = 150;

/// Checks that `answer` is not a server error and that an error is a problem document
/// (or an OAuth error when `oauth` is set).
fn assert_well_formed(what: &str, answer: &Answer, oauth: bool) {
    assert!(
        answer.status < 500,
        "{what}: got {}: {}",
        answer.status,
        answer.text
    );
    if answer.status < 400 {
        return;
    }
    let problem = answer.media_type() == "application/problem+json"
        && answer.json["code"].is_string()
        && answer.json["status"].as_u64() == Some(u64::from(answer.status));
    let oauth_error = oauth && answer.json["error"].is_string();
    assert!(
        problem || oauth_error,
        "{what}: not a problem document: {} {}",
        answer.status,
        answer.text
    );
}

fn random_text(rng: &mut StdRng, max: usize) -> String {
    let alphabet: Vec<char> = "aZ09 -_.:/\\\"'{}[],;=&%+?#\u{0}\u{7f}\u{e9}\u{1F600}\n\t"
        .chars()
        .collect();
    let len = rng.gen_range(0..=max);
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
        .collect()
}

fn random_scalar(rng: &mut StdRng) -> Value {
    match rng.gen_range(0..9) {
        0 => Value::Null,
        1 => json!(rng.r#gen::<bool>()),
        2 => json!(rng.r#gen::<i64>()),
        3 => json!(rng.r#gen::<f64>() * 1e300),
        4 => json!("1e400"),
        5 => json!("-0.000"),
        6 => json!("99999999999999999999999999999999999999999"),
        7 => json!(["0.01"]),
        _ => json!(random_text(rng, 20)),
    }
}

/// A valid order with one to three members changed, removed or added at random.
fn mutated_order(rng: &mut StdRng, valid: &Value) -> Value {
    let mut body = valid.clone();
    let members = [
        "account_id",
        "instrument",
        "side",
        "type",
        "quantity",
        "limit_price",
        "time_in_force",
        "client_order_id",
        "extra",
    ];
    for _ in 0..rng.gen_range(1..=3) {
        let member = members[rng.gen_range(0..members.len())];
        if rng.gen_bool(0.2) {
            body.as_object_mut().unwrap().remove(member);
        } else {
            body[member] = random_scalar(rng);
        }
    }
    body
}

/// Random bytes, truncated JSON, or JSON of the wrong shape.
fn random_body(rng: &mut StdRng, valid: &Value) -> Vec<u8> {
    let text = valid.to_string();
    match rng.gen_range(0..5) {
        0 => (0..rng.gen_range(0..300))
            .map(|_| rng.r#gen::<u8>())
            .collect(),
        1 => text.as_bytes()[..rng.gen_range(0..text.len())].to_vec(),
        2 => {
            let mut bytes = text.into_bytes();
            let at = rng.gen_range(0..bytes.len());
            bytes[at] = rng.r#gen();
            bytes
        }
        3 => random_scalar(rng).to_string().into_bytes(),
        _ => mutated_order(rng, valid).to_string().into_bytes(),
    }
}

fn random_media_type(rng: &mut StdRng) -> &'static str {
    const TYPES: [&str; 6] = [
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ];
    TYPES[rng.gen_range(0..TYPES.len())]
}

async fn trader(gw: &TestGateway) -> (Api, String, Value) {
    let account = gw.add_account(generous_limits()).await;
    let token = gw.bearer(&[Role::Trader], &[&account]).await;
    (
        gw.api(),
        token,
        order::market(&account, BTC, "buy", "0.001"),
    )
}

#[tokio::test]
async fn random_order_bodies_never_cause_a_server_error() {
    let gw = TestGateway::shared().await;
    let (api, token, valid) = trader(gw).await;
    let mut rng = StdRng::seed_from_u64(0x5eed_0001);
    for case in 0..CASES {
        let body = random_body(&mut rng, &valid);
        let media = random_media_type(&mut rng);
        let answer = api
            .post_raw("/v1/orders", Some(&token), media, body.clone())
            .await;
        let what = format!("case {case} ({media}) {:?}", String::from_utf8_lossy(&body));
        assert_well_formed(&what, &answer, false);
    }
}

#[tokio::test]
async fn mutated_order_bodies_are_refused_by_field_or_placed() {
    let gw = TestGateway::shared().await;
    let (api, token, valid) = trader(gw).await;
    let mut rng = StdRng::seed_from_u64(0x5eed_0002);
    for case in 0..CASES {
        let body = mutated_order(&mut rng, &valid);
        let answer = api.place(&token, &body).await;
        assert_well_formed(&format!("case {case} {body}"), &answer, false);
        assert!(
            [200, 201, 400, 404, 409, 422].contains(&answer.status),
            "case {case} {body}: {} {}",
            answer.status,
            answer.text
        );
    }
}

#[tokio::test]
async fn random_paths_and_methods_under_v1_never_cause_a_server_error() {
    let gw = TestGateway::shared().await;
    let (api, token, _) = trader(gw).await;
    let mut rng = StdRng::seed_from_u64(0x5eed_0003);
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
    ];
    for case in 0..CASES {
        let segment: String = random_text(&mut rng, 40);
        let encoded: String = segment.bytes().map(|b| format!("%{b:02X}")).collect();
        let path = match rng.gen_range(0..4) {
            0 => format!("/v1/orders/{encoded}"),
            1 => format!("/v1/orders/{encoded}/cancel"),
            2 => format!("/v1/accounts/{encoded}/risk-limits"),
            _ => format!("/v1/orders?{encoded}={encoded}"),
        };
        let method = methods[rng.gen_range(0..methods.len())].clone();
        let answer = Answer::of(
            api.request(method.clone(), &path, Some(&token))
                .json(&json!({})),
        )
        .await;
        assert_well_formed(&format!("case {case} {method} {path}"), &answer, false);
    }
}

#[tokio::test]
async fn random_headers_never_cause_a_server_error() {
    let gw = TestGateway::shared().await;
    let (api, token, valid) = trader(gw).await;
    let mut rng = StdRng::seed_from_u64(0x5eed_0004);
    for case in 0..CASES {
        let junk: String = random_text(&mut rng, 80)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let authorization = match rng.gen_range(0..5) {
            0 => format!("Bearer {junk}"),
            1 => format!("Basic {junk}"),
            2 => format!("Bearer {token}{junk}"),
            3 => format!("bearer  {token}"),
            _ => junk.clone(),
        };
        let mut request = api
            .http()
            .post(api.url("/v1/orders"))
            .header("content-type", "application/json")
            .header("x-request-id", junk.clone())
            .body(valid.to_string());
        if let Ok(value) = reqwest::header::HeaderValue::from_str(&authorization) {
            request = request.header("authorization", value);
        }
        let answer = Answer::of(request).await;
        assert_well_formed(&format!("case {case} {authorization:?}"), &answer, false);
        let echoed = answer
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(echoed.len() <= 64, "request ids are bounded: {echoed:?}");
    }
}

#[tokio::test]
async fn random_token_requests_never_cause_a_server_error() {
    let gw = TestGateway::shared().await;
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    let api = gw.api();
    let mut rng = StdRng::seed_from_u64(0x5eed_0005);
    let fields = [
        "grant_type",
        "client_id",
        "client_secret",
        "scope",
        "grant_type",
    ];
    for case in 0..CASES {
        let mut form = Vec::new();
        for _ in 0..rng.gen_range(0..5) {
            let name = fields[rng.gen_range(0..fields.len())];
            let value = match rng.gen_range(0..3) {
                0 => "client_credentials".to_owned(),
                1 => client.id.clone(),
                _ => random_text(&mut rng, 30),
            };
            form.push((name, value));
        }
        let mut request = api.http().post(api.url("/oauth/token"));
        request = match rng.gen_range(0..4) {
            0 => request.form(&form),
            1 => request
                .basic_auth(random_text(&mut rng, 10), Some(random_text(&mut rng, 10)))
                .form(&form),
            2 => request
                .header("content-type", random_media_type(&mut rng))
                .body(random_text(&mut rng, 200)),
            _ => request
                .header("authorization", "Basic !!!notbase64")
                .form(&form),
        };
        let answer = Answer::of(request).await;
        assert_well_formed(&format!("case {case} {form:?}"), &answer, true);
        assert!(answer.json.get("access_token").is_none() || answer.status == 200);
    }
}
