//! The file store's master key and its AES-256-GCM sealing of each version.
//!
//! Rule upheld: the master key lives only in a `secrecy` box, is read only from `env:` or
//! from a file of mode 0600 or stricter, and a key that does not open a record is an
//! error, never garbage.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretBox};

use super::record::SealedVersion;
use crate::reference::{SecretRef, read_private_file};
use crate::store::{SecretError, SecretValue};

/// The AES-256 key length in bytes.
const KEY_LEN: usize = 32;

/// The store's master key (32 bytes; written as standard base64).
pub struct MasterKey {
    bytes: SecretBox<[u8; KEY_LEN]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// A new random key.
    pub fn generate() -> Result<MasterKey, SecretError> {
        let mut bytes = Box::new([0u8; KEY_LEN]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| SecretError::Io("the system random generator failed".into()))?;
        Ok(MasterKey {
            bytes: SecretBox::new(bytes),
        })
    }

    /// A key from its base64 text or its 32 raw bytes.
    pub fn from_value(value: &SecretValue) -> Result<MasterKey, SecretError> {
        let invalid = || SecretError::Config("the master key must be 32 bytes, base64".into());
        let decoded = match value.expose_str().filter(|_| value.is_text()) {
            Some(text) => {
                zeroize::Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| invalid())?)
            }
            None => zeroize::Zeroizing::new(value.expose_bytes().to_vec()),
        };
        let mut bytes = Box::new([0u8; KEY_LEN]);
        if decoded.len() != KEY_LEN {
            return Err(invalid());
        }
        bytes.copy_from_slice(&decoded);
        Ok(MasterKey {
            bytes: SecretBox::new(bytes),
        })
    }

    /// A key from an `env:` or `file:` reference (a file must be mode 0600 or stricter).
    pub fn from_ref(reference: &SecretRef) -> Result<MasterKey, SecretError> {
        let value = reference
            .resolve_local()
            .map_err(|e| SecretError::Config(e.to_string()))?;
        MasterKey::from_value(&value)
    }

    /// A key from a file of mode 0600 or stricter.
    pub fn from_file(path: &Path) -> Result<MasterKey, SecretError> {
        let value = read_private_file(path).map_err(|e| SecretError::Config(e.to_string()))?;
        MasterKey::from_value(&value)
    }

    /// Generates a key and writes it to a new file of mode 0600 (refusing to overwrite).
    pub fn create_file(path: &Path) -> Result<MasterKey, SecretError> {
        let key = MasterKey::generate()?;
        let text = zeroize::Zeroizing::new(STANDARD.encode(key.bytes.expose_secret()));
        let io = |e: std::io::Error| SecretError::Io(format!("master key file: {e}"));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.write_all(b"\n").map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(key)
    }

    fn aead(&self) -> Result<LessSafeKey, SecretError> {
        let unbound = UnboundKey::new(&AES_256_GCM, self.bytes.expose_secret())
            .map_err(|_| SecretError::Config("the master key is unusable".into()))?;
        Ok(LessSafeKey::new(unbound))
    }

    /// Seals `plaintext` bound to `context` (the associated data).
    pub(super) fn seal(
        &self,
        context: &[u8],
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SecretError::Io("the system random generator failed".into()))?;
        let mut in_out = plaintext.to_vec();
        self.aead()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut in_out,
            )
            .map_err(|_| SecretError::Corrupt("sealing failed".into()))?;
        Ok((nonce.to_vec(), in_out))
    }

    /// Opens what [`MasterKey::seal`] sealed with the same `context`.
    pub(super) fn unseal(
        &self,
        context: &[u8],
        nonce: &[u8],
        sealed: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, SecretError> {
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| SecretError::Corrupt("a nonce has the wrong length".into()))?;
        let mut in_out = zeroize::Zeroizing::new(sealed.to_vec());
        let opened = self
            .aead()?
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut in_out,
            )
            .map_err(|_| wrong_key())?
            .len();
        in_out.truncate(opened);
        Ok(in_out)
    }

    /// Seals one version of secret `name`.
    pub(super) fn seal_version(
        &self,
        name: &str,
        version: u64,
        value: &SecretValue,
    ) -> Result<SealedVersion, SecretError> {
        let text = value.is_text();
        let (nonce, ciphertext) = self.seal(&context(name, version, text), value.expose_bytes())?;
        Ok(SealedVersion::new(version, text, &nonce, &ciphertext))
    }

    /// Opens one version of secret `name`.
    pub(super) fn open(
        &self,
        name: &str,
        stored: &SealedVersion,
    ) -> Result<SecretValue, SecretError> {
        let (nonce, ciphertext) = stored.decode()?;
        let mut plain = self.unseal(
            &context(name, stored.version, stored.text),
            &nonce,
            &ciphertext,
        )?;
        SecretValue::from_stored(std::mem::take(&mut *plain), stored.text)
    }
}

/// The error for a record the key does not open.
pub(super) fn wrong_key() -> SecretError {
    SecretError::Denied {
        backend: super::BACKEND,
        detail: "the master key does not open this secret store (wrong key or altered data)".into(),
    }
}

/// The associated data binding a sealed value to its secret, version and kind.
fn context(name: &str, version: u64, text: bool) -> Vec<u8> {
    let kind = if text { "text" } else { "bytes" };
    format!("rampart-secrets/file/v1\n{name}\n{version}\n{kind}").into_bytes()
}
