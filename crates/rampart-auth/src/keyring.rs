//! The token-signing keyring: current, pending and previous keys on one timeline.
//!
//! Every key in the ring is published (JWKS) and trusted (verifier) from the
//! moment it is added. A key signs from its `signs_from` time until the next
//! key's; until then it is *pending*. Once it stops signing it is *previous*
//! and stays published until every token it could have signed has expired
//! (`until + ttl + leeway`), after which it is *retired*: gone from the JWKS and
//! refused by the verifier. So a new key is always published before it signs,
//! and no valid token is refused because its key rotated away.

use std::sync::{Arc, RwLock};

use rampart_core::Principal;
use serde::Serialize;
use serde_json::{Value, json};

use crate::keys::{SigningKey, VerifyingKey};
use crate::token::{
    IssuedToken, Session, TokenConfig, TokenError, TokenIssuer, TokenVerifier, VerifiedClaims,
};

/// Where a key stands in the rotation at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStage {
    /// Published, not signing yet.
    Pending,
    /// The key that signs new tokens.
    Current,
    /// No longer signing; published until its last token expires.
    Previous,
    /// Every token it signed has expired; no longer published or trusted.
    Retired,
}

/// The public facts of one key in the ring (never the private key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyStatus {
    /// The key id.
    pub kid: String,
    /// Its stage at the time asked about.
    pub stage: KeyStage,
    /// When it starts (or started) signing, in Unix seconds.
    pub signs_from: i64,
    /// When it stops signing, once a successor is scheduled.
    pub signs_until: Option<i64>,
    /// When it leaves the JWKS, once a successor is scheduled.
    pub retires_at: Option<i64>,
}

/// Why a key could not join the ring.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// The key is already in the ring.
    #[error("key `{0}` is already in the keyring")]
    DuplicateKey(String),
    /// The key would start signing before the key it follows.
    #[error("a new key must start signing after the last key in the keyring")]
    OutOfOrder,
    /// The token settings were refused.
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// One key with the time it starts signing.
struct Entry {
    issuer: TokenIssuer,
    public: VerifyingKey,
    signs_from: i64,
}

/// An immutable snapshot of the ring, swapped whole when a key joins or leaves.
struct Ring {
    /// Ordered by `signs_from`, strictly increasing.
    entries: Vec<Arc<Entry>>,
    verifier: TokenVerifier,
}

/// The signing keys of one gateway, safe to share between requests.
pub struct Keyring {
    config: TokenConfig,
    ring: RwLock<Arc<Ring>>,
}

impl Keyring {
    /// A ring whose one key signs from the beginning of time.
    pub fn new(key: SigningKey, config: TokenConfig) -> Result<Self, KeyringError> {
        Self::restore([(key, i64::MIN)], config)
    }

    /// A ring of `keys` with the times they start signing, as kept in the secret store.
    pub fn restore(
        keys: impl IntoIterator<Item = (SigningKey, i64)>,
        config: TokenConfig,
    ) -> Result<Self, KeyringError> {
        let mut entries: Vec<Arc<Entry>> = Vec::new();
        for (key, signs_from) in keys {
            let entry = entry_of(key, signs_from, &config)?;
            check_successor(&entries, &entry)?;
            entries.push(Arc::new(entry));
        }
        let ring = build(entries, &config)?;
        Ok(Self {
            config,
            ring: RwLock::new(Arc::new(ring)),
        })
    }

    /// Publishes `key` at once; it signs from `signs_from` (Unix seconds).
    pub fn add(&self, key: SigningKey, signs_from: i64) -> Result<(), KeyringError> {
        let entry = entry_of(key, signs_from, &self.config)?;
        let mut guard = self
            .ring
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        check_successor(&guard.entries, &entry)?;
        let mut entries = guard.entries.clone();
        entries.push(Arc::new(entry));
        *guard = Arc::new(build(entries, &self.config)?);
        Ok(())
    }

    /// Drops the keys retired at `now`; returns their ids. The signing key is always kept.
    pub fn prune(&self, now: i64) -> Vec<String> {
        let mut guard = self
            .ring
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        let statuses = self.statuses_of(&guard, now);
        let retired: Vec<String> = statuses
            .iter()
            .filter(|status| status.stage == KeyStage::Retired)
            .map(|status| status.kid.clone())
            .collect();
        if retired.is_empty() {
            return retired;
        }
        let kept: Vec<Arc<Entry>> = guard
            .entries
            .iter()
            .filter(|entry| !retired.iter().any(|kid| kid == entry.public.kid()))
            .cloned()
            .collect();
        match build(kept, &self.config) {
            Ok(ring) => *guard = Arc::new(ring),
            Err(_) => return Vec::new(),
        }
        retired
    }

    /// Signs a token for `principal` with the key current at `now_unix`.
    pub fn issue(&self, principal: &Principal, now_unix: i64) -> Result<IssuedToken, TokenError> {
        self.with_signer(now_unix, |issuer| issuer.issue(principal, now_unix))
    }

    /// Signs a person's token at `now_ms` (Unix milliseconds, recorded in its `jti`)
    /// with the key current then.
    pub fn issue_for_session_ms(
        &self,
        principal: &Principal,
        session: &Session,
        now_ms: i64,
    ) -> Result<IssuedToken, TokenError> {
        self.with_signer(now_ms.div_euclid(1000), |issuer| {
            issuer.issue_for_session_ms(principal, session, now_ms)
        })
    }

