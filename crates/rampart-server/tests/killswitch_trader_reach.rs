//! Over real HTTPS: a `trader:` kill switch reaches every identity of the person it
//! names. The API clients that person owns and an outside (OIDC) identity linked to
//! that person are stopped with them, and their open orders are withdrawn in the
//! same step; another trader's orders and clients trade on.
//!
//! Each test runs its own gateway, so that engagements do not leak between tests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::collections::BTreeMap;

use rampart_core::{AccountId, Role};
use rampart_server::config::identity::{LinkBy, OidcConfig};
use rampart_testkit::market::BTC;
use rampart_testkit::oidc::OidcProvider;
use rampart_testkit::order::{self, shifted};
use rampart_testkit::people::Setup;
use rampart_testkit::{Api, TestGateway, generous_limits};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const AUDIENCE: &str = "https://rampart.test/api";

/// The person a stop names, the person it does not, and a client owned by each.
struct Floor {
    gw: TestGateway,
    api: Api,
    account: AccountId,
    person: (String, String),
    owned: String,
    other: String,
    others_client: String,
    risk: String,
}

async fn floor(gw: TestGateway) -> Floor {
    let account = gw.add_account(generous_limits()).await;
    let person = gw.person(&[Role::Trader], &[&account]).await;
    let other = gw.person(&[Role::Trader], &[&account]).await;
    let owned = gw
        .add_owned_client(&[Role::Trader], &[&account], person.id())
        .await;
    let others_client = gw
        .add_owned_client(&[Role::Trader], &[&account], other.id())
        .await;
    let (owned, others_client) = (gw.token(&owned).await, gw.token(&others_client).await);
    let risk = gw.person(&[Role::RiskManager], &[]).await.token;
    let api = gw.api();
    Floor {
        person: (person.id().to_owned(), person.token),
        other: other.token,
        gw,
        api,
        account,
        owned,
        others_client,
        risk,
    }
}

impl Floor {
    fn resting(&self) -> Value {
        let price = shifted(self.gw.reference_price(BTC), -20, Decimal::new(1, 3));
        order::limit(&self.account, BTC, "buy", "0.01", price)
    }

    async fn rest(&self, token: &str) -> String {
        let answer = self.api.place(token, &self.resting()).await;
        assert_eq!(answer.status_field(), "open", "{}", answer.text);
        answer.order_id()
    }

    /// Engages `trader:` the person; returns the ids of the orders it withdrew.
    async fn stop_person(&self) -> Vec<String> {
        let body = json!({"scope": "trader", "trader_id": self.person.0, "reason": "desk review"});
        let answer = self
            .api
            .post_json("/v1/kill-switch", Some(&self.risk), &body)
            .await;
        let engaged = answer.assert_json(201);
        let cancelled = engaged["cancelled_orders"].as_array().unwrap();
        cancelled
            .iter()
            .map(|id| id.as_str().unwrap().to_owned())
            .collect()
    }

    async fn stopped(&self, token: &str) -> bool {
        let answer = self.api.place(token, &self.resting()).await;
        match answer.status {
            201 => false,
            422 if answer.code() == "risk.kill_switch" => true,
            _ => panic!("unexpected answer {}", answer.text),
        }
    }

    async fn status_of(&self, id: &str) -> String {
        let answer = self.api.order(&self.risk, id).await;
        answer.assert_json(200)["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[tokio::test]
async fn a_trader_scope_stops_and_withdraws_the_clients_that_person_owns() {
    let floor = floor(TestGateway::start().await).await;
    let by_person = floor.rest(&floor.person.1).await;
    let by_owned = floor.rest(&floor.owned).await;
    let by_other = floor.rest(&floor.other).await;
    let by_others_client = floor.rest(&floor.others_client).await;

    let mut cancelled = floor.stop_person().await;
    cancelled.sort();
    let mut expected = vec![by_person.clone(), by_owned.clone()];
    expected.sort();
    assert_eq!(cancelled, expected);
    assert_eq!(floor.status_of(&by_owned).await, "cancelled");
    assert_eq!(floor.status_of(&by_other).await, "open");
    assert_eq!(floor.status_of(&by_others_client).await, "open");

    assert!(floor.stopped(&floor.person.1).await);
    assert!(
        floor.stopped(&floor.owned).await,
        "the owned client is stopped"
    );
    assert!(!floor.stopped(&floor.other).await);
    assert!(!floor.stopped(&floor.others_client).await);
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn a_client_given_to_the_person_after_the_stop_is_stopped_too() {
    let floor = floor(TestGateway::start().await).await;
    floor.stop_person().await;
    let late = floor
        .gw
        .add_owned_client(&[Role::Trader], &[&floor.account], &floor.person.0)
        .await;
    let late = floor.gw.token(&late).await;
    assert!(floor.stopped(&late).await);
    floor.gw.shutdown().await;
}

async fn gateway_linking(provider: &OidcProvider) -> TestGateway {
    let role_map = BTreeMap::from([("desk-traders".to_owned(), "trader".to_owned())]);
    let mut entry = OidcConfig::new(provider.issuer(), AUDIENCE, "corp:", role_map);
    entry.ca_file = Some(provider.ca_file().to_owned());
    entry.roles_claim = "groups".to_owned();
    entry.link_by = Some(LinkBy::Subject);
    TestGateway::start_with(|config| {
        config.auth.audience = AUDIENCE.to_owned();
        config.auth.oidc = vec![entry];
    })
    .await
}

/// An outside token of `provider` for the subject `sub`, a trader there.
fn outside_token(provider: &OidcProvider, gw: &TestGateway, sub: &str) -> String {
    let now = gw.clock().now_unix();
    provider.forge(&json!({
        "iss": provider.issuer(), "aud": AUDIENCE, "sub": sub, "groups": ["desk-traders"],
        "jti": format!("outside-{sub}"), "iat": now, "exp": now + 300, "amr": ["pwd", "otp"],
    }))
}

#[tokio::test]
async fn a_trader_scope_stops_the_outside_identity_linked_to_that_person() {
    let provider = OidcProvider::start(&["desk-traders"]).await;
    let floor = floor(gateway_linking(&provider).await).await;
    let linked = floor
        .gw
        .add_user(&[Role::Trader], &[&floor.account], Setup::READY)
        .await;
    let stranger = floor
        .gw
        .add_user(&[Role::Trader], &[&floor.account], Setup::READY)
        .await;
    let outside = outside_token(&provider, &floor.gw, &linked.username);
    let strangers = outside_token(&provider, &floor.gw, &stranger.username);
    let resting = floor.rest(&outside).await;

    let body = json!({"scope": "trader", "trader_id": linked.id, "reason": "desk review"});
    let answer = floor
        .api
        .post_json("/v1/kill-switch", Some(&floor.risk), &body)
        .await;
    let engaged = answer.assert_json(201);
    assert_eq!(engaged["cancelled_orders"], json!([resting]));
    assert!(
        floor.stopped(&outside).await,
        "the linked identity is stopped"
    );
    assert!(
        !floor.stopped(&strangers).await,
        "another person's identity trades on"
    );
    assert!(!floor.stopped(&floor.person.1).await);
    floor.gw.shutdown().await;
}
