//! What an outside token must show before it speaks for a person: multi-factor
//! authentication, a verified e-mail before that e-mail links anyone, and no
//! privileged role for an identity its issuer does not link.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod outside;

use std::collections::BTreeMap;

use outside::OutsideKey;
use outside::idp::{Idp, Tenant};
use rampart_auth::oidc::{OidcError, OidcIssuers, TrustedIssuerConfig};
use rampart_core::Role;
use serde_json::{Value, json};

const NOW: i64 = 1_764_700_000;
const AUDIENCE: &str = "rampart";

fn traders() -> BTreeMap<String, Role> {
    BTreeMap::from([("desk-trader".to_owned(), Role::Trader)])
}

fn admins() -> BTreeMap<String, Role> {
    BTreeMap::from([
        ("desk-trader".to_owned(), Role::Trader),
        ("it-admin".to_owned(), Role::Admin),
    ])
}

async fn provider() -> (Idp, OutsideKey) {
    let idp = Idp::start().await;
    let key = OutsideKey::ed25519("k1");
    idp.publish(
        "a",
        Tenant {
            claimed_issuer: None,
            keys: vec![key.public_jwk.clone()],
        },
    );
    (idp, key)
}

fn config(idp: &Idp) -> TrustedIssuerConfig {
    let mut config = TrustedIssuerConfig::new(idp.issuer("a"), AUDIENCE, "corp:", traders());
    config.ca_file = Some(idp.ca_file.clone());
    config
}

fn claims(idp: &Idp, extra: Value) -> Value {
    let mut body = json!({"iss": idp.issuer("a"), "sub": "u-1", "aud": AUDIENCE,
                          "exp": NOW + 300, "iat": NOW - 5, "roles": ["desk-trader"]});
    for (name, value) in extra.as_object().unwrap() {
        body[name] = value.clone();
    }
    body
}

async fn verify(
    config: TrustedIssuerConfig,
    key: &OutsideKey,
    body: &Value,
) -> Result<(), OidcError> {
    let issuers = OidcIssuers::new([config]).unwrap();
    issuers.verify(&key.sign(body), NOW).await.map(|_| ())
}

#[tokio::test]
async fn a_token_without_amr_or_acr_is_refused_as_lacking_mfa() {
    let (idp, key) = provider().await;
    let refused = verify(config(&idp), &key, &claims(&idp, json!({}))).await;
    assert_eq!(refused, Err(OidcError::MfaRequired));
}

#[tokio::test]
async fn a_token_whose_amr_shows_only_a_password_is_refused_as_lacking_mfa() {
    let (idp, key) = provider().await;
    let body = claims(&idp, json!({"amr": ["pwd"], "acr": "urn:example:low"}));
    assert_eq!(
        verify(config(&idp), &key, &body).await,
        Err(OidcError::MfaRequired)
    );
}

#[tokio::test]
async fn a_token_whose_amr_names_a_second_factor_is_accepted() {
    let (idp, key) = provider().await;
    for method in ["otp", "hwk", "mfa"] {
        let body = claims(&idp, json!({"amr": ["pwd", method]}));
        assert_eq!(verify(config(&idp), &key, &body).await, Ok(()), "{method}");
    }
}

#[tokio::test]
async fn a_token_with_a_configured_acr_is_accepted_and_another_acr_is_not() {
    let (idp, key) = provider().await;
    let mut strict = config(&idp);
    strict.mfa_acr = vec!["urn:example:mfa".to_owned()];
    let good = claims(&idp, json!({"acr": "urn:example:mfa"}));
    let weak = claims(&idp, json!({"acr": "urn:example:pwd"}));
    assert_eq!(verify(strict.clone(), &key, &good).await, Ok(()));
    assert_eq!(
        verify(strict, &key, &weak).await,
        Err(OidcError::MfaRequired)
    );
}

#[tokio::test]
async fn an_issuer_that_enforces_mfa_itself_may_turn_the_check_off() {
    let (idp, key) = provider().await;
    let mut trusting = config(&idp);
    trusting.require_mfa = false;
    assert_eq!(
        verify(trusting, &key, &claims(&idp, json!({}))).await,
        Ok(())
    );
}

#[tokio::test]
async fn an_email_is_reported_only_when_the_token_says_it_is_verified() {
    let (idp, key) = provider().await;
    let issuers = OidcIssuers::new([config(&idp)]).unwrap();
    let cases = [
        (
            json!({"email": "a@example.com", "email_verified": true}),
            true,
        ),
        (
            json!({"email": "a@example.com", "email_verified": false}),
            false,
        ),
        (
            json!({"email": "a@example.com", "email_verified": "true"}),
            false,
        ),
        (json!({"email": "a@example.com"}), false),
    ];
    for (extra, reported) in cases {
        let mut body = claims(&idp, extra.clone());
        body["amr"] = json!(["otp"]);
        let identity = issuers
            .verify_identity(&key.sign(&body), NOW)
            .await
            .unwrap();
        assert!(identity.has_email, "{extra}");
        assert_eq!(identity.email.is_some(), reported, "{extra}");
        assert_eq!(identity.issued_at, Some(NOW - 5));
    }
}

#[test]
fn privileged_roles_for_unlinked_identities_are_refused_unless_explicitly_allowed() {
    let mut entry = TrustedIssuerConfig::new("https://idp.example", AUDIENCE, "corp:", admins());
    assert!(matches!(
        entry.validate(),
        Err(OidcError::InvalidConfig { reason, .. }) if reason.contains("not linked")
    ));
    entry.links_identities = true;
    assert_eq!(entry.validate(), Ok(()));
    entry.links_identities = false;
    entry.allow_unlinked_privileged = true;
    assert_eq!(entry.validate(), Ok(()));
    let plain = TrustedIssuerConfig::new("https://idp.example", AUDIENCE, "corp:", traders());
    assert_eq!(plain.validate(), Ok(()));
}

#[test]
fn mfa_cannot_be_required_with_nothing_that_shows_it() {
    let mut entry = TrustedIssuerConfig::new("https://idp.example", AUDIENCE, "corp:", traders());
    entry.mfa_amr.clear();
    assert!(matches!(
        entry.validate(),
        Err(OidcError::InvalidConfig { .. })
    ));
    entry.require_mfa = false;
    assert_eq!(entry.validate(), Ok(()));
}

#[tokio::test]
async fn an_allowed_unlinked_issuer_grants_the_privileged_role_it_maps() {
    let (idp, key) = provider().await;
    let mut unsafe_entry = config(&idp);
    unsafe_entry.role_map = admins();
    unsafe_entry.allow_unlinked_privileged = true;
    let issuers = OidcIssuers::new([unsafe_entry]).unwrap();
    let body = claims(&idp, json!({"roles": ["it-admin"], "amr": ["otp"]}));
    let principal = issuers.verify(&key.sign(&body), NOW).await.unwrap();
    assert!(principal.roles.contains(Role::Admin));
}
