//! The gateway on the AWS backend: moto's Secrets Manager on a free loopback port.
//!
//! Built with `--features aws`. The signing key is created in Secrets Manager, tokens
//! work, and a rotation moves the staging labels (AWSPENDING ▶ AWSCURRENT ▶ AWSPREVIOUS).

#![cfg(feature = "aws")]
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
use rampart_secrets::testkit::Moto;
use rampart_server::secrets::SIGNING_KEY;
use rampart_server::secrets::audit::{SECRET_READ, SECRET_ROTATED};
use rampart_server::secrets::config::{AwsBackendConfig, BackendKind};
use rampart_testkit::TestGateway;
use serde_json::Value;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_keeps_its_signing_key_in_aws_secrets_manager_and_rotates_it_by_staging_labels() {
    let moto = Moto::start()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let keys = tempfile::tempdir().unwrap();
    let id = private_file(keys.path(), "aws-key-id", "testing");
    let secret = private_file(keys.path(), "aws-secret-key", "testing");
    let endpoint = moto.endpoint().to_owned();
    let gw = TestGateway::start_with(move |config| {
        config.secrets.backend = BackendKind::Aws;
        config.secrets.publish_delay_seconds = Some(1);
        config.secrets.aws = Some(AwsBackendConfig {
            region: Some("eu-west-2".to_owned()),
            endpoint: Some(endpoint),
            access_key_id: Some(format!("file:{}", id.display())),
            secret_access_key: Some(format!("file:{}", secret.display())),
        });
    })
    .await;

    let api = gw.api();
    let (_, trader) = gw.trader().await;
    assert_eq!(api.get("/v1/orders", Some(&trader)).await.status, 200);
    let admin = gw.bearer(&[Role::Admin], &[]).await;
    let listed = api.get("/v1/secrets", Some(&admin)).await;
    assert_eq!(listed.assert_json(200)["secrets"][0]["backend"], "aws");
    let before = listed.json["secrets"][0]["version"]
        .as_str()
        .unwrap()
        .to_owned();
    let rotated = api
        .post_json(
            "/v1/secrets/token-signing-key/rotate",
            Some(&admin),
            &Value::Null,
        )
        .await;
    let after = rotated.assert_json(200)["version"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(after, before, "a new version is AWSCURRENT");
    let jwks = api.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.json["keys"].as_array().unwrap().len(), 2);
    gw.shutdown().await;

    let events = gw.audit_events().await;
    let reads = events
        .iter()
        .filter(|e| e.action == SECRET_READ && e.details["name"] == SIGNING_KEY)
        .inspect(|e| assert_eq!(e.details["backend"], "aws"))
        .count();
    assert!(reads >= 1);
    assert_eq!(
        events.iter().filter(|e| e.action == SECRET_ROTATED).count(),
        1
    );
}
