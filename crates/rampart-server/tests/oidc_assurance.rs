//! Over real HTTPS against a real provider (npm `oidc-provider` on loopback):
//! an outside token must show MFA, an unverified e-mail links no one, an
//! issuer that does not link identities cannot grant privileged roles, and a
//! revocation of a linked person reaches the outside tokens issued before it.

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
use chrono::Duration;
use rampart_core::Role;
use rampart_server::Gateway;
use rampart_server::config::Config;
use rampart_server::config::identity::{LinkBy, OidcConfig};
use rampart_testkit::TestGateway;
use rampart_testkit::oidc::OidcProvider;
use rampart_testkit::people::Setup;
use serde_json::{Value, json};

const AUDIENCE: &str = "https://rampart.test/api";

fn entry(provider: &OidcProvider, link_by: Option<LinkBy>) -> OidcConfig {
    let roles = BTreeMap::from([("desk-auditors".to_owned(), "auditor".to_owned())]);
    let mut entry = OidcConfig::new(provider.issuer(), AUDIENCE, "corp:", roles);
    entry.ca_file = Some(provider.ca_file().to_owned());
    entry.roles_claim = "groups".to_owned();
    entry.link_by = link_by;
    entry
}

async fn gateway(entry: OidcConfig) -> TestGateway {
    TestGateway::start_with(|config| {
        config.auth.audience = AUDIENCE.to_owned();
        config.auth.oidc = vec![entry];
    })
    .await
}

fn outside(provider: &OidcProvider, sub: &str, iat: i64, extra: &Value) -> String {
    let mut claims = json!({
        "iss": provider.issuer(), "aud": AUDIENCE, "sub": sub, "groups": ["desk-auditors"],
        "jti": uuid::Uuid::new_v4().to_string(), "iat": iat, "exp": iat + 300,
        "amr": ["pwd", "otp"],
    });
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    provider.forge(&claims)
}

/// Starts a gateway trusting `entry`, and fetches a token of its provider for it.
async fn gateway_and_token(provider: &OidcProvider, entry: OidcConfig) -> (TestGateway, String) {
    let gw = gateway(entry).await;
    let token = provider.token(AUDIENCE).await;
    (gw, token)
}

fn admin_map(entry: &mut OidcConfig) {
    entry
        .role_map
        .insert("desk-admins".to_owned(), "admin".to_owned());
}

#[tokio::test]
async fn the_start_refuses_an_issuer_granting_admin_to_identities_it_does_not_link() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(&dir.path().join("data"));
    let mut unlinked = OidcConfig::new(
        "https://idp.example",
        AUDIENCE,
        "corp:",
        BTreeMap::from([("desk-admins".to_owned(), "admin".to_owned())]),
    );
    config.auth.oidc = vec![unlinked.clone()];
    let error = Gateway::start(config.clone()).await.err().unwrap();
    let message = error.to_string();
    assert!(message.contains("auth.oidc[0].role_map"), "{message}");
    assert!(!dir.path().join("data").exists(), "nothing is created");

    unlinked.link_by = Some(LinkBy::Subject);
    config.auth.oidc = vec![unlinked.clone()];
    assert!(config.validate().is_ok());
    unlinked.link_by = None;
    unlinked.allow_unlinked_privileged = true;
    config.auth.oidc = vec![unlinked];
    assert!(config.validate().is_ok());
}

#[tokio::test]
async fn an_issuer_allowed_unlinked_privileged_roles_grants_them_to_the_provider_token() {
    let provider = OidcProvider::start(&["desk-admins"]).await;
    let mut entry = entry(&provider, None);
    admin_map(&mut entry);
    entry.allow_unlinked_privileged = true;
    let (gw, token) = gateway_and_token(&provider, entry).await;
    gw.api()
        .get("/v1/users", Some(&token))
        .await
        .assert_json(200);
}

#[tokio::test]
async fn a_provider_token_without_a_second_factor_is_refused_saying_mfa_is_required() {
    let provider = OidcProvider::start_with(&["desk-auditors"], &json!({"amr": ["pwd"]})).await;
    let (gw, token) = gateway_and_token(&provider, entry(&provider, None)).await;
    let refused = gw.api().get("/v1/kill-switch", Some(&token)).await;
    refused.assert_problem(401, "auth.mfa_required");
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("multi-factor")
    );
    let challenge = refused.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("insufficient_user_authentication"),
        "{challenge}"
    );
    let events = gw.audit_events().await;
    assert!(
        events
            .iter()
            .any(|e| e.action == "auth.bearer.rejected" && e.details["reason"] == "mfa_required")
    );
}

