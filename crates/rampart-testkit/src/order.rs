//! Order bodies as a client sends them, and reading orders back over the API.

use rampart_core::AccountId;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::api::{Answer, Api};

/// A limit order body on `account`.
pub fn limit(
    account: &AccountId,
    instrument: &str,
    side: &str,
    quantity: &str,
    price: Decimal,
) -> Value {
    json!({
        "account_id": account.as_str(),
        "instrument": instrument,
        "side": side,
        "type": "limit",
        "quantity": quantity,
        "limit_price": price.normalize().to_string(),
    })
}

/// A market order body on `account`.
pub fn market(account: &AccountId, instrument: &str, side: &str, quantity: &str) -> Value {
    json!({
        "account_id": account.as_str(),
        "instrument": instrument,
        "side": side,
        "type": "market",
        "quantity": quantity,
    })
}

/// `price` moved by `percent` (negative to go down), cut down to a whole number of `tick`s.
pub fn shifted(price: Decimal, percent: i64, tick: Decimal) -> Decimal {
    let moved = price + price * Decimal::new(percent, 2);
    (moved / tick).floor() * tick
}

impl Api {
    /// `POST /v1/orders` with `body`.
    pub async fn place(&self, token: &str, body: &Value) -> Answer {
        self.post_json("/v1/orders", Some(token), body).await
    }

    /// `GET /v1/orders/{id}`.
    pub async fn order(&self, token: &str, id: &str) -> Answer {
        self.get(&format!("/v1/orders/{id}"), Some(token)).await
    }

    /// `POST /v1/orders/{id}/cancel`.
    pub async fn cancel(&self, token: &str, id: &str) -> Answer {
        self.post_raw(
            &format!("/v1/orders/{id}/cancel"),
            Some(token),
            "application/json",
            "{}",
        )
        .await
    }
}

impl Answer {
    /// The `id` of the order in the body, or the `order_id` of a rejection.
    pub fn order_id(&self) -> String {
        let id = self.member("id").or_else(|| self.member("order_id"));
        id.unwrap_or_else(|| panic!("no order id in {}", self.text))
            .to_owned()
    }

    /// The order's `status`.
    pub fn status_field(&self) -> &str {
        self.member("status").unwrap_or("")
    }
}
