//! Trusted outside issuers, against a loopback HTTPS provider started here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod outside;

use std::collections::BTreeMap;

use jsonwebtoken::{Algorithm, Header};
use outside::idp::{Idp, Tenant, unrelated_ca_pem};
use outside::{OutsideKey, unsigned};
use rampart_auth::oidc::{OidcError, OidcIssuers, TrustedIssuerConfig, unverified_issuer};
use rampart_core::{PrincipalKind, Role, SodConflict};
use serde_json::{Value, json};

const NOW: i64 = 1_764_700_000;
const AUDIENCE: &str = "rampart";

fn role_map() -> BTreeMap<String, Role> {
    BTreeMap::from([
        ("desk-trader".to_owned(), Role::Trader),
        ("risk".to_owned(), Role::RiskManager),
        ("it-admin".to_owned(), Role::Admin),
        ("audit".to_owned(), Role::Auditor),
    ])
}

fn config(idp: &Idp, tenant: &str, prefix: &str) -> TrustedIssuerConfig {
    let mut config = TrustedIssuerConfig::new(idp.issuer(tenant), AUDIENCE, prefix, role_map());
    config.ca_file = Some(idp.ca_file.clone());
    config.accounts_claim = Some("accounts".to_owned());
    // Privileged roles are mapped below, which only a linking issuer may do.
    config.links_identities = true;
    config
}

fn claims(iss: &str) -> Value {
    json!({"iss": iss, "sub": "u-123", "aud": AUDIENCE, "exp": NOW + 300, "iat": NOW,
           "roles": ["desk-trader", "unrelated-group"], "accounts": ["ACC-1"],
           "amr": ["pwd", "otp"]})
}

/// A provider with tenants `a` and `b`, each with its own Ed25519 key named `k1`.
async fn two_tenants() -> (Idp, OutsideKey, OutsideKey) {
    let idp = Idp::start().await;
    let (a, b) = (OutsideKey::ed25519("k1"), OutsideKey::ed25519("k1"));
    idp.publish(
        "a",
        Tenant {
            claimed_issuer: None,
            keys: vec![a.public_jwk.clone()],
        },
    );
    idp.publish(
        "b",
        Tenant {
            claimed_issuer: None,
            keys: vec![b.public_jwk.clone()],
        },
    );
    (idp, a, b)
}

fn issuers(idp: &Idp) -> OidcIssuers {
    OidcIssuers::new([config(idp, "a", "corp:"), config(idp, "b", "partner:")]).unwrap()
}

#[tokio::test]
async fn accepts_a_token_of_a_trusted_issuer_and_maps_roles_and_accounts() {
    let (idp, a, _) = two_tenants().await;
    let principal = issuers(&idp)
        .verify(&a.sign(&claims(&idp.issuer("a"))), NOW)
        .await
        .unwrap();
    assert_eq!(principal.id, "corp:u-123");
    assert_eq!(principal.kind, PrincipalKind::User);
    assert_eq!(principal.roles.iter().collect::<Vec<_>>(), [Role::Trader]);
    assert_eq!(principal.accounts[0].as_str(), "ACC-1");
}

#[tokio::test]
async fn accepts_an_es256_token_and_reports_its_origin() {
    let idp = Idp::start().await;
    let key = OutsideKey::p256("ec-1");
    idp.publish(
        "a",
        Tenant {
            claimed_issuer: None,
            keys: vec![key.public_jwk.clone()],
        },
    );
    let trusted = OidcIssuers::new([config(&idp, "a", "corp:")]).unwrap();
    let identity = trusted
        .verify_identity(&key.sign(&claims(&idp.issuer("a"))), NOW)
        .await
        .unwrap();
    assert_eq!(identity.issuer, idp.issuer("a"));
    assert_eq!(identity.expires_at, NOW + 300);
}

#[tokio::test]
async fn refuses_a_token_from_an_issuer_that_is_not_configured() {
    let (idp, a, _) = two_tenants().await;
    let token = a.sign(&claims(&idp.issuer("c")));
    assert_eq!(
        issuers(&idp).verify(&token, NOW).await.unwrap_err(),
        OidcError::UnknownIssuer
    );
}

#[tokio::test]
async fn requires_the_issuer_to_match_exactly() {
    let (idp, a, _) = two_tenants().await;
    let trailing = format!("{}/", idp.issuer("a"));
    let token = a.sign(&claims(&trailing));
    assert_eq!(
        issuers(&idp).verify(&token, NOW).await.unwrap_err(),
        OidcError::UnknownIssuer
    );
}

#[tokio::test]
async fn refuses_a_token_for_another_audience() {
    let (idp, a, _) = two_tenants().await;
    let mut body = claims(&idp.issuer("a"));
    body["aud"] = json!(["someone-else"]);
    assert_eq!(
        issuers(&idp).verify(&a.sign(&body), NOW).await.unwrap_err(),
        OidcError::WrongAudience
    );
}

