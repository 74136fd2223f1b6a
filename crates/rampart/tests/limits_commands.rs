//! `rampart limits show` and `history`, and the firm-wide caps at `rampart account add`,
//! run as an operator would run them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod support;

use rampart_store::{NewApproval, NewLimitsVersion, Store};
use serde_json::{Value, json};
use support::Workdir;

fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Applies a second version of `account`'s limits, approved by `rm-2`, straight to the store.
async fn approve_second_version(work: &Workdir, account: &str) {
    let store = Store::open(&work.database()).await.unwrap();
    let id = account.parse().unwrap();
    let now = chrono::Utc::now();
    let mut tx = store.begin().await.unwrap();
    let mut limits = tx.limits_in_force(&id).await.unwrap().unwrap().limits;
    limits.max_order_notional = rust_decimal::Decimal::new(1200, 0);
    let proposal = NewApproval {
        kind: "risk_limits.change".into(),
        target: format!("account:{account}"),
        payload: json!({ "max_order_notional": "1200" }),
        proposed_by: "rm-1".into(),
        expires_at: now + chrono::Duration::hours(1),
    };
    let approval = tx.propose(&proposal, now).await.unwrap();
    tx.decide(approval.id, "rm-2", true, None, now)
        .await
        .unwrap();
    let next = NewLimitsVersion {
        base_version: 1,
        limits,
        reason: "lower notional".into(),
        proposed_by: "rm-1".into(),
        approval: Some(("rm-2".into(), approval.id)),
        effective_at: now,
    };
    tx.apply_limits_version(&id, &next).await.unwrap();
    tx.commit().await.unwrap();
    store.close().await;
}

#[test]
fn limits_show_prints_the_limits_in_force_and_their_version() {
    let work = Workdir::new();
    work.init();
    work.run(&["account", "add", "ACC-L", "--max-order-notional", "2500"])
        .ok();

    let table = work.run(&["limits", "show", "--account", "ACC-L"]).ok();
    let row = |name: &str| {
        let line = table.stdout.lines().find(|l| l.contains(name));
        line.unwrap_or_else(|| panic!("no `{name}` row in:\n{}", table.stdout))
            .to_owned()
    };
    assert!(row("max_order_notional").contains("2500"));
    assert!(row("version").contains('1'));

    let answer = work
        .run(&["limits", "show", "--account", "ACC-L", "--json"])
        .ok();
    let answer = json_of(&answer.stdout);
    assert_eq!(answer["account_id"], "ACC-L");
    assert_eq!(answer["version"], 1);
    assert_eq!(answer["limits"]["max_order_notional"], "2500");
}

#[tokio::test]
async fn limits_history_lists_every_version_with_its_proposer_and_approver() {
    let work = Workdir::new();
    work.init();
    work.run(&["account", "add", "ACC-H"]).ok();
    approve_second_version(&work, "ACC-H").await;

    let table = work.run(&["limits", "history", "--account", "ACC-H"]).ok();
    let second = table.stdout.lines().find(|l| l.contains("lower notional"));
    let second = second.unwrap_or_else(|| panic!("no version 2 in:\n{}", table.stdout));
    assert!(
        second.contains("rm-1") && second.contains("rm-2"),
        "{second}"
    );

    let answer = work
        .run(&["limits", "history", "--account", "ACC-H", "--json"])
        .ok();
    let versions = json_of(&answer.stdout)["versions"]
        .as_array()
        .unwrap()
        .clone();
    let numbers: Vec<i64> = versions
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(versions[1]["approved_by"], "rm-2");
    assert_eq!(versions[1]["limits"]["max_order_notional"], "1200");
}

#[test]
fn limits_of_an_unknown_account_are_refused_naming_it() {
    let work = Workdir::new();
    work.init();
    for command in ["show", "history"] {
        let run = work.run(&["limits", command, "--account", "ACC-NONE"]);
        assert!(!run.success, "{}", run.all());
        assert!(
            run.stderr.contains("`ACC-NONE` does not exist"),
            "{}",
            run.all()
        );
    }
}

#[test]
fn reading_limits_writes_nothing_to_the_audit_log() {
    let work = Workdir::new();
    work.init();
    work.run(&["account", "add", "ACC-R"]).ok();
    let before = work.audit_actions();
    work.run(&["limits", "show", "--account", "ACC-R"]).ok();
    work.run(&["limits", "history", "--account", "ACC-R", "--json"])
        .ok();
    assert_eq!(work.audit_actions(), before);
}

#[test]
fn account_add_refuses_limits_above_a_firm_wide_cap_naming_field_and_cap() {
    let work = Workdir::new();
    std::fs::write(
        work.path().join("rampart.toml"),
        "[risk.caps]\nmax_order_notional = \"1000\"\n",
    )
    .unwrap();
    work.init();
    let run = work.run(&["account", "add", "ACC-CAP", "--max-order-notional", "5000"]);
    assert!(!run.success, "{}", run.all());
    assert!(run.stderr.contains("`max_order_notional`"), "{}", run.all());
    assert!(run.stderr.contains("1000"), "{}", run.all());
    let listed = work.run(&["account", "list"]).ok();
    assert!(
        !listed.stdout.contains("ACC-CAP"),
        "a refused account must not be stored"
    );

    work.run(&["account", "add", "ACC-OK", "--max-order-notional", "900"])
        .ok();
}
