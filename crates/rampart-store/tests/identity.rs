//! Users, sign-in throttling, refresh families, revoked tokens and approvals.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{account, account_id, at, open_store};
use rampart_core::{Role, RoleSet};
use rampart_store::{
    ApprovalError, ApprovalStatus, ClientRecord, NewApproval, RefreshFamily, RefreshUse, Store,
    StoreError, StoredUser, ThrottleScope, UserProfile,
};
use rust_decimal_macros::dec;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

fn now() -> DateTime<Utc> {
    at(2026, 3, 2, 10, 0, 0, 0)
}

fn user(id: &str, username: &str, roles: &[Role], accounts: &[&str]) -> StoredUser {
    StoredUser {
        id: id.to_owned(),
        username: username.to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        roles: RoleSet::new(roles.iter().copied()).unwrap(),
        accounts: accounts.iter().map(|a| account_id(a)).collect(),
        disabled: false,
        must_change_password: true,
        mfa_secret: None,
        mfa_pending_secret: None,
        mfa_last_step: None,
        created_at: now(),
    }
}

async fn store_with_user(roles: &[Role]) -> (tempfile::TempDir, Store, StoredUser) {
    let (dir, _path, store) = open_store().await;
    let record = user("u-1", "alice", roles, &["ACC-1"]);
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&account("ACC-1", dec!(1000)))
        .await
        .unwrap();
    let profile = UserProfile {
        display_name: Some("Alice A.".into()),
        email: Some("alice@example.com".into()),
    };
    tx.create_user(&record, &profile).await.unwrap();
    tx.commit().await.unwrap();
    (dir, store, record)
}

