//! The checkpoint verifier's Ed25519 check against the Wycheproof `ed25519_test.json` vectors:
//! every `valid` case must pass and every `invalid` one fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::path::PathBuf;

use rampart_audit::CheckpointVerifier;
use serde_json::Value;

fn vectors() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/wycheproof/ed25519_test.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn ed25519_vectors_pass_exactly_when_valid() {
    let suite = vectors();
    let (mut valid, mut invalid) = (0, 0);
    for group in suite["testGroups"].as_array().unwrap() {
        let public = hex::decode(group["publicKey"]["pk"].as_str().unwrap()).unwrap();
        let key = CheckpointVerifier::new("wycheproof", public.try_into().unwrap()).unwrap();
        for case in group["tests"].as_array().unwrap() {
            let message = hex::decode(case["msg"].as_str().unwrap()).unwrap();
            let signature = hex::decode(case["sig"].as_str().unwrap()).unwrap();
            let accepted = key.signature_is_valid(&message, &signature);
            match case["result"].as_str().unwrap() {
                "valid" => {
                    assert!(accepted, "tcId {} should verify", case["tcId"]);
                    valid += 1;
                }
                "invalid" => {
                    assert!(!accepted, "tcId {} should not verify", case["tcId"]);
                    invalid += 1;
                }
                other => panic!("tcId {} has result {other}", case["tcId"]),
            }
        }
    }
    assert_eq!(valid + invalid, suite["numberOfTests"].as_u64().unwrap());
    assert!(valid > 0 && invalid > 0);
}
