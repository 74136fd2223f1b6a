//! Secret references: what configuration holds instead of a secret value.
//!
//! Syntax: `env:NAME`, `file:/absolute/path`, `vault:mount/path[#key]`,
//! `aws-sm:name[#key]`, `gcp-sm:projects/P/secrets/S[/versions/V][#key]` and
//! `store:name` (the configured secret store).
//!
//! Rule upheld: parsing is strict and a [`RefError`] never echoes the text it was given,
//! since a mistyped reference may be a pasted secret; `file:` references resolve only
//! from files that no group or other user can read (mode 0600 or stricter).

use std::fmt;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::store::{SecretValue, validate_name};

/// The largest file a `file:` reference may name.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// A parsed secret reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// An environment variable.
    Env(String),
    /// A file, readable by its owner only.
    File(PathBuf),
    /// A field of a Vault / OpenBao KV secret.
    Vault {
        /// The KV mount (`secret`).
        mount: String,
        /// The secret's path inside the mount.
        path: String,
        /// The field; `None` means the store's default field (`value`).
        key: Option<String>,
    },
    /// An AWS Secrets Manager secret, or one member of its JSON value.
    Aws {
        /// The secret's name or ARN.
        name: String,
        /// The JSON member; `None` means the whole value.
        key: Option<String>,
    },
    /// A GCP Secret Manager secret version, or one member of its JSON payload.
    Gcp {
        /// The project id or number.
        project: String,
        /// The secret id.
        secret: String,
        /// The version (`latest` when not given).
        version: String,
        /// The JSON member; `None` means the whole payload.
        key: Option<String>,
    },
    /// A secret in Rampart's configured secret store.
    Store(String),
}

/// Why a reference was refused; never contains the text that was parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    /// The text does not start with a known scheme.
    #[error(
        "not a secret reference: expected `env:`, `file:`, `vault:`, `aws-sm:`, `gcp-sm:` \
         or `store:`"
    )]
    NotAReference,
    /// A known scheme with a malformed body.
    #[error("malformed `{scheme}` reference: {why}")]
    Malformed {
        /// The scheme (`vault:`).
        scheme: &'static str,
        /// What is wrong.
        why: &'static str,
    },
    /// The environment variable is not set or empty.
    #[error("environment variable `{0}` is not set")]
    EnvMissing(String),
    /// The file cannot be used.
    #[error("secret file `{path}` {why}")]
    File {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// The reference needs a backend client to resolve.
    #[error("a `{0}` reference needs its secret backend to resolve")]
    NeedsBackend(&'static str),
}

impl SecretRef {
    /// Parses a reference.
    pub fn parse(text: &str) -> Result<SecretRef, RefError> {
        let (scheme, body) = text.split_once(':').ok_or(RefError::NotAReference)?;
        match scheme {
            "env" => parse_env(body),
            "file" => parse_file(body),
            "vault" => parse_vault(body),
            "aws-sm" => parse_aws(body),
            "gcp-sm" => parse_gcp(body),
            "store" => parse_store(body),
            _ => Err(RefError::NotAReference),
        }
    }

    /// The reference's scheme (`env`, `file`, `vault`, `aws-sm`, `gcp-sm`, `store`).
    pub fn scheme(&self) -> &'static str {
        match self {
            SecretRef::Env(_) => "env",
            SecretRef::File(_) => "file",
            SecretRef::Vault { .. } => "vault",
            SecretRef::Aws { .. } => "aws-sm",
            SecretRef::Gcp { .. } => "gcp-sm",
            SecretRef::Store(_) => "store",
        }
    }

    /// Resolves an `env:` or `file:` reference; the others need a backend.
    pub fn resolve_local(&self) -> Result<SecretValue, RefError> {
        match self {
            SecretRef::Env(name) => resolve_env(name),
            SecretRef::File(path) => read_private_file(path),
            other => Err(RefError::NeedsBackend(other.scheme())),
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = |key: &Option<String>| key.as_ref().map(|k| format!("#{k}")).unwrap_or_default();
        match self {
            SecretRef::Env(name) => write!(f, "env:{name}"),
            SecretRef::File(path) => write!(f, "file:{}", path.display()),
            SecretRef::Vault {
                mount,
                path,
                key: k,
            } => write!(f, "vault:{mount}/{path}{}", key(k)),
            SecretRef::Aws { name, key: k } => write!(f, "aws-sm:{name}{}", key(k)),
            SecretRef::Gcp {
                project,
                secret,
                version,
                key: k,
            } => write!(
                f,
                "gcp-sm:projects/{project}/secrets/{secret}/versions/{version}{}",
                key(k)
            ),
            SecretRef::Store(name) => write!(f, "store:{name}"),
        }
    }
}

impl std::str::FromStr for SecretRef {
    type Err = RefError;

    fn from_str(text: &str) -> Result<SecretRef, RefError> {
        SecretRef::parse(text)
    }
}

/// Reads a file that only its owner may read, refusing looser modes, links to
/// directories and files over 1 MiB; a text file loses one trailing line break.
pub fn read_private_file(path: &Path) -> Result<SecretValue, RefError> {
    let fail = |why: String| RefError::File {
        path: path.display().to_string(),
        why,
    };
    let mut file = std::fs::File::open(path).map_err(|e| fail(format!("cannot be opened: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| fail(format!("cannot be inspected: {e}")))?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(fail(format!(
            "has mode {mode:04o}; it must be 0600 or stricter"
        )));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail("is larger than 1 MiB".into()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot be read: {e}")))?;
    Ok(into_value(bytes))
}

fn into_value(bytes: Vec<u8>) -> SecretValue {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            let trimmed = text.trim_end_matches(['\n', '\r']).len();
            zeroize::Zeroize::zeroize(&mut text.split_off(trimmed));
            SecretValue::text(text)
        }
        Err(error) => SecretValue::bytes(error.into_bytes()),
    }
}

