//! A property over real HTTPS: whatever sequence of proposals, approvals (by the proposer or
//! others), rejections, expiries, orders and kill-switch engagements happens, the limits in
//! force are always a fully approved (or permitted tightening) version, and no accepted order
//! exceeds the limits of the version it names.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::collections::BTreeMap;

use chrono::Duration;
use proptest::prelude::*;
use rampart_core::{AccountId, OrderStatus, Role};
use rampart_store::OrderFilter;
use rampart_testkit::TestGateway;
use rampart_testkit::identity::generous_limits;
use rampart_testkit::market::BTC;
use rampart_testkit::order::{limit, shifted};
use rampart_testkit::people::{Setup, TestUser};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

/// One gateway for every case, with tightenings applied at once.
static GATEWAY: OnceCell<TestGateway> = OnceCell::const_new();

const QUANTITIES: [&str; 4] = ["0.5", "1", "2", "4"];

#[derive(Debug, Clone)]
enum Step {
    /// Proposes `max_order_quantity` = QUANTITIES[index], by risk manager `by`.
    Propose { index: usize, by: usize },
    /// Approves (or rejects) pending proposal `pick`, by risk manager `by`.
    Decide {
        pick: usize,
        by: usize,
        approve: bool,
    },
    /// Moves the clock past every proposal's expiry.
    Expire,
    /// Places a resting buy of QUANTITIES[index].
    Order { index: usize },
    /// Engages the kill switch on the account.
    Engage,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..4usize, 0..3usize).prop_map(|(index, by)| Step::Propose { index, by }),
        3 => (0..4usize, 0..3usize, any::<bool>())
            .prop_map(|(pick, by, approve)| Step::Decide { pick, by, approve }),
        1 => Just(Step::Expire),
        4 => (0..4usize).prop_map(|index| Step::Order { index }),
        1 => Just(Step::Engage),
    ]
}

struct Case {
    gw: &'static TestGateway,
    account: AccountId,
    /// People, not API clients: their sign-in follows the gateway's clock across expiries.
    people: Vec<TestUser>,
    pending: Vec<Value>,
    tokens: BTreeMap<String, String>,
}

impl Case {
    async fn new(gw: &'static TestGateway) -> Case {
        let mut limits = generous_limits();
        limits.max_order_quantity = Decimal::ONE;
        let account = gw.add_account(limits).await;
        let mut people = Vec::new();
        for _ in 0..3 {
            people.push(
                gw.add_user(&[Role::RiskManager], &[&account], Setup::READY)
                    .await,
            );
        }
        people.push(
            gw.add_user(&[Role::Trader], &[&account], Setup::READY)
                .await,
        );
        Case {
            gw,
            account,
            people,
            pending: Vec::new(),
            tokens: BTreeMap::new(),
        }
    }

    /// The token of person `who` (0 to 2 risk managers, 3 the trader), signing in if needed.
    async fn token(&mut self, who: usize) -> String {
        let person = &self.people[who];
        if let Some(token) = self.tokens.get(&person.id) {
            return token.clone();
        }
        let (token, _) = self.gw.login(person).await;
        self.tokens.insert(person.id.clone(), token.clone());
        token
    }

    async fn run(&mut self, step: &Step) {
        match step {
            Step::Propose { index, by } => self.propose(*index, *by).await,
            Step::Decide { pick, by, approve } => self.decide(*pick, *by, *approve).await,
            Step::Expire => {
                self.gw.clock().advance(Duration::hours(25));
                self.tokens.clear();
                self.pending.clear();
            }
            Step::Order { index } => self.order(*index).await,
            Step::Engage => self.engage().await,
        }
    }

    async fn propose(&mut self, index: usize, by: usize) {
        let token = self.token(by).await;
        let body = json!({
            "changes": { "max_order_quantity": QUANTITIES[index] },
            "reason": "property",
        });
        let path = format!("/v1/accounts/{}/risk-limits/changes", self.account);
        let answer = self.gw.api().post_json(&path, Some(&token), &body).await;
        match answer.status {
            202 => self.pending.push(answer.json["approval"].clone()),
            201 => assert_eq!(answer.json["applied"]["reviewable_after_the_fact"], true),
            400 => assert_eq!(answer.code(), "request.invalid", "{}", answer.text),
            other => panic!("unexpected {other}: {}", answer.text),
        }
    }

