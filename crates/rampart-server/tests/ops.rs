//! Over real HTTPS: the operator routes, the answers to unknown routes and
//! methods, and the security headers every response carries.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_core::Role;
use rampart_testkit::market::BTC;
use rampart_testkit::{Answer, TestGateway, generous_limits, order};
use reqwest::Method;
use serde_json::json;

fn assert_security_headers(what: &str, answer: &Answer) {
    let header = |name: &str| {
        answer
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    assert!(
        header("strict-transport-security").contains("max-age="),
        "{what}: HSTS"
    );
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert!(
        header("cache-control").contains("no-store"),
        "{what}: cache-control"
    );
    assert!(!header("x-request-id").is_empty(), "{what}: request id");
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let gw = TestGateway::shared().await;
    let api = gw.api();
    assert_eq!(
        api.get("/healthz", None).await.assert_json(200)["status"],
        "ok"
    );
    assert_eq!(
        api.get("/readyz", None).await.assert_json(200)["status"],
        "ready"
    );
}

#[tokio::test]
async fn openapi_document_describes_every_v1_route() {
    let gw = TestGateway::shared().await;
    let document = gw.api().get("/openapi.json", None).await;
    let paths = document.assert_json(200)["paths"]
        .as_object()
        .unwrap()
        .clone();
    for path in [
        "/oauth/token",
        "/v1/orders",
        "/v1/orders/{id}",
        "/v1/orders/{id}/cancel",
        "/v1/accounts/{id}/risk-limits",
        "/v1/kill-switch",
        "/.well-known/jwks.json",
    ] {
        assert!(paths.contains_key(path), "`{path}` is documented");
    }
}

#[tokio::test]
async fn openapi_document_declares_problem_json_bearer_security_and_the_error_statuses() {
    let gw = TestGateway::shared().await;
    let document = gw.api().get("/openapi.json", None).await;
    let doc = document.assert_json(200);
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");

    let expected: [(&str, &str, &[&str]); 7] = [
        (
            "/v1/orders",
            "post",
            &["400", "401", "403", "404", "415", "422"],
        ),
        ("/v1/orders", "get", &["400", "401", "403"]),
        ("/v1/orders/{id}", "get", &["400", "401", "403", "404"]),
        (
            "/v1/orders/{id}/cancel",
            "post",
            &["400", "401", "403", "404", "415"],
        ),
        (
            "/v1/accounts/{id}/risk-limits",
            "get",
            &["400", "401", "403", "404"],
        ),
        (
            "/v1/kill-switch",
            "post",
            &["400", "401", "403", "404", "415"],
        ),
        ("/v1/kill-switch", "get", &["401", "403"]),
    ];
    for (path, method, statuses) in expected {
        let operation = &doc["paths"][path][method];
        assert_eq!(
            operation["security"][0]["bearer"],
            json!([]),
            "{method} {path}"
        );
        for status in statuses {
            let content = &operation["responses"][status]["content"];
            assert!(
                content["application/problem+json"]["schema"]["$ref"]
                    .as_str()
                    .is_some_and(|r| r.ends_with("/Problem")),
                "{method} {path} {status}: {content}"
            );
            assert!(
                content.get("application/json").is_none(),
                "{method} {path} {status}"
            );
        }
    }
}

#[tokio::test]
async fn openapi_document_gives_order_ids_the_uuid_format() {
    let gw = TestGateway::shared().await;
    let document = gw.api().get("/openapi.json", None).await;
    let doc = document.assert_json(200);
    for (path, method) in [
        ("/v1/orders/{id}", "get"),
        ("/v1/orders/{id}/cancel", "post"),
    ] {
        let parameter = &doc["paths"][path][method]["parameters"][0];
        assert_eq!(parameter["schema"]["format"], "uuid", "{method} {path}");
    }
    let order = &doc["components"]["schemas"]["Order"]["properties"];
    assert_eq!(order["id"]["format"], "uuid", "{order}");
}

#[tokio::test]
async fn metrics_count_orders_without_naming_principals_or_secrets() {
    let gw = TestGateway::shared().await;
    let account = gw.add_account(generous_limits()).await;
    let client = gw.add_client(&[Role::Trader], &[&account]).await;
    let token = gw.token(&client).await;
    let api = gw.api();
    api.place(&token, &order::market(&account, BTC, "buy", "0.01"))
        .await
        .assert_json(201);

    let metrics = api.get("/metrics", None).await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.text.contains("rampart_"), "{}", metrics.text);
    for secret in [
        client.expose_secret(),
        token.as_str(),
        client.id.as_str(),
        account.as_str(),
    ] {
        assert!(
            !metrics.text.contains(secret),
            "metrics leak an identity or a secret"
        );
    }
}

#[tokio::test]
async fn unknown_route_is_a_not_found_problem() {
    let gw = TestGateway::shared().await;
    for path in [
        "/",
        "/v2/orders",
        "/v1/orders/x/y/z",
        "/admin",
        "/.env",
        "/v1/../etc/passwd",
    ] {
        let answer = gw.api().get(path, None).await;
        answer.assert_problem(404, "not_found");
    }
}