fn resolve_env(name: &str) -> Result<SecretValue, RefError> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Ok(SecretValue::text(value)),
        _ => Err(RefError::EnvMissing(name.to_owned())),
    }
}

fn malformed(scheme: &'static str, why: &'static str) -> RefError {
    RefError::Malformed { scheme, why }
}

fn parse_env(body: &str) -> Result<SecretRef, RefError> {
    let mut chars = body.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(malformed(
            "env:",
            "a variable name is letters, digits and `_`",
        ));
    }
    Ok(SecretRef::Env(body.to_owned()))
}

fn parse_file(body: &str) -> Result<SecretRef, RefError> {
    if !body.starts_with('/') || body.len() < 2 {
        return Err(malformed("file:", "the path must be absolute"));
    }
    if body.chars().any(char::is_control) {
        return Err(malformed("file:", "the path contains a control character"));
    }
    if body.split('/').any(|segment| segment == "..") {
        return Err(malformed("file:", "the path must not contain `..`"));
    }
    Ok(SecretRef::File(PathBuf::from(body)))
}

fn split_key(scheme: &'static str, body: &str) -> Result<(String, Option<String>), RefError> {
    let Some((head, key)) = body.split_once('#') else {
        return Ok((body.to_owned(), None));
    };
    let key_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if key.is_empty() || key.len() > 128 || !key.chars().all(key_ok) {
        return Err(malformed(
            scheme,
            "the `#key` is letters, digits, `_`, `-` and `.`",
        ));
    }
    Ok((head.to_owned(), Some(key.to_owned())))
}

fn parse_vault(body: &str) -> Result<SecretRef, RefError> {
    let (head, key) = split_key("vault:", body)?;
    let Some((mount, path)) = head.split_once('/') else {
        return Err(malformed("vault:", "expected `mount/path`"));
    };
    if validate_name(mount).is_err() || validate_name(path).is_err() {
        return Err(malformed(
            "vault:",
            "mount and path are `/`-separated names",
        ));
    }
    Ok(SecretRef::Vault {
        mount: mount.to_owned(),
        path: path.to_owned(),
        key,
    })
}

fn parse_aws(body: &str) -> Result<SecretRef, RefError> {
    let (name, key) = split_key("aws-sm:", body)?;
    let name_ok = |c: char| c.is_ascii_alphanumeric() || "/_+=.@-:".contains(c);
    if name.is_empty() || name.len() > 2048 || !name.chars().all(name_ok) {
        return Err(malformed(
            "aws-sm:",
            "a secret name is letters, digits and `/_+=.@-`",
        ));
    }
    Ok(SecretRef::Aws { name, key })
}

