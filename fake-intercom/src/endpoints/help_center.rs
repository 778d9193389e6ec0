//! The help center's page-number lists: `GET /help_center/help_centers`,
//! `/help_center/collections` and `/articles` (newest `updated_at` first).

use axum::extract::State;
use axum::response::Response;
use serde_json::Value;

use crate::api::error::ApiError;
use crate::api::pagination::{page_list, PageRequest};
use crate::endpoints::context::{reply, Ctx, Store, S};

/// Default `per_page` of `/help_center/help_centers`.
const HELP_CENTERS_PER_PAGE: usize = 20;
/// Default `per_page` of `/help_center/collections`.
const COLLECTIONS_PER_PAGE: usize = 20;
/// Default `per_page` of `/articles`.
const ARTICLES_PER_PAGE: usize = 25;

/// Sort newest `updated_at` first (ties: larger id first), as Intercom lists
/// articles and collections.
fn by_updated_desc(items: &[Value]) -> Vec<&Value> {
    let mut v: Vec<&Value> = items.iter().collect();
    let key = |x: &Value| {
        let updated = x.get("updated_at").and_then(Value::as_i64).unwrap_or(0);
        let id = x.get("id").and_then(Value::as_str).unwrap_or_default();
        (updated, id.parse::<i64>().unwrap_or(0), id.to_string())
    };
    v.sort_by_cached_key(|x| std::cmp::Reverse(key(x)));
    v
}

fn paged(
    s: &Store,
    ctx: &Ctx,
    items: Vec<&Value>,
    default_per_page: usize,
) -> Result<Value, ApiError> {
    let req = PageRequest::from_query(&ctx.query, default_per_page)?;
    Ok(page_list(
        &items,
        req,
        &ctx.base_url(s),
        &ctx.path,
        &ctx.query,
    ))
}

pub(crate) async fn help_centers(State(s): S, ctx: Ctx) -> Response {
    let ws = s.read_ws();
    let items: Vec<&Value> = ws.help_centers.iter().collect();
    reply(paged(&s, &ctx, items, HELP_CENTERS_PER_PAGE))
}

pub(crate) async fn collections(State(s): S, ctx: Ctx) -> Response {
    let ws = s.read_ws();
    reply(paged(
        &s,
        &ctx,
        by_updated_desc(&ws.collections),
        COLLECTIONS_PER_PAGE,
    ))
}

pub(crate) async fn articles(State(s): S, ctx: Ctx) -> Response {
    let ws = s.read_ws();
    reply(paged(
        &s,
        &ctx,
        by_updated_desc(&ws.articles),
        ARTICLES_PER_PAGE,
    ))
}
