//! RFC 5424 syslog messages of audit events, sent over UDP (RFC 5426) or TCP (RFC 6587).
//!
//! Each message carries the event's `seq`, `action` and `outcome` as structured
//! data and its canonical JSON (the very bytes hashed into the log) as MSG, so
//! a SIEM can both index an event and check it against a proof. Over TCP every
//! message is framed by octet counting, which survives newlines in the JSON.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use rampart_audit::{AuditEvent, Outcome};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};

use crate::config::{SyslogConfig, SyslogTransport};

/// The facility of every message: 13, "log audit" (RFC 5424, section 6.2.1).
pub const FACILITY_LOG_AUDIT: u8 = 13;

/// The SD-ID of the structured data; 32473 is the enterprise number RFC 5612
/// reserves for documentation and examples.
pub const SD_ID: &str = "rampart@32473";

/// The UTF-8 byte order mark RFC 5424 puts before a UTF-8 MSG.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The longest MSGID (RFC 5424, section 6.2.7).
const MAX_MSGID: usize = 32;

/// The longest HOSTNAME (RFC 5424, section 6.2.4).
const MAX_HOSTNAME: usize = 255;

/// How long connecting to or writing to the collector may take.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The fixed header fields of this process's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The HOSTNAME, or `-`.
    pub hostname: String,
    /// The APP-NAME.
    pub app_name: String,
    /// The PROCID.
    pub procid: String,
}

impl Header {
    /// The header of this host and process.
    pub fn of_this_process(app_name: &str) -> Self {
        Self {
            hostname: local_hostname(),
            app_name: app_name.to_owned(),
            procid: std::process::id().to_string(),
        }
    }
}

/// The severity of an event: informational, notice, warning or error.
pub fn severity(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Success => 6,
        Outcome::Rejected => 5,
        Outcome::Denied => 4,
        Outcome::Failed => 3,
    }
}

/// One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD BOM MSG`.
pub fn format(event: &AuditEvent, header: &Header) -> Vec<u8> {
    let pri = u16::from(FACILITY_LOG_AUDIT) * 8 + u16::from(severity(event.outcome));
    let msgid = if is_print_ascii(&event.action, MAX_MSGID) {
        event.action.as_str()
    } else {
        "-"
    };
    let head = format!(
        "<{pri}>1 {time} {host} {app} {procid} {msgid} [{SD_ID} seq=\"{seq}\" action=\"{action}\" \
         outcome=\"{outcome}\"] ",
        time = rampart_audit::time::format(&event.time),
        host = header.hostname,
        app = header.app_name,
        procid = header.procid,
        seq = event.seq,
        action = escape_param(&event.action),
        outcome = event.outcome.as_str(),
    );
    let mut message = head.into_bytes();
    message.extend_from_slice(BOM);
    message.extend_from_slice(&event.canonical_json());
    message
}

/// A message framed for a stream: `MSG-LEN SP SYSLOG-MSG` (RFC 6587, section 3.4.1).
pub fn octet_counted(message: &[u8]) -> Vec<u8> {
    let mut frame = format!("{} ", message.len()).into_bytes();
    frame.extend_from_slice(message);
    frame
}

/// A connection to a syslog collector; TCP reconnects after a failure.
#[derive(Debug)]
pub struct SyslogSink {
    address: SocketAddr,
    transport: SyslogTransport,
    header: Header,
    udp: Option<UdpSocket>,
    tcp: Option<TcpStream>,
}

impl SyslogSink {
    /// A sink for `config`; nothing is connected until the first send.
    pub fn new(config: &SyslogConfig) -> Self {
        Self {
            address: config.address,
            transport: config.transport,
            header: Header::of_this_process(&config.app_name),
            udp: None,
            tcp: None,
        }
    }

    /// Sends every event, in order; on failure the connection is dropped.
    pub async fn send(&mut self, events: &[AuditEvent]) -> io::Result<()> {
        let result = match self.transport {
            SyslogTransport::Udp => self.send_udp(events).await,
            SyslogTransport::Tcp => self.send_tcp(events).await,
        };
        if result.is_err() {
            self.udp = None;
            self.tcp = None;
        }
        result
    }

