//! Column selection: the top-level fields of a stream's records the catalog asks for.
//!
//! Airbyte passes the user's selected columns in the configured catalog: the stream's
//! `json_schema.properties` then lists only the selected top-level fields. The choice
//! is made once per stream, at plan time ([`Selection::plan`]):
//! - no `json_schema`, no `properties`, an empty one, or one naming every field of our
//!   schema: [`Selection::All`], and records are written as the bytes Intercom sent,
//!   exactly as without a selection;
//! - a strict subset: [`Selection::Only`] those fields, always with the stream's primary
//!   key, its cursor, and for a child stream the fields its declaration identifies
//!   rows by ([`StreamDef::always_selected`]);
//! - a name our schema doesn't have is ignored, with one WARN per stream naming them.
//!
//! The trimmed path ([`write_fields`]) is one streaming pass over the record's top
//! level: each kept field is copied as the raw text of its key and value, in the order
//! Intercom sent them, and the others are skipped by their brackets and strings,
//! unparsed; no tree of values is built. Only the writing is trimmed: keys, cursors,
//! states and counts are read from the whole record before ([`crate::http::page`]).

use std::borrow::Cow;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::streams::StreamDef;

/// Which top-level fields of a stream's records are written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Selection {
    /// Every field, the record's bytes as Intercom sent them.
    #[default]
    All,
    /// Only these fields (sorted, each once), in the order the record has them.
    Only(Vec<String>),
}

impl Selection {
    /// The selection a configured stream's `json_schema` asks for (see the module docs).
    pub fn plan(def: &StreamDef, configured: Option<&Value>) -> Result<Selection> {
        let Some(selected) = configured
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .filter(|p| !p.is_empty())
        else {
            return Ok(Selection::All);
        };
        let schema = def.json_schema().map_err(Error::Internal)?;
        let Some(ours) = schema.get("properties").and_then(Value::as_object) else {
            return Err(Error::Internal(format!(
                "the schema of stream `{}` has no properties",
                def.name
            )));
        };
        let unknown: Vec<String> = selected
            .keys()
            .filter(|k| !ours.contains_key(*k))
            .map(|k| format!("`{}`", crate::redact::server_text(k, 60)))
            .collect();
        let mut keep: Vec<String> = selected
            .keys()
            .filter(|k| ours.contains_key(*k))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            let shown = unknown.iter().take(20).cloned().collect::<Vec<_>>();
            let more = unknown.len().saturating_sub(shown.len());
            tracing::warn!(
                "stream {}: the catalog selects {} field(s) this stream does not have, which are ignored: {}{}{}",
                def.name,
                unknown.len(),
                shown.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() },
                if keep.is_empty() { "; no field of the stream is selected, so every field is written" } else { "" }
            );
        }
        if keep.is_empty() {
            return Ok(Selection::All);
        }
        keep.extend(def.always_selected().into_iter().map(str::to_string));
        keep.sort_unstable();
        keep.dedup();
        if ours.keys().all(|k| keep.binary_search(k).is_ok()) {
            return Ok(Selection::All);
        }
        tracing::info!(
            "stream {}: writing {} of its {} top-level fields, as the catalog selects (with its key and cursor): {}",
            def.name,
            keep.len(),
            ours.len(),
            keep.join(", ")
        );
        Ok(Selection::Only(keep))
    }

    /// The names to look each record's keys up in; `None` for every field.
    pub fn names(&self) -> Option<Names> {
        match self {
            Selection::All => None,
            Selection::Only(keep) => Some(Names::new(keep)),
        }
    }
}

/// The fields a selection keeps, grouped by length: a record's key is compared with
/// the few names as long as it (a binary search over strings costs a comparison call
/// per step, for every field of every record: a third of the trimmed path's time).
#[derive(Debug, Clone, Default)]
pub struct Names {
    by_len: Vec<Vec<Box<str>>>,
}

impl Names {
    pub fn new<S: AsRef<str>>(names: &[S]) -> Names {
        let mut by_len: Vec<Vec<Box<str>>> = Vec::new();
        for n in names {
            let n = n.as_ref();
            if by_len.len() <= n.len() {
                by_len.resize(n.len() + 1, Vec::new());
            }
            if let Some(bucket) = by_len.get_mut(n.len()) {
                if !bucket.iter().any(|b| &**b == n) {
                    bucket.push(n.into());
                }
            }
        }
        Names { by_len }
    }

    /// Whether `field` is one of them.
    pub fn contains(&self, field: &str) -> bool {
        let f = field.as_bytes();
        self.by_len.get(f.len()).is_some_and(|bucket| {
            bucket.iter().any(|n| {
                let n = n.as_bytes();
                // The last byte first: a cheap miss for most names of the same length.
                n.last() == f.last() && n == f
            })
        })
    }
}

