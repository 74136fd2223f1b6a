//! The policy decision point: principals and resources become Cedar entities,
//! Cedar decides, and the answer comes back as a [`Decision`].
//!
//! Deny is the default: a request no policy permits, a request any policy
//! forbids, and a request that meets an error on the way are all denied.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Request, RestrictedExpression,
};
use rampart_core::{Principal, PrincipalKind};

use crate::action::{Action, GATEWAY_ID, Resource};
use crate::decision::Decision;
use crate::load::{PolicyBundle, PolicyError};

/// Decides whether a principal may take an action on a resource.
#[derive(Debug, Clone)]
pub struct Authorizer {
    bundle: PolicyBundle,
    names: TypeNames,
    engine: cedar_policy::Authorizer,
}

/// The Cedar entity types of the `Rampart` namespace, parsed once.
#[derive(Debug, Clone)]
struct TypeNames {
    user: EntityTypeName,
    client: EntityTypeName,
    role: EntityTypeName,
    account: EntityTypeName,
    gateway: EntityTypeName,
    approval: EntityTypeName,
    action: EntityTypeName,
}

impl Authorizer {
    /// An authorizer with the schema and policies built into the gateway.
    pub fn with_default_policies() -> Result<Self, PolicyError> {
        Self::from_bundle(PolicyBundle::defaults()?)
    }

    /// An authorizer with an operator's directory of `rampart.cedarschema` and `*.cedar`.
    pub fn from_dir(dir: &Path) -> Result<Self, PolicyError> {
        Self::from_bundle(PolicyBundle::from_dir(dir)?)
    }

    fn from_bundle(bundle: PolicyBundle) -> Result<Self, PolicyError> {
        Ok(Self {
            bundle,
            names: TypeNames::new()?,
            engine: cedar_policy::Authorizer::new(),
        })
    }

    /// The version of the policy set in force: hex SHA-256 of schema and policies.
    pub fn version(&self) -> &str {
        &self.bundle.version
    }

    /// Decides whether `principal` may take `action` on `resource`.
    pub fn authorize(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource,
    ) -> Decision {
        match self.evaluate(principal, action, resource) {
            Ok((allowed, policy_ids, errors)) => Decision::new(
                allowed,
                action,
                policy_ids,
                self.version().to_owned(),
                errors,
            ),
            Err(error) => Decision::new(
                false,
                action,
                Vec::new(),
                self.version().to_owned(),
                vec![error],
            ),
        }
    }

    /// Runs Cedar; returns (allowed, deciding policy ids, evaluation errors).
    fn evaluate(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource,
    ) -> Result<(bool, Vec<String>, Vec<String>), String> {
        let principal_uid = self.principal_uid(principal);
        let resource_uid = self.resource_uid(resource);
        let action_uid = self.uid(&self.names.action, action.as_str());
        let schema = Some(&self.bundle.schema);

        let resource_entity = self.resource_entity(resource, resource_uid.clone())?;
        let entities = self.entities(principal, principal_uid.clone(), resource_entity)?;
        let request = Request::new(
            principal_uid,
            action_uid,
            resource_uid,
            Context::empty(),
            schema,
        )
        .map_err(|error| format!("request does not match the schema: {error}"))?;
        let response = self
            .engine
            .is_authorized(&request, &self.bundle.policies, &entities);

        let mut policy_ids: Vec<String> = response
            .diagnostics()
            .reason()
            .map(|id| id.to_string())
            .collect();
        policy_ids.sort();
        let errors = response
            .diagnostics()
            .errors()
            .map(|error| error.to_string())
            .collect();
        Ok((
            response.decision() == cedar_policy::Decision::Allow,
            policy_ids,
            errors,
        ))
    }

    /// The resource as an entity: an approval carries its kind and accounts.
    fn resource_entity(&self, resource: &Resource, uid: EntityUid) -> Result<Entity, String> {
        let Resource::Approval { kind, accounts, .. } = resource else {
            return Ok(Entity::new_no_attrs(uid, HashSet::new()));
        };
        let attrs = HashMap::from([
            (
                "kind".to_owned(),
                RestrictedExpression::new_string(kind.clone()),
            ),
            ("accounts".to_owned(), self.account_set(accounts)),
        ]);
        Entity::new(uid, attrs, HashSet::new())
            .map_err(|error| format!("resource cannot be mapped: {error}"))
    }

    fn account_set(&self, accounts: &[rampart_core::AccountId]) -> RestrictedExpression {
        let members = accounts.iter().map(|account| {
            RestrictedExpression::new_entity_uid(self.uid(&self.names.account, account.as_str()))
        });
        RestrictedExpression::new_set(members)
    }

    /// The principal (with its roles as parents and its accounts), its roles and the resource.
    fn entities(
        &self,
        principal: &Principal,
        principal_uid: EntityUid,
        resource: Entity,
    ) -> Result<Entities, String> {
        let roles: Vec<EntityUid> = principal
            .roles
            .iter()
            .map(|role| self.uid(&self.names.role, role.as_str()))
            .collect();
        let attrs = HashMap::from([("accounts".to_owned(), self.account_set(&principal.accounts))]);
        let parents: HashSet<EntityUid> = roles.iter().cloned().collect();
        let subject = Entity::new(principal_uid, attrs, parents)
            .map_err(|error| format!("principal cannot be mapped: {error}"))?;

        let roles = roles
            .into_iter()
            .map(|uid| Entity::new_no_attrs(uid, HashSet::new()));
        Entities::from_entities(
            std::iter::once(subject).chain(roles).chain([resource]),
            Some(&self.bundle.schema),
        )
        .map_err(|error| format!("entities do not match the schema: {error}"))
    }

    fn principal_uid(&self, principal: &Principal) -> EntityUid {
        let kind = match principal.kind {
            PrincipalKind::User => &self.names.user,
            PrincipalKind::Client => &self.names.client,
        };
        self.uid(kind, &principal.id)
    }

    fn resource_uid(&self, resource: &Resource) -> EntityUid {
        match resource {
            Resource::Account(account) => self.uid(&self.names.account, account.as_str()),
            Resource::Gateway => self.uid(&self.names.gateway, GATEWAY_ID),
            Resource::Approval { id, .. } => self.uid(&self.names.approval, id),
        }
    }

    fn uid(&self, kind: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(kind.clone(), EntityId::new(id))
    }
}

impl TypeNames {
    fn new() -> Result<Self, PolicyError> {
        Ok(Self {
            user: type_name("Rampart::User")?,
            client: type_name("Rampart::Client")?,
            role: type_name("Rampart::Role")?,
            account: type_name("Rampart::Account")?,
            gateway: type_name("Rampart::Gateway")?,
            approval: type_name("Rampart::Approval")?,
            action: type_name("Rampart::Action")?,
        })
    }
}

fn type_name(name: &str) -> Result<EntityTypeName, PolicyError> {
    EntityTypeName::from_str(name).map_err(|error| PolicyError::Schema(error.to_string()))
}
