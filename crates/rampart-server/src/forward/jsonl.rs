//! The JSON-lines forwarder: every committed event appended to a file as one line.
//!
//! Each line is the event's canonical JSON (RFC 8785), the bytes hashed into
//! the log, so a line can be checked against an inclusion proof. The file is
//! opened for appending only, owner-only (0600), and synced after each batch.
//! A line cut short by a crash is closed with a newline on the next start, so
//! that the events sent again after it stay on lines of their own.

use std::io;
use std::path::{Path, PathBuf};

use rampart_audit::AuditEvent;
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::files::PRIVATE_FILE;

/// A file events are appended to.
#[derive(Debug)]
pub struct JsonlSink {
    path: PathBuf,
    file: Option<File>,
}

impl JsonlSink {
    /// A sink appending to `path`; the file is opened on the first send.
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            file: None,
        }
    }

    /// Appends one line per event and syncs the file.
    pub async fn send(&mut self, events: &[AuditEvent]) -> io::Result<()> {
        let result = self.append(events).await;
        if result.is_err() {
            self.file = None;
        }
        result
    }

    async fn append(&mut self, events: &[AuditEvent]) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(open(&self.path).await?);
        }
        let Some(file) = &mut self.file else {
            return Err(io::Error::other("file not open"));
        };
        let mut lines = Vec::new();
        for event in events {
            lines.extend_from_slice(&event.canonical_json());
            lines.push(b'\n');
        }
        file.write_all(&lines).await?;
        file.sync_data().await
    }
}

/// Opens `path` for appending, closing a line a crash left unfinished.
async fn open(path: &Path) -> io::Result<File> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .mode(PRIVATE_FILE)
        .open(path)
        .await?;
    let len = file.metadata().await?.len();
    if len > 0 {
        file.seek(io::SeekFrom::Start(len - 1)).await?;
        let mut last = [0u8; 1];
        file.read_exact(&mut last).await?;
        if last != *b"\n" {
            file.write_all(b"\n").await?;
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rampart_audit::{NewEvent, Outcome};

    use super::*;

    fn event(seq: u64) -> AuditEvent {
        let new = NewEvent::new(
            "client-1",
            "order.accepted",
            "account:A",
            Outcome::Success,
            "r",
        );
        AuditEvent::from_new(seq, Utc::now(), new)
    }

    #[tokio::test]
    async fn each_event_becomes_one_canonical_line() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("audit.jsonl");
        let mut sink = JsonlSink::new(&path);
        let events = [event(1), event(2)];
        sink.send(&events).await.unwrap();
        let text = std::fs::read(&path).unwrap();
        let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], events[0].canonical_json().as_slice());
        assert_eq!(lines[1], events[1].canonical_json().as_slice());
        assert!(lines[2].is_empty());
        assert_eq!(crate::files::mode_of(&path).unwrap(), PRIVATE_FILE);
    }

    #[tokio::test]
    async fn a_line_cut_short_is_closed_before_new_lines() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("audit.jsonl");
        std::fs::write(&path, b"{\"seq\":1,\"torn").unwrap();
        let mut sink = JsonlSink::new(&path);
        sink.send(&[event(1)]).await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "{\"seq\":1,\"torn");
        assert!(lines[1].starts_with("{\"action\":\"order.accepted\""));
    }
}
