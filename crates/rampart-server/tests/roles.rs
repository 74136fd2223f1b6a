//! Over real HTTPS: every `/v1` route for every role, against the permission
//! matrix of the design (traders on assigned accounts only; oversight roles
//! read; risk and compliance engage the kill switch; administrators never
//! trade or read orders), and the audit trail of each denial.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_audit::{AuditEvent, action};
use rampart_core::{AccountId, Role};
use rampart_policy::Authorizer;
use rampart_testkit::market::BTC;
use rampart_testkit::order::{self, shifted};
use rampart_testkit::{Answer, Api, TestGateway, generous_limits};
use serde_json::json;

/// What a route must answer a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A 2xx answer.
    Allowed,
    /// 403 `policy.denied` or 404 `not_found`.
    Denied,
    /// Exactly 403 `policy.denied`: the caller may see the resource but not do this.
    Forbidden,
    /// Exactly 404: the caller must not learn that the resource exists.
    Hidden,
}
use Expect::{Allowed, Denied, Forbidden, Hidden};

/// An account with a trader, two resting orders on it, and an account for kill-switch tests.
struct Fixture {
    gw: &'static TestGateway,
    api: Api,
    account: AccountId,
    resting: String,
    kill_target: AccountId,
}

async fn fixture() -> Fixture {
    let gw = TestGateway::shared().await;
    let api = gw.api();
    let account = gw.add_account(generous_limits()).await;
    let kill_target = gw.add_account(generous_limits()).await;
    let owner = gw.bearer(&[Role::Trader], &[&account]).await;
    let resting = api.place(&owner, &resting_buy(gw, &account)).await;
    assert_eq!(resting.status, 201, "{}", resting.text);
    assert_eq!(resting.status_field(), "open");
    Fixture {
        gw,
        api,
        account,
        resting: resting.order_id(),
        kill_target,
    }
}

fn resting_buy(gw: &TestGateway, account: &AccountId) -> serde_json::Value {
    let price = shifted(
        gw.reference_price(BTC),
        -20,
        rust_decimal::Decimal::new(1, 3),
    );
    order::limit(account, BTC, "buy", "0.01", price)
}

impl Fixture {
    /// Calls every route with `token` and checks each answer against `expected`, in the
    /// order: place, list, read, cancel, read limits, engage kill switch, read kill switch.
    async fn check(&self, token: &str, expected: [Expect; 7]) {
        let account = self.account.as_str();
        let answers = [
            (
                "place",
                self.api
                    .place(token, &resting_buy(self.gw, &self.account))
                    .await,
            ),
            (
                "list",
                self.api
                    .get(&format!("/v1/orders?account_id={account}"), Some(token))
                    .await,
            ),
            ("read", self.api.order(token, &self.resting).await),
            ("cancel", self.api.cancel(token, &self.resting).await),
            (
                "limits",
                self.api
                    .get(&format!("/v1/accounts/{account}/risk-limits"), Some(token))
                    .await,
            ),
            ("engage", self.engage(token).await),
            (
                "kill-switch",
                self.api.get("/v1/kill-switch", Some(token)).await,
            ),
        ];
        for ((route, answer), expect) in answers.iter().zip(expected) {
            assert_answer(route, answer, expect);
        }
    }

    /// Checks every route for a fresh bearer of `role` assigned no account.
    async fn check_role(&self, role: Role, expected: [Expect; 7]) {
        let token = self.gw.bearer(&[role], &[]).await;
        self.check(&token, expected).await;
    }

    /// A trader of a new account of its own, not the fixture's: the account and a token.
    async fn outsider(&self) -> (AccountId, String) {
        let own = self.gw.add_account(generous_limits()).await;
        let token = self.gw.bearer(&[Role::Trader], &[&own]).await;
        (own, token)
    }

    async fn engage(&self, token: &str) -> Answer {
        let account = self.kill_target.as_str();
        let body = json!({"scope": "account", "account_id": account, "reason": "roles test"});
        self.api
            .post_json("/v1/kill-switch", Some(token), &body)
            .await
    }
}

/// The version of the default policy set.
fn default_policy_version() -> String {
    Authorizer::with_default_policies()
        .unwrap()
        .version()
        .to_owned()
}

/// The `policy.denied` events of the request the client sent as `request_id`.
fn denials_of<'a>(events: &'a [AuditEvent], request_id: &str) -> Vec<&'a AuditEvent> {
    events
        .iter()
        .filter(|e| {
            e.details["client_request_id"] == request_id && e.action == action::POLICY_DENIED
        })
        .collect()
}

