//! The embedded encrypted file store: versions, check-and-set, rotation, key handling.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use rampart_secrets::observer::Recorder;
use rampart_secrets::{
    AccessOutcome, CacheConfig, CachedStore, FailureKind, FileStore, MasterKey, Observed,
    Operation, RotationError, SecretError, SecretRef, SecretStore, SecretValue, Stage, Version,
    rotate,
};

fn new_store() -> (tempfile::TempDir, FileStore) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = FileStore::create_dev(&dir.path().join("secrets")).unwrap();
    (dir, store)
}

#[tokio::test]
async fn put_then_get_returns_the_value_and_version_one() {
    let (_dir, store) = new_store();
    let meta = store
        .put("broker/api-key", SecretValue::text("canary-1"), None)
        .await
        .unwrap();
    assert_eq!(meta.version, Version::number(1));
    let secret = store.get("broker/api-key").await.unwrap();
    assert_eq!(secret.value.expose_str(), Some("canary-1"));
    assert_eq!(secret.meta.stage, Stage::Current);
    assert_eq!(secret.meta.backend, "file");
}

#[tokio::test]
async fn values_are_not_readable_in_the_files_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = FileStore::create_dev(&dir.path().join("secrets")).unwrap();
    store
        .put("db", SecretValue::text("plaintext-canary"), None)
        .await
        .unwrap();
    for entry in std::fs::read_dir(store.dir()).unwrap() {
        let entry = entry.unwrap();
        let bytes = std::fs::read(entry.path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("plaintext-canary"));
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", entry.path().display());
    }
}

#[tokio::test]
async fn check_and_set_refuses_a_stale_version() {
    let (_dir, store) = new_store();
    store
        .put("db", SecretValue::text("a"), Some(&Version::absent()))
        .await
        .unwrap();
    let stale = store
        .put("db", SecretValue::text("b"), Some(&Version::absent()))
        .await;
    assert!(matches!(stale, Err(SecretError::CasMismatch { ref found, .. }) if found == "1"));
    let fresh = store
        .put("db", SecretValue::text("c"), Some(&Version::number(1)))
        .await
        .unwrap();
    assert_eq!(fresh.version, Version::number(2));
    assert_eq!(
        store.previous("db").await.unwrap().value.expose_str(),
        Some("a")
    );
}

#[tokio::test]
async fn every_version_stays_readable() {
    let (_dir, store) = new_store();
    for value in ["v1", "v2", "v3"] {
        store
            .put("k", SecretValue::text(value), None)
            .await
            .unwrap();
    }
    let first = store.get_version("k", &Version::number(1)).await.unwrap();
    assert_eq!(first.value.expose_str(), Some("v1"));
    assert_eq!(first.meta.stage, Stage::Deprecated);
    let missing = store.get_version("k", &Version::number(9)).await;
    assert!(matches!(missing, Err(SecretError::NoSuchVersion { .. })));
}

#[tokio::test]
async fn staged_pending_is_not_current_until_promoted() {
    let (_dir, store) = new_store();
    store
        .put("sig", SecretValue::bytes(vec![1, 2, 3]), None)
        .await
        .unwrap();
    let staged = store
        .stage_pending("sig", SecretValue::bytes(vec![4, 5, 6]))
        .await
        .unwrap();
    assert_eq!(staged.stage, Stage::Pending);
    assert_eq!(
        store.get("sig").await.unwrap().value.expose_bytes(),
        &[1, 2, 3]
    );
    assert_eq!(
        store.pending("sig").await.unwrap().value.expose_bytes(),
        &[4, 5, 6]
    );

    let promoted = store.promote_pending("sig").await.unwrap();
    assert_eq!(promoted.version, staged.version);
    assert_eq!(
        store.get("sig").await.unwrap().value.expose_bytes(),
        &[4, 5, 6]
    );
    assert_eq!(
        store.previous("sig").await.unwrap().value.expose_bytes(),
        &[1, 2, 3]
    );
    assert!(store.pending("sig").await.is_err());
    assert!(store.metadata("sig").await.unwrap().rotated_at.is_some());
}

#[tokio::test]
async fn a_wrong_master_key_is_a_clear_error_when_opening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets");
    let (store, _) = FileStore::create_dev(&path).unwrap();
    store.put("db", SecretValue::text("x"), None).await.unwrap();
    let error = FileStore::open(&path, MasterKey::generate().unwrap())
        .err()
        .unwrap();
    assert!(
        error.to_string().contains("master key does not open"),
        "{error}"
    );
}

#[tokio::test]
async fn a_record_copied_to_another_name_does_not_open() {
    let (_dir, store) = new_store();
    store
        .put("alpha", SecretValue::text("x"), None)
        .await
        .unwrap();
    let text = std::fs::read_to_string(store.dir().join("alpha.secret")).unwrap();
    let moved = text.replace("\"alpha\"", "\"beta\"");
    std::fs::write(store.dir().join("beta.secret"), moved).unwrap();
    let error = store.get("beta").await.unwrap_err();
    assert!(matches!(error, SecretError::Denied { .. }), "{error}");
}

