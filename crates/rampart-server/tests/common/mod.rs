//! Helpers shared by this crate's own integration tests: provisioning and an HTTPS client.

#![allow(dead_code)]

use std::path::Path;

use chrono::Utc;
use rampart_audit::{NewEvent, Outcome, action};
use rampart_auth::secret::{generate_client_secret, hash_secret};
use rampart_core::{AccountId, RiskLimits, Role, RoleSet};
use rampart_server::RunningGateway;
use rampart_store::{AccountRecord, ClientRecord};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// The account every helper trades on.
pub const ACCOUNT: &str = "ACC-SMOKE";

/// Limits loose enough for a few small BTC orders.
pub fn limits() -> RiskLimits {
    RiskLimits {
        max_order_quantity: Decimal::new(10, 0),
        max_order_notional: Decimal::new(1_000_000, 0),
        price_collar_pct: Decimal::new(50, 0),
        max_position_quantity: Decimal::new(100, 0),
        max_daily_notional: Decimal::new(10_000_000, 0),
        max_orders_per_second: 50,
        max_risk_per_trade_pct: Decimal::new(50, 0),
        allowed_instruments: vec!["BTC-USD".parse().unwrap()],
        trading_hours: None,
    }
}

/// Creates the account `ACC-SMOKE` with a million USD.
pub async fn provision_account(gateway: &RunningGateway) {
    let record = AccountRecord {
        id: ACCOUNT.parse().unwrap(),
        currency: "USD".to_owned(),
        initial_cash: Decimal::new(1_000_000, 0),
        limits: limits(),
        created_at: Utc::now(),
        desk: None,
    };
    let mut tx = gateway.store().begin().await.unwrap();
    tx.insert_account(&record).await.unwrap();
    let event = NewEvent::new(
        "test",
        action::ACCOUNT_CREATED,
        "account:ACC-SMOKE",
        Outcome::Success,
        "t",
    );
    tx.append(event).await.unwrap();
    tx.commit().await.unwrap();
}

/// Creates the client `id` with `role`, assigned to `ACC-SMOKE`; returns its secret.
pub async fn provision_client(gateway: &RunningGateway, id: &str, role: Role) -> SecretString {
    let secret = generate_client_secret();
    let account: AccountId = ACCOUNT.parse().unwrap();
    let client = ClientRecord {
        id: id.to_owned(),
        name: format!("test client {id}"),
        secret_hash: hash_secret(&secret).unwrap(),
        roles: RoleSet::new([role]).unwrap(),
        accounts: if role == Role::Trader {
            vec![account]
        } else {
            Vec::new()
        },
        disabled: false,
        created_at: Utc::now(),
    };
    let mut tx = gateway.store().begin().await.unwrap();
    tx.insert_client(&client).await.unwrap();
    let event = NewEvent::new(
        "test",
        action::CLIENT_CREATED,
        format!("client:{id}"),
        Outcome::Success,
        "t",
    );
    tx.append(event).await.unwrap();
    tx.commit().await.unwrap();
    secret
}

/// An HTTPS client trusting only the CA in `ca`, with verification on.
pub fn https_client(ca: &Path) -> reqwest::Client {
    let pem = std::fs::read(ca).unwrap();
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .https_only(true)
        .build()
        .unwrap()
}

/// The base URL of the gateway.
pub fn base_url(gateway: &RunningGateway) -> String {
    format!("https://127.0.0.1:{}", gateway.addr().port())
}

/// An access token for the client `id`, fetched with HTTP Basic.
pub async fn token(http: &reqwest::Client, base: &str, id: &str, secret: &SecretString) -> String {
    let response = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(id, Some(secret.expose_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    body["access_token"].as_str().unwrap().to_owned()
}
