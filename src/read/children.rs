//! Child streams ([`Read::Children`](crate::streams::Read::Children)): one request
//! per parent record a page listed, many in flight (each holds a slot of the client's
//! limit), answers handled in the parents' order. Each answer's rows become records,
//! with the parent's id and cursor added.
//!
//! A child is never skipped silently: a 404 between the list and the fetch is a
//! deletion (a warning) only while such 404s stay a small share of the page; beyond
//! that the stream fails with advice (see [`missing_allowed`]).

use futures::stream::{self, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::group::{GroupRun, Parent};
use super::page::Page;
use crate::error::{Error, Result};
use crate::http::client::path_segment;
use crate::http::ApiRequest;
use crate::streams::Child;

/// How many children of one page may answer 404 and still count as deleted between
/// the list and the fetch: a few, or a small share of the page. More means the
/// requests go somewhere wrong (region, proxy), not that objects were deleted.
pub fn missing_allowed(asked: usize) -> usize {
    (asked / 10).max(2)
}

/// One child answer: its rows and the top-level fields rows copy.
struct Answer {
    page: Page,
    fields: Vec<(&'static str, Value)>,
    /// Parts Intercom says the conversation has, when it says.
    reported_parts: Option<usize>,
}

#[derive(Deserialize, Default)]
struct AnswerKeys<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    created_at: Option<&'a RawValue>,
    #[serde(borrow, default)]
    updated_at: Option<&'a RawValue>,
    #[serde(default)]
    statistics: Option<Statistics>,
}

#[derive(Deserialize, Default)]
struct Statistics {
    #[serde(default)]
    count_conversation_parts: Option<i64>,
}

impl Answer {
    fn parse(body: bytes::Bytes, child: &Child) -> std::result::Result<Answer, String> {
        let page = Page::parse(body.clone(), child.rows)?;
        let mut fields = Vec::new();
        let mut reported_parts = None;
        if !child.from_answer.is_empty() || child.counts_parts {
            let k: AnswerKeys<'_> = serde_json::from_slice(&body).unwrap_or_default();
            for (row_field, answer_field) in child.from_answer {
                let raw = match *answer_field {
                    "id" => k.id,
                    "created_at" => k.created_at,
                    "updated_at" => k.updated_at,
                    _ => None,
                };
                let v = raw
                    .and_then(|r| serde_json::from_str::<Value>(r.get()).ok())
                    .unwrap_or(Value::Null);
                fields.push((*row_field, v));
            }
            // Intercom's count includes the opening message (the `source`), not a part.
            reported_parts = k
                .statistics
                .and_then(|s| s.count_conversation_parts)
                .map(|n| (n - 1).max(0) as usize);
        }
        Ok(Answer {
            page,
            fields,
            reported_parts,
        })
    }
}

/// Fetch and emit the children of a page's parents, for each child consumer.
pub async fn fetch(run: &GroupRun, wanted: Vec<(usize, Vec<Parent>)>) -> Result<()> {
    for (index, parents) in wanted {
        if !parents.is_empty() {
            fetch_for(run, index, parents).await?;
        }
    }
    Ok(())
}

async fn fetch_for(run: &GroupRun, index: usize, parents: Vec<Parent>) -> Result<()> {
    let (child, stream) = {
        let shared = run.lock();
        let sink = &shared.sinks[index];
        match sink.child() {
            Some(c) if sink.failed.is_none() => (c, sink.consumer.def.name),
            _ => return Ok(()),
        }
    };
    let mut requests = Vec::with_capacity(parents.len());
    for p in parents {
        match path_segment(&p.id) {
            Ok(seg) => {
                let path = format!("{}/{seg}{}", child.path.0, child.path.1);
                requests.push((p, ApiRequest::get(path).for_stream(stream)));
            }
            Err(message) => {
                let e = Error::Decode {
                    endpoint: run.group.root.list_endpoint(),
                    message,
                };
                return run.fail(index, e);
            }
        }
    }
    let asked = requests.len();
    let client = run.ctx.client.clone();
    let mut answers = stream::iter(requests.into_iter().map(|(parent, req)| {
        let client = client.clone();
        async move {
            let res = client.fetch(&req, |body| Answer::parse(body, child)).await;
            (parent, res)
        }
    }))
    .buffered(run.ctx.settings.concurrency.max(1));
    let mut missing = 0usize;
    while let Some((parent, res)) = answers.next().await {
        match res {
            Ok(answer) => emit_rows(run, index, child, &parent, &answer)?,
            Err(e) if e.is_not_found() => {
                tracing::warn!(
                    "{}: {} {} was deleted after the list returned it (404); skipping it",
                    stream,
                    singular(child.what),
                    crate::redact::server_text(&parent.id, 80)
                );
                missing += 1;
                run.lock().sinks[index].missing += 1;
                if missing > missing_allowed(asked) {
                    let e = Error::ChildrenMissing {
                        what: format!("{} the list had just returned", child.what),
                        missing,
                        asked,
                    };
                    return run.fail(index, e);
                }
            }
            Err(e) => return run.fail(index, e),
        }
    }
    Ok(())
}

fn emit_rows(
    run: &GroupRun,
    index: usize,
    child: &Child,
    parent: &Parent,
    answer: &Answer,
) -> Result<()> {
    let rows = answer.page.len();
    let mut extra: Vec<(&str, &Value)> = parent
        .fields
        .iter()
        .chain(answer.fields.iter())
        .map(|(k, v)| (*k, v))
        .collect();
    let total = answer.reported_parts.unwrap_or(rows).max(rows);
    let total_value = Value::from(total);
    let truncated = child.counts_parts && total > rows;
    if child.counts_parts {
        extra.push(("conversation_total_parts", &total_value));
        if truncated {
            tracing::warn!(
                "conversation {} has {total} parts but Intercom returned only the newest {rows}; the older {} are not available through the API",
                crate::redact::server_text(&parent.id, 80),
                total - rows
            );
        }
    }
    let mut shared = run.lock();
    let sink = &mut shared.sinks[index];
    if sink.failed.is_some() {
        return Ok(());
    }
    for r in answer.page.records() {
        sink.emitter.raw_with(r, &extra)?;
    }
    if truncated {
        sink.truncated += 1;
    }
    if let Some(v) = parent.cursor {
        sink.max_seen = Some(sink.max_seen.map_or(v, |m| m.max(v)));
    }
    Ok(())
}

fn singular(what: &str) -> &str {
    what.strip_suffix('s').unwrap_or(what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::{find, Read};

    fn parts_child() -> &'static Child {
        match &find("conversation_parts").unwrap().read {
            Read::Children(c) => c,
            _ => unreachable!(),
        }
    }

    #[test]
    fn answers_carry_their_rows_and_fields() {
        let body = bytes::Bytes::from_static(
            br#"{"id":"7","created_at":1,"updated_at":9,"statistics":{"count_conversation_parts":3},
                "conversation_parts":{"conversation_parts":[{"id":"a"},{"id":"b"}],"total_count":2}}"#,
        );
        let a = Answer::parse(body, parts_child()).unwrap();
        assert_eq!(a.page.len(), 2);
        assert_eq!(
            a.reported_parts,
            Some(2),
            "the count includes the opening message"
        );
        assert_eq!(
            a.fields,
            vec![
                ("conversation_id", Value::from("7")),
                ("conversation_created_at", Value::from(1)),
                ("conversation_updated_at", Value::from(9)),
            ]
        );
        let bad = bytes::Bytes::from_static(br#"{"conversation_parts":{"conversation_parts":5}}"#);
        assert!(Answer::parse(bad, parts_child()).is_err());
    }

    #[test]
    fn a_few_missing_children_are_deletions() {
        assert_eq!(missing_allowed(1), 2);
        assert_eq!(missing_allowed(60), 6);
        assert_eq!(missing_allowed(150), 15);
    }
}
