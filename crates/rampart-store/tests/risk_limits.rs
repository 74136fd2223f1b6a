//! Versioned risk limits: version 1 at creation, atomic application from the base in force,
//! append-only history, and approvals that lapse by a sweep.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use chrono::Duration;
use common::{account, account_id, at, limits, open_store, sqlite3_command};
use rampart_store::{ApprovalFilter, ApprovalStatus, NewApproval, NewLimitsVersion, StoreError};
use rust_decimal_macros::dec;
use serde_json::json;
use uuid::Uuid;

async fn store_with_account() -> (tempfile::TempDir, rampart_store::Store) {
    let (dir, _, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&account("ACC-1", dec!(1000)))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (dir, store)
}

fn next(base: i64, by: &str, approval: Option<(String, Uuid)>) -> NewLimitsVersion {
    let mut tighter = limits();
    tighter.max_order_quantity = dec!(3);
    NewLimitsVersion {
        base_version: base,
        limits: tighter,
        reason: "tighten quantity".to_owned(),
        proposed_by: by.to_owned(),
        approval,
        effective_at: at(2026, 3, 2, 10, 0, 0, 0),
    }
}

#[tokio::test]
async fn a_new_account_starts_at_version_one_proposed_by_system() {
    let (_dir, store) = store_with_account().await;
    let history = store.limits_history(&account_id("ACC-1")).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].version, 1);
    assert_eq!(history[0].proposed_by, "system");
    assert_eq!(history[0].limits, limits());
    assert!(history[0].approved_by.is_none());
}

#[tokio::test]
async fn applying_a_version_moves_the_account_and_the_history_together() {
    let (_dir, store) = store_with_account().await;
    let id = account_id("ACC-1");
    let approval = Uuid::now_v7();
    let mut tx = store.begin().await.unwrap();
    let applied = tx
        .apply_limits_version(&id, &next(1, "rm-1", Some(("rm-2".into(), approval))))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(applied.version, 2);
    assert_eq!(applied.approval_id, Some(approval));
    let account = store.account(&id).await.unwrap().unwrap();
    assert_eq!(account.limits.max_order_quantity, dec!(3));
    let in_force = store.limits_in_force(&id).await.unwrap().unwrap();
    assert_eq!(in_force, applied);
    assert_eq!(store.limits_history(&id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_version_based_on_a_stale_version_is_refused_and_changes_nothing() {
    let (_dir, store) = store_with_account().await;
    let id = account_id("ACC-1");
    let mut tx = store.begin().await.unwrap();
    tx.apply_limits_version(&id, &next(1, "rm-1", None))
        .await
        .unwrap();
    let stale = tx.apply_limits_version(&id, &next(1, "rm-3", None)).await;
    assert!(matches!(
        stale,
        Err(StoreError::Invalid {
            field: "base_version",
            ..
        })
    ));
    tx.commit().await.unwrap();
    assert_eq!(store.limits_history(&id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_tightening_applied_at_once_is_flagged_for_review() {
    let (_dir, store) = store_with_account().await;
    let id = account_id("ACC-1");
    let mut tx = store.begin().await.unwrap();
    let applied = tx
        .apply_limits_version(&id, &next(1, "rm-1", None))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(applied.reviewable_after_the_fact);
    assert!(applied.approved_by.is_none());
}

#[tokio::test]
async fn history_rows_cannot_be_rewritten() {
    let (_dir, path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&account("ACC-1", dec!(1000)))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    drop(store);
    let output = sqlite3_command(
        &path,
        "UPDATE risk_limit_versions SET reason = 'rewritten';",
    )
    .output()
    .expect("sqlite3 is installed (apt-get install sqlite3)");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("append-only"));
}

#[tokio::test]
async fn the_sweep_expires_lapsed_proposals_once_and_filters_find_them() {
    let (_dir, store) = store_with_account().await;
    let now = at(2026, 3, 2, 10, 0, 0, 0);
    let mut tx = store.begin().await.unwrap();
    for target in ["account:ACC-1", "account:ACC-2"] {
        let proposal = NewApproval {
            kind: "risk_limits.change".into(),
            target: target.into(),
            payload: json!({ "n": 1 }),
            proposed_by: "rm-1".into(),
            expires_at: now + Duration::hours(1),
        };
        tx.propose(&proposal, now).await.unwrap();
    }
    tx.commit().await.unwrap();

    let later = now + Duration::hours(2);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.expire_approvals(later).await.unwrap().len(), 2);
    assert!(tx.expire_approvals(later).await.unwrap().is_empty());
    tx.commit().await.unwrap();

    let filter = ApprovalFilter {
        status: Some(ApprovalStatus::Expired),
        kind: Some("risk_limits.change".into()),
        target: Some("account:ACC-1".into()),
    };
    let found = store.approvals_matching(&filter, later).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].target, "account:ACC-1");
}
