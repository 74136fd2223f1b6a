//! Starting and stopping a gateway: wiring every crate together behind the TLS listener.
//!
//! Start prepares the data directory, loads keys and policies, starts the paper
//! broker, its fill recorder and the kill switch reloader, re-submits the open
//! orders, binds the listener and records `gateway.started`. Shutdown stops
//! accepting, drains in-flight requests, stops the broker, records every fill
//! it already reported, appends `gateway.stopped` and closes the store.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rampart_audit::{Outcome, action};
use rampart_auth::{CachedVerifier, Keyring, RevocationList, TokenConfig};
use rampart_core::InstrumentCatalog;
use rampart_policy::Authorizer;
use rampart_store::Store;
use rampart_trading::{PaperBroker, ReplayConfig, default_instruments};
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::audit_tasks::AuditTasks;
use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::connection::LimitedAcceptor;
use crate::init::{self, DataDir, InitError, SYSTEM_ACTOR};
use crate::inputs::{self, InputError, Inputs};
use crate::secrets::ManagedSecrets;
use crate::service::killswitch::KillSwitchState;
use crate::service::{audit, fills, orders, sessions};
use crate::state::{AppState, Shared};
use crate::tls::{self, TlsError};
use crate::{request_id, routes, secrets, telemetry};

/// How many verified bearer tokens are cached.
const VERIFIED_TOKEN_CACHE: usize = 10_000;

/// How many fills may wait for the recorder before the broker waits.
const FILL_QUEUE: usize = 1024;

/// The largest header block accepted over HTTP/2 (HTTP/1.1 accepts as much).
const MAX_HEADER_LIST_BYTES: u32 = 128 * 1024;

