//! Approvals read a page at a time: in proposal order, resumable from a cursor,
//! filtered by the status as of the read, and without writing anything.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{at, open_store};
use rampart_store::{ApprovalFilter, ApprovalStatus, NewApproval, Store};
use serde_json::json;
use uuid::Uuid;

fn start() -> DateTime<Utc> {
    at(2026, 3, 2, 10, 0, 0, 0)
}

/// Proposes `count` approvals a minute apart, each expiring `ttl_minutes` after it.
async fn propose(store: &Store, count: i64, ttl_minutes: i64) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for n in 0..count {
        let now = start() + Duration::minutes(n);
        let proposal = NewApproval {
            kind: "risk_limits.change".into(),
            target: format!("account:ACC-{n}"),
            payload: json!({ "n": n }),
            proposed_by: "rm-1".into(),
            expires_at: now + Duration::minutes(ttl_minutes),
        };
        let mut tx = store.begin().await.unwrap();
        ids.push(tx.propose(&proposal, now).await.unwrap().id);
        tx.commit().await.unwrap();
    }
    ids
}

#[tokio::test]
async fn pages_follow_proposal_order_and_resume_after_the_cursor() {
    let (_dir, _, store) = open_store().await;
    let ids = propose(&store, 5, 600).await;
    let filter = ApprovalFilter::default();
    let first = store
        .approvals_page(&filter, None, 2, start())
        .await
        .unwrap();
    let after = Some(first[1].id);
    let second = store
        .approvals_page(&filter, after, 2, start())
        .await
        .unwrap();
    let after = Some(second[1].id);
    let last = store
        .approvals_page(&filter, after, 2, start())
        .await
        .unwrap();
    let seen: Vec<Uuid> = [first, second, last]
        .concat()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn a_lapsed_pending_approval_is_listed_as_expired_without_being_written() {
    let (_dir, _, store) = open_store().await;
    propose(&store, 3, 90).await;
    let later = start() + Duration::minutes(90) + Duration::seconds(30);
    let expired = ApprovalFilter {
        status: Some(ApprovalStatus::Expired),
        ..ApprovalFilter::default()
    };
    let found = store
        .approvals_page(&expired, None, 10, later)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].target, "account:ACC-0");

    let mut tx = store.begin().await.unwrap();
    let lapsed = tx.expire_approvals(later).await.unwrap();
    assert_eq!(
        lapsed.len(),
        1,
        "the listing left the approval pending in the store"
    );
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn a_cursor_naming_no_approval_is_a_position_between_approvals() {
    let (_dir, _, store) = open_store().await;
    propose(&store, 2, 60).await;
    let between = Uuid::now_v7();
    let later = propose(&store, 2, 60).await;
    let found = store
        .approvals_page(&ApprovalFilter::default(), Some(between), 10, start())
        .await
        .unwrap();
    let seen: Vec<Uuid> = found.iter().map(|a| a.id).collect();
    assert_eq!(seen, later);
}

#[tokio::test]
async fn a_cursor_past_every_approval_reads_an_empty_page() {
    let (_dir, _, store) = open_store().await;
    propose(&store, 2, 60).await;
    let past = Some(Uuid::now_v7());
    let found = store
        .approvals_page(&ApprovalFilter::default(), past, 10, start())
        .await
        .unwrap();
    assert!(found.is_empty(), "{found:?}");
}
