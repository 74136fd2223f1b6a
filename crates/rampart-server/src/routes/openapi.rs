//! Finishing touches of the OpenAPI document: the bearer scheme and the problem responses.
//!
//! The document must say what the gateway really answers: every error is an
//! RFC 9457 problem (`application/problem+json`), and every `/v1` operation
//! lists the problems it can answer with, so that a client generated from the
//! document handles 401 and 403 as well as the success.

use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Declares the `bearer` security scheme the `/v1` routes use.
pub struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build();
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Gives problem responses their media type and lists the problems of each `/v1` operation.
pub struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_problems(operation);
                retype_problems(operation);
            }
        }
    }
}

/// Adds the problems a bearer-protected operation can answer with, where not listed.
fn add_problems(operation: &mut Operation) {
    if operation.security.is_none() {
        return;
    }
    let mut problems = vec![
        ("401", "no valid bearer token"),
        ("403", "not allowed by the policies"),
    ];
    let has_path_parameter = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    if has_path_parameter {
        problems.push(("400", "a malformed id"));
        problems.push(("404", "unknown, or not visible to the caller"));
    }
    if operation.request_body.is_some() {
        problems.push(("400", "invalid request"));
        problems.push(("415", "the body is not `application/json`"));
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in problems {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(problem_response(description)));
    }
}

/// Moves every response whose body is a problem to `application/problem+json`.
fn retype_problems(operation: &mut Operation) {
    for response in operation.responses.responses.values_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let is_problem = response
            .content
            .get("application/json")
            .is_some_and(|content| is_problem_schema(content.schema.as_ref()));
        if let Some(content) = is_problem
            .then(|| response.content.shift_remove("application/json"))
            .flatten()
        {
            response.content.insert(PROBLEM_JSON.to_owned(), content);
        }
    }
}

fn is_problem_schema(schema: Option<&RefOr<utoipa::openapi::Schema>>) -> bool {
    matches!(schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
}

fn problem_response(description: &str) -> Response {
    let mut response = Response::new(description);
    let schema = RefOr::Ref(Ref::from_schema_name("Problem"));
    response
        .content
        .insert(PROBLEM_JSON.to_owned(), Content::new(Some(schema)));
    response
}