fn assert_answer(route: &str, answer: &Answer, expect: Expect) {
    match expect {
        Allowed => assert!(
            (200..300).contains(&answer.status),
            "{route} should be allowed, got {}: {}",
            answer.status,
            answer.text
        ),
        Denied => {
            assert!(
                [403, 404].contains(&answer.status),
                "{route} should be denied, got {}: {}",
                answer.status,
                answer.text
            );
            answer.assert_problem_shape();
            let code = if answer.status == 403 {
                "policy.denied"
            } else {
                "not_found"
            };
            assert_eq!(answer.code(), code, "{route}: {}", answer.text);
        }
        Forbidden => {
            answer.assert_problem(403, "policy.denied");
        }
        Hidden => {
            let context = format!("{route} should be hidden");
            assert_eq!(answer.status, 404, "{context}: {}", answer.text);
            answer.assert_problem(404, "not_found");
        }
    }
}

#[tokio::test]
async fn assigned_trader_trades_and_reads_its_account_but_not_the_kill_switch() {
    let fx = fixture().await;
    let token = fx.gw.bearer(&[Role::Trader], &[&fx.account]).await;
    fx.check(
        &token,
        [Allowed, Allowed, Allowed, Allowed, Allowed, Denied, Denied],
    )
    .await;
}

#[tokio::test]
async fn unassigned_trader_cannot_see_or_touch_another_account() {
    let fx = fixture().await;
    let (_, token) = fx.outsider().await;
    fx.check(
        &token,
        [Hidden, Hidden, Hidden, Hidden, Hidden, Denied, Denied],
    )
    .await;
    let still = fx
        .gw
        .stored_order(fx.resting.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        still.status.as_str(),
        "open",
        "the other account's order was not cancelled"
    );
}

#[tokio::test]
async fn unassigned_trader_listing_all_orders_sees_only_its_own_accounts() {
    let fx = fixture().await;
    let (own, token) = fx.outsider().await;
    let mine = fx.api.place(&token, &resting_buy(fx.gw, &own)).await;
    assert_eq!(mine.status, 201, "{}", mine.text);

    let page = fx.api.get("/v1/orders?limit=500", Some(&token)).await;
    let orders = page.assert_json(200)["orders"].as_array().unwrap().clone();
    assert!(orders.iter().any(|o| o["id"] == mine.order_id().as_str()));
    assert!(
        orders.iter().all(|o| o["account_id"] == own.as_str()),
        "only its own account"
    );
}

#[tokio::test]
async fn risk_manager_reads_every_account_and_engages_the_kill_switch_but_never_trades() {
    let fx = fixture().await;
    fx.check_role(
        Role::RiskManager,
        [
            Forbidden, Allowed, Allowed, Forbidden, Allowed, Allowed, Allowed,
        ],
    )
    .await;
}

#[tokio::test]
async fn compliance_officer_reads_every_account_and_engages_the_kill_switch_but_never_trades() {
    let fx = fixture().await;
    fx.check_role(
        Role::ComplianceOfficer,
        [
            Forbidden, Allowed, Allowed, Forbidden, Allowed, Allowed, Allowed,
        ],
    )
    .await;
}

#[tokio::test]
async fn auditor_only_reads() {
    let fx = fixture().await;
    fx.check_role(
        Role::Auditor,
        [
            Forbidden, Allowed, Allowed, Forbidden, Allowed, Forbidden, Allowed,
        ],
    )
    .await;
}

#[tokio::test]
async fn admin_can_neither_trade_nor_read_orders_limits_or_the_kill_switch() {
    let fx = fixture().await;
    fx.check_role(
        Role::Admin,
        [
            Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
        ],
    )
    .await;
}

#[tokio::test]
async fn admin_assigned_to_an_account_still_cannot_trade_it() {
    let fx = fixture().await;
    let token = fx.gw.bearer(&[Role::Admin], &[&fx.account]).await;
    let answer = fx.api.place(&token, &resting_buy(fx.gw, &fx.account)).await;
    answer.assert_problem(403, "policy.denied");
}

#[tokio::test]
async fn policy_denial_is_audited_with_the_deciding_policy_and_the_policy_version() {
    let fx = fixture().await;
    let token = fx.gw.bearer(&[Role::Admin], &[&fx.account]).await;
    let request = fx
        .api
        .request(reqwest::Method::POST, "/v1/orders", Some(&token))
        .header("x-request-id", "roles-admin-denied")
        .json(&resting_buy(fx.gw, &fx.account));
    Answer::of(request)
        .await
        .assert_problem(403, "policy.denied");

    let events = fx.gw.audit_events().await;
    let denied = denials_of(&events, "roles-admin-denied");
    assert_eq!(denied.len(), 1, "one `policy.denied` event");
    let version = default_policy_version();
    assert_eq!(denied[0].policy_version.as_deref(), Some(version.as_str()));
    assert_eq!(denied[0].outcome.as_str(), "denied");
    let details = denied[0].details.to_string();
    assert!(
        details.contains("orders.admin.forbid"),
        "deciding policy named: {details}"
    );
}

