//! The remote secret managers: Vault / OpenBao, GCP Secret Manager and AWS Secrets Manager.
//!
//! Rule upheld: credentials come from references only (`env:` or `file:`, resolved
//! here into `secrecy` types) and never appear in an error; TLS to each manager is
//! verified by the backend, with the configured CA bundle when there is one.

use rampart_secrets::gcp::{GcpConfig, GcpStore, ServiceAccountKey};
use rampart_secrets::vault::{KvVersion, VaultAuth, VaultConfig, VaultStore};
use rampart_secrets::{SecretError, SecretValue};
use secrecy::SecretString;

use crate::secrets::backend::{Backend, SecretsOpenError, parse_ref};
use crate::secrets::config::{
    AwsBackendConfig, GcpBackendConfig, VaultAuthKind, VaultBackendConfig,
};

/// Opens Vault, logs in once (so that bad credentials stop start-up) and keeps the token fresh.
pub async fn open_vault(config: &VaultBackendConfig) -> Result<Backend, SecretsOpenError> {
    let auth = match config.auth {
        VaultAuthKind::Token => VaultAuth::Token(text("secrets.vault.token", &config.token)?),
        VaultAuthKind::Approle => VaultAuth::AppRole {
            mount: config
                .approle_mount
                .clone()
                .unwrap_or_else(|| "approle".to_owned()),
            role_id: text("secrets.vault.role_id", &config.role_id)?,
            secret_id: text("secrets.vault.secret_id", &config.secret_id)?,
        },
    };
    let store = VaultStore::new(VaultConfig {
        address: config.address.clone(),
        mount: config.mount.clone(),
        kv: if config.kv_version == 1 {
            KvVersion::V1
        } else {
            KvVersion::V2
        },
        namespace: config.namespace.clone(),
        ca_bundle: config.ca_file.clone(),
        auth,
    })
    .map_err(failed("vault"))?;
    store.login().await.map_err(failed("vault"))?;
    // The renewal task ends by itself once the store is dropped.
    drop(store.spawn_renewal());
    Ok(Backend(Box::new(store)))
}

/// Opens GCP Secret Manager with the service-account key the reference names.
pub fn open_gcp(config: &GcpBackendConfig) -> Result<Backend, SecretsOpenError> {
    let key = resolve("secrets.gcp.credentials", &config.credentials)?;
    let key = ServiceAccountKey::from_json(&key).map_err(failed("gcp"))?;
    let store = GcpStore::new(GcpConfig {
        project: config.project.clone(),
        key,
        endpoint: config.endpoint.clone(),
        ca_bundle: config.ca_file.clone(),
    })
    .map_err(failed("gcp"))?;
    Ok(Backend(Box::new(store)))
}

/// Opens AWS Secrets Manager: static credentials from references, else the default chain.
#[cfg(feature = "aws")]
pub async fn open_aws(config: Option<&AwsBackendConfig>) -> Result<Backend, SecretsOpenError> {
    use rampart_secrets::aws::{AwsConfig, AwsStore, StaticCredentials};
    let config = config.cloned().unwrap_or_default();
    let credentials = match (&config.access_key_id, &config.secret_access_key) {
        (Some(id), Some(key)) => Some(StaticCredentials {
            access_key_id: text("secrets.aws.access_key_id", &Some(id.clone()))?,
            secret_access_key: text("secrets.aws.secret_access_key", &Some(key.clone()))?,
        }),
        _ => None,
    };
    let store = AwsStore::new(AwsConfig {
        region: config.region,
        endpoint: config.endpoint,
        credentials,
    })
    .await
    .map_err(failed("aws"))?;
    Ok(Backend(Box::new(store)))
}

/// Without the `aws` feature, the AWS backend is refused at start-up with the rebuild step.
#[cfg(not(feature = "aws"))]
pub async fn open_aws(config: Option<&AwsBackendConfig>) -> Result<Backend, SecretsOpenError> {
    let _ = config;
    Err(SecretsOpenError::NotBuilt("aws"))
}

/// Resolves a credential reference into a value (`env:` or `file:` only).
fn resolve(key: &'static str, reference: &str) -> Result<SecretValue, SecretsOpenError> {
    let reference = parse_ref(key, reference)?;
    reference
        .resolve_local()
        .map_err(|error| SecretsOpenError::Reference {
            key,
            reason: error.to_string(),
        })
}

/// Resolves a required text credential.
fn text(key: &'static str, reference: &Option<String>) -> Result<SecretString, SecretsOpenError> {
    let reference = reference.as_deref().ok_or(SecretsOpenError::Reference {
        key,
        reason: "is required".to_owned(),
    })?;
    let value = resolve(key, reference)?;
    let text = value.expose_str().ok_or(SecretsOpenError::Reference {
        key,
        reason: "must name a UTF-8 value".to_owned(),
    })?;
    Ok(SecretString::from(text.to_owned()))
}

fn failed(backend: &'static str) -> impl Fn(SecretError) -> SecretsOpenError {
    move |source| SecretsOpenError::Backend { backend, source }
}
