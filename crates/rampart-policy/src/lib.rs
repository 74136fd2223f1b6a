//! Cedar authorisation for the Rampart gateway.
//!
//! The schema and default policies live in `policies/` at the root of the
//! repository and are built into the gateway; an operator may replace them
//! with a directory of their own. Every set is validated against the schema
//! in strict mode at load, and a gateway with an invalid set does not start.
//! Deny is the default; a trader acts only on the accounts assigned to it,
//! and that rule is in the policies, not in the code that calls them.

pub mod action;
pub mod authorizer;
pub mod decision;
pub mod load;

pub use action::{Action, Resource};
pub use authorizer::Authorizer;
pub use decision::{Authorised, Decision, Denied};
pub use load::PolicyError;
