//! The Vault backend against a real OpenBao dev server (TLS with its generated CA, a file
//! audit device declared in its configuration file), started on a free loopback port.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use rampart_secrets::testkit::OpenBao;
use rampart_secrets::vault::{KvVersion, VaultAuth, VaultConfig, VaultStore};
use rampart_secrets::{
    Observed, Operation, Recorder, SecretError, SecretStore, SecretValue, Stage, Version,
};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

async fn bao() -> OpenBao {
    OpenBao::start()
        .await
        .expect("OpenBao must start (run .ci/services/openbao.sh)")
}

fn config(bao: &OpenBao, mount: &str, kv: KvVersion, auth: VaultAuth) -> VaultConfig {
    VaultConfig {
        address: bao.address().to_owned(),
        mount: mount.to_owned(),
        kv,
        namespace: None,
        ca_bundle: Some(bao.ca_bundle()),
        auth,
    }
}

fn root_store(bao: &OpenBao) -> VaultStore {
    VaultStore::new(config(
        bao,
        "secret",
        KvVersion::V2,
        VaultAuth::Token(bao.root_token()),
    ))
    .unwrap()
}

/// Creates an AppRole role allowed to use `secret/*` and returns its login credentials.
async fn approle(bao: &OpenBao, role: &str, extra: Value) -> VaultAuth {
    let _ = bao
        .root_call(
            Method::POST,
            "sys/auth/approle",
            Some(json!({"type": "approle"})),
        )
        .await;
    let policy = r#"path "secret/*" { capabilities = ["create", "read", "update", "list"] }"#;
    bao.root_call(
        Method::PUT,
        "sys/policies/acl/rampart",
        Some(json!({ "policy": policy })),
    )
    .await
    .unwrap();
    let mut body = json!({ "token_policies": ["rampart"] });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    bao.root_call(
        Method::POST,
        &format!("auth/approle/role/{role}"),
        Some(body),
    )
    .await
    .unwrap();
    let path = format!("auth/approle/role/{role}/role-id");
    let role_id = bao.root_call(Method::GET, &path, None).await.unwrap();
    let role_id = role_id["data"]["role_id"].as_str().unwrap().to_owned();
    let path = format!("auth/approle/role/{role}/secret-id");
    let secret_id = bao.root_call(Method::POST, &path, None).await.unwrap();
    let secret_id = secret_id["data"]["secret_id"].as_str().unwrap().to_owned();
    VaultAuth::AppRole {
        mount: "approle".into(),
        role_id: SecretString::from(role_id),
        secret_id: SecretString::from(secret_id),
    }
}

fn audited_requests(bao: &OpenBao, path: &str) -> usize {
    let entries = bao.audit_log();
    let is_request = |e: &&Value| e["type"] == "request" && e["request"]["path"] == path;
    entries.iter().filter(is_request).count()
}

#[tokio::test]
async fn kv2_check_and_set_refuses_a_stale_write() {
    let bao = bao().await;
    let store = root_store(&bao);
    let absent = Version::absent();
    let first = store
        .put("rampart/db", SecretValue::text("one"), Some(&absent))
        .await;
    assert_eq!(first.unwrap().version, Version::number(1));
    let stale = store
        .put("rampart/db", SecretValue::text("two"), Some(&absent))
        .await;
    assert!(
        matches!(stale, Err(SecretError::CasMismatch { .. })),
        "{stale:?}"
    );
    let one = Version::number(1);
    let second = store
        .put("rampart/db", SecretValue::text("two"), Some(&one))
        .await;
    assert_eq!(second.unwrap().version, Version::number(2));

    assert_eq!(
        store.get("rampart/db").await.unwrap().value.expose_str(),
        Some("two")
    );
    let old = store
        .get_version("rampart/db", &Version::number(1))
        .await
        .unwrap();
    assert_eq!(old.value.expose_str(), Some("one"));
    assert_eq!(old.meta.stage, Stage::Previous);
}

