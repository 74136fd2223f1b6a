//! The RFC 9162 Merkle tree over audit leaves: roots, inclusion and consistency proofs.
//!
//! This module owns the Merkle Tree Hash of a list of leaf hashes (RFC 9162 §2.1.1), the
//! inclusion proofs that one leaf is in a tree (§2.1.3) and the consistency proofs that an
//! older tree is a prefix of a newer one (§2.1.4), together with their verifiers and a
//! streaming [`MerkleAccumulator`] that keeps one hash per level instead of every leaf.
//!
//! It upholds domain separation: a leaf is `SHA-256(0x00 || leaf input)` (see
//! [`AuditEvent::leaf_hash`](crate::AuditEvent::leaf_hash)) and an interior node is
//! `SHA-256(0x01 || left || right)`, so a leaf can never be passed off as a node or a node
//! as a leaf. Every function returns a [`MerkleError`] for impossible sizes, indexes or
//! proofs; none of them panics on any input.
//!
//! A proof binds a leaf or an older root to the root it is checked against. The tree sizes
//! only shape the path, and different sizes can share a path, so a verifier takes each size
//! from the same signed checkpoint as its root.

use sha2::{Digest, Sha256};

/// A run of leaf or node hashes.
type Hashes<'a> = &'a [[u8; 32]];

/// The RFC 9162 prefix of a leaf hash.
const LEAF_PREFIX: u8 = 0x00;

/// The RFC 9162 prefix of an interior node hash.
const NODE_PREFIX: u8 = 0x01;

/// Why a proof could not be made or did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// The leaf index is not inside the tree.
    #[error("leaf `index` {index} is outside a tree of {tree_size} leaves")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The number of leaves in the tree.
        tree_size: u64,
    },
    /// The older tree is larger than the newer one.
    #[error("`old_size` {old_size} is larger than `new_size` {new_size}")]
    OldSizeTooLarge {
        /// The size of the older tree.
        old_size: u64,
        /// The size of the newer tree.
        new_size: u64,
    },
    /// A consistency proof from the empty tree proves nothing.
    #[error("`old_size` must be at least 1: the empty tree has no consistency proof")]
    EmptyOldTree,
    /// The proof has the wrong number of hashes for the sizes and index given.
    #[error("`proof` has {actual} hashes where {expected} are needed")]
    ProofLength {
        /// The number of hashes the sizes and index call for.
        expected: usize,
        /// The number of hashes supplied.
        actual: usize,
    },
    /// The root recomputed from the proof is not the root given.
    #[error("the proof does not lead to `root`")]
    RootMismatch,
    /// The older root recomputed from a consistency proof is not the root given.
    #[error("the proof does not lead to `old_root`")]
    OldRootMismatch,
    /// The newer root recomputed from a consistency proof is not the root given.
    #[error("the proof does not lead to `new_root`")]
    NewRootMismatch,
    /// The accumulator already holds the largest number of leaves it can count.
    #[error("the tree is full: it cannot hold more than 2^64 - 1 leaves")]
    TreeFull,
}

/// The root of the tree with no leaves: SHA-256 of the empty string.
pub fn empty_root() -> [u8; 32] {
    Sha256::digest(b"").into()
}

/// The RFC 9162 leaf hash of `input`: `SHA-256(0x00 || input)`.
pub fn leaf_hash(input: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(input);
    hasher.finalize().into()
}

/// The RFC 9162 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The Merkle Tree Hash of `leaves`, a list of leaf hashes (RFC 9162 §2.1.1).
pub fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
    match split(leaves) {
        Some((left, right)) => node_hash(&root(left), &root(right)),
        None => leaves.first().copied().unwrap_or_else(empty_root),
    }
}

/// The inclusion proof of the leaf at `index` in the tree over `leaves` (RFC 9162 §2.1.3.1).
pub fn inclusion_proof(leaves: &[[u8; 32]], index: u64) -> Result<Vec<[u8; 32]>, MerkleError> {
    let out_of_range = MerkleError::IndexOutOfRange {
        index,
        tree_size: size_of(leaves),
    };
    let mut position = usize::try_from(index).map_err(|_| out_of_range)?;
    if position >= leaves.len() {
        return Err(out_of_range);
    }

    // Walk from the root down to the leaf; each step records the sibling subtree's hash.
    let mut subtree = leaves;
    let mut siblings = Vec::new();
    while let Some((left, right)) = split(subtree) {
        if position < left.len() {
            siblings.push(root(right));
            subtree = left;
        } else {
            siblings.push(root(left));
            position -= left.len();
            subtree = right;
        }
    }

    // The proof lists siblings from the leaf up.
    siblings.reverse();
    Ok(siblings)
}

