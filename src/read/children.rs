//! Child streams ([`Derived::Children`](crate::streams::Derived::Children)): one request
//! per parent record a page listed, many in flight (each holds a slot of the client's
//! limit), answers handled in the parents' order. Each answer's rows become records,
//! with the parent's id and cursor added.
//!
//! A child is never skipped silently: a 404 is asked again once after a short pause
//! (Intercom answers 404 now and then for objects that exist); a second 404 between the
//! list and the fetch is a deletion (a warning) only while such 404s stay a small
//! share of the page; beyond that the stream fails with advice (see
//! [`missing_allowed`]).
//!
//! An answer's fields are read one by one ([`raw_fields`]): a field a row copies that
//! can't be read is null, never a reason to blank the others; the fields rows can't do
//! without (the parent's `id`, the cursor) fail the answer, a bad body retried.

use futures::stream::{self, StreamExt};
use serde_json::Value;

use super::group::{GroupRun, Parent};
use crate::error::{Error, Result};
use crate::http::client::path_segment;
use crate::http::page::{raw_fields, timestamp_field, whole_number, Page, Want};
use crate::http::ApiRequest;
use crate::streams::Child;

/// `get`, asked once more after `pause` if it answers 404: Intercom answers 404 now and
/// then for an object that exists. A second 404 is returned.
pub(crate) async fn again_after_404<T, F>(
    pause: std::time::Duration,
    get: impl Fn() -> F,
) -> Result<T>
where
    F: std::future::Future<Output = Result<T>>,
{
    match get().await {
        Err(e) if e.is_not_found() => {
            tokio::time::sleep(pause).await;
            get().await
        }
        other => other,
    }
}

/// How many children of one page may answer 404 and still count as deleted between
/// the list and the fetch: a few, or a small share of the page. More means the
/// requests go somewhere wrong (region, proxy), not that objects were deleted.
pub fn missing_allowed(asked: usize) -> usize {
    (asked / 10).max(2)
}

/// One child answer: its rows and the top-level fields rows copy.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) page: Page,
    pub(crate) fields: Vec<(&'static str, Value)>,
    /// Parts Intercom says the conversation has, when it says.
    pub(crate) reported_parts: Option<usize>,
}

