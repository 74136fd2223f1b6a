//! `/v1/auth`: sign-in, password change, TOTP enrolment and sign-out for people.
//!
//! `POST /v1/auth/login` answers the same problem for an unknown user, a wrong
//! password or a wrong code. A person without MFA, or with a one-time password,
//! gets a restricted token that reaches only `/v1/auth/password` and
//! `/v1/auth/mfa/*`. Secrets shown here (one-time URI, recovery codes, tokens)
//! appear in this answer once and nowhere else; none is logged.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rampart_audit::Outcome;
use rampart_auth::TotpSecret;
use rampart_auth::password::{check_new_password, hash_password, verify_password};
use rampart_auth::recovery::{DEFAULT_CODES, generate_codes, hash_recovery_code};
use rampart_store::StoredUser;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::authn::Bearer;
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::service::identity_action as act;
use crate::service::identity_setup;
use crate::service::login::{self, Credentials};
use crate::service::sessions::{self, SignedIn, session_target};
use crate::service::{audit, internal};
use crate::state::AppState;

/// The issuer name shown in authenticator apps.
const TOTP_ISSUER: &str = "Rampart";

/// The longest password or code read.
const MAX_SECRET_CHARS: usize = 1024;

/// The source address of the connection, for throttling sign-in.
#[derive(Debug, Clone)]
pub struct SourceAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SourceAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string());
        Ok(SourceAddress(address))
    }
}

/// A sign-in request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    username: String,
    password: SecretString,
    #[serde(default)]
    totp_code: Option<SecretString>,
    #[serde(default)]
    recovery_code: Option<SecretString>,
}

/// A password change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    current_password: SecretString,
    new_password: SecretString,
}

/// A first password chosen with a set-up token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    setup_token: SecretString,
    new_password: SecretString,
}

/// The code confirming TOTP enrolment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    code: SecretString,
}

/// Signs a person in with username, password and a TOTP or recovery code.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth",
    request_body(content = Object, description = "`username`, `password`, and `totp_code` \
        or `recovery_code`"),
    responses(
        (status = 200, description = "tokens (restricted until set-up is complete)", body = Object),
        (status = 401, description = "sign-in failed", body = crate::problem::Problem),
        (status = 429, description = "locked for a while", body = crate::problem::Problem),
    ))]
pub async fn login(
    State(state): State<AppState>,
    SourceAddress(address): SourceAddress,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<Value>, ApiError> {
    for (field, value) in [
        ("password", Some(&body.password)),
        ("totp_code", body.totp_code.as_ref()),
        ("recovery_code", body.recovery_code.as_ref()),
    ] {
        if value.is_some_and(|v| v.expose_secret().chars().count() > MAX_SECRET_CHARS) {
            return Err(ApiError::invalid(field, format!("`{field}` is too long")));
        }
    }
    let credentials = Credentials {
        username: body.username,
        password: body.password,
        totp_code: body.totp_code,
        recovery_code: body.recovery_code,
    };
    let signed_in = login::login(&state, credentials, &address).await?;
    Ok(Json(token_body(&signed_in)))
}

/// Changes the signed-in person's password; every other session ends.
#[utoipa::path(post, path = "/v1/auth/password", tag = "auth",
    request_body(content = Object, description = "`current_password`, `new_password`"),
    responses(
        (status = 200, description = "changed", body = Object),
        (status = 400, description = "the new password breaks a rule", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    SourceAddress(address): SourceAddress,
    bearer: Bearer,
    ApiJson(body): ApiJson<PasswordRequest>,
) -> Result<Json<Value>, ApiError> {
    let user = person(&state, &bearer).await?;
    // Judged before the current password is checked, so that a refused new password
    // is not counted as a failed sign-in.
    check_new_password(&body.new_password, &[&user.username]).map_err(|e| {
        ApiError::invalid(
            "new_password",
            e.to_string().replace("`password`", "`new_password`"),
        )
    })?;
    if body.new_password.expose_secret() == body.current_password.expose_secret() {
        return Err(ApiError::invalid(
            "new_password",
            "`new_password` must differ from the current password",
        ));
    }
    let attempt = login::begin_password_check(&state, &user, &address).await?;
    let hash = user.password_hash.clone();
    let current = body.current_password.clone();
    let matches = tokio::task::spawn_blocking(move || verify_password(&hash, &current))
        .await
        .unwrap_or(false);
    if !matches {
        login::password_check_failed(&state, &attempt).await;
        return Err(ApiError::invalid(
            "current_password",
            "`current_password` is not correct",
        ));
    }
    let new_password = body.new_password.clone();
    let new_hash = tokio::task::spawn_blocking(move || hash_password(&new_password))
        .await
        .map_err(|e| internal("hash", &e))?
        .map_err(|e| internal("hash", &e))?;

    let now = state.clock.now();
    let mut tx = state
        .store
        .begin()
        .await
        .map_err(|e| internal("begin", &e))?;
    tx.set_password(&user.id, &new_hash, false)
        .await
        .map_err(|e| internal("password", &e))?;
    login::password_check_passed(&state, &mut tx, &attempt)
        .await
        .map_err(|e| internal("password check", &e))?;
    tx.end_setup_tokens(&user.id, now)
        .await
        .map_err(|e| internal("setup tokens", &e))?;
    let revoked = tx
        .revoke_refresh_families_of(&user.id, "password_changed", now)
        .await
        .map_err(|e| internal("sessions", &e))?;
    let event = audit::event(
        &user.id,
        act::PASSWORD_CHANGED,
        &user_target(&user),
        Outcome::Success,
    )
    .details(json!({ "revoked_sessions": revoked.len() }));
    tx.append(audit::stamp(event))
        .await
        .map_err(|e| internal("event", &e))?;
    tx.commit().await.map_err(|e| internal("commit", &e))?;
    crate::routes::users::end_sessions(&state, &revoked);
    Ok(Json(
        json!({ "password_changed": true, "mfa_enrolled": user.has_mfa() }),
    ))
}

/// Sets a new or reset person's password with their single-use set-up token.
///
/// No bearer token: the set-up token is the credential. The person then signs
/// in with the new password and enrols a second factor.
#[utoipa::path(post, path = "/v1/auth/setup", tag = "auth",
    request_body(content = Object, description = "`setup_token`, `new_password`"),
    responses(
        (status = 200, description = "password set; sign in next", body = Object),
        (status = 400, description = "token not valid, or the password breaks a rule",
            body = crate::problem::Problem),
    ))]
