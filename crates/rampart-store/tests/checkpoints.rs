//! Checkpoints, proofs and queries of the audit log in the store, and the checkpointer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{open_store, sqlite3};
use rampart_audit::{CheckpointSigner, LogError, NewEvent, Outcome, action, merkle};
use rampart_store::{
    AuditCheckError, AuditFilter, CheckpointPolicy, Checkpointer, CheckpointerError, Store,
    StoreError, export_path, verify_audit, verify_audit_signed,
};
use tokio_util::sync::CancellationToken;

fn event(n: u64) -> NewEvent {
    let (actor, outcome) = if n % 2 == 0 {
        ("client-even", Outcome::Success)
    } else {
        ("client-odd", Outcome::Denied)
    };
    NewEvent::new(
        actor,
        action::ORDER_ACCEPTED,
        format!("ord-{n}"),
        outcome,
        "r",
    )
}

async fn append(store: &Store, range: std::ops::RangeInclusive<u64>) {
    for n in range {
        let mut tx = store.begin().await.unwrap();
        tx.append(event(n)).await.unwrap();
        tx.commit().await.unwrap();
    }
}

fn signer() -> Arc<CheckpointSigner> {
    Arc::new(CheckpointSigner::generate("rampart-audit").unwrap())
}

fn policy(dir: &Path) -> CheckpointPolicy {
    CheckpointPolicy {
        every_events: 5,
        every: Duration::from_secs(3600),
        export_dir: Some(dir.join("exported")),
        origin: "rampart.test/audit".into(),
    }
}

#[tokio::test]
async fn checkpoint_covers_the_flushed_log_and_is_exported_once() {
    let (dir, _path, store) = open_store().await;
    append(&store, 1..=7).await;
    let signer = signer();
    let checkpointer = Checkpointer::new(store.clone(), signer.clone(), policy(dir.path()))
        .await
        .unwrap();
    let signed = checkpointer.checkpoint_now().await.unwrap().unwrap();
    assert_eq!(signed.checkpoint.tree_size, 7);
    assert_eq!(
        signed.checkpoint.root_hash,
        store.audit_root(7).await.unwrap()
    );
    assert_eq!(
        signer.verifier().verify(&signed.text).unwrap(),
        signed.checkpoint
    );
    assert_eq!(
        checkpointer.checkpoint_now().await.unwrap(),
        None,
        "nothing new"
    );

    let file = export_path(&dir.path().join("exported"), 7);
    assert!(file.ends_with("00000000000000000007.checkpoint"));
    assert_eq!(std::fs::read_to_string(file).unwrap(), signed.text);
    assert_eq!(
        store.latest_checkpoint().await.unwrap(),
        Some(signed.clone())
    );
    assert_eq!(store.checkpoint_at_or_before(6).await.unwrap(), None);
    assert_eq!(
        store.checkpoint_at_or_before(9).await.unwrap(),
        Some(signed)
    );
}

#[tokio::test]
async fn proofs_from_the_store_verify_against_the_checkpointed_roots() {
    let (_dir, _path, store) = open_store().await;
    append(&store, 1..=13).await;
    let root_13 = store.audit_root(13).await.unwrap();
    let root_6 = store.audit_root(6).await.unwrap();
    let leaves = store.audit_leaf_hashes(0..13).await.unwrap();
    for seq in 1..=13 {
        let proof = store.inclusion_proof(seq, 13).await.unwrap();
        assert_eq!(proof.leaf_index, seq - 1);
        let leaf = &leaves[proof.leaf_index as usize];
        merkle::verify_inclusion(leaf, proof.leaf_index, 13, &proof.path, &root_13).unwrap();
    }
    let proof = store.consistency_proof(6, 13).await.unwrap();
    merkle::verify_consistency(6, 13, &root_6, &root_13, &proof).unwrap();
}

