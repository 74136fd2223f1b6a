//! Configuration holds references only: an inline secret stops start-up, naming the key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_server::Gateway;
use rampart_server::config::{Config, ConfigError};

// pragma: allowlist nextline secret
const VAULT_TOKEN: &str = "hvs.CAESIJq7Xc2yq1mUcYlXk3yH9Lw0bT8sR5eN4aG2fD6hJ1kPGh4KHGh2cy5";
// pragma: allowlist nextline secret
const RANDOM_KEY: &str = "q3Zt8Yp0Lx2Vn6Rk4Wj9Hs1Gd5Fb7Mc0Qa2Se4Tu6Iy8Oo";

fn refused(text: &str) -> (String, String) {
    match Config::from_toml(text).unwrap_err() {
        ConfigError::Invalid { key, reason } => (key, reason),
        other => panic!("unexpected error {other}"),
    }
}

fn vault_with_token(token: &str) -> String {
    format!(
        "[secrets]\nbackend = \"vault\"\n[secrets.vault]\n\
         address = \"https://127.0.0.1:8200\"\ntoken = \"{token}\"\n"
    )
}

#[test]
fn vault_token_written_inline_is_refused_naming_the_key_and_not_the_value() {
    let (key, reason) = refused(&vault_with_token(VAULT_TOKEN));
    assert_eq!(key, "secrets.vault.token");
    assert!(reason.contains("reference"), "{reason}");
    let message = Config::from_toml(&vault_with_token(VAULT_TOKEN))
        .unwrap_err()
        .to_string();
    assert!(!message.contains("hvs."), "{message}");
    assert!(!message.contains("CAESIJq7"), "{message}");
}

#[test]
fn vault_token_given_as_a_reference_is_accepted() {
    let config = Config::from_toml(&vault_with_token("env:RAMPART_TEST_VAULT_TOKEN")).unwrap();
    let vault = config.secrets.vault.unwrap();
    assert_eq!(vault.token.as_deref(), Some("env:RAMPART_TEST_VAULT_TOKEN"));
}

#[test]
fn master_key_that_is_not_a_reference_is_refused() {
    let (key, _) = refused("[secrets.file]\nmaster_key = \"correct horse battery\"\n");
    assert_eq!(key, "secrets.file.master_key");
}

#[test]
fn high_entropy_value_under_an_unrelated_key_is_refused_by_name() {
    let (key, reason) = refused(&format!("[auth]\naudience = \"{RANDOM_KEY}\"\n"));
    assert_eq!(key, "auth.audience");
    assert!(reason.contains("inline"), "{reason}");
    assert!(!reason.contains(RANDOM_KEY));
}

#[test]
fn pem_private_key_pasted_into_a_setting_is_refused_by_name() {
    // pragma: allowlist nextline secret
    let pem = "-----BEGIN PRIVATE KEY-----\\nMC4CAQAwBQYDK2VwBCIEIA\\n-----END PRIVATE KEY-----";
    let (key, _) = refused(&format!("[auth]\nissuer = \"{pem}\"\n"));
    assert_eq!(key, "auth.issuer");
}

#[test]
fn ordinary_settings_are_not_mistaken_for_secrets() {
    let text = "[server]\npublic_url = \"https://gateway.example.com:8443\"\n\
                [auth]\naudience = \"rampart-production\"\n\
                [secrets.rotation.token-signing-key]\nevery_days = 30\n";
    let config = Config::from_toml(text).unwrap();
    assert_eq!(config.secrets.rotation["token-signing-key"].every_days, 30);
}

#[test]
fn vault_backend_without_its_section_is_refused() {
    let (key, _) = refused("[secrets]\nbackend = \"vault\"\n");
    assert_eq!(key, "secrets.vault");
}

#[tokio::test]
async fn gateway_start_refuses_an_inline_secret_and_creates_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(&temp.path().join("data"));
    config.auth.audience = RANDOM_KEY.to_owned();
    let error = Gateway::start(config)
        .await
        .err()
        .expect("start is refused");
    let message = error.to_string();
    assert!(message.starts_with("`auth.audience`"), "{message}");
    assert!(!message.contains(RANDOM_KEY));
    assert!(!temp.path().join("data").exists());
}

#[test]
fn aws_access_key_without_its_secret_key_is_refused() {
    let text = "[secrets]\nbackend = \"aws\"\n[secrets.aws]\naccess_key_id = \"env:AWS_KEY_ID\"\n";
    let (key, reason) = refused(text);
    assert_eq!(key, "secrets.aws");
    assert!(reason.contains("secret_access_key"), "{reason}");
}

#[test]
fn aws_secret_key_written_inline_is_refused_naming_the_key() {
    // pragma: allowlist nextline secret
    let inline = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
    let text = format!(
        "[secrets]\nbackend = \"aws\"\n[secrets.aws]\naccess_key_id = \"env:AWS_KEY_ID\"\n\
         secret_access_key = \"{inline}\"\n"
    );
    let (key, _) = refused(&text);
    assert_eq!(key, "secrets.aws.secret_access_key");
}
