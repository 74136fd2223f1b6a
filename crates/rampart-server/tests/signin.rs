//! Over real HTTPS: people sign in with a password and TOTP, set up MFA when
//! they have none, spend recovery codes once, and get locked out after
//! repeated failures until the lockout runs out (with the gateway's clock).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::Duration;
use rampart_auth::TotpSecret;
use rampart_core::Role;
use rampart_testkit::TestGateway;
use rampart_testkit::people::{PASSWORD, Setup};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

#[tokio::test]
async fn a_user_with_mfa_signs_in_with_password_and_totp_and_gets_both_tokens() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(rampart_testkit::generous_limits()).await;
    let user = gw
        .add_user(&[Role::Trader], &[&account], Setup::READY)
        .await;
    let answer = gw.login_answer(&user).await;
    let body = answer.assert_json(200);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["refresh_token"].as_str().unwrap().len() >= 43);
    assert!(body.get("restricted").is_none());

    let token = body["access_token"].as_str().unwrap();
    let path = format!("/v1/accounts/{account}/risk-limits");
    gw.api().get(&path, Some(token)).await.assert_json(200);
    let events = gw.audit_events().await;
    let signed_in = events
        .iter()
        .find(|e| e.action == "auth.login.succeeded")
        .unwrap();
    assert_eq!(signed_in.actor, user.id);
}

#[tokio::test]
async fn a_wrong_totp_code_and_a_replayed_code_are_refused_like_a_wrong_password() {
    let gw = TestGateway::start().await;
    let user = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let code = gw.fresh_code(&user);
    let body = json!({ "username": user.username, "password": PASSWORD, "totp_code": code });
    gw.login_with(&body).await.assert_json(200);
    gw.login_with(&body)
        .await
        .assert_problem(401, "auth.login_failed");
    let wrong = json!({ "username": user.username, "password": PASSWORD, "totp_code": "000000" });
    gw.login_with(&wrong)
        .await
        .assert_problem(401, "auth.login_failed");
    let missing = json!({ "username": user.username, "password": PASSWORD });
    gw.login_with(&missing)
        .await
        .assert_problem(401, "auth.login_failed");
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_get_the_same_problem() {
    let gw = TestGateway::start().await;
    let user = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let unknown = gw
        .login_with(
            &json!({ "username": "nobody-here", "password": PASSWORD, "totp_code": "123456" }),
        )
        .await;
    let wrong = gw
        .login_with(&json!({ "username": user.username, "password": "not the password at all", "totp_code": "123456" })) // pragma: allowlist secret
        .await;
    unknown.assert_problem(401, "auth.login_failed");
    wrong.assert_problem(401, "auth.login_failed");
    assert_eq!(unknown.json["detail"], wrong.json["detail"]);
    assert_eq!(unknown.json["title"], wrong.json["title"]);

    let events = gw.audit_events().await;
    let failures: Vec<_> = events
        .iter()
        .filter(|e| e.action == "auth.login.failed")
        .collect();
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].actor, "anonymous");
    assert_eq!(failures[1].actor, user.id);
    let log = serde_json::to_string(&failures).unwrap();
    assert!(
        !log.contains("nobody-here"),
        "the typed username never reaches the audit log"
    );
}

