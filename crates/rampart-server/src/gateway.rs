//! Starting and stopping a gateway: wiring every crate together behind the TLS listener.
//!
//! Start prepares the data directory, loads keys and policies, starts the paper
//! broker, its fill recorder and the kill switch reloader, re-submits the open
//! orders, binds the listener and records `gateway.started`. Shutdown stops
//! accepting, drains in-flight requests, stops the broker, records every fill
//! it already reported, appends `gateway.stopped` and closes the store.

mod announce;
mod assemble;
mod background;
mod listener;
mod opened;
mod running;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum_server::Handle;
use rampart_trading::{Fill, MarketData, PaperBroker, ReplayConfig};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::audit_tasks::AuditTasks;
use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::init::{self, DataDir, InitError};
use crate::inputs::{self, InputError, Inputs};
use crate::secrets;
use crate::service::killswitch::KillSwitchState;
use crate::service::{orders, sessions};
use crate::state::AppState;
use crate::tls::{self, TlsError};
use announce::{record_started, warn_if_development};
use assemble::{Parts, build_state};
use background::Background;
use listener::bind;
use opened::Opened;

pub use running::run_until_signal;

/// How many fills may wait for the recorder before the broker waits.
const FILL_QUEUE: usize = 1024;

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
    ///
    /// Every step after the data directory opens runs through `Opened::check`: a failed
    /// step stops and closes whatever the steps before it opened.
    pub async fn start_with_clock(
        config: Config,
        clock: Clock,
    ) -> Result<RunningGateway, StartError> {
        config.validate()?;
        // Loaded before the data directory is touched: a start bound to fail creates nothing.
        let inputs = inputs::load(&config).await?;
        let mut data = init::create_data_dir(&config).await?;
        // Moments read under the store's writer follow the gateway's clock.
        let store_clock = clock.clone();
        data.store.set_clock(Arc::new(move || store_clock.now()));
        warn_if_development(&data);
        let opened = Opened::new(&data);
        let tls_config = tls::server_config(&data.tls.cert_file, &data.tls.key_file);
        let (opened, tls_config) = opened.check(tls_config).await?;
        let (opened, (listener, addr)) = opened.check(bind(config.server.listen)).await?;
        let issuer_url = issuer_url(&config, addr);
        let (opened, state, fills_rx) =
            open_state(opened, &config, &issuer_url, &mut data, inputs, clock).await?;
        let (opened, recovered) = launch(opened, &config, &data, &state, fills_rx).await?;
        let started = record_started(&state, &config, addr, &issuer_url, &data, recovered).await;
        let (opened, ()) = opened.check(started).await?;
        let (handle, server) = listener::serve(listener, tls_config, &config, &state);
        let (audit_tasks, background) = opened.tasks;
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

/// Starts the paper broker, loads the kill switch and the revocations, and builds the
/// state every request handler shares.
async fn open_state(
    opened: Opened<()>,
    config: &Config,
    issuer_url: &str,
    data: &mut DataDir,
    inputs: Inputs,
    clock: Clock,
) -> Result<(Opened<()>, AppState, mpsc::Receiver<Fill>), StartError> {
    let Inputs { market, authorizer } = inputs;
    let broker = paper_broker(config, market, data).await;
    let (opened, (broker, fills_rx)) = opened.check(broker).await?;
    data.secrets.flush_audit().await;
    let (opened, kill_switch) = opened
        .check(KillSwitchState::load(&data.store).await)
        .await?;
    let revocations = sessions::load_revocations(&data.store, clock.now()).await;
    let (opened, revocations) = opened.check(revocations).await?;
    let parts = Parts {
        broker,
        kill_switch,
        authorizer,
        clock,
        revocations: Arc::new(revocations),
    };
    let (opened, state) = opened
        .check(build_state(config, issuer_url, data, parts))
        .await?;
    Ok((opened, state, fills_rx))
}

/// Starts the audit tasks, reviews the state left by the last run, spawns the background
/// tasks and re-submits the open orders; returns how many it re-submitted.
async fn launch(
    opened: Opened<()>,
    config: &Config,
    data: &DataDir,
    state: &AppState,
    fills_rx: mpsc::Receiver<Fill>,
) -> Result<(Opened<(AuditTasks, Background)>, usize), StartError> {
    let signer = data.checkpoint_signer.clone();
    let audit_tasks = AuditTasks::start(config, &data.root, &state.store, signer).await;
    let (opened, audit_tasks) = opened.check(audit_tasks).await?;
    let opened = opened.with_audit(audit_tasks);
    // Before the replay runs, so that no fill is both seeded and counted live.
    let (opened, ()) = opened
        .check(crate::service::start_review::run(state).await)
        .await?;
    let opened = opened.with_background(Background::spawn(state, fills_rx));
    opened.check(orders::recover_open_orders(state).await).await
}

/// The paper broker replaying `market`, holding the broker credential, and the queue of
/// the fills it reports.
async fn paper_broker(
    config: &Config,
    market: MarketData,
    data: &DataDir,
) -> Result<(Arc<PaperBroker>, mpsc::Receiver<Fill>), StartError> {
    let (fills_tx, fills_rx) = mpsc::channel(FILL_QUEUE);
    let replay = ReplayConfig {
        start: config.market.start,
        speed: config.market.speed,
    };
    let broker = PaperBroker::new(market, replay, fills_tx);
    let broker = secrets::broker::attach_credential(broker, config, &data.secrets).await?;
    Ok((Arc::new(broker), fills_rx))
}

/// The `iss` of tokens: configured, else the public URL, else the bound address.
fn issuer_url(config: &Config, addr: SocketAddr) -> String {
    match (&config.auth.issuer, &config.server.public_url) {
        (Some(issuer), _) => issuer.clone(),
        (None, Some(url)) => url.clone(),
        (None, None) => format!("https://{addr}"),
    }
}
