//! Over real HTTPS: each kill-switch scope (account, instrument, API client,
//! trader) stops exactly the orders it names and nothing else, both new
//! orders and the open ones it withdraws at the broker; targets are checked
//! (unknown ones 404, ones that do not fit the scope 400).
//!
//! Each test runs its own gateway, so that engagements do not leak between tests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_core::{AccountId, Role};
use rampart_testkit::market::{BTC, JPY};
use rampart_testkit::order::{self, shifted};
use rampart_testkit::people::Setup;
use rampart_testkit::{Answer, Api, TestGateway, generous_limits};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Two accounts, two API clients and one person, all trading both accounts.
struct Desk {
    gw: TestGateway,
    api: Api,
    first: AccountId,
    second: AccountId,
    algo: (String, String),
    other_algo: (String, String),
    person: (String, String),
    risk: String,
}

/// One order placed by one of the desk's traders.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Algo,
    OtherAlgo,
    Person,
}

async fn desk() -> Desk {
    let gw = TestGateway::start().await;
    let first = gw.add_account(generous_limits()).await;
    let second = gw.add_account(generous_limits()).await;
    let both = [&first, &second];
    let algo = gw.add_client(&[Role::Trader], &both).await;
    let algo = (algo.id.clone(), gw.token(&algo).await);
    let other = gw.add_client(&[Role::Trader], &both).await;
    let other_algo = (other.id.clone(), gw.token(&other).await);
    let user = gw.add_user(&[Role::Trader], &both, Setup::READY).await;
    let person = (user.id.clone(), gw.login(&user).await.0);
    let risk = gw.bearer(&[Role::RiskManager], &[]).await;
    let api = gw.api();
    Desk {
        gw,
        api,
        first,
        second,
        algo,
        other_algo,
        person,
        risk,
    }
}

impl Desk {
    fn token(&self, who: Who) -> &str {
        match who {
            Who::Algo => &self.algo.1,
            Who::OtherAlgo => &self.other_algo.1,
            Who::Person => &self.person.1,
        }
    }

    /// A buy limit far below the market, so that it rests.
    fn resting(&self, account: &AccountId, instrument: &str) -> Value {
        let tick = Decimal::new(1, 3);
        let price = shifted(self.gw.reference_price(instrument), -20, tick);
        let quantity = if instrument == JPY { "1000" } else { "0.01" };
        order::limit(account, instrument, "buy", quantity, price)
    }

    async fn rest(&self, who: Who, account: &AccountId, instrument: &str) -> String {
        let body = self.resting(account, instrument);
        let answer = self.api.place(self.token(who), &body).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        assert_eq!(answer.status_field(), "open");
        answer.order_id()
    }

    async fn engage(&self, body: Value) -> Answer {
        self.api
            .post_json("/v1/kill-switch", Some(&self.risk), &body)
            .await
    }

