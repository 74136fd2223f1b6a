//! Fetching one issuer's discovery document and JWKS over verified HTTPS, and
//! caching its keys with a bounded refetch rate.
//!
//! The HTTP client trusts the issuer's configured CA bundle alone, or else the
//! public web roots; it refuses plain HTTP and redirects, times out, and reads
//! at most 256 KiB of any response. A key set is fetched on first use, again
//! when a token names an unknown `kid` or the set is an hour old, and never
//! twice within the configured interval, so a flood of forged `kid`s cannot
//! turn Rampart into a flood against the issuer.

use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::Jwk;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

use super::OidcError;
use super::config::TrustedIssuerConfig;
use crate::jwk;

/// The most bytes read from a discovery document or JWKS.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// A key set older than this is refetched on the next use (rate permitting).
const KEYS_MAX_AGE_SECONDS: i64 = 3600;

/// The most keys kept from one JWKS.
const MAX_KEYS: usize = 64;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The keys of one issuer and how to fetch them again.
pub(super) struct IssuerKeys {
    issuer: String,
    discovery_url: String,
    allowed: Vec<Algorithm>,
    refetch_interval: i64,
    client: reqwest::Client,
    /// The keys, read without waiting for a fetch in progress.
    keys: RwLock<KeySet>,
    /// Held while fetching, so that one fetch runs at a time.
    fetcher: Mutex<FetchState>,
}

#[derive(Default)]
struct KeySet {
    keys: BTreeMap<String, Jwk>,
    fetched_at: Option<i64>,
}

#[derive(Default)]
struct FetchState {
    jwks_uri: Option<String>,
    attempted_at: Option<i64>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<Value>,
}

impl IssuerKeys {
    /// The key cache of `config`'s issuer, with its own verified HTTPS client.
    pub(super) fn new(config: &TrustedIssuerConfig) -> Result<Self, OidcError> {
        Ok(Self {
            issuer: config.issuer.clone(),
            discovery_url: config.discovery_url(),
            allowed: config.allowed_algs.clone(),
            refetch_interval: i64::try_from(config.refetch_interval_seconds).unwrap_or(i64::MAX),
            client: client(config)?,
            keys: RwLock::new(KeySet::default()),
            fetcher: Mutex::new(FetchState::default()),
        })
    }

    /// The issuer's key `kid`, fetching the key set when it is due.
    ///
    /// A known key of a fresh set is answered at once, even while another
    /// request is fetching; only requests that need the fetch wait for it.
    pub(super) async fn key(&self, kid: &str, now: i64) -> Result<Jwk, OidcError> {
        if let Some(key) = self.known(kid, Some(now)) {
            return Ok(key);
        }
        let mut fetcher = self.fetcher.lock().await;
        if let Some(key) = self.known(kid, Some(now)) {
            return Ok(key);
        }
        if may_fetch(&fetcher, now, self.refetch_interval) {
            fetcher.attempted_at = Some(now);
            match self.fetch(&mut fetcher).await {
                Ok(keys) => {
                    *self.write_keys() = KeySet {
                        keys,
                        fetched_at: Some(now),
                    }
                }
                // A stale set still serves while the issuer is unreachable;
                // with no set at all the failure is the answer.
                Err(error) if self.read_keys().keys.is_empty() => return Err(error),
                Err(error) => tracing::warn!(issuer = %self.issuer, %error, "jwks refetch failed"),
            }
        }
        self.known(kid, None).ok_or(OidcError::UnknownKey)
    }

    /// The key `kid`; with `fresh_at`, only from a set younger than an hour then.
    fn known(&self, kid: &str, fresh_at: Option<i64>) -> Option<Jwk> {
        let set = self.read_keys();
        if let Some(now) = fresh_at {
            let stale = set
                .fetched_at
                .is_none_or(|at| now.saturating_sub(at) >= KEYS_MAX_AGE_SECONDS);
            if stale {
                return None;
            }
        }
        set.keys.get(kid).cloned()
    }