/// Append to `out` the fields of `record` (a JSON object's text, as a page has checked
/// it) that `keep` names, each as `"key":<its value's raw text>` (the key's bytes as
/// sent too), comma-separated, in the record's order, without the braces. Returns how
/// many were written, or where the text is not an object. A key repeated in the record
/// is written as often as it comes (readers take the last, as with the whole record).
///
/// One pass over the bytes: a value is skipped by its brackets and strings, never
/// parsed (the page has checked it); only a key with an escape in it is decoded to be
/// compared.
pub fn write_fields(
    out: &mut Vec<u8>,
    record: &str,
    keep: &Names,
) -> std::result::Result<usize, String> {
    let b = record.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let unexpected = |i: usize, what: &str| match at(i) {
        Some(c) => format!(
            "expected {what} at offset {i}, found `{}`",
            char::from(c).escape_default()
        ),
        None => format!("expected {what} at offset {i}, found the end"),
    };
    let mut i = skip_space(b, 0);
    if at(i) != Some(b'{') {
        return Err(unexpected(i, "`{`"));
    }
    i = skip_space(b, i + 1);
    let mut written = 0usize;
    if at(i) == Some(b'}') {
        i += 1;
    } else {
        loop {
            if at(i) != Some(b'"') {
                return Err(unexpected(i, "a key"));
            }
            let (key_end, escaped) = string_end(b, i).ok_or_else(|| unexpected(i, "a key"))?;
            let key = record.get(i..key_end).unwrap_or_default();
            let colon = skip_space(b, key_end);
            if at(colon) != Some(b':') {
                return Err(unexpected(colon, "`:`"));
            }
            let start = skip_space(b, colon + 1);
            let end = value_end(b, start).ok_or_else(|| unexpected(start, "a value"))?;
            let name: Cow<'_, str> = if escaped {
                Cow::Owned(serde_json::from_str::<String>(key).map_err(|e| format!("a key {e}"))?)
            } else {
                Cow::Borrowed(key.get(1..key.len().saturating_sub(1)).unwrap_or_default())
            };
            if keep.contains(&name) {
                if written > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(key.as_bytes());
                out.push(b':');
                out.extend_from_slice(b.get(start..end).unwrap_or_default());
                written += 1;
            }
            i = skip_space(b, end);
            match at(i) {
                Some(b',') => i = skip_space(b, i + 1),
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return Err(unexpected(i, "`,` or `}`")),
            }
        }
    }
    let rest = skip_space(b, i);
    if rest < b.len() {
        return Err(unexpected(rest, "the end"));
    }
    Ok(written)
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        i += 1;
    }
    i
}

