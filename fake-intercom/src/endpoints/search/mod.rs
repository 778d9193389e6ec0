//! The search endpoints, `POST /contacts/search`, `/conversations/search`
//! and `/tickets/search`: the body parsed (`parse`), run over the
//! workspace without the records the index has not caught up with yet
//! (`lag`: the contact index delay, the per-record jitter) — over a sorted
//! index (`index`) when the sort field allows, else by a full scan
//! (`eval`), both with cached columns (`cache`) — and the page shaped as
//! Intercom answers it.
//! Cursors are in `cursor`. A search runs on the blocking thread pool, so
//! a large one does not hold up the server's other requests.
//!
//! Semantics follow Intercom (see `intercom-api.md` §3, §7):
//! * a query is one filter `{field, operator, value}` or a group
//!   `{operator: AND|OR, value: [...]}`; groups nest at most 2 levels deep and
//!   hold at most 15 entries;
//! * contact date fields are **day-granular** in the workspace time zone
//!   (`=` whole day, `>` from the start of the next day, `<` before the start
//!   of the day; `!=`, `>=`, `<=`, `IN`, `NIN` are 422 errors);
//! * conversation and ticket dates compare to the second, and `>`/`<` are
//!   inclusive ("greater (or equal)"); tickets also take `>=`/`<=`;
//! * results are sorted by the sort field, then by id; the cursor is
//!   base64 of the JSON `[sort_value, id]` of the last record returned, and the
//!   next page is everything that sorts after it, evaluated again at that time.

pub(crate) mod cache;
mod cursor;
#[cfg(test)]
mod equivalence;
mod eval;
mod index;
mod lag;
mod parse;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::api::error::{json_response, ApiError};
use crate::endpoints::context::{blocking, RawBody, Store, S};
use crate::endpoints::parts::{with_recent_parts, without};
use crate::endpoints::search::cache::{text_of, Texts};
use crate::endpoints::search::eval::{scan, Evaluator, Lookup, SearchPage};
use crate::endpoints::search::lag::cutoff_now;
use crate::endpoints::search::parse::{parse_request, Collection, SearchRequest};
use crate::workspace::Workspace;

/// The JSON body of a request (`{}` when empty).
fn json_body(body: &RawBody) -> Result<Value, ApiError> {
    if body.0.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&body.0)
        .map_err(|e| ApiError::parameter_invalid(format!("Request body is not valid JSON: {e}")))
}

/// A search answer. Serialized as the JSON object it stands for (keys in
/// the same sorted order), the contacts as their cached texts.
#[derive(Serialize)]
#[serde(untagged)]
enum Answer<'a> {
    Contacts {
        data: Vec<&'a RawValue>,
        pages: Value,
        total_count: usize,
        #[serde(rename = "type")]
        kind: &'static str,
    },
    Other(Value),
}

/// `{"type": kind, key: items, "total_count", "pages"}`.
fn list_answer(kind: &str, key: &str, items: Vec<Value>, page: &SearchPage<'_>) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    m.insert(key.into(), Value::Array(items));
    m.insert("total_count".into(), json!(page.total));
    m.insert("pages".into(), page.pages_json());
    Value::Object(m)
}

/// The records of `coll`.
fn records_of(ws: &Workspace, coll: Collection) -> &[Value] {
    match coll {
        Collection::Contacts => &ws.contacts,
        Collection::Conversations => &ws.conversations,
        Collection::Tickets => &ws.tickets,
    }
}

/// The page `ev` answers: over the sorted index of its plan when there is
/// one (cached for this workspace `version`), else by the full scan.
fn page_of<'a>(
    s: &Store,
    version: u64,
    coll: Collection,
    req: &SearchRequest,
    ev: &Evaluator<'a, '_>,
) -> SearchPage<'a> {
    let Some(plan) = index::plan(coll, req) else {
        return scan(ev);
    };
    let ix = s
        .search_cache
        .index(version, plan.key(), ev.len(), || index::build(ev, &plan));
    match ix {
        Some(ix) => index::run(ev, req, &plan, &ix),
        None => scan(ev),
    }
}

