//! OpenAPI schemas of the wire formats, for `/openapi.json`.
//!
//! The domain types live in `rampart-core`, which knows nothing of OpenAPI;
//! these mirror their JSON exactly. Decimals are strings, never numbers.

use serde::Serialize;
use utoipa::ToSchema;

/// An order as a client sends it.
#[derive(Serialize, ToSchema)]
#[schema(as = OrderRequest)]
pub struct OrderRequestSchema {
    /// The account to trade on.
    pub account_id: String,
    /// The instrument symbol, such as `BTC-USD`.
    pub instrument: String,
    /// `buy` or `sell`.
    pub side: String,
    /// `market` or `limit`.
    #[serde(rename = "type")]
    pub order_type: String,
    /// A decimal string, a multiple of the lot size.
    #[schema(example = "0.5")]
    pub quantity: String,
    /// A decimal string, a multiple of the tick size; limit orders only.
    #[schema(example = "43000.5")]
    pub limit_price: Option<String>,
    /// `gtc` or `ioc`.
    pub time_in_force: Option<String>,
    /// The client's own id; the same id and body return the original order.
    pub client_order_id: Option<String>,
    /// The algorithm behind the order (1 to 64 of `A-Za-z0-9._:-`); API clients only.
    pub algo_id: Option<String>,
}

/// The body of a cancel: nothing, or the empty object.
#[derive(Serialize, ToSchema)]
#[schema(as = CancelBody)]
pub struct CancelBodySchema {}

