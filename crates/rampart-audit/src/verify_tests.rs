use chrono::{TimeZone, Utc};

use super::*;
use crate::checkpoint::CheckpointSigner;
use crate::event::{AuditEvent, NewEvent, Outcome};
use crate::merkle;

fn log(n: u64) -> Vec<StoredEvent> {
    let mut prev = crate::chain::GENESIS;
    (1..=n)
        .map(|seq| {
            let time = Utc.timestamp_opt(1_767_000_000 + seq as i64, 0).unwrap();
            let new = NewEvent::new("client-1", "order.accepted", "ord", Outcome::Success, "r");
            let stored = StoredEvent::seal(AuditEvent::from_new(seq, time, new), &prev);
            prev = stored.chain_hash;
            stored
        })
        .collect()
}

fn checkpoint_of(events: &[StoredEvent], size: u64, second: i64) -> Checkpoint {
    let leaves: Vec<[u8; 32]> = events[..size as usize]
        .iter()
        .map(|e| e.leaf_hash)
        .collect();
    let time = Utc.timestamp_opt(1_768_000_000 + second, 0).unwrap();
    Checkpoint::new("rampart.test/audit", size, merkle::root(&leaves), time)
}

fn run(events: &[StoredEvent], checkpoints: &[Checkpoint]) -> Result<LogSummary, LogError> {
    let mut verifier = LogVerifier::new();
    for checkpoint in checkpoints {
        verifier.add_checkpoint(checkpoint.clone())?;
    }
    for event in events {
        verifier.push_stored(event)?;
    }
    verifier.finish()
}

#[test]
fn intact_log_matches_every_checkpoint() {
    let events = log(20);
    let checkpoints = [
        checkpoint_of(&events, 0, 0),
        checkpoint_of(&events, 7, 1),
        checkpoint_of(&events, 20, 2),
    ];
    let summary = run(&events, &checkpoints).unwrap();
    assert_eq!(summary.events, 20);
    assert_eq!(summary.checkpoints, 3);
    assert_eq!(summary.latest, Some(checkpoints[2].clone()));
    let leaves: Vec<_> = events.iter().map(|e| e.leaf_hash).collect();
    assert_eq!(summary.root_hash, merkle::root(&leaves));
    assert_eq!(summary.head_hash, Some(events[19].chain_hash));
}

#[test]
fn changed_event_is_named() {
    let mut events = log(10);
    events[4].event.target.push('x');
    let checkpoints = [checkpoint_of(&log(10), 10, 0)];
    let error = run(&events, &checkpoints).unwrap_err();
    assert!(
        matches!(error, LogError::Event(VerifyError { seq: 5, .. })),
        "{error}"
    );
}

#[test]
fn rehashed_rewrite_is_caught_by_the_checkpoint() {
    let original = log(10);
    let mut events = original.clone();
    events[3].event.actor = "someone-else".into();
    let mut prev = events[2].chain_hash;
    for event in &mut events[3..] {
        *event = StoredEvent::seal(event.event.clone(), &prev);
        prev = event.chain_hash;
    }
    let error = run(&events, &[checkpoint_of(&original, 8, 0)]).unwrap_err();
    assert_eq!(error, LogError::RootMismatch { tree_size: 8 });
}

#[test]
fn truncation_after_a_checkpoint_names_the_missing_range() {
    let events = log(12);
    let error = run(&events[..9], &[checkpoint_of(&events, 12, 0)]).unwrap_err();
    assert_eq!(error, LogError::Truncated { from: 10, to: 12 });
    assert!(error.to_string().contains("events 10 to 12 are missing"));
}

#[test]
fn truncation_past_a_checkpoint_and_a_stored_subtree_is_reported_as_truncation() {
    let events = log(600);
    let leaves: Vec<[u8; 32]> = events.iter().map(|e| e.leaf_hash).collect();
    let mut verifier = LogVerifier::new();
    verifier
        .add_checkpoint(checkpoint_of(&events, 600, 0))
        .unwrap();
    // The stored subtree over events 257 to 512 lies past the cut.
    verifier.expect_node(8, 1, merkle::root(&leaves[256..512]));
    for event in &events[..300] {
        verifier.push_stored(event).unwrap();
    }
    let error = verifier.finish().unwrap_err();
    assert_eq!(error, LogError::Truncated { from: 301, to: 600 });
}

#[test]
fn checkpoint_dated_before_a_smaller_one_is_inconsistent() {
    let events = log(6);
    let checkpoints = [checkpoint_of(&events, 3, 5), checkpoint_of(&events, 6, 1)];
    let error = run(&events, &checkpoints).unwrap_err();
    assert!(
        matches!(error, LogError::Inconsistent { tree_size: 6, .. }),
        "{error}"
    );
}

#[test]
fn two_checkpoints_of_one_size_with_different_roots_are_inconsistent() {
    let events = log(4);
    let mut forged = checkpoint_of(&events, 4, 1);
    forged.root_hash = [9; 32];
    let checkpoints = [checkpoint_of(&events, 4, 0), forged];
    assert!(matches!(
        run(&events, &checkpoints),
        Err(LogError::Inconsistent { tree_size: 4, .. })
    ));
}

#[test]
fn checkpoint_of_another_origin_is_inconsistent() {
    let events = log(4);
    let mut other = checkpoint_of(&events, 4, 1);
    other.origin = "elsewhere".into();
    let checkpoints = [checkpoint_of(&events, 2, 0), other];
    assert!(matches!(
        run(&events, &checkpoints),
        Err(LogError::Inconsistent { tree_size: 4, .. })
    ));
}

#[test]
fn leaves_must_come_in_order() {
    let mut verifier = LogVerifier::new();
    verifier.push_leaf(1, [1; 32]).unwrap();
    assert_eq!(
        verifier.push_leaf(3, [3; 32]),
        Err(LogError::OutOfOrder {
            expected: 2,
            found: 3
        })
    );
}

#[test]
fn forged_signature_names_the_checkpoint() {
    let events = log(3);
    let signer = CheckpointSigner::generate("rampart-audit").unwrap();
    let other = CheckpointSigner::generate("rampart-audit").unwrap();
    let good = signer.sign(&checkpoint_of(&events, 2, 0)).unwrap().text;
    let forged = other.sign(&checkpoint_of(&events, 3, 1)).unwrap().text;
    let mut verifier = LogVerifier::new();
    verifier.add_signed(&signer.verifier(), &good).unwrap();
    let error = verifier
        .add_signed(&signer.verifier(), &forged)
        .unwrap_err();
    assert!(
        matches!(error, LogError::Signature { index: 2, .. }),
        "{error}"
    );
}

#[test]
fn canonical_bytes_hash_to_the_event_leaf() {
    let events = log(3);
    let mut verifier = LogVerifier::new();
    for event in &events {
        let leaf = verifier
            .push_canonical(event.event.seq, &event.event.canonical_json())
            .unwrap();
        assert_eq!(leaf, event.leaf_hash);
    }
    assert_eq!(verifier.finish().unwrap().head_hash, None);
}