/// The answer to a search of `coll` with this `body`.
fn search_in(
    s: &Store,
    ws: &Workspace,
    coll: Collection,
    body: &RawBody,
) -> Result<Response, ApiError> {
    let v = json_body(body)?;
    let version = s.ws_version.load(Ordering::SeqCst);
    let req = parse_request(coll, ws.timezone_offset_secs, &v)?;
    let lookup = Lookup::new(&req, ws);
    let records = records_of(ws, coll);
    let cols = s.search_cache.columns(version, coll, records, &req);
    let ev = Evaluator::new(
        coll,
        records,
        &lookup,
        &req,
        Some(&cols),
        cutoff_now(s, coll),
    );
    let page = page_of(s, version, coll, &req, &ev);
    let texts = match coll {
        Collection::Contacts => s.search_cache.texts(version, coll, records.len()),
        // Only contacts are answered as their texts.
        Collection::Conversations | Collection::Tickets => Texts::default(),
    };
    Ok(json_response(
        StatusCode::OK,
        &answer(coll, &page, &texts, s.config.max_parts_returned),
    ))
}

/// The answer of `page` of a search of `coll`: contacts as their `texts`,
/// conversations without their parts, tickets with their `max_parts` most
/// recent parts.
fn answer<'p>(
    coll: Collection,
    page: &SearchPage<'p>,
    texts: &'p Texts,
    max_parts: usize,
) -> Answer<'p> {
    let (kind, key, items) = match coll {
        Collection::Contacts => {
            let data = page
                .items
                .iter()
                .map(|(idx, rec)| &**texts[*idx].get_or_init(|| text_of(rec)))
                .collect();
            return Answer::Contacts {
                data,
                pages: page.pages_json(),
                total_count: page.total,
                kind: "list",
            };
        }
        Collection::Conversations => (
            "conversation.list",
            "conversations",
            page.items
                .iter()
                .map(|(_, c)| without(c, "conversation_parts"))
                .collect(),
        ),
        Collection::Tickets => (
            "ticket.list",
            "tickets",
            page.items
                .iter()
                .map(|(_, t)| with_recent_parts(t, "ticket_parts", max_parts))
                .collect(),
        ),
    };
    Answer::Other(list_answer(kind, key, items, page))
}

/// Make what searches of the workspace as it is now need (columns, the
/// `updated_at` indexes, the contacts' texts), so that the first ones are
/// as quick as the others. Called once the workspace is generated.
pub(crate) fn warm(s: &Store) {
    let ws = s.read_ws();
    let version = s.ws_version.load(Ordering::SeqCst);
    let body = json!({"query": {"operator": "AND", "value": []},
                      "sort": {"field": "updated_at", "order": "ascending"}});
    for coll in [
        Collection::Contacts,
        Collection::Conversations,
        Collection::Tickets,
    ] {
        let Ok(req) = parse_request(coll, ws.timezone_offset_secs, &body) else {
            continue;
        };
        let records = records_of(&ws, coll);
        let cols = s.search_cache.columns(version, coll, records, &req);
        let lookup = Lookup::default();
        let ev = Evaluator::new(coll, records, &lookup, &req, Some(&cols), None);
        page_of(s, version, coll, &req, &ev);
    }
    let texts = s
        .search_cache
        .texts(version, Collection::Contacts, ws.contacts.len());
    for (text, rec) in texts.iter().zip(&ws.contacts) {
        text.get_or_init(|| text_of(rec));
    }
}

/// The answer to a search, computed on the blocking thread pool.
async fn search(s: Arc<Store>, coll: Collection, body: RawBody) -> Response {
    blocking(move || {
        let ws = s.read_ws();
        search_in(&s, &ws, coll, &body).unwrap_or_else(IntoResponse::into_response)
    })
    .await
}

pub(crate) async fn contacts_search(State(s): S, Extension(body): Extension<RawBody>) -> Response {
    search(s, Collection::Contacts, body).await
}

pub(crate) async fn conversations_search(
    State(s): S,
    Extension(body): Extension<RawBody>,
) -> Response {
    search(s, Collection::Conversations, body).await
}

pub(crate) async fn tickets_search(State(s): S, Extension(body): Extension<RawBody>) -> Response {
    search(s, Collection::Tickets, body).await
}
