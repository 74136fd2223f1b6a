//! Files and directories of the data directory, created with owner-only permissions.
//!
//! Keys and the database are written with mode 0600 inside directories of mode
//! 0700 from the moment they exist (the mode is given to `open`, not set
//! afterwards), and a file is never silently replaced: creation fails if it is
//! already there.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of a directory only its owner may enter.
pub const PRIVATE_DIR: u32 = 0o700;

/// Mode of a file only its owner may read.
pub const PRIVATE_FILE: u32 = 0o600;

/// Mode of a file anyone on the host may read (certificates, not keys).
pub const PUBLIC_FILE: u32 = 0o644;

/// Creates `path` (and missing parents) with mode 0700, or tightens an existing one to 0700.
pub fn private_dir(path: &Path) -> io::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(path)?;
    let mode = fs::metadata(path)?.permissions().mode() & 0o777;
    if mode != PRIVATE_DIR {
        fs::set_permissions(path, fs::Permissions::from_mode(PRIVATE_DIR))?;
    }
    Ok(())
}

/// Writes a new file with `mode`; fails if the file already exists.
pub fn create_new(path: &Path, mode: u32, contents: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// The permission bits of `path`.
#[cfg(test)]
pub fn mode_of(path: &Path) -> io::Result<u32> {
    Ok(fs::metadata(path)?.permissions().mode() & 0o777)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_directory_is_created_with_owner_only_access() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(mode_of(&dir).unwrap(), PRIVATE_DIR);
    }

    #[test]
    fn existing_directory_is_tightened_to_owner_only_access() {
        let temp = tempfile::tempdir().unwrap();
        fs::set_permissions(temp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(temp.path()).unwrap();
        assert_eq!(mode_of(temp.path()).unwrap(), PRIVATE_DIR);
    }

    #[test]
    fn new_file_is_never_written_over() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("key");
        create_new(&path, PRIVATE_FILE, b"first").unwrap();
        assert!(create_new(&path, PRIVATE_FILE, b"second").is_err());
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert_eq!(mode_of(&path).unwrap(), PRIVATE_FILE);
    }
}
