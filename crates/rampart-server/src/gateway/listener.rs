//! The TLS listener: binding the address, and the connection limits of HTTP/1.1 and
//! HTTP/2.
//!
//! Rule upheld: slow or oversized clients are cut off or answered with a problem document
//! (handshake and header timeouts, a connection cap, an idle timeout), never left to hang.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::task::JoinHandle;

use super::StartError;
use crate::config::Config;
use crate::connection::LimitedAcceptor;
use crate::routes;
use crate::state::AppState;

/// The largest header block accepted over HTTP/2 (HTTP/1.1 accepts as much).
const MAX_HEADER_LIST_BYTES: u32 = 128 * 1024;

/// How long a client may take to send its request headers (slow-client protection).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often an HTTP/2 connection is pinged, and how long the answer may take.
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(20);

/// Serves the router of `state` on `listener` with TLS and the configured limits.
pub(super) fn serve(
    listener: TcpListener,
    tls_config: Arc<rustls::ServerConfig>,
    config: &Config,
    state: &AppState,
) -> (Handle, JoinHandle<std::io::Result<()>>) {
    let handle = Handle::new();
    let idle = Duration::from_secs(config.server.idle_timeout_seconds);
    let max_connections = config.server.max_connections;
    let mut server = axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(tls_config))
        .map(|tls| {
            let tls = tls.handshake_timeout(TLS_HANDSHAKE_TIMEOUT);
            LimitedAcceptor::new(tls, max_connections, idle)
        })
        .handle(handle.clone());
    limit_connections(server.http_builder());
    let app = routes::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    (handle, tokio::spawn(server.serve(app)))
}

/// Connection limits: slow header senders are cut off, and oversized headers over
/// HTTP/2 still reach the token checks and get a problem document, not a reset stream.
fn limit_connections(builder: &mut hyper_util::server::conn::auto::Builder<TokioExecutor>) {
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(HTTP2_KEEP_ALIVE)
        .keep_alive_timeout(HTTP2_KEEP_ALIVE)
        .max_header_list_size(MAX_HEADER_LIST_BYTES);
}

/// Binds `addr` for the TLS listener and returns the address it is bound to.
pub(super) fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let failed = |source| StartError::Bind { addr, source };
    let listener = TcpListener::bind(addr).map_err(failed)?;
    listener.set_nonblocking(true).map_err(failed)?;
    let bound = listener.local_addr().map_err(failed)?;
    Ok((listener, bound))
}
