//! Over real HTTPS: taking a role or an account away from a person cuts off the
//! tokens they already hold at once, and a restart does not bring them back;
//! adding access leaves existing tokens alone.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::Duration;
use rampart_core::{AccountId, Role};
use rampart_testkit::TestGateway;
use rampart_testkit::identity::generous_limits;
use rampart_testkit::market::BTC;
use rampart_testkit::order;
use rampart_testkit::people::Setup;
use serde_json::{Value, json};

async fn admin_token(gw: &TestGateway) -> String {
    let admin = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    gw.login(&admin).await.0
}

async fn patch(gw: &TestGateway, admin: &str, id: &str, body: &Value) -> Value {
    let request = gw
        .api()
        .request(
            reqwest::Method::PATCH,
            &format!("/v1/users/{id}"),
            Some(admin),
        )
        .json(body);
    rampart_testkit::api::Answer::of(request)
        .await
        .assert_json(200)
        .clone()
}

fn buy(account: &AccountId) -> Value {
    order::market(account, BTC, "buy", "0.01")
}

#[tokio::test]
async fn removing_an_account_refuses_the_same_token_on_its_next_order() {
    let gw = TestGateway::start().await;
    let first = gw.add_account(generous_limits()).await;
    let second = gw.add_account(generous_limits()).await;
    let trader = gw
        .add_user(&[Role::Trader], &[&first, &second], Setup::READY)
        .await;
    let (token, refresh) = gw.login(&trader).await;
    gw.api().place(&token, &buy(&first)).await.assert_json(201);

    let admin = admin_token(&gw).await;
    let body = json!({ "accounts": [second.as_str()] });
    patch(&gw, &admin, &trader.id, &body).await;

    let answer = gw.api().place(&token, &buy(&first)).await;
    answer.assert_problem(401, "auth.invalid_token");
    let answer = gw.api().place(&token, &buy(&second)).await;
    answer.assert_problem(401, "auth.invalid_token");
    let refreshed = gw.refresh(&refresh.unwrap()).await;
    assert_eq!(refreshed.member("error"), Some("invalid_grant"));
}

#[tokio::test]
async fn a_token_cut_off_by_a_reduction_stays_refused_after_access_returns_and_a_restart() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let trader = gw
        .add_user(&[Role::Trader], &[&account], Setup::READY)
        .await;
    let (token, _) = gw.login(&trader).await;
    let admin = admin_token(&gw).await;

    patch(&gw, &admin, &trader.id, &json!({ "accounts": [] })).await;
    let back = json!({ "accounts": [account.as_str()] });
    patch(&gw, &admin, &trader.id, &back).await;
    let answer = gw.api().place(&token, &buy(&account)).await;
    answer.assert_problem(401, "auth.invalid_token");

    let gw = gw.restart().await;
    let answer = gw.api().place(&token, &buy(&account)).await;
    answer.assert_problem(401, "auth.invalid_token");

    gw.clock().advance(Duration::seconds(1));
    let (fresh, _) = gw.login(&trader).await;
    gw.api()
        .place(&fresh, &buy(&account))
        .await
        .assert_json(201);
}

#[tokio::test]
async fn adding_an_account_keeps_the_tokens_already_issued() {
    let gw = TestGateway::start().await;
    let first = gw.add_account(generous_limits()).await;
    let second = gw.add_account(generous_limits()).await;
    let trader = gw.add_user(&[Role::Trader], &[&first], Setup::READY).await;
    let (token, _) = gw.login(&trader).await;
    let admin = admin_token(&gw).await;

    let body = json!({ "accounts": [first.as_str(), second.as_str()] });
    let changed = patch(&gw, &admin, &trader.id, &body).await;
    assert_eq!(changed["user"]["accounts"].as_array().unwrap().len(), 2);
    gw.api().place(&token, &buy(&first)).await.assert_json(201);
}

#[tokio::test]
async fn removing_a_role_refuses_the_token_that_carried_it() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let person = gw
        .add_user(&[Role::Trader, Role::Auditor], &[&account], Setup::READY)
        .await;
    let (token, _) = gw.login(&person).await;
    gw.api()
        .get("/v1/kill-switch", Some(&token))
        .await
        .assert_json(200);
    let admin = admin_token(&gw).await;

    patch(&gw, &admin, &person.id, &json!({ "roles": ["trader"] })).await;
    let answer = gw.api().get("/v1/kill-switch", Some(&token)).await;
    answer.assert_problem(401, "auth.invalid_token");
}

/// The `iat` of a compact JWT, read without verification.
fn iat_of(token: &str) -> i64 {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice::<Value>(&bytes).unwrap()["iat"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_person_signing_in_again_in_the_second_of_a_revocation_gets_a_working_token() {
    let gw = TestGateway::start().await;
    let admin = admin_token(&gw).await;
    let person = gw
        .add_user(&[Role::Auditor, Role::Trader], &[], Setup::READY)
        .await;
    let (old, _) = gw.login(&person).await;
    let mut same_second = false;
    for attempt in 0..5 {
        if attempt > 0 {
            patch(
                &gw,
                &admin,
                &person.id,
                &json!({ "roles": ["auditor", "trader"] }),
            )
            .await;
        }
        // Start just after a whole second, so that what follows shares it.
        let millis = i64::from(gw.clock().now().timestamp_subsec_millis());
        gw.clock().advance(Duration::milliseconds(1001 - millis));
        let code = gw.fresh_code(&person);
        patch(&gw, &admin, &person.id, &json!({ "roles": ["auditor"] })).await;
        let body = json!({ "username": person.username, "password": person.password,
                           "totp_code": code });
        let answer = gw.login_with(&body).await;
        let token = answer.assert_json(200)["access_token"]
            .as_str()
            .unwrap()
            .to_owned();

        gw.api()
            .get("/v1/kill-switch", Some(&token))
            .await
            .assert_json(200);
        let id = person.id.clone();
        let revoked = gw
            .in_store(move |store| async move { store.subject_revoked_at(&id).await })
            .await
            .unwrap()
            .expect("the revocation is recorded");
        if iat_of(&token) == revoked.timestamp() {
            same_second = true;
            break;
        }
    }
    assert!(
        same_second,
        "no sign-in fell in the second of its revocation"
    );
    gw.api()
        .get("/v1/kill-switch", Some(&old))
        .await
        .assert_problem(401, "auth.invalid_token");
}

#[tokio::test]
async fn a_cut_off_recorded_beside_the_gateway_refuses_the_old_token_on_its_next_request() {
    let gw = TestGateway::start().await;
    let person = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let (token, _) = gw.login(&person).await;
    gw.api()
        .get("/v1/kill-switch", Some(&token))
        .await
        .assert_json(200);

    // What `rampart user reset-mfa` does on the host: the store records the cut-off,
    // and nothing tells the running gateway's memory.
    let id = person.id.clone();
    let now = gw.clock().now();
    let ended = gw
        .in_store(move |store| async move {
            let reset = rampart_server::service::users::reset_mfa(&store, "operator", &id, now);
            Ok(reset.await.expect("the reset applies"))
        })
        .await
        .unwrap();
    assert_eq!(ended.len(), 1, "the person's one session ends");

    let refused = gw.api().get("/v1/kill-switch", Some(&token)).await;
    refused.assert_problem(401, "auth.invalid_token");
}
