//! Over real HTTPS: reading the audit log and checking its proofs as an outsider would,
//! with only the published checkpoint key and RFC 9162 verification.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_audit::merkle::{verify_consistency, verify_inclusion};
use rampart_audit::{AuditEvent, action};
use rampart_core::Role;
use rampart_testkit::audit::{hash, hashes};
use rampart_testkit::market::BTC;
use rampart_testkit::order;
use rampart_testkit::{TestGateway, generous_limits};
use serde_json::Value;

async fn gateway() -> TestGateway {
    TestGateway::start_with(|c| c.audit.checkpoint_every_seconds = 1).await
}

/// Places `n` orders so that the log holds events of several actions.
async fn trade(gw: &TestGateway, n: usize) {
    let account = gw.add_account(generous_limits()).await;
    let client = gw.add_client(&[Role::Trader], &[&account]).await;
    let token = gw.token(&client).await;
    let api = gw.api();
    for _ in 0..n {
        api.place(&token, &order::market(&account, BTC, "buy", "0.1"))
            .await
            .assert_json(201);
    }
}

/// Every page of `/v1/audit/events?<query>`, following the cursors.
async fn all_pages(gw: &TestGateway, token: &str, query: &str) -> (Vec<AuditEvent>, usize) {
    let api = gw.api();
    let (mut events, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/audit/events?{query}&cursor={c}"),
            None => format!("/v1/audit/events?{query}"),
        };
        let answer = api.get(&path, Some(token)).await;
        let body = answer.assert_json(200);
        let page: Vec<AuditEvent> = serde_json::from_value(body["events"].clone()).unwrap();
        events.extend(page);
        pages += 1;
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (events, pages),
        }
    }
}

#[tokio::test]
async fn auditor_pages_through_one_action_and_sees_exactly_the_stored_events() {
    let gw = gateway().await;
    trade(&gw, 5).await;
    let auditor = gw.bearer(&[Role::Auditor], &[]).await;
    let expected: Vec<AuditEvent> = gw
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.action == action::ORDER_ACCEPTED)
        .collect();
    assert_eq!(expected.len(), 5);

    let (events, pages) = all_pages(&gw, &auditor, "action=order.accepted&limit=2").await;
    assert_eq!(events, expected);
    assert_eq!(pages, 3, "pages of 2, 2 and 1");
}

#[tokio::test]
async fn filters_by_actor_outcome_and_time_range_combine() {
    let gw = gateway().await;
    let before = rampart_audit::time::to_micros(chrono::Utc::now());
    trade(&gw, 2).await;
    let officer = gw.bearer(&[Role::ComplianceOfficer], &[]).await;
    let stored = gw.audit_events().await;
    let trader = stored
        .iter()
        .find(|e| e.action == action::ORDER_ACCEPTED)
        .unwrap()
        .actor
        .clone();
    let from = rampart_audit::time::format(&before);
    let query = format!("actor={trader}&outcome=success&from={from}");
    let (events, _) = all_pages(&gw, &officer, &query).await;
    let expected: Vec<AuditEvent> = stored
        .into_iter()
        .filter(|e| e.actor == trader && e.outcome.as_str() == "success" && e.time >= before)
        .collect();
    assert!(expected.len() >= 3, "token and two orders");
    assert_eq!(events, expected);
}

#[tokio::test]
async fn every_read_of_the_log_is_itself_recorded_with_the_reader() {
    let gw = gateway().await;
    let client = gw.add_client(&[Role::Auditor], &[]).await;
    let token = gw.token(&client).await;
    gw.api()
        .get("/v1/audit/events?action=order.accepted", Some(&token))
        .await
        .assert_json(200);
    let reads: Vec<AuditEvent> = gw
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.action == "audit.read")
        .collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].actor, client.id);
    assert_eq!(reads[0].details["filter"]["action"], "order.accepted");
    assert_eq!(reads[0].details["read"], "events");
}

#[tokio::test]
async fn traders_and_anonymous_callers_cannot_read_the_log_or_its_proofs() {
    let gw = gateway().await;
    let (_, trader) = gw.trader().await;
    let api = gw.api();
    for path in [
        "/v1/audit/events",
        "/v1/audit/checkpoints/latest",
        "/v1/audit/proofs/inclusion?seq=1",
        "/v1/audit/proofs/consistency?from=1&to=2",
    ] {
        api.get(path, Some(&trader))
            .await
            .assert_problem(403, "policy.denied");
        api.get(path, None)
            .await
            .assert_problem(401, "auth.missing_token");
    }
}

#[tokio::test]
async fn bad_query_parameters_get_a_problem_naming_the_field() {
    let gw = gateway().await;
    let auditor = gw.bearer(&[Role::Auditor], &[]).await;
    let api = gw.api();
    for (query, field) in [
        ("/v1/audit/events?from=yesterday", "from"),
        ("/v1/audit/events?outcome=won", "outcome"),
        ("/v1/audit/events?limit=0", "limit"),
        ("/v1/audit/events?cursor=not-a-cursor", "cursor"),
        ("/v1/audit/proofs/inclusion", "seq"),
        ("/v1/audit/proofs/inclusion?seq=-1", "seq"),
        ("/v1/audit/proofs/consistency?from=3&to=2", "from"),
    ] {
        let answer = api.get(query, Some(&auditor)).await;
        answer.assert_problem(400, "request.invalid");
        assert_eq!(
            answer.member("field"),
            Some(field),
            "{query}: {}",
            answer.text
        );
    }
    let unknown = api.get("/v1/audit/events?sort=desc", Some(&auditor)).await;
    assert_eq!(unknown.status, 400, "{}", unknown.text);
}

