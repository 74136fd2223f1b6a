//! Over real HTTPS: parallel wrong passwords cannot pass the failure limit
//! before the lockout, and a person signing in from an address does not wipe
//! the failures other names left against that address.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_core::Role;
use rampart_testkit::TestGateway;
use rampart_testkit::people::Setup;
use serde_json::json;

const PARALLEL: usize = 12;

#[tokio::test]
async fn parallel_wrong_passwords_never_pass_the_failure_limit() {
    let gw = TestGateway::start_with(|config| {
        config.auth.login.max_failures = 3;
        config.auth.login.delay_base_ms = 0;
    })
    .await;
    let user = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let wrong = json!({ "username": user.username, "password": "not the password at all", "totp_code": "123456" }); // pragma: allowlist secret

    let attempts = (0..PARALLEL).map(|_| gw.login_with(&wrong));
    let answers = futures::future::join_all(attempts).await;
    let failed = answers.iter().filter(|a| a.status == 401).count();
    let locked = answers.iter().filter(|a| a.status == 429).count();
    assert_eq!((failed, locked), (3, PARALLEL - 3));

    let checked = gw
        .audit_events()
        .await
        .iter()
        .filter(|e| e.action == "auth.login.failed" && e.details["reason"] == "wrong_password")
        .count();
    assert_eq!(checked, 3);
    gw.login_answer(&user)
        .await
        .assert_problem(429, "auth.locked");
}

#[tokio::test]
async fn a_success_from_an_address_keeps_the_failures_other_names_left_there() {
    let gw = TestGateway::start_with(|config| {
        config.auth.login.max_failures = 3;
        config.auth.login.delay_base_ms = 0;
    })
    .await;
    let user = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let ghost =
        |name: &str| json!({ "username": name, "password": "whatever it is", "totp_code": "1" }); // pragma: allowlist secret
    for name in ["ghost-1", "ghost-2"] {
        gw.login_with(&ghost(name))
            .await
            .assert_problem(401, "auth.login_failed");
    }
    gw.login_answer(&user).await.assert_json(200);

    gw.login_with(&ghost("ghost-3"))
        .await
        .assert_problem(401, "auth.login_failed");
    gw.login_answer(&user)
        .await
        .assert_problem(429, "auth.locked");
}

#[tokio::test]
async fn a_success_ends_the_users_own_count() {
    let gw = TestGateway::start_with(|config| {
        config.auth.login.max_failures = 3;
        config.auth.login.delay_base_ms = 0;
    })
    .await;
    let user = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let wrong = json!({ "username": user.username, "password": "not the password at all", "totp_code": "1" }); // pragma: allowlist secret
    gw.login_with(&wrong)
        .await
        .assert_problem(401, "auth.login_failed");
    gw.login_answer(&user).await.assert_json(200);

    let key = user.id.clone();
    let failures = gw
        .in_store(move |store| async move {
            store
                .login_failures(rampart_store::ThrottleScope::User, &key)
                .await
        })
        .await
        .unwrap();
    assert_eq!(failures.failures, 0);
}
