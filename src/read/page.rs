//! One answer of a list endpoint, kept as the bytes Intercom sent. Only what the
//! connector needs is parsed: where each record starts and ends, a few keys of a
//! record (its id, cursor, role) when asked, and the paging fields. Records are passed
//! to stdout as they arrived, byte for byte, so a page costs one scan, not a tree of
//! values.

use std::borrow::Cow;
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
        let base = body.as_ptr() as usize;
        // One pass over the body: the record list is split into raw records as it is
        // read; every other large value is skipped unparsed.
        let top: Top<'_> = {
            let mut de = serde_json::Deserializer::from_slice(&body);
            let top = serde::Deserializer::deserialize_map(&mut de, TopVisitor { path })
                .and_then(|t| de.end().map(|()| t));
            top.map_err(|e| match e.to_string().split_once(LIST_MARK) {
                Some((_, kind)) => format!(
                    "`{}` should be a list, got {}",
                    path.join("."),
                    kind.split(" at line").next().unwrap_or(kind)
                ),
                None => not_json(&String::from_utf8_lossy(&body), &e),
            })?
        };
        let items = match top.records {
            Some(items) => items,
            None if top.found => Vec::new(),
            None if path.is_empty() => Vec::new(),
            None => return Err(format!("the answer has no `{}` list", path.join("."))),
        };
        let mut records = Vec::with_capacity(items.len());
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
        let small = |raw: Option<&RawValue>| -> Option<Value> {
            raw.and_then(|r| serde_json::from_str::<Value>(r.get()).ok())
        };
        let pages = small(top.pages).filter(|v| !v.is_null());
        let total_count = small(top.total_count).and_then(|v| v.as_u64());
        let scroll_param = small(top.scroll_param).and_then(|v| match v {
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

/// The top level of an answer, as far as a page needs it.
struct Top<'a> {
    /// The records at the path (`None` if absent or `null`).
    records: Option<Vec<&'a RawValue>>,
    /// Whether the path was there (a `null` list is an empty list).
    found: bool,
    pages: Option<&'a RawValue>,
    total_count: Option<&'a RawValue>,
    scroll_param: Option<&'a RawValue>,
}

/// Marks the "not a list" error raised inside the one-pass parse.
const LIST_MARK: &str = "records-not-a-list: ";

struct TopVisitor<'p> {
    path: &'p [&'p str],
}

impl<'de> serde::de::Visitor<'de> for TopVisitor<'_> {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let mut top = Top {
            records: None,
            found: false,
            pages: None,
            total_count: None,
            scroll_param: None,
        };
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match (self.path.split_first(), key.as_ref()) {
                (Some((first, rest)), k) if k == *first => {
                    top.found = true;
                    top.records = map.next_value_seed(ListAt { path: rest })?.0;
                }
                (_, "pages") => top.pages = Some(map.next_value()?),
                (_, "total_count") => top.total_count = Some(map.next_value()?),
                (_, "scroll_param") => top.scroll_param = Some(map.next_value()?),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(top)
    }
}

/// The list at the rest of a path, inside the value being read.
struct ListAt<'p> {
    path: &'p [&'p str],
}

/// `None`: `null`, or the path was missing below this level.
struct Found<'a>(Option<Vec<&'a RawValue>>);

impl<'de> serde::de::DeserializeSeed<'de> for ListAt<'_> {
    type Value = Found<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Found<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ListAt<'_> {
    type Value = Found<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Found<'de>, A::Error> {
        if !self.path.is_empty() {
            return Err(serde::de::Error::custom(format!("{LIST_MARK}a list")));
        }
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(64));
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            items.push(item);
        }
        Ok(Found(Some(items)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Found<'de>, A::Error> {
        let Some((first, rest)) = self.path.split_first() else {
            return Err(serde::de::Error::custom(format!("{LIST_MARK}an object")));
        };
        let mut found = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key.as_ref() == *first {
                found = Some(map.next_value_seed(ListAt { path: rest })?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        match found {
            Some(f) => Ok(f),
            None => Err(serde::de::Error::custom(format!("{LIST_MARK}an object"))),
        }
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Found<'de>, E> {
        // Intercom sends null for an empty list on a few endpoints.
        Ok(Found(None))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Found<'de>, E> {
        Ok(Found(None))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Found<'de>, E> {
        Err(E::custom(format!("{LIST_MARK}a boolean")))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Found<'de>, E> {
        Err(E::custom(format!("{LIST_MARK}a number")))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Found<'de>, E> {
        Err(E::custom(format!("{LIST_MARK}a number")))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Found<'de>, E> {
        Err(E::custom(format!("{LIST_MARK}a number")))
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Found<'de>, E> {
        Err(E::custom(format!("{LIST_MARK}a string")))
    }
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
