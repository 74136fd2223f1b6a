//! Over real HTTPS: the paper broker's credential comes from the secret store, every
//! order carries it, and it rotates on demand through the broker (stage ▶ the broker
//! takes it ▶ promote); a rotation the broker refuses keeps the current one working.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::{TimeDelta, Utc};
use rampart_auth::{Keyring, TokenConfig};
use rampart_core::Role;
use rampart_secrets::{FileStore, SecretStore};
use rampart_server::config::Config;
use rampart_server::init::ensure_data_dir;
use rampart_server::secrets::audit::{SECRET_READ, SECRET_ROTATED, SECRET_ROTATION_FAILED};
use rampart_server::secrets::broker::attach_credential;
use rampart_server::secrets::{BROKER_CREDENTIAL, ManagedSecrets, SIGNING_KEY};
use rampart_testkit::{TestGateway, market};
use rampart_trading::{Broker, MarketData, PaperBroker, ReplayConfig};
use secrecy::SecretString;
use serde_json::Value;

const ROTATE: &str = "/v1/secrets/broker-api-key/rotate";

async fn gateway() -> TestGateway {
    TestGateway::start_with(|config| {
        config.broker.credential = Some(format!("store:{BROKER_CREDENTIAL}"));
    })
    .await
}

async fn listed_version(gw: &TestGateway, admin: &str) -> String {
    let listed = gw.api().get("/v1/secrets", Some(admin)).await;
    let secrets = listed.assert_json(200)["secrets"]
        .as_array()
        .unwrap()
        .clone();
    let broker = secrets
        .iter()
        .find(|s| s["name"] == BROKER_CREDENTIAL)
        .unwrap_or_else(|| panic!("the broker credential is listed: {secrets:?}"));
    assert_eq!(broker["backend"], "file");
    broker["version"].as_str().unwrap().to_owned()
}

