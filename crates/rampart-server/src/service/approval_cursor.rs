//! The opaque cursor of `GET /v1/approvals`: a position sealed under a per-process key.
//!
//! Rule upheld: a listing reveals nothing about approvals the caller cannot read.
//! A page may end on an approval the caller cannot see; its id is never handed
//! out. The position is sealed with ChaCha20-Poly1305 under a random key made
//! at start and held only in memory, with a fresh random nonce per cursor, so a
//! cursor cannot be read, forged or replayed across a restart: a cursor from
//! another process (or altered) is refused with a problem naming `cursor`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;

use crate::problem::ApiError;

/// Binds a sealed cursor to its purpose, so no other sealed value reads as one.
const PURPOSE: &[u8] = b"rampart approvals cursor v1";

/// A failure to make or use the cursor key.
#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    /// The system's random source failed.
    #[error("the system random source failed while making the approvals cursor key")]
    Random,
}

/// The per-process key that seals and opens approval cursors.
pub struct CursorKey {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

impl CursorKey {
    /// A fresh random key, known only to this process.
    pub fn generate() -> Result<Self, CursorError> {
        let random = SystemRandom::new();
        let mut bytes = [0u8; 32];
        random.fill(&mut bytes).map_err(|_| CursorError::Random)?;
        let unbound =
            UnboundKey::new(&CHACHA20_POLY1305, &bytes).map_err(|_| CursorError::Random)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            random,
        })
    }

    /// The opaque cursor of position `after`: base64url of nonce and sealed id.
    pub fn seal(&self, after: Uuid) -> Result<String, ApiError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| crate::service::internal("cursor", &CursorError::Random))?;
        let mut sealed = after.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(PURPOSE),
                &mut sealed,
            )
            .map_err(|_| crate::service::internal("cursor", &CursorError::Random))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// The position sealed in `text`, or a 400 naming `cursor` if this process did not
    /// seal it (altered, made up, or from before a restart).
    pub fn open(&self, text: &str) -> Result<Uuid, ApiError> {
        self.try_open(text).ok_or_else(|| {
            ApiError::invalid(
                "cursor",
                "`cursor` is not a `next_cursor` of this gateway (it may predate a restart); \
                 start again from the first page",
            )
        })
    }

    fn try_open(&self, text: &str) -> Option<Uuid> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let (nonce, sealed) = bytes.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(PURPOSE), &mut sealed)
            .ok()?;
        Uuid::from_slice(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_position_opens_to_itself() {
        let key = CursorKey::generate().unwrap();
        let id = Uuid::now_v7();
        let cursor = key.seal(id).unwrap();
        assert_eq!(key.open(&cursor).unwrap(), id);
        assert!(!cursor.contains(&id.simple().to_string()));
    }

    #[test]
    fn a_cursor_of_another_key_or_altered_is_refused() {
        let (key, other) = (
            CursorKey::generate().unwrap(),
            CursorKey::generate().unwrap(),
        );
        let cursor = key.seal(Uuid::now_v7()).unwrap();
        assert!(other.open(&cursor).is_err());
        let mut altered = cursor.into_bytes();
        if let Some(last) = altered.last_mut() {
            *last = if *last == b'A' { b'B' } else { b'A' };
        }
        assert!(key.open(&String::from_utf8(altered).unwrap()).is_err());
        assert!(key.open("not-a-cursor").is_err());
        assert!(key.open(&Uuid::now_v7().to_string()).is_err());
    }
}