    async fn send_udp(&mut self, events: &[AuditEvent]) -> io::Result<()> {
        if self.udp.is_none() {
            let local: SocketAddr = if self.address.is_ipv4() {
                ([0, 0, 0, 0], 0).into()
            } else {
                ([0u16; 8], 0).into()
            };
            let socket = UdpSocket::bind(local).await?;
            socket.connect(self.address).await?;
            self.udp = Some(socket);
        }
        let Some(socket) = &self.udp else {
            return Err(io::Error::other("no socket"));
        };
        for event in events {
            let message = format(event, &self.header);
            let sent = timed(socket.send(&message)).await?;
            if sent != message.len() {
                return Err(io::Error::other("datagram truncated"));
            }
        }
        Ok(())
    }

    async fn send_tcp(&mut self, events: &[AuditEvent]) -> io::Result<()> {
        if self.tcp.is_none() {
            let stream = timed(TcpStream::connect(self.address)).await?;
            stream.set_nodelay(true)?;
            self.tcp = Some(stream);
        }
        let Some(stream) = &mut self.tcp else {
            return Err(io::Error::other("no connection"));
        };
        let mut frames = Vec::new();
        for event in events {
            frames.extend_from_slice(&octet_counted(&format(event, &self.header)));
        }
        timed(stream.write_all(&frames)).await?;
        timed(stream.flush()).await
    }
}

/// Runs `io` with the I/O timeout.
async fn timed<T>(io: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    tokio::time::timeout(IO_TIMEOUT, io)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "syslog collector timed out"))?
}

/// Escapes `"`, `\` and `]` in a PARAM-VALUE (RFC 5424, section 6.3.3).
fn escape_param(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '"' | '\\' | ']') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// This host's name, or `-` when it cannot be read or is not printable ASCII.
fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| is_print_ascii(name, MAX_HOSTNAME))
        .unwrap_or_else(|| "-".to_owned())
}

fn is_print_ascii(text: &str, max: usize) -> bool {
    (1..=max).contains(&text.len()) && text.bytes().all(|b| (33..=126).contains(&b))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rampart_audit::NewEvent;
    use serde_json::json;

    use super::*;

    fn event(action: &str, outcome: Outcome) -> AuditEvent {
        let time = chrono::Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .unwrap();
        let new = NewEvent::new("client-1", action, "account:A", outcome, "req-1")
            .details(json!({"b": 1, "a": "x\ny"}));
        AuditEvent::from_new(7, time, new)
    }

    fn header() -> Header {
        Header {
            hostname: "gw1".to_owned(),
            app_name: "rampart".to_owned(),
            procid: "42".to_owned(),
        }
    }

    #[test]
    fn message_has_the_rfc5424_header_structured_data_and_canonical_json() {
        let event = event("order.accepted", Outcome::Success);
        let message = format(&event, &header());
        let expected_head = "<110>1 2026-01-02T03:04:05.000000Z gw1 rampart 42 order.accepted \
                             [rampart@32473 seq=\"7\" action=\"order.accepted\" \
                             outcome=\"success\"] \u{feff}";
        let text = String::from_utf8(message).unwrap();
        let body = text.strip_prefix(expected_head).unwrap();
        assert_eq!(body.as_bytes(), event.canonical_json().as_slice());
    }

    #[test]
    fn denied_events_are_warnings_and_failures_errors() {
        let denied = String::from_utf8(format(&event("policy.denied", Outcome::Denied), &header()));
        assert!(denied.unwrap().starts_with("<108>1 "));
        let failed = String::from_utf8(format(&event("x", Outcome::Failed), &header()));
        assert!(failed.unwrap().starts_with("<107>1 "));
    }

    #[test]
    fn action_too_long_for_a_msgid_is_sent_as_nil() {
        let long = "a".repeat(33);
        let text = String::from_utf8(format(&event(&long, Outcome::Success), &header())).unwrap();
        assert!(text.contains(" 42 - [rampart@32473"), "{text}");
    }

    #[test]
    fn parameter_values_escape_quote_backslash_and_bracket() {
        assert_eq!(escape_param("a\"b\\c]d"), "a\\\"b\\\\c\\]d");
    }

    #[test]
    fn octet_counting_prefixes_the_length_in_bytes() {
        assert_eq!(octet_counted("é x".as_bytes()), b"4 \xC3\xA9 x".to_vec());
    }
}
