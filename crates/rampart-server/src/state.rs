//! The state every request handler shares: store, token keys, policies, broker.
//!
//! Built once by the gateway at start and cloned cheaply into each request
//! (one `Arc`). Nothing in here is mutable except through its own locks.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use rampart_auth::{Keyring, RevocationList};
use rampart_core::InstrumentCatalog;
use rampart_policy::Authorizer;
use rampart_store::Store;
use rampart_trading::{Broker, PaperBroker};
use tokio::sync::RwLock;

use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::secrets::ManagedSecrets;
use crate::service::killswitch::KillSwitchState;

/// The shared state of one gateway.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] holds.
pub struct Shared {
    /// The database.
    pub store: Store,
    /// Signs access tokens with the key current at the time (the keyring).
    pub issuer: Arc<Keyring>,
    /// Verifies bearer tokens against every published key (the same keyring).
    pub verifier: Arc<Keyring>,
    /// The secret store, its access audit and the secrets the gateway rotates.
    pub secrets: ManagedSecrets,
    /// The RFC 8414 metadata document.
    pub metadata: serde_json::Value,
    /// The Cedar policies.
    pub authorizer: Authorizer,
    /// The instruments traded.
    pub catalog: InstrumentCatalog,
    /// The paper broker.
    pub broker: Arc<PaperBroker>,
    /// The kill switch in force.
    pub kill_switch: KillSwitchState,
    /// Held shared while an order is decided and submitted, exclusively while the
    /// kill switch is engaged, so that no order slips past an engagement.
    pub order_gate: Arc<RwLock<()>>,
    /// Serialises the order path per account.
    pub account_locks: crate::service::locks::AccountLocks,
    /// The Prometheus handle.
    pub metrics: PrometheusHandle,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// How long a request may take.
    pub request_timeout: Duration,
    /// Set once shutdown begins.
    pub shutting_down: AtomicBool,
    /// The clock every identity decision reads.
    pub clock: Clock,
    /// Verifies bearer tokens through the verified-token cache, refusing revoked ones.
    pub bearer: rampart_auth::CachedVerifier<Arc<RevocationList>, Arc<Keyring>>,
    /// Revoked access tokens, sessions and subjects.
    pub revocations: Arc<RevocationList>,
    /// The `[auth]` settings: refresh lifetimes, sign-in throttling, approvals.
    pub auth: AuthConfig,
    /// The `[risk]` settings: firm-wide caps and how limit changes are governed.
    pub risk: crate::config::risk::RiskConfig,
    /// Counts fills per algorithm and trips on repeated executions (RTS 6, Article 15).
    pub execution_guard: rampart_trading::execution_guard::ExecutionGuard,
    /// The `iss` of the tokens this gateway signs.
    pub issuer_url: String,
    /// Trusted outside OpenID Connect issuers, if any are configured.
    pub oidc: Option<Arc<rampart_auth::oidc::OidcIssuers>>,
    /// How set-up tokens reach their person.
    pub setup_delivery: crate::service::setup_delivery::SetupDelivery,
    /// Seals the `next_cursor` of `GET /v1/approvals` (a per-process random key).
    pub approval_cursor: crate::service::approval_cursor::CursorKey,
}

impl AppState {
    /// Wraps the shared parts.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    /// Whether the gateway is shutting down (new requests get 503).
    pub fn is_shutting_down(&self) -> bool {
        self.0.shutting_down.load(Ordering::Acquire)
    }

    /// Marks the gateway as shutting down.
    pub fn begin_shutdown(&self) {
        self.0.shutting_down.store(true, Ordering::Release);
    }

    /// The broker as the trait the order path uses.
    pub fn broker(&self) -> &dyn Broker {
        self.0.broker.as_ref()
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
