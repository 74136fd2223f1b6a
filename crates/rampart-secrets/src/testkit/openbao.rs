//! An OpenBao dev server (`bao server -dev`) on a free loopback port, with TLS from its
//! own generated CA and a file audit device declared in its configuration file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Certificate, Client, Method};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// A running OpenBao dev server; stopped when dropped.
pub struct OpenBao {
    child: Child,
    dir: tempfile::TempDir,
    address: String,
    root_token: SecretString,
    http: Client,
}

impl OpenBao {
    /// Starts the server; fails with "run .ci/services/openbao.sh" when `bao` is missing.
    pub async fn start() -> Result<OpenBao, String> {
        let bao = super::tool("openbao", "bao", "openbao")?;
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let port = super::free_port()?;
        let root_token = SecretString::from(format!("root-{}", uuid_like()));
        std::fs::create_dir(dir.path().join("certs")).map_err(|e| e.to_string())?;
        let config = dir.path().join("openbao.hcl");
        std::fs::write(&config, audit_config(&dir.path().join("audit.log")))
            .map_err(|e| e.to_string())?;
        let log =
            std::fs::File::create(dir.path().join("server.log")).map_err(|e| e.to_string())?;
        let child = Command::new(bao)
            .arg("server")
            .arg("-dev")
            .arg("-dev-tls")
            .arg(format!(
                "-dev-tls-cert-dir={}",
                dir.path().join("certs").display()
            ))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .arg(format!("-dev-root-token-id={}", root_token.expose_secret()))
            .arg(format!("-config={}", config.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting bao: {e}"))?;
        let address = format!("https://127.0.0.1:{port}");
        let mut bao = OpenBao {
            child,
            dir,
            address,
            root_token,
            http: Client::new(),
        };
        bao.wait_ready().await?;
        Ok(bao)
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let ca = self.ca_bundle();
        super::wait_until("the CA file", Duration::from_secs(30), || async {
            ca.exists()
        })
        .await?;
        let pem = std::fs::read(&ca).map_err(|e| e.to_string())?;
        let root = Certificate::from_pem(&pem).map_err(|e| e.to_string())?;
        self.http = Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(root)
            .build()
            .map_err(|e| e.to_string())?;
        let url = format!("{}/v1/sys/health", self.address);
        let http = self.http.clone();
        super::wait_until("OpenBao", Duration::from_secs(30), || {
            let (http, url) = (http.clone(), url.clone());
            async move {
                http.get(url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .await
    }

    /// The server's address (`https://127.0.0.1:PORT`).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The PEM file of the CA that signed the server's certificate.
    pub fn ca_bundle(&self) -> PathBuf {
        self.dir.path().join("certs").join("vault-ca.pem")
    }

    /// The dev server's root token.
    pub fn root_token(&self) -> SecretString {
        self.root_token.clone()
    }

    /// Calls the API with the root token (test setup: mounts, auth methods, policies).
    pub async fn root_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        self.root_call_in(None, method, path, body).await
    }

    /// Calls the API with the root token inside `namespace` (`X-Vault-Namespace`).
    pub async fn root_call_in(
        &self,
        namespace: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}/v1/{path}", self.address);
        let mut request = self
            .http
            .request(method, url)
            .header("X-Vault-Token", self.root_token.expose_secret());
        if let Some(namespace) = namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{path}: HTTP {status}: {text}"));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Every entry of the file audit device, oldest first.
    pub fn audit_log(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.audit_path()).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The audit log file.
    pub fn audit_path(&self) -> PathBuf {
        self.dir.path().join("audit.log")
    }
}

impl Drop for OpenBao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn audit_config(path: &Path) -> String {
    let path = path.display();
    [
        "audit \"file\" \"rampart-test-audit\" {".to_owned(),
        "  options {".to_owned(),
        format!("    file_path = \"{path}\""),
        "  }".to_owned(),
        "}".to_owned(),
    ]
    .join("\n")
}

/// A random hex string (test credentials only).
pub(crate) fn uuid_like() -> String {
    let mut bytes = [0u8; 16];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
