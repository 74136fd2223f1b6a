//! At start, limits in force above a firm-wide cap are reported with a warning
//! and an audit event naming account, field, value and cap; the gateway still starts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use rampart_testkit::{TestGateway, generous_limits};
use rust_decimal_macros::dec;
use tracing_subscriber::EnvFilter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("warn"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    captured
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_above_a_cap_are_reported_at_start_and_the_gateway_still_starts() {
    let logs = capture();
    let gw = TestGateway::start_with(|config| {
        config.risk.caps.max_order_notional = Some(dec!(1000));
    })
    .await;
    let above = gw.add_account(generous_limits()).await;
    let mut modest = generous_limits();
    modest.max_order_notional = dec!(900);
    let within = gw.add_account(modest).await;

    let gw = gw.restart().await;
    gw.api().get("/healthz", None).await.assert_json(200);
    let reported: Vec<_> = gw
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.action == "risk_limits.in_force_above_cap")
        .collect();
    assert_eq!(reported.len(), 1, "{reported:?}");
    let event = &reported[0];
    assert_eq!(event.target, format!("account:{above}"));
    assert_eq!(event.details["field"], "max_order_notional");
    assert_eq!(event.details["value"], "1000000000");
    assert_eq!(event.details["cap"], "1000");
    assert_eq!(event.details["limits_version"], 1);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("exceed a firm-wide cap"))
        .unwrap_or_else(|| panic!("no warning in:\n{text}"));
    assert!(
        line.contains("WARN") && line.contains(above.as_str()),
        "{line}"
    );
    assert!(
        line.contains("max_order_notional") && line.contains("1000"),
        "{line}"
    );
    assert!(
        !text.contains(within.as_str()),
        "an account within its caps was reported"
    );
    gw.shutdown().await;
}
