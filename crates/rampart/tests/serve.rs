//! `rampart serve`: the real gateway process, reached over TLS with its own CA.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Workdir;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_until_healthy(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(response) = client.get(url).send().await {
            assert!(response.status().is_success(), "{}", response.status());
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the gateway did not answer {url} in time");
}

#[tokio::test]
async fn serve_answers_over_verified_tls_and_stops_cleanly_on_sigterm() {
    let work = Workdir::new();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .current_dir(work.path())
        .arg("serve")
        .env("RAMPART_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("RAMPART_MARKET__DATA_DIR", support::market_data())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    let ca = work.data_dir().join("tls/ca.pem");
    while !ca.is_file() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .build()
        .unwrap();
    wait_until_healthy(&client, &format!("https://127.0.0.1:{port}/healthz")).await;

    // The client stays connected: a graceful stop must not hang on it. The wait runs
    // off the runtime's thread so that the client's connection keeps being served.
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let (status, stderr) = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (status, stderr)
    })
    .await
    .unwrap();
    drop(client);
    assert!(status.success(), "serve exited with {status}:\n{stderr}");
    assert_eq!(stderr.matches("one-time password").count(), 1, "{stderr}");

    let verified = work.run(&["audit", "verify"]).ok();
    assert!(
        verified.stdout.contains("audit log verified"),
        "{}",
        verified.all()
    );
}

#[tokio::test]
async fn serve_on_port_0_shows_the_port_it_really_listens_on() {
    use std::io::BufRead;

    let work = Workdir::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .current_dir(work.path())
        .arg("serve")
        .env("RAMPART_SERVER__LISTEN", "127.0.0.1:0")
        .env("RAMPART_MARKET__DATA_DIR", support::market_data())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let hint = tokio::task::spawn_blocking(move || {
        stderr
            .lines()
            .map_while(Result::ok)
            .find(|line| line.contains("/healthz"))
    });
    let hint = tokio::time::timeout(Duration::from_secs(60), hint).await;
    let hint = hint.ok().and_then(|joined| joined.ok()).flatten();
    let port = hint.as_deref().and_then(|hint| {
        let url = hint.split_whitespace().last()?;
        let port = url
            .strip_prefix("https://127.0.0.1:")?
            .strip_suffix("/healthz")?;
        port.parse::<u16>().ok()
    });
    // The gateway is still running: the port shown is the one it answers on.
    let reachable = port
        .is_some_and(|port| port != 0 && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();

    let hint = hint.expect("a health-check hint");
    assert!(!hint.contains("127.0.0.1:0/"), "{hint}");
    assert!(reachable, "{hint}");
    assert!(status.success(), "serve exited with {status}");
}
