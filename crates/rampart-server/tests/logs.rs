//! No secret, password or token reaches a log line, whatever the request.
//!
//! Canary values are planted in client secrets and bearer tokens, the gateway
//! logs at TRACE for every Rampart crate, and the captured output is searched.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{base_url, https_client, provision_account, provision_client, token};
use rampart_core::Role;
use rampart_server::{Config, Gateway};
use secrecy::ExposeSecret;
use serde_json::json;
use tracing_subscriber::EnvFilter;

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

fn capture() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    let filter = EnvFilter::new("info,rampart_server=trace,rampart_store=trace,rampart_auth=trace");
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    captured
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_tokens_never_reach_the_logs() {
    let logs = capture();
    let temp = tempfile::tempdir().unwrap();
    let mut gateway = Gateway::start(Config::for_tests(temp.path()))
        .await
        .unwrap();
    let bootstrap = gateway.take_bootstrap_password().unwrap();
    provision_account(&gateway).await;
    let secret = provision_client(&gateway, "algo-logs", Role::Trader).await;
    let http = https_client(gateway.ca_pem_path().unwrap());
    let base = base_url(&gateway);

    let canary_secret = "CANARY-SECRET-7f3a9c"; // pragma: allowlist secret
    let refused = http
        .post(format!("{base}/oauth/token"))
        .basic_auth("algo-logs", Some(canary_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let canary_token = "eyJhbGciOiJFZERTQSJ9.CANARY-TOKEN-51be.c2ln";
    let rejected = http
        .get(format!("{base}/v1/orders"))
        .bearer_auth(canary_token)
        .send()
        .await;
    assert_eq!(rejected.unwrap().status(), 401);
    let bearer = token(&http, &base, "algo-logs", &secret).await;
    let order = json!({"account_id": "ACC-SMOKE", "instrument": "BTC-USD", "side": "buy",
        "type": "market", "quantity": "0.001"});
    let placed = http
        .post(format!("{base}/v1/orders"))
        .bearer_auth(&bearer)
        .json(&order)
        .send();
    assert_eq!(placed.await.unwrap().status(), 201);
    gateway.shutdown().await.unwrap();

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("request handled"), "the capture works");
    assert!(text.contains("bearer token rejected"));
    for planted in [
        canary_secret,
        "CANARY-TOKEN",
        secret.expose_secret(),
        bootstrap.expose_secret(),
    ] {
        assert!(!text.contains(planted), "a secret value reached the logs");
    }
    let signature = bearer.rsplit('.').next().unwrap();
    assert!(
        !text.contains(signature),
        "an access token reached the logs"
    );
}