#[tokio::test]
async fn latest_checkpoint_is_signed_by_the_published_key_in_both_forms() {
    let gw = gateway().await;
    trade(&gw, 1).await;
    let auditor = gw.bearer(&[Role::Auditor], &[]).await;
    let api = gw.api();
    let size = gw.audit_events().await.len() as u64;
    let json = gw.checkpoint_covering(&api, &auditor, size).await;

    let verified = gw
        .checkpoint_verifier()
        .verify(json["text"].as_str().unwrap())
        .unwrap();
    assert_eq!(verified.tree_size, json["tree_size"].as_u64().unwrap());
    assert_eq!(verified.root_hash, hash(&json["root_hash"]));
    assert_eq!(json["key_name"], "rampart-audit");

    let text = api
        .request(
            reqwest::Method::GET,
            "/v1/audit/checkpoints/latest",
            Some(&auditor),
        )
        .header("accept", "text/plain");
    let text = rampart_testkit::Answer::of(text).await;
    assert_eq!(text.status, 200);
    assert!(text.media_type().starts_with("text/plain"));
    gw.checkpoint_verifier().verify(&text.text).unwrap();
}

#[tokio::test]
async fn inclusion_proof_of_every_event_verifies_against_the_signed_root() {
    let gw = gateway().await;
    trade(&gw, 2).await;
    let auditor = gw.bearer(&[Role::Auditor], &[]).await;
    let api = gw.api();
    let events = gw.audit_events().await;
    let checkpoint = gw
        .checkpoint_covering(&api, &auditor, events.len() as u64)
        .await;
    let size = checkpoint["tree_size"].as_u64().unwrap();
    let root = gw
        .checkpoint_verifier()
        .verify(checkpoint["text"].as_str().unwrap())
        .unwrap()
        .root_hash;

    for event in events.iter().take(usize::try_from(size).unwrap()) {
        let path = format!(
            "/v1/audit/proofs/inclusion?seq={}&tree_size={size}",
            event.seq
        );
        let proof = api.get(&path, Some(&auditor)).await;
        let proof = proof.assert_json(200);
        let leaf = hash(&proof["leaf_hash"]);
        assert_eq!(leaf, event.leaf_hash(), "the leaf is the event's own hash");
        assert_eq!(proof["leaf_index"].as_u64(), Some(event.seq - 1));
        verify_inclusion(&leaf, event.seq - 1, size, &hashes(&proof["path"]), &root)
            .unwrap_or_else(|e| panic!("event {} does not verify: {e}", event.seq));
    }
}

#[tokio::test]
async fn tree_size_that_was_never_checkpointed_is_refused() {
    let gw = gateway().await;
    trade(&gw, 1).await;
    let auditor = gw.bearer(&[Role::Auditor], &[]).await;
    let api = gw.api();
    let checkpoint = gw.checkpoint_covering(&api, &auditor, 2).await;
    let size = checkpoint["tree_size"].as_u64().unwrap();
    let path = format!("/v1/audit/proofs/inclusion?seq=1&tree_size={}", size + 1000);
    let answer = api.get(&path, Some(&auditor)).await;
    answer.assert_problem(400, "request.invalid");
    assert_eq!(answer.member("field"), Some("tree_size"));
}

#[tokio::test]
async fn consistency_proof_links_an_older_checkpoint_to_a_newer_one() {
    let gw = gateway().await;
    let auditor = gw.bearer(&[Role::Auditor], &[]).await;
    let api = gw.api();
    let first = gw.checkpoint_covering(&api, &auditor, 1).await;
    trade(&gw, 2).await;
    let target = gw.audit_events().await.len() as u64;
    let second = gw.checkpoint_covering(&api, &auditor, target).await;
    let verifier = gw.checkpoint_verifier();
    let old = verifier.verify(first["text"].as_str().unwrap()).unwrap();
    let new = verifier.verify(second["text"].as_str().unwrap()).unwrap();
    assert!(new.tree_size > old.tree_size);

    let path = format!(
        "/v1/audit/proofs/consistency?from={}&to={}",
        old.tree_size, new.tree_size
    );
    let proof = api.get(&path, Some(&auditor)).await;
    let proof: &Value = proof.assert_json(200);
    let path = hashes(&proof["path"]);
    verify_consistency(
        old.tree_size,
        new.tree_size,
        &old.root_hash,
        &new.root_hash,
        &path,
    )
    .unwrap();
    let mut forged = path.clone();
    forged[0][0] ^= 1;
    assert!(
        verify_consistency(
            old.tree_size,
            new.tree_size,
            &old.root_hash,
            &new.root_hash,
            &forged
        )
        .is_err()
    );
}

#[tokio::test]
async fn graceful_shutdown_signs_a_final_checkpoint_covering_the_stop_event() {
    let gw = TestGateway::start().await;
    trade(&gw, 1).await;
    gw.shutdown().await;
    let events = gw.audit_events().await;
    assert_eq!(events.last().unwrap().action, action::GATEWAY_STOPPED);
    let exported = gw.data_dir().join("audit-checkpoints");
    let name = format!("{:020}.checkpoint", events.len());
    let text = std::fs::read_to_string(exported.join(&name))
        .unwrap_or_else(|e| panic!("no exported checkpoint {name}: {e}"));
    let checkpoint = gw.checkpoint_verifier().verify(&text).unwrap();
    assert_eq!(checkpoint.tree_size, events.len() as u64);
}
