//! `/v1/audit/events`: reading the audit log, filtered, one page at a time.
//!
//! Only compliance officers and auditors read the log (Cedar `audit.read` on the
//! gateway). Reading it is itself recorded: every query leaves an `audit.read`
//! event naming the reader and the filter, so a regulator can see who looked at
//! what. Pages follow `seq` and continue after an opaque cursor, so a page never
//! shifts while events are appended.

use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rampart_audit::{AuditEvent, Outcome};
use rampart_core::Principal;
use rampart_policy::{Action, Resource};
use rampart_store::AuditFilter;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::authn::Authenticated;
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::routes::audit_schema::AuditPageSchema;
use crate::service::{audit, authorize, internal};
use crate::state::AppState;

/// The action of the event recording a read of the audit log.
pub const AUDIT_READ: &str = "audit.read";

/// The most events one page may hold.
pub const MAX_PAGE: u32 = 500;

/// The page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 100;

/// The longest actor, action or target filter accepted.
const MAX_FILTER_BYTES: usize = 256;

/// What every cursor starts with, before encoding.
const CURSOR_PREFIX: &str = "after:";

/// The query parameters of `GET /v1/audit/events`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    from: Option<String>,
    to: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    outcome: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    account_id: Option<String>,
    algo_id: Option<String>,
    desk: Option<String>,
}

/// One page of audit events.
#[derive(Debug, Serialize)]
pub struct EventPage {
    /// The events, in order of `seq`.
    pub events: Vec<AuditEvent>,
    /// The `cursor` of the next page, when this page is full.
    pub next_cursor: Option<String>,
}

/// Lists audit events, filtered.
#[utoipa::path(get, path = "/v1/audit/events", tag = "audit",
    params(
        ("from" = Option<String>, Query, description = "events at or after this RFC 3339 time"),
        ("to" = Option<String>, Query, description = "events before this RFC 3339 time"),
        ("actor" = Option<String>, Query, description = "only this actor (subject or client id)"),
        ("action" = Option<String>, Query, description = "only this action, such as `order.accepted`"),
        ("target" = Option<String>, Query, description = "only this target, such as `order:<id>`"),
        ("outcome" = Option<String>, Query, description = "success, denied, rejected or failed"),
        ("account_id" = Option<String>, Query, description = "only events naming this account"),
        ("algo_id" = Option<String>, Query, description = "only events naming this algorithm"),
        ("desk" = Option<String>, Query, description = "only events naming this desk"),
        ("limit" = Option<u32>, Query, description = "page size, 1 to 500 (default 100)"),
        ("cursor" = Option<String>, Query, description = "the `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "a page of events", body = AuditPageSchema),
        (status = 400, description = "invalid query", body = crate::problem::Problem),
        (status = 401, description = "no valid token", body = crate::problem::Problem),
        (status = 403, description = "not allowed", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<EventPage>, ApiError> {
    authorize(&state, &principal, Action::AuditRead, &Resource::Gateway).await?;
    let filter = parse_filter(&query)?;
    let events = state
        .store
        .audit_query(&filter)
        .await
        .map_err(|e| internal("audit query", &e))?;
    let full = u32::try_from(events.len()).is_ok_and(|n| n == filter.limit);
    let next_cursor = events.last().filter(|_| full).map(|e| cursor_of(e.seq));

    let details = json!({
        "filter": filter_details(&filter),
        "returned": events.len(),
    });
    record_read(&state, &principal, "events", details).await?;
    Ok(Json(EventPage {
        events,
        next_cursor,
    }))
}

/// Records that `principal` read `what` of the audit log, before the answer is sent.
pub async fn record_read(
    state: &AppState,
    principal: &Principal,
    what: &str,
    mut details: Value,
) -> Result<(), ApiError> {
    if let Some(map) = details.as_object_mut() {
        map.insert("read".to_owned(), what.into());
    }
    let event = audit::event(&principal.id, AUDIT_READ, "audit", Outcome::Success).details(details);
    audit::append(&state.store, event)
        .await
        .map_err(|e| internal("audit.read event", &e))
}

/// The opaque cursor continuing after `seq`.
pub fn cursor_of(seq: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{seq}"))
}

/// The `seq` a cursor continues after.
pub fn parse_cursor(cursor: &str) -> Option<u64> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let digits = text.strip_prefix(CURSOR_PREFIX)?;
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn parse_filter(query: &EventsQuery) -> Result<AuditFilter, ApiError> {
    let from = query
        .from
        .as_deref()
        .map(|t| parse_time("from", t))
        .transpose()?;
    let to = query
        .to
        .as_deref()
        .map(|t| parse_time("to", t))
        .transpose()?;
    if let (Some(from), Some(to)) = (from, to) {
        if from >= to {
            return Err(ApiError::invalid("to", "`to` must be later than `from`"));
        }
    }
    let outcome = match &query.outcome {
        Some(text) => Some(text.parse::<Outcome>().map_err(|_| {
            let rule = "`outcome` must be one of success, denied, rejected, failed";
            ApiError::invalid("outcome", rule)
        })?),
        None => None,
    };
    let after_seq = match &query.cursor {
        Some(text) => Some(parse_cursor(text).ok_or_else(|| {
            let rule = "`cursor` must be the `next_cursor` of a previous page";
            ApiError::invalid("cursor", rule)
        })?),
        None => None,
    };
    Ok(AuditFilter {
        from,
        to,
        actor: text_filter("actor", query.actor.as_deref())?,
        action: text_filter("action", query.action.as_deref())?,
        target: text_filter("target", query.target.as_deref())?,
        outcome,
        account_id: text_filter("account_id", query.account_id.as_deref())?,
        algo_id: text_filter("algo_id", query.algo_id.as_deref())?,
        desk: text_filter("desk", query.desk.as_deref())?,
        after_seq,
        limit: parse_limit(query.limit.as_deref())?,
    })
}

fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| ApiError::invalid(field, format!("`{field}` must be an RFC 3339 time")))
}

fn parse_limit(text: Option<&str>) -> Result<u32, ApiError> {
    let Some(text) = text else {
        return Ok(DEFAULT_PAGE);
    };
    text.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_PAGE).contains(n))
        .ok_or_else(|| ApiError::invalid("limit", "`limit` must be from 1 to 500"))
}

