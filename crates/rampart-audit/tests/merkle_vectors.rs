//! The Merkle tree against the published RFC 6962/9162 vectors in `shared/vectors/merkle`.
//!
//! The inclusion and consistency cases come from transparency-dev/merkle. Their roots are
//! opaque byte strings there, and some mutated cases use short placeholders (`"don't care
//! 1"`, `""`) where a root or proof hash would be. Our API takes 32-byte hashes, so a
//! placeholder becomes a 32-byte stand-in derived from it: equal placeholders stay equal,
//! different ones stay different, and none equals a real hash, so the verifier itself must
//! reject every such case. A leaf hash that is not 32 bytes is refused while decoding, as
//! the reference implementation refuses it too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rampart_audit::MerkleAccumulator;
use rampart_audit::merkle::{self, MerkleError};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The published counts; more cases may be added, none may go missing.
const MIN_INCLUSION_CASES: usize = 98;
const MIN_CONSISTENCY_CASES: usize = 98;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Roots {
    #[allow(dead_code)]
    description: String,
    leaf_inputs_hex: Vec<String>,
    root_hashes_hex: BTreeMap<String, String>,
    empty_root_hex: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InclusionCase {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyCase {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    #[serde(rename = "wantErr")]
    want_err: bool,
}

fn vectors_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/merkle");
    assert!(
        dir.is_dir(),
        "the Merkle vectors are missing at {}",
        dir.display()
    );
    dir
}

/// Every `.json` file under `dir`, sorted, so that a missing folder fails the test.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(json_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn load<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn roots() -> Roots {
    load(&vectors_dir().join("roots.json"))
}

fn hex32(text: &str) -> [u8; 32] {
    hex::decode(text).unwrap().try_into().unwrap()
}

/// The leaf hashes of the leaf inputs in `roots.json`.
fn vector_leaves(roots: &Roots) -> Vec<[u8; 32]> {
    let inputs = roots
        .leaf_inputs_hex
        .iter()
        .map(|h| hex::decode(h).unwrap());
    inputs.map(|input| merkle::leaf_hash(&input)).collect()
}

/// A hash field: 32 bytes as they are, anything else as a stand-in that no real hash equals.
fn hash_or_stand_in(base64: &str) -> [u8; 32] {
    let bytes = STANDARD.decode(base64).unwrap();
    bytes.clone().try_into().unwrap_or_else(|_| {
        let mut hasher = Sha256::new();
        hasher.update(b"rampart.test.placeholder\0");
        hasher.update(&bytes);
        hasher.finalize().into()
    })
}

fn proof_of(proof: &Option<Vec<String>>) -> Vec<[u8; 32]> {
    proof
        .iter()
        .flatten()
        .map(|h| hash_or_stand_in(h))
        .collect()
}

/// Runs one inclusion case through the verifier; a malformed leaf hash is refused first.
fn verify_inclusion_case(case: &InclusionCase) -> Result<(), String> {
    let leaf = STANDARD.decode(&case.leaf_hash).unwrap();
    let leaf: [u8; 32] = leaf
        .try_into()
        .map_err(|bytes: Vec<u8>| format!("leaf hash of {} bytes", bytes.len()))?;
    let proof = proof_of(&case.proof);
    let root = hash_or_stand_in(&case.root);
    merkle::verify_inclusion(&leaf, case.leaf_idx, case.tree_size, &proof, &root)
        .map_err(|e| e.to_string())
}

fn verify_consistency_case(case: &ConsistencyCase) -> Result<(), MerkleError> {
    let proof = proof_of(&case.proof);
    let (root1, root2) = (hash_or_stand_in(&case.root1), hash_or_stand_in(&case.root2));
    merkle::verify_consistency(case.size1, case.size2, &root1, &root2, &proof)
}

#[test]
fn roots_of_the_first_n_vector_leaves_match_the_published_roots() {
    let roots = roots();
    let leaves = vector_leaves(&roots);
    assert_eq!(roots.root_hashes_hex.len(), 8);

    for (size, expected) in &roots.root_hashes_hex {
        let size: usize = size.parse().unwrap();
        assert_eq!(
            merkle::root(&leaves[..size]),
            hex32(expected),
            "size {size}"
        );
    }
}

