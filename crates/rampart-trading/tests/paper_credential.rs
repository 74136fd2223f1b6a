//! The paper broker as a venue with an API key: requests carry the credential, and a
//! rotated-out one is refused once its grace period has passed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rampart_core::{InstrumentCatalog, Order, OrderId, OrderRequest, OrderStatus};
use rampart_trading::{
    Broker, BrokerError, Clock, Execution, MarketData, PaperBroker, ReplayConfig,
    default_instruments,
};
use secrecy::SecretString;
use tokio::sync::mpsc;

const ISSUED: &str = "paper-venue-credential-issued-0123456789";
const ROTATED: &str = "paper-venue-credential-rotated-0123456789";

struct Wall(Arc<Mutex<DateTime<Utc>>>);

impl Wall {
    fn advance(&self, delta: TimeDelta) {
        *self.0.lock().unwrap() += delta;
    }
}

fn broker(grace: Duration) -> (PaperBroker, Wall, mpsc::Receiver<rampart_trading::Fill>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/market");
    let market = MarketData::load_dir(&dir).unwrap();
    let wall = Arc::new(Mutex::new(
        Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap(),
    ));
    let shared = wall.clone();
    let clock: Arc<dyn Clock> = Arc::new(move || *shared.lock().unwrap());
    let (sender, receiver) = mpsc::channel(8);
    let config = ReplayConfig {
        start: None,
        speed: 0,
    };
    let broker = PaperBroker::with_clock(market, config, sender, clock)
        .with_credential(SecretString::from(ISSUED), grace)
        .unwrap();
    (broker, Wall(wall), receiver)
}

fn market_order() -> Order {
    let request: OrderRequest = serde_json::from_str(
        r#"{"account_id": "ACC-1", "instrument": "BTC-USD", "side": "buy", "type": "market",
            "quantity": "0.01", "client_order_id": "c-cred"}"#,
    )
    .unwrap();
    let catalog = InstrumentCatalog::new(default_instruments());
    let order = request.validate(&catalog).unwrap();
    Order::from_new(
        OrderId::generate(),
        &order,
        &rampart_core::Attribution::new("t", rampart_core::PlacedByKind::Client),
        OrderStatus::Open,
        Utc::now(),
    )
}

#[tokio::test]
async fn orders_carry_the_credential_before_and_after_a_rotation() {
    let (broker, _wall, _fills) = broker(Duration::from_secs(60));
    assert!(broker.uses_credential());
    let before = broker.submit(&market_order()).await.unwrap();
    assert!(matches!(before, Execution::Filled(_)));

    broker.rotate_credential(ROTATED).await.unwrap();
    let after = broker.submit(&market_order()).await.unwrap();
    assert!(matches!(after, Execution::Filled(_)));
    assert_eq!(
        broker.check_credential(&SecretString::from(ROTATED)),
        Ok(())
    );
}

#[tokio::test]
async fn the_old_credential_is_refused_once_the_grace_has_passed() {
    let (broker, wall, _fills) = broker(Duration::from_secs(60));
    broker.rotate_credential(ROTATED).await.unwrap();
    let old = SecretString::from(ISSUED);
    assert_eq!(broker.check_credential(&old), Ok(()));

    wall.advance(TimeDelta::seconds(60));
    assert_eq!(
        broker.check_credential(&old),
        Err(BrokerError::CredentialRejected)
    );
    let wrong = SecretString::from("someone-elses-credential-0123456789abcdef");
    assert_eq!(
        broker.check_credential(&wrong),
        Err(BrokerError::CredentialRejected)
    );
    assert!(broker.submit(&market_order()).await.is_ok());
}

#[tokio::test]
async fn a_refused_rotation_keeps_the_credential_in_use() {
    let (broker, _wall, _fills) = broker(Duration::from_secs(60));
    let short = broker.rotate_credential("too-short").await;
    assert!(matches!(short, Err(BrokerError::CredentialRefused(_))));
    assert_eq!(broker.check_credential(&SecretString::from(ISSUED)), Ok(()));
    assert!(broker.submit(&market_order()).await.is_ok());
}

#[tokio::test]
async fn a_broker_without_a_credential_refuses_to_rotate_one() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/market");
    let (sender, _fills) = mpsc::channel(1);
    let broker = PaperBroker::new(
        MarketData::load_dir(&dir).unwrap(),
        ReplayConfig::default(),
        sender,
    );
    assert!(!broker.uses_credential());
    let refused = broker.rotate_credential(ROTATED).await;
    assert!(matches!(refused, Err(BrokerError::CredentialRefused(_))));
}
