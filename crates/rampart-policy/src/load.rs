//! Loading the schema and policies: embedded defaults or an operator's directory.
//!
//! Every policy is validated against the schema in strict mode before the
//! gateway may use it; any error refuses the whole set, with a message that
//! names the file and the policy. The version of a set is a SHA-256 over the
//! schema and the policy files in file-name order.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{PolicyId, PolicySet, Schema, ValidationMode, Validator};
use sha2::{Digest, Sha256};

/// The schema's file name in a policy directory.
pub const SCHEMA_FILE: &str = "rampart.cedarschema";

/// The extension of a policy file.
pub const POLICY_EXTENSION: &str = "cedar";

const DEFAULT_SCHEMA: &str = include_str!("../../../policies/rampart.cedarschema");

/// The default policy files, in file-name order.
const DEFAULT_POLICIES: [(&str, &str); 6] = [
    ("admin.cedar", include_str!("../../../policies/admin.cedar")),
    (
        "approvals.cedar",
        include_str!("../../../policies/approvals.cedar"),
    ),
    ("audit.cedar", include_str!("../../../policies/audit.cedar")),
    (
        "killswitch.cedar",
        include_str!("../../../policies/killswitch.cedar"),
    ),
    (
        "orders.cedar",
        include_str!("../../../policies/orders.cedar"),
    ),
    ("risk.cedar", include_str!("../../../policies/risk.cedar")),
];

/// Why a policy set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The directory or one of its files could not be read.
    #[error("policy file `{path}` cannot be read: {reason}")]
    Read {
        /// The path that failed.
        path: String,
        /// What the operating system said.
        reason: String,
    },
    /// The directory has no schema file.
    #[error("policy directory has no `rampart.cedarschema`")]
    MissingSchema,
    /// The directory has no policy file.
    #[error("policy directory has no `*.cedar` file")]
    NoPolicies,
    /// The schema does not parse.
    #[error("schema `rampart.cedarschema` is invalid: {0}")]
    Schema(String),
    /// A policy file does not parse.
    #[error("policy file `{file}` does not parse: {message}")]
    Parse {
        /// The file name.
        file: String,
        /// Cedar's message.
        message: String,
    },
    /// A policy file holds a template, which the gateway never links.
    #[error("policy file `{file}` holds a template; templates are not supported")]
    Template {
        /// The file name.
        file: String,
    },
    /// Two policies share one `@id`.
    #[error("policy id `{id}` is used more than once")]
    DuplicateId {
        /// The repeated id.
        id: String,
    },
    /// A policy's `@id` annotation is empty.
    #[error("a policy in `{file}` has an empty `@id`")]
    EmptyId {
        /// The file name.
        file: String,
    },
    /// The policies do not validate against the schema.
    #[error("policies do not validate against the schema: {0}")]
    Validation(String),
}

/// A validated schema and policy set with its version.
#[derive(Debug, Clone)]
pub(crate) struct PolicyBundle {
    pub schema: Schema,
    pub policies: PolicySet,
    pub version: String,
}

impl PolicyBundle {
    /// The schema and policies built into the gateway.
    pub fn defaults() -> Result<Self, PolicyError> {
        let files = DEFAULT_POLICIES
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()));
        Self::build(DEFAULT_SCHEMA, &files.collect())
    }

    /// The schema and policies in `dir`: `rampart.cedarschema` and every `*.cedar` file.
    pub fn from_dir(dir: &Path) -> Result<Self, PolicyError> {
        let mut schema = None;
        let mut files = BTreeMap::new();
        for (name, path) in list_dir(dir)? {
            if name == SCHEMA_FILE {
                schema = Some(read(&path)?);
            } else if path.extension().is_some_and(|ext| ext == POLICY_EXTENSION) {
                files.insert(name, read(&path)?);
            }
        }
        let schema = schema.ok_or(PolicyError::MissingSchema)?;
        Self::build(&schema, &files)
    }

    fn build(schema_text: &str, files: &BTreeMap<String, String>) -> Result<Self, PolicyError> {
        if files.is_empty() {
            return Err(PolicyError::NoPolicies);
        }
        let (schema, _warnings) = Schema::from_cedarschema_str(schema_text)
            .map_err(|error| PolicyError::Schema(error.to_string()))?;

        let mut policies = PolicySet::new();
        for (file, text) in files {
            add_file(&mut policies, file, text)?;
        }
        validate(&schema, &policies)?;

        let version = version(schema_text, files);
        Ok(Self {
            schema,
            policies,
            version,
        })
    }
}

/// Parses one file and adds its policies under their `@id`, or `file#cedar-id`.
fn add_file(set: &mut PolicySet, file: &str, text: &str) -> Result<(), PolicyError> {
    let parsed = PolicySet::from_str(text).map_err(|error| PolicyError::Parse {
        file: file.to_owned(),
        message: error.to_string(),
    })?;
    if parsed.templates().next().is_some() {
        return Err(PolicyError::Template {
            file: file.to_owned(),
        });
    }
    for policy in parsed.policies() {
        let id = match policy.annotation("id") {
            Some("") => {
                return Err(PolicyError::EmptyId {
                    file: file.to_owned(),
                });
            }
            Some(id) => id.to_owned(),
            None => format!("{file}#{}", policy.id()),
        };
        let renamed = policy.new_id(PolicyId::new(&id));
        set.add(renamed)
            .map_err(|_| PolicyError::DuplicateId { id })?;
    }
    Ok(())
}

fn validate(schema: &Schema, policies: &PolicySet) -> Result<(), PolicyError> {
    let result = Validator::new(schema.clone()).validate(policies, ValidationMode::Strict);
    if result.validation_passed() {
        return Ok(());
    }
    let errors: Vec<String> = result.validation_errors().map(|e| e.to_string()).collect();
    Err(PolicyError::Validation(errors.join("; ")))
}

/// Hex SHA-256 over the schema and each policy file, length-prefixed, in name order.
fn version(schema: &str, files: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    let entries = std::iter::once((SCHEMA_FILE, schema)).chain(
        files
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str())),
    );
    for (name, text) in entries {
        for part in [name.as_bytes(), text.as_bytes()] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
    }
    hex::encode(hasher.finalize())
}

fn list_dir(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, PolicyError> {
    let entries = std::fs::read_dir(dir).map_err(|error| read_error(dir, &error))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| read_error(dir, &error))?;
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        // INVARIANT: names are exact, so that no two files share one and one
        // cannot silently replace the other in the policy set.
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| PolicyError::Read {
                path: path.display().to_string(),
                reason: "the file name is not UTF-8".to_owned(),
            })?;
        files.push((name, path));
    }
    Ok(files)
}

fn read(path: &Path) -> Result<String, PolicyError> {
    std::fs::read_to_string(path).map_err(|error| read_error(path, &error))
}

fn read_error(path: &Path, error: &std::io::Error) -> PolicyError {
    PolicyError::Read {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}