/// The gateway's record of an order.
#[derive(Serialize, ToSchema)]
#[schema(as = Order)]
pub struct OrderSchema {
    /// The gateway's id (UUIDv7).
    #[schema(format = Uuid)]
    pub id: String,
    /// The client's own id.
    pub client_order_id: Option<String>,
    /// The account.
    pub account_id: String,
    /// The instrument.
    pub instrument: String,
    /// `buy` or `sell`.
    pub side: String,
    /// `market` or `limit`.
    #[serde(rename = "type")]
    pub order_type: String,
    /// A decimal string.
    pub quantity: String,
    /// A decimal string.
    pub limit_price: Option<String>,
    /// `gtc` or `ioc`.
    pub time_in_force: String,
    /// `rejected`, `open`, `filled` or `cancelled`.
    pub status: String,
    /// A decimal string.
    pub filled_quantity: String,
    /// A decimal string.
    pub average_fill_price: Option<String>,
    /// The control code of a rejection.
    pub reject_code: Option<String>,
    /// Why it was rejected.
    pub reject_reason: Option<String>,
    /// The opaque id of who placed it.
    pub placed_by: String,
    /// `user` (a person) or `client` (an API client).
    pub placed_by_kind: String,
    /// The algorithm behind it; none for a person acting by hand.
    pub algo_id: Option<String>,
    /// The desk of its account.
    pub desk: Option<String>,
    /// The version of the risk limits it was checked against.
    pub limits_version: Option<i64>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// One page of orders.
#[derive(Serialize, ToSchema)]
#[schema(as = OrderPage)]
pub struct OrderPageSchema {
    /// The orders.
    pub orders: Vec<OrderSchema>,
    /// Pass as `after` for the next page.
    #[schema(format = Uuid)]
    pub next_cursor: Option<String>,
}

/// The risk limits of an account.
#[derive(Serialize, ToSchema)]
#[schema(as = RiskLimits)]
pub struct RiskLimitsSchema {
    /// A decimal string.
    pub max_order_quantity: String,
    /// A decimal string.
    pub max_order_notional: String,
    /// A decimal string, percent.
    pub price_collar_pct: String,
    /// A decimal string.
    pub max_position_quantity: String,
    /// A decimal string.
    pub max_daily_notional: String,
    /// An integer.
    pub max_orders_per_second: u32,
    /// A decimal string, percent.
    pub max_risk_per_trade_pct: String,
    /// Instrument symbols.
    pub allowed_instruments: Vec<String>,
    /// `{start, end}` in UTC, `HH:MM:SS`.
    pub trading_hours: Option<serde_json::Value>,
}

/// The limits of one account.
#[derive(Serialize, ToSchema)]
#[schema(as = AccountLimits)]
pub struct AccountLimitsSchema {
    /// The account.
    pub account_id: String,
    /// The version in force: 1 for the limits the account was created with, then 2, 3…
    pub version: i64,
    /// Its limits.
    pub limits: RiskLimitsSchema,
}

/// One version of an account's limits, with who proposed and approved it.
#[derive(Serialize, ToSchema)]
#[schema(as = LimitsVersion)]
pub struct LimitsVersionSchema {
    /// The account.
    pub account_id: String,
    /// The version number.
    pub version: i64,
    /// The limits of this version.
    pub limits: RiskLimitsSchema,
    /// Why the version was made.
    pub reason: String,
    /// Who proposed it (subject or client id; `system` for version 1).
    pub proposed_by: String,
    /// Who approved it; none for version 1 and for a tightening applied at once.
    pub approved_by: Option<String>,
    /// The approval it was applied from, if any.
    #[schema(format = Uuid)]
    pub approval_id: Option<String>,
    /// Whether it was a tightening applied at once, to be reviewed after the fact.
    pub reviewable_after_the_fact: bool,
    /// RFC 3339, UTC.
    pub effective_at: String,
}

/// Every version of an account's limits, oldest first.
#[derive(Serialize, ToSchema)]
#[schema(as = LimitsHistory)]
pub struct LimitsHistorySchema {
    /// The account.
    pub account_id: String,
    /// Oldest first.
    pub versions: Vec<LimitsVersionSchema>,
}

/// A four-eyes approval: a proposal and, once decided, its decision.
#[derive(Serialize, ToSchema)]
#[schema(as = Approval)]
pub struct ApprovalSchema {
    /// The approval id (UUIDv7).
    #[schema(format = Uuid)]
    pub id: String,
    /// `role.grant`, `risk_limits.change` or `killswitch.release`.
    pub kind: String,
    /// What it applies to, such as `account:ACC-1`.
    pub target: String,
    /// The proposed change, with its old and new values.
    pub payload: serde_json::Value,
    /// `pending`, `approved`, `rejected` or `expired`.
    pub status: String,
    /// Who proposed it.
    pub proposed_by: String,
    /// RFC 3339, UTC.
    pub proposed_at: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    /// Who decided it.
    pub decided_by: Option<String>,
    /// RFC 3339, UTC.
    pub decided_at: Option<String>,
    /// The decider's comment.
    pub comment: Option<String>,
}

/// One page of approvals.
#[derive(Serialize, ToSchema)]
#[schema(as = ApprovalPage)]
pub struct ApprovalPageSchema {
    /// The approvals, in the order they were proposed.
    pub approvals: Vec<ApprovalSchema>,
    /// Pass as `cursor` for the next page (opaque, valid until restart); none on the last.
    pub next_cursor: Option<String>,
}

/// A kill switch request.
#[derive(Serialize, ToSchema)]
#[schema(as = KillSwitchRequest)]
pub struct KillSwitchRequestSchema {
    /// `global`, `account`, `instrument`, `client` or `trader`.
    pub scope: String,
    /// The account, for scope `account`.
    pub account_id: Option<String>,
    /// The instrument, for scope `instrument`.
    pub instrument: Option<String>,
    /// The API client (algorithm), for scope `client`.
    pub client_id: Option<String>,
    /// The person's subject id, for scope `trader`.
    pub trader_id: Option<String>,
    /// Why, 1 to 500 printable characters.
    pub reason: String,
}

/// An engagement of the kill switch.
#[derive(Serialize, ToSchema)]
#[schema(as = Engagement)]
pub struct EngagementSchema {
    /// The engagement id.
    pub id: String,
    /// `global`, `account`, `instrument`, `client` or `trader`.
    pub scope: String,
    /// The account, instrument, client or trader it names; none if global.
    pub target: Option<String>,
    /// The account, for scope `account`.
    pub account_id: Option<String>,
    /// Why.
    pub reason: String,
    /// Who engaged it.
    pub engaged_by: String,
    /// RFC 3339, UTC.
    pub engaged_at: String,
}

/// The answer to an engagement.
#[derive(Serialize, ToSchema)]
#[schema(as = KillSwitchEngaged)]
pub struct EngagedSchema {
    /// The engagement.
    pub engagement: EngagementSchema,
    /// The ids of the orders cancelled at the broker.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub cancelled_orders: Vec<String>,
}

/// A request to release an engagement: a proposal a second person approves.
#[derive(Serialize, ToSchema)]
#[schema(as = KillSwitchReleaseRequest)]
pub struct KillSwitchReleaseSchema {
    /// The engagement to release.
    #[schema(format = Uuid)]
    pub engagement_id: String,
    /// Why, 1 to 500 printable characters.
    pub reason: String,
}

/// The engagements in force.
#[derive(Serialize, ToSchema)]
#[schema(as = KillSwitchList)]
pub struct EngagementListSchema {
    /// Oldest first.
    pub engagements: Vec<EngagementSchema>,
}

/// An access token response (RFC 6749, section 5.1).
#[derive(Serialize, ToSchema)]
#[schema(as = TokenResponse)]
pub struct TokenResponseSchema {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: u32,
}

/// An OAuth error response (RFC 6749, section 5.2).
#[derive(Serialize, ToSchema)]
#[schema(as = OAuthError)]
pub struct OAuthErrorSchema {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type`, ...
    pub error: String,
    /// What went wrong.
    pub error_description: String,
    /// The stable machine code.
    pub code: String,
    /// The id of the request.
    pub request_id: String,
}
