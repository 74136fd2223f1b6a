//! The in-memory set of revoked access tokens and sessions, checked on every bearer token.
//!
//! Loaded from the store at start and updated in the same request that
//! records a revocation, so that a revoked or logged-out token is refused at
//! once, cached or not. Entries are dropped once the tokens they name have
//! expired. A poisoned lock answers "revoked": the check fails closed.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use rampart_auth::{IsRevoked, VerifiedClaims};
use rampart_store::{Store, StoreError};

/// Revoked token ids and session ids, each with the time after which it may be forgotten.
#[derive(Debug, Default)]
pub struct Revocations {
    jtis: RwLock<HashMap<String, i64>>,
    sids: RwLock<HashMap<String, i64>>,
}

/// The check the cached verifier runs on every token.
#[derive(Debug, Clone)]
pub struct RevocationCheck(pub Arc<Revocations>);

impl Revocations {
    /// The revocations in force at `now`, read from the store.
    ///
    /// Sessions revoked within the last `token_ttl` still have live access tokens.
    pub async fn load(
        store: &Store,
        now: DateTime<Utc>,
        token_ttl: Duration,
    ) -> Result<Revocations, StoreError> {
        let revocations = Revocations::default();
        for (jti, expires) in store.revoked_jtis(now).await? {
            revocations.revoke_jti(&jti, expires.timestamp());
        }
        let until = (now + token_ttl).timestamp();
        for sid in store.revoked_family_ids(now - token_ttl).await? {
            revocations.revoke_sid(&sid, until);
        }
        Ok(revocations)
    }

    /// Refuses the token `jti` until `expires_at` (Unix seconds).
    pub fn revoke_jti(&self, jti: &str, expires_at: i64) {
        if let Ok(mut jtis) = self.jtis.write() {
            jtis.insert(jti.to_owned(), expires_at);
        }
    }

    /// Refuses every token of session `sid` until `until` (Unix seconds).
    pub fn revoke_sid(&self, sid: &str, until: i64) {
        if let Ok(mut sids) = self.sids.write() {
            sids.insert(sid.to_owned(), until);
        }
    }

    /// Forgets entries whose tokens expired before `now_unix`.
    pub fn prune(&self, now_unix: i64) {
        for map in [&self.jtis, &self.sids] {
            if let Ok(mut entries) = map.write() {
                entries.retain(|_, until| *until >= now_unix);
            }
        }
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        let count = |map: &RwLock<HashMap<String, i64>>| map.read().map_or(0, |m| m.len());
        count(&self.jtis) + count(&self.sids)
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn holds(map: &RwLock<HashMap<String, i64>>, key: &str) -> bool {
        map.read().map_or(true, |entries| entries.contains_key(key))
    }
}

impl IsRevoked for RevocationCheck {
    fn is_revoked(&self, jti: &str) -> bool {
        Revocations::holds(&self.0.jtis, jti)
    }

    fn is_claims_revoked(&self, claims: &VerifiedClaims) -> bool {
        self.is_revoked(claims.jti())
            || claims
                .sid()
                .is_some_and(|sid| Revocations::holds(&self.0.sids, sid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_jti_is_held_until_pruned_after_its_expiry() {
        let revocations = Arc::new(Revocations::default());
        revocations.revoke_jti("j-1", 100);
        let check = RevocationCheck(revocations.clone());
        assert!(check.is_revoked("j-1"));
        assert!(!check.is_revoked("j-2"));
        revocations.prune(100);
        assert!(check.is_revoked("j-1"));
        revocations.prune(101);
        assert!(!check.is_revoked("j-1"));
        assert!(revocations.is_empty());
    }
}
