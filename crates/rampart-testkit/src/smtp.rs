//! A real SMTP server (`aiosmtpd`) on loopback, for the set-up-mail tests.
//!
//! It serves a certificate from a CA made for it (hand [`SmtpServer::ca_file`]
//! to the gateway: verification stays on), with STARTTLS required or with
//! implicit TLS, and with AUTH over TLS when a user is given. Every message it
//! accepts is kept whole, so a test reads what the person would. When
//! `aiosmtpd` is not installed, the test fails naming `.ci/services/smtp.sh`.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use rampart_server::devcert::{self, DevCertPaths};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::service::{free_port, wait_ready};

/// What a test says when the program is missing or does not start.
const NOT_STARTED: &str = "the SMTP server did not start; is `.ci/services/smtp.sh` installed?";

/// Where `.ci/services/smtp.sh` installs `aiosmtpd`.
pub const DEFAULT_VENV: &str = "/root/.cache/rampart-tools/aiosmtpd";

/// How the server protects connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    /// A plain start upgraded with STARTTLS, which the server requires.
    Starttls,
    /// TLS from the first byte.
    Implicit,
}

/// A running SMTP server and the messages it received.
pub struct SmtpServer {
    child: Child,
    port: u16,
    ca_file: PathBuf,
    out: PathBuf,
    _dir: TempDir,
}

impl SmtpServer {
    /// Starts a server in `mode`, requiring `login` (user, password) when given.
    pub async fn start(mode: SmtpMode, login: Option<(&str, &str)>) -> SmtpServer {
        let venv = std::env::var("RAMPART_AIOSMTPD_VENV").unwrap_or(DEFAULT_VENV.into());
        let python = Path::new(&venv).join("bin/python");
        assert!(
            python.is_file(),
            "`aiosmtpd` is not installed in `{venv}`: run `.ci/services/smtp.sh`"
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        let tls = DevCertPaths::in_dir(dir.path());
        devcert::ensure(&tls).expect("a certificate for the SMTP server");
        let out = dir.path().join("received");
        std::fs::create_dir(&out).expect("a directory for received mail");
        let port = free_port();
        let (user, password) = login.unwrap_or_default();
        let mut child = Command::new(&python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp/server.py"))
            .env("SMTP_PORT", port.to_string())
            .env("SMTP_CERT", &tls.server_cert)
            .env("SMTP_KEY", &tls.server_key)
            .env("SMTP_OUT", &out)
            .env("SMTP_USER", user)
            .env("SMTP_PASSWORD", password)
            .env(
                "SMTP_TLS",
                match mode {
                    SmtpMode::Starttls => "starttls",
                    SmtpMode::Implicit => "implicit",
                },
            )
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("`aiosmtpd` cannot be started ({error}): run `.ci/services/smtp.sh`")
            });
        wait_ready(&mut child, NOT_STARTED).await;
        SmtpServer {
            child,
            port,
            ca_file: tls.ca_cert.clone(),
            out,
            _dir: dir,
        }
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA certificate its TLS certificate chains to.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// Every message received so far, oldest first, each with its envelope line first.
    pub fn messages(&self) -> Vec<String> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.out)
            .expect("the received-mail directory")
            .map(|entry| entry.expect("a readable entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| std::fs::read_to_string(path).expect("a readable message"))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
