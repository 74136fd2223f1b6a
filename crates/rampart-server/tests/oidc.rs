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

use std::collections::BTreeMap;

use rampart_server::config::identity::OidcConfig;
use rampart_testkit::TestGateway;
use rampart_testkit::oidc::OidcProvider;
use serde_json::json;

const AUDIENCE: &str = "https://rampart.test/api";

async fn gateway_trusting(provider: &OidcProvider) -> TestGateway {
    let entry = OidcConfig {
        issuer: provider.issuer().to_owned(),
        audience: AUDIENCE.to_owned(),
        ca_file: Some(provider.ca_file().to_owned()),
        roles_claim: "groups".to_owned(),
        role_map: BTreeMap::from([("desk-auditors".to_owned(), "auditor".to_owned())]),
        accounts_claim: None,
        subject_prefix: "corp:".to_owned(),
    };
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
    gw.api()
        .get("/v1/kill-switch", Some(&token))
        .await
        .assert_json(200);
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
    gw.api()
        .get("/v1/kill-switch", Some(&token))
        .await
        .assert_problem(401, "auth.invalid_token");
}

#[tokio::test]
async fn a_token_of_an_untrusted_provider_is_refused() {
    let trusted = OidcProvider::start(&["desk-auditors"]).await;
    let stranger = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_trusting(&trusted).await;
    let token = stranger.token(AUDIENCE).await;
    gw.api()
        .get("/v1/kill-switch", Some(&token))
        .await
        .assert_problem(401, "auth.invalid_token");
}

#[tokio::test]
async fn a_token_signed_by_the_provider_but_claiming_our_issuer_is_refused() {
    let provider = OidcProvider::start(&["desk-auditors"]).await;
    let gw = gateway_trusting(&provider).await;
    let now = gw.clock().now_unix();
    let claims = json!({
        "iss": gw.base_url(), "aud": AUDIENCE, "sub": "intruder", "kind": "client",
        "roles": ["auditor"], "groups": ["desk-auditors"], "jti": "forged-1",
        "iat": now, "nbf": now, "exp": now + 300,
    });
    let forged = provider.forge(&claims);
    gw.api()
        .get("/v1/kill-switch", Some(&forged))
        .await
        .assert_problem(401, "auth.invalid_token");
    let theirs = json!({
        "iss": provider.issuer(), "aud": AUDIENCE, "sub": "someone", "groups": ["desk-auditors"],
        "jti": "genuine-shape", "iat": now, "exp": now + 300,
    });
    gw.api()
        .get("/v1/kill-switch", Some(&provider.forge(&theirs)))
        .await
        .assert_json(200);
}
