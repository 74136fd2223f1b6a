//! Bad sizes, indexes and proofs get a typed error, never a panic or a false acceptance.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use proptest::prelude::*;
use rampart_audit::MerkleError;
use rampart_audit::merkle::{self, consistency_proof, inclusion_proof};
use rampart_audit::merkle::{verify_consistency, verify_inclusion};

fn leaves(n: usize) -> Vec<[u8; 32]> {
    (0..n)
        .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
        .collect()
}

#[test]
fn inclusion_proof_refuses_an_index_outside_the_tree() {
    let cases = [(0, 0), (5, 5), (5, 6), (5, u64::MAX)];
    for (size, index) in cases {
        let error = inclusion_proof(&leaves(size), index).unwrap_err();
        let tree_size = size as u64;
        assert_eq!(error, MerkleError::IndexOutOfRange { index, tree_size });
    }
}

#[test]
fn verify_inclusion_refuses_an_index_outside_the_tree() {
    let leaf = merkle::leaf_hash(b"a");
    for (index, tree_size) in [(0, 0), (3, 3), (u64::MAX, u64::MAX)] {
        let error = verify_inclusion(&leaf, index, tree_size, &[], &leaf).unwrap_err();
        assert_eq!(error, MerkleError::IndexOutOfRange { index, tree_size });
    }
}

#[test]
fn verify_inclusion_refuses_a_proof_one_hash_too_short_or_too_long() {
    let leaves = leaves(11);
    let root = merkle::root(&leaves);
    let proof = inclusion_proof(&leaves, 6).unwrap();
    let expected = proof.len();

    let short = &proof[..expected - 1];
    let long = [proof.clone(), vec![root]].concat();
    for (bad, actual) in [(short, expected - 1), (&long[..], expected + 1)] {
        let error = verify_inclusion(&leaves[6], 6, 11, bad, &root).unwrap_err();
        assert_eq!(error, MerkleError::ProofLength { expected, actual });
    }
}

#[test]
fn verify_inclusion_refuses_any_flipped_bit_in_any_proof_hash() {
    for size in 2..=24 {
        let leaves = leaves(size);
        let root = merkle::root(&leaves);
        for index in 0..size {
            let proof = inclusion_proof(&leaves, index as u64).unwrap();
            for position in 0..proof.len() {
                let mut tampered = proof.clone();
                tampered[position][31] ^= 0x80;
                let result =
                    verify_inclusion(&leaves[index], index as u64, size as u64, &tampered, &root);
                assert_eq!(
                    result,
                    Err(MerkleError::RootMismatch),
                    "size {size}, index {index}"
                );
            }
        }
    }
}

#[test]
fn verify_inclusion_refuses_a_valid_proof_for_another_leaf_index_or_size() {
    let leaves = leaves(13);
    let root = merkle::root(&leaves);
    let proof = inclusion_proof(&leaves, 4).unwrap();
    verify_inclusion(&leaves[4], 4, 13, &proof, &root).unwrap();

    assert!(verify_inclusion(&leaves[5], 4, 13, &proof, &root).is_err());
    assert!(verify_inclusion(&leaves[4], 5, 13, &proof, &root).is_err());
    let error = verify_inclusion(&leaves[4], 4, 8, &proof, &root).unwrap_err();
    assert_eq!(
        error,
        MerkleError::ProofLength {
            expected: 3,
            actual: 4
        }
    );
    assert!(verify_inclusion(&leaves[4], 4, 13, &proof, &merkle::root(&leaves[..12])).is_err());
}

#[test]
fn consistency_proof_refuses_an_empty_or_larger_old_tree() {
    let leaves = leaves(6);
    assert_eq!(
        consistency_proof(&leaves, 0),
        Err(MerkleError::EmptyOldTree)
    );
    assert_eq!(consistency_proof(&[], 0), Err(MerkleError::EmptyOldTree));
    let too_large = MerkleError::OldSizeTooLarge {
        old_size: 7,
        new_size: 6,
    };
    assert_eq!(consistency_proof(&leaves, 7), Err(too_large));
    let huge = MerkleError::OldSizeTooLarge {
        old_size: u64::MAX,
        new_size: 6,
    };
    assert_eq!(consistency_proof(&leaves, u64::MAX), Err(huge));
}

#[test]
fn consistency_proof_between_equal_sizes_is_empty_and_verifies() {
    let leaves = leaves(9);
    let root = merkle::root(&leaves);
    assert_eq!(
        consistency_proof(&leaves, 9).unwrap(),
        Vec::<[u8; 32]>::new()
    );
    verify_consistency(9, 9, &root, &root, &[]).unwrap();
}

#[test]
fn verify_consistency_refuses_equal_sizes_with_different_roots_or_a_proof() {
    let leaves = leaves(9);
    let (old, new) = (merkle::root(&leaves[..8]), merkle::root(&leaves));
    assert_eq!(
        verify_consistency(9, 9, &old, &new, &[]),
        Err(MerkleError::NewRootMismatch)
    );
    let error = verify_consistency(9, 9, &new, &new, &[new]).unwrap_err();
    assert_eq!(
        error,
        MerkleError::ProofLength {
            expected: 0,
            actual: 1
        }
    );
}