#[tokio::test]
async fn wrong_method_is_a_method_not_allowed_problem() {
    let gw = TestGateway::shared().await;
    let api = gw.api();
    for (method, path) in [
        (Method::DELETE, "/v1/orders"),
        (Method::PUT, "/v1/kill-switch"),
        (Method::GET, "/oauth/token"),
        (Method::POST, "/healthz"),
    ] {
        let answer = Answer::of(api.request(method.clone(), path, None)).await;
        answer.assert_problem(405, "request.method_not_allowed");
    }
}

#[tokio::test]
async fn every_kind_of_answer_carries_the_security_headers() {
    let gw = TestGateway::shared().await;
    let api = gw.api();
    assert_security_headers("health", &api.get("/healthz", None).await);
    assert_security_headers("jwks", &api.get("/.well-known/jwks.json", None).await);
    assert_security_headers("401", &api.get("/v1/orders", None).await);
    assert_security_headers("404", &api.get("/nowhere", None).await);
    let token = gw.bearer(&[Role::Auditor], &[]).await;
    assert_security_headers("200", &api.get("/v1/kill-switch", Some(&token)).await);
}

#[tokio::test]
async fn client_request_id_is_never_echoed_as_the_gateway_id() {
    let gw = TestGateway::shared().await;
    let api = gw.api();
    let kept = Answer::of(
        api.request(Method::GET, "/healthz", None)
            .header("x-request-id", "abc-123"),
    )
    .await;
    let own = kept.headers["x-request-id"].to_str().unwrap();
    assert_ne!(own, "abc-123");
    assert_eq!(uuid::Uuid::parse_str(own).unwrap().get_version_num(), 7);
    let hostile = "a\"b<script>".to_owned() + &"x".repeat(100);
    let replaced = Answer::of(
        api.request(Method::GET, "/nowhere", None)
            .header("x-request-id", &hostile),
    )
    .await;
    let echoed = replaced.headers["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(echoed, hostile);
    assert_eq!(
        replaced.json["request_id"],
        echoed.as_str(),
        "the problem names the same id"
    );
}

#[tokio::test]
async fn two_orders_with_the_same_client_request_id_get_different_audit_request_ids() {
    let gw = TestGateway::start().await;
    let account = gw.add_account(generous_limits()).await;
    let token = gw.bearer(&[Role::Trader], &[&account]).await;
    let api = gw.api();
    let mut gateway_ids = Vec::new();
    for _ in 0..2 {
        let body = order::market(&account, BTC, "buy", "0.01");
        let request = api
            .request(Method::POST, "/v1/orders", Some(&token))
            .header("x-request-id", "same-client-id")
            .json(&body);
        let answer = Answer::of(request).await;
        assert!([200, 201].contains(&answer.status), "{}", answer.text);
        gateway_ids.push(answer.headers["x-request-id"].to_str().unwrap().to_owned());
    }
    gw.shutdown().await;

    let events = gw.audit_events().await;
    let accepted: Vec<_> = events
        .iter()
        .filter(|e| e.action == rampart_audit::action::ORDER_ACCEPTED)
        .collect();
    assert_eq!(accepted.len(), 2, "two accepted orders");
    assert_ne!(accepted[0].request_id, accepted[1].request_id);
    for event in accepted {
        assert!(
            gateway_ids.contains(&event.request_id),
            "gateway id {}",
            event.request_id
        );
        assert_eq!(event.details["client_request_id"], "same-client-id");
    }
}

#[tokio::test]
async fn plain_http_on_the_tls_port_is_not_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let gw = TestGateway::shared().await;
    let addr = gw.base_url().trim_start_matches("https://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut buffer),
    )
    .await;
    let read = read.expect("the gateway closes a plain-HTTP connection instead of hanging");
    let text = String::from_utf8_lossy(&buffer);
    assert!(
        read.is_err() || !text.contains("\"status\""),
        "no plain-HTTP answer: {text}"
    );
}

#[tokio::test]
async fn certificate_is_verified_a_client_without_the_ca_is_refused() {
    let gw = TestGateway::shared().await;
    let untrusting = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let result = untrusting
        .get(format!("{}/healthz", gw.base_url()))
        .send()
        .await;
    assert!(
        result.is_err(),
        "a certificate from an unknown CA is refused"
    );
}

#[tokio::test]
async fn certificate_is_verified_for_its_names_only() {
    let gw = TestGateway::shared().await;
    let ca = std::fs::read(gw.data_dir().join("tls/ca.pem")).unwrap();
    let addr: std::net::SocketAddr = gw
        .base_url()
        .trim_start_matches("https://")
        .parse()
        .unwrap();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .resolve("gateway.example", addr)
        .resolve("localhost", addr)
        .build()
        .unwrap();
    let wrong = client
        .get(format!("https://gateway.example:{}/healthz", addr.port()))
        .send()
        .await;
    assert!(
        wrong.is_err(),
        "a name the certificate does not carry is refused"
    );
    let right = client
        .get(format!("https://localhost:{}/healthz", addr.port()))
        .send()
        .await;
    assert_eq!(
        right.unwrap().status(),
        200,
        "the name it carries is accepted"
    );
}
