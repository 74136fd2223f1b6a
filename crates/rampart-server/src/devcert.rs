//! The development certificate authority and the server certificate it signs.
//!
//! On first start without a configured certificate, the gateway creates a CA of
//! its own and a certificate for `localhost`, `127.0.0.1` and `::1` signed by it,
//! so that clients can verify the server with the CA file instead of turning
//! verification off. Private keys are written with mode 0600; nothing is ever
//! regenerated over existing files.

use std::io;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

use crate::files::{PRIVATE_FILE, PUBLIC_FILE, create_new};

/// The names the development server certificate is valid for.
pub const SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

const CA_VALIDITY_DAYS: i64 = 3650;
const SERVER_VALIDITY_DAYS: i64 = 825;

/// Why the development certificates could not be created.
#[derive(Debug, thiserror::Error)]
pub enum DevCertError {
    /// Some of the files exist and others do not; nothing is overwritten.
    #[error("`{0}` is missing while other development certificate files exist")]
    Incomplete(PathBuf),
    /// Generating a key or signing a certificate failed.
    #[error("could not generate the development certificates: {0}")]
    Generate(#[from] rcgen::Error),
    /// Writing a file failed.
    #[error("could not write `{path}`: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// Where the development CA and server certificate live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevCertPaths {
    /// The CA certificate, for clients (`tls/ca.pem`).
    pub ca_cert: PathBuf,
    /// The CA private key (`tls/ca-key.pem`, 0600).
    pub ca_key: PathBuf,
    /// The server certificate chain (`tls/server.pem`).
    pub server_cert: PathBuf,
    /// The server private key (`tls/server-key.pem`, 0600).
    pub server_key: PathBuf,
}

impl DevCertPaths {
    /// The standard file names inside `tls_dir`.
    pub fn in_dir(tls_dir: &Path) -> Self {
        Self {
            ca_cert: tls_dir.join("ca.pem"),
            ca_key: tls_dir.join("ca-key.pem"),
            server_cert: tls_dir.join("server.pem"),
            server_key: tls_dir.join("server-key.pem"),
        }
    }

    fn all(&self) -> [&PathBuf; 4] {
        [
            &self.ca_cert,
            &self.ca_key,
            &self.server_cert,
            &self.server_key,
        ]
    }
}

/// Creates the CA and server certificate unless they exist; returns whether it created them.
pub fn ensure(paths: &DevCertPaths) -> Result<bool, DevCertError> {
    let missing: Vec<&PathBuf> = paths.all().into_iter().filter(|p| !p.exists()).collect();
    match missing.first() {
        None => return Ok(false),
        Some(first) if missing.len() < paths.all().len() => {
            return Err(DevCertError::Incomplete((*first).clone()));
        }
        Some(_) => {}
    }

    let generated = generate()?;
    write(&paths.ca_key, PRIVATE_FILE, &generated.ca_key)?;
    write(&paths.server_key, PRIVATE_FILE, &generated.server_key)?;
    write(&paths.ca_cert, PUBLIC_FILE, &generated.ca_cert)?;
    write(&paths.server_cert, PUBLIC_FILE, &generated.server_cert)?;
    Ok(true)
}

/// PEM texts of a freshly generated CA and server certificate.
struct Generated {
    ca_cert: String,
    ca_key: String,
    server_cert: String,
    server_key: String,
}

fn generate() -> Result<Generated, DevCertError> {
    let now = OffsetDateTime::now_utc();

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name = name("Rampart development CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now - Duration::days(1);
    ca_params.not_after = now + Duration::days(CA_VALIDITY_DAYS);
    let ca_cert = ca_params.self_signed(&ca_key)?;

    let server_key = KeyPair::generate()?;
    let names: Vec<String> = SERVER_NAMES.iter().map(|n| (*n).to_owned()).collect();
    let mut server_params = CertificateParams::new(names)?;
    server_params.distinguished_name = name("localhost");
    server_params.is_ca = IsCa::ExplicitNoCa;
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.use_authority_key_identifier_extension = true;
    server_params.not_before = now - Duration::days(1);
    server_params.not_after = now + Duration::days(SERVER_VALIDITY_DAYS);
    let server_cert = server_params.signed_by(&server_key, &ca_cert, &ca_key)?;

    Ok(Generated {
        ca_cert: ca_cert.pem(),
        ca_key: ca_key.serialize_pem(),
        server_cert: format!("{}{}", server_cert.pem(), ca_cert.pem()),
        server_key: server_key.serialize_pem(),
    })
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "Rampart");
    name.push(DnType::CommonName, common_name);
    name
}

fn write(path: &Path, mode: u32, pem: &str) -> Result<(), DevCertError> {
    create_new(path, mode, pem.as_bytes()).map_err(|source| DevCertError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::files::mode_of;

    #[test]
    fn first_call_creates_ca_and_server_certificate_with_private_keys() {
        let temp = tempfile::tempdir().unwrap();
        let paths = DevCertPaths::in_dir(temp.path());
        assert!(ensure(&paths).unwrap());
        assert_eq!(mode_of(&paths.ca_key).unwrap(), PRIVATE_FILE);
        assert_eq!(mode_of(&paths.server_key).unwrap(), PRIVATE_FILE);
        let chain = fs::read_to_string(&paths.server_cert).unwrap();
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
    }

    #[test]
    fn second_call_reuses_the_existing_files() {
        let temp = tempfile::tempdir().unwrap();
        let paths = DevCertPaths::in_dir(temp.path());
        ensure(&paths).unwrap();
        let before = fs::read(&paths.server_key).unwrap();
        assert!(!ensure(&paths).unwrap());
        assert_eq!(fs::read(&paths.server_key).unwrap(), before);
    }

    #[test]
    fn partial_set_of_files_is_refused_without_overwriting() {
        let temp = tempfile::tempdir().unwrap();
        let paths = DevCertPaths::in_dir(temp.path());
        ensure(&paths).unwrap();
        fs::remove_file(&paths.server_cert).unwrap();
        let error = ensure(&paths).unwrap_err();
        assert!(matches!(error, DevCertError::Incomplete(path) if path == paths.server_cert));
    }
}
