//! Prometheus metrics of the gateway: requests, order outcomes and decision latency.
//!
//! The recorder is process-global, so it is installed once and shared by every
//! gateway in the process (several run side by side in tests). Labels are
//! bounded: the matched route template, never the raw path.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests answered, by route template and status.
pub const HTTP_REQUESTS: &str = "rampart_http_requests_total";

/// Orders placed, by outcome (`accepted`, `rejected`, `filled`, `cancelled`, `duplicate`).
pub const ORDERS: &str = "rampart_orders_total";

/// Seconds spent deciding an order: authorisation and pre-trade controls.
pub const DECISION_SECONDS: &str = "rampart_decision_seconds";

const DECISION_BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide Prometheus handle, installing the recorder on first use.
pub fn handle() -> PrometheusHandle {
    HANDLE.get_or_init(install).clone()
}

fn install() -> PrometheusHandle {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(DECISION_SECONDS.to_owned()),
            &DECISION_BUCKETS,
        )
        .unwrap_or_else(|_| PrometheusBuilder::new());
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!("another metrics recorder is installed; gateway metrics are not exported");
    }
    handle
}

/// Counts one answered request.
pub fn count_request(route: &str, status: u16) {
    metrics::counter!(HTTP_REQUESTS, "route" => route.to_owned(), "status" => status.to_string())
        .increment(1);
}

/// Counts one order outcome.
pub fn count_order(outcome: &'static str) {
    metrics::counter!(ORDERS, "outcome" => outcome).increment(1);
}

/// Records how long an order decision took.
pub fn record_decision(elapsed: Duration) {
    metrics::histogram!(DECISION_SECONDS).record(elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_requests_appear_in_the_rendered_text() {
        let handle = handle();
        count_request("/v1/test-route", 201);
        let text = handle.render();
        assert!(
            text.contains("rampart_http_requests_total{route=\"/v1/test-route\",status=\"201\"}")
        );
    }

    #[test]
    fn handle_is_installed_once_and_shared() {
        let first = handle();
        count_order("accepted");
        assert!(handle().render().contains("rampart_orders_total"));
        assert!(first.render().contains("rampart_orders_total"));
    }
}
