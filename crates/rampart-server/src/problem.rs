//! Every error the API returns, as an RFC 9457 `application/problem+json` document.
//!
//! Each variant of [`ApiError`] has a fixed status, a stable machine `code` and a
//! fixed title. The `detail` is written by Rampart in the user's terms and never
//! echoes a secret or a raw input value; the field at fault is named instead.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rampart_core::{FieldError, OrderId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_id;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The prefix of every problem `type` URI; the code follows it.
pub const TYPE_PREFIX: &str = "urn:rampart:problem:";

/// The challenge sent with a 401 for a missing token (RFC 6750, section 3).
pub const CHALLENGE_MISSING: &str = "Bearer realm=\"rampart\"";

/// The challenge sent with a 401 for a token that was refused.
pub const CHALLENGE_INVALID: &str = "Bearer realm=\"rampart\", error=\"invalid_token\"";

/// The challenge for a token without MFA (RFC 9470 step-up authentication).
pub const CHALLENGE_MFA: &str =
    "Bearer realm=\"rampart\", error=\"insufficient_user_authentication\"";

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// A field is missing, unknown or out of bounds.
    #[error("{detail}")]
    Invalid {
        /// The path of the offending field, such as `quantity`.
        field: Option<String>,
        /// What is wrong with it.
        detail: String,
    },
    /// The body is not well-formed JSON.
    #[error("{0}")]
    MalformedJson(String),
    /// The body is larger than the configured limit.
    #[error("the request body is too large")]
    TooLarge,
    /// The body is not `application/json`.
    #[error("the request body must be `application/json`")]
    UnsupportedMediaType,
    /// The request took longer than the configured timeout.
    #[error("the request took too long")]
    Timeout,
    /// No bearer token was sent.
    #[error("a bearer token is required")]
    MissingToken,
    /// The bearer token was refused.
    #[error("the bearer token is not valid")]
    InvalidToken,
    /// An outside token does not show multi-factor authentication.
    #[error("multi-factor authentication is required: sign in again with a second factor")]
    MfaRequired,
    /// The policy denied the action.
    #[error("the policy does not allow this action")]
    PolicyDenied,
    /// Nothing is known by that name, or the caller may not know it exists.
    #[error("the resource does not exist")]
    NotFound,
    /// The route exists but not with this method.
    #[error("this method is not allowed on this resource")]
    MethodNotAllowed,
    /// The client order id was used before with another body.
    #[error("`client_order_id` was already used for a different order")]
    DuplicateClientOrderId,
    /// The order is no longer working.
    #[error("the order is not open and cannot be cancelled")]
    NotCancellable,
    /// The kill switch is already engaged for this scope.
    #[error("the kill switch is already engaged for this scope")]
    KillSwitchEngaged,
    /// A pre-trade control refused the order; the rejection is recorded.
    #[error("{detail}")]
    Risk {
        /// The stable control code, such as `risk.max_order_notional`.
        code: String,
        /// Why, in words.
        detail: String,
        /// The id of the recorded rejection.
        order_id: OrderId,
    },
    /// The secret was rotated too recently: its previous version still verifies live tokens.
    #[error("the secret was rotated recently; it can be rotated again from {0}")]
    RotationTooSoon(chrono::DateTime<chrono::Utc>),
    /// The rotation did not complete; the current version stays in use.
    #[error("the rotation did not complete; the current version stays in use")]
    RotationFailed,
    /// The gateway is starting or shutting down.
    #[error("the gateway is not available; retry later")]
    Unavailable,
    /// A person's restricted token: the password must be changed or MFA enrolled first.
    #[error("finish signing in first: change the password and enrol a second factor")]
    SetupRequired,
    /// The change was made, but its set-up token could not reach the person and was withdrawn.
    #[error("{0}; the set-up token was withdrawn: ask for a new one once delivery works")]
    SetupUndelivered(String),
    /// The sign-in failed; the same answer whatever was wrong.
    #[error("the username, password or code is not valid")]
    LoginFailed,
    /// Too many failed sign-ins for this user or address.
    #[error("too many failed sign-ins; try again later")]
    LockedOut,
    /// The roles asked for may not be held together (segregation of duties).
    #[error("{0}")]
    RoleConflict(String),
    /// A record with the same unique name exists already.
    #[error("{0}")]
    Duplicate(String),
    /// The decider is the proposer, or on the proposer's side.
    #[error("an approval must be decided by someone other than its proposer")]
    SelfApproval,
    /// The proposer or decider is a privileged client with no owner to answer for it.
    #[error("{0}")]
    UnownedPrivilegedClient(String),
    /// The approval is decided or expired already.
    #[error("{0}")]
    ApprovalClosed(String),
    /// The approval's proposer has been disabled since: it can only be rejected.
    #[error("{0}")]
    ProposerDisabled(String),
    /// A proposed risk limit is above its firm-wide cap.
    #[error("{0}")]
    LimitCap(String),
    /// The limits moved to another version since the proposal was made.
    #[error("{0}")]
    StaleProposal(String),
    /// No decision can be applied for this kind of approval.
    #[error("approvals of kind `{0}` cannot be decided here")]
    UnsupportedApproval(String),
    /// A privileged role grant for the person is still pending.
    #[error("{0}")]
    GrantPending(String),
    /// The person changed since the role grant was proposed.
    #[error("{0}")]
    GrantChanged(String),
    /// The role grant was proposed by an earlier version and cannot be checked.
    #[error("{0}")]
    GrantOutdated(String),
    /// Something failed that should not; the cause is logged, not returned.
    #[error("an internal error occurred")]
    Internal,
}

