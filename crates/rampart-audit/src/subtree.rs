//! RFC 9162 roots and proofs built from the hashes of perfect subtrees, not from every leaf.
//!
//! Every hash in an inclusion or consistency proof, and the root itself, is the hash of a
//! run of leaves that the RFC 9162 recursion splits at powers of two. Such a run is made of
//! at most one perfect subtree per level, each aligned to its own size, so a proof needs
//! O(log n) [`Subtree`] hashes, fetched from wherever the caller keeps them (stored nodes
//! of complete subtrees, a block of leaves). The shape of a proof depends only on the
//! sizes, so [`needed_for_inclusion`] and [`needed_for_consistency`] list the subtrees to
//! fetch before the proof is built from them.
//!
//! It upholds that these proofs are the proofs of [`crate::merkle`] over the same leaves,
//! which the tests hold for every size and index of small trees.

use std::collections::BTreeMap;

use crate::merkle::{MerkleError, empty_root, node_hash};

/// The perfect subtree of `2^level` leaves starting at leaf `index << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subtree {
    /// The height: the subtree holds `2^level` leaves.
    pub level: u32,
    /// Its position among the subtrees of its level.
    pub index: u64,
}

impl Subtree {
    /// The leaf indexes the subtree covers, as `start..end`.
    pub fn leaves(&self) -> std::ops::Range<u64> {
        let start = self.index << self.level;
        start..start + (1u64 << self.level)
    }
}

/// Subtree hashes fetched for one proof.
pub type Subtrees = BTreeMap<Subtree, [u8; 32]>;

/// The root of the tree of `tree_size` leaves.
pub fn root(tree_size: u64, hashes: &Subtrees) -> [u8; 32] {
    if tree_size == 0 {
        return empty_root();
    }
    range_hash(0, tree_size, &mut |s| lookup(hashes, s))
}

/// The subtrees [`root`] reads for a tree of `tree_size` leaves.
pub fn needed_for_root(tree_size: u64) -> Vec<Subtree> {
    record(|node| {
        if tree_size > 0 {
            range_hash(0, tree_size, node);
        }
    })
}

/// The inclusion proof of leaf `index` in the tree of `tree_size` leaves (RFC 9162 §2.1.3).
pub fn inclusion_proof(
    index: u64,
    tree_size: u64,
    hashes: &Subtrees,
) -> Result<Vec<[u8; 32]>, MerkleError> {
    if index >= tree_size {
        return Err(MerkleError::IndexOutOfRange { index, tree_size });
    }
    Ok(path(index, tree_size, &mut |s| lookup(hashes, s)))
}

/// The subtrees [`inclusion_proof`] reads.
pub fn needed_for_inclusion(index: u64, tree_size: u64) -> Vec<Subtree> {
    record(|node| {
        if index < tree_size {
            path(index, tree_size, node);
        }
    })
}

/// The proof that the tree of `old_size` leaves is a prefix of the tree of `new_size`
/// leaves (RFC 9162 §2.1.4).
pub fn consistency_proof(
    old_size: u64,
    new_size: u64,
    hashes: &Subtrees,
) -> Result<Vec<[u8; 32]>, MerkleError> {
    if old_size > new_size {
        return Err(MerkleError::OldSizeTooLarge { old_size, new_size });
    }
    if old_size == 0 {
        return Err(MerkleError::EmptyOldTree);
    }
    Ok(subproof(old_size, new_size, &mut |s| lookup(hashes, s)))
}

/// The subtrees [`consistency_proof`] reads.
pub fn needed_for_consistency(old_size: u64, new_size: u64) -> Vec<Subtree> {
    record(|node| {
        if 0 < old_size && old_size <= new_size {
            subproof(old_size, new_size, node);
        }
    })
}

/// The hash of a subtree fetched for the proof; one never fetched reads as zeros, which
/// yields a proof that does not verify rather than a panic.
fn lookup(hashes: &Subtrees, subtree: Subtree) -> [u8; 32] {
    hashes.get(&subtree).copied().unwrap_or([0; 32])
}

/// Runs `walk` with a node source that records what it is asked for.
fn record(walk: impl FnOnce(&mut dyn FnMut(Subtree) -> [u8; 32])) -> Vec<Subtree> {
    let mut asked = Vec::new();
    walk(&mut |s| {
        asked.push(s);
        [0; 32]
    });
    asked.sort_unstable();
    asked.dedup();
    asked
}

/// The largest power of two below `n` (for `n` of at least 2).
fn split_point(n: u64) -> u64 {
    1u64 << (n - 1).ilog2()
}

