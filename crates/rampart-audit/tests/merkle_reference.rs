//! The Merkle tree against two independent implementations, for every size 1..=64.
//!
//! One is a deliberately naive transcription of the RFC 9162 §2.1 definitions written here,
//! sharing no code with the module; the other is the `ct-merkle` crate (RFC 6962 hashing).
//! Roots and every inclusion and consistency proof must be identical, and each side's proofs
//! must verify with the other side's verifier.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use rampart_audit::merkle;
use sha2::{Digest, Sha256};

const MAX_SIZE: usize = 64;

/// Leaf inputs of varied lengths, so that no two leaves are alike.
fn inputs(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("audit event {i}:{}", "x".repeat(i % 7)).into_bytes())
        .collect()
}

fn leaves(inputs: &[Vec<u8>]) -> Vec<[u8; 32]> {
    inputs
        .iter()
        .map(|input| merkle::leaf_hash(input))
        .collect()
}

/// The naive reference: RFC 9162 §2.1 read literally, on leaf inputs.
mod naive {
    use sha2::{Digest, Sha256};

    fn hash(parts: &[&[u8]]) -> Vec<u8> {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        hasher.finalize().to_vec()
    }

    /// The largest power of two smaller than `n`, for `n > 1`.
    fn k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// MTH(D[n]).
    pub fn mth(d: &[Vec<u8>]) -> Vec<u8> {
        match d.len() {
            0 => hash(&[]),
            1 => hash(&[&[0x00], &d[0]]),
            n => hash(&[&[0x01], &mth(&d[..k(n)]), &mth(&d[k(n)..])]),
        }
    }

    /// PATH(m, D[n]).
    pub fn path(m: usize, d: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let n = d.len();
        if n == 1 {
            return vec![];
        }
        let k = k(n);
        if m < k {
            [path(m, &d[..k]), vec![mth(&d[k..])]].concat()
        } else {
            [path(m - k, &d[k..]), vec![mth(&d[..k])]].concat()
        }
    }

    /// PROOF(m, D[n]).
    pub fn proof(m: usize, d: &[Vec<u8>]) -> Vec<Vec<u8>> {
        subproof(m, d, true)
    }

    fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Vec<u8>> {
        let n = d.len();
        if m == n {
            return if b { vec![] } else { vec![mth(d)] };
        }
        let k = k(n);
        if m <= k {
            [subproof(m, &d[..k], b), vec![mth(&d[k..])]].concat()
        } else {
            [subproof(m - k, &d[k..], false), vec![mth(&d[..k])]].concat()
        }
    }
}

fn as_vecs(hashes: &[[u8; 32]]) -> Vec<Vec<u8>> {
    hashes.iter().map(|h| h.to_vec()).collect()
}

fn ct_tree(inputs: &[Vec<u8>]) -> MemoryBackedTree<Sha256, Vec<u8>> {
    let mut tree = MemoryBackedTree::new();
    for input in inputs {
        tree.push(input.clone());
    }
    tree
}

fn ct_root(root: &[u8; 32], size: usize) -> RootHash<Sha256> {
    RootHash::new((*root).into(), size as u64)
}

fn concat(hashes: &[[u8; 32]]) -> Vec<u8> {
    hashes.concat()
}

fn split32(bytes: &[u8]) -> Vec<[u8; 32]> {
    bytes.chunks(32).map(|c| c.try_into().unwrap()).collect()
}

#[test]
fn leaf_hash_is_the_rfc_leaf_hash_of_the_input() {
    for input in inputs(8) {
        let expected: [u8; 32] = Sha256::new_with_prefix([0x00])
            .chain_update(&input)
            .finalize()
            .into();
        assert_eq!(merkle::leaf_hash(&input), expected);
    }
}

#[test]
fn roots_match_the_naive_reference_and_ct_merkle_for_every_size() {
    for n in 0..=MAX_SIZE {
        let inputs = inputs(n);
        let root = merkle::root(&leaves(&inputs));
        assert_eq!(root.to_vec(), naive::mth(&inputs), "size {n}");
        assert_eq!(
            root.as_slice(),
            ct_tree(&inputs).root().as_bytes().as_slice(),
            "size {n}"
        );
    }
}

#[test]
fn inclusion_proofs_match_the_naive_reference_for_every_size_and_index() {
    for n in 1..=MAX_SIZE {
        let inputs = inputs(n);
        let leaves = leaves(&inputs);
        for m in 0..n {
            let proof = merkle::inclusion_proof(&leaves, m as u64).unwrap();
            assert_eq!(
                as_vecs(&proof),
                naive::path(m, &inputs),
                "size {n}, index {m}"
            );
        }
    }
}

#[test]
fn inclusion_proofs_match_ct_merkle_and_verify_on_both_sides() {
    for n in 1..=MAX_SIZE {
        let inputs = inputs(n);
        let (leaves, tree) = (leaves(&inputs), ct_tree(&inputs));
        let root = merkle::root(&leaves);
        for m in 0..n {
            let ours = merkle::inclusion_proof(&leaves, m as u64).unwrap();
            let theirs = tree.prove_inclusion(m);
            assert_eq!(concat(&ours), theirs.as_bytes(), "size {n}, index {m}");

            let ours_as_theirs = InclusionProof::<Sha256>::try_from_bytes(concat(&ours)).unwrap();
            ct_root(&root, n)
                .verify_inclusion(&inputs[m], m as u64, &ours_as_theirs)
                .unwrap();
            let theirs = split32(theirs.as_bytes());
            merkle::verify_inclusion(&leaves[m], m as u64, n as u64, &theirs, &root).unwrap();
        }
    }
}

#[test]
fn consistency_proofs_match_the_naive_reference_for_every_pair_of_sizes() {
    for n in 1..=MAX_SIZE {
        let inputs = inputs(n);
        let leaves = leaves(&inputs);
        for m in 1..=n {
            let proof = merkle::consistency_proof(&leaves, m as u64).unwrap();
            assert_eq!(
                as_vecs(&proof),
                naive::proof(m, &inputs),
                "sizes {m} to {n}"
            );
        }
    }
}

#[test]
fn consistency_proofs_match_ct_merkle_and_verify_on_both_sides() {
    for n in 2..=MAX_SIZE {
        let inputs = inputs(n);
        let (leaves, tree) = (leaves(&inputs), ct_tree(&inputs));
        let new_root = merkle::root(&leaves);
        for m in 1..n {
            let old_root = merkle::root(&leaves[..m]);
            let ours = merkle::consistency_proof(&leaves, m as u64).unwrap();
            let theirs = tree.prove_consistency(n - m);
            assert_eq!(concat(&ours), theirs.as_bytes(), "sizes {m} to {n}");

            let ours_as_theirs = ConsistencyProof::<Sha256>::try_from_bytes(concat(&ours)).unwrap();
            ct_root(&new_root, n)
                .verify_consistency(&ct_root(&old_root, m), &ours_as_theirs)
                .unwrap();
            let theirs = split32(theirs.as_bytes());
            merkle::verify_consistency(m as u64, n as u64, &old_root, &new_root, &theirs).unwrap();
        }
    }
}
