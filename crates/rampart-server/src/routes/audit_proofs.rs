//! `/v1/audit/checkpoints/latest` and `/v1/audit/proofs/*`: what an outsider checks.
//!
//! A signed checkpoint commits to the first `tree_size` events; an inclusion proof
//! shows one event is among them and a consistency proof shows an older checkpoint's
//! tree is a prefix of a newer one (RFC 9162). Proofs are given only against
//! checkpointed sizes, so each can be checked against a signature the verifier
//! already holds. Hashes are standard base64 with padding, as on the checkpoint's
//! root line. Each read is recorded as an `audit.read` event.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rampart_audit::SignedCheckpoint;
use rampart_policy::{Action, Resource};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::authn::Authenticated;
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::routes::audit::record_read;
use crate::routes::audit_schema::{CheckpointSchema, ConsistencySchema, InclusionSchema};
use crate::service::{authorize, internal};
use crate::state::AppState;

/// The media type of a checkpoint's signed note.
pub const CHECKPOINT_TEXT: &str = "text/plain; charset=utf-8";

/// A checkpoint as JSON, with its signed text.
#[derive(Debug, Serialize)]
pub struct CheckpointView {
    origin: String,
    tree_size: u64,
    root_hash: String,
    time: String,
    key_name: String,
    signature: String,
    text: String,
}

/// The query of an inclusion proof.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    seq: Option<String>,
    tree_size: Option<String>,
}

/// The query of a consistency proof.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    from: Option<String>,
    to: Option<String>,
}

/// An inclusion proof of one event in a checkpointed tree.
#[derive(Debug, Serialize)]
pub struct InclusionView {
    seq: u64,
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: String,
    path: Vec<String>,
    checkpoint: CheckpointView,
}

/// A consistency proof between two tree sizes.
#[derive(Debug, Serialize)]
pub struct ConsistencyView {
    from: u64,
    to: u64,
    path: Vec<String>,
    checkpoint: CheckpointView,
}

