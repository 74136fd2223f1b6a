//! Over real HTTPS: a sign-in that read the user before a second-factor reset
//! committed gets no session; the transaction that would start it reads the user again.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::time::Duration as StdDuration;

use rampart_core::Role;
use rampart_testkit::TestGateway;
use rampart_testkit::people::Setup;
use serde_json::json;

#[tokio::test]
async fn a_sign_in_racing_a_second_factor_reset_gets_no_session() {
    let gw = TestGateway::start().await;
    let person = gw.add_user(&[Role::Trader], &[], Setup::READY).await;
    let code = gw.fresh_code(&person);
    let body = json!({ "username": person.username, "password": person.password,
                       "totp_code": code });
    let clock = gw.clock().clone();
    let id = person.id.clone();
    // The reset holds the writer while the sign-in reads the user and checks the
    // password, then commits before the sign-in can start its session.
    let reset = gw.in_store(move |store| async move {
        let mut tx = store.begin().await?;
        tokio::time::sleep(StdDuration::from_millis(300)).await;
        assert!(tx.reset_mfa(&id).await?);
        tx.revoke_subject(&id, "mfa_reset", clock.now()).await?;
        tx.commit().await
    });
    let (answer, reset) = tokio::join!(gw.login_with(&body), reset);
    reset.unwrap();

    assert_eq!(answer.status, 401, "{:?}", answer.json);
    assert!(answer.json.get("access_token").is_none());
    let events = gw.audit_events().await;
    assert!(
        events
            .iter()
            .any(|e| e.action == "auth.login.failed"
                && e.details["reason"] == "changed_during_sign_in"),
        "the refusal is audited"
    );
}
