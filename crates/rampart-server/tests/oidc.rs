//! Over real HTTPS against a real provider (npm `oidc-provider` on loopback):
//! its tokens are accepted for its mapped roles; a token from another issuer,
//! for another audience, or signed by its key but claiming our issuer is refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod bearer_checks;

use std::collections::BTreeMap;

use bearer_checks::{assert_admitted, assert_refused};
use rampart_core::Role;
use rampart_server::config::identity::{LinkBy, OidcConfig};
use rampart_testkit::TestGateway;
use rampart_testkit::oidc::OidcProvider;
use rampart_testkit::people::Setup;
use serde_json::json;

const AUDIENCE: &str = "https://rampart.test/api";

async fn gateway_trusting(provider: &OidcProvider) -> TestGateway {
    gateway_with(provider, None).await
}

async fn gateway_with(provider: &OidcProvider, link_by: Option<LinkBy>) -> TestGateway {
    let mut entry = OidcConfig::new(
        provider.issuer(),
        AUDIENCE,
        "corp:",
        BTreeMap::from([("desk-auditors".to_owned(), "auditor".to_owned())]),
    );
    entry.ca_file = Some(provider.ca_file().to_owned());
    entry.roles_claim = "groups".to_owned();
    entry.link_by = link_by;
    // Only a linking issuer may grant a privileged role.
    if link_by.is_some() {
        entry
            .role_map
            .insert("desk-admins".to_owned(), "admin".to_owned());
    }
    TestGateway::start_with(|config| {
        config.auth.audience = AUDIENCE.to_owned();
        config.auth.oidc = vec![entry];
    })
    .await
}

#[tokio::test]
async fn tokens_of_the_trusted_provider_are_accepted_with_their_mapped_role() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_trusting(&provider).await;
    let token = provider.token(AUDIENCE).await;
    assert_admitted(&gw, &token).await;
    let engage = json!({ "scope": "global", "reason": "outside auditor tries" });
    let denied = gw
        .api()
        .post_json("/v1/kill-switch", Some(&token), &engage)
        .await;
    denied.assert_problem(403, "policy.denied");
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_trusting(&provider).await;
    let token = provider.token("https://elsewhere.test/api").await;
    assert_refused(&gw, &token).await;
}

#[tokio::test]
async fn a_token_of_an_untrusted_provider_is_refused() {
    let trusted = OidcProvider::start(&["desk-auditors"]).await;
    let stranger = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_trusting(&trusted).await;
    let token = stranger.token(AUDIENCE).await;
    assert_refused(&gw, &token).await;
}

#[tokio::test]
async fn a_token_signed_by_the_provider_but_claiming_our_issuer_is_refused() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_trusting(&provider).await;
    let now = gw.clock().now_unix();
    let claims = json!({
        "iss": gw.base_url(), "aud": AUDIENCE, "sub": "intruder", "kind": "client",
        "roles": ["auditor"], "groups": ["desk-auditors"], "jti": "forged-1", "amr": ["pwd", "otp"],
        "iat": now, "nbf": now, "exp": now + 300,
    });
    let forged = provider.forge(&claims);
    assert_refused(&gw, &forged).await;
    let theirs = json!({
        "iss": provider.issuer(), "aud": AUDIENCE, "sub": "someone", "groups": ["desk-auditors"],
        "jti": "genuine-shape", "iat": now, "exp": now + 300, "amr": ["pwd", "otp"],
    });
    assert_admitted(&gw, &provider.forge(&theirs)).await;
}

#[tokio::test]
async fn an_outside_token_is_refused_once_its_holder_logs_out() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_trusting(&provider).await;
    let token = provider.token(AUDIENCE).await;
    assert_admitted(&gw, &token).await;

    let out = gw
        .api()
        .post_json("/v1/auth/logout", Some(&token), &json!({}))
        .await;
    assert_eq!(out.assert_json(200)["logged_out"], true);
    assert_refused(&gw, &token).await;
    let gw = gw.restart().await;
    assert_refused(&gw, &token).await;
}

#[tokio::test]
async fn an_outside_token_without_a_jti_is_refused_once_revoked_and_others_still_work() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_trusting(&provider).await;
    let now = gw.clock().now_unix();
    let claims = |sub: &str| {
        json!({
            "iss": provider.issuer(), "aud": AUDIENCE, "sub": sub,
            "groups": ["desk-auditors"], "iat": now, "exp": now + 300, "amr": ["pwd", "otp"],
        })
    };
    let revoked = provider.forge(&claims("first-person"));
    let other = provider.forge(&claims("second-person"));
    assert_admitted(&gw, &revoked).await;

    let answer = gw.post_form("/oauth/revoke", &[("token", &revoked)]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_refused(&gw, &revoked).await;
    assert_admitted(&gw, &other).await;
}

/// A token the provider signs for the outside identity `sub` in `groups`.
fn forged_outside(provider: &OidcProvider, sub: &str, groups: &[&str], now: i64) -> String {
    provider.forge(&outside_claims(provider, sub, groups, now))
}

fn outside_claims(
    provider: &OidcProvider,
    sub: &str,
    groups: &[&str],
    now: i64,
) -> serde_json::Value {
    json!({
        "iss": provider.issuer(), "aud": AUDIENCE, "sub": sub, "groups": groups,
        "jti": format!("outside-{sub}"), "iat": now, "exp": now + 300, "amr": ["pwd", "otp"],
    })
}

#[tokio::test]
async fn a_linked_outside_identity_cannot_approve_its_own_proposal() {
    let provider = OidcProvider::start(&["desk-admins"]).await;
    let gw = gateway_with(&provider, Some(LinkBy::Subject)).await;
    let proposer = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    let second = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    let subject = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let (local, _) = gw.login(&proposer).await;
    let patch = gw
        .api()
        .request(
            reqwest::Method::PATCH,
            &format!("/v1/users/{}", subject.id),
            Some(&local),
        )
        .json(&json!({ "roles": ["auditor", "compliance_officer"] }));
    let proposed = rampart_testkit::api::Answer::of(patch).await;
    let approval = proposed.assert_json(202)["approval"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let now = gw.clock().now_unix();
    let outside = forged_outside(&provider, &proposer.username, &["desk-admins"], now);
    let path = format!("/v1/approvals/{approval}/approve");
    gw.api()
        .post_json(&path, Some(&outside), &json!({}))
        .await
        .assert_problem(403, "approval.self_approval");

    let (other, _) = gw.login(&second).await;
    gw.api()
        .post_json(&path, Some(&other), &json!({}))
        .await
        .assert_json(200);
}

#[tokio::test]
async fn an_outside_token_of_a_disabled_linked_person_is_refused_at_once() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_with(&provider, Some(LinkBy::Subject)).await;
    let person = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let now = gw.clock().now_unix();
    let outside = forged_outside(&provider, &person.username, &["desk-auditors"], now);
    assert_admitted(&gw, &outside).await;

    let admin = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    let (admin_token, _) = gw.login(&admin).await;
    let disable = format!("/v1/users/{}/disable", person.id);
    gw.api()
        .post_json(&disable, Some(&admin_token), &json!({}))
        .await
        .assert_json(200);
    assert_refused(&gw, &outside).await;
}

#[tokio::test]
async fn an_outside_identity_with_no_local_person_is_refused_when_linking_is_on() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_with(&provider, Some(LinkBy::Subject)).await;
    let now = gw.clock().now_unix();
    let stranger = forged_outside(&provider, "nobody-here", &["desk-auditors"], now);
    assert_refused(&gw, &stranger).await;
}
