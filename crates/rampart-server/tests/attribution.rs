//! Over real HTTPS: every order names who placed it (person or client), its
//! algorithm, its desk and its account, on the record and in its audit event;
//! orders and audit events can be selected by each; a person cannot claim an
//! algorithm and a malformed one is refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::Utc;
use rampart_audit::{NewEvent, Outcome, action};
use rampart_core::{AccountId, Role};
use rampart_store::AccountRecord;
use rampart_testkit::identity::unique_account_id;
use rampart_testkit::market::BTC;
use rampart_testkit::people::Setup;
use rampart_testkit::{Api, TestGateway, generous_limits, order};
use serde_json::{Value, json};

struct Floor {
    gw: TestGateway,
    api: Api,
    account: AccountId,
    client: (String, String),
    person: (String, String),
    officer: String,
}

/// An account of desk `rates-eu`, as `rampart account add --desk rates-eu` makes it.
async fn desk_account(gw: &TestGateway) -> AccountId {
    let record = AccountRecord {
        id: unique_account_id(),
        currency: "USD".to_owned(),
        initial_cash: rust_decimal::Decimal::new(10_000_000, 0),
        limits: generous_limits(),
        created_at: Utc::now(),
        desk: Some("rates-eu".to_owned()),
    };
    let id = record.id.clone();
    let event = NewEvent::new(
        "operator",
        action::ACCOUNT_CREATED,
        record.id.as_str(),
        Outcome::Success,
        uuid::Uuid::now_v7().to_string(),
    );
    gw.in_store(move |store| async move {
        let mut tx = store.begin().await?;
        tx.insert_account(&record).await?;
        tx.append(event).await?;
        tx.commit().await
    })
    .await
    .unwrap();
    id
}

async fn floor() -> Floor {
    let gw = TestGateway::start().await;
    let account = desk_account(&gw).await;
    let client = gw.add_client(&[Role::Trader], &[&account]).await;
    let client = (client.id.clone(), gw.token(&client).await);
    let user = gw
        .add_user(&[Role::Trader], &[&account], Setup::READY)
        .await;
    let person = (user.id.clone(), gw.login(&user).await.0);
    let officer = gw.bearer(&[Role::ComplianceOfficer], &[]).await;
    let api = gw.api();
    Floor {
        gw,
        api,
        account,
        client,
        person,
        officer,
    }
}

impl Floor {
    fn market(&self, algo_id: Option<&str>) -> Value {
        let mut body = order::market(&self.account, BTC, "buy", "0.01");
        if let Some(algo_id) = algo_id {
            body["algo_id"] = json!(algo_id);
        }
        body
    }

    async fn placed(&self, token: &str, body: &Value) -> Value {
        let answer = self.api.place(token, body).await;
        answer.assert_json(201).clone()
    }

