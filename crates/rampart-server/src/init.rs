//! The data directory: what a first start creates and every later start reuses.
//!
//! The directory is private (0700). On first start it receives the development
//! CA and server certificate (unless the operator configured a certificate),
//! the Ed25519 token-signing key (0600), the SQLite database and a bootstrap
//! `admin` whose one-time password is handed back once, to be printed by the
//! command line, and never logged. A later start creates nothing. The audit
//! checkpoint key is a second Ed25519 key (0600), never the token key, with its
//! public verifier key beside it for auditors (0644); the checkpoint export
//! directory is private (0700).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use rampart_audit::{CheckpointSigner, NewEvent, Outcome, action};
use rampart_auth::keys::{KeyError, SigningKey};
use rampart_auth::secret::{generate_client_secret, hash_secret};
use rampart_core::{Role, RoleSet};
use rampart_store::{Store, StoreError, UserRecord};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use crate::config::Config;
use crate::devcert::{self, DevCertError, DevCertPaths};
use crate::files::{self, PRIVATE_FILE, PUBLIC_FILE};
use crate::inputs::{self, InputError};
use crate::request_id;

/// The actor of events the gateway records on its own behalf.
pub const SYSTEM_ACTOR: &str = "system";

/// The username of the bootstrap administrator.
pub const BOOTSTRAP_ADMIN: &str = "admin";

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "rampart.db";

/// The token-signing key inside the data directory.
pub const SIGNING_KEY_FILE: &str = "keys/token-signing.p8";

/// The audit checkpoint signing key inside the data directory.
pub const CHECKPOINT_KEY_FILE: &str = "keys/audit-checkpoint.p8";

/// The public verifier key of the checkpoint key, for auditors.
pub const CHECKPOINT_VERIFIER_FILE: &str = "keys/audit-checkpoint.vkey";

/// The key name on every checkpoint signature line.
pub const CHECKPOINT_KEY_NAME: &str = "rampart-audit";

/// Why the data directory could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A directory could not be created or made private.
    #[error("could not prepare the directory `{path}`: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The development certificates could not be created.
    #[error(transparent)]
    DevCert(#[from] DevCertError),
    /// The token-signing key could not be read, generated or written.
    #[error("the token-signing key `{path}` is unusable: {reason}")]
    SigningKey {
        /// The key file.
        path: PathBuf,
        /// What went wrong (never the key).
        reason: String,
    },
    /// The checkpoint key could not be read, generated or written.
    #[error("the audit checkpoint key `{path}` is unusable: {reason}")]
    CheckpointKey {
        /// The key file.
        path: PathBuf,
        /// What went wrong (never the key).
        reason: String,
    },
    /// The database could not be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The bootstrap password could not be hashed.
    #[error("the bootstrap password could not be hashed")]
    Hash,
    /// The market data or the policies could not be loaded; nothing was created.
    #[error(transparent)]
    Inputs(#[from] InputError),
}

/// The certificate and key the listener uses, and the CA file clients trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The PEM certificate chain.
    pub cert_file: PathBuf,
    /// The PEM private key.
    pub key_file: PathBuf,
    /// The development CA certificate, when the development certificate is in use.
    pub dev_ca_file: Option<PathBuf>,
}

/// A prepared data directory and what was loaded from it.
#[derive(Debug)]
pub struct DataDir {
    /// The directory.
    pub root: PathBuf,
    /// The open database.
    pub store: Store,
    /// The key that signs access tokens.
    pub signing_key: SigningKey,
    /// The key that signs audit checkpoints.
    pub checkpoint_signer: Arc<CheckpointSigner>,
    /// Where checkpoints are exported, one file each.
    pub checkpoint_export_dir: PathBuf,
    /// The listener's certificate files.
    pub tls: TlsFiles,
    /// The bootstrap administrator's one-time password, only on the start that created it.
    pub bootstrap_password: Option<SecretString>,
}

/// Creates what is missing in the data directory and opens what exists.
///
/// The market data and the policies are loaded first: when either is missing
/// or broken, nothing is created and no one-time password is shown.
pub async fn ensure_data_dir(config: &Config) -> Result<DataDir, InitError> {
    inputs::load(config).await?;
    create_data_dir(config).await
}

/// Creates what is missing in the data directory, the inputs having been loaded already.
pub(crate) async fn create_data_dir(config: &Config) -> Result<DataDir, InitError> {
    let root = config.server.data_dir.clone();
    private_dir(&root)?;

    let tls = ensure_tls(config, &root)?;
    let signing_key = ensure_signing_key(&root.join(SIGNING_KEY_FILE))?;
    let checkpoint_signer = Arc::new(ensure_checkpoint_key(&root.join(CHECKPOINT_KEY_FILE))?);
    let checkpoint_export_dir = config.audit.export_dir(&root);
    private_dir(&checkpoint_export_dir)?;
    let store = Store::open(&root.join(DATABASE_FILE)).await?;
    let bootstrap_password = ensure_admin(&store).await?;

    Ok(DataDir {
        root,
        store,
        signing_key,
        checkpoint_signer,
        checkpoint_export_dir,
        tls,
        bootstrap_password,
    })
}

