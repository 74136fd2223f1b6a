//! The file store's on-disk records and their atomic writes.
//!
//! Rule upheld: a record is replaced only by a complete, fsynced file renamed over it
//! (then the directory is fsynced), so a crash leaves the old record or the new one,
//! never a torn one; files are created mode 0600.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::MasterKey;
use super::crypto::wrong_key;
use crate::store::{SecretError, SecretMeta, SecretValue, Stage, Version, printable};

const FORMAT: u32 = 1;
const STORE_FILE: &str = "store.json";
const SUFFIX: &str = ".secret";
const KEY_CHECK: &[u8] = b"rampart-secrets key check";

/// `store.json`: the format and a value sealed under the master key.
#[derive(Serialize, Deserialize)]
pub(super) struct StoreFile {
    format: u32,
    key_check: SealedVersion,
}

impl StoreFile {
    /// Checks the key against `store.json`, writing that file for a new store.
    pub(super) fn open_or_init(dir: &Path, key: &MasterKey) -> Result<(), SecretError> {
        let path = dir.join(STORE_FILE);
        if !path.exists() {
            if !Record::load_all(dir)?.is_empty() {
                return Err(SecretError::Corrupt("`store.json` is missing".into()));
            }
            let (nonce, sealed) = key.seal(STORE_FILE.as_bytes(), KEY_CHECK)?;
            let file = StoreFile {
                format: FORMAT,
                key_check: SealedVersion::new(0, false, &nonce, &sealed),
            };
            return write_atomic(&path, &to_json(&file)?);
        }
        let file: StoreFile = from_json(&fs::read(&path).map_err(io)?)?;
        if file.format != FORMAT {
            return Err(SecretError::Corrupt(format!(
                "unknown store format {}",
                file.format
            )));
        }
        let (nonce, sealed) = file.key_check.decode()?;
        let opened = key.unseal(STORE_FILE.as_bytes(), &nonce, &sealed)?;
        if opened.as_slice() != KEY_CHECK {
            return Err(wrong_key());
        }
        Ok(())
    }
}

/// One sealed version.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct SealedVersion {
    pub(super) version: u64,
    pub(super) created_at: DateTime<Utc>,
    pub(super) text: bool,
    nonce: String,
    ciphertext: String,
}

impl SealedVersion {
    pub(super) fn new(version: u64, text: bool, nonce: &[u8], ciphertext: &[u8]) -> SealedVersion {
        SealedVersion {
            version,
            created_at: Utc::now(),
            text,
            nonce: STANDARD.encode(nonce),
            ciphertext: STANDARD.encode(ciphertext),
        }
    }

    pub(super) fn decode(&self) -> Result<(Vec<u8>, Vec<u8>), SecretError> {
        let bad = |_| SecretError::Corrupt("a sealed value is not base64".into());
        Ok((
            STANDARD.decode(&self.nonce).map_err(bad)?,
            STANDARD.decode(&self.ciphertext).map_err(bad)?,
        ))
    }
}

/// One secret with all its versions.
#[derive(Serialize, Deserialize)]
pub(super) struct Record {
    format: u32,
    pub(super) name: String,
    created_at: DateTime<Utc>,
    rotated_at: Option<DateTime<Utc>>,
    pub(super) current: u64,
    pub(super) pending: Option<u64>,
    pub(super) previous: Option<u64>,
    versions: Vec<SealedVersion>,
}

