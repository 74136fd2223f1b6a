//! The GCP Secret Manager client against the test kit's FAKE of the documented REST v1
//! API and token endpoint (GCP publishes no emulator), with the request shapes checked.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_secrets::gcp::{GcpConfig, GcpStore, ServiceAccountKey};
use rampart_secrets::testkit::GcpFake;
use rampart_secrets::{SecretError, SecretStore, SecretValue, Stage, Version};

async fn fake_store() -> (GcpFake, GcpStore) {
    let fake = GcpFake::start().await.expect("the GCP fake must start");
    let key = ServiceAccountKey::from_json(&fake.service_account_key()).unwrap();
    let config = GcpConfig {
        project: "fake-project".into(),
        key,
        endpoint: Some(fake.endpoint().to_owned()),
        ca_bundle: None,
    };
    (fake, GcpStore::new(config).unwrap())
}

#[tokio::test]
async fn put_then_get_reads_the_current_version() {
    let (_fake, store) = fake_store().await;
    let meta = store
        .put("db-password", SecretValue::text("one"), None)
        .await
        .unwrap();
    assert_eq!(meta.version, Version::number(1));
    let secret = store.get("db-password").await.unwrap();
    assert_eq!(secret.value.expose_str(), Some("one"));
    assert_eq!(secret.meta.stage, Stage::Current);
    assert_eq!(secret.meta.backend, "gcp");
}

#[tokio::test]
async fn rotation_moves_the_version_aliases() {
    let (_fake, store) = fake_store().await;
    store
        .put("broker", SecretValue::text("old"), None)
        .await
        .unwrap();
    let staged = store
        .stage_pending("broker", SecretValue::text("new"))
        .await
        .unwrap();
    assert_eq!(
        (staged.version.clone(), staged.stage),
        (Version::number(2), Stage::Pending)
    );
    assert_eq!(
        store.get("broker").await.unwrap().value.expose_str(),
        Some("old")
    );
    assert_eq!(
        store.pending("broker").await.unwrap().value.expose_str(),
        Some("new")
    );
    store.promote_pending("broker").await.unwrap();
    assert_eq!(
        store.get("broker").await.unwrap().value.expose_str(),
        Some("new")
    );
    let previous = store.previous("broker").await.unwrap();
    assert_eq!(previous.value.expose_str(), Some("old"));
    assert_eq!(previous.meta.version, Version::number(1));
    assert!(store.metadata("broker").await.unwrap().rotated_at.is_some());
}

#[tokio::test]
async fn check_and_set_refuses_a_stale_version() {
    let (_fake, store) = fake_store().await;
    let absent = Version::absent();
    store
        .put("k", SecretValue::text("a"), Some(&absent))
        .await
        .unwrap();
    let stale = store.put("k", SecretValue::text("b"), Some(&absent)).await;
    assert!(matches!(stale, Err(SecretError::CasMismatch { ref found, .. }) if found == "1"));
    let one = Version::number(1);
    assert_eq!(
        store
            .put("k", SecretValue::text("c"), Some(&one))
            .await
            .unwrap()
            .version,
        Version::number(2)
    );
}

