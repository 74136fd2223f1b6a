//! Forwarding to a SIEM: every committed event reaches the JSON-lines file and a
//! loopback syslog collector (UDP and TCP), once, in order, as strict RFC 5424, and a
//! collector that is down never holds up an order.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use rampart_audit::AuditEvent;
use rampart_core::Role;
use rampart_server::config::{SyslogConfig, SyslogTransport};
use rampart_testkit::market::BTC;
use rampart_testkit::order;
use rampart_testkit::{TestGateway, generous_limits};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, UdpSocket};

/// One message as a strict RFC 5424 parser reads it.
#[derive(Debug)]
struct Syslog {
    pri: u16,
    timestamp: String,
    app_name: String,
    msgid: String,
    seq: u64,
    action: String,
    outcome: String,
    msg: Vec<u8>,
}

/// Parses `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] BOM MSG`, refusing anything else.
fn parse_rfc5424(bytes: &[u8]) -> Syslog {
    let bom = b"\xEF\xBB\xBF";
    let at = bytes
        .windows(3)
        .position(|w| w == bom)
        .expect("a BOM before MSG");
    let head = std::str::from_utf8(&bytes[..at]).expect("an ASCII header");
    let msg = bytes[at + 3..].to_vec();
    assert!(head.is_ascii(), "{head}");
    let (pri, rest) = head
        .strip_prefix('<')
        .and_then(|h| h.split_once(">1 "))
        .expect("`<PRI>1 `");
    let pri: u16 = pri.parse().expect("a numeric PRI");
    assert!(pri <= 191, "PRI out of range");
    let fields: Vec<&str> = rest.splitn(6, ' ').collect();
    assert_eq!(fields.len(), 6, "{head}");
    let (timestamp, host, app, procid, msgid, sd) = (
        fields[0], fields[1], fields[2], fields[3], fields[4], fields[5],
    );
    for field in [host, app, procid, msgid] {
        assert!(!field.is_empty() && field.bytes().all(|b| (33..=126).contains(&b)));
    }
    assert!(app.len() <= 48 && procid.len() <= 128 && msgid.len() <= 32);
    chrono::DateTime::parse_from_rfc3339(timestamp).expect("an RFC 3339 timestamp");
    let sd = sd
        .strip_prefix("[rampart@32473 ")
        .and_then(|s| s.strip_suffix("] "))
        .unwrap_or_else(|| panic!("one SD element then a space: {sd:?}"));
    let params: Vec<(&str, &str)> = sd
        .split(' ')
        .map(|p| {
            let (name, value) = p.split_once('=').expect("PARAM-NAME=\"value\"");
            let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
            (name, value.expect("a quoted value"))
        })
        .collect();
    let names: Vec<&str> = params.iter().map(|p| p.0).collect();
    assert_eq!(names, ["seq", "action", "outcome"]);
    Syslog {
        pri,
        timestamp: timestamp.to_owned(),
        app_name: app.to_owned(),
        msgid: msgid.to_owned(),
        seq: params[0].1.parse().expect("a numeric seq"),
        action: params[1].1.to_owned(),
        outcome: params[2].1.to_owned(),
        msg,
    }
}

/// Places one accepted order, so that the log holds more than start-up events.
async fn trade(gw: &TestGateway) {
    let account = gw.add_account(generous_limits()).await;
    let client = gw.add_client(&[Role::Trader], &[&account]).await;
    let token = gw.token(&client).await;
    let answer = gw
        .api()
        .place(&token, &order::market(&account, BTC, "buy", "0.1"))
        .await;
    answer.assert_json(201);
}

fn jsonl_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn canonical_lines(events: &[AuditEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| String::from_utf8(e.canonical_json()).unwrap())
        .collect()
}

fn assert_matches_store(messages: &[Syslog], events: &[AuditEvent], app_name: &str) {
    assert_eq!(messages.len(), events.len(), "one message per event");
    for (message, event) in messages.iter().zip(events) {
        assert_eq!(message.seq, event.seq);
        assert_eq!(message.action, event.action);
        assert_eq!(message.msgid, event.action);
        assert_eq!(message.outcome, event.outcome.as_str());
        assert_eq!(message.app_name, app_name);
        assert_eq!(message.msg, event.canonical_json());
        assert_eq!(message.timestamp, rampart_audit::time::format(&event.time));
        assert_eq!(message.pri / 8, 13, "facility log audit");
    }
}

