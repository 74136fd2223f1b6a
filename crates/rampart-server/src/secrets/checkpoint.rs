//! The audit checkpoint key in the secret store, beside the token-signing key and never it.
//!
//! Rule upheld: no private key sits in a plain file. The checkpoint key is
//! created in the secret store on first start, under its own name, with the
//! same `ensure_key` path as the token-signing key, so every read of it is an
//! access-audited event. A data directory from before keeps the key in
//! `keys/audit-checkpoint.p8`: it is moved into the store once (audited as
//! `secret.migrated`), the file overwritten and removed. Only the public
//! verifier key stays a file (0644), for auditors; a published verifier that
//! does not match the stored key is refused, never silently replaced.

use std::path::{Path, PathBuf};

use rampart_audit::CheckpointSigner;
use rampart_auth::SigningKey;
use rampart_secrets::{SecretError, SecretStore, SecretValue};
use rampart_store::Store;

use crate::files::{self, PUBLIC_FILE};
use crate::secrets::CHECKPOINT_KEY;
use crate::secrets::signing::{self, SigningKeyError};

/// The key name on every checkpoint signature line.
pub const CHECKPOINT_KEY_NAME: &str = "rampart-audit";

/// Where versions before the secret store kept the checkpoint key in plain form.
pub const CHECKPOINT_KEY_FILE: &str = "keys/audit-checkpoint.p8";

/// The public verifier key of the checkpoint key, for auditors.
pub const CHECKPOINT_VERIFIER_FILE: &str = "keys/audit-checkpoint.vkey";

/// Why the checkpoint key could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointKeyError {
    /// The secret store failed.
    #[error("the secret store failed: {0}")]
    Store(#[from] SecretError),
    /// The plain key file could not be migrated, or the audit log could not record it.
    #[error(transparent)]
    Migration(#[from] SigningKeyError),
    /// The stored value is not an Ed25519 PKCS#8 key.
    #[error("secret `{CHECKPOINT_KEY}` is not an audit checkpoint key")]
    NotAKey,
    /// The checkpoint key is the token-signing key.
    #[error("secret `{CHECKPOINT_KEY}` holds the token-signing key; it must be a separate key")]
    SameAsSigningKey,
    /// The published verifier key belongs to another key.
    #[error(
        "the verifier key `{path}` does not match secret `{CHECKPOINT_KEY}`; remove the file \
         only if the checkpoint key was replaced on purpose"
    )]
    VerifierMismatch {
        /// The verifier key file.
        path: PathBuf,
    },
    /// The verifier key file could not be read or written.
    #[error("the verifier key `{path}` is unusable: {reason}")]
    VerifierFile {
        /// The verifier key file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// The checkpoint signer of the data directory `root`, from the secret store.
///
/// A plain key file is migrated first; a new key is generated when the store has
/// none. `signing_keys` are the token-signing keys, which the checkpoint key must
/// not equal. The verifier key file is written when missing.
pub async fn ensure_signer<S: SecretStore + ?Sized>(
    store: &S,
    audit_store: &Store,
    root: &Path,
    signing_keys: &[&SigningKey],
) -> Result<CheckpointSigner, CheckpointKeyError> {
    let plain = root.join(CHECKPOINT_KEY_FILE);
    signing::migrate_key_file(store, audit_store, &plain, CHECKPOINT_KEY, key_id).await?;
    let (stored, created) = signing::ensure_key(store, CHECKPOINT_KEY, generate).await?;
    let signer = CheckpointSigner::from_pkcs8(CHECKPOINT_KEY_NAME, stored.value.expose_bytes())
        .map_err(|_| CheckpointKeyError::NotAKey)?;
    let public = signer.public_key();
    if signing_keys
        .iter()
        .any(|key| key.verifying_key().public_bytes() == &public)
    {
        return Err(CheckpointKeyError::SameAsSigningKey);
    }
    if created {
        tracing::info!(key = %signer.verifier_key(), "audit checkpoint key generated");
    }
    publish_verifier(&root.join(CHECKPOINT_VERIFIER_FILE), &signer)?;
    Ok(signer)
}

/// A new checkpoint key as a secret value (PKCS#8 DER).
fn generate() -> Result<SecretValue, SecretError> {
    let signer = CheckpointSigner::generate(CHECKPOINT_KEY_NAME)
        .map_err(|_| SecretError::Io("no randomness".into()))?;
    Ok(SecretValue::bytes(signer.expose_pkcs8_der().to_vec()))
}

/// The verifier key text of a checkpoint key in PKCS#8 form: it names the key.
fn key_id(der: &[u8]) -> Result<String, String> {
    let signer =
        CheckpointSigner::from_pkcs8(CHECKPOINT_KEY_NAME, der).map_err(|e| e.to_string())?;
    Ok(signer.verifier_key())
}

/// Writes the verifier key (0644) when missing; refuses one of another key.
fn publish_verifier(path: &Path, signer: &CheckpointSigner) -> Result<(), CheckpointKeyError> {
    let failed = |reason: String| CheckpointKeyError::VerifierFile {
        path: path.to_path_buf(),
        reason,
    };
    let text = signer.verifier_key();
    if path.exists() {
        let published = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
        if published.trim_end() != text {
            let path = path.to_path_buf();
            return Err(CheckpointKeyError::VerifierMismatch { path });
        }
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        files::private_dir(parent).map_err(|e| failed(e.to_string()))?;
    }
    files::create_new(path, PUBLIC_FILE, format!("{text}\n").as_bytes())
        .map_err(|e| failed(e.to_string()))
}
