//! The TLS configuration of the listener: rustls with the *ring* provider.
//!
//! Only TLS 1.3 and TLS 1.2 are offered, and only forward-secret AEAD cipher
//! suites (ECDHE key exchange; AES-GCM or ChaCha20-Poly1305). ALPN offers
//! HTTP/2 and HTTP/1.1. There is no plain-HTTP listener anywhere in Rampart.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::crypto::ring::{self, cipher_suite};
use rustls::{ServerConfig, SupportedCipherSuite};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The ALPN protocols offered, most preferred first.
pub const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The cipher suites offered: TLS 1.3 suites, then ECDHE AEAD suites for TLS 1.2.
pub const CIPHER_SUITES: [SupportedCipherSuite; 9] = [
    cipher_suite::TLS13_AES_256_GCM_SHA384,
    cipher_suite::TLS13_AES_128_GCM_SHA256,
    cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
    cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file could not be read or holds no certificate.
    #[error("could not read a certificate chain from `{path}`: {reason}")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The key file could not be read or holds no private key.
    #[error("could not read a private key from `{path}`: {reason}")]
    PrivateKey {
        /// The file.
        path: PathBuf,
        /// What went wrong (never the key itself).
        reason: String,
    },
    /// rustls refused the combination of settings, certificate and key.
    #[error("invalid TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The crypto provider: *ring*, restricted to the allowed cipher suites.
pub fn provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: CIPHER_SUITES.to_vec(),
        ..ring::default_provider()
    }
}

/// A server configuration for the certificate chain and key in the given PEM files.
pub fn server_config(cert_file: &Path, key_file: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read_chain(cert_file)?;
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|error| TlsError::PrivateKey {
        path: key_file.to_path_buf(),
        reason: pem_reason(&error),
    })?;

    let mut config = ServerConfig::builder_with_provider(Arc::new(provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let error = |reason: String| TlsError::Certificate {
        path: path.to_path_buf(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| error(pem_reason(&e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(pem_reason(&e)))?;
    if chain.is_empty() {
        return Err(error("no certificate found".to_owned()));
    }
    Ok(chain)
}

/// Describes a PEM error without quoting file contents.
fn pem_reason(error: &rustls_pki_types::pem::Error) -> String {
    match error {
        rustls_pki_types::pem::Error::Io(io) if io.kind() == io::ErrorKind::NotFound => {
            "file not found".to_owned()
        }
        rustls_pki_types::pem::Error::Io(io) => io.kind().to_string(),
        rustls_pki_types::pem::Error::NoItemsFound => "no PEM section found".to_owned(),
        _ => "malformed PEM".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devcert::{self, DevCertPaths};

    #[test]
    fn configuration_offers_only_tls13_and_tls12_forward_secret_suites() {
        let temp = tempfile::tempdir().unwrap();
        let paths = DevCertPaths::in_dir(temp.path());
        devcert::ensure(&paths).unwrap();
        let config = server_config(&paths.server_cert, &paths.server_key).unwrap();
        let suites = &config.crypto_provider().cipher_suites;
        assert_eq!(suites.len(), 9);
        for suite in suites {
            let name = format!("{:?}", suite.suite());
            assert!(
                name.starts_with("TLS13_") || name.starts_with("TLS_ECDHE_"),
                "{name}"
            );
            assert!(
                name.contains("GCM") || name.contains("CHACHA20_POLY1305"),
                "{name}"
            );
        }
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }

    #[test]
    fn missing_key_file_is_reported_by_path() {
        let temp = tempfile::tempdir().unwrap();
        let paths = DevCertPaths::in_dir(temp.path());
        devcert::ensure(&paths).unwrap();
        let absent = temp.path().join("absent.pem");
        let error = server_config(&paths.server_cert, &absent).unwrap_err();
        assert!(matches!(error, TlsError::PrivateKey { path, .. } if path == absent));
    }

    #[test]
    fn certificate_file_without_certificates_is_refused() {
        let temp = tempfile::tempdir().unwrap();
        let paths = DevCertPaths::in_dir(temp.path());
        devcert::ensure(&paths).unwrap();
        let error = server_config(&paths.server_key, &paths.server_key).unwrap_err();
        assert!(matches!(error, TlsError::Certificate { .. }));
    }
}
