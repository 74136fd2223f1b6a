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

fn auditors() -> BTreeMap<String, Role> {
    BTreeMap::from([("desk-audit".to_owned(), Role::Auditor)])
}

fn config(idp: &Idp) -> TrustedIssuerConfig {
    let mut config = TrustedIssuerConfig::new(idp.issuer("a"), AUDIENCE, "corp:", traders());
    config.ca_file = Some(idp.ca_file.clone());
    // `trader` takes part in a segregation-of-duties conflict: only a linking issuer maps it.
    config.links_identities = true;
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
async fn a_token_whose_amr_names_one_method_only_is_refused_as_lacking_mfa() {
    let (idp, key) = provider().await;
    for methods in [
        json!(["sms"]),
        json!(["pop"]),
        json!(["otp"]),
        json!(["pwd", "pin"]),
    ] {
        let body = claims(&idp, json!({ "amr": methods }));
        assert_eq!(
            verify(config(&idp), &key, &body).await,
            Err(OidcError::MfaRequired),
            "{methods}"
        );
    }
}

#[tokio::test]
async fn a_token_whose_amr_is_a_string_is_refused_as_lacking_mfa() {
    let (idp, key) = provider().await;
    let body = claims(&idp, json!({"amr": "mfa"}));
    assert_eq!(
        verify(config(&idp), &key, &body).await,
        Err(OidcError::MfaRequired)
    );
}

#[tokio::test]
async fn a_configured_amr_list_accepts_any_one_of_its_values() {
    let (idp, key) = provider().await;
    let mut listed = config(&idp);
    listed.mfa_amr = Some(vec!["hwk".to_owned()]);
    let hardware = claims(&idp, json!({"amr": ["hwk"]}));
    let otp = claims(&idp, json!({"amr": ["pwd", "otp"]}));
    assert_eq!(verify(listed.clone(), &key, &hardware).await, Ok(()));
    assert_eq!(
        verify(listed, &key, &otp).await,
        Err(OidcError::MfaRequired)
    );
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
        body["amr"] = json!(["pwd", "otp"]);
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
    let plain = TrustedIssuerConfig::new("https://idp.example", AUDIENCE, "corp:", auditors());
    assert_eq!(plain.validate(), Ok(()));
}

#[test]
fn every_role_but_auditor_needs_a_linking_issuer() {
    for role in [
        Role::Trader,
        Role::RiskManager,
        Role::ComplianceOfficer,
        Role::Admin,
    ] {
        let map = BTreeMap::from([("desk".to_owned(), role)]);
        let mut entry = TrustedIssuerConfig::new("https://idp.example", AUDIENCE, "corp:", map);
        assert!(
            matches!(entry.validate(), Err(OidcError::InvalidConfig { .. })),
            "{role}"
        );
        entry.links_identities = true;
        assert_eq!(entry.validate(), Ok(()), "{role}");
    }
}

#[tokio::test]
async fn an_unlinked_issuer_mapping_trader_is_refused_when_the_issuers_are_built() {
    let (idp, _) = provider().await;
    let mut unlinked = config(&idp);
    unlinked.links_identities = false;
    let issuers = OidcIssuers::new([unlinked]);
    assert!(issuers.is_err(), "the entry itself is refused");
}

#[test]
fn mfa_cannot_be_required_with_nothing_that_shows_it() {
    let mut entry = TrustedIssuerConfig::new("https://idp.example", AUDIENCE, "corp:", auditors());
    entry.mfa_amr = Some(Vec::new());
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
    let body = claims(&idp, json!({"roles": ["it-admin"], "amr": ["pwd", "otp"]}));
    let principal = issuers.verify(&key.sign(&body), NOW).await.unwrap();
    assert!(principal.roles.contains(Role::Admin));
}
