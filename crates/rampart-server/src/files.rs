//! Files and directories of the data directory, created with owner-only permissions.
//!
//! Keys and the database are written with mode 0600 inside directories of mode
//! 0700 from the moment they exist (the mode is given to `open`, not set
//! afterwards), and a file is never silently replaced: creation fails if it is
//! already there.
//!
//! A directory that receives secrets for someone else to collect (the set-up
//! pickup directory) is a [`PrivateDir`]: its parent is opened, and its last
//! component (a plain name: never `.` or `..`, so that no trailing `/.` can make
//! the system resolve a link) is opened relative to it without following a symbolic
//! link, refused unless it is a directory owned by the gateway's own user, and
//! every file in it is created relative to that open directory with
//! `O_NOFOLLOW` and `O_EXCL`, so that swapping the path for a link afterwards
//! cannot send a secret anywhere else.

use std::ffi::OsStr;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

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

/// Why a private directory cannot be trusted with secrets; each names the path.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// The path is a symbolic link, which is never followed.
    #[error("`{}` is a symbolic link; a private directory must not be one", .path.display())]
    Symlink {
        /// The path refused.
        path: PathBuf,
    },
    /// The path exists but is not a directory.
    #[error("`{}` is not a directory", .path.display())]
    NotDirectory {
        /// The path refused.
        path: PathBuf,
    },
    /// The path ends in `.` or `..` (or is `/`) rather than in the directory's own name.
    #[error("`{}` must end in the directory's own name, not `.` or `..`", .path.display())]
    NotPlainName {
        /// The path refused.
        path: PathBuf,
    },
    /// The directory belongs to another user than the one the gateway runs as.
    #[error("`{}` belongs to uid {owner}, not to the gateway's uid {expected}", .path.display())]
    WrongOwner {
        /// The path refused.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The gateway's effective uid.
        expected: u32,
    },
    /// The directory could not be created, opened or tightened.
    #[error("`{}` could not be prepared: {source}", .path.display())]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// An open directory of mode 0700, owned by the gateway's user, reached without a link.
#[derive(Debug)]
pub struct PrivateDir {
    handle: File,
}

impl PrivateDir {
    /// Opens `path`, creating it (and missing parents) with mode 0700 when absent.
    ///
    /// Refuses a symbolic link, anything but a directory, and a directory owned
    /// by another user; tightens an existing directory's mode to 0700.
    pub fn open(path: &Path) -> Result<PrivateDir, DirError> {
        let io_error = |source| DirError::Io {
            path: path.to_owned(),
            source,
        };
        let (parent, name) = split_last(path)?;
        create_missing(path).map_err(io_error)?;
        let parent_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let parent = rustix::fs::open(parent, parent_flags, Mode::empty())
            .map_err(|errno| io_error(errno.into()))?;
        refuse_link(path, &parent, name)?;
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let handle = match rustix::fs::openat(&parent, name, flags, Mode::empty()) {
            Ok(fd) => File::from(fd),
            Err(rustix::io::Errno::LOOP) => return Err(symlink(path)),
            Err(rustix::io::Errno::NOTDIR) => return Err(not_directory(path)),
            Err(errno) => return Err(io_error(errno.into())),
        };
        check_owner_and_mode(path, &handle)?;
        Ok(PrivateDir { handle })
    }

    /// Creates the new file `name` in this directory with `mode`, for writing.
    ///
    /// Never follows a symbolic link and never replaces an existing file;
    /// `name` must be one plain path component.
    pub fn create_new(&self, name: &str, mode: u32) -> io::Result<File> {
        let name = plain_name(name)?;
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.handle, name, flags, Mode::from_raw_mode(mode))?;
        Ok(File::from(fd))
    }

    /// Renames `from` to `to`, both in this directory.
    pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let (from, to) = (plain_name(from)?, plain_name(to)?);
        Ok(rustix::fs::renameat(&self.handle, from, &self.handle, to)?)
    }

    /// Removes the file `name` from this directory.
    pub fn remove(&self, name: &str) -> io::Result<()> {
        let name = plain_name(name)?;
        Ok(rustix::fs::unlinkat(&self.handle, name, AtFlags::empty())?)
    }

    /// Makes the directory's entries durable.
    pub fn sync(&self) -> io::Result<()> {
        self.handle.sync_all()
    }
}

