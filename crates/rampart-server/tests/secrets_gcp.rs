//! The gateway on the GCP backend, against the test kit's FAKE of GCP Secret Manager's
//! documented REST v1 API (GCP publishes no emulator), on a free loopback port.
//!
//! The gateway starts with its signing key, checkpoint key and broker credential in
//! Secret Manager (the broker's as a `gcp-sm:` reference), serves tokens and orders, and
//! rotates both rotating secrets by moving the version aliases.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rampart_core::Role;
use rampart_secrets::testkit::GcpFake;
use rampart_server::secrets::audit::{SECRET_READ, SECRET_ROTATED};
use rampart_server::secrets::config::{BackendKind, GcpBackendConfig};
use rampart_server::secrets::{CHECKPOINT_KEY, SIGNING_KEY};
use rampart_testkit::{TestGateway, generous_limits, market, order};
use serde_json::Value;

const PROJECT: &str = "fake-project";
const BROKER_SECRET: &str = "paper-broker-key";

fn private_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
    path
}

async fn rotate(gw: &TestGateway, admin: &str, name: &str) -> String {
    let path = format!("/v1/secrets/{name}/rotate");
    let rotated = gw.api().post_json(&path, Some(admin), &Value::Null).await;
    rotated.assert_json(200)["version"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_starts_reads_and_rotates_its_secrets_in_gcp_secret_manager() {
    let fake = GcpFake::start()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let keys = tempfile::tempdir().unwrap();
    let account_key = fake.service_account_key();
    let key_file = private_file(keys.path(), "gcp.json", account_key.expose_str().unwrap());
    let endpoint = fake.endpoint().to_owned();
    let gw = TestGateway::start_with(move |config| {
        config.secrets.backend = BackendKind::Gcp;
        config.secrets.publish_delay_seconds = Some(1);
        config.secrets.gcp = Some(GcpBackendConfig {
            project: PROJECT.to_owned(),
            credentials: format!("file:{}", key_file.display()),
            endpoint: Some(endpoint),
            ca_file: None,
        });
        let reference = format!("gcp-sm:projects/{PROJECT}/secrets/{BROKER_SECRET}");
        config.broker.credential = Some(reference);
    })
    .await;

    let account = gw.add_account(generous_limits()).await;
    let trader = gw.bearer(&[Role::Trader], &[&account]).await;
    let body = order::market(&account, market::BTC, "buy", "0.01");
    assert_eq!(gw.api().place(&trader, &body).await.status, 201);
    let admin = gw.bearer(&[Role::Admin], &[]).await;
    let listed = gw.api().get("/v1/secrets", Some(&admin)).await;
    let secrets = listed.assert_json(200)["secrets"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(secrets.len(), 2, "{secrets:?}");
    assert!(
        secrets
            .iter()
            .all(|s| s["backend"] == "gcp" && s["version"] == "1")
    );

    assert_eq!(rotate(&gw, &admin, SIGNING_KEY).await, "2");
    assert_eq!(rotate(&gw, &admin, BROKER_SECRET).await, "2");
    let jwks = gw.api().get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.assert_json(200)["keys"].as_array().unwrap().len(), 2);
    let body = order::market(&account, market::BTC, "buy", "0.01");
    assert_eq!(gw.api().place(&trader, &body).await.status, 201);
    gw.shutdown().await;

    let patched: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert!(!patched.is_empty() && patched.iter().all(|r| r.body["etag"].is_string()));
    let events = gw.audit_events().await;
    let count = |action: &str, name: &str| {
        let matches = |e: &&rampart_audit::AuditEvent| {
            e.action == action && e.details["name"] == name && e.details["backend"] == "gcp"
        };
        events.iter().filter(matches).count()
    };
    for name in [SIGNING_KEY, CHECKPOINT_KEY, BROKER_SECRET] {
        assert!(
            count(SECRET_READ, name) >= 1,
            "{name} is read, and the read audited"
        );
    }
    assert_eq!(count(SECRET_ROTATED, SIGNING_KEY), 1);
    assert_eq!(count(SECRET_ROTATED, BROKER_SECRET), 1);
}
