//! Over real HTTPS: a decision whose request is dropped still runs to its end.
//!
//! The decision waits for the store's writer; when the request times out
//! meanwhile, the decision goes on in its own task, so a refused decision
//! still leaves its `approval.refused` event once the writer is free.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::time::Duration;

use rampart_core::Role;
use rampart_testkit::TestGateway;
use serde_json::json;

#[tokio::test]
async fn a_refusal_is_recorded_though_its_request_timed_out_waiting_for_the_writer() {
    let gw = TestGateway::start_with(|config| config.server.request_timeout_seconds = 1).await;
    let proposer = gw.person(&[Role::Admin], &[]).await;
    let target = gw.person(&[Role::Admin], &[]).await;
    let path = format!("/v1/users/{}/reset-mfa", target.id());
    let proposed = gw
        .api()
        .post_json(&path, Some(&proposer.token), &json!({}))
        .await;
    let approval = proposed.assert_json(202)["approval"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (held, release) = tokio::sync::oneshot::channel::<()>();
    let (taken, writer_taken) = tokio::sync::oneshot::channel::<()>();
    let holder = gw.in_store(move |store| async move {
        let tx = store.begin().await?;
        taken.send(()).ok();
        release.await.ok();
        tx.commit().await
    });
    let decide = format!("/v1/approvals/{approval}/approve");
    let request = async {
        writer_taken.await.unwrap();
        let answer = gw
            .api()
            .post_json(&decide, Some(&target.token), &json!({}))
            .await;
        held.send(()).unwrap();
        answer
    };
    let (holder, answer) = tokio::join!(holder, request);
    holder.unwrap();
    assert_eq!(
        answer.status, 408,
        "the request outlived its timeout: {}",
        answer.text
    );

    let target_of = format!("approval:{approval}");
    let mut refusals = Vec::new();
    for _ in 0..50 {
        let events = gw.audit_events().await;
        refusals = events
            .into_iter()
            .filter(|e| e.action == "approval.refused" && e.target == target_of)
            .collect();
        if !refusals.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0].details["reason"], "target_side");
    assert_eq!(refusals[0].actor, target.id());
}