async fn an_order_fills(gw: &TestGateway) {
    let account = gw.add_account(rampart_testkit::generous_limits()).await;
    let trader = gw.bearer(&[Role::Trader], &[&account]).await;
    let body = rampart_testkit::order::market(&account, market::BTC, "buy", "0.01");
    let placed = gw.api().place(&trader, &body).await;
    assert_eq!(
        placed.assert_json(201)["status"],
        "filled",
        "{}",
        placed.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_credential_is_read_from_the_store_and_rotates_through_the_broker() {
    let gw = gateway().await;
    let admin = gw.bearer(&[Role::Admin], &[]).await;
    an_order_fills(&gw).await;
    let first = listed_version(&gw, &admin).await;

    let rotated = gw.api().post_json(ROTATE, Some(&admin), &Value::Null).await;
    let second = rotated.assert_json(200)["version"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second, first);
    assert_eq!(listed_version(&gw, &admin).await, second);
    an_order_fills(&gw).await;
    gw.shutdown().await;

    let (store, _) = FileStore::create_dev(&gw.secret_store_dir()).unwrap();
    let current = store.get(BROKER_CREDENTIAL).await.unwrap();
    let previous = store.previous(BROKER_CREDENTIAL).await.unwrap();
    assert_eq!(current.meta.version.as_str(), second);
    assert_eq!(previous.meta.version.as_str(), first);
    assert_ne!(current.value.expose_bytes(), previous.value.expose_bytes());

    let events = gw.audit_events().await;
    let named = |action: &str| {
        events
            .iter()
            .filter(|e| e.action == action && e.details["name"] == BROKER_CREDENTIAL)
            .count()
    };
    assert!(named(SECRET_READ) >= 1, "the start-up read is audited");
    assert_eq!(named(SECRET_ROTATED), 1);
    let text = serde_json::to_string(&events).unwrap();
    for value in [&current.value, &previous.value] {
        assert!(
            !text.contains(value.expose_str().unwrap()),
            "no value in the audit log"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_the_broker_refuses_keeps_the_current_credential_working() {
    let gw = gateway().await;
    let admin = gw.bearer(&[Role::Admin], &[]).await;
    let first = gw.api().post_json(ROTATE, Some(&admin), &Value::Null).await;
    let current = first.assert_json(200)["version"]
        .as_str()
        .unwrap()
        .to_owned();

    // The previous credential is still in its grace period: the broker has no free key slot.
    let refused = gw.api().post_json(ROTATE, Some(&admin), &Value::Null).await;
    refused.assert_problem(503, "secret.rotation_failed");
    assert_eq!(listed_version(&gw, &admin).await, current);
    an_order_fills(&gw).await;
    gw.shutdown().await;

    let events = gw.audit_events().await;
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.action == SECRET_ROTATION_FAILED && e.details["name"] == BROKER_CREDENTIAL)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].details["reason"], "verification_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_configured_credential_the_broker_credential_is_not_managed() {
    let gw = TestGateway::start().await;
    let admin = gw.bearer(&[Role::Admin], &[]).await;
    let refused = gw.api().post_json(ROTATE, Some(&admin), &Value::Null).await;
    assert_eq!(refused.status, 404);
    an_order_fills(&gw).await;
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_rotates_the_broker_credential_once_thirty_days_have_passed() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(&dir.path().join("data"));
    config.broker.credential = Some(format!("store:{BROKER_CREDENTIAL}"));
    let mut data = ensure_data_dir(&config).await.unwrap();
    let market = MarketData::load_dir(&config.market.data_dir).unwrap();
    let (fills, _receiver) = tokio::sync::mpsc::channel(1);
    let paper = PaperBroker::new(market, ReplayConfig::default(), fills);
    let broker = attach_credential(paper, &config, &data.secrets)
        .await
        .unwrap();
    let token = TokenConfig::new("https://rampart.test", "rampart".to_owned());
    let keyring = Keyring::restore(std::mem::take(&mut data.signing_keys), token).unwrap();
    let managed = ManagedSecrets::new(&config, data.secrets.clone(), &broker);
    let store = data.secrets.store();
    let issued = store.metadata(BROKER_CREDENTIAL).await.unwrap();

    managed
        .tick_at(&keyring, &broker, Utc::now() + TimeDelta::days(29))
        .await;
    assert_eq!(
        store.metadata(BROKER_CREDENTIAL).await.unwrap().version,
        issued.version
    );
    managed
        .tick_at(&keyring, &broker, Utc::now() + TimeDelta::days(31))
        .await;
    let rotated = store.metadata(BROKER_CREDENTIAL).await.unwrap();
    assert_ne!(rotated.version, issued.version);
    let current = store.get(BROKER_CREDENTIAL).await.unwrap();
    let presented = SecretString::from(current.value.expose_str().unwrap().to_owned());
    assert_eq!(broker.check_credential(&presented), Ok(()));
    assert!(
        broker.submit(&some_order()).await.is_ok(),
        "orders carry the new credential"
    );
    let signing = store.metadata(SIGNING_KEY).await.unwrap();
    assert!(
        signing.rotated_at.is_none(),
        "the signing key is due after 90 days only"
    );
    data.close().await;
}

fn some_order() -> rampart_core::Order {
    use rampart_core::{InstrumentCatalog, Order, OrderId, OrderRequest, OrderStatus};
    let request: OrderRequest = serde_json::from_value(rampart_testkit::order::market(
        &"ACC-1".parse().unwrap(),
        market::BTC,
        "buy",
        "0.01",
    ))
    .unwrap();
    let order = request
        .validate(&InstrumentCatalog::new(
            rampart_trading::default_instruments(),
        ))
        .unwrap();
    Order::from_new(
        OrderId::generate(),
        &order,
        &rampart_core::Attribution::new("t", rampart_core::PlacedByKind::Client),
        OrderStatus::Open,
        Utc::now(),
    )
}
