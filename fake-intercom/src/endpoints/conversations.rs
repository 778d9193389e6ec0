//! The conversation endpoints: `GET /conversations/{id}` (with its most
//! recent parts) and `GET /conversations/deleted` (2.16+).

use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};

use crate::api::error::ApiError;
use crate::api::pagination::{next_url, page_range, pages_object, PageRequest};
use crate::api::version::version_at_least;
use crate::endpoints::context::{blocking, int_of, path_id, reply, Ctx, S};
use crate::endpoints::parts::with_recent_parts;

/// Default `per_page` of `/conversations/deleted`.
const DELETED_CONVERSATIONS_PER_PAGE: usize = 20;
/// Largest `per_page` of `/conversations/deleted`.
const DELETED_CONVERSATIONS_MAX_PER_PAGE: u64 = 60;

/// `GET /conversations/{id}`, answered on the blocking thread pool (a
/// conversation can be large).
pub(crate) async fn conversation(State(s): S, ctx: Ctx) -> Response {
    blocking(move || {
        reply((|| {
            let id = path_id(&ctx.path, "/conversations/", "").ok_or_else(ApiError::not_found)?;
            let ws = s.read_ws();
            let conv = ws
                .conversations
                .iter()
                .find(|c| c.get("id").and_then(Value::as_str) == Some(id.as_str()))
                .ok_or_else(ApiError::not_found)?;
            Ok(with_recent_parts(
                conv,
                "conversation_parts",
                s.config.max_parts_returned,
            ))
        })())
    })
    .await
}

fn id_key(v: &Value) -> (u64, String) {
    let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
    (id.parse::<u64>().unwrap_or(u64::MAX), id.to_string())
}

pub(crate) async fn deleted_conversations(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        if !version_at_least(ctx.version.as_deref(), 2, 16) {
            return Err(ApiError::not_found());
        }
        let q = &ctx.query;
        let req = PageRequest::from_query_with_max(
            q,
            DELETED_CONVERSATIONS_PER_PAGE,
            DELETED_CONVERSATIONS_MAX_PER_PAGE,
        )?;
        let descending = match q.get("order") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(other) => {
                return Err(ApiError::parameter_invalid(format!(
                    "order must be asc or desc, got '{other}'"
                )))
            }
        };
        let ws = s.read_ws();
        let mut items: Vec<&Value> = ws.deleted_conversations.iter().collect();
        items.sort_by_cached_key(|v| (int_of(v, "deleted_at"), id_key(v)));
        if descending {
            items.reverse();
        }
        let total = items.len();
        let data: Vec<&Value> = items[page_range(total, req.page, req.per_page)].to_vec();
        let next = next_url(req, total, &ctx.base_url(&s), &ctx.path, q);
        Ok(json!({
            "type": "conversations.list",
            "conversations": data,
            "total_count": total,
            "pages": pages_object(req, total, next),
        }))
    })())
}