    async fn decide(&mut self, pick: usize, by: usize, approve: bool) {
        if self.pending.is_empty() {
            return;
        }
        let approval = self.pending[pick % self.pending.len()].clone();
        let token = self.token(by).await;
        let verb = if approve { "approve" } else { "reject" };
        let path = format!("/v1/approvals/{}/{verb}", approval["id"].as_str().unwrap());
        let answer = self
            .gw
            .api()
            .post_json(&path, Some(&token), &json!({}))
            .await;
        let own = approval["proposed_by"] == self.people[by].id.as_str();
        match answer.status {
            200 => {
                assert!(!own, "the proposer decided their own change");
                self.pending.retain(|p| p["id"] != approval["id"]);
            }
            403 => assert!(own, "{}", answer.text),
            409 => self.pending.retain(|p| p["id"] != approval["id"]),
            other => panic!("unexpected {other}: {}", answer.text),
        }
    }

    async fn order(&mut self, index: usize) {
        let token = self.token(3).await;
        let price = shifted(self.gw.reference_price(BTC), -20, Decimal::new(1, 3));
        let body = limit(&self.account, BTC, "buy", QUANTITIES[index], price);
        let answer = self.gw.api().place(&token, &body).await;
        assert!(matches!(answer.status, 201 | 422), "{}", answer.text);
    }

    async fn engage(&mut self) {
        let token = self.token(0).await;
        let body = json!({
            "scope": "account",
            "account_id": self.account.as_str(),
            "reason": "property",
        });
        let answer = self
            .gw
            .api()
            .post_json("/v1/kill-switch", Some(&token), &body)
            .await;
        assert!(matches!(answer.status, 201 | 409), "{}", answer.text);
    }

    /// The invariants: the limits in force are the last version, every version after the
    /// first was approved by someone other than its proposer or is a flagged tightening, and
    /// every accepted order is within the version it names.
    async fn check(&mut self) {
        let history = self.gw.store_history(&self.account).await;
        let in_force = self.gw.store_in_force(&self.account).await;
        assert_eq!(Some(&in_force), history.last());
        for pair in history.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            assert_eq!(after.version, before.version + 1);
            match &after.approved_by {
                Some(approver) => assert_ne!(approver, &after.proposed_by),
                None => {
                    assert!(after.reviewable_after_the_fact);
                    let verdict = rampart_core::classify(&before.limits, &after.limits);
                    assert!(verdict.is_tightening(), "{verdict:?}");
                }
            }
        }
        let orders = self
            .gw
            .stored_orders(OrderFilter {
                accounts: Some(vec![self.account.clone()]),
                limit: 500,
                ..OrderFilter::default()
            })
            .await;
        for order in orders.iter().filter(|o| o.status != OrderStatus::Rejected) {
            let version = order.limits_version.expect("every order names its version");
            let limits = &history[usize::try_from(version - 1).unwrap()].limits;
            assert!(
                order.quantity.value() <= limits.max_order_quantity,
                "{order:?}"
            );
        }
        for order in orders.iter().filter(|o| o.status == OrderStatus::Rejected) {
            let version = order.limits_version.expect("every order names its version");
            let limits = &history[usize::try_from(version - 1).unwrap()].limits;
            if order.reject_code.as_deref() == Some("risk.max_order_quantity") {
                assert!(
                    order.quantity.value() > limits.max_order_quantity,
                    "{order:?}"
                );
            }
        }
    }
}

trait History {
    async fn store_history(&self, account: &AccountId) -> Vec<rampart_store::LimitsVersion>;
    async fn store_in_force(&self, account: &AccountId) -> rampart_store::LimitsVersion;
}

impl History for TestGateway {
    async fn store_history(&self, account: &AccountId) -> Vec<rampart_store::LimitsVersion> {
        let account = account.clone();
        self.in_store(move |store| async move { store.limits_history(&account).await })
            .await
            .unwrap()
    }

    async fn store_in_force(&self, account: &AccountId) -> rampart_store::LimitsVersion {
        let account = account.clone();
        self.in_store(move |store| async move { store.limits_in_force(&account).await })
            .await
            .unwrap()
            .expect("the account exists")
    }
}

async fn gateway() -> &'static TestGateway {
    GATEWAY
        .get_or_init(|| async {
            TestGateway::start_with(|config| config.risk.tighten_at_once = true).await
        })
        .await
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 6,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn limits_in_force_are_always_approved_and_no_order_exceeds_its_version(
        steps in prop::collection::vec(step(), 4..14)
    ) {
        RUNTIME.block_on(async {
            let gw = gateway().await;
            let mut case = Case::new(gw).await;
            for step in &steps {
                case.run(step).await;
                case.check().await;
            }
        });
    }
}

static RUNTIME: std::sync::LazyLock<tokio::runtime::Runtime> = std::sync::LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
});
