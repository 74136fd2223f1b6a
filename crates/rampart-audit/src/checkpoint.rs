//! Signed checkpoints of the audit tree: what they say, their text form and their signatures.
//!
//! A [`Checkpoint`] commits to the first `tree_size` events of a log named `origin` through
//! the RFC 9162 root of their leaves, at a time. Its text form is a transparency-log signed
//! note (the C2SP `signed-note` and `tlog-checkpoint` layout), so that tools built for
//! Certificate Transparency style logs can read it:
//!
//! ```text
//! rampart.example/audit
//! 1024
//! 5zrdoFLpYrIa3Y3q0GTq7ntT5dVIAwwQ3yGtUzPl+tw=
//! 2026-01-02T03:04:05.123456Z
//!
//! — rampart-audit AAECA0sJ1xn...base64 of key id and signature...
//! ```
//!
//! The body is the origin line, the tree size in decimal (no leading zeros), the root in
//! standard base64 with padding and the time in the one audit time spelling, each ending in
//! a newline. A blank line follows, then one line per signature: an em dash, a space, the
//! key name, a space and the base64 of the 4-byte key id followed by the 64-byte Ed25519
//! signature of the body. The key id is the first four bytes of `SHA-256(name || "\n" ||
//! 0x01 || public key)`; a verifier key is written `name+<key id hex>+<base64(0x01 ||
//! public key)>`. Parsing is strict: any other spelling, a missing or extra line, or
//! trailing bytes are refused, so a checkpoint has exactly one text form.
//!
//! It upholds that the checkpoint key is a secret: the signer's `Debug` shows only its name
//! and key id, and the PKCS#8 document is held in zeroising memory.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The signed-note algorithm byte of Ed25519.
const ALGORITHM_ED25519: u8 = 0x01;

/// The prefix of a signature line: an em dash and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The length of an Ed25519 signature.
const SIGNATURE_LEN: usize = 64;

/// The longest checkpoint text accepted, in bytes.
pub const MAX_CHECKPOINT_BYTES: usize = 16 * 1024;

/// Why a checkpoint could not be made, read or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text is not a checkpoint in the one accepted spelling.
    #[error("checkpoint line {line} is malformed: {reason}")]
    Malformed {
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No signature line is by the verifier's key.
    #[error("the checkpoint carries no signature by key `{name}`")]
    UnsignedByKey {
        /// The verifier's key name.
        name: String,
    },
    /// A signature by the verifier's key does not verify.
    #[error("the checkpoint signature by key `{name}` is not valid")]
    BadSignature {
        /// The verifier's key name.
        name: String,
    },
    /// A key name, verifier key or private key is unusable.
    #[error("invalid checkpoint key: {0}")]
    Key(&'static str),
}

/// A checkpoint of the audit tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The name of the log, such as `rampart.example/audit`.
    pub origin: String,
    /// The number of events covered: the events with `seq` 1 to `tree_size`.
    pub tree_size: u64,
    /// The RFC 9162 root over their leaves.
    pub root_hash: [u8; 32],
    /// When the checkpoint was made (UTC, microseconds).
    pub time: DateTime<Utc>,
}

/// A checkpoint together with its signed text, as stored and exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// What the text says.
    pub checkpoint: Checkpoint,
    /// The signed note, byte for byte.
    pub text: String,
}

impl Checkpoint {
    /// A checkpoint of `tree_size` events with `root_hash`, its time cut to microseconds.
    pub fn new(
        origin: impl Into<String>,
        tree_size: u64,
        root_hash: [u8; 32],
        time: DateTime<Utc>,
    ) -> Self {
        Self {
            origin: origin.into(),
            tree_size,
            root_hash,
            time: crate::time::to_micros(time),
        }
    }

    /// The signed body: origin, size, root and time lines.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n",
            self.origin,
            self.tree_size,
            STANDARD.encode(self.root_hash),
            crate::time::format(&self.time)
        )
    }

    /// Reads a checkpoint's text, checking its form and the form of its signature lines
    /// but not the signatures themselves; use [`CheckpointVerifier::verify`] to trust it.
    pub fn read_unverified(text: &str) -> Result<Checkpoint, CheckpointError> {
        Ok(parse_note(text)?.0)
    }
}

/// Signs checkpoints with an Ed25519 key (ring), separate from every other key.
pub struct CheckpointSigner {
    name: String,
    pair: Ed25519KeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
    key_id: [u8; 4],
}

impl fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("name", &self.name)
            .field("key_id", &hex_of(&self.key_id))
            .finish_non_exhaustive()
    }
}

