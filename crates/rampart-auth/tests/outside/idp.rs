//! A small identity provider on loopback HTTPS: a discovery document and a
//! JWKS per tenant path, served with a certificate from a CA made here.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

/// What one tenant publishes.
#[derive(Clone, Default)]
pub struct Tenant {
    /// The `issuer` written in the discovery document (normally the tenant's URL).
    pub claimed_issuer: Option<String>,
    pub keys: Vec<Value>,
}

#[derive(Default)]
struct Published {
    tenants: Mutex<BTreeMap<String, Tenant>>,
    jwks_fetches: AtomicUsize,
    base: Mutex<String>,
}

/// A running provider; dropping it stops the server.
pub struct Idp {
    pub addr: SocketAddr,
    pub ca_file: PathBuf,
    published: Arc<Published>,
    handle: Handle,
    _dir: tempfile::TempDir,
}

impl Idp {
    /// Starts the provider on a free loopback port.
    pub async fn start() -> Idp {
        let dir = tempfile::tempdir().unwrap();
        let (ca_pem, server_config) = certificates();
        let ca_file = dir.path().join("idp-ca.pem");
        std::fs::write(&ca_file, ca_pem).unwrap();

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let published = Arc::new(Published::default());
        *published.base.lock().unwrap() = format!("https://127.0.0.1:{}", addr.port());

        let app = Router::new()
            .route("/{tenant}/.well-known/openid-configuration", get(discovery))
            .route("/{tenant}/jwks", get(jwks))
            .with_state(Arc::clone(&published));
        let handle = Handle::new();
        let server =
            axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(server_config))
                .handle(handle.clone());
        tokio::spawn(async move { server.serve(app.into_make_service()).await });
        Idp {
            addr,
            ca_file,
            published,
            handle,
            _dir: dir,
        }
    }

    /// The issuer URL of `tenant`.
    pub fn issuer(&self, tenant: &str) -> String {
        format!("https://127.0.0.1:{}/{tenant}", self.addr.port())
    }

    /// Publishes `tenant` with these public JWKs.
    pub fn publish(&self, tenant: &str, value: Tenant) {
        self.published
            .tenants
            .lock()
            .unwrap()
            .insert(tenant.to_owned(), value);
    }

    /// Stops publishing `tenant`: its documents answer 404 from now on.
    pub fn unpublish(&self, tenant: &str) {
        self.published.tenants.lock().unwrap().remove(tenant);
    }

    /// How many JWKS documents were asked for so far.
    pub fn jwks_fetches(&self) -> usize {
        self.published.jwks_fetches.load(Ordering::SeqCst)
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

async fn discovery(
    State(published): State<Arc<Published>>,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, StatusCode> {
    let tenants = published.tenants.lock().unwrap();
    let found = tenants.get(&tenant).ok_or(StatusCode::NOT_FOUND)?;
    let base = published.base.lock().unwrap().clone();
    let issuer = found
        .claimed_issuer
        .clone()
        .unwrap_or(format!("{base}/{tenant}"));
    Ok(Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{base}/{tenant}/jwks"),
        "id_token_signing_alg_values_supported": ["EdDSA", "ES256", "RS256"],
    })))
}

async fn jwks(
    State(published): State<Arc<Published>>,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, StatusCode> {
    published.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let tenants = published.tenants.lock().unwrap();
    let found = tenants.get(&tenant).ok_or(StatusCode::NOT_FOUND)?;
    Ok(Json(json!({ "keys": found.keys })))
}

/// A CA (PEM) and a rustls server config with a loopback certificate it signed.
fn certificates() -> (String, Arc<rustls::ServerConfig>) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    (ca.pem(), Arc::new(config))
}

/// Another CA's PEM, trusted by nobody here.
pub fn unrelated_ca_pem() -> String {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.self_signed(&key).unwrap().pem()
}
