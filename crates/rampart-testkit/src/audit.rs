//! The audit log as an outside verifier sees it: the published key, checkpoints, proofs.
//!
//! Checkpoints are signed by the gateway's own checkpointer on its schedule; a
//! test asks for one covering the events it made and waits for it, bounded.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rampart_audit::CheckpointVerifier;
use rampart_server::init::CHECKPOINT_VERIFIER_FILE;
use serde_json::Value;

use crate::api::Api;
use crate::gateway::TestGateway;

/// How long a test waits for a checkpoint.
const CHECKPOINT_WAIT: Duration = Duration::from_secs(15);

impl TestGateway {
    /// The verifier of the gateway's checkpoints, from the key file it publishes.
    pub fn checkpoint_verifier(&self) -> CheckpointVerifier {
        let path = self.data_dir().join(CHECKPOINT_VERIFIER_FILE);
        let text = std::fs::read_to_string(&path).expect("the published checkpoint key");
        CheckpointVerifier::from_verifier_key(text.trim_end()).expect("a verifier key")
    }

    /// Waits until the latest checkpoint covers at least `tree_size` events; returns it.
    pub async fn checkpoint_covering(&self, api: &Api, token: &str, tree_size: u64) -> Value {
        let deadline = Instant::now() + CHECKPOINT_WAIT;
        loop {
            let answer = api.get("/v1/audit/checkpoints/latest", Some(token)).await;
            let covered = answer.json.get("tree_size").and_then(Value::as_u64);
            if answer.status == 200 && covered >= Some(tree_size) {
                return answer.json;
            }
            assert!(
                Instant::now() < deadline,
                "no checkpoint covered {tree_size} events in time: {}",
                answer.text
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A base64 hash from a JSON answer.
pub fn hash(value: &Value) -> [u8; 32] {
    let text = value.as_str().expect("a base64 string");
    let bytes = STANDARD.decode(text).expect("standard base64");
    bytes.try_into().expect("32 bytes")
}

/// A list of base64 hashes from a JSON answer.
pub fn hashes(value: &Value) -> Vec<[u8; 32]> {
    value
        .as_array()
        .expect("an array of hashes")
        .iter()
        .map(hash)
        .collect()
}
