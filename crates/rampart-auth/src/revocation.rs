//! The in-memory list of revoked access tokens, sessions and subjects that
//! [`crate::cache::CachedVerifier`] consults on every request.
//!
//! Revocation must take effect at once, yet checking a database on every
//! request would undo what the token cache saves. The store stays the record
//! (the gateway loads this list from it at start and adds to both in the
//! same step); this list answers in memory. It refuses a token by its `jti`
//! (RFC 7009 revocation, logout), by its `sid` (a refresh-token family
//! revoked on reuse or logout), or by its subject for every token issued at
//! or before a moment (a disabled user or client). That moment is kept to the
//! millisecond and compared with the issue time our token ids record, so that
//! a person who signs in again in the same second as the revocation is not
//! refused, while every token issued before it still is. Entries outlive every
//! token they can refuse, then [`RevocationList::purge`] drops them, so the
//! list stays as small as the tokens alive.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use crate::cache::IsRevoked;
use crate::token::{MAX_LEEWAY_SECONDS, MAX_TTL_SECONDS, VerifiedClaims};

/// How long after a session or subject revocation a token it covers can still
/// be presented: the longest lifetime plus the largest leeway.
pub const COVER_SECONDS: i64 = MAX_TTL_SECONDS as i64 + MAX_LEEWAY_SECONDS as i64;

/// Revoked token ids, sessions and subjects, shared by all request handlers.
#[derive(Debug, Default)]
pub struct RevocationList {
    inner: RwLock<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// `jti` ▶ the token's `exp`.
    jtis: HashMap<String, i64>,
    /// `sid` ▶ when it was revoked.
    sids: HashMap<String, i64>,
    /// subject ▶ tokens issued at or before this moment (Unix milliseconds) are refused.
    subjects: HashMap<String, i64>,
}

impl RevocationList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuses the token `jti` from now on; it can be forgotten after `expires_at`.
    pub fn revoke_jti(&self, jti: &str, expires_at: i64) {
        self.write().jtis.insert(jti.to_owned(), expires_at);
    }

    /// Refuses every token of the session `sid`, revoked at `now_unix`.
    pub fn revoke_sid(&self, sid: &str, now_unix: i64) {
        self.write().sids.insert(sid.to_owned(), now_unix);
    }

    /// Refuses every token of `subject` issued in or before the second `now_unix`.
    pub fn revoke_subject(&self, subject: &str, now_unix: i64) {
        let end_of_second = now_unix.saturating_mul(1000).saturating_add(999);
        self.revoke_subject_ms(subject, end_of_second);
    }

    /// Refuses every token of `subject` issued at or before `at_ms` (Unix milliseconds).
    pub fn revoke_subject_ms(&self, subject: &str, at_ms: i64) {
        let mut entries = self.write();
        let at = entries.subjects.entry(subject.to_owned()).or_insert(at_ms);
        *at = (*at).max(at_ms);
    }

    /// The latest moment (Unix milliseconds) at or before which `subject`'s tokens are refused.
    pub fn subject_revoked_at_ms(&self, subject: &str) -> Option<i64> {
        self.read().subjects.get(subject).copied()
    }

    /// Drops entries that can no longer refuse a live token.
    pub fn purge(&self, now_unix: i64) {
        let mut entries = self.write();
        let lapsed = |at: i64| now_unix > at.saturating_add(COVER_SECONDS);
        entries
            .jtis
            .retain(|_, exp| now_unix <= exp.saturating_add(i64::from(MAX_LEEWAY_SECONDS)));
        entries.sids.retain(|_, at| !lapsed(*at));
        entries
            .subjects
            .retain(|_, at_ms| !lapsed(at_ms.div_euclid(1000)));
    }

    /// The number of entries held (token ids, sessions and subjects).
    pub fn len(&self) -> usize {
        let entries = self.read();
        entries.jtis.len() + entries.sids.len() + entries.subjects.len()
    }

    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        // A panic elsewhere while holding the lock leaves only whole map
        // operations behind, so the data is still consistent.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl IsRevoked for RevocationList {
    fn is_revoked(&self, jti: &str) -> bool {
        self.read().jtis.contains_key(jti)
    }

    fn is_claims_revoked(&self, claims: &VerifiedClaims) -> bool {
        let entries = self.read();
        if entries.jtis.contains_key(claims.jti()) {
            return true;
        }
        if claims
            .sid()
            .is_some_and(|sid| entries.sids.contains_key(sid))
        {
            return true;
        }
        let subject = claims.principal().id;
        entries
            .subjects
            .get(&subject)
            .is_some_and(|at_ms| claims.issued_at_ms() <= *at_ms)
    }
}

impl IsRevoked for std::sync::Arc<RevocationList> {
    fn is_revoked(&self, jti: &str) -> bool {
        RevocationList::is_revoked(self, jti)
    }

    fn is_claims_revoked(&self, claims: &VerifiedClaims) -> bool {
        RevocationList::is_claims_revoked(self, claims)
    }
}
