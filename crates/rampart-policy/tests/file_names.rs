//! Regression: policy files whose names are not UTF-8 must not replace one another.
//!
//! Two such names used to decay to the same lossy name, so one file silently
//! shadowed the other and its policies (a `forbid`, say) were never loaded.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rampart_policy::{Authorizer, PolicyError};

fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

#[test]
fn refuses_a_policy_file_whose_name_is_not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(default_dir()).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let forbid = "@id(\"forbid.everything\")\nforbid (principal, action, resource);\n";
    fs::write(dir.path().join(OsStr::from_bytes(b"\xff.cedar")), forbid).unwrap();
    fs::write(
        dir.path().join(OsStr::from_bytes(b"\xfe.cedar")),
        "// empty\n",
    )
    .unwrap();

    let refused = Authorizer::from_dir(dir.path()).err();

    assert!(
        matches!(&refused, Some(PolicyError::Read { reason, .. }) if reason.contains("UTF-8")),
        "the directory loaded although a policy file's name is not UTF-8: {refused:?}"
    );
}