#[tokio::test]
async fn kv2_rotation_keeps_current_until_promotion() {
    let bao = bao().await;
    let store = root_store(&bao);
    store
        .put("sig", SecretValue::bytes(vec![0, 1, 255]), None)
        .await
        .unwrap();
    let staged = store
        .stage_pending("sig", SecretValue::bytes(vec![9, 9]))
        .await
        .unwrap();
    assert_eq!(staged.stage, Stage::Pending);
    assert_eq!(
        store.get("sig").await.unwrap().value.expose_bytes(),
        &[0, 1, 255]
    );
    assert_eq!(
        store.pending("sig").await.unwrap().value.expose_bytes(),
        &[9, 9]
    );

    store.promote_pending("sig").await.unwrap();
    assert_eq!(
        store.get("sig").await.unwrap().value.expose_bytes(),
        &[9, 9]
    );
    assert_eq!(
        store.previous("sig").await.unwrap().value.expose_bytes(),
        &[0, 1, 255]
    );
    let metadata = bao
        .root_call(Method::GET, "secret/metadata/sig", None)
        .await
        .unwrap();
    assert_eq!(metadata["data"]["custom_metadata"]["rampart_current"], "2");
    let names: Vec<String> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["sig"]);
}

#[tokio::test]
async fn kv1_mount_supports_put_get_and_rotation() {
    let bao = bao().await;
    let mount = json!({ "type": "kv", "options": { "version": "1" } });
    bao.root_call(Method::POST, "sys/mounts/kv1", Some(mount))
        .await
        .unwrap();
    let auth = VaultAuth::Token(bao.root_token());
    let store = VaultStore::new(config(&bao, "kv1", KvVersion::V1, auth)).unwrap();
    store
        .put("broker", SecretValue::text("old"), None)
        .await
        .unwrap();
    store
        .stage_pending("broker", SecretValue::text("new"))
        .await
        .unwrap();
    assert_eq!(
        store.get("broker").await.unwrap().value.expose_str(),
        Some("old")
    );
    store.promote_pending("broker").await.unwrap();
    let current = store.get("broker").await.unwrap();
    assert_eq!(current.value.expose_str(), Some("new"));
    assert_eq!(current.meta.version, Version::number(2));
    assert_eq!(
        store.previous("broker").await.unwrap().value.expose_str(),
        Some("old")
    );
    let raw = bao
        .root_call(Method::GET, "kv1/broker", None)
        .await
        .unwrap();
    assert_eq!(raw["data"]["value"], "new");
}

#[tokio::test]
async fn approle_login_reads_secrets() {
    let bao = bao().await;
    root_store(&bao)
        .put("rampart/api", SecretValue::text("v"), None)
        .await
        .unwrap();
    let auth = approle(&bao, "rampart", json!({})).await;
    let store = VaultStore::new(config(&bao, "secret", KvVersion::V2, auth)).unwrap();
    store.login().await.unwrap();
    assert_eq!(
        store.get("rampart/api").await.unwrap().value.expose_str(),
        Some("v")
    );
    assert_eq!(audited_requests(&bao, "auth/approle/login"), 1);
}

#[tokio::test]
async fn wrong_approle_secret_id_is_denied() {
    let bao = bao().await;
    let VaultAuth::AppRole { role_id, mount, .. } = approle(&bao, "rampart", json!({})).await
    else {
        panic!("approle returns AppRole credentials");
    };
    let secret_id = SecretString::from("not-the-secret-id".to_owned());
    let auth = VaultAuth::AppRole {
        mount,
        role_id,
        secret_id,
    };
    let store = VaultStore::new(config(&bao, "secret", KvVersion::V2, auth)).unwrap();
    let error = store.get("anything").await.unwrap_err();
    assert!(matches!(error, SecretError::Denied { .. }), "{error}");
    assert!(!error.to_string().contains("not-the-secret-id"));
}

#[tokio::test]
async fn short_lived_token_is_renewed_before_it_expires() {
    let bao = bao().await;
    root_store(&bao)
        .put("rampart/api", SecretValue::text("v"), None)
        .await
        .unwrap();
    let auth = approle(
        &bao,
        "short",
        json!({ "token_ttl": "3s", "token_max_ttl": "60s" }),
    )
    .await;
    let store = VaultStore::new(config(&bao, "secret", KvVersion::V2, auth)).unwrap();
    store.login().await.unwrap();
    let renewal = store.spawn_renewal();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        store.get("rampart/api").await.unwrap().value.expose_str(),
        Some("v")
    );
    renewal.abort();
    assert!(audited_requests(&bao, "auth/token/renew-self") >= 2);
    assert_eq!(audited_requests(&bao, "auth/approle/login"), 1);
}

