//! `rampart client add --owner`: the person answerable for a client is recorded,
//! and a name that is no enabled user is refused before anything is stored; a
//! privileged client needs an owner whose roles, with its own, respect
//! segregation of duties.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod support;

use support::Workdir;

fn field(stdout: &str, name: &str) -> String {
    let line = stdout.lines().find(|l| l.starts_with(name)).unwrap();
    line.split_whitespace().nth(1).unwrap().to_owned()
}

#[test]
fn a_client_added_with_an_owner_records_that_person() {
    let work = Workdir::new();
    work.init();
    let person = work
        .run(&["user", "add", "--username", "olivia", "--roles", "auditor"])
        .ok();
    let owner_id = field(&person.stdout, "user_id:");
    let added = work
        .run(&[
            "client", "add", "--name", "algo", "--roles", "auditor", "--owner", "olivia",
        ])
        .ok();
    assert_eq!(field(&added.stdout, "owner:"), owner_id, "{}", added.all());

    let by_id = work
        .run(&[
            "client", "add", "--name", "algo-2", "--roles", "auditor", "--owner", &owner_id,
        ])
        .ok();
    assert_eq!(field(&by_id.stdout, "owner:"), owner_id);
}

#[test]
fn a_client_owner_that_is_no_user_is_refused_and_nothing_is_stored() {
    let work = Workdir::new();
    work.init();
    let refused = work.run(&[
        "client", "add", "--name", "algo", "--roles", "auditor", "--owner", "nobody",
    ]);
    assert!(!refused.success, "{}", refused.all());
    assert!(refused.stderr.contains("`--owner`"), "{}", refused.all());
    let listed = work.run(&["client", "list"]).ok();
    assert!(!listed.stdout.contains("algo"), "{}", listed.all());
}

#[test]
fn a_trading_client_without_an_owner_is_warned_about() {
    let work = Workdir::new();
    work.init();
    let added = work
        .run(&["client", "add", "--name", "algo", "--roles", "trader"])
        .ok();
    assert!(added.stderr.contains("`--owner`"), "{}", added.all());
}

#[test]
fn a_privileged_client_without_an_owner_is_refused_naming_the_owner_option() {
    let work = Workdir::new();
    work.init();
    for role in ["admin", "risk_manager", "compliance_officer"] {
        let name = format!("unowned-{role}");
        let refused = work.run(&["client", "add", "--name", &name, "--roles", role]);
        assert!(!refused.success, "{role}: {}", refused.all());
        assert!(refused.stderr.contains("`--owner`"), "{}", refused.all());
        assert!(refused.stderr.contains(role), "{}", refused.all());
        assert!(
            !refused.stdout.contains("client_secret"),
            "{}",
            refused.all()
        );
    }
    let listed = work.run(&["client", "list"]).ok();
    assert!(!listed.stdout.contains("unowned-"), "{}", listed.all());
}

#[test]
fn a_privileged_client_with_an_enabled_owner_is_registered() {
    let work = Workdir::new();
    work.init();
    let person = work
        .run(&["user", "add", "--username", "rita", "--roles", "auditor"])
        .ok();
    let owner_id = field(&person.stdout, "user_id:");
    let added = work
        .run(&[
            "client",
            "add",
            "--name",
            "risk-desk",
            "--roles",
            "risk_manager",
            "--owner",
            "rita",
        ])
        .ok();
    assert_eq!(field(&added.stdout, "owner:"), owner_id, "{}", added.all());
    assert!(added.stdout.contains("client_secret:"), "{}", added.all());
}

#[test]
fn an_owner_whose_roles_conflict_with_the_clients_is_refused() {
    let work = Workdir::new();
    work.init();
    work.run(&["user", "add", "--username", "tom", "--roles", "trader"])
        .ok();
    let refused = work.run(&[
        "client",
        "add",
        "--name",
        "risk-desk",
        "--roles",
        "risk_manager",
        "--owner",
        "tom",
    ]);
    assert!(!refused.success, "{}", refused.all());
    assert!(
        refused.stderr.contains("segregation of duties"),
        "{}",
        refused.all()
    );
    assert!(refused.stderr.contains("`--owner`"), "{}", refused.all());
    let listed = work.run(&["client", "list"]).ok();
    assert!(!listed.stdout.contains("risk-desk"), "{}", listed.all());
}

#[test]
fn a_disabled_owner_is_refused() {
    let work = Workdir::new();
    work.init();
    let person = work
        .run(&["user", "add", "--username", "dora", "--roles", "auditor"])
        .ok();
    let owner_id = field(&person.stdout, "user_id:");
    work.run(&["user", "disable", &owner_id]).ok();
    let refused = work.run(&[
        "client", "add", "--name", "algo", "--roles", "auditor", "--owner", "dora",
    ]);
    assert!(!refused.success, "{}", refused.all());
    assert!(refused.stderr.contains("`--owner`"), "{}", refused.all());
}

#[test]
fn a_user_is_disabled_by_username_as_by_subject_id() {
    let work = Workdir::new();
    work.init();
    let person = work
        .run(&["user", "add", "--username", "nell", "--roles", "auditor"])
        .ok();
    let id = field(&person.stdout, "user_id:");

    let done = work.run(&["user", "disable", "nell"]).ok();
    assert!(
        done.stdout.contains(&format!("user `{id}` disabled")),
        "{}",
        done.all()
    );
    let refused = work.run(&[
        "client", "add", "--name", "algo", "--roles", "auditor", "--owner", &id,
    ]);
    assert!(
        !refused.success,
        "the person is disabled: {}",
        refused.all()
    );
    let unknown = work.run(&["user", "reset-mfa", "nobody-here"]);
    assert!(!unknown.success, "{}", unknown.all());
    assert!(
        unknown.stderr.contains("does not exist"),
        "{}",
        unknown.all()
    );
}
