//! Request bodies and path parameters, parsed strictly into typed values.
//!
//! A JSON body must be declared `application/json`, fit the size limit, nest
//! at most 32 levels (checked by a byte scanner before any parser runs) and
//! match its type exactly; a failure names the field path and never quotes
//! the value that was sent.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// The deepest nesting of JSON arrays and objects accepted.
pub const MAX_JSON_DEPTH: usize = 32;

/// The longest field path quoted back in an error.
const MAX_QUOTED_PATH: usize = 64;

/// A JSON body parsed strictly into `T`.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_media_type(request.headers(), "application/json")?;
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(from_bytes_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Path parameters; a rejection is a problem document.
#[derive(Debug, Clone, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Query parameters; unknown or repeated parameters are a problem document.
#[derive(Debug, Clone, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Parses a JSON document into `T`, checking its depth first.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    check_depth(bytes, MAX_JSON_DEPTH)?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(from_serde)?;
    deserializer
        .end()
        .map_err(|_| ApiError::MalformedJson(trailing_data()))?;
    Ok(value)
}

/// Refuses a body whose `Content-Type` is not `expected` (parameters such as charset allowed).
pub fn require_media_type(headers: &HeaderMap, expected: &str) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let essence = declared
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    match essence {
        Some(essence) if essence.eq_ignore_ascii_case(expected) => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

/// Maps a failure to read the body: over the limit is 413, anything else 400.
pub fn from_bytes_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::TooLarge;
    }
    ApiError::Invalid {
        field: None,
        detail: "the request body could not be read".to_owned(),
    }
}

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::Invalid {
            field: None,
            detail: "the path parameters are not valid".to_owned(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(_: QueryRejection) -> Self {
        ApiError::Invalid {
            field: None,
            detail: "the query string has an unknown, repeated or malformed parameter".to_owned(),
        }
    }
}

/// Fails if arrays and objects nest deeper than `max`, without parsing the document.
pub fn check_depth(bytes: &[u8], max: usize) -> Result<(), ApiError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(ApiError::MalformedJson(format!(
                        "the JSON document nests deeper than {max} levels"
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn from_serde(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let inner = error.inner();
    match inner.classify() {
        serde_json::error::Category::Data => data_error(&path, &message_of(inner)),
        serde_json::error::Category::Eof => {
            ApiError::MalformedJson("the JSON document ends too early".to_owned())
        }
        _ => ApiError::MalformedJson(format!(
            "the body is not valid JSON (line {}, column {})",
            inner.line(),
            inner.column()
        )),
    }
}

/// A well-typed error for a document that parsed as JSON but does not fit the type.
fn data_error(path: &str, message: &str) -> ApiError {
    for (prefix, rule) in [
        ("missing field `", "is required"),
        ("duplicate field `", "appears more than once"),
    ] {
        if let Some(field) = named_field(message, prefix) {
            let field = quoted(&join_path(path, field));
            let detail = format!("`{field}` {rule}");
            return ApiError::Invalid {
                field: Some(field),
                detail,
            };
        }
    }

    let field = (path != ".").then(|| path.to_owned());
    let name = field
        .as_deref()
        .map_or_else(|| "the body".to_owned(), |f| format!("`{}`", quoted(f)));
    let detail = if message.starts_with("unknown field") {
        format!("{name} is not a known field")
    } else if message.starts_with("unknown variant") {
        format!("{name} must be one of {}", expected_part(message))
    } else if message.starts_with("invalid type")
        || message.starts_with("invalid value")
        || message.starts_with("invalid length")
    {
        format!("{name} must be {}", expected_part(message))
    } else {
        // Messages of Rampart's own types: they name the rule, never the value.
        let own = message.trim_start_matches(|c| c != ' ').trim_start();
        format!("{name} {own}")
    };
    ApiError::Invalid {
        field: field.map(|f| quoted(&f)),
        detail,
    }
}

/// The field serde names in a message such as "missing field `x`" (a name from
/// Rampart's types for a missing field; quoted through [`quoted`] for a duplicate).
fn named_field<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    message.strip_prefix(prefix)?.split('`').next()
}

/// What serde says was expected, in the client's terms: JSON kinds, never Rust type names.
fn expected_part(message: &str) -> String {
    message.rsplit_once("expected ").map_or_else(
        || "of the documented form".to_owned(),
        |(_, expected)| in_user_terms(expected),
    )
}

/// serde's "expected" phrase with Rust types (`struct OrderRequest`, `u32`) named as JSON.
fn in_user_terms(expected: &str) -> String {
    const NUMBERS: [&str; 12] = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
    ];
    let first = expected.split_whitespace().next().unwrap_or_default();
    let phrase = match first {
        "struct" | "map" => "a JSON object",
        "a" if expected.starts_with("a map") => "a JSON object",
        "a" if expected.starts_with("a sequence") => "a JSON array",
        "tuple" | "sequence" => "a JSON array",
        "enum" => "one of the documented values",
        "unit" => "`null`",
        "f32" | "f64" => "a number",
        "bool" | "boolean" => "`true` or `false`",
        "a" if expected.starts_with("a boolean") => "`true` or `false`",
        _ if NUMBERS.contains(&first) => "a whole number",
        _ if looks_like_rust(expected) => "of the documented form",
        _ => expected,
    };
    phrase.to_owned()
}

/// Whether a phrase outside backticks carries a Rust path or a type name (a capital
/// letter in any word but `JSON`).
fn looks_like_rust(phrase: &str) -> bool {
    phrase
        .split('`')
        .step_by(2)
        .flat_map(str::split_whitespace)
        .any(|word| word != "JSON" && (word.contains("::") || word.chars().any(char::is_uppercase)))
}

/// serde_json's message without its "at line .. column .." suffix.
fn message_of(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(index) => text.get(..index).unwrap_or_default().to_owned(),
        None => text,
    }
}

fn join_path(path: &str, field: &str) -> String {
    if path == "." {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// A field path safe to quote: short and made of name characters, else a placeholder.
fn quoted(path: &str) -> String {
    let safe = path.len() <= MAX_QUOTED_PATH
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.[]-".contains(&b));
    if safe {
        path.to_owned()
    } else {
        "(unnamed field)".to_owned()
    }
}

fn trailing_data() -> String {
    "the body has data after the JSON document".to_owned()
}

#[cfg(test)]
mod tests {
    use rampart_core::OrderRequest;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
        count: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    fn field_of(error: ApiError) -> Option<String> {
        match error {
            ApiError::Invalid { field, .. } => field,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn wrong_type_names_the_nested_field_without_the_value() {
        let error = parse_json::<Outer>(br#"{"inner": {"name": 42}, "count": 1}"#).unwrap_err();
        assert!(!error.to_string().contains("42"));
        assert_eq!(field_of(error), Some("inner.name".to_owned()));
    }

    #[test]
    fn missing_field_is_named() {
        let error = parse_json::<Outer>(br#"{"inner": {"name": "x"}}"#).unwrap_err();
        assert_eq!(error.to_string(), "`count` is required");
        assert_eq!(field_of(error), Some("count".to_owned()));
    }

    #[test]
    fn repeated_member_is_refused_by_name() {
        let body = br#"{"count": 1, "inner": {"name": "x"}, "count": 2}"#;
        let error = parse_json::<Outer>(body).unwrap_err();
        assert_eq!(field_of(error), Some("count".to_owned()));
    }

    #[test]
    fn unknown_field_is_refused() {
        let body = br#"{"inner": {"name": "x"}, "count": 1, "extra": true}"#;
        let error = parse_json::<Outer>(body).unwrap_err();
        assert!(error.to_string().ends_with("is not a known field"));
    }

    #[test]
    fn unknown_enum_value_is_not_echoed() {
        let body = br#"{"account_id": "ACC-1", "instrument": "BTC-USD", "side": "sideways",
            "type": "market", "quantity": "1"}"#;
        let error = parse_json::<OrderRequest>(body).unwrap_err();
        assert!(!error.to_string().contains("sideways"));
        assert_eq!(field_of(error), Some("side".to_owned()));
    }

    #[test]
    fn array_body_is_answered_as_a_json_object_expected_without_rust_type_names() {
        let error = parse_json::<OrderRequest>(b"[]").unwrap_err();
        assert_eq!(error.to_string(), "the body must be a JSON object");
    }

    #[test]
    fn null_body_is_answered_as_a_json_object_expected_without_rust_type_names() {
        let error = parse_json::<OrderRequest>(b"null").unwrap_err();
        assert_eq!(error.to_string(), "the body must be a JSON object");
    }

    #[test]
    fn wrong_number_type_is_named_as_a_whole_number() {
        let error = parse_json::<Outer>(br#"{"inner": {"name": "x"}, "count": "1"}"#).unwrap_err();
        assert_eq!(error.to_string(), "`count` must be a whole number");
    }

    #[test]
    fn no_expected_phrase_names_a_rust_type() {
        for expected in [
            "struct OrderRequest with 8 elements",
            "enum Side",
            "Decimal",
            "a::B",
        ] {
            let phrase = in_user_terms(expected);
            assert!(!looks_like_rust(&phrase), "{expected} became {phrase}");
        }
        assert_eq!(in_user_terms("a decimal string"), "a decimal string");
    }

    #[test]
    fn syntax_error_is_malformed_json() {
        let error = parse_json::<Outer>(b"{\"inner\": ").unwrap_err();
        assert!(matches!(error, ApiError::MalformedJson(_)));
        let error = parse_json::<Outer>(b"{nope}").unwrap_err();
        assert!(matches!(error, ApiError::MalformedJson(_)));
    }

    #[test]
    fn trailing_data_after_the_document_is_refused() {
        let error = parse_json::<Inner>(br#"{"name": "x"} {"#).unwrap_err();
        assert!(matches!(error, ApiError::MalformedJson(_)));
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused_before_parsing() {
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert!(check_depth(deep.as_bytes(), MAX_JSON_DEPTH).is_err());
        let fine = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(check_depth(fine.as_bytes(), MAX_JSON_DEPTH).is_ok());
    }

    #[test]
    fn brackets_inside_strings_do_not_count_as_nesting() {
        let text = format!("{{\"a\": \"{}\\\"{}\"}}", "[".repeat(100), "{".repeat(100));
        assert!(check_depth(text.as_bytes(), MAX_JSON_DEPTH).is_ok());
    }

    #[test]
    fn json_with_charset_parameter_is_accepted() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "Application/JSON; charset=utf-8".parse().unwrap(),
        );
        assert!(require_media_type(&headers, "application/json").is_ok());
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert_eq!(
            require_media_type(&headers, "application/json"),
            Err(ApiError::UnsupportedMediaType)
        );
    }
}
