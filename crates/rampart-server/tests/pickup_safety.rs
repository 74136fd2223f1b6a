//! Over real HTTPS: a set-up pickup directory that is a symbolic link (however the
//! path ends), not a directory at all, or another user's gets no token: the delivery
//! fails, the audit event and log name the path, the answer names neither path nor
//! uid, the token is withdrawn, and nothing is written through the link.

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

/// The reason the audit log gives for the one failed delivery of `gw`.
async fn undelivered_reason(gw: &TestGateway) -> String {
    let events = gw.audit_events().await;
    let undelivered = events
        .iter()
        .find(|e| e.action == "auth.setup.undelivered")
        .expect("the failed delivery is audited");
    undelivered.details["reason"].as_str().unwrap().to_owned()
}

/// Asks for a new user of `username` and checks the answer is a 502 whose detail
/// names no path and no uid; returns the audited reason.
async fn undelivered(gw: &TestGateway, username: &str, hidden: &[&str]) -> String {
    let admin = admin_token(gw).await;
    let body = json!({ "username": username, "roles": ["auditor"] });
    let created = gw.api().post_json("/v1/users", Some(&admin), &body).await;

    created.assert_problem(502, "auth.setup_undelivered");
    let detail = created.member("detail").unwrap();
    assert!(detail.contains("pickup directory"), "{detail}");
    for secret in hidden {
        assert!(
            !detail.contains(secret),
            "the answer names `{secret}`: {detail}"
        );
    }
    assert!(!detail.contains('/'), "the answer names a path: {detail}");
    undelivered_reason(gw).await
}

/// A directory of mode 0755 with a link `pickup` to it, inside `outside`.
fn linked_target(outside: &Path) -> (PathBuf, PathBuf) {
    let target = outside.join("somewhere-else");
    std::fs::create_dir(&target).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
    let link = outside.join("pickup");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    (target, link)
}

fn untouched(target: &Path) {
    assert!(entries(target).is_empty(), "a file went through the link");
    let mode = std::fs::metadata(target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755, "the link's target was not touched");
}

#[tokio::test]
async fn a_symlinked_pickup_directory_gets_no_token_and_nothing_through_the_link() {
    let outside = tempfile::tempdir().unwrap();
    let (target, link) = linked_target(outside.path());
    let gw = gateway_delivering_to(&link).await;

    let shown = link.display().to_string();
    let reason = undelivered(&gw, "linda", &[&shown]).await;

    untouched(&target);
    assert!(reason.contains("symbolic link"), "{reason}");
    assert!(
        reason.contains(&shown),
        "the audit names the path: {reason}"
    );
}

#[tokio::test]
async fn a_symlinked_pickup_directory_behind_a_trailing_slash_or_dot_gets_no_token() {
    for (username, ending, cause) in [("lena", "/", "symbolic link"), ("lisa", "/.", "own name")] {
        let outside = tempfile::tempdir().unwrap();
        let (target, link) = linked_target(outside.path());
        let path = PathBuf::from(format!("{}{ending}", link.display()));
        let gw = gateway_delivering_to(&path).await;

        let reason = undelivered(&gw, username, &[&link.display().to_string()]).await;

        untouched(&target);
        assert!(reason.contains(cause), "{ending}: {reason}");
    }
}

#[tokio::test]
async fn a_pickup_directory_of_another_user_gets_no_token() {
    let outside = tempfile::tempdir().unwrap();
    let pickup = outside.path().join("pickup");
    std::fs::create_dir(&pickup).unwrap();
    std::os::unix::fs::chown(&pickup, Some(65534), Some(65534))
        .expect("the tests run as root, so a directory can be given to uid 65534");
    let gw = gateway_delivering_to(&pickup).await;

    let shown = pickup.display().to_string();
    let reason = undelivered(&gw, "lotte", &[&shown, "65534"]).await;

    assert!(entries(&pickup).is_empty(), "nothing was written there");
    assert!(reason.contains("belongs to uid 65534"), "{reason}");
    assert!(
        reason.contains(&shown),
        "the audit names the path: {reason}"
    );
}

#[tokio::test]
async fn a_pickup_path_that_is_a_file_gets_no_token() {
    let outside = tempfile::tempdir().unwrap();
    let file = outside.path().join("pickup");
    std::fs::write(&file, b"a file, not a directory").unwrap();
    let gw = gateway_delivering_to(&file).await;

    let shown = file.display().to_string();
    let reason = undelivered(&gw, "lorna", &[&shown]).await;

    assert!(reason.contains("is not a directory"), "{reason}");
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
