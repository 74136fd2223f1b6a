//! Canary test: planted secret values never reach a log line, an error body, a metric or
//! an audit event, through a whole scenario with failures and key rotations.
//!
//! Planted: the secret store's master key (given by a `file:` reference), a
//! client secret, both token-signing keys (before and after rotation), a Vault
//! token pasted inline into a configuration, wrong client secrets and forged
//! tokens. The scenario logs in, fails to log in, presents bad tokens, reads
//! secret metadata, rotates the signing key, fails a second rotation, and
//! shuts down; then every captured output is searched for every canary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rampart_core::Role;
use rampart_server::config::Config;
use rampart_testkit::{Answer, ApiClient, TestGateway};
use serde_json::Value;
use tracing_subscriber::EnvFilter;

// pragma: allowlist nextline secret
const VAULT_TOKEN: &str = "hvs.CANARYvaultTOKEN0c5b7e2d9a4f6e8b1c3d5f7a9";
const ROTATE: &str = "/v1/secrets/token-signing-key/rotate";

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

fn capture() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    let filter = EnvFilter::new(
        "info,rampart_server=trace,rampart_store=trace,rampart_auth=trace,\
         rampart_secrets=trace,rampart_policy=trace,rampart_trading=trace",
    );
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    captured
}

/// Writes a random master key to a 0600 file and returns the key text and the file.
fn master_key_file(dir: &std::path::Path) -> (String, std::path::PathBuf) {
    let key: [u8; 32] = rand::random();
    let text = STANDARD.encode(key);
    let path = dir.join("master.key");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
    (text, path)
}

/// Every form a secret could leak in: as is, and base64 or base64url of its bytes.
fn forms(value: &[u8]) -> Vec<String> {
    let mut forms = vec![STANDARD.encode(value), URL_SAFE_NO_PAD.encode(value)];
    if let Ok(text) = std::str::from_utf8(value) {
        forms.push(text.to_owned());
    }
    forms
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_planted_secret_reaches_a_log_an_error_body_a_metric_or_an_audit_event() {
    let captured = capture();
    let keys_dir = tempfile::tempdir().unwrap();
    let (master_key, master_key_path) = master_key_file(keys_dir.path());
    let reference = format!("file:{}", master_key_path.display());
    let gw = TestGateway::start_with(|config| {
        config.secrets.file.master_key = Some(reference);
        config.secrets.publish_delay_seconds = Some(1);
    })
    .await;
    let first_signing_key = gw.signing_key_der_with(&master_key_path).await;

    let mut bodies = Vec::new();
    let mut planted = vec![master_key.clone(), VAULT_TOKEN.to_owned()];
    planted.extend(forms(&first_signing_key));
    bodies.extend(scenario(&gw, &mut planted).await);

    // A configuration with the vault token pasted inline is refused, without the token.
    let mut inline = Config::for_tests(&keys_dir.path().join("unused"));
    inline.auth.issuer = Some(VAULT_TOKEN.to_owned());
    let refused = rampart_server::Gateway::start(inline).await.err().unwrap();
    bodies.push(refused.to_string());

    let metrics = gw.api().get("/metrics", None).await.text;
    let rotated_signing_key = gw.signing_key_der_with(&master_key_path).await;
    assert_ne!(rotated_signing_key, first_signing_key, "the key rotated");
    planted.extend(forms(&rotated_signing_key));
    gw.shutdown().await;

    let audit: Vec<String> = gw
        .audit_events()
        .await
        .iter()
        .map(|event| serde_json::to_string(event).unwrap())
        .collect();
    assert!(audit.iter().any(|e| e.contains("secret.rotated")));
    assert!(audit.iter().any(|e| e.contains("secret.rotation_failed")));
    assert!(audit.iter().any(|e| e.contains("secret.read")));
    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(logs.contains("token-signing"), "logging was captured");

    for value in &planted {
        assert!(!logs.contains(value), "a planted secret reached the log");
        assert!(
            !metrics.contains(value),
            "a planted secret reached the metrics"
        );
        for body in &bodies {
            assert!(
                !body.contains(value),
                "a planted secret reached an error body"
            );
        }
        for event in &audit {
            assert!(
                !event.contains(value),
                "a planted secret reached the audit log"
            );
        }
    }
}

/// Logins, failed logins, bad tokens, metadata reads, a rotation and a failed one.
async fn scenario(gw: &TestGateway, planted: &mut Vec<String>) -> Vec<String> {
    let api = gw.api();
    let admin = gw.add_client(&[Role::Admin], &[]).await;
    planted.push(admin.expose_secret().to_owned());
    let (trader, trader_token) = gw.trader().await;
    planted.push(trader.expose_secret().to_owned());
    planted.push(trader_token.clone());
    let mut bodies: Vec<String> = Vec::new();
    let mut keep = |answer: Answer| bodies.push(answer.text);

    let wrong = ApiClient::new(&trader.id, "CANARY-wrong-secret-2b8e");
    planted.push("CANARY-wrong-secret-2b8e".to_owned());
    keep(gw.token_answer(&wrong).await);
    keep(
        gw.token_answer(&ApiClient::new("CANARY-who", VAULT_TOKEN))
            .await,
    );
    keep(api.get("/v1/orders", Some(VAULT_TOKEN)).await);
    let tampered = format!("{trader_token}x");
    keep(api.get("/v1/orders", Some(&tampered)).await);

    let admin_token = gw.token(&admin).await;
    planted.push(admin_token.clone());
    keep(api.get("/v1/secrets", Some(&admin_token)).await);
    keep(api.get("/v1/secrets", Some(&trader_token)).await);
    let rotated = api
        .post_json(ROTATE, Some(&admin_token), &Value::Null)
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    keep(rotated);
    let again = api
        .post_json(ROTATE, Some(&admin_token), &Value::Null)
        .await;
    assert_eq!(again.status, 409, "{}", again.text);
    keep(again);
    keep(
        api.post_json(ROTATE, Some(&trader_token), &Value::Null)
            .await,
    );
    keep(api.get("/.well-known/jwks.json", None).await);
    bodies
}