#[tokio::test]
async fn a_provider_token_with_a_configured_acr_is_accepted() {
    let acr = json!({"acr": "urn:rampart:test:mfa"});
    let provider = OidcProvider::start_with(&["desk-auditors"], &acr).await;
    let mut entry = entry(&provider, None);
    entry.mfa_acr = vec!["urn:rampart:test:mfa".to_owned()];
    let (gw, token) = gateway_and_token(&provider, entry).await;
    assert_admitted(&gw, &token).await;
}

#[tokio::test]
async fn an_issuer_that_enforces_mfa_itself_may_be_trusted_without_amr() {
    let provider = OidcProvider::start_with(&["desk-auditors"], &json!({})).await;
    let mut entry = entry(&provider, None);
    entry.require_mfa = false;
    let (gw, token) = gateway_and_token(&provider, entry).await;
    assert_admitted(&gw, &token).await;
}

#[tokio::test]
async fn linking_by_email_refuses_an_address_the_token_does_not_mark_verified() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway(entry(&provider, Some(LinkBy::Email))).await;
    let admin = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    let (admin_token, _) = gw.login(&admin).await;
    let person = json!({"username": "linked-by-mail", "roles": ["auditor"],
                        "email": "linked@example.test"});
    gw.api()
        .post_json("/v1/users", Some(&admin_token), &person)
        .await
        .assert_json(201);

    let now = gw.clock().now_unix();
    for unverified in [json!({}), json!({"email_verified": false})] {
        let mut extra = json!({"email": "linked@example.test"});
        extra
            .as_object_mut()
            .unwrap()
            .extend(unverified.as_object().unwrap().clone());
        let token = outside(&provider, "mail-person", now, &extra);
        assert_refused(&gw, &token).await;
    }
    let events = gw.audit_events().await;
    assert!(
        events
            .iter()
            .any(|e| e.details["reason"] == "unverified_email")
    );

    let verified = json!({"email": "linked@example.test", "email_verified": true});
    let token = outside(&provider, "mail-person", now, &verified);
    assert_admitted(&gw, &token).await;
}

#[tokio::test]
async fn a_revocation_of_a_linked_person_refuses_their_earlier_outside_tokens_also_after_restart() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway(entry(&provider, Some(LinkBy::Subject))).await;
    let person = gw
        .add_user(&[Role::Auditor, Role::Trader], &[], Setup::READY)
        .await;
    let admin = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    let (admin_token, _) = gw.login(&admin).await;
    let before = outside(
        &provider,
        &person.username,
        gw.clock().now_unix() - 5,
        &json!({}),
    );
    assert_admitted(&gw, &before).await;

    let reduce = gw
        .api()
        .request(
            reqwest::Method::PATCH,
            &format!("/v1/users/{}", person.id),
            Some(&admin_token),
        )
        .json(&json!({ "roles": ["auditor"] }));
    rampart_testkit::api::Answer::of(reduce)
        .await
        .assert_json(200);
    assert_refused(&gw, &before).await;
    let events = gw.audit_events().await;
    assert!(
        events.iter().any(|e| e.action == "auth.bearer.rejected"
            && e.details["reason"] == "subject_revoked"),
        "the refusal is audited as `subject_revoked`"
    );

    // An issuer clock running ahead by less than the leeway does not bring it back.
    let ahead = outside(
        &provider,
        &person.username,
        gw.clock().now_unix() + 2,
        &json!({}),
    );
    assert_refused(&gw, &ahead).await;

    let leeway = i64::try_from(rampart_auth::oidc::DEFAULT_LEEWAY_SECONDS).unwrap();
    gw.clock().advance(Duration::seconds(leeway + 2));
    let after = outside(
        &provider,
        &person.username,
        gw.clock().now_unix(),
        &json!({}),
    );
    assert_admitted(&gw, &after).await;

    let gw = gw.restart().await;
    assert_refused(&gw, &before).await;
    assert_admitted(&gw, &after).await;
}
