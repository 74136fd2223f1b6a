//! Over real HTTPS: a person answers for the API clients they own.
//!
//! Their roles together with an owned client's must respect segregation of
//! duties whenever their roles change (a direct change, a `role.grant`
//! proposal, and its approval); and disabling the person disables the clients
//! they own in the same step, so that a client's token is refused at once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_audit::action;
use rampart_core::{AccountId, Role};
use rampart_testkit::api::Answer;
use rampart_testkit::{Person, TestGateway, generous_limits};
use serde_json::{Value, json};

async fn patch(gw: &TestGateway, admin: &Person, id: &str, body: &Value) -> Answer {
    let path = format!("/v1/users/{id}");
    let request = gw
        .api()
        .request(reqwest::Method::PATCH, &path, Some(&admin.token))
        .json(body);
    Answer::of(request).await
}

async fn roles_of(gw: &TestGateway, id: &str) -> Vec<Role> {
    let id = id.to_owned();
    let user = gw
        .in_store(move |store| async move { store.user(&id).await })
        .await
        .unwrap()
        .expect("the person exists");
    user.roles.iter().collect()
}

async fn pending_grants(gw: &TestGateway, id: &str) -> usize {
    let target = format!("user:{id}");
    let now = gw.clock().now();
    let found = gw
        .in_store(move |store| async move {
            store
                .approvals(
                    Some(rampart_store::ApprovalStatus::Pending),
                    Some("role.grant"),
                    now,
                )
                .await
        })
        .await
        .unwrap();
    found.iter().filter(|a| a.target == target).count()
}

/// A person holding only `auditor`, and an account.
async fn owner(gw: &TestGateway) -> (Person, AccountId) {
    let account = gw.add_account(generous_limits()).await;
    (gw.person(&[Role::Auditor], &[]).await, account)
}

#[tokio::test]
async fn the_owner_of_a_trader_client_is_refused_risk_manager_at_proposal() {
    let gw = TestGateway::shared().await;
    let admin = gw.person(&[Role::Admin], &[]).await;
    let (person, account) = owner(gw).await;
    let client = gw
        .add_owned_client(&[Role::Trader], &[&account], person.id())
        .await;

    let body = json!({ "roles": ["auditor", "risk_manager"] });
    let answer = patch(gw, &admin, person.id(), &body).await;
    answer.assert_problem(409, "user.role_conflict");
    let detail = answer.member("detail").unwrap();
    assert!(detail.contains(&format!("`{}`", client.id)), "{detail}");
    assert_eq!(pending_grants(gw, person.id()).await, 0, "no proposal");
    assert_eq!(roles_of(gw, person.id()).await, [Role::Auditor]);
}

#[tokio::test]
async fn the_owner_of_a_trader_client_is_refused_risk_manager_when_the_grant_is_approved() {
    let gw = TestGateway::shared().await;
    let (proposer, approver) = (
        gw.person(&[Role::Admin], &[]).await,
        gw.person(&[Role::Admin], &[]).await,
    );
    let (person, account) = owner(gw).await;
    let body = json!({ "roles": ["auditor", "risk_manager"] });
    let proposed = patch(gw, &proposer, person.id(), &body).await;
    let approval = proposed.assert_json(202)["approval"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    gw.add_owned_client(&[Role::Trader], &[&account], person.id())
        .await;

    let path = format!("/v1/approvals/{approval}/approve");
    let answer = gw
        .api()
        .post_json(&path, Some(&approver.token), &json!({}))
        .await;
    answer.assert_problem(409, "user.role_conflict");
    assert_eq!(roles_of(gw, person.id()).await, [Role::Auditor]);
    assert_eq!(pending_grants(gw, person.id()).await, 1, "still pending");
    let target = format!("approval:{approval}");
    let refused: Vec<_> = gw
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.action == "approval.refused" && e.target == target)
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].details["reason"], "role_conflict");
    assert_eq!(refused[0].actor, approver.id());
}

#[tokio::test]
async fn the_owner_of_a_risk_manager_client_is_refused_trader_directly() {
    let gw = TestGateway::shared().await;
    let admin = gw.person(&[Role::Admin], &[]).await;
    let (person, account) = owner(gw).await;
    let client = gw
        .add_owned_client(&[Role::RiskManager], &[], person.id())
        .await;

    let body = json!({ "roles": ["auditor", "trader"], "accounts": [account.as_str()] });
    let answer = patch(gw, &admin, person.id(), &body).await;
    answer.assert_problem(409, "user.role_conflict");
    let detail = answer.member("detail").unwrap();
    assert!(detail.contains(&format!("`{}`", client.id)), "{detail}");
    assert_eq!(roles_of(gw, person.id()).await, [Role::Auditor]);
}

#[tokio::test]
async fn a_role_that_conflicts_with_no_owned_client_is_still_granted() {
    let gw = TestGateway::shared().await;
    let admin = gw.person(&[Role::Admin], &[]).await;
    let (person, account) = owner(gw).await;
    gw.add_owned_client(&[Role::Trader], &[&account], person.id())
        .await;

    let body = json!({ "roles": ["auditor", "trader"], "accounts": [account.as_str()] });
    patch(gw, &admin, person.id(), &body).await.assert_json(200);
    assert_eq!(
        roles_of(gw, person.id()).await,
        [Role::Trader, Role::Auditor]
    );
}

#[tokio::test]
async fn disabling_a_person_disables_their_clients_and_refuses_a_clients_token_at_once() {
    let gw = TestGateway::shared().await;
    let admin = gw.person(&[Role::Admin], &[]).await;
    let (person, account) = owner(gw).await;
    let owned = gw
        .add_owned_client(&[Role::Trader], &[&account], person.id())
        .await;
    let other = gw.add_client(&[Role::Trader], &[&account]).await;
    let (owned_token, other_token) = (gw.token(&owned).await, gw.token(&other).await);
    let orders = format!("/v1/orders?account_id={account}");
    gw.api()
        .get(&orders, Some(&owned_token))
        .await
        .assert_json(200);

    let path = format!("/v1/users/{}/disable", person.id());
    let answer = gw
        .api()
        .post_json(&path, Some(&admin.token), &json!({}))
        .await;
    assert_eq!(
        answer.assert_json(200)["disabled_clients"],
        json!([owned.id])
    );

    gw.api()
        .get(&orders, Some(&owned_token))
        .await
        .assert_problem(401, "auth.invalid_token");
    assert_eq!(gw.token_answer(&owned).await.status, 401);
    gw.api()
        .get(&orders, Some(&other_token))
        .await
        .assert_json(200);

    let events = gw.audit_events().await;
    let disabled: Vec<_> = events
        .iter()
        .filter(|e| e.action == action::CLIENT_DISABLED && e.target == owned.id)
        .collect();
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    assert_eq!(disabled[0].details["reason"], "owner_disabled");
    assert_eq!(disabled[0].details["owner"], person.id());
    assert_eq!(disabled[0].actor, admin.id());
    assert!(
        !events
            .iter()
            .any(|e| e.action == action::CLIENT_DISABLED && e.target == other.id),
        "a client of nobody disabled was disabled"
    );
    let target = format!("user:{}", person.id());
    let person_disabled: Vec<_> = events
        .iter()
        .filter(|e| e.action == "user.disabled" && e.target == target)
        .collect();
    assert_eq!(person_disabled.len(), 1, "{person_disabled:?}");
    assert_eq!(
        person_disabled[0].details["disabled_clients"],
        json!([owned.id])
    );
}