/// Checks that `leaf_hash` is at `index` in the tree of `tree_size` leaves with `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf_hash: &[u8; 32],
    index: u64,
    tree_size: u64,
    proof: &[[u8; 32]],
    root: &[u8; 32],
) -> Result<(), MerkleError> {
    if index >= tree_size {
        return Err(MerkleError::IndexOutOfRange { index, tree_size });
    }
    check_length(proof, inclusion_path_len(index, tree_size))?;

    match fold_inclusion(leaf_hash, index, tree_size, proof) {
        Some(hash) if hash == *root => Ok(()),
        _ => Err(MerkleError::RootMismatch),
    }
}

/// Runs steps 2 to 5 of RFC 9162 §2.1.3.2: the root the path leads to, or `None` when the
/// path does not end at the top of the tree.
fn fold_inclusion(
    leaf_hash: &[u8; 32],
    index: u64,
    tree_size: u64,
    proof: &[[u8; 32]],
) -> Option<[u8; 32]> {
    // INVARIANT: index < tree_size, checked by the caller.
    let (mut first, mut second) = (index, tree_size - 1);
    let mut hash = *leaf_hash;
    for sibling in proof {
        if second == 0 {
            return None;
        }
        if first & 1 == 1 || first == second {
            hash = node_hash(sibling, &hash);
            while first & 1 == 0 && first != 0 {
                (first, second) = (first >> 1, second >> 1);
            }
        } else {
            hash = node_hash(&hash, sibling);
        }
        (first, second) = (first >> 1, second >> 1);
    }
    (second == 0).then_some(hash)
}

/// The proof that the tree of the first `old_size` of `leaves` is a prefix of the tree over
/// all of them (RFC 9162 §2.1.4.1).
pub fn consistency_proof(leaves: &[[u8; 32]], old_size: u64) -> Result<Vec<[u8; 32]>, MerkleError> {
    let new_size = size_of(leaves);
    check_sizes(old_size, new_size)?;
    let too_large = MerkleError::OldSizeTooLarge { old_size, new_size };
    let mut old_len = usize::try_from(old_size).map_err(|_| too_large)?;

    // Walk down the new tree until the old tree is a whole subtree. `complete` stays true
    // while that subtree is the old tree's root, which the verifier already holds.
    let mut subtree = leaves;
    let mut complete = true;
    let mut siblings = Vec::new();
    while old_len < subtree.len() {
        let Some((left, right)) = split(subtree) else {
            break;
        };
        if old_len <= left.len() {
            siblings.push(root(right));
            subtree = left;
        } else {
            siblings.push(root(left));
            old_len -= left.len();
            subtree = right;
            complete = false;
        }
    }
    if !complete {
        siblings.push(root(subtree));
    }

    // The proof lists hashes from the deepest subtree up.
    siblings.reverse();
    Ok(siblings)
}

/// Checks that the tree of `old_size` leaves with `old_root` is a prefix of the tree of
/// `new_size` leaves with `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &[u8; 32],
    new_root: &[u8; 32],
    proof: &[[u8; 32]],
) -> Result<(), MerkleError> {
    check_sizes(old_size, new_size)?;
    if old_size == new_size {
        check_length(proof, 0)?;
        if old_root != new_root {
            return Err(MerkleError::NewRootMismatch);
        }
        return Ok(());
    }
    check_length(proof, consistency_path_len(old_size, new_size))?;

    // A power-of-two old tree is a whole subtree of the new one: its root seeds the path.
    let (seed, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        proof.split_first().ok_or(MerkleError::ProofLength {
            expected: 1,
            actual: 0,
        })?
    };
    let Some((old_hash, new_hash)) = fold_consistency(old_size, new_size, seed, rest) else {
        return Err(MerkleError::NewRootMismatch);
    };

    if new_hash != *new_root {
        return Err(MerkleError::NewRootMismatch);
    }
    if old_hash != *old_root {
        return Err(MerkleError::OldRootMismatch);
    }
    Ok(())
}

/// Runs steps 3 to 7 of RFC 9162 §2.1.4.2: the old and new roots, or `None` when the path
/// does not end at the new tree's root.
fn fold_consistency(
    old_size: u64,
    new_size: u64,
    seed: &[u8; 32],
    rest: &[[u8; 32]],
) -> Option<([u8; 32], [u8; 32])> {
    // INVARIANT: 0 < old_size < new_size, checked by the caller.
    let (mut first, mut second) = (old_size - 1, new_size - 1);
    while first & 1 == 1 {
        (first, second) = (first >> 1, second >> 1);
    }

    let (mut old_hash, mut new_hash) = (*seed, *seed);
    for hash in rest {
        if second == 0 {
            return None;
        }
        if first & 1 == 1 || first == second {
            old_hash = node_hash(hash, &old_hash);
            new_hash = node_hash(hash, &new_hash);
            while first & 1 == 0 && first != 0 {
                (first, second) = (first >> 1, second >> 1);
            }
        } else {
            new_hash = node_hash(&new_hash, hash);
        }
        (first, second) = (first >> 1, second >> 1);
    }
    (second == 0).then_some((old_hash, new_hash))
}