/// The body of a problem response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:rampart:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A fixed, human-readable summary of the kind of problem.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// The stable machine code, such as `request.invalid` or `risk.price_collar`.
    pub code: String,
    /// The id of the request, as echoed in `x-request-id`.
    pub request_id: String,
    /// For validation errors, the path of the offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For an order refused by a control, the id of the recorded rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub order_id: Option<OrderId>,
}

impl ApiError {
    /// A validation error for a field of the domain types.
    pub fn field(error: &FieldError) -> Self {
        Self::Invalid {
            field: Some(error.field.to_owned()),
            detail: error.to_string(),
        }
    }

    /// A validation error for a named field with a message written by Rampart.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.to_owned()),
            detail: detail.into(),
        }
    }

    /// The HTTP status of this kind of error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid { .. } | Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::MissingToken | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::MfaRequired => StatusCode::UNAUTHORIZED,
            Self::PolicyDenied => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::DuplicateClientOrderId | Self::NotCancellable | Self::KillSwitchEngaged => {
                StatusCode::CONFLICT
            }
            Self::Risk { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RotationTooSoon(_) => StatusCode::CONFLICT,
            Self::RotationFailed => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::SetupRequired | Self::SelfApproval | Self::UnownedPrivilegedClient(_) => {
                StatusCode::FORBIDDEN
            }
            Self::SetupUndelivered(_) => StatusCode::BAD_GATEWAY,
            Self::LoginFailed => StatusCode::UNAUTHORIZED,
            Self::LockedOut => StatusCode::TOO_MANY_REQUESTS,
            Self::RoleConflict(_) | Self::Duplicate(_) | Self::ApprovalClosed(_) => {
                StatusCode::CONFLICT
            }
            Self::ProposerDisabled(_) => StatusCode::CONFLICT,
            Self::LimitCap(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::StaleProposal(_) | Self::UnsupportedApproval(_) => StatusCode::CONFLICT,
            Self::GrantPending(_) | Self::GrantChanged(_) | Self::GrantOutdated(_) => {
                StatusCode::CONFLICT
            }
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine code.
    pub fn code(&self) -> &str {
        match self {
            Self::Invalid { .. } => "request.invalid",
            Self::MalformedJson(_) => "request.malformed_json",
            Self::TooLarge => "request.too_large",
            Self::UnsupportedMediaType => "request.unsupported_media_type",
            Self::Timeout => "request.timeout",
            Self::MissingToken => "auth.missing_token",
            Self::InvalidToken => "auth.invalid_token",
            Self::MfaRequired => "auth.mfa_required",
            Self::PolicyDenied => "policy.denied",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "request.method_not_allowed",
            Self::DuplicateClientOrderId => "order.duplicate_client_order_id",
            Self::NotCancellable => "order.not_cancellable",
            Self::KillSwitchEngaged => "killswitch.already_engaged",
            Self::Risk { code, .. } => code,
            Self::RotationTooSoon(_) => "secret.rotation_too_soon",
            Self::RotationFailed => "secret.rotation_failed",
            Self::Unavailable => "unavailable",
            Self::SetupRequired => "auth.setup_required",
            Self::SetupUndelivered(_) => "auth.setup_undelivered",
            Self::LoginFailed => "auth.login_failed",
            Self::LockedOut => "auth.locked",
            Self::RoleConflict(_) => "user.role_conflict",
            Self::Duplicate(_) => "request.duplicate",
            Self::SelfApproval => "approval.self_approval",
            Self::UnownedPrivilegedClient(_) => "approval.unowned_privileged_client",
            Self::ApprovalClosed(_) => "approval.closed",
            Self::ProposerDisabled(_) => "approval.proposer_disabled",
            Self::LimitCap(_) => "risk_limits.above_cap",
            Self::StaleProposal(_) => "risk_limits.stale",
            Self::UnsupportedApproval(_) => "approval.unsupported_kind",
            Self::GrantPending(_) => "user.grant_pending",
            Self::GrantChanged(_) => "approval.target_changed",
            Self::GrantOutdated(_) => "approval.proposal_outdated",
            Self::Internal => "internal",
        }
    }

    /// The fixed title of this kind of error.
    pub fn title(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "Invalid request",
            Self::MalformedJson(_) => "Malformed JSON",
            Self::TooLarge => "Request body too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::Timeout => "Request timeout",
            Self::MissingToken => "Authentication required",
            Self::InvalidToken => "Invalid token",
            Self::MfaRequired => "Multi-factor authentication required",
            Self::PolicyDenied => "Forbidden",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::DuplicateClientOrderId => "Duplicate client order id",
            Self::NotCancellable => "Order not cancellable",
            Self::KillSwitchEngaged => "Kill switch already engaged",
            Self::Risk { .. } => "Order rejected by a pre-trade control",
            Self::RotationTooSoon(_) => "Rotated too recently",
            Self::RotationFailed => "Rotation failed",
            Self::Unavailable => "Service unavailable",
            Self::SetupRequired => "Sign-in set-up required",
            Self::SetupUndelivered(_) => "Set-up token not delivered",
            Self::LoginFailed => "Sign-in failed",
            Self::LockedOut => "Sign-in locked",
            Self::RoleConflict(_) => "Segregation of duties",
            Self::Duplicate(_) => "Already exists",
            Self::SelfApproval => "Self-approval refused",
            Self::UnownedPrivilegedClient(_) => "Privileged client has no owner",
            Self::ApprovalClosed(_) => "Approval closed",
            Self::ProposerDisabled(_) => "Proposer disabled",
            Self::LimitCap(_) => "Above the firm-wide cap",
            Self::StaleProposal(_) => "Proposal out of date",
            Self::UnsupportedApproval(_) => "Unsupported approval kind",
            Self::GrantPending(_) => "Role grant pending",
            Self::GrantChanged(_) => "Person changed since the proposal",
            Self::GrantOutdated(_) => "Proposal from an earlier version",
            Self::Internal => "Internal error",
        }
    }

    /// The problem document of this error for the current request.
    pub fn problem(&self) -> Problem {
        let code = self.code().to_owned();
        Problem {
            problem_type: format!("{TYPE_PREFIX}{code}"),
            title: self.title(),
            status: self.status().as_u16(),
            detail: self.to_string(),
            code,
            request_id: request_id::current(),
            field: match self {
                Self::Invalid { field, .. } => field.clone(),
                _ => None,
            },
            order_id: match self {
                Self::Risk { order_id, .. } => Some(*order_id),
                _ => None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match self {
            Self::MissingToken => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(CHALLENGE_MISSING),
                );
            }
            Self::InvalidToken => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(CHALLENGE_INVALID),
                );
            }
            Self::MfaRequired => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(CHALLENGE_MFA),
                );
            }
            Self::Unavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}

