//! The names of audited actions.
//!
//! Each action is a stable, dotted name; events are searched and reported by
//! these names, so they never change once released.

/// A token was issued to a client or user.
pub const AUTH_TOKEN_ISSUED: &str = "auth.token.issued";
/// A token request was refused (bad credentials, disabled client, bad grant).
pub const AUTH_TOKEN_REFUSED: &str = "auth.token.refused";
/// A bearer token presented with a request was rejected.
pub const AUTH_BEARER_REJECTED: &str = "auth.bearer.rejected";
/// The policy denied a request.
pub const POLICY_DENIED: &str = "policy.denied";
/// A request failed validation.
pub const REQUEST_INVALID: &str = "request.invalid";
/// An order passed the pre-trade controls and went to the broker.
pub const ORDER_ACCEPTED: &str = "order.accepted";
/// An order was refused by a pre-trade control.
pub const ORDER_REJECTED: &str = "order.rejected";
/// An order was executed.
pub const ORDER_FILLED: &str = "order.filled";
/// An order was cancelled.
pub const ORDER_CANCELLED: &str = "order.cancelled";
/// The kill switch was engaged.
pub const KILLSWITCH_ENGAGED: &str = "killswitch.engaged";
/// The kill switch was released.
pub const KILLSWITCH_RELEASED: &str = "killswitch.released";
/// An API client was created.
pub const CLIENT_CREATED: &str = "client.created";
/// An API client was disabled.
pub const CLIENT_DISABLED: &str = "client.disabled";
/// A trading account was created.
pub const ACCOUNT_CREATED: &str = "account.created";
/// The bootstrap administrator was created.
pub const ADMIN_BOOTSTRAPPED: &str = "admin.bootstrapped";
/// The gateway started.
pub const GATEWAY_STARTED: &str = "gateway.started";
/// The gateway stopped.
pub const GATEWAY_STOPPED: &str = "gateway.stopped";

/// Every action above, for listing and validation.
pub const ALL: [&str; 17] = [
    AUTH_TOKEN_ISSUED,
    AUTH_TOKEN_REFUSED,
    AUTH_BEARER_REJECTED,
    POLICY_DENIED,
    REQUEST_INVALID,
    ORDER_ACCEPTED,
    ORDER_REJECTED,
    ORDER_FILLED,
    ORDER_CANCELLED,
    KILLSWITCH_ENGAGED,
    KILLSWITCH_RELEASED,
    CLIENT_CREATED,
    CLIENT_DISABLED,
    ACCOUNT_CREATED,
    ADMIN_BOOTSTRAPPED,
    GATEWAY_STARTED,
    GATEWAY_STOPPED,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_unique_and_dotted() {
        let unique: std::collections::BTreeSet<_> = ALL.iter().collect();
        assert_eq!(unique.len(), ALL.len());
        assert!(
            ALL.iter()
                .all(|a| a.contains('.') && a.chars().all(|c| c == '.' || c.is_ascii_lowercase()))
        );
    }
}