#[test]
fn verify_consistency_refuses_an_empty_or_larger_old_tree() {
    let root = merkle::root(&leaves(3));
    let empty = merkle::empty_root();
    assert_eq!(
        verify_consistency(0, 0, &empty, &empty, &[]),
        Err(MerkleError::EmptyOldTree)
    );
    assert_eq!(
        verify_consistency(0, 3, &empty, &root, &[]),
        Err(MerkleError::EmptyOldTree)
    );
    let too_large = MerkleError::OldSizeTooLarge {
        old_size: 4,
        new_size: 3,
    };
    assert_eq!(verify_consistency(4, 3, &root, &root, &[]), Err(too_large));
}

#[test]
fn verify_consistency_refuses_a_proof_one_hash_too_short_or_too_long() {
    let leaves = leaves(7);
    let (old, new) = (merkle::root(&leaves[..3]), merkle::root(&leaves));
    let proof = consistency_proof(&leaves, 3).unwrap();
    let expected = proof.len();

    let long = [proof.clone(), vec![new]].concat();
    for (bad, actual) in [
        (&proof[..expected - 1], expected - 1),
        (&long[..], expected + 1),
    ] {
        let error = verify_consistency(3, 7, &old, &new, bad).unwrap_err();
        assert_eq!(error, MerkleError::ProofLength { expected, actual });
    }
}

#[test]
fn verify_consistency_refuses_any_flipped_bit_or_swapped_roots() {
    for new_size in 2..=24_u64 {
        let leaves = leaves(new_size as usize);
        let new = merkle::root(&leaves);
        for old_size in 1..new_size {
            let old = merkle::root(&leaves[..old_size as usize]);
            let proof = consistency_proof(&leaves, old_size).unwrap();
            verify_consistency(old_size, new_size, &old, &new, &proof).unwrap();

            for position in 0..proof.len() {
                let mut tampered = proof.clone();
                tampered[position][0] ^= 1;
                assert!(verify_consistency(old_size, new_size, &old, &new, &tampered).is_err());
            }
            assert!(verify_consistency(old_size, new_size, &new, &old, &proof).is_err());
        }
    }
}

#[test]
fn verify_consistency_names_the_old_root_when_only_it_is_wrong() {
    // An old size that is not a power of two, so the old root is recomputed, not assumed.
    let leaves = leaves(10);
    let (old, new) = (merkle::root(&leaves[..6]), merkle::root(&leaves));
    let proof = consistency_proof(&leaves, 6).unwrap();
    let mut wrong_old = old;
    wrong_old[0] ^= 1;

    let error = verify_consistency(6, 10, &wrong_old, &new, &proof).unwrap_err();
    assert_eq!(error, MerkleError::OldRootMismatch);
}

#[test]
fn a_leaf_over_two_hashes_never_equals_the_node_over_them() {
    let leaves = leaves(2);
    let node = merkle::node_hash(&leaves[0], &leaves[1]);
    assert_ne!(merkle::leaf_hash(&leaves.concat()), node);
    assert_ne!(
        merkle::leaf_hash(&[&[0x01][..], &leaves.concat()].concat()),
        node
    );
    assert_eq!(merkle::root(&leaves), node);
}

#[test]
fn error_messages_are_lowercase_without_a_trailing_period() {
    let errors = [
        MerkleError::IndexOutOfRange {
            index: 1,
            tree_size: 1,
        },
        MerkleError::OldSizeTooLarge {
            old_size: 2,
            new_size: 1,
        },
        MerkleError::EmptyOldTree,
        MerkleError::ProofLength {
            expected: 1,
            actual: 2,
        },
        MerkleError::RootMismatch,
        MerkleError::OldRootMismatch,
        MerkleError::NewRootMismatch,
        MerkleError::TreeFull,
    ];
    for error in errors {
        let message = error.to_string();
        assert!(
            message.starts_with(|c: char| !c.is_uppercase()),
            "{message}"
        );
        assert!(!message.ends_with('.'), "{message}");
    }
}

fn hashes(max: usize) -> impl Strategy<Value = Vec<[u8; 32]>> {
    proptest::collection::vec(any::<[u8; 32]>(), 0..max)
}

proptest! {
    #[test]
    fn verify_inclusion_refuses_arbitrary_proofs_without_panicking(
        leaf in any::<[u8; 32]>(),
        root in any::<[u8; 32]>(),
        index in any::<u64>(),
        tree_size in prop_oneof![0..70_u64, any::<u64>()],
        proof in hashes(70),
    ) {
        prop_assume!(leaf != root);
        prop_assert!(verify_inclusion(&leaf, index, tree_size, &proof, &root).is_err());
    }

    #[test]
    fn verify_consistency_refuses_arbitrary_proofs_without_panicking(
        old_root in any::<[u8; 32]>(),
        new_root in any::<[u8; 32]>(),
        old_size in prop_oneof![0..70_u64, any::<u64>()],
        new_size in prop_oneof![0..70_u64, any::<u64>()],
        proof in hashes(70),
    ) {
        prop_assume!(old_root != new_root);
        let result = verify_consistency(old_size, new_size, &old_root, &new_root, &proof);
        prop_assert!(result.is_err());
    }

    #[test]
    fn proof_builders_never_panic_on_any_index_or_size(
        size in 0..40_usize,
        index in prop_oneof![0..45_u64, any::<u64>()],
    ) {
        let leaves = leaves(size);
        let inclusion = inclusion_proof(&leaves, index);
        prop_assert_eq!(inclusion.is_ok(), index < size as u64);
        let consistency = consistency_proof(&leaves, index);
        prop_assert_eq!(consistency.is_ok(), index >= 1 && index <= size as u64);
    }
}
