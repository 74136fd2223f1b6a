//! Over real HTTPS: a decision reads the clock once the store's writer is held.
//!
//! While a second connection holds the database's write lock, a decision
//! waits; an approval that lapses during that wait is refused as closed when
//! the decision finally runs, rather than being approved as of the moment the
//! request arrived.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::time::Duration;

use rampart_core::Role;
use rampart_testkit::{TestGateway, generous_limits};
use serde_json::json;
use tokio::sync::oneshot;

/// How long the test holds the write lock after the decision was sent; well within the
/// store's five-second busy timeout.
const HOLD: Duration = Duration::from_millis(1000);

#[tokio::test]
async fn an_approval_that_lapses_while_its_decision_waits_for_the_writer_is_refused_as_closed() {
    let gw = TestGateway::start_with(|config| config.risk.approval_ttl_hours = 1).await;
    let account = gw.add_account(generous_limits()).await;
    let proposer = gw.person(&[Role::RiskManager], &[&account]).await;
    let approver = gw.person(&[Role::RiskManager], &[&account]).await;
    let body = json!({ "changes": { "price_collar_pct": "45" }, "reason": "wider" });
    let path = format!("/v1/accounts/{account}/risk-limits/changes");
    let proposed = gw
        .api()
        .post_json(&path, Some(&proposer.token), &body)
        .await;
    let approval = proposed.assert_json(202)["approval"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Just short of the expiry, with a token fresh enough to outlive the last two minutes.
    gw.clock().advance(chrono::Duration::minutes(59));
    let token = gw.sign_in_again(&approver).await;

    let (held, is_held) = oneshot::channel::<()>();
    let (release, released) = oneshot::channel::<()>();
    let holding = gw.in_store(move |store| async move {
        // `begin` takes the database's write lock (`BEGIN IMMEDIATE`) and keeps it.
        let tx = store.begin().await?;
        held.send(()).unwrap();
        released.await.unwrap();
        tx.rollback().await
    });
    let deciding = async {
        is_held.await.unwrap();
        let path = format!("/v1/approvals/{approval}/approve");
        let (api, empty) = (gw.api(), json!({}));
        let answer = api.post_json(&path, Some(&token), &empty);
        let lapse = async {
            tokio::time::sleep(HOLD).await;
            gw.clock().advance(chrono::Duration::minutes(2));
            release.send(()).unwrap();
        };
        tokio::join!(answer, lapse).0
    };
    let (held, answer) = tokio::join!(holding, deciding);
    held.unwrap();

    answer.assert_problem(409, "approval.closed");
    let target = format!("approval:{approval}");
    let events = gw.audit_events().await;
    let refused: Vec<_> = events
        .iter()
        .filter(|e| e.action == "approval.refused" && e.target == target)
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].details["reason"], "closed");
    let limits = format!("/v1/accounts/{account}/risk-limits");
    let token = gw.sign_in_again(&proposer).await;
    let current = gw.api().get(&limits, Some(&token)).await;
    assert_ne!(
        current.assert_json(200)["limits"]["price_collar_pct"],
        "45",
        "the lapsed change was applied"
    );
    gw.shutdown().await;
}
