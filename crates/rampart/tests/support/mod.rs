//! Running the real `rampart` binary in a temporary working directory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// A temporary working directory for the binary; the data lives in `./rampart-data`.
pub struct Workdir {
    dir: TempDir,
}

/// What one run of the binary printed, and how it ended.
pub struct Run {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Its exit code.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            success: output.status.success(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Everything printed, for assertion messages.
    pub fn all(&self) -> String {
        format!(
            "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Panics with the output unless the run succeeded.
    pub fn ok(self) -> Self {
        assert!(self.success, "rampart failed:\n{}", self.all());
        self
    }
}

impl Workdir {
    /// A fresh, empty working directory.
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The data directory the binary uses by default.
    pub fn data_dir(&self) -> PathBuf {
        self.path().join("rampart-data")
    }

    /// The SQLite database inside the data directory.
    pub fn database(&self) -> PathBuf {
        self.data_dir().join("rampart.db")
    }

    /// Runs `rampart <args>` here, with no standard input and no `RAMPART_*` settings
    /// but the market data directory.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rampart"));
        command
            .current_dir(self.path())
            .args(args)
            .stdin(std::process::Stdio::null());
        for (key, _) in std::env::vars() {
            if key.starts_with("RAMPART_") {
                command.env_remove(key);
            }
        }
        // The gateway refuses to prepare a data directory without its market data,
        // which is found relative to the working directory unless configured.
        let market = market_data().canonicalize().unwrap();
        command.env("RAMPART_MARKET__DATA_DIR", market);
        command.env("RUST_LOG", "warn");
        Run::from(command.output().unwrap())
    }

    /// `rampart init`, which must succeed.
    pub fn init(&self) -> Run {
        self.run(&["init"]).ok()
    }

    /// The `action` of every audit event, in order, read with the `sqlite3` shell.
    pub fn audit_actions(&self) -> Vec<String> {
        let output = Command::new("sqlite3")
            .arg(self.database())
            .arg("SELECT action FROM audit_events ORDER BY seq")
            .output()
            .unwrap();
        assert!(output.status.success(), "sqlite3 failed");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.lines().map(str::to_owned).collect()
    }

    /// Runs SQL against the database with the `sqlite3` shell.
    pub fn sqlite(&self, sql: &str) {
        let output = Command::new("sqlite3")
            .arg(self.database())
            .arg(sql)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "sqlite3 failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The mode bits of a file or directory.
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The market data: the repository's copy, or the shared one beside the repository.
pub fn market_data() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repository = manifest.join("../../data/market");
    if repository.is_dir() {
        return repository;
    }
    manifest.join("../../../shared/data/market")
}
