//! A short-TTL cache of current secret values in front of any [`SecretStore`].
//!
//! Rule upheld: cached values stay in `secrecy` types and are dropped (zeroised) when they
//! expire or are invalidated; a write or rotation through the cache invalidates the name
//! at once, so a rotated secret is never served stale by this process.
//!
//! Refresh before expiry: once an entry is older than `ttl - refresh_ahead`, the next read
//! fetches a fresh value; if that fetch fails, the cached value is served until the TTL
//! ends, so a brief backend outage does not interrupt callers.
//!
//! Put [`crate::Observed`] inside the cache to audit backend reads only, or outside it to
//! audit every read a caller makes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::store::{Secret, SecretError, SecretMeta, SecretStore, SecretValue, Version};

/// How long values are cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// How long a value may be served from the cache.
    pub ttl: Duration,
    /// How long before expiry a read fetches a fresh value.
    pub refresh_ahead: Duration,
}

impl Default for CacheConfig {
    fn default() -> CacheConfig {
        CacheConfig {
            ttl: Duration::from_secs(60),
            refresh_ahead: Duration::from_secs(15),
        }
    }
}

impl CacheConfig {
    /// A TTL with a refresh margin of a quarter of it.
    pub fn with_ttl(ttl: Duration) -> CacheConfig {
        CacheConfig {
            ttl,
            refresh_ahead: ttl / 4,
        }
    }
}

struct Entry {
    secret: Secret,
    fetched: Instant,
}

/// A [`SecretStore`] that caches current values for a short TTL.
pub struct CachedStore<S> {
    inner: S,
    config: CacheConfig,
    entries: Mutex<HashMap<String, Entry>>,
}

impl<S: SecretStore> CachedStore<S> {
    /// Caches `inner` with `config`.
    pub fn new(inner: S, config: CacheConfig) -> CachedStore<S> {
        CachedStore {
            inner,
            config,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Drops the cached value of `name`.
    pub fn invalidate(&self, name: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(name);
        }
    }

    /// Drops every cached value.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    /// The cached secret and whether it is still fresh (before the refresh margin).
    fn cached(&self, name: &str) -> Option<(Secret, bool)> {
        let mut entries = self.entries.lock().ok()?;
        let age = entries.get(name)?.fetched.elapsed();
        if age >= self.config.ttl {
            entries.remove(name);
            return None;
        }
        let fresh = age < self.config.ttl.saturating_sub(self.config.refresh_ahead);
        entries.get(name).map(|entry| (entry.secret.clone(), fresh))
    }

    fn remember(&self, name: &str, secret: &Secret) {
        if let Ok(mut entries) = self.entries.lock() {
            let entry = Entry {
                secret: secret.clone(),
                fetched: Instant::now(),
            };
            entries.insert(name.to_owned(), entry);
        }
    }

    fn after_write<T>(&self, name: &str, result: Result<T, SecretError>) -> Result<T, SecretError> {
        self.invalidate(name);
        result
    }
}

#[async_trait]
impl<S: SecretStore> SecretStore for CachedStore<S> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn get(&self, name: &str) -> Result<Secret, SecretError> {
        let cached = self.cached(name);
        if let Some((secret, true)) = cached {
            return Ok(secret);
        }
        match self.inner.get(name).await {
            Ok(secret) => {
                self.remember(name, &secret);
                Ok(secret)
            }
            Err(error) => {
                tracing::warn!(secret = name, %error, "secret refresh failed");
                cached.map(|(secret, _)| secret).ok_or(error)
            }
        }
    }

    async fn get_version(&self, name: &str, version: &Version) -> Result<Secret, SecretError> {
        self.inner.get_version(name, version).await
    }

    async fn put(
        &self,
        name: &str,
        value: SecretValue,
        cas: Option<&Version>,
    ) -> Result<SecretMeta, SecretError> {
        let result = self.inner.put(name, value, cas).await;
        self.after_write(name, result)
    }

    async fn list(&self) -> Result<Vec<SecretMeta>, SecretError> {
        self.inner.list().await
    }

    async fn metadata(&self, name: &str) -> Result<SecretMeta, SecretError> {
        self.inner.metadata(name).await
    }

    async fn stage_pending(
        &self,
        name: &str,
        value: SecretValue,
    ) -> Result<SecretMeta, SecretError> {
        let result = self.inner.stage_pending(name, value).await;
        self.after_write(name, result)
    }

    async fn pending(&self, name: &str) -> Result<Secret, SecretError> {
        self.inner.pending(name).await
    }

    async fn promote_pending(&self, name: &str) -> Result<SecretMeta, SecretError> {
        let result = self.inner.promote_pending(name).await;
        self.after_write(name, result)
    }

    async fn previous(&self, name: &str) -> Result<Secret, SecretError> {
        self.inner.previous(name).await
    }
}