    async fn orders(&self, query: &str) -> Vec<String> {
        let path = format!("/v1/orders?{query}");
        let answer = self.api.get(&path, Some(&self.officer)).await;
        let page = answer.assert_json(200);
        let orders = page["orders"].as_array().unwrap();
        orders
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn audited(&self, query: &str) -> Vec<Value> {
        let path = format!("/v1/audit/events?{query}");
        let answer = self.api.get(&path, Some(&self.officer)).await;
        answer.assert_json(200)["events"]
            .as_array()
            .unwrap()
            .clone()
    }
}

#[tokio::test]
async fn a_client_order_names_the_client_its_algorithm_the_desk_and_the_account() {
    let floor = floor().await;
    let order = floor.placed(&floor.client.1, &floor.market(None)).await;
    assert_eq!(order["placed_by"], floor.client.0.as_str());
    assert_eq!(order["placed_by_kind"], "client");
    assert_eq!(
        order["algo_id"],
        floor.client.0.as_str(),
        "the client stands in"
    );
    assert_eq!(order["desk"], "rates-eu");
    assert_eq!(order["account_id"], floor.account.as_str());
    assert!(order.get("limits_version").is_some());

    let named = floor
        .placed(&floor.client.1, &floor.market(Some("twap-7")))
        .await;
    assert_eq!(named["algo_id"], "twap-7");
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn a_client_record_may_name_its_algorithm() {
    let floor = floor().await;
    let id = floor.client.0.clone();
    floor
        .gw
        .in_store(move |store| async move {
            let mut tx = store.begin().await?;
            assert!(tx.set_client_algo_id(&id, Some("mm-v2")).await?);
            tx.commit().await
        })
        .await
        .unwrap();
    let order = floor.placed(&floor.client.1, &floor.market(None)).await;
    assert_eq!(order["algo_id"], "mm-v2");
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn a_person_order_names_the_person_and_no_algorithm() {
    let floor = floor().await;
    let order = floor.placed(&floor.person.1, &floor.market(None)).await;
    assert_eq!(order["placed_by"], floor.person.0.as_str());
    assert_eq!(order["placed_by_kind"], "user");
    assert_eq!(order["algo_id"], Value::Null);
    assert_eq!(order["desk"], "rates-eu");
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn a_person_cannot_claim_an_algorithm_and_a_malformed_one_is_refused() {
    let floor = floor().await;
    let claimed = floor
        .api
        .place(&floor.person.1, &floor.market(Some("twap-7")))
        .await;
    claimed.assert_problem(400, "request.invalid");
    assert_eq!(claimed.json["field"], "algo_id");
    for bad in ["", "two words", "x/y", &"a".repeat(65)] {
        let answer = floor
            .api
            .place(&floor.client.1, &floor.market(Some(bad)))
            .await;
        answer.assert_problem(400, "request.invalid");
        assert_eq!(answer.json["field"], "algo_id", "{bad:?}");
    }
    let mut number = floor.market(None);
    number["algo_id"] = json!(7);
    let answer = floor.api.place(&floor.client.1, &number).await;
    answer.assert_problem(400, "request.invalid");
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn accepted_and_rejected_orders_carry_their_attribution_in_the_audit_event() {
    let floor = floor().await;
    let accepted = floor
        .placed(&floor.client.1, &floor.market(Some("twap-7")))
        .await;
    let mut huge = floor.market(Some("twap-7"));
    huge["quantity"] = json!("100000");
    let rejected = floor.api.place(&floor.client.1, &huge).await;
    assert_eq!(rejected.status, 422, "{}", rejected.text);

    let events = floor.gw.audit_events().await;
    for (name, id) in [
        (
            action::ORDER_ACCEPTED,
            accepted["id"].as_str().unwrap().to_owned(),
        ),
        (
            action::ORDER_REJECTED,
            rejected.json["order_id"].as_str().unwrap().to_owned(),
        ),
    ] {
        let target = format!("order:{id}");
        let event = events
            .iter()
            .find(|e| e.action == name && e.target == target)
            .unwrap_or_else(|| panic!("no {name} event for {id}"));
        assert_eq!(event.details["placed_by"], floor.client.0.as_str());
        assert_eq!(event.details["placed_by_kind"], "client");
        assert_eq!(event.details["algo_id"], "twap-7");
        assert_eq!(event.details["desk"], "rates-eu");
        assert_eq!(event.details["account_id"], floor.account.as_str());
        assert!(event.details.get("limits_version").is_some(), "{name}");
    }
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn orders_are_listed_by_who_placed_them_algorithm_and_desk() {
    let floor = floor().await;
    let by_algo = floor
        .placed(&floor.client.1, &floor.market(Some("twap-7")))
        .await;
    let by_client = floor.placed(&floor.client.1, &floor.market(None)).await;
    let by_person = floor.placed(&floor.person.1, &floor.market(None)).await;
    let id = |order: &Value| order["id"].as_str().unwrap().to_owned();

    assert_eq!(floor.orders("algo_id=twap-7").await, [id(&by_algo)]);
    let person = format!("placed_by={}", floor.person.0);
    assert_eq!(floor.orders(&person).await, [id(&by_person)]);
    let client = format!("placed_by={}", floor.client.0);
    assert_eq!(floor.orders(&client).await, [id(&by_algo), id(&by_client)]);
    assert_eq!(floor.orders("desk=rates-eu").await.len(), 3);
    assert!(floor.orders("desk=other-desk").await.is_empty());

    for bad in ["algo_id=a%20b", "desk=", "placed_by="] {
        let answer = floor
            .api
            .get(&format!("/v1/orders?{bad}"), Some(&floor.officer))
            .await;
        answer.assert_problem(400, "request.invalid");
    }
    floor.gw.shutdown().await;
}

#[tokio::test]
async fn audit_events_are_selected_by_account_algorithm_and_desk() {
    let floor = floor().await;
    let by_algo = floor
        .placed(&floor.client.1, &floor.market(Some("twap-7")))
        .await;
    floor.placed(&floor.person.1, &floor.market(None)).await;
    let target = format!("order:{}", by_algo["id"].as_str().unwrap());

    let by_algo_events = floor.audited("algo_id=twap-7").await;
    assert!(!by_algo_events.is_empty());
    assert!(
        by_algo_events
            .iter()
            .all(|e| e["details"]["algo_id"] == "twap-7")
    );
    assert!(
        by_algo_events
            .iter()
            .any(|e| e["target"] == target.as_str())
    );

    let by_desk = floor.audited("desk=rates-eu&action=order.accepted").await;
    assert_eq!(by_desk.len(), 2, "both orders of the desk");
    let account = format!("account_id={}&action=order.accepted", floor.account);
    assert_eq!(floor.audited(&account).await.len(), 2);
    assert!(floor.audited("algo_id=nobody").await.is_empty());
    let injected = floor.audited("desk=x%27%20OR%201%3D1%20--").await;
    assert!(
        injected.is_empty(),
        "a filter value is bound, never spliced"
    );
    floor.gw.shutdown().await;
}
