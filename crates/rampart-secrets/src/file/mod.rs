//! The embedded encrypted file store, Rampart's default secret backend.
//!
//! Rule upheld: no secret sits in a plain file. Each version is sealed with AES-256-GCM
//! under the master key, with a fresh random 96-bit nonce and the secret's name, version
//! and kind as associated data (a record moved to another name or version does not open).
//! Every write is atomic (temporary file, fsync, rename, directory fsync), every version is
//! kept, and a wrong master key is refused when the store opens.
//!
//! Layout: `store.json` (format and a key check) and one `<name>.secret` file per secret
//! (`/` in names becomes `~`), all mode 0600 in a directory of mode 0700. Writes serialise
//! inside one process; run one gateway per store directory.

mod crypto;
mod record;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

pub use crypto::MasterKey;
use record::{Record, StoreFile};

use crate::store::{Secret, SecretError, SecretMeta, SecretStore, SecretValue, Version};

/// The backend name of the file store.
pub const BACKEND: &str = "file";

/// The encrypted file store.
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    key: MasterKey,
    write_lock: Mutex<()>,
}

impl FileStore {
    /// Opens (or initialises) the store in `dir` with `key`; refuses a wrong key.
    pub fn open(dir: &Path, key: MasterKey) -> Result<FileStore, SecretError> {
        record::ensure_private_dir(dir)?;
        let inner = Inner {
            dir: dir.to_owned(),
            key,
            write_lock: Mutex::new(()),
        };
        StoreFile::open_or_init(&inner.dir, &inner.key)?;
        Ok(FileStore {
            inner: Arc::new(inner),
        })
    }

    /// Opens the store in `dir` with a development master key kept next to it in
    /// `<dir>.master-key` (mode 0600), creating the key on first use; returns the key
    /// file's path so that the caller can warn that this is for development only.
    pub fn create_dev(dir: &Path) -> Result<(FileStore, PathBuf), SecretError> {
        let key_path = dev_key_path(dir)?;
        let key = if key_path.exists() {
            MasterKey::from_file(&key_path)?
        } else {
            MasterKey::create_file(&key_path)?
        };
        Ok((FileStore::open(dir, key)?, key_path))
    }

    /// The directory holding the store.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    async fn blocking<T, F>(&self, op: F) -> Result<T, SecretError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, SecretError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || op(&inner))
            .await
            .map_err(|_| SecretError::Io("the file store task stopped".into()))?
    }
}

/// Where [`FileStore::create_dev`] keeps the master key of the store in `dir`.
pub fn dev_key_path(dir: &Path) -> Result<PathBuf, SecretError> {
    let name = dir
        .file_name()
        .ok_or_else(|| SecretError::Config("the store directory has no name".into()))?;
    let mut file = name.to_os_string();
    file.push(".master-key");
    Ok(dir.with_file_name(file))
}

impl Inner {
    fn read(&self, name: &str) -> Result<Record, SecretError> {
        Record::load(&self.dir, name)?.ok_or_else(|| SecretError::NotFound(name.to_owned()))
    }

    fn open_version(&self, record: &Record, version: u64) -> Result<Secret, SecretError> {
        let stored = record.version(version)?;
        let value = self.key.open(&record.name, stored)?;
        Ok(Secret {
            value,
            meta: record.meta(version),
        })
    }

    /// Applies `change` to the record of `name` under the write lock and saves it.
    fn write<F>(&self, name: &str, change: F) -> Result<SecretMeta, SecretError>
    where
        F: FnOnce(Option<Record>, &MasterKey) -> Result<(Record, u64), SecretError>,
    {
        let _guard = self
            .write_lock
            .lock()
            .map_err(|_| SecretError::Io("lock poisoned".into()))?;
        let (record, version) = change(Record::load(&self.dir, name)?, &self.key)?;
        record.save(&self.dir)?;
        Ok(record.meta(version))
    }
}

#[async_trait]
impl SecretStore for FileStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn get(&self, name: &str) -> Result<Secret, SecretError> {
        let name = name.to_owned();
        self.blocking(move |inner| {
            let record = inner.read(&name)?;
            inner.open_version(&record, record.current)
        })
        .await
    }

    async fn get_version(&self, name: &str, version: &Version) -> Result<Secret, SecretError> {
        let (name, version) = (name.to_owned(), version.clone());
        self.blocking(move |inner| {
            let record = inner.read(&name)?;
            let number = version
                .as_number()
                .ok_or_else(|| record.no_version(&version))?;
            inner.open_version(&record, number)
        })
        .await
    }

    async fn put(
        &self,
        name: &str,
        value: SecretValue,
        cas: Option<&Version>,
    ) -> Result<SecretMeta, SecretError> {
        crate::store::validate_name(name)?;
        let (name, cas) = (name.to_owned(), cas.cloned());
        self.blocking(move |inner| {
            inner.write(&name, |record, key| {
                Record::put(record, &name, key, value, cas.as_ref())
            })
        })
        .await
    }

    async fn list(&self) -> Result<Vec<SecretMeta>, SecretError> {
        self.blocking(|inner| {
            let records = Record::load_all(&inner.dir)?;
            Ok(records.iter().map(|r| r.meta(r.current)).collect())
        })
        .await
    }

    async fn metadata(&self, name: &str) -> Result<SecretMeta, SecretError> {
        let name = name.to_owned();
        self.blocking(move |inner| inner.read(&name).map(|r| r.meta(r.current)))
            .await
    }

    async fn stage_pending(
        &self,
        name: &str,
        value: SecretValue,
    ) -> Result<SecretMeta, SecretError> {
        let name = name.to_owned();
        self.blocking(move |inner| {
            inner.write(&name, |record, key| {
                let record = record.ok_or_else(|| SecretError::NotFound(name.clone()))?;
                record.stage(key, value)
            })
        })
        .await
    }

    async fn pending(&self, name: &str) -> Result<Secret, SecretError> {
        let name = name.to_owned();
        self.blocking(move |inner| {
            let record = inner.read(&name)?;
            let version = record
                .pending
                .ok_or_else(|| record.missing_stage("pending"))?;
            inner.open_version(&record, version)
        })
        .await
    }

    async fn promote_pending(&self, name: &str) -> Result<SecretMeta, SecretError> {
        let name = name.to_owned();
        self.blocking(move |inner| {
            inner.write(&name, |record, _| {
                let record = record.ok_or_else(|| SecretError::NotFound(name.clone()))?;
                record.promote()
            })
        })
        .await
    }

    async fn previous(&self, name: &str) -> Result<Secret, SecretError> {
        let name = name.to_owned();
        self.blocking(move |inner| {
            let record = inner.read(&name)?;
            let version = record
                .previous
                .ok_or_else(|| record.missing_stage("previous"))?;
            inner.open_version(&record, version)
        })
        .await
    }
}
