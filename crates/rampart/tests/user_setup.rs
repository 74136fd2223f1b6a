//! `rampart user add` never prints a set-up token: it delivers it as the gateway does.
//!
//! The real binary runs in a temporary directory with the default `pickup`
//! delivery; the token is found in the private pickup file only, a privileged
//! person gets none until their grant is approved, and an address that is not
//! one bare mailbox is refused naming `email`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod support;

use std::path::PathBuf;

use support::{Workdir, mode_of};

fn pickup_files(work: &Workdir) -> Vec<(PathBuf, serde_json::Value)> {
    let dir = work.data_dir().join("setup-pickup");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let document = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            (path, document)
        })
        .collect()
}

#[test]
fn user_add_prints_no_token_and_writes_the_pickup_file() {
    let work = Workdir::new();
    work.init();
    let added = work
        .run(&[
            "user",
            "add",
            "--username",
            "olivia",
            "--roles",
            "auditor",
            "--email",
            "olivia@bank.example",
        ])
        .ok();
    let files = pickup_files(&work);
    assert_eq!(files.len(), 1, "{}", added.all());
    let (path, document) = &files[0];
    assert_eq!(mode_of(path), 0o600);
    assert_eq!(document["username"], "olivia");
    assert_eq!(document["email"], "olivia@bank.example");
    let token = document["setup_token"].as_str().unwrap();
    assert!(token.len() >= 32);
    assert!(!added.stdout.contains(token) && !added.stderr.contains(token));
    assert!(!added.stdout.contains("setup_token"), "{}", added.all());
    assert!(
        added.stdout.contains("setup_delivery:     pickup"),
        "{}",
        added.all()
    );
    let expires = document["expires_at"].as_str().unwrap();
    assert!(added.stdout.contains(expires), "{}", added.all());
    assert!(
        work.audit_actions()
            .contains(&"auth.setup.delivered".to_owned())
    );
}

#[test]
fn user_add_with_a_privileged_role_delivers_nothing_until_approved() {
    let work = Workdir::new();
    work.init();
    let added = work
        .run(&[
            "user",
            "add",
            "--username",
            "pat",
            "--roles",
            "auditor,risk_manager",
            "--email",
            "pat@bank.example",
        ])
        .ok();
    assert!(
        added.stdout.contains("pending_approval:"),
        "{}",
        added.all()
    );
    assert!(added.stdout.contains("none yet"), "{}", added.all());
    assert!(pickup_files(&work).is_empty());
    assert!(
        !work
            .audit_actions()
            .contains(&"auth.setup.delivered".to_owned())
    );
}

#[test]
fn user_add_refuses_an_address_that_is_not_one_bare_mailbox() {
    let work = Workdir::new();
    work.init();
    let refused = work.run(&[
        "user",
        "add",
        "--username",
        "bob",
        "--email",
        "bob@x <eve@y>",
    ]);
    assert!(!refused.success, "{}", refused.all());
    assert!(refused.stderr.contains("`email`"), "{}", refused.all());
    assert!(pickup_files(&work).is_empty());
    let listed = work.run(&["user", "list"]).ok();
    assert!(!listed.stdout.contains("bob"), "{}", listed.all());
}