/// How long a client may take to send its request headers (slow-client protection).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often an HTTP/2 connection is pinged, and how long the answer may take.
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(20);

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data directory could not be prepared.
    #[error(transparent)]
    Init(#[from] InitError),
    /// The certificate or key is unusable.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The token keys or settings were refused.
    #[error("token settings are invalid: {0}")]
    Token(#[from] rampart_auth::TokenError),
    /// A trusted outside issuer (`[[auth.oidc]]`) was refused.
    #[error("`auth.oidc`: {0}")]
    Oidc(#[from] rampart_auth::oidc::OidcError),
    /// The token-signing keys from the secret store were refused.
    #[error("token-signing keys are unusable: {0}")]
    Keyring(#[from] rampart_auth::KeyringError),
    /// The market data or the policies could not be loaded.
    #[error(transparent)]
    Inputs(#[from] InputError),
    /// The store failed while starting.
    #[error(transparent)]
    Store(#[from] rampart_store::StoreError),
    /// The broker credential could not be read or was refused.
    #[error(transparent)]
    BrokerCredential(#[from] crate::secrets::broker::BrokerCredentialError),
    /// The signal handlers could not be installed.
    #[error("could not listen for shutdown signals: {0}")]
    Signal(std::io::Error),
    /// An audit task (checkpoints, forwarding) could not start.
    #[error(transparent)]
    Audit(#[from] crate::audit_tasks::AuditTaskError),
    /// The key of the approvals cursor could not be made.
    #[error(transparent)]
    Cursor(#[from] crate::service::approval_cursor::CursorError),
    /// The listener could not be bound.
    #[error("could not listen on `{addr}`: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// The entry point: starts gateways.
#[derive(Debug, Clone, Copy)]
pub struct Gateway;

/// A gateway that is serving.
pub struct RunningGateway {
    addr: SocketAddr,
    issuer: String,
    data_dir: PathBuf,
    ca_pem_path: Option<PathBuf>,
    bootstrap_password: Option<secrecy::SecretString>,
    state: AppState,
    handle: Handle,
    grace: Duration,
    server: JoinHandle<std::io::Result<()>>,
    background: Background,
    audit_tasks: AuditTasks,
}

impl Gateway {
    /// Starts a gateway with `config` and returns once it is listening.
    pub async fn start(config: Config) -> Result<RunningGateway, StartError> {
        Self::start_with_clock(config, Clock::system()).await
    }

    /// Starts a gateway whose identity decisions read `clock` (tests move it forward).
    pub async fn start_with_clock(
        config: Config,
        clock: Clock,
    ) -> Result<RunningGateway, StartError> {
        config.validate()?;
        // Loaded before the data directory is touched: a start bound to fail creates nothing.
        let Inputs { market, authorizer } = inputs::load(&config).await?;
        let mut data = init::create_data_dir(&config).await?;
        warn_if_development(&data);
        let tls_config = tls::server_config(&data.tls.cert_file, &data.tls.key_file)?;
        let (listener, addr) = bind(config.server.listen)?;
        let issuer_url = issuer_url(&config, addr);

        let (fills_tx, fills_rx) = mpsc::channel(FILL_QUEUE);
        let replay = ReplayConfig {
            start: config.market.start,
            speed: config.market.speed,
        };
        let broker = PaperBroker::new(market, replay, fills_tx);
        let credential = secrets::broker::attach_credential(broker, &config, &data.secrets);
        let broker = match credential.await {
            Ok(broker) => Arc::new(broker),
            Err(error) => {
                data.close().await;
                return Err(error.into());
            }
        };
        data.secrets.flush_audit().await;
        let kill_switch = KillSwitchState::load(&data.store).await?;
        let revocations = sessions::load_revocations(&data.store, clock.now()).await?;
        let parts = Parts {
            broker,
            kill_switch,
            authorizer,
            clock,
            revocations: Arc::new(revocations),
        };
        let state = match build_state(&config, &issuer_url, &mut data, parts) {
            Ok(state) => state,
            Err(error) => {
                data.close().await;
                return Err(error);
            }
        };

        let signer = data.checkpoint_signer.clone();
        let audit_tasks = match AuditTasks::start(&config, &data.root, &state.store, signer).await {
            Ok(tasks) => tasks,
            Err(error) => {
                state.store.close().await;
                return Err(error.into());
            }
        };
        // Before the replay runs, so that no fill is both seeded and counted live.
        if let Err(error) = crate::service::start_review::run(&state).await {
            audit_tasks.stop().await;
            state.secrets.secrets.close().await;
            state.store.close().await;
            return Err(error.into());
        }
        let background = Background::spawn(&state, fills_rx);
        let recovered = match orders::recover_open_orders(&state).await {
            Ok(recovered) => recovered,
            Err(error) => {
                audit_tasks.stop().await;
                return Err(abandon(&state, background, error.into()).await);
            }
        };
        let started = record_started(&state, &config, addr, &issuer_url, &data, recovered);
        if let Err(error) = started.await {
            audit_tasks.stop().await;
            return Err(abandon(&state, background, error).await);
        }

        let handle = Handle::new();
        let idle = Duration::from_secs(config.server.idle_timeout_seconds);
        let max_connections = config.server.max_connections;
        let mut server =
            axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(tls_config))
                .map(|tls| {
                    let tls = tls.handshake_timeout(TLS_HANDSHAKE_TIMEOUT);
                    LimitedAcceptor::new(tls, max_connections, idle)
                })
                .handle(handle.clone());
        limit_connections(server.http_builder());
        let app = routes::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(server.serve(app));

        Ok(RunningGateway {
            addr,
            issuer: issuer_url,
            data_dir: data.root.clone(),
            ca_pem_path: data.tls.dev_ca_file.clone(),
            bootstrap_password: data.bootstrap_password,
            state,
            handle,
            grace: Duration::from_secs(config.server.shutdown_grace_seconds),
            server,
            background,
            audit_tasks,
        })
    }
}

/// The tasks that run beside the listener: the replay, the fill recorder, the reloader.
struct Background {
    shutdown: CancellationToken,
    recorder_stop: CancellationToken,
    broker: JoinHandle<()>,
    reloader: JoinHandle<()>,
    recorder: JoinHandle<()>,
    rotation: JoinHandle<()>,
    expiry: JoinHandle<()>,
}

impl Background {
    fn spawn(state: &AppState, fills: mpsc::Receiver<rampart_trading::Fill>) -> Self {
        let shutdown = CancellationToken::new();
        let recorder_stop = CancellationToken::new();
        let recorder = fills::run_recorder(state.clone(), fills, recorder_stop.clone());
        Self {
            broker: spawn_broker(state, shutdown.clone()),
            reloader: spawn_reloader(state, shutdown.clone()),
            rotation: spawn_rotation(state, shutdown.clone()),
            expiry: spawn_expiry(state, shutdown.clone()),
            recorder: tokio::spawn(recorder),
            shutdown,
            recorder_stop,
        }
    }

    /// Stops the replay first, then drains and records every fill it already reported.
    async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.broker.await;
        let _ = self.reloader.await;
        let _ = self.rotation.await;
        let _ = self.expiry.await;
        self.recorder_stop.cancel();
        let _ = self.recorder.await;
    }
}

/// Undoes a start that failed after the background tasks were spawned.
async fn abandon(state: &AppState, background: Background, error: StartError) -> StartError {
    background.stop().await;
    state.secrets.secrets.close().await;
    state.store.close().await;
    error
}

/// The `iss` of tokens: configured, else the public URL, else the bound address.
fn issuer_url(config: &Config, addr: SocketAddr) -> String {
    match (&config.auth.issuer, &config.server.public_url) {
        (Some(issuer), _) => issuer.clone(),
        (None, Some(url)) => url.clone(),
        (None, None) => format!("https://{addr}"),
    }
}

impl RunningGateway {
    /// The address the listener is bound to (the real port when 0 was configured).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The issuer URL of the tokens this gateway signs (its public URL unless configured).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The development CA certificate clients should trust, when it is in use.
    pub fn ca_pem_path(&self) -> Option<&Path> {
        self.ca_pem_path.as_deref()
    }

    /// The store, for the command line and tests.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The bootstrap administrator's one-time password, only on the start that created it.
    pub fn take_bootstrap_password(&mut self) -> Option<secrecy::SecretString> {
        self.bootstrap_password.take()
    }

    /// Waits until the listener stops on its own (an I/O failure).
    pub async fn wait(&mut self) -> std::io::Result<()> {
        match (&mut self.server).await {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join.to_string())),
        }
    }

    /// Stops gracefully: drains requests, stops the broker, records pending fills, closes.
    pub async fn shutdown(self) -> Result<(), StartError> {
        self.state.begin_shutdown();
        self.handle.graceful_shutdown(Some(self.grace));
        if let Ok(Err(error)) = self.server.await {
            tracing::error!(%error, "listener failed while stopping");
        }
        // Work that outlived its request (an order being executed, a cancellation)
        // holds the order gate; waiting for it means its audit events are written.
        let drained = tokio::time::timeout(self.grace, self.state.order_gate.write()).await;
        if drained.is_err() {
            tracing::error!("order work still running after the grace period");
        }

        self.background.stop().await;

        let event = request_id::scope(request_id::generate(), async {
            audit::event(
                SYSTEM_ACTOR,
                action::GATEWAY_STOPPED,
                "gateway",
                Outcome::Success,
            )
        })
        .await;
        audit::append(&self.state.store, event).await?;
        self.audit_tasks.stop().await;
        self.state.secrets.secrets.close().await;
        self.state.store.close().await;
        tracing::info!(addr = %self.addr, "gateway stopped");
        Ok(())
    }
}

/// Starts a gateway and shuts it down on SIGTERM or Ctrl-C.
pub async fn run_until_signal(config: Config) -> Result<(), StartError> {
    Gateway::start(config).await?.run_until_signal().await
}

impl RunningGateway {
    /// Serves until SIGTERM or Ctrl-C, or until the listener fails, then shuts down gracefully.
    pub async fn run_until_signal(mut self) -> Result<(), StartError> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).map_err(StartError::Signal)?;
        tracing::info!(addr = %self.addr(), "gateway listening");
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM received; shutting down"),
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupt received; shutting down"),
            result = self.wait() => {
                if let Err(error) = result {
                    tracing::error!(%error, "listener stopped");
                }
            }
        }
        self.shutdown().await
    }
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

fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let failed = |source| StartError::Bind { addr, source };
    let listener = TcpListener::bind(addr).map_err(failed)?;
    listener.set_nonblocking(true).map_err(failed)?;
    let bound = listener.local_addr().map_err(failed)?;
    Ok((listener, bound))
}

/// Warns, once per start, about each development stand-in: the locally generated
/// CA, and the secret store's master key kept in a file next to the store.
fn warn_if_development(data: &DataDir) {
    let ca = data
        .tls
        .dev_ca_file
        .as_ref()
        .map(|ca| ca.display().to_string());
    let master_key = data
        .secrets
        .dev_master_key()
        .map(|key| key.display().to_string());
    if ca.is_none() && master_key.is_none() {
        return;
    }
    let mut remedies = Vec::new();
    if ca.is_some() {
        remedies.push(
            "serving a certificate signed by a locally generated CA; configure \
             `tls.cert_file` and `tls.key_file`",
        );
    }
    if master_key.is_some() {
        remedies.push(
            "the secret store's master key is a file next to the store; set \
             `secrets.file.master_key` to a reference kept elsewhere, or use the \
             `vault`, `aws` or `gcp` secrets backend",
        );
    }
    tracing::warn!(
        ca = ca.as_deref().unwrap_or("-"),
        master_key = master_key.as_deref().unwrap_or("-"),
        "DEVELOPMENT MODE: {}; not for production",
        remedies.join("; and ")
    );
}

/// The parts of the state built before it: the broker, the kill switch, the policies,
/// the clock and the revocations.
struct Parts {
    broker: Arc<PaperBroker>,
    kill_switch: KillSwitchState,
    authorizer: Authorizer,
    clock: Clock,
    revocations: Arc<RevocationList>,
}

fn build_state(
    config: &Config,
    issuer_url: &str,
    data: &mut DataDir,
    parts: Parts,
) -> Result<AppState, StartError> {
    let Parts {
        broker,
        kill_switch,
        authorizer,
        clock,
        revocations,
    } = parts;
    let mut token_config = TokenConfig::new(issuer_url, config.auth.audience.clone());
    token_config.ttl_seconds = u32::try_from(config.auth.token_ttl_seconds).unwrap_or(900);
    token_config.leeway_seconds = u32::try_from(config.auth.leeway_seconds).unwrap_or(30);

    let keyring = Arc::new(Keyring::restore(
        std::mem::take(&mut data.signing_keys),
        token_config,
    )?);
    let bearer = CachedVerifier::new(
        Arc::clone(&keyring),
        VERIFIED_TOKEN_CACHE,
        Arc::clone(&revocations),
    );
    let secrets = ManagedSecrets::new(config, data.secrets.clone(), broker.as_ref());
    let catalog = config
        .instrument_catalog()
        .unwrap_or_else(|| InstrumentCatalog::new(default_instruments()));

    Ok(AppState::new(Shared {
        store: data.store.clone(),
        issuer: keyring.clone(),
        verifier: keyring,
        secrets,
        metadata: crate::routes::oauth_session::metadata(issuer_url),
        authorizer,
        catalog,
        broker,
        kill_switch,
        order_gate: Arc::new(tokio::sync::RwLock::new(())),
        account_locks: Default::default(),
        metrics: telemetry::handle(),
        max_body_bytes: config.server.max_body_bytes,
        request_timeout: Duration::from_secs(config.server.request_timeout_seconds),
        shutting_down: AtomicBool::new(false),
        clock,
        bearer,
        revocations,
        auth: config.auth.clone(),
        risk: config.risk.clone(),
        execution_guard: rampart_trading::execution_guard::ExecutionGuard::new(
            config.risk.execution_guard.limits(),
        ),
        issuer_url: issuer_url.to_owned(),
        oidc: crate::oidc::issuers(&config.auth.oidc)?,
        setup_delivery: crate::service::setup_delivery::SetupDelivery::new(config)?,
        approval_cursor: crate::service::approval_cursor::CursorKey::generate()?,
    }))
}

fn spawn_broker(state: &AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    let broker = state.broker.clone();
    tokio::spawn(async move { broker.run(shutdown).await })
}

fn spawn_rotation(state: &AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let secrets = &state.secrets;
        secrets
            .run_scheduler(&state.issuer, state.broker(), shutdown)
            .await;
    })
}

