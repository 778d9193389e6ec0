//! Complete relation lists ([`Relation`]): a contact embeds only the first 10 of its
//! tags, companies and notes, each list with `has_more` and the `url` of the whole
//! list. A record with a list that has more is emitted with the whole list, read from
//! the list's endpoint, as entries of the embedded shape (`{type, id, url}`), with
//! `total_count` its length and `has_more: false`. Records without one cost nothing:
//! their bytes are not parsed unless they hold a `"has_more"` that is `true`.
//!
//! The lists are read within the same rate budget and requests in flight as every
//! other request (several records' lists at once). A list read adds up like any walk
//! ([`crate::walk`]). A record whose list endpoint answers 404 twice (deleted
//! between the search and the fetch) is emitted as the search returned it, with a
//! warning naming it; any other failure fails the stream, never a short list.

use std::collections::HashMap;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::children::again_after_404;
use super::group::GroupRun;
use crate::error::{Error, Result};
use crate::http::client::path_segment;
use crate::http::page::{Page, Want};
use crate::http::ApiRequest;
use crate::streams::Relation;
use crate::walk::{Pages, Paging};

/// Records of one page whose lists are read at once.
const AT_ONCE: usize = 8;

/// Whether a record's text holds `"has_more"` with the value `true` (cheap: most
/// records have none, or `false`).
fn may_have_more(raw: &str) -> bool {
    const KEY: &[u8] = b"\"has_more\"";
    let bytes = raw.as_bytes();
    memchr::memmem::find_iter(bytes, KEY).any(|i| {
        let after = bytes[i + KEY.len()..].trim_ascii_start();
        after
            .strip_prefix(b":")
            .is_some_and(|v| v.trim_ascii_start().starts_with(b"true"))
    })
}

/// The relations of `record` that have more than it embeds.
fn incomplete<'r>(record: &Value, relations: &'r [Relation]) -> Vec<&'r Relation> {
    relations
        .iter()
        .filter(|r| record[r.field]["has_more"] == Value::Bool(true))
        .collect()
}

/// The records of `page` that embed part of a list, parsed, by their index in the page
/// (empty, and nothing parsed, for a page without a `"has_more": true`).
pub fn needed(relations: &'static [Relation], page: &Page) -> Vec<(usize, Value)> {
    let mut todo = Vec::new();
    if relations.is_empty() {
        return todo;
    }
    for (i, (raw, _)) in page.records().enumerate() {
        if !may_have_more(raw) {
            continue;
        }
        // The page was checked whole: a record that doesn't parse here can't happen;
        // if it does, it is emitted as sent.
        let Ok(v) = serde_json::from_str::<Value>(raw) else {
            continue;
        };
        if !incomplete(&v, relations).is_empty() {
            todo.push((i, v));
        }
    }
    todo
}

