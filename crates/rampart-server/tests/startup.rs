//! Start-up: a start bound to fail creates nothing, and the development warning is logged once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use rampart_server::init::{InitError, ensure_data_dir};
use rampart_server::inputs::InputError;
use rampart_server::{Config, Gateway, StartError};

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

fn config_without_market_data(root: &std::path::Path) -> Config {
    let mut config = Config::for_tests(&root.join("data"));
    config.market.data_dir = root.join("no-market-data");
    config
}

#[tokio::test]
async fn missing_market_data_fails_before_the_data_directory_is_created() {
    let root = tempfile::tempdir().unwrap();
    let config = config_without_market_data(root.path());
    let error = ensure_data_dir(&config).await.unwrap_err();
    assert!(
        matches!(error, InitError::Inputs(InputError::Market { .. })),
        "{error}"
    );
    assert!(!config.server.data_dir.exists(), "nothing was created");
}

#[tokio::test]
async fn gateway_with_missing_market_data_creates_no_data_directory_and_no_password() {
    let root = tempfile::tempdir().unwrap();
    let config = config_without_market_data(root.path());
    let error = Gateway::start(config.clone()).await.err().unwrap();
    assert!(
        matches!(error, StartError::Inputs(InputError::Market { .. })),
        "{error}"
    );
    assert!(!config.server.data_dir.exists(), "nothing was created");
}

#[tokio::test]
async fn broken_policy_directory_fails_before_the_data_directory_is_created() {
    let root = tempfile::tempdir().unwrap();
    let policies = root.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(policies.join("broken.cedar"), "permit (").unwrap();
    let mut config = Config::for_tests(&root.path().join("data"));
    config.policy.dir = Some(policies);
    let error = ensure_data_dir(&config).await.unwrap_err();
    assert!(
        matches!(error, InitError::Inputs(InputError::Policy(_))),
        "{error}"
    );
    assert!(!config.server.data_dir.exists(), "nothing was created");
}

#[tokio::test]
async fn development_mode_warning_is_logged_once_when_serve_prepares_then_starts() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let root = tempfile::tempdir().unwrap();
    let config = Config::for_tests(&root.path().join("data"));

    // What `rampart serve` does: prepare the directory (to show the password), then start.
    let prepared = ensure_data_dir(&config).await.unwrap();
    prepared.store.close().await;
    drop(prepared);
    let gateway = Gateway::start(config).await.unwrap();
    gateway.shutdown().await.unwrap();

    let text = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert_eq!(text.matches("DEVELOPMENT MODE").count(), 1, "{text}");
}
