//! The streaming accumulator agrees with the whole-list Merkle Tree Hash.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::{TimeZone, Utc};
use rampart_audit::merkle;
use rampart_audit::{AuditEvent, MerkleAccumulator, NewEvent, Outcome, action};
use serde_json::json;

fn leaves(n: usize) -> Vec<[u8; 32]> {
    (0..n)
        .map(|i| merkle::leaf_hash(format!("leaf {i}").as_bytes()))
        .collect()
}

fn event(seq: u64) -> AuditEvent {
    let time = Utc
        .timestamp_opt(1_764_000_000 + i64::try_from(seq).unwrap(), 123_000)
        .unwrap();
    let new = NewEvent::new(
        "client-7",
        action::ORDER_ACCEPTED,
        "ACC-1",
        Outcome::Success,
        "r",
    )
    .details(json!({ "seq_hint": seq }));
    AuditEvent::from_new(seq, time, new)
}

#[test]
fn accumulator_root_equals_the_tree_root_for_every_size_up_to_seventy() {
    let leaves = leaves(70);
    let mut accumulator = MerkleAccumulator::new();
    assert_eq!(accumulator.root(), merkle::root(&[]));

    for size in 1..=leaves.len() {
        accumulator.push(leaves[size - 1]).unwrap();
        assert_eq!(accumulator.len(), size as u64);
        assert_eq!(
            accumulator.root(),
            merkle::root(&leaves[..size]),
            "size {size}"
        );
    }
}

#[test]
fn accumulator_keeps_one_hash_per_set_bit_of_its_size() {
    let mut accumulator = MerkleAccumulator::new();

    for (size, leaf) in (1_u64..).zip(leaves(1_100)) {
        accumulator.push(leaf).unwrap();
        assert_eq!(
            accumulator.peaks().len(),
            size.count_ones() as usize,
            "size {size}"
        );
    }
}

#[test]
fn accumulator_peaks_are_the_roots_of_the_perfect_subtrees() {
    let leaves = leaves(13);
    let mut accumulator = MerkleAccumulator::new();
    for leaf in &leaves {
        accumulator.push(*leaf).unwrap();
    }

    // 13 = 8 + 4 + 1.
    let expected = [
        merkle::root(&leaves[..8]),
        merkle::root(&leaves[8..12]),
        merkle::root(&leaves[12..]),
    ];
    assert_eq!(accumulator.peaks(), expected);
}

#[test]
fn accumulator_over_audit_events_matches_the_root_of_their_leaf_hashes() {
    let events: Vec<AuditEvent> = (1..=37).map(event).collect();
    let hashes: Vec<[u8; 32]> = events.iter().map(AuditEvent::leaf_hash).collect();
    let mut accumulator = MerkleAccumulator::new();
    for hash in &hashes {
        accumulator.push(*hash).unwrap();
    }

    assert_eq!(accumulator.root(), merkle::root(&hashes));
}

#[test]
fn event_leaf_hash_is_the_merkle_leaf_hash_of_its_canonical_json() {
    for seq in 1..=5 {
        let event = event(seq);
        assert_eq!(
            event.leaf_hash(),
            merkle::leaf_hash(&event.canonical_json())
        );
    }
}

#[test]
fn new_accumulator_is_empty_and_grows_with_each_push() {
    let mut accumulator = MerkleAccumulator::new();
    assert!(accumulator.is_empty());
    assert!(accumulator.peaks().is_empty());

    accumulator.push(leaves(1)[0]).unwrap();
    assert!(!accumulator.is_empty());
    assert_eq!(accumulator.len(), 1);
}

#[test]
fn changing_one_leaf_changes_the_accumulated_root() {
    let original = leaves(21);
    let build = |leaves: &[[u8; 32]]| {
        let mut accumulator = MerkleAccumulator::new();
        leaves
            .iter()
            .for_each(|leaf| accumulator.push(*leaf).unwrap());
        accumulator.root()
    };

    for index in 0..original.len() {
        let mut changed = original.clone();
        changed[index][0] ^= 1;
        assert_ne!(build(&changed), build(&original), "leaf {index}");
    }
}

#[test]
fn every_completed_subtree_is_visited_with_the_hash_of_its_leaves() {
    let all = leaves(70);
    let mut tree = MerkleAccumulator::new();
    let mut visited = Vec::new();
    for leaf in &all {
        tree.push_visiting(*leaf, |level, index, hash| {
            visited.push((level, index, *hash));
        })
        .unwrap();
    }
    // 35 subtrees of 2, 17 of 4, 8 of 8, 4 of 16, 2 of 32 and 1 of 64.
    assert_eq!(visited.len(), 35 + 17 + 8 + 4 + 2 + 1);
    for (level, index, hash) in visited {
        let width = 1usize << level;
        let start = usize::try_from(index).unwrap() * width;
        assert_eq!(
            hash,
            merkle::root(&all[start..start + width]),
            "{level}/{index}"
        );
    }
}
