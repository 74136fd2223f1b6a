//! The HTTPS client the Vault and GCP backends share.
//!
//! Rule upheld: certificate verification is never disabled. A backend trusts the system
//! roots, or only the CA bundle its configuration names; plain `http://` is accepted only
//! for a loopback address (a local development server), never across a network.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use reqwest::{Certificate, Client, Url};

use crate::store::SecretError;

/// How long one request to a secret backend may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Parses a backend address, accepting `http` only for loopback hosts.
pub(crate) fn parse_address(backend: &'static str, address: &str) -> Result<Url, SecretError> {
    let config = |why: &str| SecretError::Config(format!("{backend} address {why}"));
    let url = Url::parse(address).map_err(|_| config("is not a URL"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(config("must use https unless it is a loopback address")),
        _ => Err(config("must be an https URL")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// A client that trusts `ca_bundle` alone when given, else the system's roots.
pub(crate) fn client(
    backend: &'static str,
    ca_bundle: Option<&Path>,
) -> Result<Client, SecretError> {
    let mut builder = Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .use_rustls_tls();
    if let Some(path) = ca_bundle {
        let pem = std::fs::read(path).map_err(|e| {
            SecretError::Config(format!("{backend} CA bundle `{}`: {e}", path.display()))
        })?;
        let roots = Certificate::from_pem_bundle(&pem)
            .map_err(|_| SecretError::Config(format!("{backend} CA bundle is not PEM")))?;
        if roots.is_empty() {
            return Err(SecretError::Config(format!(
                "{backend} CA bundle holds no certificate"
            )));
        }
        builder = builder.tls_built_in_root_certs(false);
        for root in roots {
            builder = builder.add_root_certificate(root);
        }
    }
    builder
        .build()
        .map_err(|e| SecretError::Config(format!("{backend} TLS client: {e}")))
}

/// The error for a request that did not get an answer.
pub(crate) fn unavailable(backend: &'static str, error: &reqwest::Error) -> SecretError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let url = error
        .url()
        .map(|u| format!(" ({}{})", u.origin().ascii_serialization(), u.path()));
    SecretError::Unavailable {
        backend,
        detail: format!("{what}{}", url.unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_accepted_for_loopback_only() {
        assert!(parse_address("vault", "http://127.0.0.1:8200").is_ok());
        assert!(parse_address("vault", "http://[::1]:8200").is_ok());
        assert!(parse_address("vault", "http://localhost:8200").is_ok());
        assert!(parse_address("vault", "http://vault.internal:8200").is_err());
        assert!(parse_address("vault", "https://vault.internal:8200").is_ok());
        assert!(parse_address("vault", "ftp://vault.internal").is_err());
    }
}
