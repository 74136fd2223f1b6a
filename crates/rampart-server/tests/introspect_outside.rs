//! Over real HTTPS against a real provider (npm `oidc-provider` on loopback):
//! introspection describes an outside access token the gateway would accept,
//! with its issuer, subject, audience, lifetime and mapped roles (and the local
//! person it is linked to), and answers `{"active": false}` and nothing more for
//! one it would refuse: another audience, no MFA where it is required, revoked,
//! expired, or a linked person whose tokens were cut off.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::collections::BTreeMap;

use chrono::Duration;
use rampart_core::Role;
use rampart_server::config::identity::{LinkBy, OidcConfig};
use rampart_testkit::forge::claims_of;
use rampart_testkit::oidc::OidcProvider;
use rampart_testkit::people::Setup;
use rampart_testkit::{Answer, TestGateway};
use serde_json::{Value, json};

const AUDIENCE: &str = "https://rampart.test/api";

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
    TestGateway::start_with(|config| {
        config.auth.audience = AUDIENCE.to_owned();
        config.auth.oidc = vec![entry];
    })
    .await
}

/// What `/oauth/introspect` says of `token`, asked by an authenticated client.
async fn introspect(gw: &TestGateway, token: &str) -> Value {
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    let api = gw.api();
    let request = api
        .http()
        .post(api.url("/oauth/introspect"))
        .basic_auth(&client.id, Some(client.expose_secret()))
        .form(&[("token", token)]);
    Answer::of(request).await.assert_json(200).clone()
}

fn inactive() -> Value {
    json!({ "active": false })
}

#[tokio::test]
async fn an_accepted_outside_token_is_described_with_its_own_claims_and_mapped_roles() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_with(&provider, None).await;
    let token = provider.token(AUDIENCE).await;
    gw.api()
        .get("/v1/kill-switch", Some(&token))
        .await
        .assert_json(200);
    let claims = claims_of(&token);

    let body = introspect(&gw, &token).await;

    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["iss"], provider.issuer());
    assert_eq!(body["sub"], claims["sub"]);
    assert_eq!(body["aud"], claims["aud"]);
    assert_eq!(body["exp"], claims["exp"]);
    assert_eq!(body["iat"], claims["iat"]);
    assert_eq!(body["scope"], "auditor");
    assert_eq!(body["roles"], json!(["auditor"]));
    assert!(
        body.get("linked_subject").is_none(),
        "an unlinked identity names no local person: {body}"
    );
}

#[tokio::test]
async fn an_outside_token_for_another_audience_is_only_inactive() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_with(&provider, None).await;
    let good = provider.token(AUDIENCE).await;
    assert_eq!(
        introspect(&gw, &good).await["active"],
        true,
        "our audience is active"
    );

    let token = provider.token("https://elsewhere.test/api").await;
    assert_eq!(introspect(&gw, &token).await, inactive());
}

#[tokio::test]
async fn an_outside_token_without_mfa_where_it_is_required_is_only_inactive() {
    let provider = OidcProvider::start_with(&["desk-auditors"], &json!({})).await;
    let gw = gateway_with(&provider, None).await;
    let token = provider.token(AUDIENCE).await;
    let mut with_mfa = claims_of(&token);
    with_mfa.insert("amr".to_owned(), json!(["pwd", "otp"]));
    let good = provider.forge(&Value::Object(with_mfa));
    assert_eq!(
        introspect(&gw, &good).await["active"],
        true,
        "the same token with MFA is"
    );

    gw.api()
        .get("/v1/kill-switch", Some(&token))
        .await
        .assert_problem(401, "auth.mfa_required");
    assert_eq!(introspect(&gw, &token).await, inactive());
}

#[tokio::test]
async fn a_revoked_outside_token_is_only_inactive() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_with(&provider, None).await;
    let token = provider.token(AUDIENCE).await;
    assert_eq!(introspect(&gw, &token).await["active"], true);

    let revoked = gw.post_form("/oauth/revoke", &[("token", &token)]).await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert_eq!(introspect(&gw, &token).await, inactive());
}

#[tokio::test]
async fn an_expired_outside_token_is_only_inactive() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_with(&provider, None).await;
    let token = provider.token(AUDIENCE).await;
    assert_eq!(introspect(&gw, &token).await["active"], true);

    let lifetime = claims_of(&token)["exp"].as_i64().unwrap() - gw.clock().now_unix();
    gw.clock().advance(Duration::seconds(lifetime + 600));
    assert_eq!(introspect(&gw, &token).await, inactive());
}

#[tokio::test]
async fn a_linked_outside_token_names_its_person_until_that_person_is_cut_off() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_with(&provider, Some(LinkBy::Subject)).await;
    let person = gw
        .add_user(&[Role::Auditor, Role::Trader], &[], Setup::READY)
        .await;
    let now = gw.clock().now_unix();
    let claims = json!({
        "iss": provider.issuer(), "aud": AUDIENCE, "sub": person.username,
        "groups": ["desk-auditors"], "jti": "outside-linked", "iat": now, "exp": now + 300,
        "amr": ["pwd", "otp"],
    });
    let token = provider.forge(&claims);

    let body = introspect(&gw, &token).await;
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["sub"], person.username.as_str());
    assert_eq!(body["linked_subject"], person.id.as_str());
    assert_eq!(body["scope"], "auditor");

    let admin = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    let (admin_token, _) = gw.login(&admin).await;
    let reduce = gw
        .api()
        .request(
            reqwest::Method::PATCH,
            &format!("/v1/users/{}", person.id),
            Some(&admin_token),
        )
        .json(&json!({ "roles": ["auditor"] }));
    Answer::of(reduce).await.assert_json(200);

    gw.api()
        .get("/v1/kill-switch", Some(&token))
        .await
        .assert_problem(401, "auth.invalid_token");
    assert_eq!(introspect(&gw, &token).await, inactive());
}

#[tokio::test]
async fn a_client_failing_authentication_at_introspection_is_refused_and_audited() {
    let gw = TestGateway::start().await;
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    let api = gw.api();
    let wrong = "not-the-secret-of-this-client";
    for (id, secret) in [(client.id.as_str(), wrong), ("no-such-client", wrong)] {
        let request = api
            .http()
            .post(api.url("/oauth/introspect"))
            .basic_auth(id, Some(secret))
            .form(&[("token", "a.b.c")]);
        let answer = Answer::of(request).await;
        assert_eq!(answer.status, 401, "{}", answer.text);
        let body: Value = serde_json::from_str(&answer.text).unwrap();
        assert_eq!(body["error"], "invalid_client");
    }

    let refused: Vec<_> = gw
        .audit_events()
        .await
        .into_iter()
        .filter(|event| event.action == "auth.token.introspection_refused")
        .collect();
    let seen: Vec<(&str, &Value)> = refused
        .iter()
        .map(|event| (event.actor.as_str(), &event.details["reason"]))
        .collect();
    assert_eq!(
        seen,
        [
            (client.id.as_str(), &json!("wrong_secret")),
            ("anonymous", &json!("unknown_client"))
        ]
    );
    for event in &refused {
        assert!(
            !event.details.to_string().contains(wrong),
            "no secret is audited"
        );
    }
}
