//! Accounts, API clients and tokens of a test gateway.
//!
//! Accounts and clients are written straight into the store, record and
//! audit event in one transaction, as the `rampart account add` and
//! `rampart client add` commands do; tokens are fetched from the gateway's
//! own `POST /oauth/token`, as a real client would.

use chrono::Utc;
use rampart_audit::{NewEvent, Outcome, action};
use rampart_auth::secret::{generate_client_secret, hash_secret};
use rampart_core::{AccountId, InstrumentId, RiskLimits, Role, RoleSet};
use rampart_store::{AccountRecord, ClientRecord, KillSwitchRecord};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::api::Answer;
use crate::gateway::TestGateway;
use crate::market::{BTC, JPY};

/// The actor the command line records for operator actions.
pub const OPERATOR: &str = "operator";

/// An API client registered in the store, with its secret in clear.
#[derive(Debug, Clone)]
pub struct ApiClient {
    /// The client id.
    pub id: String,
    /// The client secret.
    pub secret: SecretString,
}

impl ApiClient {
    /// A client id and secret, for presenting credentials that may be wrong.
    pub fn new(id: &str, secret: &str) -> ApiClient {
        ApiClient {
            id: id.to_owned(),
            secret: SecretString::from(secret.to_owned()),
        }
    }

    /// The secret in clear, for sending it to the token endpoint.
    pub fn expose_secret(&self) -> &str {
        self.secret.expose_secret()
    }
}

/// Limits far above anything a test places, on both instruments.
pub fn generous_limits() -> RiskLimits {
    let big = Decimal::new(1_000_000_000, 0);
    RiskLimits {
        max_order_quantity: big,
        max_order_notional: big,
        price_collar_pct: Decimal::new(50, 0),
        max_position_quantity: big,
        max_daily_notional: big,
        max_orders_per_second: 10_000,
        max_risk_per_trade_pct: Decimal::ONE_HUNDRED,
        allowed_instruments: [BTC, JPY].iter().map(|i| instrument(i)).collect(),
        trading_hours: None,
    }
}

/// A fresh account id that no other test uses.
pub fn unique_account_id() -> AccountId {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("ACC-{}", suffix.get(..12).unwrap_or(&suffix))
        .parse()
        .expect("a valid account id")
}

fn instrument(id: &str) -> InstrumentId {
    id.parse().expect("a valid instrument id")
}

impl TestGateway {
    /// Creates an account with `limits` and a billion USD of cash; returns its id.
    pub async fn add_account(&self, limits: RiskLimits) -> AccountId {
        self.add_account_with_cash(limits, Decimal::new(1_000_000_000, 0))
            .await
    }

    /// Creates an account with `limits` and `cash`, as `rampart account add` does.
    pub async fn add_account_with_cash(&self, limits: RiskLimits, cash: Decimal) -> AccountId {
        let record = AccountRecord {
            id: unique_account_id(),
            currency: "USD".to_owned(),
            initial_cash: cash,
            limits,
            created_at: Utc::now(),
            desk: None,
        };
        let details = json!({
            "currency": record.currency,
            "initial_cash": record.initial_cash.normalize().to_string(),
            "limits": record.limits,
        });
        let event = operator_event(action::ACCOUNT_CREATED, record.id.as_str()).details(details);
        let id = record.id.clone();
        self.in_store(move |store| async move {
            let mut tx = store.begin().await?;
            tx.insert_account(&record).await?;
            tx.append(event).await?;
            tx.commit().await
        })
        .await
        .expect("the account is stored");
        id
    }

