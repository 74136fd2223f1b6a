//! Subject revocations: the moment kept to the microsecond, later moments winning.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::{at, open_store};
use rampart_store::Store;

/// `store` reading `fixed` as the current time.
fn stopped_at(store: Store, fixed: DateTime<Utc>) -> Store {
    store.with_clock(Arc::new(move || fixed))
}

#[tokio::test]
async fn a_subject_revocation_is_read_back_to_the_microsecond() {
    let (_dir, _path, store) = open_store().await;
    let moment = at(2026, 3, 2, 10, 0, 0, 123_456);
    let store = stopped_at(store, moment - Duration::seconds(1));
    let mut tx = store.begin().await.unwrap();
    tx.revoke_subject("u-1", "access_reduced", moment)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.subject_revoked_at("u-1").await.unwrap(), Some(moment));
    assert_eq!(store.subject_revoked_at("u-2").await.unwrap(), None);
}

#[tokio::test]
async fn a_later_subject_revocation_replaces_an_earlier_one_but_never_the_reverse() {
    let (_dir, _path, store) = open_store().await;
    let first = at(2026, 3, 2, 10, 0, 0, 500);
    let store = stopped_at(store, first - Duration::seconds(1));
    let later = first + Duration::milliseconds(250);
    for moment in [first, later, first] {
        let mut tx = store.begin().await.unwrap();
        tx.revoke_subject("u-1", "password_reset", moment)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(store.subject_revoked_at("u-1").await.unwrap(), Some(later));
}

#[tokio::test]
async fn a_subject_revocation_records_the_store_clock_when_it_is_later_than_asked() {
    let (_dir, _path, store) = open_store().await;
    let asked = at(2026, 3, 2, 10, 0, 0, 0);
    let clock = asked + Duration::microseconds(4_000_123);
    let store = stopped_at(store, clock);
    let mut tx = store.begin().await.unwrap();
    let recorded = tx.revoke_subject("u-1", "mfa_reset", asked).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(recorded, clock, "the later of the two moments is recorded");
    assert_eq!(store.subject_revoked_at("u-1").await.unwrap(), Some(clock));
}

#[tokio::test]
async fn the_moment_a_subject_revocation_returns_is_the_one_read_back() {
    let (_dir, _path, store) = open_store().await;
    let mut tx = store.begin().await.unwrap();
    let recorded = tx
        .revoke_subject("u-1", "user_disabled", at(2026, 1, 1, 0, 0, 0, 0))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert!(
        recorded > at(2026, 1, 1, 0, 0, 0, 0),
        "the system clock is later"
    );
    assert_eq!(
        store.subject_revoked_at("u-1").await.unwrap(),
        Some(recorded)
    );
}
