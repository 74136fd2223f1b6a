//! Loading policy sets: the defaults, an operator's directory, and refusals.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::fs;
use std::path::{Path, PathBuf};

use rampart_core::{AccountId, Principal, PrincipalKind, Role, RoleSet};
use rampart_policy::{Action, Authorizer, PolicyError, Resource};

fn default_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

/// A temporary copy of the default directory.
fn copy_of_defaults() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(default_dir()).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    dir
}

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap();
}

fn trader() -> Principal {
    Principal {
        id: "algo-1".to_owned(),
        kind: PrincipalKind::Client,
        roles: RoleSet::new([Role::Trader]).unwrap(),
        accounts: vec!["ACC-1".parse::<AccountId>().unwrap()],
    }
}

#[test]
fn defaults_and_the_policies_directory_have_the_same_version() {
    let embedded = Authorizer::with_default_policies().unwrap();
    let loaded = Authorizer::from_dir(&default_dir()).unwrap();
    assert_eq!(embedded.version(), loaded.version());
    assert_eq!(embedded.version().len(), 64);
    assert!(embedded.version().chars().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn changing_any_policy_text_changes_the_version() {
    let dir = copy_of_defaults();
    let original = Authorizer::from_dir(dir.path())
        .unwrap()
        .version()
        .to_owned();
    let text = fs::read_to_string(dir.path().join("audit.cedar")).unwrap();
    write(dir.path(), "audit.cedar", &format!("{text}\n// reviewed\n"));
    assert_ne!(
        Authorizer::from_dir(dir.path()).unwrap().version(),
        original
    );
}

#[test]
fn operator_directory_replaces_the_defaults() {
    let dir = copy_of_defaults();
    fs::remove_file(dir.path().join("orders.cedar")).unwrap();
    let authorizer = Authorizer::from_dir(dir.path()).unwrap();
    let resource = Resource::Account("ACC-1".parse().unwrap());
    assert!(
        !authorizer
            .authorize(&trader(), Action::OrderPlace, &resource)
            .allowed
    );
    assert!(
        authorizer
            .authorize(&trader(), Action::LimitsRead, &resource)
            .allowed
    );
}

#[test]
fn policy_without_id_is_named_after_its_file() {
    let dir = copy_of_defaults();
    write(
        dir.path(),
        "extra.cedar",
        concat!(
            "permit (principal in Rampart::Role::\"auditor\",\n",
            "  action == Rampart::Action::\"client.read\", resource);",
        ),
    );
    let authorizer = Authorizer::from_dir(dir.path()).unwrap();
    let auditor = Principal {
        roles: RoleSet::new([Role::Auditor]).unwrap(),
        ..trader()
    };
    let decision = authorizer.authorize(&auditor, Action::ClientRead, &Resource::Gateway);
    assert!(decision.allowed);
    assert_eq!(decision.policy_ids, ["extra.cedar#policy0"]);
}

#[test]
fn refuses_a_policy_that_does_not_parse() {
    let dir = copy_of_defaults();
    write(
        dir.path(),
        "broken.cedar",
        "permit (principal, action, resource) when { ;",
    );
    let error = Authorizer::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&error, PolicyError::Parse { file, .. } if file == "broken.cedar"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .starts_with("policy file `broken.cedar` does not parse")
    );
}

#[test]
fn refuses_a_policy_that_breaks_the_schema() {
    let dir = copy_of_defaults();
    write(
        dir.path(),
        "typo.cedar",
        "@id(\"typo\")\npermit (principal, action == Rampart::Action::\"order.read\", resource)\n\
         when { principal.acounts.contains(resource) };",
    );
    let error = Authorizer::from_dir(dir.path()).unwrap_err();
    assert!(matches!(error, PolicyError::Validation(_)), "{error}");
    assert!(error.to_string().contains("typo"), "{error}");
}

#[test]
fn refuses_a_policy_for_an_unknown_action() {
    let dir = copy_of_defaults();
    write(
        dir.path(),
        "unknown.cedar",
        "permit (principal, action == Rampart::Action::\"order.amend\", resource);",
    );
    assert!(matches!(
        Authorizer::from_dir(dir.path()),
        Err(PolicyError::Validation(_))
    ));
}

#[test]
fn refuses_a_directory_without_schema() {
    let dir = copy_of_defaults();
    fs::remove_file(dir.path().join("rampart.cedarschema")).unwrap();
    assert_eq!(
        Authorizer::from_dir(dir.path()).unwrap_err(),
        PolicyError::MissingSchema
    );
}

#[test]
fn refuses_a_directory_without_policies() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        default_dir().join("rampart.cedarschema"),
        dir.path().join("rampart.cedarschema"),
    )
    .unwrap();
    assert_eq!(
        Authorizer::from_dir(dir.path()).unwrap_err(),
        PolicyError::NoPolicies
    );
}

#[test]
fn refuses_a_broken_schema() {
    let dir = copy_of_defaults();
    write(
        dir.path(),
        "rampart.cedarschema",
        "namespace Rampart { entity User in [",
    );
    assert!(matches!(
        Authorizer::from_dir(dir.path()),
        Err(PolicyError::Schema(_))
    ));
}

#[test]
fn refuses_two_policies_with_one_id() {
    let dir = copy_of_defaults();
    write(
        dir.path(),
        "again.cedar",
        concat!(
            "@id(\"audit.read\")\n",
            "permit (principal, action == Rampart::Action::\"audit.read\", resource);",
        ),
    );
    assert_eq!(
        Authorizer::from_dir(dir.path()).unwrap_err(),
        PolicyError::DuplicateId {
            id: "audit.read".to_owned()
        }
    );
}

#[test]
fn refuses_templates() {
    let dir = copy_of_defaults();
    write(
        dir.path(),
        "template.cedar",
        "permit (principal == ?principal, action == Rampart::Action::\"audit.read\", resource);",
    );
    assert!(matches!(
        Authorizer::from_dir(dir.path()),
        Err(PolicyError::Template { .. })
    ));
}

#[test]
fn refuses_a_directory_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let error = Authorizer::from_dir(&missing).unwrap_err();
    assert!(matches!(error, PolicyError::Read { .. }), "{error}");
    assert!(error.to_string().contains("nowhere"));
}
