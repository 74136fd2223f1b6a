//! Over real TLS: a connection that sends nothing is closed, and the connection cap holds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use rampart_testkit::TestGateway;
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Far longer than the configured idle timeout: only a hang reaches it.
const BOUND: Duration = Duration::from_secs(30);

async fn quick_gateway(max_connections: usize, idle_seconds: u64) -> TestGateway {
    TestGateway::start_with(move |config| {
        config.server.request_timeout_seconds = 1;
        config.server.idle_timeout_seconds = idle_seconds;
        config.server.max_connections = max_connections;
    })
    .await
}

/// A TLS client trusting only the gateway's development CA, verification on.
fn connector(gw: &TestGateway) -> TlsConnector {
    let pem = std::fs::read(gw.data_dir().join("tls/ca.pem")).unwrap();
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn handshake(gw: &TestGateway) -> std::io::Result<TlsStream<TcpStream>> {
    let addr = gw.base_url().trim_start_matches("https://").to_owned();
    let tcp = TcpStream::connect(&addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    connector(gw).connect(name, tcp).await
}

/// Reads until the server closes the connection (end of stream or an error).
async fn closed_by_server(stream: &mut TlsStream<TcpStream>) -> bool {
    let mut buf = [0_u8; 256];
    let closing = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(BOUND, closing).await.is_ok()
}

#[tokio::test]
async fn silent_client_after_the_tls_handshake_is_disconnected() {
    let gw = quick_gateway(1024, 1).await;
    let mut stream = handshake(&gw).await.expect("the TLS handshake completes");
    assert!(
        closed_by_server(&mut stream).await,
        "the idle connection was closed"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed_and_a_freed_slot_is_reused() {
    // The idle timeout is long, so that only the cap can close the second connection.
    let gw = quick_gateway(1, 60).await;
    let held = handshake(&gw)
        .await
        .expect("the first connection is served");

    let second = tokio::time::timeout(BOUND, handshake(&gw)).await;
    assert!(
        matches!(second, Ok(Err(_))),
        "the second connection is closed before its handshake"
    );

    drop(held);
    let answer = tokio::time::timeout(BOUND, async {
        loop {
            if let Ok(answer) = gw.api().http().get(gw.api().url("/healthz")).send().await {
                return answer.status().as_u16();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("a freed slot serves a new connection");
    assert_eq!(answer, 200);
    gw.shutdown().await;
}
