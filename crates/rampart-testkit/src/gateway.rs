//! A real gateway on a free loopback port, with a private temporary data directory.
//!
//! [`TestGateway::start`] runs a gateway for one test, on that test's runtime.
//! [`TestGateway::shared`] runs one gateway per test binary on a runtime of
//! its own, so that the tests of a file can share it although each
//! `#[tokio::test]` has its own runtime; every store access is therefore run
//! on the gateway's runtime, where the store's connections live.

use std::future::Future;
use std::path::{Path, PathBuf};

use rampart_audit::AuditEvent;
use rampart_core::{Order, OrderId};
use rampart_secrets::{FileStore, MasterKey, SecretStore};
use rampart_server::clock::Clock;
use rampart_server::config::Config;
use rampart_server::init::DATABASE_FILE;
use rampart_server::secrets::SIGNING_KEY;
use rampart_server::{Gateway, RunningGateway};
use rampart_store::{AuditCheckError, OrderFilter, Store, StoreError, VerifySummary};
use rust_decimal::Decimal;
use tempfile::TempDir;
use tokio::runtime::Handle;
use tokio::sync::{Mutex, OnceCell};

use crate::api::Api;
use crate::market;

/// The gateway shared by the tests of one test binary.
static SHARED: OnceCell<TestGateway> = OnceCell::const_new();

/// A running gateway, its data directory and a store handle on its database.
pub struct TestGateway {
    running: Mutex<Option<RunningGateway>>,
    store: Store,
    runtime: Handle,
    base_url: String,
    ca_pem: Vec<u8>,
    config: Config,
    clock: Clock,
    _dir: TempDir,
}

impl TestGateway {
    /// Starts a gateway with the test configuration.
    pub async fn start() -> TestGateway {
        Self::start_with(|_| {}).await
    }

    /// Starts a gateway with the test configuration as changed by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestGateway {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut config = Config::for_tests(&dir.path().join("data"));
        config.market.start = Some(market::replay_start());
        config.market.speed = 1;
        adjust(&mut config);