#[tokio::test]
async fn non_renewable_token_is_replaced_by_a_new_login() {
    let bao = bao().await;
    root_store(&bao)
        .put("rampart/api", SecretValue::text("v"), None)
        .await
        .unwrap();
    let batch = json!({ "token_type": "batch", "token_ttl": "2s", "token_max_ttl": "2s" });
    let auth = approle(&bao, "batch", batch).await;
    let store = VaultStore::new(config(&bao, "secret", KvVersion::V2, auth)).unwrap();
    store.get("rampart/api").await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        store.get("rampart/api").await.unwrap().value.expose_str(),
        Some("v")
    );
    assert_eq!(audited_requests(&bao, "auth/approle/login"), 2);
}

#[tokio::test]
async fn expired_operator_token_is_denied() {
    let bao = bao().await;
    root_store(&bao)
        .put("rampart/api", SecretValue::text("v"), None)
        .await
        .unwrap();
    let created = bao
        .root_call(
            Method::POST,
            "auth/token/create",
            Some(json!({ "ttl": "2s", "renewable": false })),
        )
        .await
        .unwrap();
    let token = created["auth"]["client_token"].as_str().unwrap().to_owned();
    let auth = VaultAuth::Token(SecretString::from(token));
    let store = VaultStore::new(config(&bao, "secret", KvVersion::V2, auth)).unwrap();
    assert!(store.get("rampart/api").await.is_ok());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let error = store.get("rampart/api").await.unwrap_err();
    assert!(matches!(error, SecretError::Denied { .. }), "{error}");
}

#[tokio::test]
async fn openbao_audit_log_shows_every_read_rampart_reported() {
    let bao = bao().await;
    root_store(&bao)
        .put("rampart/broker", SecretValue::text("v"), None)
        .await
        .unwrap();
    let recorder = Arc::new(Recorder::default());
    let store = Observed::new(root_store(&bao), recorder.clone());
    for _ in 0..3 {
        store.get("rampart/broker").await.unwrap();
    }
    let reads = recorder
        .events()
        .iter()
        .filter(|e| e.operation == Operation::Read)
        .count();
    assert_eq!(reads, 3);
    assert_eq!(
        audited_requests(&bao, "secret/data/rampart/broker"),
        reads + 1
    );
    let log = std::fs::read_to_string(bao.audit_path()).unwrap();
    assert!(!log.contains("\"v\""), "the audit device HMACs values");
}