/// A streaming Merkle Tree Hash: leaves go in one by one, the root is available at any time.
///
/// It keeps the roots of the perfect subtrees that make up the tree so far, one per set bit
/// of the leaf count, so its state is O(log n) however many leaves have gone in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerkleAccumulator {
    /// The number of leaves pushed so far.
    size: u64,
    /// Roots of the perfect subtrees, largest (leftmost) first.
    // INVARIANT: one peak per set bit of `size`, the i-th covering 2^(bit) leaves.
    peaks: Vec<[u8; 32]>,
}

impl MerkleAccumulator {
    /// An accumulator over no leaves.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves pushed so far.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether no leaf has been pushed yet.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The roots of the perfect subtrees making up the tree, largest first: one per set bit
    /// of [`len`](Self::len).
    pub fn peaks(&self) -> &[[u8; 32]] {
        &self.peaks
    }

    /// Appends the leaf hash `leaf` to the tree.
    pub fn push(&mut self, leaf: [u8; 32]) -> Result<(), MerkleError> {
        self.push_visiting(leaf, |_, _, _| {})
    }

    /// Appends `leaf`, telling `completed` of each perfect subtree of two leaves or more
    /// that it completes: its level (2^level leaves), its index among the subtrees of that
    /// level, and its hash, the smallest first.
    pub fn push_visiting(
        &mut self,
        leaf: [u8; 32],
        mut completed: impl FnMut(u32, u64, &[u8; 32]),
    ) -> Result<(), MerkleError> {
        let size = self.size.checked_add(1).ok_or(MerkleError::TreeFull)?;

        // Every trailing one bit of the old size is a perfect subtree as large as the new
        // one: merge them, as a binary counter carries.
        let mut hash = leaf;
        let carries = self.size.trailing_ones();
        for level in 1..=carries {
            let Some(left) = self.peaks.pop() else {
                break;
            };
            hash = node_hash(&left, &hash);
            completed(level, (size >> level).saturating_sub(1), &hash);
        }

        self.peaks.push(hash);
        self.size = size;
        Ok(())
    }

    /// The Merkle Tree Hash of the leaves pushed so far.
    pub fn root(&self) -> [u8; 32] {
        let mut peaks = self.peaks.iter().rev();
        let Some(smallest) = peaks.next() else {
            return empty_root();
        };
        peaks.fold(*smallest, |right, left| node_hash(left, &right))
    }
}

/// Splits `leaves` at the largest power of two below its length, or `None` under two leaves.
fn split(leaves: Hashes<'_>) -> Option<(Hashes<'_>, Hashes<'_>)> {
    let last = leaves.len().checked_sub(1)?;
    let left_len = 1_usize.checked_shl(last.checked_ilog2()?)?;
    leaves.split_at_checked(left_len)
}

/// The number of leaves in `leaves` as a tree size.
fn size_of(leaves: &[[u8; 32]]) -> u64 {
    u64::try_from(leaves.len()).unwrap_or(u64::MAX)
}

/// Refuses an empty old tree and an old tree larger than the new one.
fn check_sizes(old_size: u64, new_size: u64) -> Result<(), MerkleError> {
    if old_size > new_size {
        return Err(MerkleError::OldSizeTooLarge { old_size, new_size });
    }
    if old_size == 0 {
        return Err(MerkleError::EmptyOldTree);
    }
    Ok(())
}

/// Refuses a proof that does not have exactly `expected` hashes.
fn check_length(proof: &[[u8; 32]], expected: usize) -> Result<(), MerkleError> {
    if proof.len() != expected {
        return Err(MerkleError::ProofLength {
            expected,
            actual: proof.len(),
        });
    }
    Ok(())
}

/// The number of hashes in the inclusion proof of `index` in a tree of `tree_size` leaves.
///
/// The path has one hash per level below the point where `index` and the last leaf part
/// ways, plus one per left subtree that `index` passes above that point.
fn inclusion_path_len(index: u64, tree_size: u64) -> usize {
    // INVARIANT: index < tree_size, checked by the caller.
    let inner = u64::BITS - (index ^ (tree_size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    widen(inner + border)
}

/// The number of hashes in the consistency proof from `old_size` to `new_size` leaves.
fn consistency_path_len(old_size: u64, new_size: u64) -> usize {
    // INVARIANT: 0 < old_size < new_size, checked by the caller.
    let shift = old_size.trailing_zeros();
    let path = inclusion_path_len(old_size - 1, new_size).saturating_sub(widen(shift));
    if old_size.is_power_of_two() {
        path
    } else {
        path + 1
    }
}

/// A bit count as a length; bit counts of a `u64` are at most 128.
fn widen(bits: u32) -> usize {
    usize::try_from(bits).unwrap_or(usize::MAX)
}