/// The latest signed checkpoint: JSON, or the signed note itself for `Accept: text/plain`.
#[utoipa::path(get, path = "/v1/audit/checkpoints/latest", tag = "audit",
    responses(
        (status = 200, description = "the latest checkpoint", body = CheckpointSchema),
        (status = 403, description = "not allowed", body = crate::problem::Problem),
        (status = 404, description = "no checkpoint yet", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn latest_checkpoint(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &principal, Action::AuditRead, &Resource::Gateway).await?;
    let signed = latest(&state).await?;
    let details = json!({ "tree_size": signed.checkpoint.tree_size });
    record_read(&state, &principal, "checkpoint", details).await?;
    if wants_text(&headers) {
        let mut response = signed.text.into_response();
        let value = HeaderValue::from_static(CHECKPOINT_TEXT);
        response.headers_mut().insert(header::CONTENT_TYPE, value);
        return Ok(response);
    }
    Ok(Json(view(&signed)).into_response())
}

/// Proves that event `seq` is in the checkpointed tree of `tree_size` (latest by default).
#[utoipa::path(get, path = "/v1/audit/proofs/inclusion", tag = "audit",
    params(
        ("seq" = u64, Query, description = "the event, from 1"),
        ("tree_size" = Option<u64>, Query,
            description = "a checkpointed tree size; the latest checkpoint's when absent"),
    ),
    responses(
        (status = 200, description = "the proof and its checkpoint", body = InclusionSchema),
        (status = 400, description = "invalid query", body = crate::problem::Problem),
        (status = 403, description = "not allowed", body = crate::problem::Problem),
        (status = 404, description = "no checkpoint yet", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn inclusion(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiQuery(query): ApiQuery<InclusionQuery>,
) -> Result<Json<InclusionView>, ApiError> {
    authorize(&state, &principal, Action::AuditRead, &Resource::Gateway).await?;
    let seq = required_number("seq", query.seq.as_deref())?;
    let asked = query.tree_size.as_deref();
    let signed = match asked {
        Some(text) => checkpoint_of_size(&state, "tree_size", number("tree_size", text)?).await?,
        None => latest(&state).await?,
    };
    let tree_size = signed.checkpoint.tree_size;
    if !(1..=tree_size).contains(&seq) {
        let rule = format!("`seq` must be from 1 to the tree size {tree_size}");
        return Err(ApiError::invalid("seq", rule));
    }
    let store = &state.store;
    let proof = store
        .inclusion_proof(seq, tree_size)
        .await
        .map_err(|e| internal("inclusion proof", &e))?;
    let leaf = store
        .audit_leaf_hashes(seq - 1..seq)
        .await
        .map_err(|e| internal("leaf hash", &e))?;
    let leaf = leaf
        .first()
        .ok_or_else(|| internal("leaf hash", &"missing"))?;

    let details = json!({ "seq": seq, "tree_size": tree_size });
    record_read(&state, &principal, "inclusion_proof", details).await?;
    Ok(Json(InclusionView {
        seq,
        leaf_index: proof.leaf_index,
        tree_size,
        leaf_hash: STANDARD.encode(leaf),
        path: proof.path.iter().map(|h| STANDARD.encode(h)).collect(),
        checkpoint: view(&signed),
    }))
}

/// Proves that the tree of `from` events is a prefix of the checkpointed tree of `to`.
#[utoipa::path(get, path = "/v1/audit/proofs/consistency", tag = "audit",
    params(
        ("from" = u64, Query, description = "the older tree size, from 1"),
        ("to" = u64, Query, description = "a checkpointed tree size, at least `from`"),
    ),
    responses(
        (status = 200, description = "the proof and the checkpoint of `to`",
            body = ConsistencySchema),
        (status = 400, description = "invalid query", body = crate::problem::Problem),
        (status = 403, description = "not allowed", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn consistency(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiQuery(query): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyView>, ApiError> {
    authorize(&state, &principal, Action::AuditRead, &Resource::Gateway).await?;
    let from = required_number("from", query.from.as_deref())?;
    let to = required_number("to", query.to.as_deref())?;
    if from == 0 || from > to {
        return Err(ApiError::invalid("from", "`from` must be from 1 to `to`"));
    }
    let signed = checkpoint_of_size(&state, "to", to).await?;
    let path = state
        .store
        .consistency_proof(from, to)
        .await
        .map_err(|e| internal("consistency proof", &e))?;

    let details = json!({ "from": from, "to": to });
    record_read(&state, &principal, "consistency_proof", details).await?;
    Ok(Json(ConsistencyView {
        from,
        to,
        path: path.iter().map(|h| STANDARD.encode(h)).collect(),
        checkpoint: view(&signed),
    }))
}

/// The checkpoint as JSON.
pub fn view(signed: &SignedCheckpoint) -> CheckpointView {
    let checkpoint = &signed.checkpoint;
    let (key_name, signature) = signature_line(&signed.text);
    CheckpointView {
        origin: checkpoint.origin.clone(),
        tree_size: checkpoint.tree_size,
        root_hash: STANDARD.encode(checkpoint.root_hash),
        time: rampart_audit::time::format(&checkpoint.time),
        key_name,
        signature,
        text: signed.text.clone(),
    }
}

/// The key name and base64 signature of a note's last signature line.
fn signature_line(text: &str) -> (String, String) {
    let line = text
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("\u{2014} "))
        .unwrap_or_default();
    let (name, signature) = line.split_once(' ').unwrap_or_default();
    (name.to_owned(), signature.to_owned())
}

async fn latest(state: &AppState) -> Result<SignedCheckpoint, ApiError> {
    let latest = state
        .store
        .latest_checkpoint()
        .await
        .map_err(|e| internal("checkpoint", &e))?;
    latest.ok_or(ApiError::NotFound)
}

/// The checkpoint of exactly `size` events, or a 400 naming `field`.
async fn checkpoint_of_size(
    state: &AppState,
    field: &str,
    size: u64,
) -> Result<SignedCheckpoint, ApiError> {
    let found = state
        .store
        .checkpoint_at_or_before(size)
        .await
        .map_err(|e| internal("checkpoint", &e))?;
    found
        .filter(|signed| signed.checkpoint.tree_size == size)
        .ok_or_else(|| {
            let rule = format!("`{field}` must be the tree size of a checkpoint");
            ApiError::invalid(field, rule)
        })
}

fn required_number(field: &str, text: Option<&str>) -> Result<u64, ApiError> {
    let text = text.ok_or_else(|| ApiError::invalid(field, format!("`{field}` is required")))?;
    number(field, text)
}

fn number(field: &str, text: &str) -> Result<u64, ApiError> {
    let canonical = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    text.parse()
        .ok()
        .filter(|_| canonical)
        .ok_or_else(|| ApiError::invalid(field, format!("`{field}` must be a whole number")))
}

/// Whether the client asked for the signed note rather than JSON.
fn wants_text(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| {
            accept.split(',').any(|kind| {
                kind.split(';')
                    .next()
                    .is_some_and(|k| k.trim() == "text/plain")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_line_gives_the_key_name_and_signature() {
        let text = "origin\n1\nAAAA\n2026-01-01T00:00:00.000000Z\n\n\u{2014} rampart-audit QUJD\n";
        assert_eq!(
            signature_line(text),
            ("rampart-audit".to_owned(), "QUJD".to_owned())
        );
    }

    #[test]
    fn numbers_are_plain_decimal_digits() {
        assert_eq!(number("seq", "42").unwrap(), 42);
        for bad in ["", "-1", "+1", "1e3", " 1", "18446744073709551616"] {
            assert!(number("seq", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_is_chosen_only_when_asked_for() {
        let mut headers = HeaderMap::new();
        assert!(!wants_text(&headers));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/plain;q=1, */*"),
        );
        assert!(wants_text(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!wants_text(&headers));
    }
}
