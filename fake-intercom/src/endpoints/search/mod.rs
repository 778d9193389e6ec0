//! The search endpoints, `POST /contacts/search`, `/conversations/search`
//! and `/tickets/search`: the body parsed (`parse`), run over the
//! workspace (`eval`) with cached columns and the contact index delay, and
//! the page shaped as Intercom answers it. Cursors are in `cursor`.
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

mod cursor;
pub(crate) mod eval;
mod parse;

use std::sync::atomic::Ordering;

use axum::extract::{Extension, State};
use axum::response::Response;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::api::error::ApiError;
use crate::endpoints::context::{reply, RawBody, Store, S};
use crate::endpoints::parts::{with_recent_parts, without};
use crate::endpoints::search::eval::{
    run, IndexCutoff, Lookup, SearchPage, CREATED_AT_SLOT, UPDATED_AT_SLOT,
};
use crate::endpoints::search::parse::{parse_request, Collection};
use crate::time::now_secs;
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
/// the same sorted order), without copying the records first.
#[derive(Serialize)]
#[serde(untagged)]
enum Answer<'a> {
    Contacts {
        data: Vec<&'a Value>,
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

fn search_in<'w>(
    s: &Store,
    ws: &'w Workspace,
    coll: Collection,
    body: &RawBody,
) -> Result<Answer<'w>, ApiError> {
    let v = json_body(body)?;
    let version = s.ws_version.load(Ordering::SeqCst);
    let req = parse_request(coll, ws.timezone_offset_secs, &v)?;
    let lookup = Lookup::new(&req, &ws.contact_segments);
    let records = match coll {
        Collection::Contacts => &ws.contacts,
        Collection::Conversations => &ws.conversations,
        Collection::Tickets => &ws.tickets,
    };
    let cols = s
        .search_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .columns(version, coll, records, &req);
    let cols = Some(cols.as_slice());
    Ok(match coll {
        Collection::Contacts => {
            let delay = s.index_delay_secs();
            let cutoff = (delay > 0).then(|| IndexCutoff {
                field_slot: if s.config.search_index_delay_create_only {
                    CREATED_AT_SLOT
                } else {
                    UPDATED_AT_SLOT
                },
                max: now_secs().saturating_sub(delay),
            });
            let page = run(coll, records, &lookup, &req, cols, cutoff);
            Answer::Contacts {
                pages: page.pages_json(),
                total_count: page.total,
                data: page.items,
                kind: "list",
            }
        }
        Collection::Conversations => {
            let page = run(coll, records, &lookup, &req, cols, None);
            let items: Vec<Value> = page
                .items
                .iter()
                .map(|c| without(c, "conversation_parts"))
                .collect();
            Answer::Other(list_answer(
                "conversation.list",
                "conversations",
                items,
                &page,
            ))
        }
        Collection::Tickets => {
            let page = run(coll, records, &lookup, &req, cols, None);
            let max = s.config.max_parts_returned;
            let items: Vec<Value> = page
                .items
                .iter()
                .map(|t| with_recent_parts(t, "ticket_parts", max))
                .collect();
            Answer::Other(list_answer("ticket.list", "tickets", items, &page))
        }
    })
}

fn search(s: &Store, coll: Collection, body: &RawBody) -> Response {
    let ws = s.read_ws();
    reply(search_in(s, &ws, coll, body))
}

pub(crate) async fn contacts_search(State(s): S, Extension(body): Extension<RawBody>) -> Response {
    search(&s, Collection::Contacts, &body)
}

pub(crate) async fn conversations_search(
    State(s): S,
    Extension(body): Extension<RawBody>,
) -> Response {
    search(&s, Collection::Conversations, &body)
}

pub(crate) async fn tickets_search(State(s): S, Extension(body): Extension<RawBody>) -> Response {
    search(&s, Collection::Tickets, &body)
}
