//! The gateway on the Vault backend: OpenBao (`bao server -dev` with TLS and a file audit
//! device), started by the test kit on a free loopback port.
//!
//! The signing key is created in Vault, tokens work, a rotation goes through KV v2, and
//! every read Rampart audits appears in OpenBao's own audit log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use rampart_core::Role;
use rampart_secrets::testkit::OpenBao;
use rampart_server::secrets::SIGNING_KEY;
use rampart_server::secrets::audit::{SECRET_READ, SECRET_ROTATED};
use rampart_server::secrets::config::{BackendKind, VaultAuthKind, VaultBackendConfig};
use rampart_testkit::TestGateway;
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::Value;

fn token_file(dir: &std::path::Path, bao: &OpenBao) -> std::path::PathBuf {
    let path = dir.join("vault-token");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    file.write_all(bao.root_token().expose_secret().as_bytes())
        .unwrap();
    path
}

/// OpenBao's audited reads of the signing key's data or metadata.
fn bao_reads(bao: &OpenBao) -> usize {
    let paths = [
        format!("secret/data/{SIGNING_KEY}"),
        format!("secret/metadata/{SIGNING_KEY}"),
    ];
    bao.audit_log()
        .iter()
        .filter(|entry| entry["type"] == "request")
        .filter(|entry| entry["request"]["operation"] == "read")
        .filter(|entry| {
            let path = entry["request"]["path"].as_str().unwrap_or("");
            paths.iter().any(|p| p == path)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_keeps_its_signing_key_in_vault_and_openbao_audits_every_read() {
    let bao = OpenBao::start()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let keys = tempfile::tempdir().unwrap();
    let reference = format!("file:{}", token_file(keys.path(), &bao).display());
    let (address, ca) = (bao.address().to_owned(), bao.ca_bundle());
    let gw = TestGateway::start_with(move |config| {
        config.secrets.backend = BackendKind::Vault;
        config.secrets.publish_delay_seconds = Some(1);
        config.secrets.vault = Some(VaultBackendConfig {
            address,
            mount: "secret".to_owned(),
            kv_version: 2,
            namespace: None,
            ca_file: Some(ca),
            auth: VaultAuthKind::Token,
            token: Some(reference),
            role_id: None,
            secret_id: None,
            approle_mount: None,
        });
    })
    .await;
    assert!(!gw.secret_store_dir().exists(), "no file store was created");

    let api = gw.api();
    let (_, trader) = gw.trader().await;
    assert_eq!(api.get("/v1/orders", Some(&trader)).await.status, 200);
    let admin = gw.bearer(&[Role::Admin], &[]).await;
    let listed = api.get("/v1/secrets", Some(&admin)).await;
    assert_eq!(listed.assert_json(200)["secrets"][0]["backend"], "vault");
    let rotated = api
        .post_json(
            "/v1/secrets/token-signing-key/rotate",
            Some(&admin),
            &Value::Null,
        )
        .await;
    rotated.assert_json(200);
    let jwks = api.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.json["keys"].as_array().unwrap().len(), 2);
    gw.shutdown().await;

    let openbao_reads = bao_reads(&bao);
    let events = gw.audit_events().await;
    let rampart_reads = events
        .iter()
        .filter(|e| e.action == SECRET_READ && e.details["name"] == SIGNING_KEY)
        .inspect(|e| assert_eq!(e.details["backend"], "vault"))
        .count();
    assert!(
        rampart_reads >= 2,
        "start-up and listing reads: {rampart_reads}"
    );
    assert!(
        openbao_reads >= rampart_reads,
        "OpenBao saw {openbao_reads} reads, Rampart audited {rampart_reads}"
    );
    assert_eq!(
        events.iter().filter(|e| e.action == SECRET_ROTATED).count(),
        1
    );

    let stored = bao
        .root_call(Method::GET, &format!("secret/data/{SIGNING_KEY}"), None)
        .await
        .unwrap();
    assert!(stored["data"]["data"]["value"].is_string());
}
