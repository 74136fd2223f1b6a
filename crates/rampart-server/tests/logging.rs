//! Over real HTTPS: no secret, token or key reaches a log line. Canary values are
//! planted in credentials and tokens, Rampart's own crates log at TRACE into a
//! buffer, and the buffer is searched for them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rampart_core::Role;
use rampart_testkit::forge::Forge;
use rampart_testkit::market::BTC;
use rampart_testkit::{ApiClient, TestGateway, generous_limits, order};
use serde_json::json;
use tracing_subscriber::EnvFilter;

/// Every log line written, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn capture() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    let filter = EnvFilter::new(
        "info,rampart_server=trace,rampart_store=trace,rampart_auth=trace,\
         rampart_policy=trace,rampart_trading=trace,rampart_audit=trace",
    );
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    captured
}

#[tokio::test]
async fn no_secret_token_or_key_reaches_the_log() {
    let captured = capture();
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let client = gw.add_client(&[Role::Trader], &[&account]).await;
    let api = gw.api();

    let token = gw.token(&client).await;
    api.place(&token, &order::market(&account, BTC, "buy", "0.01"))
        .await
        .assert_json(201);
    let wrong = ApiClient::new(&client.id, "CANARY-wrong-secret-7f3a");
    assert_eq!(gw.token_answer(&wrong).await.status, 401);
    let unknown = ApiClient::new("CANARY-client", "CANARY-unknown-secret-91bc");
    assert_eq!(gw.token_answer(&unknown).await.status, 401);
    let forged = Forge::from_token(&token)
        .claim("canary", json!("CANARY-claim-55d1"))
        .with_original_signature();
    assert_eq!(api.get("/v1/orders", Some(&forged)).await.status, 401);
    let garbage = "CANARY-garbage-token-0e2d";
    assert_eq!(api.get("/v1/orders", Some(garbage)).await.status, 401);
    gw.shutdown().await;

    let logs = captured.text();
    assert!(
        logs.contains("gateway started") || logs.len() > 1000,
        "logging was captured"
    );
    let key = gw.signing_key_der().await;
    let basic = STANDARD.encode(format!("{}:{}", client.id, client.expose_secret()));
    let signature = token.rsplit('.').next().unwrap().to_owned();
    let planted = [
        client.expose_secret().to_owned(),
        token.clone(),
        signature,
        forged.clone(),
        basic,
        "CANARY-wrong-secret-7f3a".to_owned(),
        "CANARY-unknown-secret-91bc".to_owned(),
        "CANARY-claim-55d1".to_owned(),
        garbage.to_owned(),
        URL_SAFE_NO_PAD.encode(&key),
        STANDARD.encode(&key),
    ];
    for value in planted {
        assert!(!logs.contains(&value), "a secret value reached the log");
    }
    assert!(
        !logs.contains("$argon2id$"),
        "a password hash reached the log"
    );
}