#[tokio::test]
async fn keys_of_one_issuer_never_verify_a_token_claiming_another() {
    let (idp, a, _) = two_tenants().await;
    // Signed by tenant a's key, with the same `kid` as tenant b's key, claiming b.
    let token = a.sign(&claims(&idp.issuer("b")));
    assert_eq!(
        issuers(&idp).verify(&token, NOW).await.unwrap_err(),
        OidcError::BadSignature
    );
}

#[tokio::test]
async fn refuses_alg_none_and_hmac_tokens() {
    let (idp, _, _) = two_tenants().await;
    let trusted = issuers(&idp);
    let body = claims(&idp.issuer("a"));
    for alg in ["none", "HS256"] {
        let token = unsigned(&json!({"alg": alg, "kid": "k1"}), &body, b"x");
        assert_eq!(
            trusted.verify(&token, NOW).await.unwrap_err(),
            OidcError::AlgorithmNotAllowed,
            "{alg}"
        );
    }
}

#[tokio::test]
async fn refuses_a_header_that_brings_its_own_key_url() {
    let (idp, a, _) = two_tenants().await;
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("k1".to_owned());
    header.jku = Some("https://evil.example/jwks".to_owned());
    let token = a.sign_with(&header, &claims(&idp.issuer("a")));
    assert_eq!(
        issuers(&idp).verify(&token, NOW).await.unwrap_err(),
        OidcError::ForbiddenHeader("jku")
    );
}

#[tokio::test]
async fn refuses_expired_and_future_tokens_with_the_injected_clock() {
    let (idp, a, _) = two_tenants().await;
    let trusted = issuers(&idp);
    let token = a.sign(&claims(&idp.issuer("a")));
    assert!(trusted.verify(&token, NOW + 329).await.is_ok());
    assert_eq!(
        trusted.verify(&token, NOW + 330).await.unwrap_err(),
        OidcError::Expired
    );
    assert_eq!(
        trusted.verify(&token, NOW - 31).await.unwrap_err(),
        OidcError::IssuedInFuture
    );
}

#[tokio::test]
async fn refuses_a_token_without_a_mapped_role() {
    let (idp, a, _) = two_tenants().await;
    let mut body = claims(&idp.issuer("a"));
    body["roles"] = json!(["unrelated-group"]);
    assert_eq!(
        issuers(&idp).verify(&a.sign(&body), NOW).await.unwrap_err(),
        OidcError::NoMappedRole
    );
}

#[tokio::test]
async fn refuses_mapped_roles_that_break_segregation_of_duties() {
    let (idp, a, _) = two_tenants().await;
    let mut body = claims(&idp.issuer("a"));
    body["roles"] = json!(["it-admin", "desk-trader"]);
    assert_eq!(
        issuers(&idp).verify(&a.sign(&body), NOW).await.unwrap_err(),
        OidcError::RolesConflict(SodConflict(Role::Admin, Role::Trader))
    );
}

#[tokio::test]
async fn reads_roles_from_a_nested_claim() {
    let (idp, a, _) = two_tenants().await;
    let mut config = config(&idp, "a", "corp:");
    config.roles_claim = "realm_access.roles".to_owned();
    let trusted = OidcIssuers::new([config]).unwrap();
    let mut body = claims(&idp.issuer("a"));
    body.as_object_mut().unwrap().remove("roles");
    body["realm_access"] = json!({"roles": ["audit"]});
    let principal = trusted.verify(&a.sign(&body), NOW).await.unwrap();
    assert_eq!(principal.roles.iter().collect::<Vec<_>>(), [Role::Auditor]);
}

#[tokio::test]
async fn an_unknown_kid_refetches_at_most_once_per_interval() {
    let (idp, a, _) = two_tenants().await;
    let trusted = issuers(&idp);
    trusted
        .verify(&a.sign(&claims(&idp.issuer("a"))), NOW)
        .await
        .unwrap();
    assert_eq!(idp.jwks_fetches(), 1);

    let rotated = OutsideKey::ed25519("k2");
    idp.publish(
        "a",
        Tenant {
            claimed_issuer: None,
            keys: vec![a.public_jwk.clone(), rotated.public_jwk.clone()],
        },
    );
    let token = rotated.sign(&claims(&idp.issuer("a")));
    for offset in [1, 2, 29] {
        assert_eq!(
            trusted.verify(&token, NOW + offset).await.unwrap_err(),
            OidcError::UnknownKey
        );
    }
    assert_eq!(idp.jwks_fetches(), 1);
    assert!(trusted.verify(&token, NOW + 30).await.is_ok());
    assert_eq!(idp.jwks_fetches(), 2);
}

#[tokio::test]
async fn a_key_set_older_than_an_hour_is_fetched_again() {
    let (idp, a, _) = two_tenants().await;
    let trusted = issuers(&idp);
    let mut long_lived = claims(&idp.issuer("a"));
    long_lived["exp"] = json!(NOW + 4000);
    let token = a.sign(&long_lived);
    trusted.verify(&token, NOW).await.unwrap();
    trusted.verify(&token, NOW + 3599).await.unwrap();
    assert_eq!(idp.jwks_fetches(), 1);
    trusted.verify(&token, NOW + 3600).await.unwrap();
    assert_eq!(idp.jwks_fetches(), 2);
}

