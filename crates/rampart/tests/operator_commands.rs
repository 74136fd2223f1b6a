//! `rampart init`, `client` and `account`, run as an operator would run them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod support;

use support::{Workdir, mode_of};

/// The password shown in the first-start box.
fn shown_password(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.contains("one-time password"))
        .unwrap_or_else(|| panic!("no password line in:\n{stderr}"));
    let value = line.split("one-time password").nth(1).unwrap();
    value
        .trim_matches(|c: char| c.is_whitespace() || c == '│')
        .to_owned()
}

#[test]
fn init_creates_owner_only_files_and_shows_the_password_once() {
    let work = Workdir::new();
    let first = work.init();
    let password = shown_password(&first.stderr);
    assert!(password.len() >= 16, "password too short: {password:?}");
    assert_eq!(
        first.stderr.matches(&password).count(),
        1,
        "{}",
        first.all()
    );
    assert!(
        !first.stdout.contains(&password),
        "the password belongs on stderr only"
    );

    let data = work.data_dir();
    assert_eq!(mode_of(&data), 0o700);
    assert_eq!(mode_of(&work.database()), 0o600);
    assert!(
        !data.join("keys/token-signing.p8").exists(),
        "the signing key lives in the secret store, not a plain file"
    );
    for secret in ["secrets.master-key", "tls/ca-key.pem", "tls/server-key.pem"] {
        assert_eq!(
            mode_of(&data.join(secret)),
            0o600,
            "{secret} must be owner-only"
        );
    }
    for directory in ["secrets", "tls"] {
        assert_eq!(
            mode_of(&data.join(directory)),
            0o700,
            "{directory}/ must be owner-only"
        );
    }
    let ca = data.join("tls/ca.pem");
    assert!(
        std::fs::read_to_string(&ca)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    assert!(first.stderr.contains("--cacert"), "{}", first.all());
    assert!(first.stderr.contains("tls/ca.pem"), "{}", first.all());

    let second = work.init();
    assert!(
        !second.stderr.contains("one-time password"),
        "{}",
        second.all()
    );
    assert!(!second.stderr.contains(&password));
}

#[test]
fn added_client_is_listed_without_its_secret() {
    let work = Workdir::new();
    work.init();
    work.run(&[
        "account",
        "add",
        "ACC-1",
        "--currency",
        "USD",
        "--cash",
        "1000000",
    ])
    .ok();
    let added = work
        .run(&[
            "client",
            "add",
            "--name",
            "momentum-algo",
            "--roles",
            "trader",
            "--accounts",
            "ACC-1",
        ])
        .ok();
    let field = |name: &str| {
        let line = added.stdout.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().to_owned()
    };
    let (id, secret) = (field("client_id:"), field("client_secret:"));
    assert!(secret.len() >= 32, "secret too short");

    let listed = work.run(&["client", "list"]).ok();
    assert!(listed.stdout.contains(&id), "{}", listed.all());
    assert!(listed.stdout.contains("momentum-algo"));
    assert!(listed.stdout.contains("ACC-1"));
    assert!(
        !listed.stdout.contains(&secret),
        "the secret must never be listed"
    );
    assert!(
        !listed.stdout.contains("$argon2"),
        "the hash must never be listed"
    );
    assert!(!listed.stderr.contains(&secret));
}

#[test]
fn disabled_client_is_listed_as_disabled() {
    let work = Workdir::new();
    work.init();
    let added = work
        .run(&[
            "client",
            "add",
            "--name",
            "auditor-bot",
            "--roles",
            "auditor",
        ])
        .ok();
    let id = added
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    work.run(&["client", "disable", &id]).ok();
    let listed = work.run(&["client", "list"]).ok();
    let row = listed.stdout.lines().find(|l| l.contains(&id)).unwrap();
    assert!(row.contains("yes"), "{row}");
}

#[test]
fn client_with_conflicting_roles_is_refused() {
    let work = Workdir::new();
    work.init();
    let run = work.run(&[
        "client",
        "add",
        "--name",
        "both",
        "--roles",
        "trader,risk_manager",
    ]);
    assert!(!run.success);
    assert!(
        run.stderr.contains("segregation of duties"),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("client_secret"));
}

#[test]
fn client_for_an_unknown_account_is_refused() {
    let work = Workdir::new();
    work.init();
    let run = work.run(&[
        "client",
        "add",
        "--name",
        "x",
        "--roles",
        "trader",
        "--accounts",
        "NOPE",
    ]);
    assert!(!run.success);
    assert!(
        run.stderr.contains("account `NOPE` does not exist"),
        "{}",
        run.all()
    );
}

#[test]
fn account_with_a_negative_limit_is_refused_naming_the_limit() {
    let work = Workdir::new();
    work.init();
    let run = work.run(&["account", "add", "ACC-NEG", "--max-order-notional", "-5"]);
    assert!(!run.success);
    assert!(run.stderr.contains("`max_order_notional`"), "{}", run.all());
    let listed = work.run(&["account", "list"]).ok();
    assert!(
        !listed.stdout.contains("ACC-NEG"),
        "a refused account must not be stored"
    );
}

#[test]
fn account_limits_come_from_a_file_and_flags() {
    let work = Workdir::new();
    work.init();
    let file = work.path().join("limits.toml");
    std::fs::write(
        &file,
        "max_order_notional = \"2500\"\nprice_collar_pct = \"3\"\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    work.run(&[
        "account",
        "add",
        "ACC-F",
        "--limits",
        file,
        "--price-collar-pct",
        "2.5",
    ])
    .ok();
    let listed = work.run(&["account", "list"]).ok();
    let row = listed.stdout.lines().find(|l| l.contains("ACC-F")).unwrap();
    assert!(row.contains("2500") && row.contains("2.5"), "{row}");
}

#[test]
fn commands_on_an_uninitialised_directory_say_to_run_init() {
    let work = Workdir::new();
    let run = work.run(&["client", "list"]);
    assert!(!run.success);
    assert!(run.stderr.contains("rampart init"), "{}", run.all());
    assert!(
        !work.data_dir().exists(),
        "nothing may be created behind the operator's back"
    );
}

#[test]
fn secrets_list_shows_metadata_and_rotate_makes_a_new_current_version() {
    let work = Workdir::new();
    work.init();
    let listed = work.run(&["secrets", "list"]).ok();
    assert!(
        listed.stdout.contains("token-signing-key"),
        "{}",
        listed.all()
    );
    assert!(listed.stdout.contains("file"), "{}", listed.all());

    let rotated = work.run(&["secrets", "rotate", "token-signing-key"]).ok();
    assert!(
        rotated.stdout.contains("version 2 is current"),
        "{}",
        rotated.all()
    );
    let again = work.run(&["secrets", "rotate", "token-signing-key"]);
    assert_eq!(again.code, Some(1), "{}", again.all());
    assert!(again.stderr.contains("rotated recently"), "{}", again.all());

    let unknown = work.run(&["secrets", "rotate", "database-password"]);
    assert_eq!(unknown.code, Some(1), "{}", unknown.all());
    assert!(unknown.stderr.contains("not managed"), "{}", unknown.all());

    let actions = work.audit_actions();
    assert!(
        actions.contains(&"secret.rotated".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"secret.rotation_failed".to_owned()),
        "{actions:?}"
    );
}