fn private_dir(path: &Path) -> Result<(), InitError> {
    files::private_dir(path).map_err(|source| InitError::Directory {
        path: path.to_path_buf(),
        source,
    })
}

fn ensure_tls(config: &Config, root: &Path) -> Result<TlsFiles, InitError> {
    if let (Some(cert_file), Some(key_file)) = (&config.tls.cert_file, &config.tls.key_file) {
        return Ok(TlsFiles {
            cert_file: cert_file.clone(),
            key_file: key_file.clone(),
            dev_ca_file: None,
        });
    }

    let tls_dir = root.join("tls");
    private_dir(&tls_dir)?;
    let paths = DevCertPaths::in_dir(&tls_dir);
    if devcert::ensure(&paths)? {
        tracing::info!(ca = %paths.ca_cert.display(), "development certificate authority created");
    }
    Ok(TlsFiles {
        cert_file: paths.server_cert,
        key_file: paths.server_key,
        dev_ca_file: Some(paths.ca_cert),
    })
}

/// Loads the signing key, or generates and stores it (0600) on first start.
pub fn ensure_signing_key(path: &Path) -> Result<SigningKey, InitError> {
    let failed = |reason: String| InitError::SigningKey {
        path: path.to_path_buf(),
        reason,
    };
    if let Some(parent) = path.parent() {
        private_dir(parent)?;
    }
    if path.exists() {
        let bytes =
            zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| failed(e.to_string()))?);
        return SigningKey::from_pkcs8_der(&bytes).map_err(|e: KeyError| failed(e.to_string()));
    }

    let key = SigningKey::generate().map_err(|e| failed(e.to_string()))?;
    files::create_new(path, PRIVATE_FILE, key.expose_pkcs8_der())
        .map_err(|e| failed(e.to_string()))?;
    tracing::info!(kid = key.kid(), "token-signing key generated");
    Ok(key)
}

/// Loads the checkpoint key, or generates and stores it (0600) with its verifier key.
pub fn ensure_checkpoint_key(path: &Path) -> Result<CheckpointSigner, InitError> {
    let failed = |reason: String| InitError::CheckpointKey {
        path: path.to_path_buf(),
        reason,
    };
    if let Some(parent) = path.parent() {
        private_dir(parent)?;
    }
    let signer = if path.exists() {
        let bytes =
            zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| failed(e.to_string()))?);
        CheckpointSigner::from_pkcs8(CHECKPOINT_KEY_NAME, &bytes)
            .map_err(|e| failed(e.to_string()))?
    } else {
        let signer =
            CheckpointSigner::generate(CHECKPOINT_KEY_NAME).map_err(|e| failed(e.to_string()))?;
        files::create_new(path, PRIVATE_FILE, signer.expose_pkcs8_der())
            .map_err(|e| failed(e.to_string()))?;
        tracing::info!(key = %signer.verifier_key(), "audit checkpoint key generated");
        signer
    };
    let public = path.with_file_name("audit-checkpoint.vkey");
    if !public.exists() {
        let text = format!("{}\n", signer.verifier_key());
        files::create_new(&public, PUBLIC_FILE, text.as_bytes())
            .map_err(|e| failed(e.to_string()))?;
    }
    Ok(signer)
}

