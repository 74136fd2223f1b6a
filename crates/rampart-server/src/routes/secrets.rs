//! `/v1/secrets`: the metadata of the gateway's secrets, and rotation on demand.
//!
//! Rule upheld: the API never shows a secret value, only name, version,
//! backend, stage and rotation times. Both routes are for administrators,
//! decided by the Cedar administration policy; each call is audited (the
//! store reads and the rotation's outcome, including a refused or failed one).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use rampart_policy::{Action, Resource};
use rampart_secrets::SecretMeta;
use serde::Serialize;
use utoipa::ToSchema;

use crate::authn::Authenticated;
use crate::extract::ApiPath;
use crate::problem::ApiError;
use crate::secrets::audit::as_actor;
use crate::secrets::rotation::{self, RotateError};
use crate::service::{authorize, internal};
use crate::state::AppState;

/// The Cedar action that reads secret metadata (administrators only).
const READ: Action = Action::SecretRead;

/// The Cedar action that rotates a secret (administrators only).
const ROTATE: Action = Action::SecretRotate;

/// The metadata of one secret; never its value.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretView {
    /// The secret's name.
    name: String,
    /// The current version.
    version: String,
    /// The backend holding it.
    backend: &'static str,
    /// The stage of this version (`current`).
    stage: &'static str,
    /// When the secret was created.
    created_at: DateTime<Utc>,
    /// When the current version became current.
    rotated_at: Option<DateTime<Utc>>,
    /// When the next scheduled rotation is due.
    next_rotation: Option<DateTime<Utc>>,
}

/// The managed secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretList {
    /// One entry per secret.
    secrets: Vec<SecretView>,
}

impl From<SecretMeta> for SecretView {
    fn from(meta: SecretMeta) -> Self {
        Self {
            name: meta.name,
            version: meta.version.to_string(),
            backend: meta.backend,
            stage: meta.stage.as_str(),
            created_at: meta.created_at,
            rotated_at: meta.rotated_at,
            next_rotation: meta.next_rotation,
        }
    }
}

/// Lists the metadata of the secrets the gateway manages.
#[utoipa::path(get, path = "/v1/secrets", tag = "secrets",
    responses(
        (status = 200, description = "metadata only", body = SecretList),
        (status = 403, description = "not an administrator", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<SecretList>, ApiError> {
    authorize(&state, &principal, READ, &Resource::Gateway).await?;
    let managed = &state.secrets;
    let listed = as_actor(
        &principal.id,
        rotation::list(&managed.secrets, &managed.managed),
    );
    let listed = listed.await.map_err(|e| internal("secret metadata", &e))?;
    Ok(Json(SecretList {
        secrets: listed.into_iter().map(SecretView::from).collect(),
    }))
}

/// Rotates a managed secret now.
#[utoipa::path(post, path = "/v1/secrets/{name}/rotate", tag = "secrets",
    params(("name" = String, Path, description = "the secret's name")),
    responses(
        (status = 200, description = "rotated; metadata of the new version", body = SecretView),
        (status = 403, description = "not an administrator", body = crate::problem::Problem),
        (status = 404, description = "not a managed secret", body = crate::problem::Problem),
        (status = 409, description = "rotated too recently", body = crate::problem::Problem),
        (status = 503, description = "rotation failed; current unchanged",
            body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn rotate(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<SecretView>, ApiError> {
    authorize(&state, &principal, ROTATE, &Resource::Gateway).await?;
    if !state.secrets.is_managed(&name) {
        return Err(ApiError::NotFound);
    }
    let rotated = state
        .secrets
        .rotate(&principal.id, &name, &state.issuer, state.broker())
        .await;
    match rotated {
        Ok(meta) => Ok(Json(SecretView::from(meta))),
        Err(RotateError::Unknown(_)) => Err(ApiError::NotFound),
        Err(RotateError::Settling { until, .. }) => Err(ApiError::RotationTooSoon(until)),
        Err(error) => {
            tracing::warn!(%error, secret = %name, "rotation failed");
            Err(ApiError::RotationFailed)
        }
    }
}