impl CheckpointSigner {
    /// A new random key named `name`.
    pub fn generate(name: &str) -> Result<Self, CheckpointError> {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| CheckpointError::Key("the system random source failed"))?;
        Self::from_pkcs8(name, document.as_ref())
    }

    /// The key named `name` from a PKCS#8 document (v1 or v2).
    pub fn from_pkcs8(name: &str, der: &[u8]) -> Result<Self, CheckpointError> {
        check_key_name(name)?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|_| CheckpointError::Key("not an Ed25519 PKCS#8 document"))?;
        let public = public_key_of(&pair)?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, &public),
            pair,
            pkcs8: Zeroizing::new(der.to_vec()),
        })
    }

    /// The PKCS#8 document of the private key, to store it as a secret.
    pub fn expose_pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key name written on signature lines.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id written before each signature.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        // INVARIANT: checked to be 32 bytes when the signer was made.
        public_key_of(&self.pair).unwrap_or_default()
    }

    /// The verifier key text, `name+<key id hex>+<base64(0x01 || public key)>`.
    pub fn verifier_key(&self) -> String {
        self.verifier().verifier_key()
    }

    /// The verifier of this signer's checkpoints.
    pub fn verifier(&self) -> CheckpointVerifier {
        CheckpointVerifier {
            name: self.name.clone(),
            public_key: self.public_key(),
            key_id: self.key_id,
        }
    }

    /// Signs `checkpoint`, returning its text.
    pub fn sign(&self, checkpoint: &Checkpoint) -> Result<SignedCheckpoint, CheckpointError> {
        check_origin(&checkpoint.origin, 1)?;
        let body = checkpoint.body();
        let mut blob = self.key_id.to_vec();
        blob.extend_from_slice(self.pair.sign(body.as_bytes()).as_ref());
        let text = format!(
            "{body}\n{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            STANDARD.encode(blob)
        );
        Ok(SignedCheckpoint {
            checkpoint: checkpoint.clone(),
            text,
        })
    }
}

/// Verifies checkpoints signed by one Ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointVerifier {
    name: String,
    public_key: [u8; 32],
    key_id: [u8; 4],
}

impl CheckpointVerifier {
    /// The verifier of the key `name` with the raw Ed25519 `public_key`.
    pub fn new(name: &str, public_key: [u8; 32]) -> Result<Self, CheckpointError> {
        check_key_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, &public_key),
            public_key,
        })
    }

    /// Reads a verifier key, `name+<key id hex>+<base64(0x01 || public key)>`.
    pub fn from_verifier_key(text: &str) -> Result<Self, CheckpointError> {
        let bad = CheckpointError::Key("a verifier key is `name+<8 hex digits>+<base64 key>`");
        // The base64 key may itself hold `+`: only the first two split.
        let mut parts = text.trim_end_matches('\n').splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad);
        };
        let raw = decode_exact(key).ok_or(bad.clone())?;
        let Some((&ALGORITHM_ED25519, public)) = raw.split_first() else {
            return Err(CheckpointError::Key(
                "the verifier key is not an Ed25519 key",
            ));
        };
        let public: [u8; 32] = public.try_into().map_err(|_| bad.clone())?;
        let verifier = Self::new(name, public)?;
        if id != hex_of(&verifier.key_id) {
            return Err(CheckpointError::Key("the key id does not match the key"));
        }
        Ok(verifier)
    }

    /// The verifier key text, `name+<key id hex>+<base64(0x01 || public key)>`.
    pub fn verifier_key(&self) -> String {
        let mut raw = vec![ALGORITHM_ED25519];
        raw.extend_from_slice(&self.public_key);
        format!(
            "{}+{}+{}",
            self.name,
            hex_of(&self.key_id),
            STANDARD.encode(raw)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// Reads `text` and checks that this key signed it.
    ///
    /// Signature lines by other keys are allowed (a log may be cosigned), but every line
    /// naming this key must verify, and at least one must.
    pub fn verify(&self, text: &str) -> Result<Checkpoint, CheckpointError> {
        let (checkpoint, body, signatures) = parse_note(text)?;
        let mut signed = false;
        for signature in signatures.iter().filter(|s| s.name == self.name) {
            let Some((id, sig)) = signature.blob.split_first_chunk::<4>() else {
                continue;
            };
            if *id != self.key_id {
                continue;
            }
            if !self.signature_is_valid(body.as_bytes(), sig) {
                return Err(CheckpointError::BadSignature {
                    name: self.name.clone(),
                });
            }
            signed = true;
        }
        if !signed {
            return Err(CheckpointError::UnsignedByKey {
                name: self.name.clone(),
            });
        }
        Ok(checkpoint)
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    pub fn signature_is_valid(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, self.public_key)
            .verify(message, signature)
            .is_ok()
    }
}

/// One signature line: the key name and the decoded key id and signature.
struct NoteSignature<'a> {
    name: &'a str,
    blob: Vec<u8>,
}