#[test]
fn empty_tree_root_matches_the_published_empty_root() {
    let roots = roots();
    assert_eq!(merkle::root(&[]), hex32(&roots.empty_root_hex));
    assert_eq!(merkle::empty_root(), hex32(&roots.empty_root_hex));
    assert_eq!(
        MerkleAccumulator::new().root(),
        hex32(&roots.empty_root_hex)
    );
}

#[test]
fn accumulator_reaches_every_published_root() {
    let roots = roots();
    let mut accumulator = MerkleAccumulator::new();

    for (size, leaf) in (1..).zip(vector_leaves(&roots)) {
        accumulator.push(leaf).unwrap();
        let expected = &roots.root_hashes_hex[&size.to_string()];
        assert_eq!(accumulator.root(), hex32(expected), "size {size}");
    }
}

#[test]
fn every_published_inclusion_case_verifies_or_fails_as_published() {
    let files = json_files(&vectors_dir().join("testdata/inclusion"));
    assert!(
        files.len() >= MIN_INCLUSION_CASES,
        "only {} cases",
        files.len()
    );
    let mut outcomes = (0, 0);

    for path in &files {
        let case: InclusionCase = load(path);
        let result = verify_inclusion_case(&case);
        match (case.want_err, result) {
            (false, Ok(())) => outcomes.0 += 1,
            (true, Err(_)) => outcomes.1 += 1,
            (false, Err(e)) => panic!("{} ({}) was refused: {e}", path.display(), case.desc),
            (true, Ok(())) => panic!("{} ({}) was accepted", path.display(), case.desc),
        }
    }

    println!("inclusion: {} verified, {} refused", outcomes.0, outcomes.1);
    assert!(outcomes.0 > 0 && outcomes.1 > 0);
}

#[test]
fn every_published_consistency_case_verifies_or_fails_as_published() {
    let files = json_files(&vectors_dir().join("testdata/consistency"));
    assert!(
        files.len() >= MIN_CONSISTENCY_CASES,
        "only {} cases",
        files.len()
    );
    let mut outcomes = (0, 0);

    for path in &files {
        let case: ConsistencyCase = load(path);
        match (case.want_err, verify_consistency_case(&case)) {
            (false, Ok(())) => outcomes.0 += 1,
            (true, Err(_)) => outcomes.1 += 1,
            (false, Err(e)) => panic!("{} ({}) was refused: {e}", path.display(), case.desc),
            (true, Ok(())) => panic!("{} ({}) was accepted", path.display(), case.desc),
        }
    }

    println!(
        "consistency: {} verified, {} refused",
        outcomes.0, outcomes.1
    );
    assert!(outcomes.0 > 0 && outcomes.1 > 0);
}

#[test]
fn published_inclusion_proofs_over_the_vector_leaves_are_the_proofs_we_build() {
    let leaves = vector_leaves(&roots());
    let mut compared = 0;

    for path in json_files(&vectors_dir().join("testdata/inclusion")) {
        let case: InclusionCase = load(&path);
        let size = usize::try_from(case.tree_size).unwrap();
        let over_vector_leaves =
            size <= leaves.len() && hash_or_stand_in(&case.root) == merkle::root(&leaves[..size]);
        if case.want_err || !over_vector_leaves {
            continue;
        }
        let built = merkle::inclusion_proof(&leaves[..size], case.leaf_idx).unwrap();
        assert_eq!(built, proof_of(&case.proof), "{}", path.display());
        compared += 1;
    }

    println!("inclusion: {compared} published proofs rebuilt");
    assert!(compared > 0, "no published proof is over the vector leaves");
}

#[test]
fn published_consistency_proofs_over_the_vector_leaves_are_the_proofs_we_build() {
    let leaves = vector_leaves(&roots());
    let mut compared = 0;

    for path in json_files(&vectors_dir().join("testdata/consistency")) {
        let case: ConsistencyCase = load(&path);
        let new_size = usize::try_from(case.size2).unwrap();
        let over_vector_leaves = new_size <= leaves.len()
            && hash_or_stand_in(&case.root2) == merkle::root(&leaves[..new_size]);
        if case.want_err || !over_vector_leaves {
            continue;
        }
        let built = merkle::consistency_proof(&leaves[..new_size], case.size1).unwrap();
        assert_eq!(built, proof_of(&case.proof), "{}", path.display());
        compared += 1;
    }

    println!("consistency: {compared} published proofs rebuilt");
    assert!(compared > 0, "no published proof is over the vector leaves");
}
