//! Round trips and constraints of accounts, clients, users and kill switches.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use chrono::Duration;
use common::{account, account_id, at, open_store};
use rampart_core::{KillSwitchScope, Role, RoleSet};
use rampart_store::{ClientRecord, KillSwitchRecord, StoreError, UserRecord};
use rust_decimal_macros::dec;
use uuid::Uuid;

fn client(id: &str, accounts: &[&str]) -> ClientRecord {
    ClientRecord {
        id: id.to_owned(),
        name: format!("algo {id}"),
        secret_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
        roles: RoleSet::new([Role::Trader]).unwrap(),
        accounts: accounts.iter().map(|a| account_id(a)).collect(),
        disabled: false,
        created_at: at(2026, 3, 1, 9, 30, 0, 1),
    }
}

#[tokio::test]
async fn an_account_and_its_limits_read_back_unchanged() {
    let (_dir, _path, store) = open_store().await;
    let record = account("ACC-1", dec!(100000.25));
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&record).await.unwrap();
    assert_eq!(tx.account(&record.id).await.unwrap(), Some(record.clone()));
    tx.commit().await.unwrap();

    assert_eq!(
        store.account(&record.id).await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(store.accounts().await.unwrap(), vec![record]);
    assert_eq!(store.account(&account_id("ACC-2")).await.unwrap(), None);
}

#[tokio::test]
async fn a_client_reads_back_with_its_accounts_and_can_be_disabled() {
    let (_dir, _path, store) = open_store().await;
    let record = client("algo-1", &["ACC-1", "ACC-2"]);
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&account("ACC-1", dec!(1))).await.unwrap();
    tx.insert_account(&account("ACC-2", dec!(1))).await.unwrap();
    tx.insert_client(&record).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.client("algo-1").await.unwrap(), Some(record.clone()));

    let mut tx = store.begin().await.unwrap();
    assert!(tx.set_client_disabled("algo-1", true).await.unwrap());
    assert!(!tx.set_client_disabled("nobody", true).await.unwrap());
    tx.commit().await.unwrap();
    let clients = store.clients().await.unwrap();
    assert_eq!(
        clients,
        vec![ClientRecord {
            disabled: true,
            ..record
        }]
    );
}

#[tokio::test]
async fn a_client_assigned_to_an_unknown_account_is_refused() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    let error = tx
        .insert_client(&client("algo-1", &["ACC-9"]))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::MissingReference { key, .. } if key == "ACC-9"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_user_reads_back_by_username() {
    let (_dir, _path, store) = open_store().await;
    let user = UserRecord {
        id: Uuid::now_v7().to_string(),
        username: "admin".to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        roles: RoleSet::new([Role::Admin]).unwrap(),
        must_change_password: true,
        created_at: at(2026, 3, 1, 8, 0, 0, 999_999),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&user).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.user_by_username("admin").await.unwrap(), Some(user));
    assert_eq!(store.user_by_username("Admin").await.unwrap(), None);
}

#[tokio::test]
async fn a_second_user_with_the_same_username_is_a_duplicate() {
    let (_dir, _path, store) = open_store().await;
    let user = |id: &str| UserRecord {
        id: id.to_owned(),
        username: "alice".to_owned(),
        password_hash: "x".to_owned(),
        roles: RoleSet::new([Role::Auditor]).unwrap(),
        must_change_password: false,
        created_at: at(2026, 3, 1, 8, 0, 0, 0),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&user("u-1")).await.unwrap();
    let error = tx.insert_user(&user("u-2")).await.unwrap_err();
    assert!(
        matches!(error, StoreError::Duplicate { what: "user", .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn kill_switches_are_engaged_and_released_once() {
    let (_dir, _path, store) = open_store().await;
    let engaged_at = at(2026, 3, 3, 14, 0, 0, 7);
    let global = KillSwitchRecord {
        id: Uuid::now_v7(),
        scope: KillSwitchScope::Global,
        reason: "market halt".to_owned(),
        engaged_by: "risk-1".to_owned(),
        engaged_at,
        released_by: None,
        released_at: None,
    };
    let one_account = KillSwitchRecord {
        id: Uuid::now_v7(),
        scope: KillSwitchScope::Account(account_id("ACC-1")),
        engaged_at: engaged_at + Duration::seconds(1),
        ..global.clone()
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&account("ACC-1", dec!(1))).await.unwrap();
    tx.insert_kill_switch(&global).await.unwrap();
    tx.insert_kill_switch(&one_account).await.unwrap();
    let released_at = engaged_at + Duration::minutes(5);
    assert!(
        tx.release_kill_switch(global.id, "risk-2", released_at)
            .await
            .unwrap()
    );
    assert!(
        !tx.release_kill_switch(global.id, "risk-2", released_at)
            .await
            .unwrap()
    );
    assert!(
        !tx.release_kill_switch(Uuid::now_v7(), "risk-2", released_at)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();

    assert_eq!(
        store.kill_switches(true).await.unwrap(),
        vec![one_account.clone()]
    );
    let released = KillSwitchRecord {
        released_by: Some("risk-2".to_owned()),
        released_at: Some(released_at),
        ..global
    };
    assert_eq!(
        store.kill_switches(false).await.unwrap(),
        vec![released, one_account]
    );
}
