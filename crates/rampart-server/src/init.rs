//! The data directory: what a first start creates and every later start reuses.
//!
//! The directory is private (0700). On first start it receives the development
//! CA and server certificate (unless the operator configured a certificate),
//! the SQLite database, the Ed25519 token-signing key (in the secret store,
//! never a plain file) and a bootstrap `admin` whose one-time password is
//! handed back once, to be printed by the command line, and never logged. A
//! later start creates nothing; a plain key file left by an older version is
//! moved into the secret store once and removed. The audit checkpoint key is a
//! second Ed25519 key in the secret store, never the token key, with its public
//! verifier key in a file for auditors (0644); the checkpoint export directory is
//! private (0700).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use rampart_audit::{CheckpointSigner, NewEvent, Outcome, action};

use rampart_auth::secret::{generate_client_secret, hash_secret};
use rampart_core::{Role, RoleSet};
use rampart_store::{Store, StoreError, UserRecord};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use crate::config::Config;
use crate::devcert::{self, DevCertError, DevCertPaths};
use crate::files;
use crate::inputs::{self, InputError};
use crate::request_id;
use crate::secrets::checkpoint::{self, CheckpointKeyError};
use crate::secrets::rotation::timing;
use crate::secrets::signing::{self, SigningKeyError, TimedKey};
use crate::secrets::{GatewaySecrets, SecretsOpenError};

/// The actor of events the gateway records on its own behalf.
pub const SYSTEM_ACTOR: &str = "system";

/// The username of the bootstrap administrator.
pub const BOOTSTRAP_ADMIN: &str = "admin";

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "rampart.db";

/// Where versions before the secret store kept the token-signing key in plain form.
pub const SIGNING_KEY_FILE: &str = "keys/token-signing.p8";