fn parse_gcp(body: &str) -> Result<SecretRef, RefError> {
    let (head, key) = split_key("gcp-sm:", body)?;
    let parts: Vec<&str> = head.split('/').collect();
    let (project, secret, version) = match parts.as_slice() {
        ["projects", p, "secrets", s] => (*p, *s, "latest"),
        ["projects", p, "secrets", s, "versions", v] => (*p, *s, *v),
        _ => {
            return Err(malformed(
                "gcp-sm:",
                "expected `projects/P/secrets/S[/versions/V]`",
            ));
        }
    };
    let id_ok = |id: &str| {
        !id.is_empty()
            && id.len() <= 255
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !id_ok(project) || !id_ok(secret) || !id_ok(version) {
        return Err(malformed("gcp-sm:", "ids are letters, digits, `_` and `-`"));
    }
    Ok(SecretRef::Gcp {
        project: project.to_owned(),
        secret: secret.to_owned(),
        version: version.to_owned(),
        key,
    })
}

fn parse_store(body: &str) -> Result<SecretRef, RefError> {
    validate_name(body).map_err(|_| malformed("store:", "a store name is a `/`-separated name"))?;
    Ok(SecretRef::Store(body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_scheme() {
        assert_eq!(
            SecretRef::parse("env:RAMPART_KEY"),
            Ok(SecretRef::Env("RAMPART_KEY".into()))
        );
        assert_eq!(
            SecretRef::parse("file:/run/k"),
            Ok(SecretRef::File("/run/k".into()))
        );
        let vault = SecretRef::parse("vault:secret/rampart/broker#api_key").unwrap();
        assert_eq!(
            vault,
            SecretRef::Vault {
                mount: "secret".into(),
                path: "rampart/broker".into(),
                key: Some("api_key".into())
            }
        );
        let aws = SecretRef::parse("aws-sm:prod/db#password").unwrap();
        assert_eq!(
            aws,
            SecretRef::Aws {
                name: "prod/db".into(),
                key: Some("password".into())
            }
        );
        let gcp = SecretRef::parse("gcp-sm:projects/p1/secrets/s1#k").unwrap();
        assert_eq!(
            gcp.to_string(),
            "gcp-sm:projects/p1/secrets/s1/versions/latest#k"
        );
        assert_eq!(
            SecretRef::parse("store:token-signing-key")
                .unwrap()
                .scheme(),
            "store"
        );
    }

    #[test]
    fn display_round_trips_through_parse() {
        for text in [
            "env:A_B",
            "file:/etc/x",
            "vault:kv/a/b#c",
            "aws-sm:n",
            "store:a/b",
        ] {
            assert_eq!(SecretRef::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn errors_never_echo_the_input() {
        let canary = "ghp_canaryCANARYcanary0123456789";
        for text in [
            canary.to_owned(),
            format!("env:{canary}-x"),
            format!("vault:{canary}"),
            format!("gcp-sm:{canary}"),
            format!("aws-sm:{canary}#bad key"),
        ] {
            let error = SecretRef::parse(&text).unwrap_err().to_string();
            assert!(!error.contains("canary"), "{error}");
        }
    }

    #[test]
    fn relative_and_dot_dot_file_paths_are_refused() {
        assert!(SecretRef::parse("file:relative/k").is_err());
        assert!(SecretRef::parse("file:/a/../etc/shadow").is_err());
    }

    #[test]
    fn malformed_gcp_and_vault_references_are_refused() {
        assert!(SecretRef::parse("gcp-sm:projects/p/secret/s").is_err());
        assert!(SecretRef::parse("vault:secret").is_err());
        assert!(SecretRef::parse("vault:secret/a#").is_err());
        assert!(SecretRef::parse("store:").is_err());
    }

    #[test]
    fn file_readable_by_group_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "value\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let error = SecretRef::File(path.clone()).resolve_local().unwrap_err();
        assert!(error.to_string().contains("0640"), "{error}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let value = SecretRef::File(path).resolve_local().unwrap();
        assert_eq!(value.expose_str(), Some("value"));
    }

    #[test]
    fn missing_environment_variable_is_named() {
        let error = SecretRef::Env("RAMPART_SURELY_UNSET_VAR".into()).resolve_local();
        assert_eq!(
            error.unwrap_err(),
            RefError::EnvMissing("RAMPART_SURELY_UNSET_VAR".into())
        );
    }
}
