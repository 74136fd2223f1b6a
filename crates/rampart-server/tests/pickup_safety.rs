//! Over real HTTPS: a set-up pickup directory that is a symbolic link, or not a
//! directory at all, gets no token: the delivery fails with an error naming the
//! path, the token is withdrawn, and nothing is written through the link.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rampart_core::Role;
use rampart_testkit::TestGateway;
use rampart_testkit::people::Setup;
use serde_json::json;

async fn gateway_delivering_to(pickup: &Path) -> TestGateway {
    let pickup = pickup.to_owned();
    TestGateway::start_with(move |config| {
        config.auth.setup_delivery.pickup_dir = Some(pickup);
    })
    .await
}

async fn admin_token(gw: &TestGateway) -> String {
    let admin = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    gw.login(&admin).await.0
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect()
}

#[tokio::test]
async fn a_symlinked_pickup_directory_gets_no_token_and_nothing_through_the_link() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("somewhere-else");
    std::fs::create_dir(&target).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
    let link = outside.path().join("pickup");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let gw = gateway_delivering_to(&link).await;
    let admin = admin_token(&gw).await;

    let body = json!({ "username": "linda", "roles": ["auditor"] });
    let created = gw.api().post_json("/v1/users", Some(&admin), &body).await;

    created.assert_problem(502, "auth.setup_undelivered");
    let detail = created.member("detail").unwrap();
    assert!(detail.contains("symbolic link"), "{detail}");
    assert!(detail.contains(&link.display().to_string()), "{detail}");
    assert!(entries(&target).is_empty(), "a file went through the link");
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755, "the link's target was not touched");
    let events = gw.audit_events().await;
    let undelivered = events
        .iter()
        .find(|e| e.action == "auth.setup.undelivered")
        .expect("the failed delivery is audited");
    assert!(
        undelivered.details["reason"]
            .as_str()
            .unwrap()
            .contains("symbolic link")
    );
}

#[tokio::test]
async fn a_pickup_path_that_is_a_file_gets_no_token() {
    let outside = tempfile::tempdir().unwrap();
    let file = outside.path().join("pickup");
    std::fs::write(&file, b"a file, not a directory").unwrap();
    let gw = gateway_delivering_to(&file).await;
    let admin = admin_token(&gw).await;

    let body = json!({ "username": "lorna", "roles": ["auditor"] });
    let created = gw.api().post_json("/v1/users", Some(&admin), &body).await;

    created.assert_problem(502, "auth.setup_undelivered");
    let detail = created.member("detail").unwrap();
    assert!(detail.contains("is not a directory"), "{detail}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"a file, not a directory",
        "the file was left as it was"
    );
}

#[tokio::test]
async fn a_real_pickup_directory_still_receives_the_token() {
    let outside = tempfile::tempdir().unwrap();
    let pickup = outside.path().join("pickup");
    let gw = gateway_delivering_to(&pickup).await;
    let admin = admin_token(&gw).await;

    let body = json!({ "username": "lucia", "roles": ["auditor"] });
    let created = gw.api().post_json("/v1/users", Some(&admin), &body).await;

    created.assert_json(201);
    assert!(!gw.setup_token_for("lucia").is_empty());
    let mode = std::fs::metadata(&pickup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}