/// Splits a note into its checkpoint, its signed body and its signature lines.
fn parse_note(text: &str) -> Result<(Checkpoint, &str, Vec<NoteSignature<'_>>), CheckpointError> {
    let malformed = |line, reason| CheckpointError::Malformed { line, reason };
    if text.len() > MAX_CHECKPOINT_BYTES {
        return Err(malformed(1, "the checkpoint is too long"));
    }
    let Some(body_end) = text.find("\n\n") else {
        return Err(malformed(
            5,
            "the blank line before the signatures is missing",
        ));
    };
    let (body, rest) = text.split_at(body_end.saturating_add(1));
    let checkpoint = parse_body(body)?;
    let signatures = rest.strip_prefix('\n').ok_or(malformed(
        5,
        "the blank line before the signatures is missing",
    ))?;
    Ok((checkpoint, body, parse_signatures(signatures)?))
}

fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
    let malformed = |line, reason| CheckpointError::Malformed { line, reason };
    let lines: Vec<&str> = body
        .strip_suffix('\n')
        .unwrap_or(body)
        .split('\n')
        .collect();
    let [origin, size, root, time] = lines.as_slice() else {
        return Err(malformed(
            lines.len().min(5),
            "the body must have exactly four lines",
        ));
    };
    check_origin(origin, 1)?;
    let tree_size = parse_size(size).ok_or(malformed(2, "the tree size must be a decimal u64"))?;
    let root_hash = decode_exact(root)
        .and_then(|raw| <[u8; 32]>::try_from(raw).ok())
        .ok_or(malformed(3, "the root must be 32 bytes in padded base64"))?;
    let time = crate::time::parse(time).ok_or(malformed(
        4,
        "the time must be like 2026-01-02T03:04:05.000000Z",
    ))?;
    Ok(Checkpoint {
        origin: (*origin).to_owned(),
        tree_size,
        root_hash,
        time,
    })
}

fn parse_signatures(text: &str) -> Result<Vec<NoteSignature<'_>>, CheckpointError> {
    let Some(text) = text.strip_suffix('\n') else {
        return Err(CheckpointError::Malformed {
            line: 6,
            reason: "the checkpoint must end with one newline after its signatures",
        });
    };
    text.split('\n')
        .enumerate()
        .map(|(i, line)| parse_signature(line, i.saturating_add(6)))
        .collect()
}

fn parse_signature(line: &str, number: usize) -> Result<NoteSignature<'_>, CheckpointError> {
    let malformed = |reason| CheckpointError::Malformed {
        line: number,
        reason,
    };
    let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or(malformed(
        "a signature line starts with an em dash and a space",
    ))?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or(malformed("a signature line is `— <key name> <base64>`"))?;
    if check_key_name(name).is_err() {
        return Err(malformed("the key name is empty or holds spaces or `+`"));
    }
    let blob = decode_exact(encoded)
        .filter(|blob| blob.len() == 4 + SIGNATURE_LEN)
        .ok_or(malformed(
            "the signature must be a key id and 64 bytes in base64",
        ))?;
    Ok(NoteSignature { name, blob })
}

/// A decimal `u64` without sign, spaces or leading zeros.
fn parse_size(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// Decodes standard padded base64 that is spelled the one way it encodes.
fn decode_exact(text: &str) -> Option<Vec<u8>> {
    let raw = STANDARD.decode(text).ok()?;
    (STANDARD.encode(&raw) == text).then_some(raw)
}

fn check_origin(origin: &str, line: usize) -> Result<(), CheckpointError> {
    if origin.is_empty() || origin.chars().any(char::is_control) {
        return Err(CheckpointError::Malformed {
            line,
            reason: "the origin must be a non-empty line of printable text",
        });
    }
    Ok(())
}

fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    let bad = name.is_empty()
        || name.contains('+')
        || name.chars().any(|c| c.is_whitespace() || c.is_control());
    if bad {
        return Err(CheckpointError::Key(
            "a key name must be non-empty, without spaces or `+`",
        ));
    }
    Ok(())
}

fn public_key_of(pair: &Ed25519KeyPair) -> Result<[u8; 32], CheckpointError> {
    pair.public_key()
        .as_ref()
        .try_into()
        .map_err(|_| CheckpointError::Key("the public key is not 32 bytes"))
}

/// The signed-note key id: `SHA-256(name || "\n" || 0x01 || public key)[..4]`.
fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ALGORITHM_ED25519]);
    hasher.update(public_key);
    let digest: [u8; 32] = hasher.finalize().into();
    let mut id = [0; 4];
    id.copy_from_slice(digest.get(..4).unwrap_or(&[0; 4]));
    id
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "checkpoint_tests.rs"]
mod tests;