fn text_filter(field: &str, text: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let printable = !text.is_empty() && !text.chars().any(char::is_control);
    if !printable || text.len() > MAX_FILTER_BYTES {
        let rule = format!("`{field}` must be 1 to 256 bytes of printable text");
        return Err(ApiError::invalid(field, rule));
    }
    Ok(Some(text.to_owned()))
}

/// The filter as recorded in the `audit.read` event.
fn filter_details(filter: &AuditFilter) -> Value {
    json!({
        "from": filter.from.as_ref().map(rampart_audit::time::format),
        "to": filter.to.as_ref().map(rampart_audit::time::format),
        "actor": filter.actor,
        "action": filter.action,
        "target": filter.target,
        "outcome": filter.outcome.map(Outcome::as_str),
        "account_id": filter.account_id,
        "algo_id": filter.algo_id,
        "desk": filter.desk,
        "after_seq": filter.after_seq,
        "limit": filter.limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query() -> EventsQuery {
        EventsQuery::default()
    }

    fn field_of(error: ApiError) -> Option<String> {
        match error {
            ApiError::Invalid { field, .. } => field,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn cursor_round_trips_and_is_opaque() {
        let cursor = cursor_of(1234);
        assert!(!cursor.contains("1234"));
        assert_eq!(parse_cursor(&cursor), Some(1234));
    }

    #[test]
    fn forged_or_garbled_cursors_are_refused() {
        for bad in ["", "1234", "!!", &URL_SAFE_NO_PAD.encode("after:-1")] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
        assert_eq!(parse_cursor(&URL_SAFE_NO_PAD.encode("after:01")), None);
    }

    #[test]
    fn empty_query_asks_for_the_first_page_of_everything() {
        let filter = parse_filter(&query()).unwrap();
        assert_eq!(filter.limit, DEFAULT_PAGE);
        assert_eq!(filter.after_seq, None);
        assert_eq!(filter.actor, None);
    }

    #[test]
    fn time_range_must_be_rfc3339_and_ordered() {
        let mut bad = query();
        bad.from = Some("yesterday".to_owned());
        assert_eq!(
            field_of(parse_filter(&bad).unwrap_err()).as_deref(),
            Some("from")
        );
        let mut reversed = query();
        reversed.from = Some("2026-01-02T00:00:00Z".to_owned());
        reversed.to = Some("2026-01-01T00:00:00Z".to_owned());
        assert_eq!(
            field_of(parse_filter(&reversed).unwrap_err()).as_deref(),
            Some("to")
        );
    }

    #[test]
    fn unknown_outcome_and_oversized_limit_are_refused_by_name() {
        let mut outcome = query();
        outcome.outcome = Some("won".to_owned());
        assert_eq!(
            field_of(parse_filter(&outcome).unwrap_err()).as_deref(),
            Some("outcome")
        );
        let mut limit = query();
        limit.limit = Some("501".to_owned());
        assert_eq!(
            field_of(parse_filter(&limit).unwrap_err()).as_deref(),
            Some("limit")
        );
    }

    #[test]
    fn filter_with_a_control_character_is_refused() {
        let mut actor = query();
        actor.actor = Some("a\u{0}b".to_owned());
        assert_eq!(
            field_of(parse_filter(&actor).unwrap_err()).as_deref(),
            Some("actor")
        );
    }
}