#[tokio::test]
async fn every_committed_event_is_appended_once_as_its_canonical_json_line() {
    let outside = tempfile::tempdir().unwrap();
    let path = outside.path().join("siem.jsonl");
    let target = path.clone();
    let gw = TestGateway::start_with(|c| c.audit.forward.jsonl = Some(target)).await;
    trade(&gw).await;
    gw.shutdown().await;

    let events = gw.audit_events().await;
    assert!(
        events.len() >= 6,
        "start, identities, order and stop events"
    );
    assert_eq!(jsonl_lines(&path), canonical_lines(&events));
}

#[tokio::test]
async fn restart_resumes_forwarding_without_gaps_or_duplicates() {
    let outside = tempfile::tempdir().unwrap();
    let path = outside.path().join("siem.jsonl");
    let target = path.clone();
    let gw = TestGateway::start_with(|c| c.audit.forward.jsonl = Some(target)).await;
    trade(&gw).await;
    let gw = gw.restart().await;
    trade(&gw).await;
    gw.shutdown().await;

    let events = gw.audit_events().await;
    let lines = jsonl_lines(&path);
    assert_eq!(lines, canonical_lines(&events));
    let stopped = events
        .iter()
        .filter(|e| e.action == rampart_audit::action::GATEWAY_STOPPED)
        .count();
    assert_eq!(stopped, 2, "both runs' last event was forwarded");
}

#[tokio::test]
async fn udp_collector_receives_one_strict_rfc5424_message_per_event() {
    let collector = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = collector.local_addr().unwrap();
    let syslog = SyslogConfig {
        address,
        transport: SyslogTransport::Udp,
        app_name: "rampart-test".to_owned(),
    };
    let gw = TestGateway::start_with(|c| c.audit.forward.syslog = Some(syslog)).await;
    trade(&gw).await;
    gw.shutdown().await;
    let events = gw.audit_events().await;

    let mut messages = Vec::new();
    let mut buffer = vec![0u8; 65_536];
    while messages.len() < events.len() {
        let received = tokio::time::timeout(Duration::from_secs(10), collector.recv(&mut buffer))
            .await
            .expect("a datagram for every event")
            .unwrap();
        messages.push(parse_rfc5424(&buffer[..received]));
    }
    assert_matches_store(&messages, &events, "rampart-test");
}

#[tokio::test]
async fn tcp_collector_receives_octet_counted_rfc5424_frames() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let received = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).await.unwrap();
        bytes
    });
    let syslog = SyslogConfig {
        address,
        transport: SyslogTransport::Tcp,
        app_name: "rampart".to_owned(),
    };
    let gw = TestGateway::start_with(|c| c.audit.forward.syslog = Some(syslog)).await;
    trade(&gw).await;
    gw.shutdown().await;
    let events = gw.audit_events().await;

    let bytes = tokio::time::timeout(Duration::from_secs(10), received)
        .await
        .expect("the gateway closes the stream at shutdown")
        .unwrap();
    let mut messages = Vec::new();
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let space = rest.iter().position(|b| *b == b' ').expect("MSG-LEN SP");
        let len: usize = std::str::from_utf8(&rest[..space])
            .unwrap()
            .parse()
            .unwrap();
        let frame = &rest[space + 1..space + 1 + len];
        messages.push(parse_rfc5424(frame));
        rest = &rest[space + 1 + len..];
    }
    assert_matches_store(&messages, &events, "rampart");
}

#[tokio::test]
async fn collector_that_is_down_never_holds_up_an_order_and_is_counted() {
    let closed: SocketAddr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let syslog = SyslogConfig {
        address: closed,
        transport: SyslogTransport::Tcp,
        app_name: "rampart".to_owned(),
    };
    let gw = TestGateway::start_with(|c| c.audit.forward.syslog = Some(syslog)).await;
    trade(&gw).await;

    let api = gw.api();
    let mut counted = false;
    for _ in 0..50 {
        let text = api.get("/metrics", None).await.text;
        counted = text
            .lines()
            .any(|l| l.starts_with("rampart_audit_forward_failures_total{sink=\"syslog\"}"));
        if counted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(counted, "the failure is counted in /metrics");
    gw.shutdown().await;
}
