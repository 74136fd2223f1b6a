//! A trader at work: a fresh account on the shared gateway and a token for it.

use rampart_core::{AccountId, Order, RiskLimits, Role};
use rampart_store::OrderFilter;
use rust_decimal::Decimal;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::api::{Answer, Api};
use crate::gateway::TestGateway;
use crate::identity::generous_limits;
use crate::market::BTC;
use crate::order::{self, shifted};

/// The account and token of [`Desk::shared`].
static SHARED: OnceCell<(AccountId, String)> = OnceCell::const_new();

/// A trader client assigned to one fresh account of the shared gateway.
pub struct Desk {
    /// The shared gateway.
    pub gw: &'static TestGateway,
    /// An HTTPS client for it.
    pub api: Api,
    /// The trader's account.
    pub account: AccountId,
    /// A token of the trader.
    pub token: String,
}

impl Desk {
    /// A desk on an account with [`generous_limits`].
    pub async fn open() -> Desk {
        Self::with_limits(generous_limits()).await
    }

    /// One desk shared by the tests of a test binary, for tests that change no state
    /// another test looks at; the account has [`generous_limits`].
    pub async fn shared() -> Desk {
        let gw = TestGateway::shared().await;
        let (account, token) = SHARED
            .get_or_init(|| async {
                let desk = Self::open().await;
                (desk.account, desk.token)
            })
            .await
            .clone();
        Desk {
            gw,
            api: gw.api(),
            account,
            token,
        }
    }

    /// A desk on an account with `limits` and a billion of cash.
    pub async fn with_limits(limits: RiskLimits) -> Desk {
        Self::with_cash(limits, Decimal::new(1_000_000_000, 0)).await
    }

    /// A desk on an account with `limits` and `cash`.
    pub async fn with_cash(limits: RiskLimits, cash: Decimal) -> Desk {
        let gw = TestGateway::shared().await;
        let account = gw.add_account_with_cash(limits, cash).await;
        let token = gw.bearer(&[Role::Trader], &[&account]).await;
        Desk {
            gw,
            api: gw.api(),
            account,
            token,
        }
    }

    /// A BTC buy limit order 20% under the market: it rests.
    pub fn resting_buy(&self) -> Value {
        let price = shifted(self.gw.reference_price(BTC), -20, Decimal::new(1, 3));
        order::limit(&self.account, BTC, "buy", "0.01", price)
    }

    /// Every order the store holds for the desk's account, oldest first.
    pub async fn stored_orders(&self) -> Vec<Order> {
        let accounts = Some(vec![self.account.clone()]);
        let filter = OrderFilter {
            accounts,
            status: None,
            limit: 500,
            after: None,
        };
        self.gw.stored_orders(filter).await
    }

    /// How many audit events named `action` target the order `order_id`.
    pub async fn order_events(&self, action: &str, order_id: &str) -> usize {
        let target = format!("order:{order_id}");
        let events = self.gw.audit_events().await;
        events
            .iter()
            .filter(|e| e.action == action && e.target == target)
            .count()
    }

    /// `POST /v1/orders` with `body` and the trader's token.
    pub async fn place(&self, body: &Value) -> Answer {
        self.api.place(&self.token, body).await
    }
}