#[tokio::test]
async fn a_user_reads_back_with_accounts_and_its_profile_kept_apart() {
    let (_dir, store, record) = store_with_user(&[Role::Trader]).await;
    let read = store.user_named("alice").await.unwrap().unwrap();
    assert_eq!(read.id, record.id);
    assert_eq!(read.accounts, vec![account_id("ACC-1")]);
    assert!(read.roles.contains(Role::Trader));
    assert!(read.must_change_password && !read.disabled && !read.has_mfa());
    let profile = store.user_profile("u-1").await.unwrap().unwrap();
    assert_eq!(profile.email.as_deref(), Some("alice@example.com"));
    assert_eq!(store.users().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_second_user_with_the_same_username_is_a_duplicate() {
    let (_dir, store, _) = store_with_user(&[Role::Trader]).await;
    let mut tx = store.begin().await.unwrap();
    let error = tx
        .create_user(&user("u-2", "alice", &[], &[]), &UserProfile::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::Duplicate { what: "user", .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_totp_step_is_accepted_once_and_never_an_earlier_one() {
    let (_dir, store, _) = store_with_user(&[Role::Trader]).await;
    let mut tx = store.begin().await.unwrap();
    let seed = SecretString::from("JBSWY3DPEHPK3PXP"); // pragma: allowlist secret
    tx.set_pending_mfa("u-1", &seed).await.unwrap();
    let other = SecretString::from("KRSXG5CTMVRXEZLU"); // pragma: allowlist secret
    assert!(!tx.confirm_mfa("u-1", &other, 100).await.unwrap());
    assert!(tx.confirm_mfa("u-1", &seed, 100).await.unwrap());
    assert!(!tx.use_totp_step("u-1", 100).await.unwrap());
    assert!(!tx.use_totp_step("u-1", 99).await.unwrap());
    assert!(tx.use_totp_step("u-1", 101).await.unwrap());
    tx.commit().await.unwrap();
    let read = store.user("u-1").await.unwrap().unwrap();
    assert_eq!(read.mfa_last_step, Some(101));
    assert_eq!(read.mfa_secret.unwrap().expose_secret(), "JBSWY3DPEHPK3PXP");
    assert!(read.mfa_pending_secret.is_none());
}

#[tokio::test]
async fn a_recovery_code_is_used_once_and_a_reset_removes_them_all() {
    let (_dir, store, _) = store_with_user(&[Role::Trader]).await;
    let mut tx = store.begin().await.unwrap();
    tx.replace_recovery_codes("u-1", &["h0".into(), "h1".into()])
        .await
        .unwrap();
    assert!(tx.use_recovery_code("u-1", 1, now()).await.unwrap());
    assert!(!tx.use_recovery_code("u-1", 1, now()).await.unwrap());
    tx.commit().await.unwrap();
    let codes = store.recovery_codes("u-1").await.unwrap();
    assert_eq!(
        codes.iter().map(|c| c.used).collect::<Vec<_>>(),
        [false, true]
    );

    let mut tx = store.begin().await.unwrap();
    assert!(tx.reset_mfa("u-1").await.unwrap());
    tx.commit().await.unwrap();
    assert!(store.recovery_codes("u-1").await.unwrap().is_empty());
}

#[tokio::test]
async fn access_changes_replace_roles_and_accounts() {
    let (_dir, store, _) = store_with_user(&[Role::Trader]).await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(&account("ACC-2", dec!(5))).await.unwrap();
    let roles = RoleSet::new([Role::Auditor]).unwrap();
    tx.set_user_access("u-1", &roles, &[account_id("ACC-2")], now())
        .await
        .unwrap();
    assert!(tx.set_user_disabled("u-1", true).await.unwrap());
    tx.commit().await.unwrap();
    let read = store.user("u-1").await.unwrap().unwrap();
    assert_eq!(read.roles, roles);
    assert_eq!(read.accounts, vec![account_id("ACC-2")]);
    assert!(read.disabled);
}

#[tokio::test]
async fn failures_lock_and_an_expired_lockout_starts_a_fresh_count() {
    let (_dir, _path, store) = open_store().await;
    let lock_at_three = |count: u32| (count >= 3).then(|| now() + Duration::minutes(15));
    let mut tx = store.begin().await.unwrap();
    for expected in 1..=3 {
        let state = tx
            .record_login_failure(ThrottleScope::User, "u-1", now(), lock_at_three)
            .await
            .unwrap();
        assert_eq!(state.failures, expected);
    }
    tx.commit().await.unwrap();
    let state = store
        .login_failures(ThrottleScope::User, "u-1")
        .await
        .unwrap();
    assert!(state.is_locked(now() + Duration::minutes(14)));
    assert!(!state.is_locked(now() + Duration::minutes(15)));
    let other = store
        .login_failures(ThrottleScope::Address, "u-1")
        .await
        .unwrap();
    assert_eq!(other.failures, 0);

    let later = now() + Duration::minutes(16);
    let mut tx = store.begin().await.unwrap();
    let state = tx
        .record_login_failure(ThrottleScope::User, "u-1", later, |_| None)
        .await
        .unwrap();
    assert_eq!(state.failures, 1);
    assert!(!state.is_locked(later));
    tx.clear_login_failures(ThrottleScope::User, "u-1")
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_purge_forgets_counts_of_past_windows_and_keeps_live_ones_and_lockouts() {
    let (_dir, _path, store) = open_store().await;
    let window = Duration::minutes(15);
    let locked_long = |_: u32| Some(now() + Duration::hours(1));
    let mut tx = store.begin().await.unwrap();
    tx.record_login_failure(ThrottleScope::User, "old", now(), |_| None)
        .await
        .unwrap();
    tx.record_login_failure(ThrottleScope::Address, "locked", now(), locked_long)
        .await
        .unwrap();
    let recent = now() + Duration::minutes(10);
    tx.record_login_failure(ThrottleScope::User, "recent", recent, |_| None)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let purged = tx
        .purge_login_failures(now() + window, window)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(purged, 1);
    let count = |scope, key: &'static str| {
        let store = store.clone();
        async move { store.login_failures(scope, key).await.unwrap().failures }
    };
    assert_eq!(count(ThrottleScope::User, "old").await, 0);
    assert_eq!(count(ThrottleScope::Address, "locked").await, 1);
    assert_eq!(count(ThrottleScope::User, "recent").await, 1);
}

fn family(id: &str, hash: &str) -> RefreshFamily {
    RefreshFamily {
        id: id.to_owned(),
        subject: "u-1".to_owned(),
        is_user: true,
        current_hash: hash.to_owned(),
        amr: vec!["pwd".into(), "otp".into()],
        created_at: now(),
        last_used_at: now(),
        idle_expires_at: now() + Duration::hours(1),
        absolute_expires_at: now() + Duration::hours(8),
        revoked_at: None,
        revoked_reason: None,
    }
}

#[tokio::test]
async fn a_refresh_token_rotates_once_and_its_reuse_revokes_the_family() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_refresh_family(&family("f-1", "h1"))
        .await
        .unwrap();
    let soon = now() + Duration::minutes(5);
    let RefreshUse::Rotated(rotated) = tx
        .use_refresh_token("h1", "h2", soon, soon + Duration::hours(1))
        .await
        .unwrap()
    else {
        panic!("the current token rotates");
    };
    assert_eq!(rotated.current_hash, "h2");
    assert_eq!(rotated.last_used_at, soon);

    let reused = tx.use_refresh_token("h1", "h3", soon, soon).await.unwrap();
    let RefreshUse::Reused(revoked) = reused else {
        panic!("a rotated token is reuse: {reused:?}");
    };
    assert_eq!(revoked.revoked_reason.as_deref(), Some("reuse"));
    let after = tx.use_refresh_token("h2", "h4", soon, soon).await.unwrap();
    assert!(matches!(after, RefreshUse::Inactive(_)), "{after:?}");
    assert_eq!(
        tx.use_refresh_token("nope", "h5", soon, soon)
            .await
            .unwrap(),
        RefreshUse::Unknown
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn an_idle_family_is_inactive_and_rotation_never_passes_the_absolute_expiry() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_refresh_family(&family("f-1", "h1"))
        .await
        .unwrap();
    let late = now() + Duration::minutes(59);
    let far = now() + Duration::days(3);
    let RefreshUse::Rotated(rotated) = tx.use_refresh_token("h1", "h2", late, far).await.unwrap()
    else {
        panic!("rotates");
    };
    assert_eq!(rotated.idle_expires_at, rotated.absolute_expires_at);
    let idle = tx
        .use_refresh_token("h2", "h3", now() + Duration::hours(9), far)
        .await
        .unwrap();
    assert!(matches!(idle, RefreshUse::Inactive(_)), "{idle:?}");
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn revoking_a_subject_revokes_each_of_its_families_once() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_refresh_family(&family("f-1", "h1"))
        .await
        .unwrap();
    tx.insert_refresh_family(&family("f-2", "h2"))
        .await
        .unwrap();
    let ids = tx
        .revoke_refresh_families_of("u-1", "disabled", now())
        .await
        .unwrap();
    assert_eq!(ids, ["f-1", "f-2"]);
    assert!(
        tx.revoke_refresh_families_of("u-1", "x", now())
            .await
            .unwrap()
            .is_empty()
    );
    tx.commit().await.unwrap();
    let (found, current) = store.refresh_family_by_hash("h2").await.unwrap().unwrap();
    assert!(current && !found.is_active(now()));
}

#[tokio::test]
async fn revoked_jtis_are_listed_until_they_expire_and_then_pruned() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    tx.revoke_jti("j-1", now() + Duration::minutes(10), now())
        .await
        .unwrap();
    tx.revoke_jti("j-2", now() + Duration::minutes(1), now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let later = now() + Duration::minutes(5);
    let listed = store.revoked_jtis(later).await.unwrap();
    assert_eq!(
        listed.iter().map(|(j, _)| j.as_str()).collect::<Vec<_>>(),
        ["j-1"]
    );
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.prune_expired_jtis(later).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert_eq!(store.revoked_jtis(now()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_assertion_jti_is_accepted_once_per_client() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    let exp = now() + Duration::minutes(5);
    assert!(tx.use_assertion_jti("algo-1", "a-1", exp).await.unwrap());
    assert!(!tx.use_assertion_jti("algo-1", "a-1", exp).await.unwrap());
    assert!(tx.use_assertion_jti("algo-2", "a-1", exp).await.unwrap());
    tx.commit().await.unwrap();
}

fn proposal(by: &str) -> NewApproval {
    NewApproval {
        kind: "role.grant".to_owned(),
        target: "user:u-1".to_owned(),
        payload: json!({"roles": ["auditor", "admin"], "accounts": []}),
        proposed_by: by.to_owned(),
        expires_at: now() + Duration::hours(24),
    }
}

fn client(id: &str) -> ClientRecord {
    ClientRecord {
        id: id.to_owned(),
        name: id.to_owned(),
        secret_hash: "$argon2id$x".to_owned(),
        roles: RoleSet::new([Role::Admin]).unwrap(),
        accounts: vec![],
        disabled: false,
        created_at: now(),
    }
}

#[tokio::test]
async fn an_approval_is_decided_once_by_someone_else() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    let pending = tx.propose(&proposal("admin-1"), now()).await.unwrap();
    assert_eq!(pending.status, ApprovalStatus::Pending);
    let own = tx.decide(pending.id, "admin-1", true, None, now()).await;
    assert!(matches!(own, Err(ApprovalError::SelfApproval)), "{own:?}");
    let done = tx
        .decide(pending.id, "admin-2", true, Some("ok"), now())
        .await
        .unwrap();
    assert_eq!(done.status, ApprovalStatus::Approved);
    assert_eq!(done.decided_by.as_deref(), Some("admin-2"));
    let again = tx.decide(pending.id, "admin-3", false, None, now()).await;
    assert!(
        matches!(
            again,
            Err(ApprovalError::AlreadyDecided(ApprovalStatus::Approved))
        ),
        "{again:?}"
    );
    tx.commit().await.unwrap();
    let listed = store
        .approvals(Some(ApprovalStatus::Approved), None, now())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].payload, proposal("x").payload);
}

#[tokio::test]
async fn a_client_and_its_owner_cannot_approve_each_others_proposals() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&client("bot-1")).await.unwrap();
    tx.insert_client(&client("bot-2")).await.unwrap();
    assert!(tx.set_client_owner("bot-1", "admin-1").await.unwrap());
    assert!(tx.set_client_owner("bot-2", "admin-1").await.unwrap());
    let by_owner = tx.propose(&proposal("admin-1"), now()).await.unwrap();
    let by_client = tx.propose(&proposal("bot-1"), now()).await.unwrap();
    for (id, decider) in [
        (by_owner.id, "bot-1"),
        (by_client.id, "admin-1"),
        (by_client.id, "bot-2"),
    ] {
        let result = tx.decide(id, decider, true, None, now()).await;
        assert!(
            matches!(result, Err(ApprovalError::SelfApproval)),
            "{decider}: {result:?}"
        );
    }
    assert!(
        tx.decide(by_client.id, "admin-2", true, None, now())
            .await
            .is_ok()
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn an_expired_approval_cannot_be_decided_and_reads_as_expired() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    let pending = tx.propose(&proposal("admin-1"), now()).await.unwrap();
    let late = now() + Duration::hours(25);
    let result = tx.decide(pending.id, "admin-2", true, None, late).await;
    assert!(matches!(result, Err(ApprovalError::Expired)), "{result:?}");
    tx.commit().await.unwrap();
    let read = store.approval(pending.id, late).await.unwrap().unwrap();
    assert_eq!(read.status, ApprovalStatus::Expired);
    let past = NewApproval {
        expires_at: now(),
        ..proposal("admin-1")
    };
    let mut tx = store.begin().await.unwrap();
    assert!(tx.propose(&past, now()).await.is_err());
}

#[tokio::test]
async fn concurrent_deciders_apply_exactly_one_decision() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    let pending = tx.propose(&proposal("admin-1"), now()).await.unwrap();
    tx.commit().await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let result = tx
                    .decide(
                        pending.id,
                        &format!("admin-{}", n + 2),
                        n % 2 == 0,
                        None,
                        now(),
                    )
                    .await;
                tx.commit().await.unwrap();
                result.is_ok()
            })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        applied += usize::from(task.await.unwrap());
    }
    assert_eq!(applied, 1);
}