/// Creates `path` with mode 0700 when nothing is there; parents as [`private_dir`] would.
fn create_missing(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path).is_ok() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(PRIVATE_DIR)
            .create(parent)?;
    }
    match DirBuilder::new().mode(PRIVATE_DIR).create(path) {
        Err(error) if error.kind() != io::ErrorKind::AlreadyExists => Err(error),
        _ => Ok(()),
    }
}

/// `path` as its parent directory and its last component, which must be a plain name
/// (trailing slashes aside): one ending in `.` or `..` would have a link followed.
fn split_last(path: &Path) -> Result<(&Path, &OsStr), DirError> {
    let whole = path.as_os_str().as_bytes();
    // Trailing slashes name the same directory; what precedes them is examined.
    let kept = whole
        .iter()
        .rposition(|b| *b != b'/')
        .map_or(1, |last| last + 1);
    let bytes = whole.get(..kept).unwrap_or(whole);
    let (parent, name) = match bytes.iter().rposition(|b| *b == b'/') {
        Some(0) => (&b"/"[..], bytes.get(1..).unwrap_or_default()),
        Some(at) => (
            bytes.get(..at).unwrap_or_default(),
            bytes.get(at + 1..).unwrap_or_default(),
        ),
        None => (&b"."[..], bytes),
    };
    if matches!(name, b"" | b"." | b"..") {
        return Err(DirError::NotPlainName {
            path: path.to_owned(),
        });
    }
    Ok((
        Path::new(OsStr::from_bytes(parent)),
        OsStr::from_bytes(name),
    ))
}

/// Refuses `name` in `parent` (that is, `path`) when it is a symbolic link or not a
/// directory, naming which; the link itself is examined, never what it points to.
fn refuse_link(path: &Path, parent: &OwnedFd, name: &OsStr) -> Result<(), DirError> {
    let stat = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW).map_err(|errno| {
        DirError::Io {
            path: path.to_owned(),
            source: errno.into(),
        }
    })?;
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::Symlink => Err(symlink(path)),
        FileType::Directory => Ok(()),
        _ => Err(not_directory(path)),
    }
}

/// Refuses an open directory owned by another user; tightens its mode to 0700.
fn check_owner_and_mode(path: &Path, handle: &File) -> Result<(), DirError> {
    let io_error = |source| DirError::Io {
        path: path.to_owned(),
        source,
    };
    let metadata = handle.metadata().map_err(io_error)?;
    if !metadata.is_dir() {
        return Err(not_directory(path));
    }
    let expected = rustix::process::geteuid().as_raw();
    if metadata.uid() != expected {
        return Err(DirError::WrongOwner {
            path: path.to_owned(),
            owner: metadata.uid(),
            expected,
        });
    }
    if metadata.mode() & 0o777 != PRIVATE_DIR {
        let private = fs::Permissions::from_mode(PRIVATE_DIR);
        handle.set_permissions(private).map_err(io_error)?;
    }
    Ok(())
}

/// `name` when it is one plain path component, such as `a.json`.
fn plain_name(name: &str) -> io::Result<&str> {
    let mut components = Path::new(name).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(_)), None) if !name.contains('/') => Ok(name),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a file name in a private directory must be one plain component",
        )),
    }
}

fn symlink(path: &Path) -> DirError {
    DirError::Symlink {
        path: path.to_owned(),
    }
}