#[tokio::test]
async fn proofs_beyond_the_log_are_refused_with_the_bounds() {
    let (_dir, _path, store) = open_store().await;
    append(&store, 1..=3).await;
    let error = store.inclusion_proof(1, 4).await.unwrap_err();
    assert!(matches!(
        error,
        StoreError::OutOfRange {
            field: "tree_size",
            max: 3,
            ..
        }
    ));
    let error = store.inclusion_proof(0, 3).await.unwrap_err();
    assert!(matches!(
        error,
        StoreError::OutOfRange {
            field: "seq",
            min: 1,
            ..
        }
    ));
    let error = store.consistency_proof(3, 2).await.unwrap_err();
    assert!(matches!(
        error,
        StoreError::OutOfRange {
            field: "from",
            max: 2,
            ..
        }
    ));
}

#[tokio::test]
async fn audit_query_filters_and_pages_by_seq() {
    let (_dir, _path, store) = open_store().await;
    append(&store, 1..=10).await;
    let mut filter = AuditFilter {
        actor: Some("client-even".into()),
        limit: 2,
        ..AuditFilter::default()
    };
    let page = store.audit_query(&filter).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 4]);
    filter.after_seq = Some(4);
    let page = store.audit_query(&filter).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [6, 8]);

    let denied = AuditFilter {
        outcome: Some(Outcome::Denied),
        target: Some("ord-3".into()),
        limit: 100,
        ..AuditFilter::default()
    };
    let found = store.audit_query(&denied).await.unwrap();
    assert_eq!(found.iter().map(|e| e.seq).collect::<Vec<_>>(), [3]);

    let everything = AuditFilter {
        limit: 100,
        ..AuditFilter::default()
    };
    let all = store.audit_query(&everything).await.unwrap();
    let window = AuditFilter {
        from: Some(all[2].time),
        to: Some(all[5].time),
        limit: 100,
        ..AuditFilter::default()
    };
    let found = store.audit_query(&window).await.unwrap();
    assert!(
        found
            .iter()
            .all(|e| e.time >= all[2].time && e.time < all[5].time)
    );
    assert!(found.iter().any(|e| e.seq == 3));
}

#[tokio::test]
async fn audit_query_refuses_a_limit_out_of_range() {
    let (_dir, _path, store) = open_store().await;
    let error = store
        .audit_query(&AuditFilter::default())
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::OutOfRange { field: "limit", .. }
    ));
}

#[tokio::test]
async fn verify_checks_the_tree_and_every_checkpoint_signature() {
    let (dir, path, store) = open_store().await;
    append(&store, 1..=4).await;
    let signer = signer();
    let checkpointer = Checkpointer::new(store.clone(), signer.clone(), policy(dir.path()))
        .await
        .unwrap();
    checkpointer.checkpoint_now().await.unwrap();
    append(&store, 5..=9).await;
    checkpointer.checkpoint_now().await.unwrap();
    let summary = verify_audit_signed(&store, &signer.verifier(), |_, _| {})
        .await
        .unwrap();
    assert_eq!((summary.events, summary.checkpoints), (9, 2));
    assert_eq!(summary.root_hash, store.audit_root(9).await.unwrap());
    let error = verify_audit_signed(&store, &self::signer().verifier(), |_, _| {}).await;
    assert!(matches!(
        error,
        Err(AuditCheckError::Log(LogError::Signature { index: 1, .. }))
    ));
    store.close().await;

    sqlite3(
        &path,
        "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq > 6;",
    );
    let store = Store::open(&path).await.unwrap();
    let error = verify_audit(&store, |_, _| {}).await.unwrap_err();
    assert!(
        matches!(
            error,
            AuditCheckError::Log(LogError::Truncated { from: 7, to: 9 })
        ),
        "{error}"
    );
}

#[tokio::test]
async fn checkpointer_refuses_an_export_directory_ahead_of_the_database() {
    let (dir, path, store) = open_store().await;
    append(&store, 1..=5).await;
    let checkpointer = Checkpointer::new(store.clone(), signer(), policy(dir.path()))
        .await
        .unwrap();
    checkpointer.checkpoint_now().await.unwrap();
    store.close().await;

    // The database is replaced by an older copy without the checkpoint.
    sqlite3(
        &path,
        "DROP TRIGGER audit_checkpoints_no_delete; DELETE FROM audit_checkpoints;",
    );
    let store = Store::open(&path).await.unwrap();
    let error = Checkpointer::new(store, signer(), policy(dir.path()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, CheckpointerError::RolledBack { tree_size: 5 }),
        "{error}"
    );
}

