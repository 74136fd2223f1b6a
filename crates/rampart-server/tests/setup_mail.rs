//! Over real HTTPS and real SMTP: set-up tokens mailed to their person.
//!
//! A real SMTP server (`aiosmtpd`, on loopback, with a certificate from its own
//! CA) receives the message; the gateway verifies the relay's certificate
//! against the configured CA file, authenticates with a password read from the
//! secret store, and answers the administrator with the method only. A relay
//! whose certificate is not trusted, or a person with no address, gets no
//! mail, and the token is withdrawn.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::time::Duration;

use rampart_core::Role;
use rampart_secrets::{FileStore, SecretStore, SecretValue};
use rampart_server::config::setup_delivery::{DeliveryMethod, SmtpConfig, SmtpTls};
use rampart_testkit::TestGateway;
use rampart_testkit::people::Setup;
use rampart_testkit::smtp::{SmtpMode, SmtpServer};
use serde_json::json;

const RELAY_USER: &str = "rampart";
const RELAY_PASSWORD: &str = "relay-canary-5d1f0c9e"; // pragma: allowlist secret
const CHOSEN: &str = "a passphrase only the person knows"; // pragma: allowlist secret

fn relay(server: &SmtpServer, tls: SmtpTls, trust_its_ca: bool) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port: Some(server.port()),
        tls,
        ca_file: trust_its_ca.then(|| server.ca_file().to_path_buf()),
        username: Some(RELAY_USER.into()),
        password: Some("store:smtp-relay-password".into()),
        from: "Rampart <rampart@bank.example>".into(),
        allowed_domains: vec!["bank.example".into()],
        timeout_seconds: 10,
    }
}

async fn gateway_mailing_through(smtp: SmtpConfig) -> TestGateway {
    let gw = TestGateway::start_with(|config| {
        config.auth.setup_delivery.method = DeliveryMethod::Smtp;
        config.auth.setup_delivery.smtp = Some(smtp);
    })
    .await;
    let (store, _) = FileStore::create_dev(&gw.secret_store_dir()).unwrap();
    store
        .put(
            "smtp-relay-password",
            SecretValue::text(RELAY_PASSWORD),
            None,
        )
        .await
        .unwrap();
    gw
}

async fn admin_token(gw: &TestGateway) -> String {
    let admin = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    gw.login(&admin).await.0
}

/// The token on the line after `Set-up token:` in a received message.
fn token_in(message: &str) -> String {
    let mut lines = message.lines();
    lines.find(|line| line.trim() == "Set-up token:").unwrap();
    lines.next().unwrap().trim().to_owned()
}

async fn wait_for_mail(server: &SmtpServer) -> Vec<String> {
    for _ in 0..50 {
        let received = server.messages();
        if !received.is_empty() {
            return received;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.messages()
}

#[tokio::test]
async fn a_new_users_setup_token_is_mailed_to_them_over_starttls() {
    let server = SmtpServer::start(SmtpMode::Starttls, Some((RELAY_USER, RELAY_PASSWORD))).await;
    let gw = gateway_mailing_through(relay(&server, SmtpTls::Starttls, true)).await;
    let admin = admin_token(&gw).await;
    let body = json!({ "username": "kim", "roles": ["auditor"], "email": "kim@bank.example" });
    let created = gw.api().post_json("/v1/users", Some(&admin), &body).await;
    let answer = created.assert_json(201);
    assert_eq!(answer["setup"]["delivery"], "smtp");

    let received = wait_for_mail(&server).await;
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert!(
        message.starts_with("X-Envelope-To: kim@bank.example"),
        "{message}"
    );
    let token = token_in(message);
    assert!(token.len() >= 32, "{message}");
    assert!(
        !created.text.contains(&token),
        "the answer never holds the token"
    );
    assert!(
        gw.pickup_files().is_empty(),
        "mailed, not written to pickup"
    );

    let setup = json!({ "setup_token": token, "new_password": CHOSEN });
    let set = gw.api().post_json("/v1/auth/setup", None, &setup).await;
    set.assert_json(200);
    let events = serde_json::to_string(&gw.audit_events().await).unwrap();
    assert!(!events.contains(&token) && !events.contains(RELAY_PASSWORD));
}

#[tokio::test]
async fn a_reset_is_mailed_over_implicit_tls() {
    let server = SmtpServer::start(SmtpMode::Implicit, Some((RELAY_USER, RELAY_PASSWORD))).await;
    let gw = gateway_mailing_through(relay(&server, SmtpTls::Implicit, true)).await;
    let admin = admin_token(&gw).await;
    let body = json!({ "username": "leon", "roles": ["trader"], "email": "leon@bank.example" });
    let created = gw.api().post_json("/v1/users", Some(&admin), &body).await;
    let id = created.assert_json(201)["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/users/{id}/reset-password");
    let reset = gw.api().post_json(&path, Some(&admin), &json!({})).await;
    assert_eq!(reset.assert_json(200)["setup"]["delivery"], "smtp");

    let mut received = wait_for_mail(&server).await;
    for _ in 0..50 {
        if received.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        received = server.messages();
    }
    assert_eq!(received.len(), 2);
    let first = token_in(&received[0]);
    let second = token_in(&received[1]);
    assert_ne!(first, second);
    let spend = |token: &str| json!({ "setup_token": token, "new_password": CHOSEN });
    let stale = gw
        .api()
        .post_json("/v1/auth/setup", None, &spend(&first))
        .await;
    stale.assert_problem(400, "request.invalid");
    let fresh = gw
        .api()
        .post_json("/v1/auth/setup", None, &spend(&second))
        .await;
    fresh.assert_json(200);
}

#[tokio::test]
async fn a_relay_whose_certificate_is_not_trusted_gets_no_token() {
    let server = SmtpServer::start(SmtpMode::Starttls, Some((RELAY_USER, RELAY_PASSWORD))).await;
    let gw = gateway_mailing_through(relay(&server, SmtpTls::Starttls, false)).await;
    let admin = admin_token(&gw).await;
    let body =
        json!({ "username": "morgan", "roles": ["auditor"], "email": "morgan@bank.example" });
    let created = gw.api().post_json("/v1/users", Some(&admin), &body).await;
    created.assert_problem(502, "auth.setup_undelivered");
    assert!(server.messages().is_empty());
    let events = gw.audit_events().await;
    let failed = events
        .iter()
        .find(|e| e.action == "auth.setup.undelivered")
        .unwrap();
    assert_eq!(failed.details["delivery"], "smtp");
}

#[tokio::test]
async fn a_person_without_an_address_in_an_allowed_domain_is_refused_at_creation() {
    let server = SmtpServer::start(SmtpMode::Starttls, Some((RELAY_USER, RELAY_PASSWORD))).await;
    let gw = gateway_mailing_through(relay(&server, SmtpTls::Starttls, true)).await;
    let admin = admin_token(&gw).await;
    for (name, email) in [("nina", None), ("ozzy", Some("ozzy@elsewhere.example"))] {
        let body = json!({ "username": name, "roles": ["auditor"], "email": email });
        let created = gw.api().post_json("/v1/users", Some(&admin), &body).await;
        created.assert_problem(400, "request.invalid");
        assert_eq!(created.member("field"), Some("email"), "{}", created.text);
    }
    let users = gw.api().get("/v1/users", Some(&admin)).await;
    let text = &users.text;
    assert!(!text.contains("nina") && !text.contains("ozzy"), "{text}");
    assert!(server.messages().is_empty());
}
