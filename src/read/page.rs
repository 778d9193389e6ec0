//! One answer of a list endpoint, kept as the bytes Intercom sent. Only what the
//! connector needs is parsed: where each record starts and ends, a few keys of a
//! record (its id, cursor, role) when asked, and the paging fields. Records are passed
//! to stdout as they arrived, byte for byte, so a page costs one scan, not a tree of
//! values.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::cursor::parse_timestamp;

/// An answer with a list of records.
#[derive(Debug, Clone)]
pub struct Page {
    body: Bytes,
    records: Vec<Range<usize>>,
    /// `pages` (paging links and counts), parsed.
    pub pages: Option<Value>,
    /// `total_count`, if the answer has one.
    pub total_count: Option<u64>,
    /// `scroll_param` (the companies scroll).
    pub scroll_param: Option<String>,
}

/// The keys of a record the connector looks at; everything else is skipped unparsed.
#[derive(Debug, Default, Deserialize)]
pub struct Keys<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    updated_at: Option<&'a RawValue>,
    #[serde(borrow, default)]
    created_at: Option<&'a RawValue>,
    #[serde(borrow, default)]
    deleted_at: Option<&'a RawValue>,
    #[serde(borrow, default)]
    role: Option<&'a RawValue>,
}

impl Keys<'_> {
    /// The record's id as a string (Intercom sends most ids as strings, some as numbers).
    pub fn id(&self) -> Option<String> {
        match serde_json::from_str::<Value>(self.id?.get()).ok()? {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The record's value of a cursor field, as epoch seconds.
    pub fn cursor(&self, field: &str) -> Option<i64> {
        let raw = match field {
            "updated_at" => self.updated_at?,
            "created_at" => self.created_at?,
            "deleted_at" => self.deleted_at?,
            _ => return None,
        };
        parse_timestamp(&serde_json::from_str::<Value>(raw.get()).ok()?)
    }

    /// Whether the record's `field` is the string `value` (only `role` is read).
    pub fn field_is(&self, field: &str, value: &str) -> bool {
        let raw = match field {
            "role" => self.role,
            _ => None,
        };
        raw.and_then(|r| serde_json::from_str::<Cow<'_, str>>(r.get()).ok())
            .is_some_and(|v| v == value)
    }
}

impl Page {
    /// Parse an answer that must hold a list of objects at `path` (`null` counts as an
    /// empty list). Anything else is an error saying what is wrong, for the retry
    /// decision: a cut-off or HTML body, no list, a record that isn't an object.
    pub fn parse(body: Bytes, path: &[&str]) -> Result<Page, String> {
        let text = std::str::from_utf8(&body)
            .map_err(|e| format!("the answer is not UTF-8 text ({e})"))?;
        let base = text.as_ptr() as usize;
        let top: BTreeMap<Cow<'_, str>, &RawValue> =
            serde_json::from_str(text).map_err(|e| not_json(text, &e))?;
        let mut records = Vec::new();
        let list = lookup(&top, path)?;
        if let Some(list) = list {
            let items: Vec<&RawValue> = serde_json::from_str(list.get()).map_err(|_| {
                format!(
                    "`{}` should be a list, got {}",
                    path.join("."),
                    kind_of(list.get())
                )
            })?;
            records.reserve(items.len());
            for item in items {
                let s = item.get();
                if !s.starts_with('{') {
                    return Err(format!(
                        "a record in `{}` is {}, not an object",
                        path.join("."),
                        kind_of(s)
                    ));
                }
                let start = s.as_ptr() as usize - base;
                records.push(start..start + s.len());
            }
        }
        let small = |key: &str| -> Option<Value> {
            top.get(key)
                .and_then(|r| serde_json::from_str::<Value>(r.get()).ok())
        };
        let pages = small("pages").filter(|v| !v.is_null());
        let total_count = small("total_count").and_then(|v| v.as_u64());
        let scroll_param = small("scroll_param").and_then(|v| match v {
            Value::String(s) => Some(s),
            _ => None,
        });
        Ok(Page {
            records,
            pages,
            total_count,
            scroll_param,
            body,
        })
    }

    /// The raw JSON text of each record, in order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = &str> + Clone + '_ {
        let text = self.text();
        self.records.iter().map(move |r| &text[r.clone()])
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the page holds no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The raw JSON text of record `i`.
    pub fn record(&self, i: usize) -> Option<&str> {
        let r = self.records.get(i)?;
        Some(&self.text()[r.clone()])
    }

    fn text(&self) -> &str {
        // Checked in `parse`; an impossible failure gives no records rather than a panic.
        std::str::from_utf8(&self.body).unwrap_or_default()
    }

    /// The answer as a JSON value (for the few answers handled as values).
    pub fn value(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| e.to_string())
    }
}

/// The keys of one record's raw text (unknown keys skipped, a bad record gives none).
pub fn keys(raw: &str) -> Keys<'_> {
    serde_json::from_str(raw).unwrap_or_default()
}

