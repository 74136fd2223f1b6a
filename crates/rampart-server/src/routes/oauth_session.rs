//! Refresh grants, revocation (RFC 7009) and introspection (RFC 7662).
//!
//! A refresh token is rotated on every use and its reuse revokes the family.
//! Revocation (RFC 7009, section 2.1) authenticates the calling client when
//! it presents credentials: an API client's tokens are revoked only by that
//! client, authenticated; a person's tokens (and outside tokens), issued to
//! the first-party sign-in rather than to any client, by whoever holds them,
//! without client credentials. An unknown or invalid token answers 200, so
//! that it tells nothing; a revoked access token is refused at once by every
//! bearer check. A client authenticates to revocation as to the token
//! endpoint: a secret (Basic or in the body) or `private_key_jwt` (RFC 7523).
//! Every refused revocation (bad client authentication, a token of another
//! client, a client's token without its client) leaves an
//! `auth.token.revocation_refused` event naming why; a refused client
//! authentication at introspection leaves an `auth.token.introspection_refused`
//! one. Introspection requires client authentication and answers
//! `{"active": false}` for anything not valid now;
//! what it says of a token, ours or a trusted issuer's, is `routes::introspection`.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rampart_audit::Outcome;
use rampart_auth::hash_refresh_token;
use rampart_auth::refresh::is_well_formed;
use rampart_core::PrincipalKind;
use serde_json::{Value, json};

use crate::extract::{from_bytes_rejection, require_media_type};
use crate::routes::auth::token_body;
use crate::routes::oauth::{OAuthError, Refusal, authenticate, credentials, parse_form};
use crate::routes::{introspection, oauth_assertion};
use crate::service::audit::{self, ANONYMOUS};
use crate::service::identity_action as act;
use crate::service::sessions::{self, RefreshRefusal};
use crate::state::AppState;

/// The longest token read by revocation and introspection.
pub(crate) const MAX_TOKEN: usize = 16 * 1024;

/// The audit action of a refused revocation request.
pub const TOKEN_REVOCATION_REFUSED: &str = "auth.token.revocation_refused";

/// The audit action of an introspection request refused for its client authentication.
pub const TOKEN_INTROSPECTION_REFUSED: &str = "auth.token.introspection_refused";

/// The RFC 8414 metadata, with the grants, methods and endpoints of this module.
pub fn metadata(issuer: &str) -> Value {
    let base = issuer.trim_end_matches('/');
    let mut document = rampart_auth::authorization_server_metadata(issuer);
    let entries = [
        (
            "grant_types_supported",
            json!(["client_credentials", "refresh_token"]),
        ),
        (
            "token_endpoint_auth_methods_supported",
            json!([
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt"
            ]),
        ),
        (
            "token_endpoint_auth_signing_alg_values_supported",
            json!(["EdDSA", "ES256", "RS256"]),
        ),
        ("revocation_endpoint", json!(format!("{base}/oauth/revoke"))),
        (
            "introspection_endpoint",
            json!(format!("{base}/oauth/introspect")),
        ),
        (
            "revocation_endpoint_auth_methods_supported",
            json!([
                "none",
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt"
            ]),
        ),
        (
            "revocation_endpoint_auth_signing_alg_values_supported",
            json!(["EdDSA", "ES256", "RS256"]),
        ),
        (
            "introspection_endpoint_auth_methods_supported",
            json!(["client_secret_basic", "client_secret_post"]),
        ),
    ];
    if let Some(members) = document.as_object_mut() {
        for (name, value) in entries {
            members.insert(name.to_owned(), value);
        }
    }
    document
}

/// Answers `grant_type=refresh_token` at the token endpoint.
pub(crate) async fn refresh_grant(
    state: &AppState,
    form: &BTreeMap<String, String>,
) -> Result<Response, OAuthError> {
    let presented = form
        .get("refresh_token")
        .ok_or(OAuthError::InvalidRequest("`refresh_token` is required"))?;
    match sessions::refresh(state, presented).await {
        Ok(signed_in) => Ok(no_cache((StatusCode::OK, Json(token_body(&signed_in))))),
        Err(RefreshRefusal::Reused | RefreshRefusal::Invalid(_)) => Err(OAuthError::InvalidGrant),
    }
}

