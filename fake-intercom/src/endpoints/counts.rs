//! The legacy `GET /counts` API: app totals and the per-type breakdowns,
//! all computed from the workspace's objects so they always agree with them.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::api::error::ApiError;
use crate::api::pagination::{next_url, page_range, pages_object, PageRequest};
use crate::api::query::QueryParams;
use crate::endpoints::context::{blocking, reply, Ctx, S};
use crate::workspace::Workspace;

/// Default page size of `type=company&count=user`.
const COMPANY_USER_PER_PAGE: usize = 50;

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// An admin id field (`admin_assignee_id` and friends) as a string, if set.
fn id_string(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Number(n)) if n.as_i64() != Some(0) => Some(n.to_string()),
        Some(Value::String(s)) if !s.is_empty() && s != "0" => Some(s.clone()),
        _ => None,
    }
}

fn is_closed(conversation: &Value) -> bool {
    str_of(conversation, "state") == "closed"
}

/// `[{"<name>": n}, ...]`.
fn named_counts<'a>(items: impl Iterator<Item = (&'a str, usize)>) -> Vec<Value> {
    items
        .map(|(name, n)| {
            let mut m = Map::new();
            m.insert(name.to_string(), json!(n));
            Value::Object(m)
        })
        .collect()
}

/// Occurrences of ids in a list of `{"id": ..}` objects found at `outer.inner` of each item.
fn id_occurrences(items: &[Value], outer: &str, inner: &str) -> HashMap<String, usize> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for item in items {
        let list = item
            .get(outer)
            .and_then(|o| o.get(inner))
            .and_then(Value::as_array);
        for entry in list.into_iter().flatten() {
            if let Some(id) = entry.get("id").and_then(Value::as_str) {
                *counts.entry(id.to_string()).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// How many contacts have each tag, counting all of a contact's tags (a
/// contact embeds at most 10).
fn contact_tag_occurrences(ws: &Workspace) -> HashMap<String, usize> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for contact in &ws.contacts {
        for id in ws.tag_ids_of(contact) {
            *counts.entry(id.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// `type=conversation`: open, closed, assigned and unassigned.
fn conversation_counts(ws: &Workspace) -> Value {
    let mut open = 0;
    let mut closed = 0;
    let mut assigned = 0;
    for c in &ws.conversations {
        if is_closed(c) {
            closed += 1;
        } else {
            open += 1;
            if id_string(c.get("admin_assignee_id")).is_some() {
                assigned += 1;
            }
        }
    }
    json!({"type": "count", "conversation": {
        "open": open, "closed": closed, "unassigned": open - assigned, "assigned": assigned,
    }})
}

/// `type=conversation&count=admin`: open and closed per admin.
fn admin_conversation_counts(ws: &Workspace) -> Value {
    let mut per: HashMap<String, (usize, usize)> = HashMap::new();
    for c in &ws.conversations {
        if let Some(a) = id_string(c.get("admin_assignee_id")) {
            let e = per.entry(a).or_insert((0, 0));
            if is_closed(c) {
                e.1 += 1;
            } else {
                e.0 += 1;
            }
        }
    }
    let admins: Vec<Value> = ws
        .admins
        .iter()
        .map(|a| {
            let id = str_of(a, "id");
            let (open, closed) = per.get(id).copied().unwrap_or((0, 0));
            json!({"id": id, "name": str_of(a, "name"), "open": open, "closed": closed})
        })
        .collect();
    json!({"type": "count", "conversation": {"admin": admins}})
}

/// `GET /counts`, answered on the blocking thread pool (counts read every
/// contact).
pub(crate) async fn counts(State(s): S, ctx: Ctx) -> Response {
    blocking(move || {
        let ws = s.read_ws();
        reply(counts_response(
            &ws,
            &ctx.query,
            &ctx.base_url(&s),
            &ctx.path,
        ))
    })
    .await
}

/// Answer `GET /counts` for the given query.
fn counts_response(
    ws: &Workspace,
    q: &QueryParams,
    base: &str,
    path: &str,
) -> Result<Value, ApiError> {
    let ty = q.get("type");
    let count = q.get("count");
    match (ty, count) {
        (None, None) => Ok(ws.counts()),
        (None, Some(_)) => Err(ApiError::parameter_invalid(
            "type is required when count is given",
        )),
        (Some("conversation"), None) => Ok(conversation_counts(ws)),
        (Some("conversation"), Some("admin")) => Ok(admin_conversation_counts(ws)),
        (Some("user"), None) => {
            let users = ws
                .contacts
                .iter()
                .filter(|c| str_of(c, "role") == "user")
                .count();
            Ok(json!({"type": "count", "user": {"user": {"count": users}}}))
        }
        (Some("user"), Some("segment")) => {
            let members = ws.segment_member_counts();
            let list = named_counts(ws.segments.iter().map(|s| {
                (
                    str_of(s, "name"),
                    members.get(str_of(s, "id")).copied().unwrap_or(0),
                )
            }));
            Ok(json!({"type": "count", "user": {"segment": list}}))
        }
        (Some("user"), Some("tag")) => {
            let tagged = contact_tag_occurrences(ws);
            let list = named_counts(ws.tags.iter().map(|t| {
                (
                    str_of(t, "name"),
                    tagged.get(str_of(t, "id")).copied().unwrap_or(0),
                )
            }));
            Ok(json!({"type": "count", "user": {"tag": list}}))
        }
        (Some("company"), None) => {
            Ok(json!({"type": "count", "company": {"count": ws.companies.len()}}))
        }
        (Some("company"), Some("user")) => {
            let req = PageRequest::from_query(q, COMPANY_USER_PER_PAGE)?;
            let total = ws.companies.len();
            let list: Vec<Value> = ws.companies[page_range(total, req.page, req.per_page)]
                .iter()
                .map(|c| {
                    let mut m = Map::new();
                    m.insert(
                        str_of(c, "name").to_string(),
                        c.get("user_count").cloned().unwrap_or(json!(0)),
                    );
                    m.insert("remote_company_id".into(), json!(str_of(c, "company_id")));
                    Value::Object(m)
                })
                .collect();
            let next = next_url(req, total, base, path, q);
            Ok(json!({
                "type": "count",
                "company": {"user": list},
                "pages": pages_object(req, total, next),
            }))
        }
        (Some("company"), Some("segment")) => {
            let members = id_occurrences(&ws.companies, "segments", "segments");
            let list = named_counts(ws.company_segments.iter().map(|s| {
                (
                    str_of(s, "name"),
                    members.get(str_of(s, "id")).copied().unwrap_or(0),
                )
            }));
            Ok(json!({"type": "count", "company": {"segment": list}}))
        }
        (Some("company"), Some("tag")) => {
            let tagged = id_occurrences(&ws.companies, "tags", "tags");
            let list = named_counts(ws.tags.iter().map(|t| {
                (
                    str_of(t, "name"),
                    tagged.get(str_of(t, "id")).copied().unwrap_or(0),
                )
            }));
            Ok(json!({"type": "count", "company": {"tag": list}}))
        }
        (Some(t), None) => Err(ApiError::parameter_invalid(format!(
            "type {t} is not a valid count type"
        ))),
        (Some(t), Some(c)) => Err(ApiError::parameter_invalid(format!(
            "count {c} is not valid for type {t}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FakeConfig;

    fn ws() -> Workspace {
        Workspace::generate(&FakeConfig::default())
    }

    fn q(s: &str) -> QueryParams {
        QueryParams::parse(s)
    }

    fn first_value(entry: &Value) -> i64 {
        entry
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, _)| k.as_str() != "remote_company_id")
            .unwrap()
            .1
            .as_i64()
            .unwrap()
    }

    #[test]
    fn app_totals_match_objects() {
        let w = ws();
        let c = w.counts();
        assert_eq!(c["type"], "count.hash");
        let users = c["user"]["count"].as_u64().unwrap() as usize;
        let leads = c["lead"]["count"].as_u64().unwrap() as usize;
        assert_eq!(users + leads, w.contacts.len());
        assert!(users > 0 && leads > 0);
        assert_eq!(c["company"]["count"], json!(w.companies.len()));
        assert_eq!(c["tag"]["count"], json!(w.tags.len()));
        assert_eq!(
            c["segment"]["count"],
            json!(w.segments.len() + w.company_segments.len())
        );
    }

    #[test]
    fn conversation_counts_are_consistent() {
        let w = ws();
        let c = counts_response(&w, &q("type=conversation"), "http://h", "/counts").unwrap();
        let conv = &c["conversation"];
        let open = conv["open"].as_i64().unwrap();
        let closed = conv["closed"].as_i64().unwrap();
        assert_eq!(open + closed, w.conversations.len() as i64);
        assert_eq!(
            conv["assigned"].as_i64().unwrap() + conv["unassigned"].as_i64().unwrap(),
            open
        );
        let a = counts_response(
            &w,
            &q("type=conversation&count=admin"),
            "http://h",
            "/counts",
        )
        .unwrap();
        let admins = a["conversation"]["admin"].as_array().unwrap();
        assert_eq!(admins.len(), w.admins.len());
        let sum_open: i64 = admins.iter().map(|x| x["open"].as_i64().unwrap()).sum();
        let sum_closed: i64 = admins.iter().map(|x| x["closed"].as_i64().unwrap()).sum();
        // Every closed conversation has an admin assignee; open ones may not.
        assert_eq!(sum_closed, closed);
        assert_eq!(sum_open, conv["assigned"].as_i64().unwrap());
    }

    #[test]
    fn user_breakdowns() {
        let w = ws();
        let s = counts_response(&w, &q("type=user&count=segment"), "", "/counts").unwrap();
        let list = s["user"]["segment"].as_array().unwrap();
        assert_eq!(list.len(), w.segments.len());
        let total: i64 = list.iter().map(first_value).sum();
        assert_eq!(total as usize, w.contact_segments.len());
        let t = counts_response(&w, &q("type=user&count=tag"), "", "/counts").unwrap();
        assert_eq!(t["user"]["tag"].as_array().unwrap().len(), w.tags.len());
        let u = counts_response(&w, &q("type=user"), "", "/counts").unwrap();
        assert_eq!(u["user"]["user"]["count"], w.counts()["user"]["count"]);
    }

    #[test]
    fn company_user_counts_are_paged() {
        let w = ws();
        let mut page = 1;
        let mut seen = 0;
        let mut sum = 0;
        loop {
            let v = counts_response(
                &w,
                &q(&format!("type=company&count=user&per_page=15&page={page}")),
                "http://h",
                "/counts",
            )
            .unwrap();
            let list = v["company"]["user"].as_array().unwrap();
            seen += list.len();
            sum += list.iter().map(first_value).sum::<i64>();
            assert!(list.iter().all(|e| e["remote_company_id"].is_string()));
            match v["pages"].get("next") {
                Some(n) => {
                    assert_eq!(
                        n.as_str().unwrap(),
                        format!(
                            "http://h/counts?type=company&count=user&per_page=15&page={}",
                            page + 1
                        )
                    );
                    page += 1;
                }
                None => break,
            }
        }
        assert_eq!(seen, w.companies.len());
        let linked: usize = w
            .contacts
            .iter()
            .map(|c| c["companies"]["total_count"].as_u64().unwrap() as usize)
            .sum();
        assert_eq!(sum as usize, linked);
    }

    #[test]
    fn company_breakdowns_and_errors() {
        let w = ws();
        let s = counts_response(&w, &q("type=company&count=segment"), "", "/counts").unwrap();
        assert_eq!(
            s["company"]["segment"].as_array().unwrap().len(),
            w.company_segments.len()
        );
        let t = counts_response(&w, &q("type=company&count=tag"), "", "/counts").unwrap();
        assert_eq!(t["company"]["tag"].as_array().unwrap().len(), w.tags.len());
        let c = counts_response(&w, &q("type=company"), "", "/counts").unwrap();
        assert_eq!(c["company"]["count"], json!(w.companies.len()));
        for bad in [
            "type=nope",
            "type=user&count=admin",
            "count=tag",
            "type=company&count=user&per_page=151",
        ] {
            let e = counts_response(&w, &q(bad), "", "/counts").unwrap_err();
            assert_eq!(e.status.as_u16(), 400, "{bad}");
        }
    }
}
