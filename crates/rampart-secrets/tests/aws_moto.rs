//! The AWS Secrets Manager backend against a real moto server on a free loopback port,
//! including rotation by staging labels.
#![cfg(feature = "aws")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_secrets::aws::{AwsConfig, AwsStore, StaticCredentials};
use rampart_secrets::testkit::Moto;
use rampart_secrets::{SecretError, SecretStore, SecretValue, Stage, Version};
use secrecy::SecretString;

async fn moto_store() -> (Moto, AwsStore) {
    let moto = Moto::start()
        .await
        .expect("moto must start (run .ci/services/moto.sh)");
    let config = AwsConfig {
        region: Some("eu-west-2".into()),
        endpoint: Some(moto.endpoint().to_owned()),
        credentials: Some(StaticCredentials {
            access_key_id: SecretString::from("testing".to_owned()),
            secret_access_key: SecretString::from("testing".to_owned()),
        }),
    };
    let store = AwsStore::new(config).await.unwrap();
    (moto, store)
}

async fn labels_of(store: &AwsStore, name: &str, version: &Version) -> Vec<String> {
    let out = store
        .client()
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    let stages = out.version_ids_to_stages().unwrap();
    let mut labels = stages.get(version.as_str()).cloned().unwrap_or_default();
    labels.sort();
    labels
}

#[tokio::test]
async fn put_then_get_returns_the_current_version() {
    let (_moto, store) = moto_store().await;
    let meta = store
        .put("rampart/db", SecretValue::text("one"), None)
        .await
        .unwrap();
    assert_eq!(meta.stage, Stage::Current);
    let secret = store.get("rampart/db").await.unwrap();
    assert_eq!(secret.value.expose_str(), Some("one"));
    assert_eq!(secret.meta.version, meta.version);
    assert_eq!(secret.meta.backend, "aws");
}

#[tokio::test]
async fn rotation_moves_the_staging_labels() {
    let (_moto, store) = moto_store().await;
    let first = store
        .put("broker", SecretValue::text("old"), None)
        .await
        .unwrap();
    let staged = store
        .stage_pending("broker", SecretValue::text("new"))
        .await
        .unwrap();
    assert_eq!(staged.stage, Stage::Pending);
    assert_eq!(
        labels_of(&store, "broker", &staged.version).await,
        ["AWSPENDING"]
    );
    assert_eq!(
        store.get("broker").await.unwrap().value.expose_str(),
        Some("old")
    );
    assert_eq!(
        store.pending("broker").await.unwrap().value.expose_str(),
        Some("new")
    );

    let promoted = store.promote_pending("broker").await.unwrap();
    assert_eq!(promoted.version, staged.version);
    assert_eq!(
        labels_of(&store, "broker", &staged.version).await,
        ["AWSCURRENT"]
    );
    assert_eq!(
        labels_of(&store, "broker", &first.version).await,
        ["AWSPREVIOUS"]
    );
    assert_eq!(
        store.get("broker").await.unwrap().value.expose_str(),
        Some("new")
    );
    assert_eq!(
        store.previous("broker").await.unwrap().value.expose_str(),
        Some("old")
    );
}

#[tokio::test]
async fn check_and_set_refuses_a_stale_version() {
    let (_moto, store) = moto_store().await;
    let absent = Version::absent();
    let first = store
        .put("k", SecretValue::text("a"), Some(&absent))
        .await
        .unwrap();
    let again = store.put("k", SecretValue::text("b"), Some(&absent)).await;
    assert!(
        matches!(again, Err(SecretError::CasMismatch { .. })),
        "{again:?}"
    );
    let stale = store
        .put("k", SecretValue::text("b"), Some(&Version::new("not-it")))
        .await;
    assert!(
        matches!(stale, Err(SecretError::CasMismatch { .. })),
        "{stale:?}"
    );
    let second = store
        .put("k", SecretValue::text("c"), Some(&first.version))
        .await
        .unwrap();
    let old = store.get_version("k", &first.version).await.unwrap();
    assert_eq!(old.value.expose_str(), Some("a"));
    assert_eq!(old.meta.stage, Stage::Previous);
    assert_ne!(second.version, first.version);
}

#[tokio::test]
async fn binary_values_round_trip() {
    let (_moto, store) = moto_store().await;
    store
        .put("key", SecretValue::bytes(vec![0, 159, 255]), None)
        .await
        .unwrap();
    let secret = store.get("key").await.unwrap();
    assert!(!secret.value.is_text());
    assert_eq!(secret.value.expose_bytes(), &[0, 159, 255]);
}

#[tokio::test]
async fn missing_secret_is_not_found() {
    let (_moto, store) = moto_store().await;
    let error = store.get("absent").await.unwrap_err();
    assert!(
        matches!(error, SecretError::NotFound(ref n) if n == "absent"),
        "{error}"
    );
}

#[tokio::test]
async fn list_shows_current_metadata_only() {
    let (_moto, store) = moto_store().await;
    store.put("b", SecretValue::text("2"), None).await.unwrap();
    store.put("a", SecretValue::text("1"), None).await.unwrap();
    let metas = store.list().await.unwrap();
    let names: Vec<&str> = metas.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(metas.iter().all(|m| m.stage == Stage::Current));
}

#[tokio::test]
async fn writers_expecting_the_same_version_cannot_both_win() {
    let (_moto, store) = moto_store().await;
    let first = store.put("k", SecretValue::text("a"), None).await.unwrap();
    let (left, right) = tokio::join!(
        store.put("k", SecretValue::text("left"), Some(&first.version)),
        store.put("k", SecretValue::text("right"), Some(&first.version)),
    );
    let winner = match (&left, &right) {
        (Ok(_), Err(SecretError::CasMismatch { .. })) => "left",
        (Err(SecretError::CasMismatch { .. }), Ok(_)) => "right",
        other => panic!("exactly one writer must win: {other:?}"),
    };
    let current = store.get("k").await.unwrap();
    assert_eq!(current.value.expose_str(), Some(winner));
    let previous = store.previous("k").await.unwrap();
    assert_eq!(previous.meta.version, first.version);
}

#[tokio::test]
async fn a_stale_writer_is_refused_after_another_write_and_leaves_no_label() {
    let (_moto, store) = moto_store().await;
    let first = store.put("k", SecretValue::text("a"), None).await.unwrap();
    let second = store
        .put("k", SecretValue::text("b"), Some(&first.version))
        .await
        .unwrap();
    let stale = store
        .put("k", SecretValue::text("c"), Some(&first.version))
        .await;
    assert!(
        matches!(stale, Err(SecretError::CasMismatch { .. })),
        "{stale:?}"
    );
    assert_eq!(store.get("k").await.unwrap().meta.version, second.version);

    let described = store
        .client()
        .describe_secret()
        .secret_id("k")
        .send()
        .await
        .unwrap();
    let labels: Vec<&String> = described
        .version_ids_to_stages()
        .unwrap()
        .values()
        .flatten()
        .collect();
    assert!(labels.iter().all(|l| l.starts_with("AWS")), "{labels:?}");
}
