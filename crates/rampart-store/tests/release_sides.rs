//! The reads a kill-switch release and a `trader:` stop rely on: which clients a person
//! owns, which release of an engagement is pending, and who is on whose side.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use chrono::Duration;
use common::{at, open_store};
use rampart_core::{Role, RoleSet};
use rampart_store::{ClientRecord, NewApproval, WriteTx};
use serde_json::json;

fn client(id: &str) -> ClientRecord {
    ClientRecord {
        id: id.to_owned(),
        name: format!("algo {id}"),
        secret_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
        roles: RoleSet::new([Role::Trader]).unwrap(),
        accounts: Vec::new(),
        disabled: false,
        created_at: at(2026, 3, 1, 9, 30, 0, 1),
    }
}

async fn add_owned(tx: &mut WriteTx<'_>, id: &str, owner: Option<&str>) {
    tx.insert_client(&client(id)).await.unwrap();
    if let Some(owner) = owner {
        assert!(tx.set_client_owner(id, owner).await.unwrap());
    }
}

fn release(target: &str) -> NewApproval {
    NewApproval {
        kind: "killswitch.release".to_owned(),
        target: target.to_owned(),
        payload: json!({ "reason": "drill over" }),
        proposed_by: "u-risk".to_owned(),
        expires_at: at(2026, 3, 2, 9, 30, 0, 0),
    }
}

#[tokio::test]
async fn clients_owned_by_a_person_are_listed_and_no_others() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    add_owned(&mut tx, "cl-b", Some("u-pat")).await;
    add_owned(&mut tx, "cl-a", Some("u-pat")).await;
    add_owned(&mut tx, "cl-q", Some("u-quinn")).await;
    add_owned(&mut tx, "cl-none", None).await;
    assert_eq!(
        tx.clients_owned_by("u-pat").await.unwrap(),
        ["cl-a", "cl-b"]
    );
    tx.commit().await.unwrap();
    assert_eq!(
        store.clients_owned_by("u-pat").await.unwrap(),
        ["cl-a", "cl-b"]
    );
    assert_eq!(store.clients_owned_by("u-quinn").await.unwrap(), ["cl-q"]);
    assert!(store.clients_owned_by("u-nobody").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_person_and_the_clients_they_own_are_one_side() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    add_owned(&mut tx, "cl-pat", Some("u-pat")).await;
    add_owned(&mut tx, "cl-pat-2", Some("u-pat")).await;
    add_owned(&mut tx, "cl-quinn", Some("u-quinn")).await;
    for (a, b, same) in [
        ("u-pat", "u-pat", true),
        ("u-pat", "cl-pat", true),
        ("cl-pat", "u-pat", true),
        ("cl-pat", "cl-pat-2", true),
        ("u-pat", "u-quinn", false),
        ("cl-pat", "cl-quinn", false),
        ("system", "cl-pat", false),
    ] {
        assert_eq!(tx.same_side(a, b).await.unwrap(), same, "{a} {b}");
    }
}

#[tokio::test]
async fn only_a_pending_release_of_the_engagement_is_found() {
    let (_dir, _path, store) = open_store().await;
    let now = at(2026, 3, 1, 10, 0, 0, 0);
    let mut tx = store.begin().await.unwrap();
    let target = "killswitch:019a0000-0000-7000-8000-000000000001";
    assert!(
        tx.pending_approval("killswitch.release", target, now)
            .await
            .unwrap()
            .is_none()
    );
    let first = tx.propose(&release(target), now).await.unwrap();
    tx.propose(&release("killswitch:other"), now).await.unwrap();
    let found = tx
        .pending_approval("killswitch.release", target, now)
        .await
        .unwrap();
    assert_eq!(found.map(|a| a.id), Some(first.id));

    let later = now + Duration::days(2);
    let lapsed = tx
        .pending_approval("killswitch.release", target, later)
        .await
        .unwrap();
    assert!(lapsed.is_none(), "an expired proposal is no longer pending");
    tx.decide(first.id, "u-second", false, None, now)
        .await
        .unwrap();
    let decided = tx
        .pending_approval("killswitch.release", target, now)
        .await
        .unwrap();
    assert!(decided.is_none(), "a decided proposal is no longer pending");
}
