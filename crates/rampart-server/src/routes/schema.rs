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
    /// Its limits.
    pub limits: RiskLimitsSchema,
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
