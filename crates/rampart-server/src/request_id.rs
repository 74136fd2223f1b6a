//! The id of each request: always the gateway's own UUIDv7.
//!
//! A client cannot choose the id an audit event is filed under: a well-formed
//! `x-request-id` from the client is kept only as the client's reference, next
//! to the gateway's id. Both are carried in task-locals for the life of the
//! request, so that every problem document, audit event and log span of that
//! request names the same ids without threading them through each function.

use std::future::Future;

use uuid::Uuid;

/// The header a request id arrives in and is echoed in.
pub const HEADER: &str = "x-request-id";

/// The longest request id accepted from a client.
pub const MAX_LEN: usize = 64;

tokio::task_local! {
    static CURRENT: String;
    static CLIENT: Option<String>;
}

/// The client's id if it is 1 to 64 characters of `A-Z a-z 0-9 - _`, else none.
pub fn client_reference(incoming: Option<&str>) -> Option<String> {
    incoming.filter(|id| is_acceptable(id)).map(str::to_owned)
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

/// Runs `future` with `id` as the current request id and `client` as the client's reference.
pub async fn scope_with_client<F: Future>(
    id: String,
    client: Option<String>,
    future: F,
) -> F::Output {
    CLIENT.scope(client, CURRENT.scope(id, future)).await
}

/// The id of the request being handled, or an empty string outside a request.
pub fn current() -> String {
    CURRENT.try_with(Clone::clone).unwrap_or_default()
}

/// The well-formed `x-request-id` the client sent with the current request, if any.
pub fn client() -> Option<String> {
    CLIENT.try_with(Clone::clone).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_incoming_id_is_kept_as_the_client_reference() {
        assert_eq!(
            client_reference(Some("abc-123_X")).as_deref(),
            Some("abc-123_X")
        );
    }

    #[test]
    fn incoming_id_with_other_characters_is_dropped() {
        assert_eq!(client_reference(Some("abc\r\nset-cookie: x")), None);
    }

    #[test]
    fn incoming_id_longer_than_64_characters_is_dropped() {
        assert_eq!(client_reference(Some(&"a".repeat(65))), None);
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

    #[tokio::test]
    async fn client_reference_is_visible_inside_the_scope_only() {
        let client_ref = Some("c-1".to_owned());
        let inside = scope_with_client("r-1".to_owned(), client_ref, async {
            (current(), client())
        });
        assert_eq!(inside.await, ("r-1".to_owned(), Some("c-1".to_owned())));
        assert_eq!(client(), None);
    }
}