pub async fn setup(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SetupRequest>,
) -> Result<Json<Value>, ApiError> {
    for (field, value) in [
        ("setup_token", &body.setup_token),
        ("new_password", &body.new_password),
    ] {
        if value.expose_secret().chars().count() > MAX_SECRET_CHARS {
            return Err(ApiError::invalid(field, format!("`{field}` is too long")));
        }
    }
    let token = body.setup_token.expose_secret();
    let id = identity_setup::complete(&state, token, &body.new_password).await?;
    Ok(Json(
        json!({ "id": id, "password_set": true, "next": "/v1/auth/login" }),
    ))
}

/// Starts TOTP enrolment: a new seed as an `otpauth://` URI and a QR code (PNG, base64).
#[utoipa::path(post, path = "/v1/auth/mfa/enroll", tag = "auth",
    responses(
        (status = 200, description = "the seed to load into an authenticator", body = Object),
        (status = 409, description = "already enrolled", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn enroll(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<Json<Value>, ApiError> {
    let user = person(&state, &bearer).await?;
    if user.has_mfa() {
        return Err(ApiError::Duplicate(
            "a second factor is enrolled already; an administrator can reset it".to_owned(),
        ));
    }
    let secret = TotpSecret::generate().map_err(|e| internal("totp", &e))?;
    let uri = secret
        .otpauth_uri(TOTP_ISSUER, &user.username)
        .map_err(|e| internal("otpauth", &e))?;
    let png = secret
        .qr_png(TOTP_ISSUER, &user.username)
        .map_err(|e| internal("qr", &e))?;
    let mut tx = state
        .store
        .begin()
        .await
        .map_err(|e| internal("begin", &e))?;
    tx.set_pending_mfa(&user.id, &secret.to_base32())
        .await
        .map_err(|e| internal("pending mfa", &e))?;
    let event = audit::event(
        &user.id,
        act::MFA_ENROLMENT_STARTED,
        &user_target(&user),
        Outcome::Success,
    );
    tx.append(audit::stamp(event))
        .await
        .map_err(|e| internal("event", &e))?;
    tx.commit().await.map_err(|e| internal("commit", &e))?;
    Ok(Json(json!({
        "otpauth_uri": uri.expose_secret(),
        "secret": secret.to_base32().expose_secret(),
        "qr_png_base64": STANDARD.encode(png.as_slice()),
    })))
}

/// Confirms TOTP enrolment with a current code; answers the recovery codes, once.
#[utoipa::path(post, path = "/v1/auth/mfa/confirm", tag = "auth",
    request_body(content = Object, description = "`code`: the current six-digit code"),
    responses(
        (status = 200, description = "enrolled; the recovery codes", body = Object),
        (status = 400, description = "wrong code, or no enrolment started", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<ConfirmRequest>,
) -> Result<Json<Value>, ApiError> {
    let user = person(&state, &bearer).await?;
    let Some(pending) = &user.mfa_pending_secret else {
        return Err(ApiError::invalid(
            "code",
            "start enrolment with `/v1/auth/mfa/enroll` first",
        ));
    };
    let secret = TotpSecret::from_base32(pending).map_err(|e| internal("totp seed", &e))?;
    let now_unix = u64::try_from(state.clock.now_unix()).unwrap_or_default();
    let step = secret
        .verify(body.code.expose_secret(), now_unix, None)
        .ok_or_else(|| ApiError::invalid("code", "`code` is not the current code"))?;
    let (codes, hashes) = recovery_codes().await?;

    let mut tx = state
        .store
        .begin()
        .await
        .map_err(|e| internal("begin", &e))?;
    if !tx
        .confirm_mfa(&user.id, pending, step)
        .await
        .map_err(|e| internal("confirm", &e))?
    {
        return Err(ApiError::invalid(
            "code",
            "start enrolment with `/v1/auth/mfa/enroll` first",
        ));
    }
    tx.replace_recovery_codes(&user.id, &hashes)
        .await
        .map_err(|e| internal("recovery codes", &e))?;
    let event = audit::event(
        &user.id,
        act::MFA_ENROLLED,
        &user_target(&user),
        Outcome::Success,
    )
    .details(json!({ "recovery_codes": hashes.len() }));
    tx.append(audit::stamp(event))
        .await
        .map_err(|e| internal("event", &e))?;
    tx.commit().await.map_err(|e| internal("commit", &e))?;
    let shown: Vec<&str> = codes.iter().map(|c| c.expose_secret()).collect();
    Ok(Json(
        json!({ "mfa_enrolled": true, "recovery_codes": shown }),
    ))
}

/// Signs out: this access token and its session are refused from now on.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth",
    responses((status = 200, description = "signed out", body = Object)),
    security(("bearer" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<Json<Value>, ApiError> {
    let mut tx = state
        .store
        .begin()
        .await
        .map_err(|e| internal("begin", &e))?;
    sessions::revoke_access_token(&state, &mut tx, &bearer.jti, bearer.expires_at).await?;
    let mut ended = false;
    if let Some(sid) = &bearer.sid {
        ended = sessions::revoke_session(&state, &mut tx, sid, "logout").await?;
    }
    let target = bearer
        .sid
        .as_deref()
        .map_or_else(|| "gateway".to_owned(), session_target);
    let event = audit::event(
        &bearer.principal.id,
        act::LOGGED_OUT,
        &target,
        Outcome::Success,
    )
    .details(json!({ "jti": bearer.jti, "session_ended": ended }));
    tx.append(audit::stamp(event))
        .await
        .map_err(|e| internal("event", &e))?;
    tx.commit().await.map_err(|e| internal("commit", &e))?;
    Ok(Json(json!({ "logged_out": true })))
}

/// The token answer of a sign-in or a refresh.
pub fn token_body(signed_in: &SignedIn) -> Value {
    let mut body = serde_json::Map::new();
    let access = signed_in.access.access_token.expose_secret();
    body.insert("access_token".into(), json!(access));
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("expires_in".into(), json!(signed_in.access.expires_in));
    if let Some(refresh) = &signed_in.refresh_token {
        body.insert("refresh_token".into(), json!(refresh.expose_secret()));
    }
    if signed_in.restricted {
        body.insert("restricted".into(), json!(true));
        let next = json!(["/v1/auth/password", "/v1/auth/mfa/enroll"]);
        body.insert("next".into(), next);
    }
    Value::Object(body)
}

/// The person behind a bearer token; clients and outside identities have no password here.
async fn person(state: &AppState, bearer: &Bearer) -> Result<StoredUser, ApiError> {
    let user = state
        .store
        .user(&bearer.principal.id)
        .await
        .map_err(|e| internal("user", &e))?;
    user.ok_or(ApiError::PolicyDenied)
}

async fn recovery_codes() -> Result<(Vec<SecretString>, Vec<String>), ApiError> {
    let codes = generate_codes(DEFAULT_CODES).map_err(|e| internal("recovery codes", &e))?;
    let to_hash = codes.clone();
    let hashes = tokio::task::spawn_blocking(move || {
        to_hash
            .iter()
            .map(hash_recovery_code)
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| internal("recovery hash", &e))?
    .map_err(|e| internal("recovery hash", &e))?;
    Ok((codes, hashes))
}

fn user_target(user: &StoredUser) -> String {
    format!("user:{}", user.id)
}