#[tokio::test]
async fn checkpointer_refuses_a_log_shorter_than_its_checkpoint() {
    let (dir, path, store) = open_store().await;
    append(&store, 1..=5).await;
    let checkpointer = Checkpointer::new(store.clone(), signer(), policy(dir.path()))
        .await
        .unwrap();
    checkpointer.checkpoint_now().await.unwrap();
    store.close().await;
    sqlite3(
        &path,
        "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 5;",
    );
    let store = Store::open(&path).await.unwrap();
    let error = Checkpointer::new(store, signer(), policy(dir.path()))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        CheckpointerError::Truncated {
            tree_size: 5,
            len: 4
        }
    ));
}

#[tokio::test]
async fn checkpointer_runs_every_n_events_and_once_more_at_shutdown() {
    let (dir, _path, store) = open_store().await;
    let checkpointer = Checkpointer::new(store.clone(), signer(), policy(dir.path()))
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(checkpointer.run(shutdown.clone()));
    append(&store, 1..=5).await;
    let mut waited = 0;
    while store.latest_checkpoint().await.unwrap().is_none() && waited < 100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    assert_eq!(
        store
            .latest_checkpoint()
            .await
            .unwrap()
            .unwrap()
            .checkpoint
            .tree_size,
        5
    );
    append(&store, 6..=7).await;
    shutdown.cancel();
    task.await.unwrap();
    let sizes: Vec<u64> = store
        .checkpoints()
        .await
        .unwrap()
        .iter()
        .map(|c| c.checkpoint.tree_size)
        .collect();
    assert_eq!(sizes, [5, 7]);
}

#[tokio::test]
async fn recorded_checkpoint_must_grow_and_match_its_text() {
    let (_dir, _path, store) = open_store().await;
    append(&store, 1..=3).await;
    let signer = signer();
    let root = store.audit_root(3).await.unwrap();
    let checkpoint = rampart_audit::Checkpoint::new("o", 3, root, chrono::Utc::now());
    let signed = signer.sign(&checkpoint).unwrap();
    store.record_checkpoint(&signed).await.unwrap();
    assert!(store.record_checkpoint(&signed).await.is_err());
    let beyond = rampart_audit::Checkpoint::new("o", 4, root, chrono::Utc::now());
    let error = store
        .record_checkpoint(&signer.sign(&beyond).unwrap())
        .await;
    assert!(matches!(
        error,
        Err(StoreError::OutOfRange {
            field: "tree_size",
            ..
        })
    ));
    let mut mismatched = signer.sign(&beyond).unwrap();
    mismatched.checkpoint.tree_size = 2;
    assert!(store.record_checkpoint(&mismatched).await.is_err());
}

#[tokio::test]
async fn exported_bundle_of_a_middle_range_verifies_offline() {
    let (dir, _path, store) = open_store().await;
    append(&store, 1..=6).await;
    let signer = signer();
    let checkpointer = Checkpointer::new(store.clone(), signer.clone(), policy(dir.path()))
        .await
        .unwrap();
    checkpointer.checkpoint_now().await.unwrap();
    append(&store, 7..=15).await;
    checkpointer.checkpoint_now().await.unwrap();
    append(&store, 16..=17).await;

    let out = dir.path().join("bundle");
    let error = store
        .export_bundle(&out, 8, 16, &signer.verifier())
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        rampart_store::ExportError::Uncovered { to: 16, latest: 15 }
    ));
    let range = store
        .export_bundle(&out, 8, 12, &signer.verifier())
        .await
        .unwrap();
    assert_eq!(range, (8, 12));
    let report = rampart_audit::verify_bundle(&out, |_, _| {}).unwrap();
    assert_eq!((report.from, report.to, report.tree_size), (8, 12, 15));
    assert_eq!(
        report.checkpoints, 2,
        "the checkpoint before the range is included"
    );
    let lines = std::fs::read_to_string(out.join("events.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 5);
}
