//! OpenAPI schemas of the audit log's wire formats, for `/openapi.json`.
//!
//! They mirror the JSON of `rampart_audit::AuditEvent` and of the checkpoint and
//! proof views exactly; hashes are standard base64 with padding.

use serde::Serialize;
use utoipa::ToSchema;

/// One audit event.
#[derive(Serialize, ToSchema)]
#[schema(as = AuditEvent)]
pub struct AuditEventSchema {
    /// The position in the log, from 1; the leaf index in the tree is `seq - 1`.
    pub seq: u64,
    /// When it was recorded: RFC 3339 UTC with six fractional digits and `Z`.
    pub time: String,
    /// Who acted: a subject or client id, never a name.
    pub actor: String,
    /// What happened, such as `order.accepted`.
    pub action: String,
    /// What it happened to, such as `order:<id>` or `account:<id>`.
    pub target: String,
    /// `success`, `denied`, `rejected` or `failed`.
    pub outcome: String,
    /// The gateway's id of the request.
    pub request_id: String,
    /// The policy set's version, for decisions.
    pub policy_version: Option<String>,
    /// Facts of the event.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// One page of audit events.
#[derive(Serialize, ToSchema)]
#[schema(as = AuditPage)]
pub struct AuditPageSchema {
    /// The events, in order of `seq`.
    pub events: Vec<AuditEventSchema>,
    /// The `cursor` of the next page, when this page is full.
    pub next_cursor: Option<String>,
}

/// A signed checkpoint.
#[derive(Serialize, ToSchema)]
#[schema(as = Checkpoint)]
pub struct CheckpointSchema {
    /// The log's name.
    pub origin: String,
    /// How many events the checkpoint covers (`seq` 1 to `tree_size`).
    pub tree_size: u64,
    /// The RFC 9162 root, base64.
    pub root_hash: String,
    /// When it was signed.
    pub time: String,
    /// The name of the signing key.
    pub key_name: String,
    /// Base64 of the 4-byte key id and the 64-byte Ed25519 signature.
    pub signature: String,
    /// The signed note, byte for byte.
    pub text: String,
}

/// An inclusion proof.
#[derive(Serialize, ToSchema)]
#[schema(as = InclusionProof)]
pub struct InclusionSchema {
    /// The event.
    pub seq: u64,
    /// Its leaf index, `seq - 1`.
    pub leaf_index: u64,
    /// The checkpointed tree size the proof is for.
    pub tree_size: u64,
    /// `SHA-256(0x00 || canonical JSON of the event)`, base64.
    pub leaf_hash: String,
    /// The audit path, base64, leaf to root.
    pub path: Vec<String>,
    /// The checkpoint of `tree_size`.
    pub checkpoint: CheckpointSchema,
}

/// A consistency proof.
#[derive(Serialize, ToSchema)]
#[schema(as = ConsistencyProof)]
pub struct ConsistencySchema {
    /// The older tree size.
    pub from: u64,
    /// The checkpointed tree size.
    pub to: u64,
    /// The RFC 9162 consistency proof, base64.
    pub path: Vec<String>,
    /// The checkpoint of `to`.
    pub checkpoint: CheckpointSchema,
}
