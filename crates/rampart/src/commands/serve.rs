//! `rampart serve`: run the gateway until SIGINT or SIGTERM.
//!
//! The data directory is prepared first, so that on the very first start the
//! bootstrap administrator's one-time password is shown once, in a box,
//! before the listener comes up. How to reach the gateway is shown once it
//! is bound, with the address it really listens on (port 0 picks one).

use std::net::SocketAddr;
use std::path::Path;

use rampart_server::init::{BOOTSTRAP_ADMIN, DataDir};
use rampart_server::{Config, Gateway};

use crate::banner::{FirstStart, print_check, print_first_start, print_reach};
use crate::context::Context;

/// Why the gateway stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The gateway failed to start or stopped on an error.
    #[error("gateway: {0}")]
    Gateway(String),
}

/// Runs `rampart serve`.
pub async fn run(context: Context) -> Result<(), crate::commands::Error> {
    let data_dir = context.ensure_data_dir().await?;
    let ca_file = data_dir.tls.dev_ca_file.clone();
    let first_start = data_dir.bootstrap_password.is_some();
    if let Some(password) = &data_dir.bootstrap_password {
        print_first_start(&FirstStart {
            username: BOOTSTRAP_ADMIN,
            password,
            ca_file: ca_file.as_deref(),
            url: None,
        });
    }

    // The gateway opens the database itself; one writer at a time keeps it simple.
    data_dir.close().await;

    let gateway = Gateway::start(context.config().clone())
        .await
        .map_err(gateway_error)?;
    let url = reach_url(context.config(), Some(gateway.addr()));
    show_reach(first_start, ca_file.as_deref(), url.as_deref());
    gateway.run_until_signal().await.map_err(gateway_error)?;
    Ok(())
}

/// Shows the one-time password when the data directory was just created, else where the CA is.
pub fn announce(context: &Context, data_dir: &DataDir) {
    let url = reach_url(context.config(), None);
    let ca_file = data_dir.tls.dev_ca_file.as_deref();
    match &data_dir.bootstrap_password {
        Some(password) => print_first_start(&FirstStart {
            username: BOOTSTRAP_ADMIN,
            password,
            ca_file,
            url: url.as_deref(),
        }),
        None => print_reach(ca_file, url.as_deref()),
    }
}

/// Shows how to reach the bound gateway; after a first-start notice, which
/// already named the CA file, only the health check.
fn show_reach(first_start: bool, ca_file: Option<&Path>, url: Option<&str>) {
    match (first_start, url) {
        (true, Some(url)) => print_check(ca_file, url),
        (true, None) => {}
        (false, url) => print_reach(ca_file, url),
    }
}

/// The URL to show: the configured public URL, else the bound address, else the
/// listen address unless its port is 0 (then the real port is not known yet).
fn reach_url(config: &Config, bound: Option<SocketAddr>) -> Option<String> {
    if let Some(url) = &config.server.public_url {
        return Some(url.clone());
    }
    let addr = bound.unwrap_or(config.server.listen);
    (addr.port() != 0).then(|| format!("https://{addr}"))
}

fn gateway_error(error: rampart_server::StartError) -> ServeError {
    ServeError::Gateway(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(listen: &str) -> Config {
        let mut config = Config::load(None).unwrap();
        config.server.listen = listen.parse().unwrap();
        config.server.public_url = None;
        config
    }

    #[test]
    fn the_health_hint_uses_the_bound_port_when_listening_on_port_0() {
        let config = config("127.0.0.1:0");
        let bound = "127.0.0.1:41234".parse().unwrap();
        assert_eq!(
            reach_url(&config, Some(bound)).as_deref(),
            Some("https://127.0.0.1:41234")
        );
    }

    #[test]
    fn no_health_hint_is_given_for_port_0_before_the_gateway_is_bound() {
        assert_eq!(reach_url(&config("127.0.0.1:0"), None), None);
        assert_eq!(
            reach_url(&config("127.0.0.1:8443"), None).as_deref(),
            Some("https://127.0.0.1:8443")
        );
    }

    #[test]
    fn a_configured_public_url_is_shown_as_it_is() {
        let mut config = config("0.0.0.0:0");
        config.server.public_url = Some("https://gateway.example.net".to_owned());
        let bound = "0.0.0.0:41234".parse().unwrap();
        assert_eq!(
            reach_url(&config, Some(bound)).as_deref(),
            Some("https://gateway.example.net")
        );
    }
}
