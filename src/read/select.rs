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
//! level: each kept field is copied as the raw text of its value, in the order Intercom
//! sent them, and the others are skipped unparsed; no tree of values is built. Only the
//! writing is trimmed: keys, cursors, states and counts are read from the whole record
//! before ([`super::page`]).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
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

    /// Whether `field` is written.
    pub fn keeps(&self, field: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Only(keep) => keep.binary_search_by(|k| k.as_str().cmp(field)).is_ok(),
        }
    }
}

/// Append to `out` the fields of `record` (a JSON object's text) that `keep` names
/// (sorted), each as `"key":<its value's raw text>`, comma-separated, in the record's
/// order, without the braces. Returns how many were written. A key repeated in the
/// record is written as often as it comes (readers take the last, as with the whole
/// record).
pub fn write_fields(out: &mut Vec<u8>, record: &str, keep: &[String]) -> serde_json::Result<usize> {
    let mut de = serde_json::Deserializer::from_str(record);
    let written = de::Deserializer::deserialize_map(&mut de, Fields { out, keep })?;
    de.end()?;
    Ok(written)
}

struct Fields<'o> {
    out: &'o mut Vec<u8>,
    keep: &'o [String],
}

impl<'de> Visitor<'de> for Fields<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record (an object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<usize, A::Error> {
        let mut written = 0usize;
        while let Some(Key(key)) = map.next_key_seed(KeySeed)? {
            if self
                .keep
                .binary_search_by(|k| k.as_str().cmp(key.as_ref()))
                .is_err()
            {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value: &'de RawValue = map.next_value()?;
            if written > 0 {
                self.out.push(b',');
            }
            match key {
                // No escape in it: its bytes as sent (no quote, backslash or control
                // character can be in them).
                Cow::Borrowed(k) => {
                    self.out.push(b'"');
                    self.out.extend_from_slice(k.as_bytes());
                    self.out.push(b'"');
                    self.out.push(b':');
                    self.out.extend_from_slice(value.get().as_bytes());
                }
                // Escaped: written as JSON writes it (the same text once read).
                Cow::Owned(k) => {
                    let _ = serde_json::to_writer(&mut *self.out, &k);
                    self.out.push(b':');
                    self.out.extend_from_slice(value.get().as_bytes());
                }
            }
            written += 1;
        }
        Ok(written)
    }
}

/// A key, borrowed from the text when it has no escapes (no allocation per field).
struct Key<'de>(Cow<'de, str>);

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Key<'de>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> std::result::Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v)))
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
        write_fields(&mut out, record, &only(keep)).unwrap();
        out.push(b'}');
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn kept_fields_keep_their_bytes_and_order() {
        let record = r#"{ "z" : 1.50 , "id":"7","skip":{"deep":[1,{"id":2}]},"a\u0062":"x\"y", "big":12345678901234567890,"n":null}"#;
        assert_eq!(
            trimmed(record, &["id", "z", "big", "ab", "n"]),
            r#"{"z":1.50,"id":"7","ab":"x\"y","big":12345678901234567890,"n":null}"#
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
        let mut out = Vec::new();
        assert!(write_fields(&mut out, "[1]", &only(&["id"])).is_err());
        assert!(write_fields(&mut out, r#"{"id":1} x"#, &only(&["id"])).is_err());
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
        assert!(s.keeps("email") && s.keeps("id") && !s.keeps("name"));
        assert!(Selection::All.keeps("anything"));
    }
}