/// The Merkle Tree Hash of leaves `start..end` (non-empty), as the recursion splits them.
///
/// INVARIANT: `start` is a multiple of the largest power of two not above `end - start`,
/// which holds for every run the RFC 9162 recursion makes.
fn range_hash(start: u64, end: u64, node: &mut dyn FnMut(Subtree) -> [u8; 32]) -> [u8; 32] {
    let n = end - start;
    if n.is_power_of_two() {
        let level = n.trailing_zeros();
        return node(Subtree {
            level,
            index: start >> level,
        });
    }
    let k = split_point(n);
    let left = range_hash(start, start + k, node);
    let right = range_hash(start + k, end, node);
    node_hash(&left, &right)
}

/// RFC 9162 PATH(index, D[0:size]), siblings from the leaf up.
fn path(index: u64, size: u64, node: &mut dyn FnMut(Subtree) -> [u8; 32]) -> Vec<[u8; 32]> {
    let (mut start, mut end) = (0, size);
    let mut siblings = Vec::new();
    while end - start > 1 {
        let k = split_point(end - start);
        if index < start + k {
            siblings.push(range_hash(start + k, end, node));
            end = start + k;
        } else {
            siblings.push(range_hash(start, start + k, node));
            start += k;
        }
    }
    siblings.reverse();
    siblings
}

/// RFC 9162 PROOF(old, D[0:new]) = SUBPROOF(old, D[0:new], true), deepest hash first.
fn subproof(old: u64, new: u64, node: &mut dyn FnMut(Subtree) -> [u8; 32]) -> Vec<[u8; 32]> {
    let (mut start, mut end) = (0, new);
    let mut complete = true;
    let mut hashes = Vec::new();
    while old < end && end - start > 1 {
        let k = split_point(end - start);
        if old <= start + k {
            hashes.push(range_hash(start + k, end, node));
            end = start + k;
        } else {
            hashes.push(range_hash(start, start + k, node));
            start += k;
            complete = false;
        }
    }
    if !complete {
        hashes.push(range_hash(start, end, node));
    }
    hashes.reverse();
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle;

    fn leaves(n: u64) -> Vec<[u8; 32]> {
        (0..n)
            .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
            .collect()
    }

    /// The hashes of `needed`, computed from the leaves.
    fn fetched(all: &[[u8; 32]], needed: &[Subtree]) -> Subtrees {
        needed
            .iter()
            .map(|s| {
                let range = s.leaves();
                let run = &all[range.start as usize..range.end as usize];
                (*s, merkle::root(run))
            })
            .collect()
    }

    #[test]
    fn roots_from_subtrees_match_roots_from_leaves_for_every_size() {
        let all = leaves(70);
        for size in 0..=70u64 {
            let hashes = fetched(&all, &needed_for_root(size));
            assert_eq!(
                root(size, &hashes),
                merkle::root(&all[..size as usize]),
                "{size}"
            );
        }
    }

    #[test]
    fn inclusion_proofs_from_subtrees_match_proofs_from_leaves() {
        let all = leaves(40);
        for size in 1..=40u64 {
            for index in 0..size {
                let hashes = fetched(&all, &needed_for_inclusion(index, size));
                let ours = inclusion_proof(index, size, &hashes).unwrap();
                let theirs = merkle::inclusion_proof(&all[..size as usize], index).unwrap();
                assert_eq!(ours, theirs, "index {index} of {size}");
            }
        }
    }

    #[test]
    fn consistency_proofs_from_subtrees_match_proofs_from_leaves() {
        let all = leaves(40);
        for new in 1..=40u64 {
            for old in 1..=new {
                let hashes = fetched(&all, &needed_for_consistency(old, new));
                let ours = consistency_proof(old, new, &hashes).unwrap();
                let theirs = merkle::consistency_proof(&all[..new as usize], old).unwrap();
                assert_eq!(ours, theirs, "{old} to {new}");
            }
        }
    }

    #[test]
    fn a_proof_reads_a_logarithmic_number_of_subtrees() {
        let size = (1u64 << 40) + 12_345;
        assert!(needed_for_inclusion(1 << 39, size).len() <= 2 * 41);
        assert!(needed_for_consistency(size - 999, size).len() <= 2 * 41);
        assert!(needed_for_root(size).len() <= 41);
    }

    #[test]
    fn impossible_sizes_and_indexes_are_refused() {
        let none = Subtrees::new();
        assert_eq!(
            inclusion_proof(5, 5, &none),
            Err(MerkleError::IndexOutOfRange {
                index: 5,
                tree_size: 5
            })
        );
        assert_eq!(
            consistency_proof(0, 5, &none),
            Err(MerkleError::EmptyOldTree)
        );
        assert_eq!(
            consistency_proof(6, 5, &none),
            Err(MerkleError::OldSizeTooLarge {
                old_size: 6,
                new_size: 5
            })
        );
    }
}