impl Answer {
    /// Parse a child answer: its rows (each with `rows_want` read), and the fields rows
    /// copy from it. `cursor` is the stream's cursor field: the row field copied from
    /// the answer under that name must be a timestamp.
    pub(crate) fn parse(
        body: bytes::Bytes,
        child: &Child,
        rows_want: &Want,
        cursor: Option<&str>,
    ) -> std::result::Result<Answer, String> {
        let page = Page::parse(body, child.rows, rows_want)?;
        let mut fields = Vec::with_capacity(child.from_answer.len());
        let mut reported_parts = None;
        if !child.from_answer.is_empty() || child.counts_parts {
            let mut names: Vec<&str> = child.from_answer.iter().map(|(_, a)| *a).collect();
            names.push("statistics");
            let raw = raw_fields(page.text(), &names).map_err(|e| format!("the answer {e}"))?;
            for (i, (row_field, answer_field)) in child.from_answer.iter().enumerate() {
                let v = raw
                    .get(i)
                    .copied()
                    .flatten()
                    .and_then(|r| serde_json::from_str::<Value>(r.get()).ok())
                    .unwrap_or(Value::Null);
                if *answer_field == "id" && v.is_null() {
                    return Err("the answer has no `id`".into());
                }
                if Some(*row_field) == cursor {
                    timestamp_field(answer_field, &v).map_err(|e| format!("the answer {e}"))?;
                }
                fields.push((*row_field, v));
            }
            if child.counts_parts {
                // Read alone: statistics that are odd in any other way change nothing.
                let stats = raw
                    .last()
                    .copied()
                    .flatten()
                    .map(|r| r.get())
                    .unwrap_or("{}");
                let count = raw_fields(stats, &["count_conversation_parts"])
                    .ok()
                    .and_then(|f| whole_number(f.first().copied().flatten()));
                // Intercom's count includes the opening message (the `source`), not a part.
                reported_parts = count.map(|n| (n - 1).max(0) as usize);
            }
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
    let (child, stream, cursor) = {
        let shared = run.lock();
        let sink = &shared.sinks[index];
        match sink.child() {
            Some(c) if sink.failed.is_none() => {
                (c, sink.consumer.def.name, sink.consumer.def.cursor)
            }
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
                    endpoint: run.group.source.list_endpoint(),
                    message,
                };
                return run.fail(index, e);
            }
        }
    }
    let asked = requests.len();
    let client = run.ctx.client.clone();
    let rows_want = Want {
        key: child.row_key,
        cursor: None,
        class: None,
    };
    let pause = run.ctx.settings.child_404_pause;
    let mut answers = stream::iter(requests.into_iter().map(|(parent, req)| {
        let client = client.clone();
        async move {
            let get = || client.fetch(&req, |body| Answer::parse(body, child, &rows_want, cursor));
            (parent, again_after_404(pause, get).await)
        }
    }))
    .buffered(run.ctx.settings.max_in_flight.max(1));
    let mut missing = 0usize;
    while let Some((parent, res)) = answers.next().await {
        match res {
            Ok(answer) => emit_rows(run, index, child, &parent, &answer)?,
            Err(e) if e.is_not_found() => {
                tracing::warn!(
                    "{}: {} {} was deleted after the list returned it (404, twice); skipping it",
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
    for (r, _) in answer.page.records() {
        sink.emitter.raw_with(r, &extra)?;
    }
    if truncated {
        sink.truncated += 1;
    }
    sink.observe(parent.cursor);
    Ok(())
}

fn singular(what: &str) -> &str {
    what.strip_suffix('s').unwrap_or(what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::find;
    use serde_json::json;

    fn parts_child() -> &'static Child {
        find("conversation_parts").unwrap().child().unwrap()
    }

    fn parse(body: &'static [u8]) -> std::result::Result<Answer, String> {
        let want = Want {
            key: parts_child().row_key,
            ..Want::default()
        };
        Answer::parse(
            bytes::Bytes::from_static(body),
            parts_child(),
            &want,
            Some("conversation_updated_at"),
        )
    }

    #[test]
    fn answers_carry_their_rows_and_fields() {
        let a = parse(
            br#"{"id":"7","created_at":1,"updated_at":9,"statistics":{"count_conversation_parts":3},
                "conversation_parts":{"conversation_parts":[{"id":"a"},{"id":"b"}],"total_count":2}}"#,
        )
        .unwrap();
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
        assert!(parse(br#"{"conversation_parts":{"conversation_parts":5}}"#).is_err());
    }

    #[test]
    fn an_odd_field_blanks_nothing_else() {
        // A count that isn't a whole number: unknown, and every other field is read.
        let a = parse(
            br#"{"id":"7","created_at":{"odd":1},"updated_at":9,"statistics":{"count_conversation_parts":"many"},
                "conversation_parts":{"conversation_parts":[{"id":"a"}]}}"#,
        )
        .unwrap();
        assert_eq!(a.reported_parts, None);
        assert_eq!(a.fields[0], ("conversation_id", Value::from("7")));
        assert_eq!(a.fields[1], ("conversation_created_at", json!({"odd": 1})));
        assert_eq!(a.fields[2], ("conversation_updated_at", Value::from(9)));
        let a = parse(
            br#"{"id":"7","updated_at":9,"statistics":[1,2],"conversation_parts":{"conversation_parts":[]}}"#,
        )
        .unwrap();
        assert_eq!(a.reported_parts, None);
        assert_eq!(a.fields[2], ("conversation_updated_at", Value::from(9)));
        // What rows can't do without fails the answer.
        let cases: [(&'static [u8], &str); 3] = [
            (br#"{"updated_at":9,"conversation_parts":{"conversation_parts":[]}}"#, "no `id`"),
            (br#"{"id":"7","updated_at":"later","conversation_parts":{"conversation_parts":[]}}"#, "`updated_at` = \"later\""),
            (br#"{"id":"7","updated_at":9,"conversation_parts":{"conversation_parts":[{"body":"x"}]}}"#, "has no `id`"),
        ];
        for (body, want) in cases {
            let e = parse(body).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn a_few_missing_children_are_deletions() {
        assert_eq!(missing_allowed(1), 2);
        assert_eq!(missing_allowed(60), 6);
        assert_eq!(missing_allowed(150), 15);
    }
}
