//! Over real HTTPS with the paper broker: the repeated-execution guard keeps
//! counting across a restart, seeded from the fills booked within its window.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::time::Duration;

use rampart_core::{AccountId, Role};
use rampart_server::config::execution_guard::ExecutionGuardConfig;
use rampart_testkit::identity::ApiClient;
use rampart_testkit::market::BTC;
use rampart_testkit::order;
use rampart_testkit::{TestGateway, generous_limits};
use serde_json::Value;

/// Fills that trip the guard in these tests.
const MAX_FILLS: u32 = 3;

async fn gateway() -> (TestGateway, AccountId, ApiClient) {
    let gw = TestGateway::start_with(|config| {
        config.risk.execution_guard = ExecutionGuardConfig {
            max_fills: MAX_FILLS,
            window_seconds: 60,
        };
    })
    .await;
    let account = gw.add_account(generous_limits()).await;
    let algo = gw.add_client(&[Role::Trader], &[&account]).await;
    (gw, account, algo)
}

async fn fill(gw: &TestGateway, account: &AccountId, algo: &ApiClient, count: u32) {
    let token = gw.token(algo).await;
    let body = order::market(account, BTC, "buy", "0.01");
    for _ in 0..count {
        let answer = gw.api().place(&token, &body).await;
        assert_eq!(answer.status_field(), "filled", "{}", answer.text);
    }
}

async fn engagements(gw: &TestGateway) -> Vec<Value> {
    let risk = gw.bearer(&[Role::RiskManager], &[]).await;
    let answer = gw.api().get("/v1/kill-switch", Some(&risk)).await;
    answer.assert_json(200)["engagements"]
        .as_array()
        .unwrap()
        .clone()
}

/// The guard's engagement, which runs in its own task once the tripping fill is recorded.
async fn tripped(gw: &TestGateway) -> Option<Value> {
    for _ in 0..30 {
        if let Some(found) = engagements(gw).await.pop() {
            return Some(found);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

#[tokio::test]
async fn fills_before_a_restart_and_after_it_trip_the_guard() {
    let (gw, account, algo) = gateway().await;
    fill(&gw, &account, &algo, MAX_FILLS - 1).await;
    assert!(
        engagements(&gw).await.is_empty(),
        "tripped before the threshold"
    );

    let gw = gw.restart().await;
    fill(&gw, &account, &algo, 1).await;
    let engagement = tripped(&gw).await.expect("the guard never engaged");
    assert_eq!(engagement["scope"], "client");
    assert_eq!(engagement["target"], algo.id.as_str());
    assert_eq!(engagement["engaged_by"], "system");
    gw.shutdown().await;
}

#[tokio::test]
async fn fills_older_than_the_window_are_not_seeded_at_a_restart() {
    let (gw, account, algo) = gateway().await;
    fill(&gw, &account, &algo, MAX_FILLS - 1).await;
    gw.clock().advance(chrono::Duration::seconds(61));

    let gw = gw.restart().await;
    fill(&gw, &account, &algo, 1).await;
    assert_eq!(
        tripped(&gw).await,
        None,
        "fills outside the window were counted"
    );
    gw.shutdown().await;
}

/// Starts a gateway on `gw`'s data directory that trips the guard at `MAX_FILLS`.
async fn start_tripping_at_max_fills(gw: &TestGateway) -> rampart_server::RunningGateway {
    let mut config = gw.config().clone();
    config.risk.execution_guard.max_fills = MAX_FILLS;
    rampart_server::Gateway::start_with_clock(config, gw.clock().clone())
        .await
        .expect("the gateway starts again")
}

/// The guard's `execution_guard.tripped` events for `client`, counted once `running`
/// has recorded one and shut down, so that a second record could not go unseen.
async fn recorded_trips(
    gw: &TestGateway,
    running: rampart_server::RunningGateway,
    client: &str,
) -> Vec<rampart_audit::AuditEvent> {
    let target = format!("client:{client}");
    let trips = || async {
        let events = gw.audit_events().await.into_iter();
        let trips = events.filter(|e| e.action == "execution_guard.tripped" && e.target == target);
        trips.collect::<Vec<_>>()
    };
    for _ in 0..30 {
        if !trips().await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    running.shutdown().await.unwrap();
    trips().await
}

/// Whether an engagement by the guard comes into force within a few seconds.
async fn guard_engages(gw: &TestGateway) -> bool {
    for _ in 0..20 {
        let active = gw
            .in_store(|store| async move { store.kill_switches(true).await })
            .await
            .unwrap();
        if active.iter().any(|k| k.engaged_by == "system") {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_trip_on_a_client_already_stopped_is_recorded_and_not_counted_again_at_a_restart() {
    let gw = TestGateway::start_with(|config| {
        config.risk.execution_guard = ExecutionGuardConfig {
            max_fills: MAX_FILLS + 10,
            window_seconds: 60,
        };
    })
    .await;
    let account = gw.add_account(generous_limits()).await;
    let algo = gw.add_client(&[Role::Trader], &[&account]).await;
    fill(&gw, &account, &algo, MAX_FILLS).await;
    let officer = gw.person(&[Role::ComplianceOfficer], &[]).await;
    let body = serde_json::json!({"scope": "client", "client_id": algo.id, "reason": "review"});
    let answer = gw
        .api()
        .post_json("/v1/kill-switch", Some(&officer.token), &body)
        .await;
    answer.assert_json(201);
    gw.shutdown().await;

    // With a lower threshold the seeded fills trip the guard on a client already stopped.
    let lowered = start_tripping_at_max_fills(&gw).await;
    let trips = recorded_trips(&gw, lowered, &algo.id).await;
    assert_eq!(trips.len(), 1, "the trip was not recorded once: {trips:?}");
    assert_eq!(trips[0].actor, "system");
    assert_eq!(trips[0].details["fills"], MAX_FILLS);
    assert_eq!(trips[0].details["already_engaged"], true);
    let tripped_at = trips[0].details["tripped_at"]
        .as_str()
        .expect("the trip's time");
    assert!(
        rampart_audit::time::parse(tripped_at).is_some(),
        "{tripped_at}"
    );

    gw.release_kill_switches("review over").await;
    let again = start_tripping_at_max_fills(&gw).await;
    assert!(
        !guard_engages(&gw).await,
        "the fills of the recorded trip were counted again"
    );
    again.shutdown().await.unwrap();
}
