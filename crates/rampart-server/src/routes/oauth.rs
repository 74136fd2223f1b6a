//! The OAuth 2.0 token endpoint (client credentials) and the published key set.
//!
//! Clients authenticate with `client_secret_basic`, `client_secret_post` or `private_key_jwt`
//! (see [`crate::routes::oauth_assertion`]), never two at once. An unknown client costs the
//! same argon2id verification as a wrong secret, and every answer says only `invalid_client`,
//! so the endpoint does not tell which client ids exist. No secret or token is logged.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use rampart_audit::{Outcome, action};
use rampart_auth::secret::{verify_dummy, verify_secret};
use rampart_core::{Principal, PrincipalKind};
use rampart_store::ClientRecord;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::extract::{from_bytes_rejection, require_media_type};
use crate::request_id;
use crate::routes::oauth_assertion;
use crate::service::audit::{self, ANONYMOUS};
use crate::state::AppState;

/// The longest client id looked up.
const MAX_CLIENT_ID: usize = 128;

/// The longest client secret verified.
const MAX_SECRET: usize = 512;

/// An error of the token endpoint (RFC 6749, section 5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    /// A parameter is missing, repeated or malformed, or two methods were used.
    InvalidRequest(&'static str),
    /// The client is unknown, disabled or its secret is wrong.
    InvalidClient {
        /// Whether the client used HTTP Basic (and gets a `Basic` challenge).
        basic: bool,
    },
    /// The grant type is not `client_credentials` or `refresh_token`.
    UnsupportedGrantType,
    /// The refresh token is malformed, unknown, expired, revoked or reused.
    InvalidGrant,
    /// The token was not issued to the calling client (RFC 7009, section 2.1).
    UnauthorizedClient,
    /// Something failed on the gateway's side.
    ServerError,
}

impl OAuthError {
    pub(crate) fn parts(self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::InvalidRequest(why) => (StatusCode::BAD_REQUEST, "invalid_request", why),
            Self::InvalidClient { .. } => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            ),
            Self::UnsupportedGrantType => (
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only `client_credentials` and `refresh_token` are supported",
            ),
            Self::InvalidGrant => (
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "the refresh token is not valid",
            ),
            Self::UnauthorizedClient => (
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "the token was not issued to this client",
            ),
            Self::ServerError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "an internal error occurred",
            ),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let (status, error, description) = self.parts();
        let body = json!({
            "error": error,
            "error_description": description,
            "code": format!("oauth.{error}"),
            "request_id": request_id::current(),
        });
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Self::InvalidClient { basic: true } = self {
            let challenge = HeaderValue::from_static("Basic realm=\"rampart\"");
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

/// Client credentials as presented, before they are checked.
pub(crate) struct Credentials {
    client_id: String,
    secret: SecretString,
    basic: bool,
}

/// Issues an access token for the client credentials grant.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "`grant_type=client_credentials`, and `client_id` and `client_secret` \
                       unless sent with HTTP Basic"),
    responses(
        (status = 200, description = "a token", body = crate::routes::schema::TokenResponseSchema),
        (status = 400, description = "bad request", body = crate::routes::schema::OAuthErrorSchema),
        (status = 401, description = "bad client", body = crate::routes::schema::OAuthErrorSchema),
    ))]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return from_bytes_rejection(rejection).into_response(),
    };
    match issue(&state, &headers, &body).await {
        Ok(response) => response,
        Err((error, actor, reason)) => {
            if !matches!(error, OAuthError::ServerError) {
                let event = audit::event(
                    &actor,
                    action::AUTH_TOKEN_REFUSED,
                    "gateway",
                    Outcome::Denied,
                )
                .details(json!({ "reason": reason }));
                audit::append_or_log(&state.store, event).await;
            }
            error.into_response()
        }
    }
}