pub use crate::secrets::checkpoint::{
    CHECKPOINT_KEY_FILE, CHECKPOINT_KEY_NAME, CHECKPOINT_VERIFIER_FILE,
};

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
    /// The checkpoint key could not be read, generated or migrated.
    #[error("the audit checkpoint key is unusable: {0}")]
    CheckpointKey(#[from] CheckpointKeyError),
    /// The database could not be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The secret store could not be opened.
    #[error(transparent)]
    Secrets(#[from] SecretsOpenError),
    /// The token-signing keys could not be read, created or migrated.
    #[error(transparent)]
    Keys(#[from] SigningKeyError),
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
    /// The secret store, audited.
    pub secrets: Arc<GatewaySecrets>,
    /// The token-signing keys with the times they sign from (current last).
    pub signing_keys: Vec<TimedKey>,
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
    let checkpoint_export_dir = config.audit.export_dir(&root);
    private_dir(&checkpoint_export_dir)?;
    let store = Store::open(&root.join(DATABASE_FILE)).await?;
    let secrets = Arc::new(GatewaySecrets::open(config, &store).await?);
    signing::migrate_plain_file(secrets.store(), &store, &root.join(SIGNING_KEY_FILE)).await?;
    let signing_keys = signing::load_keys(secrets.store(), timing(config), Utc::now()).await?;
    let keys: Vec<_> = signing_keys.iter().map(|(key, _)| key).collect();
    let signer = checkpoint::ensure_signer(secrets.store(), &store, &root, &keys).await?;
    let checkpoint_signer = Arc::new(signer);
    let bootstrap_password = ensure_admin(&store).await?;
    // Reads made while starting are in the audit log before the gateway serves.
    secrets.flush_audit().await;

    Ok(DataDir {
        root,
        store,
        secrets,
        signing_keys,
        checkpoint_signer,
        checkpoint_export_dir,
        tls,
        bootstrap_password,
    })
}

impl DataDir {
    /// The id of the key that signs new tokens now.
    pub fn current_kid(&self) -> Option<&str> {
        let now = Utc::now().timestamp();
        let signing = self
            .signing_keys
            .iter()
            .rev()
            .find(|(_, from)| *from <= now);
        signing.map(|(key, _)| key.kid())
    }

    /// Records every queued secret access and closes the database.
    pub async fn close(self) {
        self.secrets.close().await;
        self.store.close().await;
    }
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

/// The checkpoint key of a command that signs checkpoints without a running gateway.
///
/// The reads of the key are audited: they are queued while the command signs
/// and appended by [`CheckpointKey::record_reads`], which the command must call
/// once its checkpoint is made, so that they follow it in the log.
pub struct CheckpointKey {
    /// The key that signs checkpoints.
    pub signer: Arc<CheckpointSigner>,
    secrets: GatewaySecrets,
}

impl CheckpointKey {
    /// Appends the queued reads of the key to the audit log and closes the secret store.
    pub async fn record_reads(self) {
        self.secrets.close().await;
    }
}

/// The checkpoint key of the data directory of `config`, from its secret store.
pub async fn ensure_checkpoint_key(
    config: &Config,
    store: &Store,
) -> Result<CheckpointKey, InitError> {
    let secrets = GatewaySecrets::open_deferred(config, store).await?;
    let loaded = async {
        let signing_keys = signing::load_keys(secrets.store(), timing(config), Utc::now()).await?;
        let keys: Vec<_> = signing_keys.iter().map(|(key, _)| key).collect();
        let root = &config.server.data_dir;
        let signer = checkpoint::ensure_signer(secrets.store(), store, root, &keys).await?;
        Ok::<_, InitError>(signer)
    };
    match loaded.await {
        Ok(signer) => Ok(CheckpointKey {
            signer: Arc::new(signer),
            secrets,
        }),
        Err(error) => {
            secrets.close().await;
            Err(error)
        }
    }
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

    use rampart_auth::SigningKey;
    use rampart_auth::secret::verify_secret;
    use rampart_secrets::SecretStore;

    use super::*;
    use crate::files::{PRIVATE_DIR, PRIVATE_FILE, PUBLIC_FILE, mode_of};
    use crate::secrets::audit::{SECRET_MIGRATED, SECRET_READ, SECRET_WRITTEN};
    use crate::secrets::{CHECKPOINT_KEY, SIGNING_KEY};

    fn config_in(dir: &Path) -> Config {
        Config::for_tests(&dir.join("data"))
    }

    async fn actions(store: &Store) -> Vec<String> {
        let events = store.audit_events(0, 100).await.unwrap();
        events.into_iter().map(|e| e.event.action).collect()
    }

    #[tokio::test]
    async fn first_start_creates_private_files_and_a_bootstrap_admin() {
        let temp = tempfile::tempdir().unwrap();
        let data = ensure_data_dir(&config_in(temp.path())).await.unwrap();
        assert_eq!(mode_of(&data.root).unwrap(), PRIVATE_DIR);
        assert_eq!(mode_of(&data.tls.key_file).unwrap(), PRIVATE_FILE);
        assert_eq!(
            mode_of(&data.root.join("tls/ca-key.pem")).unwrap(),
            PRIVATE_FILE
        );
        assert!(data.tls.dev_ca_file.as_ref().unwrap().is_file());

        let password = data
            .bootstrap_password
            .clone()
            .expect("a one-time password");
        let admin = data
            .store
            .user_by_username(BOOTSTRAP_ADMIN)
            .await
            .unwrap()
            .unwrap();
        assert!(admin.must_change_password);
        assert!(admin.roles.contains(Role::Admin));
        assert!(verify_secret(&admin.password_hash, &password));
        assert!(
            actions(&data.store)
                .await
                .contains(&action::ADMIN_BOOTSTRAPPED.to_owned())
        );
    }

    #[tokio::test]
    async fn signing_key_is_created_in_the_secret_store_not_a_plain_file() {
        let temp = tempfile::tempdir().unwrap();
        let data = ensure_data_dir(&config_in(temp.path())).await.unwrap();
        assert!(!data.root.join(SIGNING_KEY_FILE).exists());
        let stored = data.secrets.store().get(SIGNING_KEY).await.unwrap();
        let key = SigningKey::from_pkcs8_der(stored.value.expose_bytes()).unwrap();
        assert_eq!(data.current_kid(), Some(key.kid()));

        let master_key = data.secrets.dev_master_key().unwrap().to_path_buf();
        assert_eq!(mode_of(&master_key).unwrap(), PRIVATE_FILE);
        data.secrets.flush_audit().await;
        let recorded = actions(&data.store).await;
        assert!(
            recorded.contains(&SECRET_WRITTEN.to_owned()),
            "{recorded:?}"
        );
        assert!(recorded.contains(&SECRET_READ.to_owned()), "{recorded:?}");
    }

    #[tokio::test]
    async fn second_start_reuses_everything_and_creates_nothing() {
        let temp = tempfile::tempdir().unwrap();
        let config = config_in(temp.path());
        let first = ensure_data_dir(&config).await.unwrap();
        let kid = first.current_kid().unwrap().to_owned();
        let cert = fs::read(&first.tls.cert_file).unwrap();
        first.close().await;

        let second = ensure_data_dir(&config).await.unwrap();
        assert!(second.bootstrap_password.is_none());
        assert_eq!(second.current_kid(), Some(kid.as_str()));
        assert_eq!(fs::read(&second.tls.cert_file).unwrap(), cert);
        let recorded = actions(&second.store).await;
        let bootstraps = recorded.iter().filter(|a| *a == action::ADMIN_BOOTSTRAPPED);
        assert_eq!(bootstraps.count(), 1);
        assert_eq!(
            events_named(&second.store, SECRET_WRITTEN, SIGNING_KEY).await,
            1
        );
        assert_eq!(
            events_named(&second.store, SECRET_WRITTEN, CHECKPOINT_KEY).await,
            1
        );
    }

    #[tokio::test]
    async fn plain_key_file_is_moved_into_the_store_once_and_removed() {
        let temp = tempfile::tempdir().unwrap();
        let config = config_in(temp.path());
        let plain = config.server.data_dir.join(SIGNING_KEY_FILE);
        fs::create_dir_all(plain.parent().unwrap()).unwrap();
        let key = SigningKey::generate().unwrap();
        fs::write(&plain, key.expose_pkcs8_der()).unwrap();

        let data = ensure_data_dir(&config).await.unwrap();
        assert!(!plain.exists());
        assert_eq!(data.current_kid(), Some(key.kid()));
        let recorded = actions(&data.store).await;
        assert_eq!(recorded.iter().filter(|a| *a == SECRET_MIGRATED).count(), 1);
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

    async fn events_named(store: &Store, action: &str, name: &str) -> usize {
        let events = store.audit_events(0, 100).await.unwrap();
        let named = |e: &&rampart_audit::StoredEvent| {
            e.event.action == action && e.event.details["name"] == name
        };
        events.iter().filter(named).count()
    }

    #[tokio::test]
    async fn checkpoint_key_is_kept_in_the_secret_store_apart_from_the_token_key() {
        let temp = tempfile::tempdir().unwrap();
        let data = ensure_data_dir(&config_in(temp.path())).await.unwrap();
        assert!(!data.root.join(CHECKPOINT_KEY_FILE).exists());
        let stored = data.secrets.store().get(CHECKPOINT_KEY).await.unwrap();
        let signer =
            CheckpointSigner::from_pkcs8(CHECKPOINT_KEY_NAME, stored.value.expose_bytes()).unwrap();
        assert_eq!(signer.key_id(), data.checkpoint_signer.key_id());
        let token_key = data.secrets.store().get(SIGNING_KEY).await.unwrap();
        assert_ne!(token_key.value.expose_bytes(), stored.value.expose_bytes());

        let verifier = data.root.join(CHECKPOINT_VERIFIER_FILE);
        assert_eq!(mode_of(&verifier).unwrap(), PUBLIC_FILE);
        let published = fs::read_to_string(&verifier).unwrap();
        assert_eq!(published.trim_end(), data.checkpoint_signer.verifier_key());
        assert_eq!(mode_of(&data.checkpoint_export_dir).unwrap(), PRIVATE_DIR);
        data.secrets.flush_audit().await;
        assert!(events_named(&data.store, SECRET_READ, CHECKPOINT_KEY).await >= 1);
        assert_eq!(
            events_named(&data.store, SECRET_WRITTEN, CHECKPOINT_KEY).await,
            1
        );
    }

    #[tokio::test]
    async fn plain_checkpoint_key_file_is_moved_into_the_store_once_and_removed() {
        let temp = tempfile::tempdir().unwrap();
        let config = config_in(temp.path());
        let plain = config.server.data_dir.join(CHECKPOINT_KEY_FILE);
        fs::create_dir_all(plain.parent().unwrap()).unwrap();
        let old = CheckpointSigner::generate(CHECKPOINT_KEY_NAME).unwrap();
        fs::write(&plain, old.expose_pkcs8_der()).unwrap();
        let verifier = config.server.data_dir.join(CHECKPOINT_VERIFIER_FILE);
        fs::write(&verifier, format!("{}\n", old.verifier_key())).unwrap();

        let first = ensure_data_dir(&config).await.unwrap();
        assert!(!plain.exists());
        assert_eq!(first.checkpoint_signer.key_id(), old.key_id());
        first.close().await;
        let second = ensure_data_dir(&config).await.unwrap();
        assert_eq!(second.checkpoint_signer.key_id(), old.key_id());
        let migrated = events_named(&second.store, SECRET_MIGRATED, CHECKPOINT_KEY).await;
        assert_eq!(migrated, 1);
    }

    #[tokio::test]
    async fn command_line_reads_the_same_checkpoint_key_from_the_store() {
        let temp = tempfile::tempdir().unwrap();
        let config = config_in(temp.path());
        let data = ensure_data_dir(&config).await.unwrap();
        let key_id = data.checkpoint_signer.key_id();
        let store = data.store.clone();
        data.secrets.close().await;
        let before = store.audit_len().await.unwrap();
        let again = ensure_checkpoint_key(&config, &store).await.unwrap();
        assert_eq!(again.signer.key_id(), key_id);
        assert_eq!(
            store.audit_len().await.unwrap(),
            before,
            "reads wait for the checkpoint"
        );
        again.record_reads().await;
        assert!(events_named(&store, SECRET_READ, CHECKPOINT_KEY).await >= 2);
        store.close().await;
    }

    #[tokio::test]
    async fn damaged_plain_checkpoint_key_is_refused_not_replaced() {
        let temp = tempfile::tempdir().unwrap();
        let config = config_in(temp.path());
        let plain = config.server.data_dir.join(CHECKPOINT_KEY_FILE);
        fs::create_dir_all(plain.parent().unwrap()).unwrap();
        fs::write(&plain, b"not a key").unwrap();
        assert!(matches!(
            ensure_data_dir(&config).await,
            Err(InitError::CheckpointKey(CheckpointKeyError::Migration(_)))
        ));
        assert_eq!(fs::read(&plain).unwrap(), b"not a key");
    }

    #[tokio::test]
    async fn verifier_file_of_another_key_is_refused_not_replaced() {
        let temp = tempfile::tempdir().unwrap();
        let config = config_in(temp.path());
        let verifier = config.server.data_dir.join(CHECKPOINT_VERIFIER_FILE);
        fs::create_dir_all(verifier.parent().unwrap()).unwrap();
        let other = CheckpointSigner::generate(CHECKPOINT_KEY_NAME).unwrap();
        let text = format!("{}\n", other.verifier_key());
        fs::write(&verifier, &text).unwrap();
        assert!(matches!(
            ensure_data_dir(&config).await,
            Err(InitError::CheckpointKey(
                CheckpointKeyError::VerifierMismatch { .. }
            ))
        ));
        assert_eq!(fs::read_to_string(&verifier).unwrap(), text);
    }

    #[tokio::test]
    async fn damaged_plain_signing_key_is_refused_not_replaced() {
        let temp = tempfile::tempdir().unwrap();
        let config = config_in(temp.path());
        let plain = config.server.data_dir.join(SIGNING_KEY_FILE);
        fs::create_dir_all(plain.parent().unwrap()).unwrap();
        fs::write(&plain, b"not a key").unwrap();
        assert!(matches!(
            ensure_data_dir(&config).await,
            Err(InitError::Keys(SigningKeyError::Migration { .. }))
        ));
        assert_eq!(fs::read(&plain).unwrap(), b"not a key");
    }
}
