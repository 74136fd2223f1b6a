//! moto's server, the AWS Secrets Manager stand-in, on a free loopback port.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `moto_server`; stopped when dropped.
pub struct Moto {
    child: Child,
    endpoint: String,
    _dir: tempfile::TempDir,
}

impl Moto {
    /// Starts the server; fails with "run .ci/services/moto.sh" when it is missing.
    pub async fn start() -> Result<Moto, String> {
        let program = super::tool("moto", "moto_server", "moto")?;
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let port = super::free_port()?;
        let log = std::fs::File::create(dir.path().join("moto.log")).map_err(|e| e.to_string())?;
        let child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting moto_server: {e}"))?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let moto = Moto {
            child,
            endpoint,
            _dir: dir,
        };
        let url = format!("{}/moto-api/", moto.endpoint);
        let http = reqwest::Client::new();
        super::wait_until("moto_server", Duration::from_secs(60), || {
            let (http, url) = (http.clone(), url.clone());
            async move { http.get(url).send().await.is_ok() }
        })
        .await?;
        Ok(moto)
    }

    /// The endpoint to point the AWS SDK at (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