    fn read_keys(&self) -> RwLockReadGuard<'_, KeySet> {
        // Writers replace the whole set in one assignment: never half-written.
        self.keys.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_keys(&self) -> RwLockWriteGuard<'_, KeySet> {
        self.keys.write().unwrap_or_else(PoisonError::into_inner)
    }

    async fn fetch(&self, state: &mut FetchState) -> Result<BTreeMap<String, Jwk>, OidcError> {
        let jwks_uri = match &state.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let uri = self.discover().await?;
                state.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let document: JwksDocument = self.get_json(&jwks_uri, "the jwks is not valid").await?;
        Ok(self.usable_keys(document))
    }

    /// The `jwks_uri` of a discovery document whose `issuer` is exactly ours.
    async fn discover(&self) -> Result<String, OidcError> {
        let discovery: Discovery = self
            .get_json(&self.discovery_url, "the discovery document is not valid")
            .await?;
        if discovery.issuer != self.issuer {
            return Err(self.unavailable("the discovery document names another issuer"));
        }
        let is_https = reqwest::Url::parse(&discovery.jwks_uri)
            .map(|url| url.scheme() == "https")
            .unwrap_or(false);
        if !is_https {
            return Err(self.unavailable("`jwks_uri` is not an https URL"));
        }
        Ok(discovery.jwks_uri)
    }

    /// Public signature keys with a `kid` that fit an allowed algorithm.
    fn usable_keys(&self, document: JwksDocument) -> BTreeMap<String, Jwk> {
        document
            .keys
            .iter()
            .filter_map(|value| jwk::parse_public(value).ok())
            .filter(|key| self.allowed.iter().any(|alg| jwk::fits(key, *alg)))
            .filter_map(|key| Some((key.common.key_id.clone()?, key)))
            .take(MAX_KEYS)
            .collect()
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        url: &str,
        invalid: &'static str,
    ) -> Result<T, OidcError> {
        let mut response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|_| self.unavailable("the request failed (connection, tls or timeout)"))?;
        if !response.status().is_success() {
            return Err(self.unavailable("the issuer answered with an error status"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| self.unavailable("the response could not be read"))?
        {
            if body.len().saturating_add(chunk.len()) > MAX_BODY_BYTES {
                return Err(self.unavailable("the response is larger than 256 KiB"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|_| self.unavailable(invalid))
    }

    fn unavailable(&self, reason: &'static str) -> OidcError {
        OidcError::KeysUnavailable {
            issuer: self.issuer.clone(),
            reason,
        }
    }
}

/// Whether a fetch may start at `now`: never twice within `interval` seconds.
fn may_fetch(state: &FetchState, now: i64, interval: i64) -> bool {
    state
        .attempted_at
        .is_none_or(|at| now < at || now.saturating_sub(at) >= interval)
}

/// An HTTPS-only client trusting the issuer's CA bundle, or the web roots.
fn client(config: &TrustedIssuerConfig) -> Result<reqwest::Client, OidcError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .https_only(true)
        .min_tls_version(reqwest::tls::Version::TLS_1_2)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT);
    if let Some(path) = &config.ca_file {
        let ca_error = |reason: String| OidcError::CaFile {
            issuer: config.issuer.clone(),
            reason,
        };
        let pem =
            std::fs::read(path).map_err(|e| ca_error(format!("`{}`: {e}", path.display())))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|_| ca_error("it is not a PEM bundle of certificates".to_owned()))?;
        if certificates.is_empty() {
            return Err(ca_error("it holds no certificate".to_owned()));
        }
        // INVARIANT: with a CA file, that bundle is the only trust anchor.
        builder = builder.tls_built_in_root_certs(false);
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(|_| OidcError::InvalidConfig {
        issuer: config.issuer.clone(),
        reason: "the https client could not be built",
    })
}