impl Record {
    /// Loads the record of `name`, if the secret exists.
    pub(super) fn load(dir: &Path, name: &str) -> Result<Option<Record>, SecretError> {
        crate::store::validate_name(name)?;
        match fs::read(record_path(dir, name)) {
            Ok(bytes) => Record::parse(&bytes, name).map(Some),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io(error)),
        }
    }

    fn parse(bytes: &[u8], name: &str) -> Result<Record, SecretError> {
        let record: Record = from_json(bytes)?;
        if record.name != name || record.format != FORMAT {
            return Err(SecretError::Corrupt(format!(
                "record of `{}` is misplaced",
                printable(name)
            )));
        }
        Ok(record)
    }

    /// Loads every record in `dir`, sorted by name.
    pub(super) fn load_all(dir: &Path) -> Result<Vec<Record>, SecretError> {
        let mut records = Vec::new();
        for entry in fs::read_dir(dir).map_err(io)? {
            let file_name = entry.map_err(io)?.file_name();
            let Some(stem) = file_name.to_str().and_then(|n| n.strip_suffix(SUFFIX)) else {
                continue;
            };
            let name = stem.replace('~', "/");
            records.extend(Record::load(dir, &name)?);
        }
        records.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(records)
    }

    /// Writes the record atomically.
    pub(super) fn save(&self, dir: &Path) -> Result<(), SecretError> {
        write_atomic(&record_path(dir, &self.name), &to_json(self)?)
    }

    /// The record after writing `value` as the new current version.
    pub(super) fn put(
        record: Option<Record>,
        name: &str,
        key: &MasterKey,
        value: SecretValue,
        cas: Option<&Version>,
    ) -> Result<(Record, u64), SecretError> {
        let found = record.as_ref().map_or(0, |r| r.current);
        if let Some(expected) = cas.filter(|c| c.as_number() != Some(found)) {
            let (name, expected, found) =
                (name.to_owned(), expected.to_string(), found.to_string());
            return Err(SecretError::CasMismatch {
                name,
                expected,
                found,
            });
        }
        let Some(mut record) = record else {
            let sealed = key.seal_version(name, 1, &value)?;
            return Ok((Record::new(name, sealed), 1));
        };
        let version = record.add(key, &value)?;
        record.previous = Some(record.current);
        record.current = version;
        record.rotated_at = Some(Utc::now());
        Ok((record, version))
    }

    fn new(name: &str, first: SealedVersion) -> Record {
        Record {
            format: FORMAT,
            name: name.to_owned(),
            created_at: first.created_at,
            rotated_at: None,
            current: 1,
            pending: None,
            previous: None,
            versions: vec![first],
        }
    }

    /// The record after staging `value` as pending.
    pub(super) fn stage(
        mut self,
        key: &MasterKey,
        value: SecretValue,
    ) -> Result<(Record, u64), SecretError> {
        let version = self.add(key, &value)?;
        self.pending = Some(version);
        Ok((self, version))
    }

    /// The record after promoting pending to current and current to previous.
    pub(super) fn promote(mut self) -> Result<(Record, u64), SecretError> {
        let pending = self
            .pending
            .take()
            .ok_or_else(|| self.missing_stage("pending"))?;
        self.previous = Some(self.current);
        self.current = pending;
        self.rotated_at = Some(Utc::now());
        Ok((self, pending))
    }

    fn add(&mut self, key: &MasterKey, value: &SecretValue) -> Result<u64, SecretError> {
        let version = self.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
        self.versions
            .push(key.seal_version(&self.name, version, value)?);
        Ok(version)
    }

    /// The sealed version `version`.
    pub(super) fn version(&self, version: u64) -> Result<&SealedVersion, SecretError> {
        let wanted = Version::number(version);
        self.versions
            .iter()
            .find(|v| v.version == version)
            .ok_or_else(|| self.no_version(&wanted))
    }

    /// Metadata of `version`.
    pub(super) fn meta(&self, version: u64) -> SecretMeta {
        let stage = match Some(version) {
            v if v == Some(self.current) => Stage::Current,
            v if v == self.pending => Stage::Pending,
            v if v == self.previous => Stage::Previous,
            _ => Stage::Deprecated,
        };
        SecretMeta {
            name: self.name.clone(),
            version: Version::number(version),
            backend: super::BACKEND,
            created_at: self.created_at,
            rotated_at: self.rotated_at,
            next_rotation: None,
            stage,
        }
    }

    pub(super) fn no_version(&self, version: &Version) -> SecretError {
        let what = format!("version `{}`", printable(version.as_str()));
        SecretError::NoSuchVersion {
            name: self.name.clone(),
            what,
        }
    }

    pub(super) fn missing_stage(&self, stage: &str) -> SecretError {
        SecretError::NoSuchVersion {
            name: self.name.clone(),
            what: format!("{stage} version"),
        }
    }
}

/// Creates `dir` with mode 0700 if needed.
pub(super) fn ensure_private_dir(dir: &Path) -> Result<(), SecretError> {
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(io)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

fn record_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{}{SUFFIX}", name.replace('/', "~")))
}

/// Writes `bytes` to `path`: temporary file (0600), fsync, rename, directory fsync.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SecretError> {
    let dir = path
        .parent()
        .ok_or_else(|| SecretError::Io("a record has no directory".into()))?;
    let mut suffix = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut suffix)
        .map_err(|_| SecretError::Io("the system random generator failed".into()))?;
    let temp = dir.join(format!(".tmp-{}", hex_of(&suffix)));
    let result = write_synced(&temp, bytes).and_then(|()| fs::rename(&temp, path));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(io)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, SecretError> {
    serde_json::to_vec_pretty(value).map_err(|e| SecretError::Io(format!("encoding failed: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, SecretError> {
    serde_json::from_slice(bytes)
        .map_err(|e| SecretError::Corrupt(format!("a record is malformed: {e}")))
}

fn io(error: std::io::Error) -> SecretError {
    SecretError::Io(error.to_string())
}