/// Revokes a refresh or access token (RFC 7009); always 200 for a well-formed request.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "`token`, optional `token_type_hint`"),
    responses(
        (status = 200, description = "revoked, or nothing to revoke"),
        (status = 400, description = "bad request", body = crate::routes::schema::OAuthErrorSchema),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let form = match read_form(&headers, body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let Some(token) = form.get("token").filter(|t| t.len() <= MAX_TOKEN) else {
        return OAuthError::InvalidRequest("`token` is required").into_response();
    };
    let caller = match calling_client(&state, &headers, &form).await {
        Ok(caller) => caller,
        Err((error, actor, reason)) => {
            return refuse_revocation(&state, error, &actor, reason, "gateway").await;
        }
    };
    if let Err((error, reason, target)) = revoke_token(&state, token, caller.as_deref()).await {
        let actor = caller.as_deref().unwrap_or(ANONYMOUS);
        return refuse_revocation(&state, error, actor, reason, &target).await;
    }
    no_cache(StatusCode::OK)
}

/// Records a refused revocation of `target` (unless the gateway failed) and answers it.
///
/// The target names the token by its id (`token:{jti}`) or its session, never the token.
async fn refuse_revocation(
    state: &AppState,
    error: OAuthError,
    actor: &str,
    reason: &'static str,
    target: &str,
) -> Response {
    if !matches!(error, OAuthError::ServerError) {
        let event = audit::event(actor, TOKEN_REVOCATION_REFUSED, target, Outcome::Denied)
            .details(json!({ "reason": reason }));
        audit::append_or_log(&state.store, event).await;
    }
    error.into_response()
}

/// The authenticated client calling, if it presented credentials; refused if they are wrong.
async fn calling_client(
    state: &AppState,
    headers: &HeaderMap,
    form: &BTreeMap<String, String>,
) -> Result<Option<String>, Refusal> {
    if oauth_assertion::is_assertion(form) {
        let client = oauth_assertion::authenticate(state, headers, form).await?;
        return Ok(Some(client.id));
    }
    let presents = headers.contains_key(header::AUTHORIZATION)
        || form.contains_key("client_id")
        || form.contains_key("client_secret");
    if !presents {
        return Ok(None);
    }
    let presented =
        credentials(headers, form).map_err(|e| (e, ANONYMOUS.to_owned(), "credentials"))?;
    let client = authenticate(state, &presented).await?;
    Ok(Some(client.id))
}

/// Whether `caller` may revoke a token of `subject`: a client's own tokens need
/// that client, authenticated; a person's need no client at all.
fn may_revoke(
    caller: Option<&str>,
    subject: &str,
    subject_is_client: bool,
) -> Result<(), (OAuthError, &'static str)> {
    match (subject_is_client, caller) {
        (true, Some(caller)) if caller == subject => Ok(()),
        (true, None) => Err((
            OAuthError::InvalidClient { basic: false },
            "client_authentication_required",
        )),
        (false, None) => Ok(()),
        (true, Some(_)) => Err((OAuthError::UnauthorizedClient, "another_clients_token")),
        (false, Some(_)) => Err((OAuthError::UnauthorizedClient, "not_a_client_token")),
    }
}

/// A valid access token's subject, whether that is a client, its revocation id and expiry.
struct AccessToken {
    subject: String,
    is_client: bool,
    jti: String,
    expires_at: i64,
}

/// Describes a token to an authenticated client (RFC 7662).
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "`token`, with client credentials (Basic or in the body)"),
    responses(
        (status = 200, description = "`active` and, when active, the token's claims", body = Object),
        (status = 401, description = "bad client", body = crate::routes::schema::OAuthErrorSchema),
    ))]
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let form = match read_form(&headers, body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let presented = match credentials(&headers, &form) {
        Ok(presented) => presented,
        Err(error) => {
            let refusal = (error, ANONYMOUS.to_owned(), "credentials");
            return refuse_introspection(&state, refusal).await;
        }
    };
    let client = match authenticate(&state, &presented).await {
        Ok(client) => client,
        Err(refusal) => return refuse_introspection(&state, refusal).await,
    };
    let Some(token) = form.get("token") else {
        let event = audit::event(
            &client.id,
            TOKEN_INTROSPECTION_REFUSED,
            "gateway",
            Outcome::Denied,
        )
        .details(json!({ "reason": "no_token" }));
        audit::append_or_log(&state.store, event).await;
        return OAuthError::InvalidRequest("`token` is required").into_response();
    };
    let answer = introspection::describe(&state, token).await;
    let active = answer.get("active") == Some(&json!(true));
    let event = audit::event(
        &client.id,
        act::TOKEN_INTROSPECTED,
        "gateway",
        Outcome::Success,
    )
    .details(json!({ "active": active }));
    audit::append_or_log(&state.store, event).await;
    no_cache((StatusCode::OK, Json(answer)))
}

