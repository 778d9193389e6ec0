//! The simple list endpoints: `GET /me`, `/admins`, `/teams`, `/tags`,
//! `/segments`, `/data_attributes`, `/subscription_types`, and the 404
//! answer for unknown paths.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use crate::api::error::{error_body, json_response, ApiError};
use crate::api::version::version_at_least;
use crate::endpoints::context::{reply, Ctx, S};

pub(crate) async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &error_body("not_found", "Resource Not Found"),
    )
}

pub(crate) async fn me(State(s): S) -> Response {
    let ws = s.read_ws();
    reply(match ws.admins.first() {
        Some(admin) => {
            let mut v = admin.clone();
            v["email_verified"] = json!(true);
            v["app"] = ws.app.clone();
            Ok(v)
        }
        None => Err(ApiError::not_found()),
    })
}

pub(crate) async fn admins(State(s): S) -> Response {
    let ws = s.read_ws();
    reply(Ok(json!({"type": "admin.list", "admins": ws.admins})))
}

pub(crate) async fn teams(State(s): S) -> Response {
    let ws = s.read_ws();
    reply(Ok(json!({"type": "team.list", "teams": ws.teams})))
}

pub(crate) async fn tags(State(s): S) -> Response {
    let ws = s.read_ws();
    reply(Ok(json!({"type": "list", "data": ws.tags})))
}

pub(crate) async fn segments(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let include_count = ctx.query.get_bool("include_count")?.unwrap_or(false);
        let ws = s.read_ws();
        let members = if include_count {
            Some(ws.segment_member_counts())
        } else {
            None
        };
        let list: Vec<Value> = ws
            .segments
            .iter()
            .map(|seg| {
                let mut seg = seg.clone();
                if let Some(m) = &members {
                    let id = seg.get("id").and_then(Value::as_str).unwrap_or_default();
                    let n = m.get(id).copied().unwrap_or(0);
                    seg["count"] = json!(n);
                }
                seg
            })
            .collect();
        Ok(json!({"type": "segment.list", "segments": list}))
    })())
}

pub(crate) async fn data_attributes(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let include_archived = ctx.query.get_bool("include_archived")?.unwrap_or(false);
        let v216 = version_at_least(ctx.version.as_deref(), 2, 16);
        let ws = s.read_ws();
        let lists: Vec<&Vec<Value>> = match ctx.query.get("model") {
            None => {
                let mut l = vec![&ws.contact_attributes, &ws.company_attributes];
                if !v216 {
                    l.push(&ws.conversation_attributes);
                }
                l
            }
            Some("contact") => vec![&ws.contact_attributes],
            Some("company") => vec![&ws.company_attributes],
            Some("conversation") if v216 => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "parameter_invalid",
                    "model=conversation is no longer supported. Use GET /conversations/attributes instead",
                ))
            }
            Some("conversation") => vec![&ws.conversation_attributes],
            Some(other) => {
                return Err(ApiError::parameter_invalid(format!(
                    "model {other} is invalid; must be one of contact, company, conversation"
                )))
            }
        };
        let data: Vec<&Value> = lists
            .into_iter()
            .flatten()
            .filter(|a| include_archived || a.get("archived") != Some(&Value::Bool(true)))
            .collect();
        Ok(json!({"type": "list", "data": data}))
    })())
}

pub(crate) async fn subscription_types(State(s): S) -> Response {
    let ws = s.read_ws();
    reply(Ok(json!({"type": "list", "data": ws.subscription_types})))
}
