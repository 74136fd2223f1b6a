//! `rampart demo`: a short run through a live in-process gateway.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod support;

use support::Workdir;

#[test]
fn short_demo_fills_rejects_halts_resumes_and_verifies() {
    let work = Workdir::new();
    let run = work.run(&["demo", "--orders", "12"]).ok();
    let out = &run.stdout;
    assert!(out.contains("filled at"), "no fill shown:\n{}", run.all());
    assert!(out.contains("REJECTED risk.price_collar"), "{}", run.all());
    assert!(
        out.contains("REJECTED risk.max_order_notional"),
        "{}",
        run.all()
    );
    assert!(out.contains("REJECTED risk.kill_switch"), "{}", run.all());
    assert!(out.contains("released"), "{}", run.all());
    assert!(out.contains("audit log verified"), "{}", run.all());
    assert!(!out.contains("FAILED"), "{}", run.all());

    let resumed = out
        .split("▶ 5.")
        .nth(1)
        .and_then(|rest| rest.split("▶ 6.").next())
        .unwrap();
    assert!(
        resumed.contains("✓"),
        "no order accepted after the release:\n{}",
        run.all()
    );
    assert!(
        !work.data_dir().exists(),
        "the demo must not touch ./rampart-data"
    );
}
