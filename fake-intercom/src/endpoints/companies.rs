//! The companies endpoints: `GET /companies/scroll` (over the workspace's
//! one [`ScrollState`](crate::endpoints::scroll::ScrollState)) and
//! `GET /companies/{id}/segments`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use crate::api::error::ApiError;
use crate::api::pagination::MAX_PER_PAGE;
use crate::endpoints::context::{path_id, reply, Ctx, S};
use crate::time::now_ms;

pub(crate) async fn company_segments(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let company_not_found = || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "company_not_found",
                "Company Not Found",
            )
        };
        let id = path_id(&ctx.path, "/companies/", "/segments").ok_or_else(company_not_found)?;
        let ws = s.read_ws();
        let company = ws
            .companies
            .iter()
            .find(|c| c.get("id").and_then(Value::as_str) == Some(id.as_str()))
            .ok_or_else(company_not_found)?;
        let data: Vec<Value> = company
            .pointer("/segments/segments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|embedded| {
                let sid = embedded.get("id");
                ws.company_segments
                    .iter()
                    .find(|seg| seg.get("id") == sid)
                    .unwrap_or(embedded)
                    .clone()
            })
            .collect();
        Ok(json!({"type": "list", "data": data}))
    })())
}

pub(crate) async fn companies_scroll(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let per_page = ctx
            .query
            .get_positive("per_page", MAX_PER_PAGE)?
            .map(|n| n as usize);
        let param = ctx.query.get("scroll_param").filter(|p| !p.is_empty());
        let ws = s.read_ws();
        let (total, now, expiry) = (ws.companies.len(), now_ms(), s.config.scroll_expiry_ms);
        // A peeked page is computed on a copy: the scroll does not move on.
        let (range, param) = if ctx.peek {
            let mut copy = s.scroll_state().clone();
            copy.next_page(param, per_page, total, now, expiry)?
        } else {
            s.scroll_state()
                .next_page(param, per_page, total, now, expiry)?
        };
        let data = ws.companies.get(range).unwrap_or(&[]);
        Ok(json!({
            "type": "list",
            "data": data,
            "pages": null,
            "total_count": null,
            "scroll_param": param,
        }))
    })())
}