#[tokio::test]
async fn a_user_without_mfa_gets_a_restricted_token_good_only_for_set_up() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(rampart_testkit::generous_limits()).await;
    let user = gw
        .add_user(&[Role::Trader], &[&account], Setup::NO_MFA)
        .await;
    let answer = gw.login_answer(&user).await;
    let body = answer.assert_json(200);
    assert_eq!(body["restricted"], true);
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap().to_owned();

    let path = format!("/v1/accounts/{account}/risk-limits");
    gw.api()
        .get(&path, Some(&token))
        .await
        .assert_problem(403, "auth.setup_required");

    let enrolment = gw
        .api()
        .post_json("/v1/auth/mfa/enroll", Some(&token), &json!({}))
        .await;
    let enrolment = enrolment.assert_json(200).clone();
    assert!(
        enrolment["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    assert!(!enrolment["qr_png_base64"].as_str().unwrap().is_empty());
    let seed = SecretString::from(enrolment["secret"].as_str().unwrap().to_owned());
    let totp = TotpSecret::from_base32(&seed).unwrap();

    let now = u64::try_from(gw.clock().now_unix()).unwrap();
    let wrong = gw
        .api()
        .post_json(
            "/v1/auth/mfa/confirm",
            Some(&token),
            &json!({ "code": "000000" }),
        )
        .await;
    wrong.assert_problem(400, "request.invalid");
    let code = totp.code_at(now).expose_secret().to_owned();
    let confirmed = gw
        .api()
        .post_json(
            "/v1/auth/mfa/confirm",
            Some(&token),
            &json!({ "code": code }),
        )
        .await;
    let codes = confirmed.assert_json(200)["recovery_codes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(codes.len(), 10);

    gw.clock().advance(Duration::seconds(30));
    let now = u64::try_from(gw.clock().now_unix()).unwrap();
    let code = totp.code_at(now).expose_secret().to_owned();
    let full = gw
        .login_with(&json!({ "username": user.username, "password": PASSWORD, "totp_code": code }))
        .await;
    let full_token = full.assert_json(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    gw.api()
        .get(&path, Some(&full_token))
        .await
        .assert_json(200);
}

#[tokio::test]
async fn the_bootstrap_admin_must_change_the_password_before_anything_else() {
    let gw = TestGateway::start().await;
    let user = gw
        .add_user(
            &[Role::Admin],
            &[],
            Setup {
                mfa: true,
                must_change_password: true,
            },
        )
        .await;
    let token = gw.login_answer(&user).await.assert_json(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    gw.api()
        .get("/v1/users", Some(&token))
        .await
        .assert_problem(403, "auth.setup_required");

    let weak = json!({ "current_password": PASSWORD, "new_password": "password1234" }); // pragma: allowlist secret
    let refused = gw
        .api()
        .post_json("/v1/auth/password", Some(&token), &weak)
        .await;
    refused.assert_problem(400, "request.invalid");
    assert_eq!(refused.json["field"], "new_password");
    let same = json!({ "current_password": PASSWORD, "new_password": PASSWORD });
    let kept = gw
        .api()
        .post_json("/v1/auth/password", Some(&token), &same)
        .await;
    kept.assert_problem(400, "request.invalid");
    assert!(kept.text.contains("must differ"), "{}", kept.text);
    let key = user.id.clone();
    let counted = gw
        .in_store(move |store| async move {
            store
                .login_failures(rampart_store::ThrottleScope::User, &key)
                .await
        })
        .await
        .unwrap();
    assert_eq!(
        counted.failures, 0,
        "a refused new password is no failed sign-in"
    );

    let strong =
        json!({ "current_password": PASSWORD, "new_password": "a much longer pass phrase 7" }); // pragma: allowlist secret
    gw.api()
        .post_json("/v1/auth/password", Some(&token), &strong)
        .await
        .assert_json(200);
    let code = gw.fresh_code(&user);
    let body = json!({ "username": user.username, "password": "a much longer pass phrase 7", "totp_code": code }); // pragma: allowlist secret
    let full = gw.login_with(&body).await;
    let full_token = full.assert_json(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    gw.api()
        .get("/v1/users", Some(&full_token))
        .await
        .assert_json(200);
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let gw = TestGateway::start().await;
    let user = gw.add_user(&[Role::Auditor], &[], Setup::NO_MFA).await;
    let restricted = gw.login(&user).await.0;
    let enrolment = gw
        .api()
        .post_json("/v1/auth/mfa/enroll", Some(&restricted), &json!({}))
        .await;
    let seed = SecretString::from(enrolment.json["secret"].as_str().unwrap().to_owned());
    let totp = TotpSecret::from_base32(&seed).unwrap();
    let code = totp.code_at(u64::try_from(gw.clock().now_unix()).unwrap());
    let confirmed = gw
        .api()
        .post_json(
            "/v1/auth/mfa/confirm",
            Some(&restricted),
            &json!({ "code": code.expose_secret() }),
        )
        .await;
    let recovery = confirmed.json["recovery_codes"][3]
        .as_str()
        .unwrap()
        .to_owned();

    let body =
        json!({ "username": user.username, "password": PASSWORD, "recovery_code": recovery });
    let first = gw.login_with(&body).await;
    assert!(first.assert_json(200)["refresh_token"].is_string());
    gw.login_with(&body)
        .await
        .assert_problem(401, "auth.login_failed");
    let events = gw.audit_events().await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "auth.recovery_code.used")
            .count(),
        1
    );
}

#[tokio::test]
async fn repeated_failures_lock_the_user_until_the_lockout_runs_out() {
    let gw = TestGateway::start_with(|config| {
        config.auth.login.max_failures = 3;
        config.auth.login.lockout_seconds = 600;
        config.auth.login.delay_base_ms = 1;
        config.auth.login.delay_max_ms = 5;
    })
    .await;
    let user = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let wrong = json!({ "username": user.username, "password": "wrong wrong wrong", "totp_code": "123456" }); // pragma: allowlist secret
    for _ in 0..3 {
        gw.login_with(&wrong)
            .await
            .assert_problem(401, "auth.login_failed");
    }
    gw.login_answer(&user)
        .await
        .assert_problem(429, "auth.locked");
    let events = gw.audit_events().await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "auth.login.locked")
            .count(),
        1
    );

    gw.clock().advance(Duration::seconds(601));
    gw.login_answer(&user).await.assert_json(200);
}

#[tokio::test]
async fn failures_from_one_address_lock_that_address_for_every_username() {
    let gw = TestGateway::start_with(|config| {
        config.auth.login.max_failures = 2;
        config.auth.login.delay_base_ms = 0;
    })
    .await;
    let user = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    for name in ["ghost-1", "ghost-2"] {
        let body = json!({ "username": name, "password": "whatever it is", "totp_code": "1" }); // pragma: allowlist secret
        gw.login_with(&body)
            .await
            .assert_problem(401, "auth.login_failed");
    }
    gw.login_answer(&user)
        .await
        .assert_problem(429, "auth.locked");
}