#[tokio::test]
async fn unassigned_trader_denial_is_audited_with_the_policy_version() {
    let fx = fixture().await;
    let (_, token) = fx.outsider().await;
    let path = format!("/v1/orders/{}", fx.resting);
    let request = fx
        .api
        .request(reqwest::Method::GET, &path, Some(&token))
        .header("x-request-id", "roles-unassigned-denied");
    Answer::of(request).await.assert_problem(404, "not_found");

    let events = fx.gw.audit_events().await;
    let denied = denials_of(&events, "roles-unassigned-denied");
    assert_eq!(denied.len(), 1, "one `policy.denied` event");
    let version = default_policy_version();
    assert_eq!(denied[0].policy_version.as_deref(), Some(version.as_str()));
    assert!(
        denied[0].details.get("policy_ids").is_some(),
        "{}",
        denied[0].details
    );
}

#[tokio::test]
async fn unknown_order_id_is_not_found_for_every_role_that_reads_orders() {
    let gw = TestGateway::shared().await;
    let api = gw.api();
    let id = uuid::Uuid::now_v7();
    for role in [Role::Trader, Role::RiskManager, Role::Auditor] {
        let token = gw.bearer(&[role], &[]).await;
        api.order(&token, &id.to_string())
            .await
            .assert_problem(404, "not_found");
    }
}

#[tokio::test]
async fn admin_reading_an_unknown_order_id_is_forbidden_without_a_lookup() {
    let gw = TestGateway::shared().await;
    let token = gw.bearer(&[Role::Admin], &[]).await;
    let id = uuid::Uuid::now_v7().to_string();
    gw.api()
        .order(&token, &id)
        .await
        .assert_problem(403, "policy.denied");
}

#[tokio::test]
async fn risk_manager_cancelling_an_order_it_may_read_is_forbidden_not_hidden() {
    let fx = fixture().await;
    let token = fx.gw.bearer(&[Role::RiskManager], &[]).await;
    fx.api.order(&token, &fx.resting).await.assert_json(200);
    fx.api
        .cancel(&token, &fx.resting)
        .await
        .assert_problem(403, "policy.denied");
}

#[tokio::test]
async fn admin_listing_all_orders_is_forbidden_not_an_empty_list() {
    let fx = fixture().await;
    let token = fx.gw.bearer(&[Role::Admin], &[]).await;
    fx.api
        .get("/v1/orders", Some(&token))
        .await
        .assert_problem(403, "policy.denied");
}

#[tokio::test]
async fn cancel_with_a_non_empty_body_is_refused_and_the_order_stays_open() {
    let fx = fixture().await;
    let token = fx.gw.bearer(&[Role::Trader], &[&fx.account]).await;
    let path = format!("/v1/orders/{}/cancel", fx.resting);
    for body in [r#"{"reason":"x"}"#, "[]", "null", "junk"] {
        fx.api
            .post_raw(&path, Some(&token), "application/json", body)
            .await
            .assert_problem(400, "request.invalid");
    }
    let still = fx.gw.stored_order(fx.resting.parse().unwrap()).await;
    assert_eq!(still.unwrap().status.as_str(), "open");
    let empty = fx
        .api
        .post_raw(&path, Some(&token), "application/json", "")
        .await;
    assert_eq!(empty.assert_json(200)["status"], "cancelled");
}

#[tokio::test]
async fn operator_policies_replace_the_defaults_and_their_version_is_audited() {
    // The operator's set keeps everything but the trader's right to place and cancel.
    let policies = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_owned();
        let text = if name == "orders.cedar" {
            text.replace(
                "action in [Rampart::Action::\"order.place\", Rampart::Action::\"order.cancel\"]",
                "action in [Rampart::Action::\"order.cancel\"]",
            )
        } else {
            text
        };
        std::fs::write(policies.path().join(name), text).unwrap();
    }
    let version = Authorizer::from_dir(policies.path())
        .unwrap()
        .version()
        .to_owned();
    assert_ne!(
        version,
        Authorizer::with_default_policies().unwrap().version()
    );

    let dir = policies.path().to_path_buf();
    let gw = TestGateway::start_with(move |config| config.policy.dir = Some(dir)).await;
    let account = gw.add_account(generous_limits()).await;
    let token = gw.bearer(&[Role::Trader], &[&account]).await;
    let request = gw
        .api()
        .request(reqwest::Method::POST, "/v1/orders", Some(&token))
        .header("x-request-id", "operator-policy")
        .json(&resting_buy(&gw, &account));
    let answer = Answer::of(request).await;
    answer.assert_problem(403, "policy.denied");

    let events = gw.audit_events().await;
    let denied = events
        .iter()
        .find(|e| e.details["client_request_id"] == "operator-policy")
        .unwrap();
    assert_eq!(denied.action, action::POLICY_DENIED);
    assert_eq!(denied.policy_version.as_deref(), Some(version.as_str()));
    gw.shutdown().await;
}