#[tokio::test]
async fn namespace_header_scopes_every_request() {
    let bao = bao().await;
    bao.root_call(Method::POST, "sys/namespaces/desk-a", Some(json!({})))
        .await
        .unwrap();
    let mount = json!({ "type": "kv", "options": { "version": "2" } });
    bao.root_call_in(Some("desk-a"), Method::POST, "sys/mounts/kv", Some(mount))
        .await
        .unwrap();
    let mut settings = config(
        &bao,
        "kv",
        KvVersion::V2,
        VaultAuth::Token(bao.root_token()),
    );
    settings.namespace = Some("desk-a".into());
    let store = VaultStore::new(settings).unwrap();
    store
        .put("broker", SecretValue::text("in-namespace"), None)
        .await
        .unwrap();
    let value = store.get("broker").await.unwrap();
    assert_eq!(value.value.expose_str(), Some("in-namespace"));
    let inside = bao
        .root_call_in(Some("desk-a"), Method::GET, "kv/data/broker", None)
        .await;
    assert_eq!(inside.unwrap()["data"]["data"]["value"], "in-namespace");
    assert!(
        bao.root_call(Method::GET, "kv/data/broker", None)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn plain_http_to_a_remote_vault_is_refused() {
    let auth = VaultAuth::Token(SecretString::from("t".to_owned()));
    let config = VaultConfig {
        address: "http://vault.example:8200".into(),
        mount: "secret".into(),
        kv: KvVersion::V2,
        namespace: None,
        ca_bundle: None,
        auth,
    };
    assert!(matches!(
        VaultStore::new(config),
        Err(SecretError::Config(_))
    ));
}

async fn kv1_store(bao: &OpenBao) -> VaultStore {
    let mount = json!({ "type": "kv", "options": { "version": "1" } });
    bao.root_call(Method::POST, "sys/mounts/kv1", Some(mount))
        .await
        .unwrap();
    let auth = VaultAuth::Token(bao.root_token());
    VaultStore::new(config(bao, "kv1", KvVersion::V1, auth)).unwrap()
}

#[tokio::test]
async fn kv2_stage_pointers_move_under_cas_in_their_record() {
    let bao = bao().await;
    let store = root_store(&bao);
    store.put("k", SecretValue::text("a"), None).await.unwrap();
    store
        .stage_pending("k", SecretValue::text("b"))
        .await
        .unwrap();
    store.promote_pending("k").await.unwrap();

    let record = bao
        .root_call(Method::GET, "secret/data/.rampart-stages/k", None)
        .await
        .unwrap();
    assert_eq!(record["data"]["data"]["stages"]["current"], 2);
    assert_eq!(record["data"]["data"]["stages"]["previous"], 1);
    assert_eq!(
        record["data"]["metadata"]["version"], 3,
        "one cas write per move"
    );
    let stale = json!({ "options": { "cas": 2 }, "data": { "stages": {} } });
    let refused = bao
        .root_call(Method::POST, "secret/data/.rampart-stages/k", Some(stale))
        .await;
    assert!(
        refused.is_err(),
        "OpenBao enforces the record's cas: {refused:?}"
    );
    let names: Vec<String> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["k"], "stage records are not secrets");
}

#[tokio::test]
async fn kv2_a_pointer_move_racing_another_is_refused_never_lost() {
    let bao = bao().await;
    let (left, right) = (root_store(&bao), root_store(&bao));
    left.put("k", SecretValue::text("v0"), None).await.unwrap();
    for round in 1..=8 {
        let value = SecretValue::text(format!("v{round}"));
        let (staged, promoted) =
            tokio::join!(left.stage_pending("k", value), right.promote_pending("k"));
        let meta = left.metadata("k").await.unwrap();
        let pending = left.pending("k").await.ok().map(|p| p.meta.version);
        if let Ok(staged) = staged {
            let kept = pending.as_ref() == Some(&staged.version) || meta.version == staged.version;
            assert!(
                kept,
                "round {round}: a staged version that succeeded was lost"
            );
        }
        if let Ok(promoted) = promoted {
            assert_eq!(
                meta.version, promoted.version,
                "round {round}: a promotion was lost"
            );
        }
    }
}

#[tokio::test]
async fn kv2_secret_with_stages_only_in_custom_metadata_is_still_read_and_moved() {
    let bao = bao().await;
    for value in ["first", "second"] {
        let body = json!({ "data": { "value": value } });
        bao.root_call(Method::POST, "secret/data/legacy", Some(body))
            .await
            .unwrap();
    }
    let custom = json!({ "custom_metadata": { "rampart_current": "1" } });
    bao.root_call(Method::POST, "secret/metadata/legacy", Some(custom))
        .await
        .unwrap();
    let store = root_store(&bao);
    assert_eq!(
        store.get("legacy").await.unwrap().value.expose_str(),
        Some("first")
    );
    store
        .stage_pending("legacy", SecretValue::text("third"))
        .await
        .unwrap();
    store.promote_pending("legacy").await.unwrap();
    let current = store.get("legacy").await.unwrap();
    assert_eq!(
        (current.value.expose_str(), current.meta.version.as_str()),
        (Some("third"), "3")
    );
    assert_eq!(
        store.previous("legacy").await.unwrap().value.expose_str(),
        Some("first")
    );
}

#[tokio::test]
async fn kv1_writes_of_one_secret_in_one_process_are_serialised() {
    let bao = bao().await;
    let store = kv1_store(&bao).await;
    let first = store.put("k", SecretValue::text("a"), None).await.unwrap();
    let writes = (0..8).map(|i| {
        let store = store.clone();
        let expected = first.version.clone();
        tokio::spawn(async move {
            store
                .put("k", SecretValue::text(format!("w{i}")), Some(&expected))
                .await
        })
    });
    let outcomes = futures_join(writes).await;
    let won = outcomes.iter().filter(|o| o.is_ok()).count();
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Err(SecretError::CasMismatch { .. })))
        .count();
    assert_eq!((won, refused), (1, 7), "{outcomes:?}");
    assert_eq!(
        store.get("k").await.unwrap().meta.version,
        Version::number(2)
    );
}

async fn futures_join<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut outcomes = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        outcomes.push(handle.await.unwrap());
    }
    outcomes
}
