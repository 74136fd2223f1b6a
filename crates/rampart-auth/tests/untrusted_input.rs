//! Parsers of untrusted input never panic, whatever they are given.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use rampart_auth::assertion::{ClientAssertion, parse_client_jwk};
use rampart_auth::oidc::unverified_issuer;
use rampart_auth::password::PasswordPolicy;
use rampart_auth::refresh::is_well_formed;
use rampart_auth::totp::TotpSecret;
use secrecy::SecretString;
use serde_json::json;

const NOW: i64 = 1_764_700_000;

fn any_token() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,200}",
        "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,90}",
    ]
}

proptest! {
    #[test]
    fn unverified_issuer_never_panics(token in any_token()) {
        let _ = unverified_issuer(&token);
    }

    #[test]
    fn client_assertion_refuses_garbage_without_panicking(token in any_token()) {
        let jwk = parse_client_jwk(&json!({"kty": "OKP", "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})).unwrap(); // pragma: allowlist secret
        let audiences = ["https://gw.example/oauth/token".to_owned()];
        prop_assert!(ClientAssertion::verify(&token, &jwk, "c-1", &audiences, NOW).is_err());
    }

    #[test]
    fn password_policy_never_panics(password in "\\PC{0,300}", context in "\\PC{0,20}") {
        let _ = PasswordPolicy::default().check(&SecretString::from(password), &[&context]);
    }

    #[test]
    fn totp_verification_never_panics(code in ".{0,12}", now in any::<u64>(), last in any::<Option<u64>>()) {
        let secret = TotpSecret::from_base32(&SecretString::from("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")).unwrap();
        let _ = secret.verify(&code, now, last);
    }

    #[test]
    fn refresh_shape_check_never_panics(token in ".{0,100}") {
        let _ = is_well_formed(&token);
    }
}