pub(crate) type Refusal = (OAuthError, String, &'static str);

async fn issue(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, Refusal> {
    let anonymous = |error: OAuthError, reason| (error, ANONYMOUS.to_owned(), reason);
    require_media_type(headers, "application/x-www-form-urlencoded").map_err(|_| {
        anonymous(
            OAuthError::InvalidRequest("the body must be form-encoded"),
            "media_type",
        )
    })?;
    let form = parse_form(body).map_err(|e| anonymous(e, "malformed_form"))?;
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some("refresh_token") => {
            return crate::routes::oauth_session::refresh_grant(state, &form)
                .await
                .map_err(|e| anonymous(e, "refresh_token"));
        }
        Some(_) => return Err(anonymous(OAuthError::UnsupportedGrantType, "grant_type")),
        None => {
            let error = OAuthError::InvalidRequest("`grant_type` is required");
            return Err(anonymous(error, "grant_type"));
        }
    }
    let client = if oauth_assertion::is_assertion(&form) {
        oauth_assertion::authenticate(state, headers, &form).await?
    } else {
        let credentials = credentials(headers, &form).map_err(|e| anonymous(e, "credentials"))?;
        authenticate(state, &credentials).await?
    };

    let principal = Principal {
        id: client.id.clone(),
        kind: PrincipalKind::Client,
        roles: client.roles.clone(),
        accounts: client.accounts.clone(),
    };
    let server_error = || (OAuthError::ServerError, client.id.clone(), "issue");
    let issued = state
        .issuer
        .issue(&principal, Utc::now().timestamp())
        .map_err(|_| server_error())?;
    let event = audit::event(
        &client.id,
        action::AUTH_TOKEN_ISSUED,
        &format!("client:{}", client.id),
        Outcome::Success,
    )
    .details(json!({ "jti": issued.jti, "expires_in": issued.expires_in }));
    audit::append(&state.store, event)
        .await
        .map_err(|_| server_error())?;

    let body = json!({
        "access_token": issued.access_token.expose_secret(),
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
    });
    let mut response = (StatusCode::OK, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Checks the credentials against the store, spending one argon2id verification whatever happens.
pub(crate) async fn authenticate(
    state: &AppState,
    credentials: &Credentials,
) -> Result<ClientRecord, Refusal> {
    let invalid = OAuthError::InvalidClient {
        basic: credentials.basic,
    };
    let found = if credentials.client_id.len() <= MAX_CLIENT_ID {
        state
            .store
            .client(&credentials.client_id)
            .await
            .map_err(|error| {
                tracing::error!(%error, "client lookup failed");
                (OAuthError::ServerError, ANONYMOUS.to_owned(), "store")
            })?
    } else {
        None
    };

    let secret = credentials.secret.clone();
    let hash = found.as_ref().map(|client| client.secret_hash.clone());
    let verified = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_secret(&hash, &secret),
        None => {
            verify_dummy(&secret);
            false
        }
    })
    .await
    .unwrap_or(false);

    match found {
        None => Err((invalid, ANONYMOUS.to_owned(), "unknown_client")),
        Some(client) if client.disabled => Err((invalid, client.id, "disabled_client")),
        Some(client) if !verified => Err((invalid, client.id, "wrong_secret")),
        Some(client) => Ok(client),
    }
}

/// The form parameters; a repeated parameter is refused (RFC 6749, section 3.2).
pub(crate) fn parse_form(body: &[u8]) -> Result<BTreeMap<String, String>, OAuthError> {
    let mut form = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        if form.insert(name.into_owned(), value.into_owned()).is_some() {
            return Err(OAuthError::InvalidRequest("a parameter is repeated"));
        }
    }
    Ok(form)
}

/// The credentials from HTTP Basic or from the body, refusing both at once.
pub(crate) fn credentials(
    headers: &HeaderMap,
    form: &BTreeMap<String, String>,
) -> Result<Credentials, OAuthError> {
    if headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .nth(1)
        .is_some()
    {
        return Err(OAuthError::InvalidRequest(
            "use one client authentication method",
        ));
    }
    let in_body = form.contains_key("client_id") || form.contains_key("client_secret");
    let credentials = match headers.get(header::AUTHORIZATION) {
        Some(_) if in_body => {
            return Err(OAuthError::InvalidRequest(
                "use one client authentication method",
            ));
        }
        Some(value) => basic(value)?,
        None => {
            let id = form.get("client_id");
            let secret = form.get("client_secret");
            let (Some(id), Some(secret)) = (id, secret) else {
                return Err(OAuthError::InvalidRequest(
                    "client credentials are required",
                ));
            };
            Credentials {
                client_id: id.clone(),
                secret: SecretString::from(secret.clone()),
                basic: false,
            }
        }
    };
    if credentials.client_id.is_empty() || credentials.secret.expose_secret().len() > MAX_SECRET {
        return Err(OAuthError::InvalidClient {
            basic: credentials.basic,
        });
    }
    Ok(credentials)
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749, section 2.3.1).
fn basic(value: &HeaderValue) -> Result<Credentials, OAuthError> {
    let malformed = OAuthError::InvalidClient { basic: true };
    let text = value.to_str().map_err(|_| malformed)?;
    let (scheme, encoded) = text.split_once(' ').ok_or(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed);
    }
    let decoded = zeroize::Zeroizing::new(STANDARD.decode(encoded.trim()).map_err(|_| malformed)?);
    let decoded = std::str::from_utf8(&decoded).map_err(|_| malformed)?;
    let (id, secret) = decoded.split_once(':').ok_or(malformed)?;
    Ok(Credentials {
        client_id: form_decode(id),
        secret: SecretString::from(form_decode(secret)),
        basic: true,
    })
}

fn form_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// The JSON Web Key Set of the token-signing keys.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "oauth",
    responses((status = 200, description = "the key set", body = Object)))]
pub async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.verifier.jwks(Utc::now().timestamp()))
}

/// The authorization server metadata (RFC 8414).
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    responses((status = 200, description = "the metadata", body = Object)))]
pub async fn metadata(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.metadata.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let raw = STANDARD.encode("my%20client:s%3Acret+x");
        let value = HeaderValue::from_str(&format!("Basic {raw}")).unwrap();
        let credentials = basic(&value).unwrap();
        assert_eq!(credentials.client_id, "my client");
        assert_eq!(credentials.secret.expose_secret(), "s:cret x");
    }

    #[test]
    fn both_authentication_methods_at_once_are_refused() {
        let mut headers = HeaderMap::new();
        let raw = STANDARD.encode("id:secret");
        headers.insert(
            header::AUTHORIZATION,
            format!("Basic {raw}").parse().unwrap(),
        );
        let form = parse_form(b"grant_type=client_credentials&client_secret=x").unwrap();
        assert!(matches!(
            credentials(&headers, &form),
            Err(OAuthError::InvalidRequest(_))
        ));
    }

    #[test]
    fn repeated_parameter_is_refused() {
        let error = parse_form(b"grant_type=a&grant_type=b").unwrap_err();
        assert!(matches!(error, OAuthError::InvalidRequest(_)));
    }

    #[test]
    fn post_credentials_need_both_id_and_secret() {
        let form = parse_form(b"grant_type=client_credentials&client_id=x").unwrap();
        assert!(credentials(&HeaderMap::new(), &form).is_err());
    }
}
