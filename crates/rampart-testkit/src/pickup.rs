//! Set-up tokens as their person receives them: read from the gateway's pickup directory.
//!
//! The API never answers with a set-up token; a test that needs one plays the
//! person reading their mail, which with the default `pickup` delivery is the
//! newest pickup file written for them.

use std::path::PathBuf;

use serde_json::Value;

use crate::gateway::TestGateway;

impl TestGateway {
    /// The directory the gateway writes pickup files to.
    pub fn pickup_dir(&self) -> PathBuf {
        let config = self.config();
        config
            .auth
            .setup_delivery
            .pickup_dir(&config.server.data_dir)
    }

    /// Every pickup file written so far, oldest first, with its path.
    pub fn pickup_files(&self) -> Vec<(PathBuf, Value)> {
        let Ok(entries) = std::fs::read_dir(self.pickup_dir()) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .map(|entry| entry.expect("a readable pickup directory").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        // Names begin with a UUIDv7, so that their order is the order of delivery.
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let text = std::fs::read(&path).expect("a readable pickup file");
                let document = serde_json::from_slice(&text).expect("a JSON pickup file");
                (path, document)
            })
            .collect()
    }

    /// The newest set-up token delivered to `username`; fails the test when there is none.
    pub fn setup_token_for(&self, username: &str) -> String {
        self.pickup_files()
            .into_iter()
            .rev()
            .find(|(_, document)| {
                document.get("username").and_then(Value::as_str) == Some(username)
            })
            .and_then(|(_, document)| {
                let token = document.get("setup_token").and_then(Value::as_str);
                token.map(str::to_owned)
            })
            .unwrap_or_else(|| panic!("no set-up token was delivered to `{username}`"))
    }
}