/// Creates the bootstrap administrator if there is none; returns its one-time password.
async fn ensure_admin(store: &Store) -> Result<Option<SecretString>, InitError> {
    if store.user_by_username(BOOTSTRAP_ADMIN).await?.is_some() {
        return Ok(None);
    }

    let password = generate_client_secret();
    let hashed = password.clone();
    let password_hash = tokio::task::spawn_blocking(move || hash_secret(&hashed))
        .await
        .map_err(|_| InitError::Hash)?
        .map_err(|_| InitError::Hash)?;
    let roles = RoleSet::new([Role::Admin]).map_err(|_| InitError::Hash)?;
    let user = UserRecord {
        id: Uuid::now_v7().to_string(),
        username: BOOTSTRAP_ADMIN.to_owned(),
        password_hash,
        roles,
        must_change_password: true,
        created_at: Utc::now(),
    };

    let mut tx = store.begin().await?;
    tx.insert_user(&user).await?;
    let event = NewEvent::new(
        SYSTEM_ACTOR,
        action::ADMIN_BOOTSTRAPPED,
        format!("user:{}", user.id),
        Outcome::Success,
        request_id::generate(),
    )
    .details(json!({ "username": BOOTSTRAP_ADMIN, "must_change_password": true }));
    tx.append(event).await?;
    tx.commit().await?;
    tracing::info!(user = %user.id, "bootstrap administrator created");
    Ok(Some(password))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use rampart_auth::secret::verify_secret;

    use super::*;
    use crate::files::{PRIVATE_DIR, mode_of};

    fn config_in(dir: &Path) -> Config {
        Config::for_tests(&dir.join("data"))
    }

    #[tokio::test]
    async fn first_start_creates_private_files_and_a_bootstrap_admin() {
        let temp = tempfile::tempdir().unwrap();
        let data = ensure_data_dir(&config_in(temp.path())).await.unwrap();
        assert_eq!(mode_of(&data.root).unwrap(), PRIVATE_DIR);
        assert_eq!(
            mode_of(&data.root.join(SIGNING_KEY_FILE)).unwrap(),
            PRIVATE_FILE
        );
        assert_eq!(mode_of(&data.tls.key_file).unwrap(), PRIVATE_FILE);
        assert_eq!(
            mode_of(&data.root.join("tls/ca-key.pem")).unwrap(),
            PRIVATE_FILE
        );
        assert!(data.tls.dev_ca_file.as_ref().unwrap().is_file());

        let password = data.bootstrap_password.expect("a one-time password");
        let admin = data
            .store
            .user_by_username(BOOTSTRAP_ADMIN)
            .await
            .unwrap()
            .unwrap();
        assert!(admin.must_change_password);
        assert!(admin.roles.contains(Role::Admin));
        assert!(verify_secret(&admin.password_hash, &password));
        let events = data.store.audit_events(0, 10).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event.action, action::ADMIN_BOOTSTRAPPED);
    }

    #[tokio::test]
    async fn second_start_reuses_everything_and_creates_nothing() {
        let temp = tempfile::tempdir().unwrap();
        let config = config_in(temp.path());
        let first = ensure_data_dir(&config).await.unwrap();
        let kid = first.signing_key.kid().to_owned();
        let cert = fs::read(&first.tls.cert_file).unwrap();
        first.store.close().await;

        let second = ensure_data_dir(&config).await.unwrap();
        assert!(second.bootstrap_password.is_none());
        assert_eq!(second.signing_key.kid(), kid);
        assert_eq!(fs::read(&second.tls.cert_file).unwrap(), cert);
        assert_eq!(second.store.audit_len().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn configured_certificate_skips_the_development_ca() {
        let temp = tempfile::tempdir().unwrap();
        let mut config = config_in(temp.path());
        config.tls.cert_file = Some(temp.path().join("cert.pem"));
        config.tls.key_file = Some(temp.path().join("key.pem"));
        let data = ensure_data_dir(&config).await.unwrap();
        assert!(data.tls.dev_ca_file.is_none());
        assert!(!data.root.join("tls").exists());
    }

    #[tokio::test]
    async fn checkpoint_key_is_private_separate_from_the_token_key_and_published() {
        let temp = tempfile::tempdir().unwrap();
        let data = ensure_data_dir(&config_in(temp.path())).await.unwrap();
        let key_file = data.root.join(CHECKPOINT_KEY_FILE);
        assert_eq!(mode_of(&key_file).unwrap(), PRIVATE_FILE);
        assert_ne!(
            fs::read(&key_file).unwrap(),
            fs::read(data.root.join(SIGNING_KEY_FILE)).unwrap()
        );
        let published = fs::read_to_string(data.root.join(CHECKPOINT_VERIFIER_FILE)).unwrap();
        assert_eq!(published.trim_end(), data.checkpoint_signer.verifier_key());
        assert_eq!(mode_of(&data.checkpoint_export_dir).unwrap(), PRIVATE_DIR);

        let again = ensure_checkpoint_key(&key_file).unwrap();
        assert_eq!(again.key_id(), data.checkpoint_signer.key_id());
    }

    #[test]
    fn damaged_checkpoint_key_is_refused_not_replaced() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("keys/audit-checkpoint.p8");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"not a key").unwrap();
        assert!(matches!(
            ensure_checkpoint_key(&path),
            Err(InitError::CheckpointKey { .. })
        ));
        assert_eq!(fs::read(&path).unwrap(), b"not a key");
    }

    #[test]
    fn damaged_signing_key_is_refused_not_replaced() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("keys/token-signing.p8");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"not a key").unwrap();
        assert!(matches!(
            ensure_signing_key(&path),
            Err(InitError::SigningKey { .. })
        ));
        assert_eq!(fs::read(&path).unwrap(), b"not a key");
    }
}