    /// Registers an API client with `roles` on `accounts`, as `rampart client add` does.
    pub async fn add_client(&self, roles: &[Role], accounts: &[&AccountId]) -> ApiClient {
        let roles = RoleSet::new(roles.iter().copied()).expect("roles that may be held together");
        let secret = generate_client_secret();
        let hashed = secret.clone();
        let secret_hash = tokio::task::spawn_blocking(move || hash_secret(&hashed))
            .await
            .expect("the hashing task ends")
            .expect("the secret hashes");
        let record = ClientRecord {
            id: format!("cl-{}", uuid::Uuid::new_v4().simple()),
            name: "test client".to_owned(),
            secret_hash,
            roles,
            accounts: accounts.iter().map(|a| (*a).clone()).collect(),
            disabled: false,
            created_at: Utc::now(),
        };
        let roles: Vec<&str> = record.roles.iter().map(Role::as_str).collect();
        let event = operator_event(action::CLIENT_CREATED, &record.id)
            .details(json!({ "name": record.name, "roles": roles, "accounts": record.accounts }));
        let id = record.id.clone();
        self.in_store(move |store| async move {
            let mut tx = store.begin().await?;
            tx.insert_client(&record).await?;
            tx.append(event).await?;
            tx.commit().await
        })
        .await
        .expect("the client is stored");
        ApiClient { id, secret }
    }

    /// Disables a client, as `rampart client disable` does.
    pub async fn disable_client(&self, client: &ApiClient) {
        let id = client.id.clone();
        self.in_store(move |store| async move {
            let mut tx = store.begin().await?;
            assert!(
                tx.set_client_disabled(&id, true).await?,
                "client `{id}` exists"
            );
            tx.append(operator_event(action::CLIENT_DISABLED, &id))
                .await?;
            tx.commit().await
        })
        .await
        .expect("the client is disabled");
    }

    /// Releases every active kill-switch engagement, as `rampart killswitch release --all` does.
    pub async fn release_kill_switches(&self, reason: &str) -> Vec<KillSwitchRecord> {
        let reason = reason.to_owned();
        self.in_store(move |store| async move {
            let active = store.kill_switches(true).await?;
            let request_id = uuid::Uuid::now_v7().to_string();
            let mut tx = store.begin().await?;
            for record in &active {
                tx.release_kill_switch(record.id, OPERATOR, Utc::now())
                    .await?;
                let event = NewEvent::new(
                    OPERATOR,
                    action::KILLSWITCH_RELEASED,
                    record.id.to_string(),
                    Outcome::Success,
                    request_id.clone(),
                )
                .details(json!({ "reason": reason }));
                tx.append(event).await?;
            }
            tx.commit().await?;
            Ok(active)
        })
        .await
        .expect("the engagements are released")
    }

    /// Asks `POST /oauth/token` for a token with HTTP Basic client authentication.
    pub async fn token_answer(&self, client: &ApiClient) -> Answer {
        let api = self.api();
        let request = api
            .http()
            .post(api.url("/oauth/token"))
            .basic_auth(&client.id, Some(client.expose_secret()))
            .form(&[("grant_type", "client_credentials")]);
        Answer::of(request).await
    }

    /// A fresh access token for `client`; fails the test unless one is issued.
    pub async fn token(&self, client: &ApiClient) -> String {
        let answer = self.token_answer(client).await;
        assert_eq!(answer.status, 200, "token request refused: {}", answer.text);
        answer
            .member("access_token")
            .expect("an `access_token`")
            .to_owned()
    }

    /// A trader client on a fresh account with [`generous_limits`], and a token for it.
    pub async fn trader(&self) -> (ApiClient, String) {
        let account = self.add_account(generous_limits()).await;
        let client = self.add_client(&[Role::Trader], &[&account]).await;
        let token = self.token(&client).await;
        (client, token)
    }

    /// Registers a client with `roles` on `accounts` and returns a token for it.
    pub async fn bearer(&self, roles: &[Role], accounts: &[&AccountId]) -> String {
        let client = self.add_client(roles, accounts).await;
        self.token(&client).await
    }
}

fn operator_event(name: &str, target: &str) -> NewEvent {
    let request_id = uuid::Uuid::now_v7().to_string();
    NewEvent::new(OPERATOR, name, target, Outcome::Success, request_id)
}