/// The answer to a route that does not exist.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// The answer to a known route called with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;
    use rampart_core::FieldErrorKind;

    use super::*;

    async fn body_of(error: ApiError) -> (StatusCode, serde_json::Value, Response) {
        let response = request_id::scope("req-1".into(), async { error.into_response() }).await;
        let status = response.status();
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, 1 << 16).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap();
        (
            status,
            json,
            Response::from_parts(parts, axum::body::Body::empty()),
        )
    }

    #[tokio::test]
    async fn validation_error_names_the_field_and_the_request() {
        let error = ApiError::field(&FieldError::new("quantity", FieldErrorKind::NotPositive));
        let (status, json, response) = body_of(error).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(json["code"], "request.invalid");
        assert_eq!(json["type"], "urn:rampart:problem:request.invalid");
        assert_eq!(json["field"], "quantity");
        assert_eq!(json["request_id"], "req-1");
        assert_eq!(json["detail"], "`quantity` must be greater than zero");
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }

    #[tokio::test]
    async fn invalid_token_carries_a_bearer_challenge() {
        let (status, json, response) = body_of(ApiError::InvalidToken).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(json["code"], "auth.invalid_token");
        let challenge = response.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap();
        assert!(challenge.contains("error=\"invalid_token\""));
    }

    #[tokio::test]
    async fn risk_rejection_carries_the_control_code_and_order_id() {
        let order_id = OrderId::generate();
        let error = ApiError::Risk {
            code: "risk.price_collar".into(),
            detail: "the limit price is outside the collar".into(),
            order_id,
        };
        let (status, json, _) = body_of(error).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json["code"], "risk.price_collar");
        assert_eq!(json["order_id"], order_id.to_string());
        assert!(json.get("field").is_none());
    }

    #[tokio::test]
    async fn internal_error_says_nothing_about_the_cause() {
        let (status, json, _) = body_of(ApiError::Internal).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(json["detail"], "an internal error occurred");
        assert_eq!(json["title"], "Internal error");
    }
}
