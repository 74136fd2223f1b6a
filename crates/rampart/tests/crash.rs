//! Crash safety: a real `rampart serve` under order load is killed with SIGKILL at
//! random moments; after every kill the audit log verifies, and every order the gateway
//! answered 201 has its `order.accepted` event, with the request id it answered with.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod support;

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use support::Workdir;

/// How many times the gateway is killed.
const KILLS: usize = 20;

/// How many clients send orders at once.
const SENDERS: usize = 4;

/// Acknowledged orders: order id ▶ the request id the gateway answered with.
type Acknowledged = Arc<Mutex<HashMap<String, String>>>;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A data directory with one generously limited account and a trader client on it.
fn prepared() -> (Workdir, String, String) {
    let work = Workdir::new();
    work.init();
    work.run(&[
        "account",
        "add",
        "ACC-CRASH",
        "--cash",
        "1000000000000",
        "--max-orders-per-second",
        "10000",
        "--max-position-quantity",
        "1000000000",
        "--max-daily-notional",
        "1000000000000",
        "--max-risk-per-trade-pct",
        "100",
    ])
    .ok();
    let added = work
        .run(&[
            "client",
            "add",
            "--name",
            "crash",
            "--roles",
            "trader",
            "--accounts",
            "ACC-CRASH",
        ])
        .ok();
    let field = |name: &str| {
        let line = added.stdout.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().last().unwrap().to_owned()
    };
    let (id, secret) = (field("client_id:"), field("client_secret:"));
    (work, id, secret)
}

fn serve(work: &Workdir, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .current_dir(work.path())
        .arg("serve")
        .env("RAMPART_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("RAMPART_MARKET__DATA_DIR", support::market_data())
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn client(work: &Workdir) -> reqwest::Client {
    let ca = std::fs::read(work.data_dir().join("tls/ca.pem")).unwrap();
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn wait_until_ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(answer) = http.get(format!("{base}/readyz")).send().await {
            if answer.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the gateway did not become ready at {base}");
}

async fn token(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> String {
    let answer = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// Sends market orders until the gateway stops answering; records every 201.
async fn send_orders(http: reqwest::Client, url: String, token: String, acked: Acknowledged) {
    for n in 0u32.. {
        let side = if n % 2 == 0 { "buy" } else { "sell" };
        let body = serde_json::json!({
            "account_id": "ACC-CRASH", "instrument": "BTC-USD",
            "side": side, "type": "market", "quantity": "0.001",
        });
        let Ok(answer) = http.post(&url).bearer_auth(&token).json(&body).send().await else {
            return;
        };
        if answer.status() != 201 {
            continue;
        }
        let request_id = answer.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let Ok(order) = answer.json::<serde_json::Value>().await else {
            return;
        };
        let id = order["id"].as_str().unwrap().to_owned();
        acked.lock().unwrap().insert(id, request_id);
    }
}

/// Order id ▶ request id of every `order.accepted` event in the database.
fn accepted_in_log(work: &Workdir) -> HashMap<String, String> {
    let output = Command::new("sqlite3")
        .arg(work.database())
        .arg("SELECT target, request_id FROM audit_events WHERE action = 'order.accepted';")
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (target, request) = line.split_once('|').unwrap();
            let id = target.strip_prefix("order:").unwrap();
            (id.to_owned(), request.to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_gateway_loses_no_acknowledged_event_and_its_log_verifies() {
    let (work, id, secret) = prepared();
    let port = free_port();
    let base = format!("https://127.0.0.1:{port}");
    let acked: Acknowledged = Arc::default();

    for kill in 0..KILLS {
        let mut child = serve(&work, port);
        let http = client(&work);
        wait_until_ready(&http, &base).await;
        let token = token(&http, &base, &id, &secret).await;
        let senders: Vec<_> = (0..SENDERS)
            .map(|_| {
                let url = format!("{base}/v1/orders");
                tokio::spawn(send_orders(http.clone(), url, token.clone(), acked.clone()))
            })
            .collect();

        let delay = rand::thread_rng().gen_range(20..400);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        child.kill().unwrap();
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        assert!(!status.success(), "the gateway was killed, not stopped");
        for sender in senders {
            sender.await.unwrap();
        }

        let verified = work.run(&["audit", "verify"]);
        assert!(verified.success, "after kill {kill}: {}", verified.all());
        let logged = accepted_in_log(&work);
        for (order, request) in acked.lock().unwrap().iter() {
            assert_eq!(
                logged.get(order),
                Some(request),
                "after kill {kill}: acknowledged order {order} has no event"
            );
        }
    }
    let acknowledged = acked.lock().unwrap().len();
    assert!(
        acknowledged >= KILLS,
        "only {acknowledged} orders were acknowledged"
    );
}
