//! Subject revocations: the moment kept to the microsecond, later moments winning.
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

#[tokio::test]
async fn a_subject_revocation_is_read_back_to_the_microsecond() {
    let (_dir, _path, store) = open_store().await;
    let moment = at(2026, 3, 2, 10, 0, 0, 123_456);
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
