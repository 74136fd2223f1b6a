//! Over real HTTPS: the token-signing key rotates while clients keep working.
//!
//! The gateway runs with a four-second token lifetime, no leeway and a
//! one-second publish delay, so a whole rotation (publish, switch, retire)
//! takes seconds. Clients hammer the API through it; none of their valid
//! tokens may be refused, the new key is in the JWKS before it signs, and the
//! old one leaves once its last token has expired.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_core::Role;
use rampart_server::secrets::SIGNING_KEY;
use rampart_server::secrets::audit::{SECRET_ROTATED, SECRET_ROTATION_FAILED};
use rampart_testkit::{ApiClient, TestGateway, generous_limits};
use serde_json::Value;

const ROTATE: &str = "/v1/secrets/token-signing-key/rotate";

async fn gateway() -> TestGateway {
    TestGateway::start_with(|config| {
        config.auth.token_ttl_seconds = 4;
        config.auth.leeway_seconds = 0;
        config.secrets.publish_delay_seconds = Some(1);
        config.secrets.check_interval_seconds = 1;
    })
    .await
}

async fn jwks_kids(gw: &TestGateway) -> Vec<String> {
    let answer = gw.api().get("/.well-known/jwks.json", None).await;
    let keys = answer.assert_json(200)["keys"].as_array().unwrap().clone();
    keys.iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The `kid` and `exp` of a token, read without verifying it.
fn kid_and_exp(token: &str) -> (String, i64) {
    let mut parts = token.split('.');
    let header = parts.next().unwrap();
    let claims = parts.next().unwrap();
    let decode = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    let kid = decode(header)["kid"].as_str().unwrap().to_owned();
    (kid, decode(claims)["exp"].as_i64().unwrap())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Uses fresh tokens until `stop`, counting requests and refusals of unexpired tokens.
async fn hammer(gw: &TestGateway, client: ApiClient, path: String, stats: Arc<Stats>) {
    let api = gw.api();
    while !stats.stop.load(Ordering::Acquire) {
        let token = gw.token(&client).await;
        let (_, exp) = kid_and_exp(&token);
        // Use it until half a second before it expires, across any rotation.
        while now() < exp - 1 && !stats.stop.load(Ordering::Acquire) {
            let answer = api.get(&path, Some(&token)).await;
            stats.requests.fetch_add(1, Ordering::Relaxed);
            if answer.status == 401 && now() < exp {
                stats.refused.fetch_add(1, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    refused: AtomicU64,
    stop: std::sync::atomic::AtomicBool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_valid_token_is_refused_while_the_signing_key_rotates_under_load() {
    let gw = Arc::new(gateway().await);
    let admin = gw.add_client(&[Role::Admin], &[]).await;
    let before = jwks_kids(&gw).await;
    assert_eq!(before.len(), 1);

    let stats = Arc::new(Stats::default());
    let mut clients = Vec::new();
    for _ in 0..3 {
        let account = gw.add_account(generous_limits()).await;
        let client = gw.add_client(&[Role::Trader], &[&account]).await;
        let path = format!("/v1/accounts/{account}/risk-limits");
        let (gw, stats) = (gw.clone(), stats.clone());
        clients.push(tokio::spawn(async move {
            hammer(&gw, client, path, stats).await
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let admin = gw.token(&admin).await;
    let rotated = gw.api().post_json(ROTATE, Some(&admin), &Value::Null).await;
    let meta = rotated.assert_json(200).clone();
    assert_eq!(meta["name"], SIGNING_KEY);
    assert!(meta.get("value").is_none());
    let during = jwks_kids(&gw).await;
    assert_eq!(during.len(), 2, "old and new key published together");
    assert_eq!(during[0], before[0]);

    // Publish delay (1 s) + lifetime (4 s) + leeway (0) and a tick of the scheduler.
    tokio::time::sleep(Duration::from_secs(7)).await;
    stats.stop.store(true, Ordering::Release);
    for client in clients {
        client.await.unwrap();
    }
    let after = jwks_kids(&gw).await;
    assert_eq!(after, [during[1].clone()], "the old key left the JWKS");

    let requests = stats.requests.load(Ordering::Relaxed);
    assert!(
        requests > 50,
        "the clients kept working: {requests} requests"
    );
    assert_eq!(stats.refused.load(Ordering::Relaxed), 0);
    gw.shutdown().await;
}

#[tokio::test]
async fn new_key_signs_only_after_the_publish_delay() {
    let gw = gateway().await;
    let admin = gw.bearer(&[Role::Admin], &[]).await;
    let (client, _) = gw.trader().await;
    let old = jwks_kids(&gw).await.remove(0);

    gw.api()
        .post_json(ROTATE, Some(&admin), &Value::Null)
        .await
        .assert_json(200);
    let (kid_at_once, _) = kid_and_exp(&gw.token(&client).await);
    assert_eq!(
        kid_at_once, old,
        "the old key signs during the publish delay"
    );

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (kid_later, _) = kid_and_exp(&gw.token(&client).await);
    assert_ne!(kid_later, old);
    assert!(jwks_kids(&gw).await.contains(&kid_later));
    gw.shutdown().await;
}

#[tokio::test]
async fn second_rotation_while_the_old_key_is_still_needed_is_refused_and_audited() {
    let gw = gateway().await;
    let admin = gw.bearer(&[Role::Admin], &[]).await;
    let api = gw.api();
    api.post_json(ROTATE, Some(&admin), &Value::Null)
        .await
        .assert_json(200);
    api.post_json(ROTATE, Some(&admin), &Value::Null)
        .await
        .assert_problem(409, "secret.rotation_too_soon");

    // The current key still works: a token is issued and accepted.
    let (_, token) = gw.trader().await;
    assert_eq!(api.get("/v1/orders", Some(&token)).await.status, 200);
    gw.shutdown().await;

    let events = gw.audit_events().await;
    let count = |name: &str| events.iter().filter(|e| e.action == name).count();
    assert_eq!(count(SECRET_ROTATED), 1);
    assert_eq!(count(SECRET_ROTATION_FAILED), 1);
    let failed = events
        .iter()
        .find(|e| e.action == SECRET_ROTATION_FAILED)
        .unwrap();
    assert_eq!(failed.details["name"], SIGNING_KEY);
    assert_eq!(failed.details["reason"], "conflict");
    assert!(failed.actor.starts_with("cl-"), "the admin is the actor");
}

#[tokio::test]
async fn secret_metadata_is_listed_for_administrators_only_and_never_a_value() {
    let gw = gateway().await;
    let admin = gw.bearer(&[Role::Admin], &[]).await;
    let (_, trader) = gw.trader().await;
    let api = gw.api();

    let listed = api.get("/v1/secrets", Some(&admin)).await;
    let body = listed.assert_json(200);
    let secrets = body["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0]["name"], SIGNING_KEY);
    assert_eq!(secrets[0]["backend"], "file");
    assert!(secrets[0]["next_rotation"].is_string());
    let mut members: Vec<&String> = secrets[0].as_object().unwrap().keys().collect();
    members.sort();
    let expected = [
        "backend",
        "created_at",
        "name",
        "next_rotation",
        "rotated_at",
        "stage",
        "version",
    ];
    assert_eq!(members, expected);

    api.get("/v1/secrets", Some(&trader))
        .await
        .assert_problem(403, "policy.denied");
    api.post_json(ROTATE, Some(&trader), &Value::Null)
        .await
        .assert_problem(403, "policy.denied");
    gw.shutdown().await;
}

#[tokio::test]
async fn rotating_a_secret_the_gateway_does_not_manage_is_not_found() {
    let gw = gateway().await;
    let admin = gw.bearer(&[Role::Admin], &[]).await;
    gw.api()
        .post_json(
            "/v1/secrets/database-password/rotate",
            Some(&admin),
            &Value::Null,
        )
        .await
        .assert_problem(404, "not_found");
    gw.shutdown().await;
}

#[tokio::test]
async fn rotated_key_and_its_predecessor_survive_a_restart() {
    let gw = TestGateway::start_with(|config| {
        config.secrets.publish_delay_seconds = Some(1);
    })
    .await;
    let admin = gw.bearer(&[Role::Admin], &[]).await;
    gw.api()
        .post_json(ROTATE, Some(&admin), &Value::Null)
        .await
        .assert_json(200);
    let published = jwks_kids(&gw).await;
    assert_eq!(published.len(), 2);

    let gw = gw.restart().await;
    assert_eq!(jwks_kids(&gw).await, published);
    gw.shutdown().await;
}
