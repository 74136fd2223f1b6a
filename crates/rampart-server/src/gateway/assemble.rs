//! Assembling the application state from the configuration, the data directory and the
//! parts started before it.
//!
//! Rule upheld: token lifetimes and leeway out of range are refused (by the configuration
//! check, then by the token settings), and every bearer token is checked against the
//! revocations loaded at start.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use rampart_auth::{CachedVerifier, Keyring, RevocationList, TokenConfig};
use rampart_core::InstrumentCatalog;
use rampart_policy::Authorizer;
use rampart_trading::{PaperBroker, default_instruments};

use super::StartError;
use crate::clock::Clock;
use crate::config::Config;
use crate::init::DataDir;
use crate::secrets::ManagedSecrets;
use crate::service::killswitch::KillSwitchState;
use crate::state::{AppState, Shared};
use crate::telemetry;

/// How many verified bearer tokens are cached.
const VERIFIED_TOKEN_CACHE: usize = 10_000;

/// The parts of the state built before it: the broker, the kill switch, the policies,
/// the clock and the revocations.
pub(super) struct Parts {
    pub(super) broker: Arc<PaperBroker>,
    pub(super) kill_switch: KillSwitchState,
    pub(super) authorizer: Authorizer,
    pub(super) clock: Clock,
    pub(super) revocations: Arc<RevocationList>,
}

/// Builds the state every request handler shares.
pub(super) fn build_state(
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
