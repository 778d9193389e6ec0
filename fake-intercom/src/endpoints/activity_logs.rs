//! `GET /admins/activity_logs?created_at_after=[&created_at_before=]`:
//! admin activity in a time window, newest first, page-numbered.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use crate::api::error::ApiError;
use crate::api::pagination::{next_url, page_range, pages_object, PageRequest};
use crate::api::query::QueryParams;
use crate::endpoints::context::{int_of, reply, Ctx, S};

/// Default `per_page` of `/admins/activity_logs`.
const ACTIVITY_LOGS_PER_PAGE: usize = 20;
/// Largest `per_page` of `/admins/activity_logs`.
const ACTIVITY_LOGS_MAX_PER_PAGE: u64 = 250;

fn timestamp_param(q: &QueryParams, key: &str) -> Result<Option<i64>, ApiError> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
            ApiError::parameter_invalid(format!("{key} must be a UNIX timestamp, got '{v}'"))
        }),
    }
}

pub(crate) async fn activity_logs(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let q = &ctx.query;
        let after = timestamp_param(q, "created_at_after")?.ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "parameter_not_found",
                "created_at_after is required",
            )
        })?;
        let before = timestamp_param(q, "created_at_before")?;
        let req = PageRequest::from_query_with_max(
            q,
            ACTIVITY_LOGS_PER_PAGE,
            ACTIVITY_LOGS_MAX_PER_PAGE,
        )?;
        let ws = s.read_ws();
        let mut items: Vec<&Value> = ws
            .activity_logs
            .iter()
            .filter(|l| {
                let t = int_of(l, "created_at");
                t >= after && before.map_or(true, |b| t <= b)
            })
            .collect();
        items.sort_by_cached_key(|v| {
            std::cmp::Reverse((
                int_of(v, "created_at"),
                v.get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            ))
        });
        let total = items.len();
        let data: Vec<&Value> = items[page_range(total, req.page, req.per_page)].to_vec();
        let next = next_url(req, total, &ctx.base_url(&s), &ctx.path, q);
        Ok(json!({
            "type": "activity_log.list",
            "activity_logs": data,
            "pages": pages_object(req, total, next),
        }))
    })())
}
