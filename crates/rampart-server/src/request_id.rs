//! The id of each request: accepted from `x-request-id` when well-formed, else a UUIDv7.
//!
//! The id is carried in a task-local for the life of the request, so that every
//! problem document, audit event and log span of that request names the same id
//! without threading it through each function.

use std::future::Future;

use uuid::Uuid;

/// The header a request id arrives in and is echoed in.
pub const HEADER: &str = "x-request-id";

/// The longest request id accepted from a client.
pub const MAX_LEN: usize = 64;

tokio::task_local! {
    static CURRENT: String;
}

/// The client's id if it is 1 to 64 characters of `A-Z a-z 0-9 - _`, else a new UUIDv7.
pub fn accept_or_generate(incoming: Option<&str>) -> String {
    match incoming {
        Some(id) if is_acceptable(id) => id.to_owned(),
        _ => generate(),
    }
}

/// A new, time-ordered request id.
pub fn generate() -> String {
    Uuid::now_v7().to_string()
}

/// Whether a client-supplied id may be used as is.
pub fn is_acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Runs `future` with `id` as the current request id.
pub async fn scope<F: Future>(id: String, future: F) -> F::Output {
    CURRENT.scope(id, future).await
}

/// The id of the request being handled, or an empty string outside a request.
pub fn current() -> String {
    CURRENT.try_with(Clone::clone).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_incoming_id_is_kept() {
        assert_eq!(accept_or_generate(Some("abc-123_X")), "abc-123_X");
    }

    #[test]
    fn incoming_id_with_other_characters_is_replaced() {
        let id = accept_or_generate(Some("abc\r\nset-cookie: x"));
        assert!(Uuid::parse_str(&id).is_ok());
    }

    #[test]
    fn incoming_id_longer_than_64_characters_is_replaced() {
        let long = "a".repeat(65);
        assert_ne!(accept_or_generate(Some(&long)), long);
        assert!(is_acceptable(&"a".repeat(64)));
    }

    #[test]
    fn generated_ids_are_uuid_version_7() {
        let id = Uuid::parse_str(&generate()).unwrap();
        assert_eq!(id.get_version_num(), 7);
    }

    #[tokio::test]
    async fn current_id_is_visible_inside_the_scope_only() {
        let inside = scope("r-1".to_owned(), async { current() }).await;
        assert_eq!(inside, "r-1");
        assert_eq!(current(), "");
    }
}