    async fn status_of(&self, id: &str) -> String {
        let answer = self.api.order(&self.risk, id).await;
        answer.assert_json(200)["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Whether a new order by `who` on `account` in `instrument` is stopped.
    async fn stopped(&self, who: Who, account: &AccountId, instrument: &str) -> bool {
        let body = self.resting(account, instrument);
        let answer = self.api.place(self.token(who), &body).await;
        match answer.status {
            201 => false,
            422 if answer.code() == "risk.kill_switch" => true,
            _ => panic!("unexpected answer {}", answer.text),
        }
    }
}

/// Every combination of trader, account and instrument, with a resting order for each.
async fn book(desk: &Desk) -> Vec<(Who, AccountId, &'static str, String)> {
    let mut placed = Vec::new();
    for who in [Who::Algo, Who::OtherAlgo, Who::Person] {
        for account in [desk.first.clone(), desk.second.clone()] {
            for instrument in [BTC, JPY] {
                let id = desk.rest(who, &account, instrument).await;
                placed.push((who, account.clone(), instrument, id));
            }
        }
    }
    placed
}

/// Engages `body`, then checks every resting order and every new order
/// against `in_scope`: exactly those are cancelled or stopped.
async fn assert_scope_stops_exactly(
    desk: &Desk,
    body: Value,
    in_scope: impl Fn(Who, &AccountId, &str) -> bool,
) {
    let placed = book(desk).await;
    let engaged = desk.engage(body.clone()).await;
    let answer = engaged.assert_json(201).clone();

    let cancelled: Vec<&str> = answer["cancelled_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    for (who, account, instrument, id) in &placed {
        let expected = in_scope(*who, account, instrument);
        let status = desk.status_of(id).await;
        let want = if expected { "cancelled" } else { "open" };
        assert_eq!(status, want, "{body}: {who:?} {account} {instrument}");
        assert_eq!(cancelled.contains(&id.as_str()), expected, "{body}: {id}");

        let stopped = desk.stopped(*who, account, instrument).await;
        assert_eq!(
            stopped, expected,
            "{body}: new order {who:?} {account} {instrument}"
        );
    }
}

#[tokio::test]
async fn an_account_scope_stops_only_that_account() {
    let desk = desk().await;
    let body = json!({"scope": "account", "account_id": desk.first.as_str(), "reason": "breach"});
    let first = desk.first.clone();
    assert_scope_stops_exactly(&desk, body, |_, account, _| *account == first).await;
    desk.gw.shutdown().await;
}

#[tokio::test]
async fn an_instrument_scope_stops_only_that_instrument_on_every_account() {
    let desk = desk().await;
    let body = json!({"scope": "instrument", "instrument": JPY, "reason": "bad feed"});
    assert_scope_stops_exactly(&desk, body, |_, _, instrument| instrument == JPY).await;
    desk.gw.shutdown().await;
}

#[tokio::test]
async fn a_client_scope_stops_only_that_algorithm() {
    let desk = desk().await;
    let body = json!({"scope": "client", "client_id": desk.algo.0, "reason": "runaway"});
    assert_scope_stops_exactly(&desk, body, |who, _, _| who == Who::Algo).await;
    desk.gw.shutdown().await;
}

#[tokio::test]
async fn a_trader_scope_stops_only_that_person() {
    let desk = desk().await;
    let body = json!({"scope": "trader", "trader_id": desk.person.0, "reason": "fat finger"});
    assert_scope_stops_exactly(&desk, body, |who, _, _| who == Who::Person).await;
    desk.gw.shutdown().await;
}

#[tokio::test]
async fn the_listing_shows_scope_target_who_and_since_when() {
    let desk = desk().await;
    let body = json!({"scope": "instrument", "instrument": BTC, "reason": "halt btc"});
    desk.engage(body).await.assert_json(201);
    let listed = desk.api.get("/v1/kill-switch", Some(&desk.risk)).await;
    let listed = listed.assert_json(200);
    let engagement = &listed["engagements"][0];
    assert_eq!(engagement["scope"], "instrument");
    assert_eq!(engagement["target"], BTC);
    assert_eq!(engagement["reason"], "halt btc");
    assert!(
        engagement["engaged_by"]
            .as_str()
            .unwrap()
            .starts_with("cl-")
    );
    assert!(engagement["engaged_at"].as_str().unwrap().ends_with('Z'));
    desk.gw.shutdown().await;
}

#[tokio::test]
async fn unknown_targets_are_not_found() {
    let desk = desk().await;
    let cases = [
        json!({"scope": "account", "account_id": "ACC-NOBODY", "reason": "x"}),
        json!({"scope": "instrument", "instrument": "ETH-USD", "reason": "x"}),
        json!({"scope": "client", "client_id": "cl-nobody", "reason": "x"}),
        json!({"scope": "trader", "trader_id": "u-nobody", "reason": "x"}),
    ];
    for body in cases {
        desk.engage(body).await.assert_problem(404, "not_found");
    }
    let listed = desk.api.get("/v1/kill-switch", Some(&desk.risk)).await;
    assert_eq!(listed.assert_json(200)["engagements"], json!([]));
    desk.gw.shutdown().await;
}

#[tokio::test]
async fn targets_that_do_not_fit_the_scope_are_refused_by_field() {
    let desk = desk().await;
    let cases = [
        (
            json!({"scope": "global", "instrument": BTC, "reason": "x"}),
            "instrument",
        ),
        (json!({"scope": "instrument", "reason": "x"}), "instrument"),
        (
            json!({"scope": "instrument", "account_id": "ACC-1", "reason": "x"}),
            "account_id",
        ),
        (
            json!({"scope": "client", "trader_id": "u-1", "reason": "x"}),
            "trader_id",
        ),
        (json!({"scope": "trader", "reason": "x"}), "trader_id"),
        (
            json!({"scope": "client", "client_id": "a b", "reason": "x"}),
            "client_id",
        ),
        (
            json!({"scope": "instrument", "instrument": "btc usd", "reason": "x"}),
            "instrument",
        ),
        (json!({"scope": "desk", "reason": "x"}), "scope"),
    ];
    for (body, field) in cases {
        let answer = desk.engage(body.clone()).await;
        answer.assert_problem(400, "request.invalid");
        assert_eq!(answer.json["field"], field, "{body}: {}", answer.text);
    }
    desk.gw.shutdown().await;
}
