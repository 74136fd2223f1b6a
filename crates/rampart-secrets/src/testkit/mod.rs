//! Test kit: real servers started on free loopback ports, and a fake of GCP Secret
//! Manager (no public emulator exists), for Rampart's own tests and the gateway's.
//!
//! Rule upheld: tests reach only loopback addresses, with TLS verified against the
//! server's generated CA; a missing program is an error naming the install script.

pub mod gcp_fake;
pub mod moto;
pub mod openbao;

use std::net::TcpListener;
use std::time::{Duration, Instant};

pub use gcp_fake::GcpFake;
pub use moto::Moto;
pub use openbao::OpenBao;

/// Where the install scripts put their tools.
const TOOLS: &str = "/root/.cache/rampart-tools";

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Polls `ready` every 100 ms until it returns true or `limit` passes.
pub(crate) async fn wait_until<F, Fut>(
    what: &str,
    limit: Duration,
    mut ready: F,
) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < limit {
        if ready().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "{what} did not become ready within {} s",
        limit.as_secs()
    ))
}

/// The tool `name` installed by `.ci/services/<script>.sh`, or an error saying to run it.
pub(crate) fn tool(venv: &str, name: &str, script: &str) -> Result<std::path::PathBuf, String> {
    let path = std::path::Path::new(TOOLS)
        .join(venv)
        .join("bin")
        .join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "`{}` is missing: run .ci/services/{script}.sh",
            path.display()
        ))
    }
}
