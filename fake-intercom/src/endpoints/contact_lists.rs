//! A contact's complete lists (a contact embeds at most 10 of each):
//! `GET /contacts/{id}/tags`, `/companies` (paged), `/notes` (paged) and
//! `/subscriptions`, answered from [`Workspace`](crate::Workspace)'s
//! `contact_*` methods. An unknown contact is 404 `not_found` "User Not
//! Found".

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use crate::api::error::ApiError;
use crate::api::pagination::{next_url, page_range, total_pages, PageRequest};
use crate::endpoints::context::{path_id, reply, Ctx, S};

/// Default `per_page` of the paged contact lists (Intercom's examples: 50).
const CONTACT_LIST_PER_PAGE: usize = 50;

fn user_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "User Not Found")
}

/// The contact id of `/contacts/{id}/{what}`.
fn contact_id(ctx: &Ctx, what: &str) -> Result<String, ApiError> {
    path_id(&ctx.path, "/contacts/", &format!("/{what}")).ok_or_else(user_not_found)
}

/// One page of `items` as `{"type":"list","data","total_count","pages"}`,
/// `pages.next` an absolute URL or null (as Intercom's examples show it).
fn paged(ctx: &Ctx, s: &S, items: Vec<Value>) -> Result<Value, ApiError> {
    let req = PageRequest::from_query(&ctx.query, CONTACT_LIST_PER_PAGE)?;
    let total = items.len();
    let data: Vec<Value> = items
        .into_iter()
        .skip(page_range(total, req.page, req.per_page).start)
        .take(req.per_page)
        .collect();
    let next = next_url(req, total, &ctx.base_url(&s.0), &ctx.path, &ctx.query);
    Ok(json!({
        "type": "list",
        "data": data,
        "total_count": total,
        "pages": {
            "type": "pages",
            "next": next,
            "page": req.page,
            "per_page": req.per_page,
            "total_pages": total_pages(total, req.per_page),
        },
    }))
}

/// `GET /contacts/{id}/tags`: every tag of the contact, not paged.
pub(crate) async fn contact_tags(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let id = contact_id(&ctx, "tags")?;
        let tags = s.read_ws().contact_tags(&id).ok_or_else(user_not_found)?;
        Ok(json!({"type": "list", "data": tags}))
    })())
}

/// `GET /contacts/{id}/companies[?page=&per_page=]`: the contact's
/// companies, whole objects, paged (default 50 a page).
pub(crate) async fn contact_companies(state: S, ctx: Ctx) -> Response {
    reply((|| {
        let id = contact_id(&ctx, "companies")?;
        let companies: Vec<Value> = {
            let ws = state.0.read_ws();
            let list = ws.contact_companies(&id).ok_or_else(user_not_found)?;
            list.into_iter().cloned().collect()
        };
        paged(&ctx, &state, companies)
    })())
}

/// `GET /contacts/{id}/notes[?page=&per_page=]`: the contact's notes,
/// newest first, paged (default 50 a page).
pub(crate) async fn contact_notes(state: S, ctx: Ctx) -> Response {
    reply((|| {
        let id = contact_id(&ctx, "notes")?;
        let notes = state
            .0
            .read_ws()
            .contact_notes(&id)
            .ok_or_else(user_not_found)?;
        paged(&ctx, &state, notes)
    })())
}

/// `GET /contacts/{id}/subscriptions`: the subscription types the contact
/// opted out of, then those it opted in to, not paged.
pub(crate) async fn contact_subscriptions(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let id = contact_id(&ctx, "subscriptions")?;
        let ws = s.read_ws();
        let list = ws.contact_subscriptions(&id).ok_or_else(user_not_found)?;
        Ok(json!({"type": "list", "data": list}))
    })())
}