    /// The largest token accepted, in bytes.
    pub fn max_token_bytes(&self) -> usize {
        self.config.max_token_bytes
    }

    /// Verifies `token` against every key published at `now_unix`.
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<VerifiedClaims, TokenError> {
        let ring = self.snapshot();
        let claims = ring.verifier.verify(token, now_unix)?;
        let status = self
            .statuses_of(&ring, now_unix)
            .into_iter()
            .find(|status| status.kid == claims.kid());
        match status {
            Some(status) if status.stage != KeyStage::Retired => Ok(claims),
            _ => Err(TokenError::UnknownKey),
        }
    }

    /// The JWKS document of every key published at `now_unix`, in rotation order.
    pub fn jwks(&self, now_unix: i64) -> Value {
        let ring = self.snapshot();
        let statuses = self.statuses_of(&ring, now_unix);
        let keys: Vec<Value> = ring
            .entries
            .iter()
            .zip(statuses)
            .filter(|(_, status)| status.stage != KeyStage::Retired)
            .map(|(entry, _)| entry.public.public_jwk())
            .collect();
        json!({ "keys": keys })
    }

    /// The id of the key that signs at `now_unix`.
    pub fn current_kid(&self, now_unix: i64) -> Option<String> {
        let ring = self.snapshot();
        let index = current_index(&ring.entries, now_unix)?;
        ring.entries
            .get(index)
            .map(|entry| entry.public.kid().to_owned())
    }

    /// Every key in the ring with its stage at `now_unix`.
    pub fn statuses(&self, now_unix: i64) -> Vec<KeyStatus> {
        self.statuses_of(&self.snapshot(), now_unix)
    }

    /// How long after a key stops signing its last token may still be presented.
    pub fn retention_seconds(&self) -> i64 {
        i64::from(self.config.ttl_seconds) + i64::from(self.config.leeway_seconds)
    }

    fn snapshot(&self) -> Arc<Ring> {
        self.ring
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    /// Runs `sign` with the issuer of the key current at `now_unix`.
    fn with_signer<T>(
        &self,
        now_unix: i64,
        sign: impl FnOnce(&TokenIssuer) -> Result<T, TokenError>,
    ) -> Result<T, TokenError> {
        let ring = self.snapshot();
        let signer = current_index(&ring.entries, now_unix)
            .and_then(|index| ring.entries.get(index))
            .ok_or(TokenError::InvalidKeys("no key signs yet"))?;
        sign(&signer.issuer)
    }

    fn statuses_of(&self, ring: &Ring, now: i64) -> Vec<KeyStatus> {
        let current = current_index(&ring.entries, now);
        let retention = self.retention_seconds();
        let successors = ring
            .entries
            .iter()
            .skip(1)
            .map(|next| Some(next.signs_from));
        ring.entries
            .iter()
            .zip(successors.chain([None]))
            .enumerate()
            .map(|(index, (entry, until))| {
                let retires_at = until.map(|until| until.saturating_add(retention));
                let stage = match (current, retires_at) {
                    (Some(current), _) if index == current => KeyStage::Current,
                    (Some(current), _) if index > current => KeyStage::Pending,
                    (None, _) => KeyStage::Pending,
                    (_, Some(retires)) if now >= retires => KeyStage::Retired,
                    _ => KeyStage::Previous,
                };
                KeyStatus {
                    kid: entry.public.kid().to_owned(),
                    stage,
                    signs_from: entry.signs_from,
                    signs_until: until,
                    retires_at,
                }
            })
            .collect()
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<String> = self
            .snapshot()
            .entries
            .iter()
            .map(|entry| entry.public.kid().to_owned())
            .collect();
        f.debug_struct("Keyring")
            .field("kids", &kids)
            .finish_non_exhaustive()
    }
}

fn entry_of(key: SigningKey, signs_from: i64, config: &TokenConfig) -> Result<Entry, TokenError> {
    let public = key.verifying_key();
    let issuer = TokenIssuer::new(key, config.clone())?;
    Ok(Entry {
        issuer,
        public,
        signs_from,
    })
}

fn check_successor(entries: &[Arc<Entry>], entry: &Entry) -> Result<(), KeyringError> {
    if entries.iter().any(|e| e.public.kid() == entry.public.kid()) {
        return Err(KeyringError::DuplicateKey(entry.public.kid().to_owned()));
    }
    match entries.last() {
        Some(last) if last.signs_from >= entry.signs_from => Err(KeyringError::OutOfOrder),
        _ => Ok(()),
    }
}

fn build(entries: Vec<Arc<Entry>>, config: &TokenConfig) -> Result<Ring, TokenError> {
    let verifier = TokenVerifier::new(entries.iter().map(|e| e.public.clone()), config.clone())?;
    Ok(Ring { entries, verifier })
}

/// The index of the last key whose signing has begun at `now`.
fn current_index(entries: &[Arc<Entry>], now: i64) -> Option<usize> {
    entries.iter().rposition(|entry| entry.signs_from <= now)
}

impl crate::cache::Verify for Keyring {
    fn verify(&self, token: &str, now_unix: i64) -> Result<VerifiedClaims, TokenError> {
        Keyring::verify(self, token, now_unix)
    }

    fn max_token_bytes(&self) -> usize {
        Keyring::max_token_bytes(self)
    }
}