#[tokio::test]
async fn a_stale_key_set_still_serves_while_the_issuer_is_unreachable() {
    let (idp, a, _) = two_tenants().await;
    let trusted = issuers(&idp);
    trusted
        .verify(&a.sign(&claims(&idp.issuer("a"))), NOW)
        .await
        .unwrap();
    idp.unpublish("a");
    let later = a.sign(
        &json!({"iss": idp.issuer("a"), "sub": "u-123", "aud": AUDIENCE,
        "exp": NOW + 3900, "iat": NOW + 3600, "roles": ["audit"], "amr": ["pwd", "otp"]}),
    );
    assert!(trusted.verify(&later, NOW + 3600).await.is_ok());
    assert_eq!(idp.jwks_fetches(), 2);
}

#[tokio::test]
async fn refuses_a_discovery_document_that_names_another_issuer() {
    let idp = Idp::start().await;
    let key = OutsideKey::ed25519("k1");
    let liar = Tenant {
        claimed_issuer: Some("https://idp.example".to_owned()),
        keys: vec![],
    };
    idp.publish("a", liar);
    let trusted = OidcIssuers::new([config(&idp, "a", "corp:")]).unwrap();
    let error = trusted
        .verify(&key.sign(&claims(&idp.issuer("a"))), NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(error, OidcError::KeysUnavailable { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn refuses_a_provider_whose_certificate_the_configured_ca_did_not_sign() {
    let (idp, a, _) = two_tenants().await;
    let dir = tempfile::tempdir().unwrap();
    let other_ca = dir.path().join("other-ca.pem");
    std::fs::write(&other_ca, unrelated_ca_pem()).unwrap();
    let mut config = config(&idp, "a", "corp:");
    config.ca_file = Some(other_ca);
    let trusted = OidcIssuers::new([config]).unwrap();
    let error = trusted
        .verify(&a.sign(&claims(&idp.issuer("a"))), NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(error, OidcError::KeysUnavailable { .. }),
        "{error:?}"
    );
    assert_eq!(idp.jwks_fetches(), 0);
}

#[tokio::test]
async fn without_a_ca_file_only_public_roots_are_trusted() {
    let (idp, a, _) = two_tenants().await;
    let mut config = config(&idp, "a", "corp:");
    config.ca_file = None;
    let trusted = OidcIssuers::new([config]).unwrap();
    let error = trusted
        .verify(&a.sign(&claims(&idp.issuer("a"))), NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(error, OidcError::KeysUnavailable { .. }),
        "{error:?}"
    );
}

#[test]
fn configuration_refuses_plain_http_hmac_and_clashing_prefixes() {
    let plain = TrustedIssuerConfig::new("http://idp.example", AUDIENCE, "corp:", role_map());
    assert!(matches!(
        plain.validate(),
        Err(OidcError::InvalidConfig { .. })
    ));

    let mut hmac = TrustedIssuerConfig::new("https://idp.example", AUDIENCE, "corp:", role_map());
    hmac.allowed_algs = vec![Algorithm::HS256];
    assert!(matches!(
        hmac.validate(),
        Err(OidcError::InvalidConfig { .. })
    ));

    let mut one = TrustedIssuerConfig::new("https://one.example", AUDIENCE, "corp:", role_map());
    let mut two = TrustedIssuerConfig::new("https://two.example", AUDIENCE, "corp:x", role_map());
    one.links_identities = true;
    two.links_identities = true;
    assert!(one.validate().is_ok() && two.validate().is_ok());
    assert!(matches!(
        OidcIssuers::new([one, two]),
        Err(OidcError::InvalidConfig { .. })
    ));
}

#[test]
fn configuration_reads_from_toml_with_defaults_and_refuses_unknown_keys() {
    let text = r#"
        issuer = "https://idp.example"
        audience = "rampart"
        subject_prefix = "corp:"
        role_map = { "desk-trader" = "trader" }
    "#;
    let config: TrustedIssuerConfig = toml::from_str(text).unwrap();
    assert_eq!(config.roles_claim, "roles");
    assert_eq!(
        config.allowed_algs,
        [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
    );
    assert_eq!(config.refetch_interval_seconds, 30);
    let unknown = format!("{text}\nverify_tls = false\n");
    assert!(toml::from_str::<TrustedIssuerConfig>(&unknown).is_err());
}

#[test]
fn unverified_issuer_reads_iss_only_from_a_three_part_token() {
    let key = OutsideKey::ed25519("k1");
    let token = key.sign(&json!({"iss": "https://idp.example"}));
    assert_eq!(
        unverified_issuer(&token).as_deref(),
        Some("https://idp.example")
    );
    assert_eq!(unverified_issuer("a.b"), None);
}