fn not_directory(path: &Path) -> DirError {
    DirError::NotDirectory {
        path: path.to_owned(),
    }
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

    #[test]
    fn a_private_dir_is_created_with_owner_only_access() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("outer/pickup");
        PrivateDir::open(&path).unwrap();
        assert_eq!(mode_of(&path).unwrap(), PRIVATE_DIR);
    }

    #[test]
    fn a_private_dir_tightens_an_existing_directory() {
        let temp = tempfile::tempdir().unwrap();
        fs::set_permissions(temp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        PrivateDir::open(temp.path()).unwrap();
        assert_eq!(mode_of(temp.path()).unwrap(), PRIVATE_DIR);
    }

    #[test]
    fn a_symbolic_link_is_refused_as_a_private_dir_and_its_target_left_alone() {
        let temp = tempfile::tempdir().unwrap();
        let target = temp.path().join("elsewhere");
        fs::create_dir(&target).unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o755)).unwrap();
        let link = temp.path().join("pickup");
        std::os::unix::fs::symlink(&target, &link).unwrap();

        let error = PrivateDir::open(&link).unwrap_err();
        assert!(matches!(error, DirError::Symlink { .. }), "{error}");
        assert!(error.to_string().contains(&link.display().to_string()));
        assert_eq!(mode_of(&target).unwrap(), 0o755);
    }

    #[test]
    fn a_symbolic_link_is_refused_even_behind_a_trailing_slash_or_dot() {
        let temp = tempfile::tempdir().unwrap();
        let target = temp.path().join("elsewhere");
        fs::create_dir(&target).unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o755)).unwrap();
        let link = temp.path().join("pickup");
        std::os::unix::fs::symlink(&target, &link).unwrap();

        let slash = format!("{}/", link.display());
        let error = PrivateDir::open(Path::new(&slash)).unwrap_err();
        assert!(
            matches!(error, DirError::Symlink { .. }),
            "{slash}: {error}"
        );
        for path in [
            format!("{}/.", link.display()),
            format!("{}/..", link.display()),
        ] {
            let error = PrivateDir::open(Path::new(&path)).unwrap_err();
            assert!(
                matches!(error, DirError::NotPlainName { .. }),
                "{path}: {error}"
            );
            assert!(error.to_string().contains(&path), "{error}");
        }
        assert!(
            fs::read_dir(&target).unwrap().next().is_none(),
            "nothing made there"
        );
        assert_eq!(
            mode_of(&target).unwrap(),
            0o755,
            "the link's target is left alone"
        );
    }

    #[test]
    fn a_path_is_split_into_its_parent_and_its_plain_last_name() {
        let temp = tempfile::tempdir().unwrap();
        let pickup = temp.path().join("pickup");
        let (parent, name) = split_last(&pickup).unwrap();
        assert_eq!(parent, temp.path());
        assert_eq!(name, "pickup");
        let (parent, name) = split_last(Path::new("pickup")).unwrap();
        assert_eq!((parent, name), (Path::new("."), OsStr::new("pickup")));
        let (parent, name) = split_last(Path::new("/pickup")).unwrap();
        assert_eq!((parent, name), (Path::new("/"), OsStr::new("pickup")));
        let (parent, name) = split_last(Path::new("/srv/pickup//")).unwrap();
        assert_eq!((parent, name), (Path::new("/srv"), OsStr::new("pickup")));
        assert!(split_last(Path::new("/")).is_err());
    }

    #[test]
    fn a_regular_file_is_refused_as_a_private_dir() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("pickup");
        fs::write(&path, b"not a directory").unwrap();
        let error = PrivateDir::open(&path).unwrap_err();
        assert!(matches!(error, DirError::NotDirectory { .. }), "{error}");
        assert!(error.to_string().contains("is not a directory"));
    }

    #[test]
    fn a_file_in_a_private_dir_is_never_created_through_a_link() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("pickup");
        let dir = PrivateDir::open(&path).unwrap();
        let victim = temp.path().join("victim");
        std::os::unix::fs::symlink(&victim, path.join("a.json")).unwrap();

        assert!(dir.create_new("a.json", PRIVATE_FILE).is_err());
        assert!(!victim.exists(), "nothing is written through the link");
        assert!(dir.create_new("../escape.json", PRIVATE_FILE).is_err());
        assert!(!temp.path().join("escape.json").exists());
    }

    #[test]
    fn a_file_in_a_private_dir_gets_its_mode_and_is_never_replaced() {
        let temp = tempfile::tempdir().unwrap();
        let dir = PrivateDir::open(temp.path()).unwrap();
        dir.create_new("a.json", PRIVATE_FILE)
            .unwrap()
            .write_all(b"first")
            .unwrap();
        assert!(dir.create_new("a.json", PRIVATE_FILE).is_err());
        assert_eq!(fs::read(temp.path().join("a.json")).unwrap(), b"first");
        assert_eq!(mode_of(&temp.path().join("a.json")).unwrap(), PRIVATE_FILE);
    }
}
