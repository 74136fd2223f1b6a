//! A small HTTPS client of the gateway's API, used by `demo` and `load`.
//!
//! Only the gateway's own CA is trusted and certificate verification stays on:
//! the client is built from the CA file the data directory holds, with no
//! built-in roots and HTTPS only. Tokens are held as secrets and sent only in
//! the `Authorization` header.

use std::path::Path;
use std::time::Duration;

use rampart_core::OrderRequest;
use reqwest::{Certificate, Client, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

/// What can go wrong talking to the gateway.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The CA file could not be read or parsed.
    #[error("CA certificate `{path}` is unusable: {reason}")]
    Ca {
        /// The CA file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The request did not complete (connection, TLS, timeout).
    #[error("request to the gateway failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// The gateway answered with an unexpected status.
    #[error("the gateway answered {status} to {what}: {detail}")]
    Status {
        /// What was asked.
        what: &'static str,
        /// The HTTP status.
        status: StatusCode,
        /// The problem document's `code` and `detail`, if any.
        detail: String,
    },
}

/// An RFC 9457 problem document, as far as this client reads it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Problem {
    /// The stable machine code, such as `risk.price_collar`.
    #[serde(default)]
    pub code: String,
    /// Human-readable detail.
    #[serde(default)]
    pub detail: String,
    /// The id of the recorded rejected order, for control rejections.
    #[serde(default)]
    pub order_id: Option<String>,
}

/// The fields of an order record this client reads.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderView {
    /// The gateway's order id.
    pub id: String,
    /// `open`, `filled`, `cancelled` or `rejected`.
    pub status: String,
    /// The average fill price, if any part filled.
    #[serde(default)]
    pub average_fill_price: Option<String>,
}

/// The outcome of placing one order.
#[derive(Debug, Clone)]
pub enum Placement {
    /// Accepted (open or already filled).
    Accepted(OrderView),
    /// Refused by a pre-trade control (422), with the control's code.
    Rejected(Problem),
    /// Refused before the controls (validation, authorisation, rate limit).
    Refused(StatusCode, Problem),
}

/// A page of orders.
#[derive(Debug, Deserialize)]
struct OrderPage {
    orders: Vec<OrderView>,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// A client of one gateway.
#[derive(Debug, Clone)]
pub struct Api {
    http: Client,
    base: String,
}

impl Api {
    /// Builds a client that trusts only the CA in `ca_file`.
    pub fn new(base: &str, ca_file: &Path) -> Result<Self, ApiError> {
        let ca_error = |reason: String| ApiError::Ca {
            path: ca_file.display().to_string(),
            reason,
        };
        let pem = std::fs::read(ca_file).map_err(|e| ca_error(e.to_string()))?;
        let ca = Certificate::from_pem(&pem).map_err(|e| ca_error(e.to_string()))?;
        let http = Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .https_only(true)
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(1024)
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// Obtains an access token with the client-credentials grant (`client_secret_basic`).
    pub async fn token(
        &self,
        client_id: &str,
        secret: &SecretString,
    ) -> Result<SecretString, ApiError> {
        #[derive(Deserialize)]
        struct TokenResponse {
            access_token: SecretString,
        }
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .basic_auth(client_id, Some(secret.expose_secret()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await?;
        let response = expect_success(response, "the token request").await?;
        Ok(response.json::<TokenResponse>().await?.access_token)
    }

    /// Places an order.
    pub async fn place(
        &self,
        token: &SecretString,
        order: &OrderRequest,
    ) -> Result<Placement, ApiError> {
        let response = self
            .http
            .post(self.url("/v1/orders"))
            .bearer_auth(token.expose_secret())
            .json(order)
            .send()
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(Placement::Accepted(response.json().await?));
        }
        let problem = response.json::<Problem>().await.unwrap_or_default();
        if status == StatusCode::UNPROCESSABLE_ENTITY && problem.order_id.is_some() {
            return Ok(Placement::Rejected(problem));
        }
        Ok(Placement::Refused(status, problem))
    }

    /// Cancels an order; `false` when it was no longer working.
    pub async fn cancel(&self, token: &SecretString, order_id: &str) -> Result<bool, ApiError> {
        let response = self
            .http
            .post(self.url(&format!("/v1/orders/{order_id}/cancel")))
            .bearer_auth(token.expose_secret())
            .send()
            .await?;
        if response.status() == StatusCode::CONFLICT {
            return Ok(false);
        }
        expect_success(response, "the cancel request").await?;
        Ok(true)
    }

    /// Every order of `account`, following the cursor.
    pub async fn orders(
        &self,
        token: &SecretString,
        account: &str,
    ) -> Result<Vec<OrderView>, ApiError> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![
                ("account_id", account.to_owned()),
                ("limit", "500".to_owned()),
            ];
            query.extend(after.take().map(|cursor| ("after", cursor)));
            let response = self
                .http
                .get(self.url("/v1/orders"))
                .bearer_auth(token.expose_secret())
                .query(&query)
                .send()
                .await?;
            let page: OrderPage = expect_success(response, "the order listing")
                .await?
                .json()
                .await?;
            all.extend(page.orders);
            match page.next_cursor {
                Some(cursor) => after = Some(cursor),
                None => return Ok(all),
            }
        }
    }

    /// Engages the global kill switch; returns the engagement's JSON.
    pub async fn engage_kill_switch(
        &self,
        token: &SecretString,
        reason: &str,
    ) -> Result<serde_json::Value, ApiError> {
        let response = self
            .http
            .post(self.url("/v1/kill-switch"))
            .bearer_auth(token.expose_secret())
            .json(&json!({ "scope": "global", "reason": reason }))
            .send()
            .await?;
        Ok(expect_success(response, "the kill-switch request")
            .await?
            .json()
            .await?)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn expect_success(
    response: reqwest::Response,
    what: &'static str,
) -> Result<reqwest::Response, ApiError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let problem = response.json::<Problem>().await.unwrap_or_default();
    let detail = format!("{} {}", problem.code, problem.detail)
        .trim()
        .to_owned();
    Err(ApiError::Status {
        what,
        status,
        detail,
    })
}