/// The records [`needed`] found, each as text with every list complete, by index.
pub async fn complete(
    run: &GroupRun,
    relations: &'static [Relation],
    todo: Vec<(usize, Value)>,
) -> Result<HashMap<usize, String>> {
    if todo.is_empty() {
        return Ok(HashMap::new());
    }
    let results: Vec<Result<Option<(usize, String)>>> = stream::iter(todo)
        .map(|(i, v)| async move {
            let out = complete_record(run, relations, v).await?;
            Ok(out.map(|text| (i, text)))
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    let mut fixed = HashMap::new();
    for r in results {
        if let Some((i, text)) = r? {
            fixed.insert(i, text);
        }
    }
    Ok(fixed)
}

/// One record with its lists complete, or `None` when it is gone (404).
async fn complete_record(
    run: &GroupRun,
    relations: &'static [Relation],
    mut record: Value,
) -> Result<Option<String>> {
    let stream = run.request_stream();
    let id = match record.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(Error::Decode {
                endpoint: format!("the {stream} search"),
                message: "a record whose lists have more has no `id`".into(),
            })
        }
    };
    let segment = path_segment(&id).map_err(|message| Error::Decode {
        endpoint: format!("the {stream} search"),
        message,
    })?;
    // The record's lists at once.
    let wanted = incomplete(&record, relations);
    let lists = futures::future::join_all(
        wanted
            .iter()
            .map(|relation| whole_list(run, relation, &id, &segment, &record)),
    )
    .await;
    for (relation, ids) in wanted.into_iter().zip(lists) {
        let Some(ids) = ids? else {
            return Ok(None);
        };
        let entries: Vec<Value> = ids
            .iter()
            .map(|e| json!({"type": relation.kind, "id": e, "url": format!("{}/{e}", relation.url_prefix)}))
            .collect();
        let list = record
            .get_mut(relation.field)
            .and_then(Value::as_object_mut);
        let Some(list) = list else { continue };
        list.insert("total_count".into(), json!(entries.len()));
        list.insert("has_more".into(), Value::Bool(false));
        list.insert("data".into(), Value::Array(entries));
    }
    serde_json::to_string(&record)
        .map(Some)
        .map_err(|e| Error::Decode {
            endpoint: format!("the {stream} search"),
            message: format!("record {id} could not be written again: {e}"),
        })
}

/// The ids of one of `record`'s whole lists; `None` when the record is gone (404 twice).
async fn whole_list(
    run: &GroupRun,
    relation: &Relation,
    id: &str,
    segment: &str,
    record: &Value,
) -> Result<Option<Vec<String>>> {
    let stream = run.request_stream();
    let path = relation.path.replace("{id}", segment);
    let pause = run.ctx.settings.child_404_pause.min(Duration::from_secs(5));
    match again_after_404(pause, || read_list(run, relation, &path)).await {
        Ok(ids) => Ok(Some(ids)),
        Err(e) if e.is_not_found() => {
            tracing::warn!(
                "{stream}: record {} was deleted after the search returned it (GET {} answered 404, twice); emitting it with the first {} of its {} as the search sent them",
                crate::redact::server_text(id, 80),
                crate::redact::server_text(&path, 200),
                record[relation.field]["data"].as_array().map_or(0, Vec::len),
                relation.field,
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The ids of a whole list, walked page by page (checked like any walk).
async fn read_list(run: &GroupRun, relation: &Relation, path: &str) -> Result<Vec<String>> {
    let req = ApiRequest::get(path).for_stream(run.request_stream());
    let paging = match relation.per_page {
        Some(per_page) => Paging::PageNumber { per_page },
        None => Paging::None,
    };
    let want = Want {
        key: &["id"],
        cursor: None,
        class: None,
    };
    let mut pages = Pages::new(run.ctx.client.clone(), req, paging, &["data"], want);
    let mut ids = Vec::new();
    while let Some(page) = pages.next_raw().await? {
        for (_, k) in page.records() {
            if let Some(id) = &k.id {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_true_has_more_needs_a_look() {
        assert!(may_have_more(r#"{"tags":{"has_more":true}}"#));
        assert!(may_have_more(r#"{"tags":{"has_more" :  true}}"#));
        assert!(may_have_more(
            r#"{"a":{"has_more":false},"tags":{"has_more":true}}"#
        ));
        assert!(!may_have_more(r#"{"tags":{"has_more":false}}"#));
        assert!(!may_have_more(r#"{"name":"has_more"}"#));
        assert!(!may_have_more(r#"{"tags":{}}"#));
    }

    #[test]
    fn lists_with_more_are_found_by_field() {
        let v = json!({"tags": {"has_more": true}, "notes": {"has_more": false}});
        let found: Vec<&str> = incomplete(&v, crate::streams::CONTACT_RELATIONS)
            .iter()
            .map(|r| r.field)
            .collect();
        assert_eq!(found, ["tags"]);
        // A string "true" is not a list with more.
        let v = json!({"tags": {"has_more": "true"}});
        assert!(incomplete(&v, crate::streams::CONTACT_RELATIONS).is_empty());
    }
}