/// The end (past the closing quote) of the string whose opening quote is at `i`, and
/// whether it holds an escape.
fn string_end(b: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    i += 1;
    // Most strings of a record are short: a byte loop beats a vector search (measured).
    loop {
        match b.get(i)? {
            b'"' => return Some((i + 1, escaped)),
            b'\\' => {
                escaped = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
}

/// The end of the value that starts at `i`: a string, an object or a list (by its
/// brackets, strings skipped), or a scalar (up to the next delimiter).
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i).map(|(end, _)| end),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = string_end(b, j)?.0;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        b',' | b'}' | b']' | b':' => None,
        _ => {
            let mut j = i;
            while b
                .get(j)
                .is_some_and(|c| !matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
            {
                j += 1;
            }
            Some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::find;
    use serde_json::json;

    fn only(names: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    fn trimmed(record: &str, keep: &[&str]) -> String {
        let mut out = vec![b'{'];
        write_fields(&mut out, record, &Names::new(keep)).unwrap();
        out.push(b'}');
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn kept_fields_keep_their_bytes_and_order() {
        let record = r#"{ "z" : 1.50 , "id":"7","skip":{"deep":[1,{"id":2}]},"a\u0062":"x\"y", "big":12345678901234567890,"n":null}"#;
        assert_eq!(
            trimmed(record, &["id", "z", "big", "ab", "n"]),
            r#"{"z":1.50,"id":"7","a\u0062":"x\"y","big":12345678901234567890,"n":null}"#
        );
        assert_eq!(trimmed(record, &["nothing"]), "{}");
        assert_eq!(trimmed("{}", &["id"]), "{}");
        // Value-equal to dropping the others from the whole record.
        let whole: Value = serde_json::from_str(record).unwrap();
        let got: Value = serde_json::from_str(&trimmed(record, &["id", "skip"])).unwrap();
        assert_eq!(got, json!({"id": "7", "skip": whole["skip"]}));
        // A repeated key comes as often as it came: readers take the last, as before.
        let got = trimmed(r#"{"id":1,"a":2,"id":3}"#, &["id"]);
        assert_eq!(got, r#"{"id":1,"id":3}"#);
        assert_eq!(
            serde_json::from_str::<Value>(&got).unwrap(),
            json!({"id": 3})
        );
        // Strings and brackets that could be mistaken for the ends of values.
        let tricky = r#"{"a\"b":"}{,\\","s":"[\\\"]" ,"l":[ "]", {"}":"{"} , [] ],"t":true,"x":-1.5e+3 ,"o":{ } }"#;
        for keep in [
            &["a\"b", "l", "o"][..],
            &["s", "t"][..],
            &["x"][..],
            &["a\"b", "s", "l", "t", "x", "o"][..],
        ] {
            let got: Value = serde_json::from_str(&trimmed(tricky, keep)).unwrap();
            let mut want: Value = serde_json::from_str(tricky).unwrap();
            want.as_object_mut()
                .unwrap()
                .retain(|k, _| keep.contains(&k.as_str()));
            assert_eq!(got, want, "{keep:?}");
        }
        assert_eq!(
            trimmed(tricky, &["l", "t", "x"]),
            r#"{"l":[ "]", {"}":"{"} , [] ],"t":true,"x":-1.5e+3}"#
        );
        assert_eq!(trimmed(" { }\n", &["id"]), "{}");
        let mut out = Vec::new();
        for bad in [
            "[1]",
            r#"{"id":1} x"#,
            "{",
            r#"{"a"}"#,
            r#"{"a":}"#,
            r#"{"a":1,}"#,
            r#"{"a":"open"#,
            r#"{"a":[1,2"#,
            "",
        ] {
            let e = write_fields(&mut out, bad, &Names::new(&["a", "id"]));
            assert!(e.is_err(), "{bad}: {e:?}");
        }
    }

    fn plan(stream: &str, schema: Value) -> Selection {
        Selection::plan(find(stream).unwrap(), Some(&schema)).unwrap()
    }

    #[test]
    fn the_catalog_s_properties_decide() {
        let props = |names: &[&str]| json!({"type": "object", "properties": names.iter().map(|n| (n.to_string(), json!({}))).collect::<serde_json::Map<_, _>>()});
        // Nothing said, or everything: every field, byte for byte.
        assert_eq!(
            Selection::plan(find("contacts").unwrap(), None).unwrap(),
            Selection::All
        );
        assert_eq!(plan("contacts", json!({})), Selection::All);
        assert_eq!(
            plan("contacts", json!({"properties": null})),
            Selection::All
        );
        assert_eq!(plan("contacts", props(&[])), Selection::All);
        let full = find("contacts").unwrap().json_schema().unwrap();
        assert_eq!(plan("contacts", full.clone()), Selection::All);
        let mut full_and_more = full.clone();
        full_and_more["properties"]["not_a_field"] = json!({});
        assert_eq!(plan("contacts", full_and_more), Selection::All);
        // Every field but the key is every field (the key is always written).
        let mut all_but_id = full;
        all_but_id["properties"]
            .as_object_mut()
            .unwrap()
            .remove("id");
        assert_eq!(plan("contacts", all_but_id), Selection::All);
        // A subset: with the key and the cursor, sorted; unknown names ignored.
        assert_eq!(
            plan("contacts", props(&["name", "email", "not_a_field"])),
            Selection::Only(only(&["email", "id", "name", "updated_at"]))
        );
        assert_eq!(plan("contacts", props(&["not_a_field"])), Selection::All);
        // Child streams keep what identifies their rows.
        assert_eq!(
            plan("conversation_parts", props(&["body"])),
            Selection::Only(only(&[
                "body",
                "conversation_id",
                "conversation_updated_at",
                "id"
            ]))
        );
        assert_eq!(
            plan("company_segments", props(&["name"])),
            Selection::Only(only(&["company_id", "company_updated_at", "id", "name"]))
        );
        assert_eq!(
            plan("admin_conversation_counts", props(&["open"])),
            Selection::Only(only(&["id", "open"]))
        );
        // The count and the key are all a count table has.
        assert_eq!(
            plan("user_segment_tag_counts", props(&["count"])),
            Selection::All
        );
        let s = plan("contacts", props(&["email"]));
        let Selection::Only(keep) = &s else {
            panic!("{s:?}")
        };
        let keeps = |f: &str| keep.iter().any(|k| k == f);
        assert!(keeps("email") && keeps("id") && !keeps("name"));
        assert!(Selection::All.names().is_none());
        let names = s.names().unwrap();
        assert!(names.contains("email") && names.contains("id") && names.contains("updated_at"));
        assert!(!names.contains("name") && !names.contains("") && !names.contains("emailx"));
    }
}