#[tokio::test]
async fn numbered_versions_stay_readable() {
    let (_fake, store) = fake_store().await;
    for value in ["v1", "v2", "v3"] {
        store
            .put("k", SecretValue::text(value), None)
            .await
            .unwrap();
    }
    let first = store.get_version("k", &Version::number(1)).await.unwrap();
    assert_eq!(first.value.expose_str(), Some("v1"));
    assert_eq!(first.meta.stage, Stage::Deprecated);
    let missing = store.get("absent").await.unwrap_err();
    assert!(matches!(missing, SecretError::NotFound(_)), "{missing}");
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once() {
    let (fake, store) = fake_store().await;
    store.put("k", SecretValue::text("a"), None).await.unwrap();
    fake.revoke_tokens();
    assert_eq!(store.get("k").await.unwrap().value.expose_str(), Some("a"));
    let grants = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/token")
        .count();
    assert_eq!(grants, 2);
}

#[tokio::test]
async fn names_gcp_cannot_hold_are_refused_before_any_request() {
    let (fake, store) = fake_store().await;
    let error = store.get("a/b").await.unwrap_err();
    assert!(matches!(error, SecretError::InvalidName(..)), "{error}");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn list_shows_every_secret_without_values() {
    let (_fake, store) = fake_store().await;
    store.put("b", SecretValue::text("2"), None).await.unwrap();
    store.put("a", SecretValue::text("1"), None).await.unwrap();
    let names: Vec<String> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
}

#[tokio::test]
async fn token_request_is_a_jwt_bearer_grant_form() {
    let (fake, store) = fake_store().await;
    store.put("k", SecretValue::text("a"), None).await.unwrap();
    let token = fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/token")
        .unwrap();
    assert_eq!(token.method, "POST");
    assert_eq!(
        token.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        token.body["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_eq!(
        token.body["assertion"].as_str().unwrap().split('.').count(),
        3
    );
    assert!(!token.bearer);
}

#[tokio::test]
async fn api_requests_match_the_documented_shapes() {
    let (fake, store) = fake_store().await;
    store.put("k", SecretValue::text("a"), None).await.unwrap();
    store.get("k").await.unwrap();
    let api: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path != "/token")
        .collect();
    assert!(
        api.iter().all(|r| r.bearer),
        "every API call carries the bearer token"
    );
    let shapes: Vec<(String, String)> = api
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let base = "/v1/projects/fake-project/secrets";
    let expected = [
        ("GET", format!("{base}/k")),
        ("POST", format!("{base}?secretId=k")),
        ("GET", format!("{base}/k/versions/latest:access")),
        ("POST", format!("{base}/k:addVersion")),
        (
            "PATCH",
            format!("{base}/k?updateMask=versionAliases,annotations"),
        ),
        ("GET", format!("{base}/k")),
        ("GET", format!("{base}/k/versions/1:access")),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, p)| ((*m).to_owned(), p.clone()))
        .collect();
    assert_eq!(shapes, expected);
    let add = &api[3];
    assert_eq!(add.content_type.as_deref(), Some("application/json"));
    assert_eq!(add.body["payload"]["data"], "YQ==");
    assert_eq!(add.body["payload"]["dataCrc32c"], "3251651376");
    assert_eq!(api[4].body["versionAliases"]["current"], "1");
    assert!(api[4].body["etag"].is_string());
}

#[tokio::test]
async fn a_payload_that_fails_its_checksum_is_refused() {
    let (fake, store) = fake_store().await;
    store
        .put("k", SecretValue::text("intact"), None)
        .await
        .unwrap();
    fake.corrupt_version("k", 1);
    let error = store.get("k").await.unwrap_err();
    assert!(matches!(error, SecretError::Corrupt(_)), "{error}");
    assert!(!error.to_string().contains("intact"));
}

#[tokio::test]
async fn a_write_that_loses_the_etag_race_disables_the_version_it_added() {
    let (fake, store) = fake_store().await;
    let first = store.put("k", SecretValue::text("a"), None).await.unwrap();
    fake.conflict_next_patch("k");
    let lost = store
        .put("k", SecretValue::text("b"), Some(&first.version))
        .await;
    assert!(
        matches!(lost, Err(SecretError::CasMismatch { .. })),
        "{lost:?}"
    );
    assert!(fake.is_disabled("k", 2), "the orphaned version is disabled");
    let disable = fake
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/versions/2:disable"))
        .expect("a versions.disable request");
    assert_eq!(disable.method, "POST");
    assert_eq!(disable.body["etag"], "\"1\"");
    let current = store.get("k").await.unwrap();
    assert_eq!(current.value.expose_str(), Some("a"));
    assert_eq!(current.meta.version, first.version);
}

#[tokio::test]
async fn a_staged_version_that_loses_the_etag_race_is_disabled_and_not_pending() {
    let (fake, store) = fake_store().await;
    store.put("k", SecretValue::text("a"), None).await.unwrap();
    fake.conflict_next_patch("k");
    let lost = store.stage_pending("k", SecretValue::text("b")).await;
    assert!(
        matches!(lost, Err(SecretError::CasMismatch { .. })),
        "{lost:?}"
    );
    assert!(fake.is_disabled("k", 2));
    assert!(store.pending("k").await.is_err());
}

#[test]
fn disable_request_carries_the_version_etag() {
    let request = rampart_secrets::gcp::api::disable_version("p", "s", 4, Some("\"7\""));
    assert_eq!(request.method, reqwest::Method::POST);
    assert_eq!(request.path, "v1/projects/p/secrets/s/versions/4:disable");
    assert_eq!(request.body.unwrap()["etag"], "\"7\"");
}
