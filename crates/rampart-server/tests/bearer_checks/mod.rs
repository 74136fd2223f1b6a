//! Checks shared by the tests of outside (OIDC) tokens: whether the gateway admits a bearer
//! token, on `GET /v1/kill-switch`, the route an auditor (the mapped `desk-auditors` role)
//! may read.

use rampart_testkit::TestGateway;

/// Requires `token` to be admitted: it reads the kill switch.
pub async fn assert_admitted(gw: &TestGateway, token: &str) {
    gw.api()
        .get("/v1/kill-switch", Some(token))
        .await
        .assert_json(200);
}

/// Requires `token` to be refused as an invalid bearer token.
pub async fn assert_refused(gw: &TestGateway, token: &str) {
    gw.api()
        .get("/v1/kill-switch", Some(token))
        .await
        .assert_problem(401, "auth.invalid_token");
}