fn lookup<'a>(
    top: &BTreeMap<Cow<'a, str>, &'a RawValue>,
    path: &[&str],
) -> Result<Option<&'a RawValue>, String> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(None);
    };
    let missing = || format!("the answer has no `{}` list", path.join("."));
    let mut v: &RawValue = top.get(*first).copied().ok_or_else(missing)?;
    for key in rest {
        let inner: BTreeMap<Cow<'_, str>, &RawValue> =
            serde_json::from_str(v.get()).map_err(|_| missing())?;
        v = inner.get(*key).copied().ok_or_else(missing)?;
    }
    if v.get() == "null" {
        // Intercom sends null for an empty list on a few endpoints.
        return Ok(None);
    }
    Ok(Some(v))
}

fn kind_of(raw: &str) -> &'static str {
    match raw.as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "a list",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// Why a body is not a JSON object, in words for the retry log and the final error.
pub fn not_json(text: &str, e: &serde_json::Error) -> String {
    let start: String = text.chars().take(200).collect();
    if text.trim().is_empty() {
        "the answer had no body".to_string()
    } else if start.trim_start().starts_with('<') {
        format!(
            "the answer is an HTML page, not JSON (a proxy or load balancer error page?): {}",
            crate::redact::server_text(&start, 120)
        )
    } else if e.is_eof() {
        format!("the answer is cut off after {} bytes ({e})", text.len())
    } else if !text.trim_start().starts_with('{') {
        format!(
            "the answer is {}, not a JSON object",
            kind_of(text.trim_start())
        )
    } else {
        format!("the body is not valid JSON ({e})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(s: &str, path: &[&str]) -> Result<Page, String> {
        Page::parse(Bytes::from(s.to_string()), path)
    }

    #[test]
    fn records_are_the_bytes_that_arrived() {
        let p = page(
            r#"{"type":"list","data":[{"id":"1","n":1.50},{ "id" : 2 }],"total_count":7,"pages":{"next":null}}"#,
            &["data"],
        )
        .unwrap();
        let recs: Vec<&str> = p.records().collect();
        assert_eq!(recs, vec![r#"{"id":"1","n":1.50}"#, r#"{ "id" : 2 }"#]);
        assert_eq!(p.total_count, Some(7));
        assert_eq!(keys(recs[0]).id().as_deref(), Some("1"));
        assert_eq!(keys(recs[1]).id().as_deref(), Some("2"));
        let nested = page(
            r#"{"conversation_parts":{"conversation_parts":[{"id":"p"}],"total_count":1}}"#,
            &["conversation_parts", "conversation_parts"],
        )
        .unwrap();
        assert_eq!(nested.len(), 1);
        assert!(page(r#"{"data":null}"#, &["data"]).unwrap().is_empty());
    }

    #[test]
    fn keys_read_only_what_is_needed() {
        let k = keys(
            r#"{"id":"c1","role":"lead","updated_at":1700000000,"created_at":"2023-11-14T22:13:20Z","x":{"deep":[1,2,3]}}"#,
        );
        assert_eq!(k.cursor("updated_at"), Some(1_700_000_000));
        assert_eq!(k.cursor("created_at"), Some(1_700_000_000));
        assert_eq!(k.cursor("deleted_at"), None);
        assert!(k.field_is("role", "lead"));
        assert!(!k.field_is("role", "user"));
        assert_eq!(keys("not json").id(), None);
    }

    #[test]
    fn bad_answers_say_what_is_wrong() {
        let cases = [
            ("", "no body"),
            (r#"{"data":[{"id":1},"#, "cut off"),
            ("<html><body>502 Bad Gateway</body></html>", "HTML page"),
            (r#"{"type":"list"}"#, "no `data` list"),
            (r#"{"data":{}}"#, "should be a list, got an object"),
            (r#"{"data":[1]}"#, "is a number, not an object"),
            ("[1,2]", "a list, not a JSON object"),
        ];
        for (body, want) in cases {
            let e = page(body, &["data"]).unwrap_err();
            assert!(e.contains(want), "{body:?}: {e}");
        }
    }
}