#[tokio::test]
async fn master_key_file_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets");
    let (_, key_path) = FileStore::create_dev(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let reference = SecretRef::parse(&format!("file:{}", key_path.display())).unwrap();
    let error = MasterKey::from_ref(&reference).unwrap_err();
    assert!(error.to_string().contains("0600"), "{error}");
}

#[tokio::test]
async fn list_shows_metadata_of_every_secret() {
    let (_dir, store) = new_store();
    store
        .put("b/two", SecretValue::text("2"), None)
        .await
        .unwrap();
    store.put("a", SecretValue::text("1"), None).await.unwrap();
    let names: Vec<String> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["a", "b/two"]);
}

#[tokio::test]
async fn observer_sees_every_operation_without_values() {
    let (_dir, store) = new_store();
    let recorder = Arc::new(Recorder::default());
    let store = Observed::new(store, recorder.clone());
    store
        .put("db", SecretValue::text("canary-value"), None)
        .await
        .unwrap();
    store.get("db").await.unwrap();
    let _ = store.get("absent").await;
    let events = recorder.events();
    let ops: Vec<Operation> = events.iter().map(|e| e.operation).collect();
    assert_eq!(ops, [Operation::Write, Operation::Read, Operation::Read]);
    assert_eq!(events[1].version, Some(Version::number(1)));
    assert_eq!(
        events[2].outcome,
        AccessOutcome::Failed(FailureKind::NotFound)
    );
    assert!(!format!("{events:?}").contains("canary-value"));
}

#[tokio::test]
async fn cache_serves_within_ttl_and_is_invalidated_by_a_write() {
    let (_dir, store) = new_store();
    let recorder = Arc::new(Recorder::default());
    let observed = Observed::new(store, recorder.clone());
    let cached = CachedStore::new(observed, CacheConfig::with_ttl(Duration::from_secs(600)));
    cached
        .put("db", SecretValue::text("one"), None)
        .await
        .unwrap();
    cached.get("db").await.unwrap();
    cached.get("db").await.unwrap();
    let reads = |r: &Recorder| {
        r.events()
            .iter()
            .filter(|e| e.operation == Operation::Read)
            .count()
    };
    assert_eq!(reads(&recorder), 1);
    cached
        .put("db", SecretValue::text("two"), None)
        .await
        .unwrap();
    assert_eq!(
        cached.get("db").await.unwrap().value.expose_str(),
        Some("two")
    );
    assert_eq!(reads(&recorder), 2);
}

#[tokio::test]
async fn cache_refetches_once_the_refresh_margin_is_reached() {
    let (_dir, store) = new_store();
    let recorder = Arc::new(Recorder::default());
    let observed = Observed::new(store, recorder.clone());
    let config = CacheConfig {
        ttl: Duration::from_millis(400),
        refresh_ahead: Duration::from_millis(300),
    };
    let cached = CachedStore::new(observed, config);
    cached
        .put("db", SecretValue::text("one"), None)
        .await
        .unwrap();
    cached.get("db").await.unwrap();
    cached
        .inner()
        .inner()
        .put("db", SecretValue::text("two"), None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        cached.get("db").await.unwrap().value.expose_str(),
        Some("two")
    );
}

#[tokio::test]
async fn failed_verification_leaves_current_working_and_is_reported() {
    let (_dir, store) = new_store();
    store
        .put("broker", SecretValue::text("old"), None)
        .await
        .unwrap();
    let recorder = Recorder::default();
    let generate = || Ok(SecretValue::text("new"));
    let verify = |_: SecretValue| async { Err("broker refused the new credential".to_owned()) };
    let error = rotate(&store, "broker", generate, verify, &recorder)
        .await
        .unwrap_err();
    assert!(matches!(error, RotationError::Verification { .. }));
    assert_eq!(
        store.get("broker").await.unwrap().value.expose_str(),
        Some("old")
    );
    let last = recorder.events().pop().unwrap();
    assert_eq!(last.operation, Operation::Rotate);
    assert_eq!(
        last.outcome,
        AccessOutcome::Failed(FailureKind::VerificationFailed)
    );
}

#[tokio::test]
async fn successful_rotation_promotes_and_keeps_the_previous_value() {
    let (_dir, store) = new_store();
    store
        .put("broker", SecretValue::text("old"), None)
        .await
        .unwrap();
    let recorder = Recorder::default();
    let verify = |value: SecretValue| async move {
        (value.expose_str() == Some("new"))
            .then_some(())
            .ok_or_else(|| "wrong".to_owned())
    };
    let meta = rotate(
        &store,
        "broker",
        || Ok(SecretValue::text("new")),
        verify,
        &recorder,
    )
    .await
    .unwrap();
    assert_eq!(meta.stage, Stage::Current);
    assert_eq!(
        store.get("broker").await.unwrap().value.expose_str(),
        Some("new")
    );
    assert_eq!(
        store.previous("broker").await.unwrap().value.expose_str(),
        Some("old")
    );
    assert_eq!(recorder.events().pop().unwrap().outcome, AccessOutcome::Ok);
}
