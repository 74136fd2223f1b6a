//! A bounded cache of verified access tokens, and a verifier that consults it
//! and a revocation check on every call.
//!
//! A busy client presents the same token many times a second; checking its
//! Ed25519 signature and claims once is enough. The cache is keyed by the
//! SHA-256 of the token text (a token itself is never held as a key), holds
//! at most the configured number of entries, and never returns an entry at or
//! after its `exp`, whatever the eviction policy has kept. Revocation does not
//! wait for eviction: [`CachedVerifier::verify`] asks [`IsRevoked`] about the
//! token's `jti` (and the store about its session and subject) on every call,
//! cached or not, so a revoked token is refused at once.
//!
//! The store is `quick_cache`'s sync cache: sharded, lock-per-shard, with
//! CLOCK-Pro eviction that keeps hot tokens and drops scans, which suits many
//! threads reading the same few entries far better than one mutex around an
//! LRU. Removing by `jti` walks the shards; revocation is rare and the cache
//! is bounded, so that walk is cheap next to the request that causes it.

use std::sync::Arc;

use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};

use crate::token::{TokenError, TokenVerifier, VerifiedClaims};

/// The default number of cached tokens.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// Tells whether a verified token may no longer be used.
///
/// Called on every verification, so it must be cheap (an in-memory set
/// refreshed by the store, not a database round trip).
pub trait IsRevoked: Send + Sync {
    /// Whether the token with this `jti` was revoked.
    fn is_revoked(&self, jti: &str) -> bool;

    /// Whether the token is revoked through its `jti`, session or subject;
    /// by default the `jti` alone.
    fn is_claims_revoked(&self, claims: &VerifiedClaims) -> bool {
        self.is_revoked(claims.jti())
    }
}

impl<F> IsRevoked for F
where
    F: Fn(&str) -> bool + Send + Sync,
{
    fn is_revoked(&self, jti: &str) -> bool {
        self(jti)
    }
}

/// Verified claims by token hash; bounded and never past `exp`.
pub struct VerifiedTokenCache {
    entries: Cache<[u8; 32], Arc<VerifiedClaims>>,
}

impl VerifiedTokenCache {
    /// A cache holding at most `capacity` tokens (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Cache::new(capacity.max(1)),
        }
    }

    /// The claims cached for `token`, unless missing or expired at `now_unix`.
    pub fn get(&self, token: &str, now_unix: i64) -> Option<Arc<VerifiedClaims>> {
        let key = key_of(token);
        let claims = self.entries.get(&key)?;
        // INVARIANT: an entry is never served at or after its `exp`.
        if now_unix >= claims.expires_at() {
            self.entries.remove(&key);
            return None;
        }
        Some(claims)
    }

    /// Caches the claims of a token that just passed verification at `now_unix`.
    pub fn insert(&self, token: &str, claims: Arc<VerifiedClaims>, now_unix: i64) {
        if now_unix < claims.expires_at() {
            self.entries.insert(key_of(token), claims);
        }
    }

    /// Drops every entry whose `jti` is `jti`.
    pub fn remove_jti(&self, jti: &str) {
        self.entries.retain(|_, claims| claims.jti() != jti);
    }

    /// Drops every entry for the session `sid`.
    pub fn remove_sid(&self, sid: &str) {
        self.entries.retain(|_, claims| claims.sid() != Some(sid));
    }

    /// Drops every entry for the subject `sub` (a disabled user or client).
    pub fn remove_subject(&self, sub: &str) {
        self.entries
            .retain(|_, claims| claims.principal().id != sub);
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.entries.clear();
    }

    /// The number of entries held now, expired ones included until touched.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most entries the cache holds.
    pub fn capacity(&self) -> u64 {
        self.entries.capacity()
    }
}

impl std::fmt::Debug for VerifiedTokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedTokenCache")
            .field("len", &self.entries.len())
            .field("capacity", &self.entries.capacity())
            .finish()
    }
}

/// What a [`CachedVerifier`] puts in front of: a full, uncached token check.
pub trait Verify: Send + Sync {
    /// Verifies `token` at `now_unix` from scratch.
    fn verify(&self, token: &str, now_unix: i64) -> Result<VerifiedClaims, TokenError>;
    /// The largest token accepted, in bytes.
    fn max_token_bytes(&self) -> usize;
}

impl Verify for TokenVerifier {
    fn verify(&self, token: &str, now_unix: i64) -> Result<VerifiedClaims, TokenError> {
        TokenVerifier::verify(self, token, now_unix)
    }

    fn max_token_bytes(&self) -> usize {
        TokenVerifier::max_token_bytes(self)
    }
}

impl<V: Verify + ?Sized> Verify for Arc<V> {
    fn verify(&self, token: &str, now_unix: i64) -> Result<VerifiedClaims, TokenError> {
        V::verify(self, token, now_unix)
    }

    fn max_token_bytes(&self) -> usize {
        V::max_token_bytes(self)
    }
}

/// A verifier (by default a [`TokenVerifier`]) in front of a [`VerifiedTokenCache`]
/// and a revocation check.
pub struct CachedVerifier<R, V = TokenVerifier> {
    verifier: V,
    cache: VerifiedTokenCache,
    revoked: R,
}

impl<R: IsRevoked, V: Verify> CachedVerifier<R, V> {
    /// Wraps `verifier` with a cache of `capacity` tokens and the check `revoked`.
    pub fn new(verifier: V, capacity: usize, revoked: R) -> Self {
        Self {
            verifier,
            cache: VerifiedTokenCache::new(capacity),
            revoked,
        }
    }

    /// Verifies `token` at `now_unix`: from the cache when it can, fully otherwise,
    /// and refuses a revoked token either way.
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<VerifiedClaims, TokenError> {
        let limit = self.verifier.max_token_bytes();
        if token.len() > limit {
            return Err(TokenError::TooLarge { limit });
        }
        let claims = match self.cache.get(token, now_unix) {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.verifier.verify(token, now_unix)?);
                self.cache.insert(token, Arc::clone(&claims), now_unix);
                claims
            }
        };
        if self.revoked.is_claims_revoked(&claims) {
            self.cache.remove_jti(claims.jti());
            return Err(TokenError::Revoked);
        }
        Ok(VerifiedClaims::clone(&claims))
    }

    /// The cache, to drop entries on revocation, logout or disabling.
    pub fn cache(&self) -> &VerifiedTokenCache {
        &self.cache
    }

    /// The verifier behind the cache.
    pub fn verifier(&self) -> &V {
        &self.verifier
    }
}

impl<R, V> std::fmt::Debug for CachedVerifier<R, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedVerifier")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

fn key_of(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
