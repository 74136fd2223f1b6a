//! Tests of the hash chain verifier: each kind of tampering is named at its first `seq`.

use super::*;
use crate::event::{NewEvent, Outcome};
use chrono::{TimeZone, Utc};
use serde_json::json;

fn event(seq: u64) -> AuditEvent {
    let time = Utc.timestamp_opt(1_764_000_000 + seq as i64, 0).unwrap();
    let new = NewEvent::new(
        format!("actor-{seq}"),
        "order.accepted",
        "ord",
        Outcome::Success,
        "r",
    )
    .details(json!({"n": seq}));
    AuditEvent::from_new(seq, time, new)
}

fn log(len: u64) -> Vec<StoredEvent> {
    let mut prev = GENESIS;
    (1..=len)
        .map(|seq| {
            let stored = StoredEvent::seal(event(seq), &prev);
            prev = stored.chain_hash;
            stored
        })
        .collect()
}

fn verify(events: &[StoredEvent]) -> Result<ChainHead, VerifyError> {
    let mut verifier = ChainVerifier::new();
    for stored in events {
        verifier.push(stored)?;
    }
    verifier.finish()
}

fn fault(seq: u64, fault: Fault) -> Result<ChainHead, VerifyError> {
    Err(VerifyError { seq, fault })
}

/// Gives the events from index `from` on the position before their own.
fn renumber_down(events: &mut [StoredEvent], from: usize) {
    for stored in &mut events[from..] {
        stored.event.seq -= 1;
    }
}

#[test]
fn an_intact_log_verifies_to_its_last_chain_hash() {
    let events = log(5);
    let head = verify(&events).unwrap();
    assert_eq!(
        head,
        ChainHead {
            events: 5,
            hash: events[4].chain_hash
        }
    );
}

#[test]
fn an_empty_log_verifies_to_genesis() {
    assert_eq!(
        verify(&[]),
        Ok(ChainHead {
            events: 0,
            hash: GENESIS
        })
    );
}

#[test]
fn a_changed_field_is_reported_as_changed_at_its_seq() {
    let mut events = log(5);
    events[2].event.outcome = Outcome::Failed;
    assert_eq!(verify(&events), fault(3, Fault::Changed));
}

#[test]
fn a_changed_event_with_a_recomputed_leaf_breaks_its_link() {
    let mut events = log(5);
    events[2].event.actor = "someone-else".into();
    events[2].leaf_hash = events[2].event.leaf_hash();
    assert_eq!(verify(&events), fault(3, Fault::BrokenLink));
}

#[test]
fn a_rewritten_event_and_chain_hash_breaks_the_next_link() {
    let mut events = log(5);
    events[2].event.target = "other".into();
    events[2] = StoredEvent::seal(events[2].event.clone(), &events[1].chain_hash);
    assert_eq!(verify(&events), fault(4, Fault::BrokenLink));
}

#[test]
fn a_deleted_event_is_reported_missing_at_the_gap() {
    let mut events = log(5);
    events.remove(2);
    assert_eq!(verify(&events), fault(3, Fault::Missing));
}

#[test]
fn a_deleted_event_with_later_events_renumbered_is_reported_missing() {
    let mut events = log(5);
    events.remove(2);
    renumber_down(&mut events, 2);
    assert_eq!(verify(&events), fault(3, Fault::Missing));
}

#[test]
fn deleting_and_renumbering_the_second_to_last_event_is_reported_missing() {
    let mut events = log(4);
    events.remove(2);
    renumber_down(&mut events, 2);
    assert_eq!(verify(&events), fault(3, Fault::Missing));
}

#[test]
fn an_event_fed_twice_is_reported_duplicated() {
    let mut events = log(3);
    events.push(events[2].clone());
    assert_eq!(verify(&events), fault(3, Fault::Duplicated));
}

#[test]
fn a_copy_of_the_previous_event_under_a_new_seq_is_reported_duplicated() {
    let mut events = log(3);
    let mut copy = events[2].clone();
    copy.event.seq = 4;
    events.push(copy);
    assert_eq!(verify(&events), fault(4, Fault::Duplicated));
}

#[test]
fn a_forged_event_inserted_with_valid_hashes_is_reported_inserted() {
    let mut events = log(5);
    let forged = StoredEvent::seal(
        AuditEvent {
            seq: 3,
            actor: "forger".into(),
            ..event(3)
        },
        &events[1].chain_hash,
    );
    for stored in &mut events[2..] {
        stored.event.seq += 1;
    }
    events.insert(2, forged);
    assert_eq!(verify(&events), fault(3, Fault::Inserted));
}

#[test]
fn two_swapped_events_are_reported_reordered() {
    let mut events = log(5);
    let (second, third) = (events[1].clone(), events[2].clone());
    events[1] = StoredEvent {
        event: AuditEvent {
            seq: 2,
            ..third.event
        },
        ..third
    };
    events[2] = StoredEvent {
        event: AuditEvent {
            seq: 3,
            ..second.event
        },
        ..second
    };
    assert_eq!(verify(&events), fault(2, Fault::Reordered));
}

#[test]
fn an_earlier_event_fed_again_later_is_reported_reordered() {
    let mut events = log(4);
    events.push(events[0].clone());
    assert_eq!(verify(&events), fault(1, Fault::Reordered));
}

#[test]
fn a_log_that_does_not_start_at_one_is_missing_its_first_event() {
    let events = log(3);
    assert_eq!(verify(&events[1..]), fault(1, Fault::Missing));
}

#[test]
fn a_lossy_integer_in_details_is_reported_changed() {
    let mut events = log(3);
    let mut lossy = events[1].event.clone();
    lossy.details = json!({"n": crate::event::MAX_SAFE_INTEGER + 2});
    events[1] = StoredEvent::seal(lossy, &events[0].chain_hash);
    assert_eq!(verify(&events), fault(2, Fault::Changed));
}

#[test]
fn chain_hashes_are_apart_from_merkle_node_hashes() {
    let (prev, leaf) = ([1u8; 32], [2u8; 32]);
    let mut node = Sha256::new();
    node.update([0x01]);
    node.update(prev);
    node.update(leaf);
    let node: [u8; 32] = node.finalize().into();
    assert_ne!(chain_hash(&prev, &leaf), node);
    assert_ne!(chain_hash(&prev, &leaf), chain_hash(&leaf, &prev));
}

#[test]
fn verify_error_names_the_seq_and_the_fault() {
    let error = VerifyError {
        seq: 42,
        fault: Fault::Missing,
    };
    assert_eq!(
        error.to_string(),
        "audit event 42 is missing: it was deleted from the log"
    );
}
