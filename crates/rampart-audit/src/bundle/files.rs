//! The file plumbing a bundle's writer and verifier share: listing, naming, hashing and
//! reading files, and the errors that name them.
//!
//! Rule upheld: every failure names the file (and line) at fault, relative to the bundle.

use std::fs::{self, File};
use std::io::BufReader;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{BundleError, CHECKPOINTS};

/// Every file under `dir`, as `/`-separated relative paths.
pub(super) fn files_in(dir: &Path) -> Result<Vec<String>, BundleError> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() && name == CHECKPOINTS {
            for inner in fs::read_dir(&path).map_err(io(&path))? {
                let inner = inner.map_err(io(&path))?;
                files.push(format!(
                    "{CHECKPOINTS}/{}",
                    inner.file_name().to_string_lossy()
                ));
            }
        } else {
            files.push(name);
        }
    }
    files.sort();
    Ok(files)
}

/// The bundle path of the checkpoint of `tree_size` events.
pub(super) fn checkpoint_file(tree_size: u64) -> String {
    format!("{CHECKPOINTS}/{tree_size:020}.checkpoint")
}

/// Reads `file` of the bundle as UTF-8 text.
pub(super) fn read_text(dir: &Path, file: &str) -> Result<String, BundleError> {
    let path = dir.join(file);
    let raw = fs::read(&path).map_err(io(&path))?;
    String::from_utf8(raw).map_err(|_| malformed(file, 0, "it is not UTF-8".into()))
}

/// The SHA-256 of the file at `path`, read in a stream.
pub(super) fn sha256_file(path: &Path) -> Result<[u8; 32], BundleError> {
    let mut file = BufReader::new(File::open(path).map_err(io(path))?);
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(io(path))?;
    Ok(hasher.finalize().into())
}

/// Maps an I/O failure to an error naming `path`.
pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + use<> {
    let path = path.to_owned();
    move |source| BundleError::Io { path, source }
}

/// A malformed-content error naming `file` and `line`.
pub(super) fn malformed(file: &str, line: u64, reason: String) -> BundleError {
    BundleError::Malformed {
        file: file.to_owned(),
        line,
        reason,
    }
}

/// A manifest listing error naming `file`.
pub(super) fn listing_error(file: &str, reason: &'static str) -> BundleError {
    BundleError::Listing {
        file: file.to_owned(),
        reason,
    }
}