        let clock = Clock::system();
        let running = Gateway::start_with_clock(config.clone(), clock.clone())
            .await
            .unwrap_or_else(|error| panic!("the gateway did not start: {error}"));
        let base_url = format!("https://127.0.0.1:{}", running.addr().port());
        let data_dir = config.server.data_dir.clone();
        let ca_pem = std::fs::read(data_dir.join("tls/ca.pem")).expect("the development CA file");
        let store = Store::open(&data_dir.join(DATABASE_FILE))
            .await
            .expect("the database opens");
        TestGateway {
            running: Mutex::new(Some(running)),
            store,
            runtime: Handle::current(),
            base_url,
            ca_pem,
            config,
            clock,
            _dir: dir,
        }
    }

    /// The gateway shared by every test of this test binary, started on first use.
    ///
    /// Its data directory is left behind in the temporary directory when the
    /// binary exits, since statics are never dropped.
    pub async fn shared() -> &'static TestGateway {
        SHARED
            .get_or_init(|| async {
                let (sender, receiver) = tokio::sync::oneshot::channel();
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .expect("a runtime for the shared gateway");
                    runtime.block_on(async move {
                        let _ = sender.send(TestGateway::start().await);
                        std::future::pending::<()>().await;
                    });
                });
                receiver.await.expect("the shared gateway starts")
            })
            .await
    }

    /// A new HTTPS client for this gateway, trusting only its CA.
    ///
    /// Make one per test: a client's pooled connections belong to the runtime
    /// that opened them.
    pub fn api(&self) -> Api {
        Api::new(&self.base_url, &self.ca_pem)
    }

    /// Like [`TestGateway::api`], but speaking HTTP/1.1 only.
    pub fn api_http1(&self) -> Api {
        Api::new_http1(&self.base_url, &self.ca_pem)
    }

    /// The base URL, such as `https://127.0.0.1:40123`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The configuration the gateway was started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The gateway's clock; move it forward to test lockouts and expiry.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.config.server.data_dir
    }

    /// The directory of the gateway's embedded secret store.
    pub fn secret_store_dir(&self) -> PathBuf {
        self.data_dir().join("secrets")
    }

    /// The current token-signing key (PKCS#8 DER), read from the embedded secret store.
    ///
    /// Read with the store's development master key, outside the gateway, so
    /// that the read leaves no event in the gateway's audit log.
    pub async fn signing_key_der(&self) -> Vec<u8> {
        let (store, _) = FileStore::create_dev(&self.secret_store_dir())
            .expect("the embedded secret store opens");
        current_signing_key(&store).await
    }

    /// Like [`TestGateway::signing_key_der`], for a store whose master key is in `master_key`.
    pub async fn signing_key_der_with(&self, master_key: &Path) -> Vec<u8> {
        let key = MasterKey::from_file(master_key).expect("the master key file is readable");
        let store = FileStore::open(&self.secret_store_dir(), key)
            .expect("the embedded secret store opens");
        current_signing_key(&store).await
    }

    /// The reference price the replay starts at for `instrument`.
    pub fn reference_price(&self, instrument: &str) -> Decimal {
        market::reference_price(&self.config.market.data_dir, instrument)
    }

    /// Runs `work` with the store on the gateway's runtime.
    pub async fn in_store<T, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Store) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let task = self.runtime.spawn(work(self.store.clone()));
        task.await.expect("the store task ends")
    }

    /// The stored order `id`.
    pub async fn stored_order(&self, id: OrderId) -> Option<Order> {
        self.in_store(move |store| async move { store.order(id).await })
            .await
            .expect("the order can be read")
    }

    /// The stored orders `filter` selects.
    pub async fn stored_orders(&self, filter: OrderFilter) -> Vec<Order> {
        self.in_store(move |store| async move { store.orders(&filter).await })
            .await
            .expect("the orders can be read")
    }

    /// Every audit event, in order.
    pub async fn audit_events(&self) -> Vec<AuditEvent> {
        self.in_store(|store| async move {
            let mut events = Vec::new();
            loop {
                let after = events.last().map_or(0, |e: &AuditEvent| e.seq);
                let page = store.audit_events(after, 1000).await?;
                if page.is_empty() {
                    return Ok(events);
                }
                events.extend(page.into_iter().map(|stored| stored.event));
            }
        })
        .await
        .expect("the audit log can be read")
    }

    /// Verifies the whole audit log with `rampart_store::verify_audit`.
    pub async fn verify_audit(&self) -> Result<VerifySummary, AuditCheckError> {
        let store = self.store.clone();
        let task = self
            .runtime
            .spawn(async move { rampart_store::verify_audit(&store, |_, _| {}).await });
        task.await.expect("the verification task ends")
    }

    /// Shuts the gateway down and starts a new one on the same data directory.
    ///
    /// The new gateway listens on another free port, so its issuer URL differs:
    /// fetch new tokens after a restart.
    pub async fn restart(self) -> TestGateway {
        self.shutdown().await;
        self.store.close().await;
        let running = Gateway::start_with_clock(self.config.clone(), self.clock.clone())
            .await
            .unwrap_or_else(|error| panic!("the gateway did not restart: {error}"));
        let data_dir = self.config.server.data_dir.clone();
        let store = Store::open(&data_dir.join(DATABASE_FILE))
            .await
            .expect("the database opens");
        TestGateway {
            base_url: format!("https://127.0.0.1:{}", running.addr().port()),
            running: Mutex::new(Some(running)),
            store,
            runtime: Handle::current(),
            ..self
        }
    }

    /// Shuts the gateway down gracefully (`RunningGateway::shutdown`); later calls do nothing.
    pub async fn shutdown(&self) {
        let Some(running) = self.running.lock().await.take() else {
            return;
        };
        running
            .shutdown()
            .await
            .unwrap_or_else(|error| panic!("the gateway did not shut down cleanly: {error}"));
    }
}

/// The current token-signing key in `store`, as PKCS#8 DER.
async fn current_signing_key(store: &FileStore) -> Vec<u8> {
    let secret = store
        .get(SIGNING_KEY)
        .await
        .expect("the signing key is in the secret store");
    secret.value.expose_bytes().to_vec()
}