fn spawn_expiry(state: &AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    let every = Duration::from_secs(state.risk.approval_expiry_interval_seconds);
    let task = crate::service::approval_expiry::run(state.clone(), every, shutdown);
    tokio::spawn(task)
}

fn spawn_reloader(state: &AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        state
            .kill_switch
            .run_reloader(state.store.clone(), shutdown)
            .await;
    })
}

async fn record_started(
    state: &AppState,
    config: &Config,
    addr: SocketAddr,
    issuer_url: &str,
    data: &DataDir,
    recovered: usize,
) -> Result<(), StartError> {
    crate::service::unowned_clients::report(state).await?;
    let details = json!({
        "addr": addr.to_string(),
        "issuer": issuer_url,
        "policy_version": state.authorizer.version(),
        "signing_key": state.issuer.current_kid(chrono::Utc::now().timestamp()),
        "secret_backend": state.secrets.secrets.backend(),
        "development_ca": data.tls.dev_ca_file.is_some(),
        "recovered_open_orders": recovered,
        "checkpoint_key": data.checkpoint_signer.verifier_key(),
        "audit_retention_years": config.audit.retention_years,
    });
    let event = request_id::scope(request_id::generate(), async {
        audit::event(
            SYSTEM_ACTOR,
            action::GATEWAY_STARTED,
            "gateway",
            Outcome::Success,
        )
        .policy(state.authorizer.version())
        .details(details)
    })
    .await;
    audit::append(&state.store, event).await?;
    tracing::info!(%addr, "gateway started");
    Ok(())
}
