//! No value reaches a `Debug`, `Display` or error text: planted canaries are searched for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use proptest::prelude::*;
use rampart_secrets::gcp::ServiceAccountKey;
use rampart_secrets::testkit::GcpFake;
use rampart_secrets::vault::VaultAuth;
use rampart_secrets::{MasterKey, SecretRef, SecretValue};
use secrecy::SecretString;

const CANARY: &str = "canary-7f3a9c1e";

#[test]
fn debug_of_credentials_never_shows_them() {
    let token = VaultAuth::Token(SecretString::from(CANARY.to_owned()));
    let approle = VaultAuth::AppRole {
        mount: "approle".into(),
        role_id: SecretString::from(format!("{CANARY}-role")),
        secret_id: SecretString::from(format!("{CANARY}-secret")),
    };
    let key = MasterKey::from_value(&SecretValue::bytes(vec![7; 32])).unwrap();
    let text = format!(
        "{token:?} {approle:?} {key:?} {:?}",
        SecretValue::text(CANARY)
    );
    assert!(!text.contains(CANARY), "{text}");
    assert!(!text.contains("7, 7"), "{text}");
}

#[tokio::test]
async fn debug_of_a_service_account_key_shows_no_private_key() {
    let fake = GcpFake::start().await.unwrap();
    let key = ServiceAccountKey::from_json(&fake.service_account_key()).unwrap();
    let text = format!("{key:?}");
    assert!(text.contains("client_email"));
    assert!(!text.contains("PRIVATE KEY"), "{text}");
}

#[test]
fn a_malformed_service_account_key_is_refused_without_echo() {
    let value = SecretValue::text(format!("{{\"private_key\": \"{CANARY}\"}}"));
    let error = ServiceAccountKey::from_json(&value)
        .unwrap_err()
        .to_string();
    assert!(!error.contains(CANARY), "{error}");
}

proptest! {
    #[test]
    fn parsing_any_text_never_panics_nor_echoes_it(body in "[ -~]{0,80}") {
        for scheme in ["", "env:", "file:", "vault:", "aws-sm:", "gcp-sm:", "store:"] {
            let text = format!("{scheme}{CANARY}{body}#bad key");
            if let Err(error) = SecretRef::parse(&text) {
                prop_assert!(!error.to_string().contains(CANARY));
            }
        }
    }
}