/// Records an introspection refused for its client authentication (unless the
/// gateway failed) and answers it; the event names the client, if known, never a secret.
async fn refuse_introspection(state: &AppState, (error, actor, reason): Refusal) -> Response {
    if !matches!(error, OAuthError::ServerError) {
        let event = audit::event(
            &actor,
            TOKEN_INTROSPECTION_REFUSED,
            "gateway",
            Outcome::Denied,
        )
        .details(json!({ "reason": reason }));
        audit::append_or_log(&state.store, event).await;
    }
    error.into_response()
}

/// A refused revocation: the answer, the audited reason and the audit target.
type RevokeRefusal = (OAuthError, &'static str, String);

async fn revoke_token(
    state: &AppState,
    token: &str,
    caller: Option<&str>,
) -> Result<(), RevokeRefusal> {
    let server_error = |_| (OAuthError::ServerError, "store", String::new());
    // Found and authorised before the write transaction opens: verifying an outside
    // token may fetch its issuer's keys, and a refused caller must not hold the writer.
    let Some(found) = revocable(state, token)
        .await
        .map_err(|error| (error, "store", String::new()))?
    else {
        return Ok(());
    };
    let (actor, target, is_client) = match &found {
        Revocable::Session(f) => (&f.subject, sessions::session_target(&f.id), !f.is_user),
        Revocable::Access(a) => (&a.subject, format!("token:{}", a.jti), a.is_client),
    };
    may_revoke(caller, actor, is_client).map_err(|(e, reason)| (e, reason, target.clone()))?;
    let mut tx = state.store.begin().await.map_err(server_error)?;
    let revoked = match &found {
        Revocable::Session(family) => {
            sessions::revoke_session(state, &mut tx, &family.id, "revoked")
                .await
                .map(|_| ())
        }
        Revocable::Access(access) => {
            sessions::revoke_access_token(state, &mut tx, &access.jti, access.expires_at).await
        }
    };
    revoked.map_err(|_| (OAuthError::ServerError, "store", String::new()))?;
    let event = audit::event(actor, act::TOKEN_REVOKED, &target, Outcome::Success)
        .details(json!({ "by_client": caller }));
    tx.append(audit::stamp(event)).await.map_err(server_error)?;
    tx.commit().await.map_err(server_error)
}

/// What a presented token revokes: a refresh-token family or one access token.
enum Revocable {
    Session(rampart_store::RefreshFamily),
    Access(AccessToken),
}

/// The family or access token `token` names, if it is one of ours or a trusted issuer's.
async fn revocable(state: &AppState, token: &str) -> Result<Option<Revocable>, OAuthError> {
    if !is_well_formed(token) {
        return Ok(access_token(state, token).await.map(Revocable::Access));
    }
    let hash = hash_refresh_token(token);
    let found = state
        .store
        .refresh_family_by_hash(hash.as_str())
        .await
        .map_err(|_| OAuthError::ServerError)?;
    Ok(found.map(|(family, _)| Revocable::Session(family)))
}

/// A valid access token of ours or of a trusted outside issuer.
async fn access_token(state: &AppState, token: &str) -> Option<AccessToken> {
    let now = state.clock.now_unix();
    if let Some(oidc) = crate::oidc::issuer_of(state, token) {
        let (bearer, _) = crate::oidc::verify(state, oidc, token, now).await.ok()?;
        return Some(AccessToken {
            subject: bearer.principal.id,
            is_client: false,
            jti: bearer.jti,
            expires_at: bearer.expires_at,
        });
    }
    let claims = state.verifier.verify(token, now).ok()?;
    let principal = claims.principal();
    Some(AccessToken {
        is_client: principal.kind == PrincipalKind::Client,
        subject: principal.id,
        jti: claims.jti().to_owned(),
        expires_at: claims.expires_at(),
    })
}

/// The form parameters of `body`, or the answer refusing it.
fn read_form(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<BTreeMap<String, String>, Box<Response>> {
    let boxed = |response: Response| Box::new(response);
    let body = body.map_err(|r| boxed(from_bytes_rejection(r).into_response()))?;
    let form_encoded = require_media_type(headers, "application/x-www-form-urlencoded");
    form_encoded.map_err(|_| {
        boxed(OAuthError::InvalidRequest("the body must be form-encoded").into_response())
    })?;
    parse_form(&body).map_err(|e| boxed(e.into_response()))
}

fn no_cache(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
