//! One answer of a list endpoint, kept as the text Intercom sent. Only what the
//! connector needs is parsed: where each record starts and ends, the few top-level
//! fields of each record the pipeline reads ([`Want`]: its key, cursor, and the field a
//! subset filters on), and the paging fields. Records are passed to stdout as they
//! arrived, byte for byte, so a page costs two quick scans, not a tree of values.
//!
//! An answer is checked whole before anything is sliced from it, and every check that
//! fails is an error for the retry decision (a bad body is retried like a 5xx), never a
//! panic or a record left out:
//! - the body is valid UTF-8 (one stray Latin-1 byte anywhere is enough to fail it);
//! - nothing in it is nested deeper than [`MAX_DEPTH`] (what common JSON parsers
//!   downstream accept);
//! - it is one JSON object with the record list at its path;
//! - every record is an object whose wanted fields can be read: each key field
//!   present, the cursor a timestamp, the class field a string. A field nobody asked
//!   for is skipped unparsed, whatever it holds; a duplicate key counts as JSON
//!   parsers downstream read it (the last one wins).

use std::borrow::Cow;
use std::ops::Range;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::cursor::epoch_seconds;

/// The deepest nesting an answer may have: Python's and Jackson's default parsers stop
/// at about 1,000 levels; a record line wraps the record in two more.
pub const MAX_DEPTH: usize = 512;

/// The top-level fields the pipeline reads of each record of a list, each of which
/// must be readable for the record to be used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Want {
    /// The fields that identify a record (its stream's primary key): each must be
    /// present and not null. `id`, when among them, is also read as text.
    pub key: &'static [&'static str],
    /// The cursor field: must be a timestamp (epoch seconds or RFC 3339).
    pub cursor: Option<&'static str>,
    /// A field read as a string (the `role` a subset stream filters on).
    pub class: Option<&'static str>,
}

impl Want {
    /// The field names to capture, each once (at most [`MAX_WANTED`] are read).
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.key.to_vec();
        for n in self.cursor.iter().chain(self.class.iter()) {
            if !names.contains(n) {
                names.push(n);
            }
        }
        names
    }
}

/// What was read of one record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    /// `id` as text (Intercom sends most ids as strings, some as numbers), when the key has it.
    pub id: Option<String>,
    /// The cursor, epoch seconds, when wanted.
    pub cursor: Option<i64>,
    /// The class field's value, when wanted.
    pub class: Option<String>,
}

impl Keys {
    /// Whether the class field is `value`.
    pub fn class_is(&self, value: &str) -> bool {
        self.class.as_deref() == Some(value)
    }
}

/// One record: where its text is, and what was read of it.
#[derive(Debug, Clone)]
struct Rec {
    range: Range<usize>,
    keys: Keys,
}

/// An answer with a list of records.
#[derive(Debug, Clone)]
pub struct Page {
    text: String,
    records: Vec<Rec>,
    /// `pages` (paging links and counts), parsed.
    pub pages: Option<Value>,
    /// `total_count`, if the answer has one.
    pub total_count: Option<u64>,
    /// `scroll_param` (the companies scroll).
    pub scroll_param: Option<String>,
}

impl Page {
    /// Parse an answer that must hold a list of objects at `path` (`null` counts as an
    /// empty list), reading `want` of each. Anything else is an error saying what is
    /// wrong, for the retry decision.
    pub fn parse(body: Bytes, path: &[&str], want: &Want) -> Result<Page, String> {
        let text = checked_text(body)?;
        let mut page = Page {
            records: Vec::new(),
            pages: None,
            total_count: None,
            scroll_param: None,
            text: String::new(),
        };
        {
            let names = want.names();
            let top = top_level(&text, path, &names)?;
            let items = match top.records {
                Some(items) => items,
                None if top.found || path.is_empty() => Vec::new(),
                None => return Err(format!("the answer has no `{}` list", path.join("."))),
            };
            // Levels above a record's own: the answer, the objects on the path, the list.
            let above = path.len() + 1;
            // Where the answer is not a record (its brackets bound the nesting there).
            let mut outside = 0usize;
            let mut from = 0usize;
            page.records.reserve(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let what = || format!("record {} of `{}`", i + 1, path.join("."));
                let (range, fields) = match item {
                    Item::Raw(raw) => (offset_of(&text, raw.get()), Fields::default()),
                    Item::Object {
                        first,
                        last,
                        fields,
                    } => (object_span(&text, first, last), fields),
                    Item::Empty => {
                        read_keys(&Fields::default(), want, &names)
                            .map_err(|why| format!("{} {why}", what()))?;
                        return Err(format!("{} is an empty object", what()));
                    }
                };
                let Some(range) = range else {
                    return Err(format!("{} could not be located in the answer", what()));
                };
                let s = text.get(range.clone()).unwrap_or_default();
                // A record can't nest deeper than it has brackets: most are far from
                // the limit; the few that might be are measured.
                if above + opens(s.as_bytes()) > MAX_DEPTH {
                    if let Some(at) = too_deep(s.as_bytes(), MAX_DEPTH - above) {
                        return Err(too_deep_error(range.start + at));
                    }
                }
                outside += opens(text.as_bytes().get(from..range.start).unwrap_or_default());
                from = range.end;
                let keys =
                    read_keys(&fields, want, &names).map_err(|why| format!("{} {why}", what()))?;
                page.records.push(Rec { range, keys });
            }
            outside += opens(text.as_bytes().get(from..).unwrap_or_default());
            if outside > MAX_DEPTH {
                if let Some(at) = too_deep(text.as_bytes(), MAX_DEPTH) {
                    return Err(too_deep_error(at));
                }
            }
            for (name, raw) in [("pages", top.pages), ("scroll_param", top.scroll_param)] {
                if let Some(r) = raw.filter(|r| r.get().len() > MAX_PAGING_BYTES) {
                    return Err(format!(
                        "`{name}` is {} bytes long, where Intercom's are a few hundred",
                        r.get().len()
                    ));
                }
            }
            let small = |raw: Option<&RawValue>| -> Option<Value> {
                raw.and_then(|r| serde_json::from_str::<Value>(r.get()).ok())
            };
            page.pages = small(top.pages).filter(|v| !v.is_null());
            page.total_count = small(top.total_count).and_then(|v| v.as_u64());
            page.scroll_param = small(top.scroll_param).and_then(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            });
        }
        page.text = text;
        Ok(page)
    }

    /// Each record's raw JSON text and what was read of it, in order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = (&str, &Keys)> + Clone + '_ {
        // Every range was checked against the text in `parse`.
        self.records
            .iter()
            .map(|r| (self.text.get(r.range.clone()).unwrap_or_default(), &r.keys))
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the page holds no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The whole answer's text (checked UTF-8, bounded depth).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the answer links to a next page (`pages.next` present and not null).
    pub fn has_next(&self) -> bool {
        self.pages
            .as_ref()
            .and_then(|p| p.get("next"))
            .is_some_and(|n| !n.is_null())
    }
}

/// The body as text, once checked as a whole to be valid UTF-8.
pub fn checked_text(body: Bytes) -> Result<String, String> {
    String::from_utf8(Vec::from(body)).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        format!(
            "the answer is not valid UTF-8 (an undecodable byte at offset {at}: a field sent in another encoding, or a proxy that changed the body)"
        )
    })
}

fn too_deep_error(at: usize) -> String {
    format!(
        "the answer nests values more than {MAX_DEPTH} levels deep (at offset {at}), deeper than the JSON parsers of destinations accept"
    )
}

/// Opening brackets in `b`, strings included: never fewer than the nesting they allow.
fn opens(b: &[u8]) -> usize {
    memchr::memchr2_iter(b'{', b'[', b).count()
}

/// The offset where nesting first goes past `limit` levels, if it does. Strings are
/// skipped (their brackets don't count); a body cut off inside a string is left for
/// the parser to report.
pub fn too_deep(b: &[u8], limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0usize;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                i += 1;
                loop {
                    let rest = b.get(i..).unwrap_or_default();
                    match memchr::memchr2(b'"', b'\\', rest) {
                        Some(j) if rest.get(j) == Some(&b'\\') => i += j + 2,
                        Some(j) => {
                            i += j + 1;
                            break;
                        }
                        None => return None,
                    }
                }
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The top-level fields named, as raw JSON, each read alone: a field that holds
/// anything at all never keeps another from being read. A repeated key: the last wins.
/// (A page's records get the same reading in its one pass, [`RecordSeed`], which also
/// finds where each record is; this one takes any number of names.)
pub fn raw_fields<'a>(text: &'a str, names: &[&str]) -> Result<Vec<Option<&'a RawValue>>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde::Deserializer::deserialize_map(&mut de, FieldsVisitor { names })
        .map_err(|e| format!("is not a JSON object ({e})"))
}

struct FieldsVisitor<'n> {
    names: &'n [&'n str],
}

impl<'de> serde::de::Visitor<'de> for FieldsVisitor<'_> {
    type Value = Vec<Option<&'de RawValue>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = vec![None; self.names.len()];
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match self.names.iter().position(|n| *n == key.as_ref()) {
                Some(i) => out[i] = Some(map.next_value::<&'de RawValue>()?),
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// A field read as a timestamp (epoch seconds or RFC 3339), or why it isn't one, in
/// words that name it and show what it holds.
pub fn timestamp_field(name: &str, v: &Value) -> Result<i64, String> {
    epoch_seconds(v).map_err(|why| {
        format!(
            "has `{name}` = {}, which is {}",
            crate::redact::server_text(&v.to_string(), 60),
            why.explain()
        )
    })
}

/// Read `want` of one record from its fields `names` (`want.names()`), as raw JSON;
/// say what can't be read.
fn read_keys(
    fields: &[Option<&RawValue>],
    want: &Want,
    names: &[&'static str],
) -> Result<Keys, String> {
    let mut keys = Keys::default();
    if names.is_empty() {
        return Ok(keys);
    }
    let value = |name: &str| -> Option<Value> {
        let i = names.iter().position(|n| *n == name)?;
        let raw = fields.get(i).copied().flatten()?;
        serde_json::from_str::<Value>(raw.get()).ok()
    };
    for k in want.key {
        match value(k) {
            None | Some(Value::Null) => return Err(format!("has no `{k}`")),
            Some(v) if *k == "id" => {
                keys.id = Some(match v {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    other => {
                        return Err(format!(
                            "has an `id` that is {}, not a string or a number",
                            crate::config::json_kind(&other)
                        ))
                    }
                })
            }
            Some(_) => {}
        }
    }
    let who = || {
        keys.id
            .as_deref()
            .map(|id| format!(" (id {})", crate::redact::server_text(id, 40)))
            .unwrap_or_default()
    };
    if let Some(c) = want.cursor {
        let v = value(c).unwrap_or(Value::Null);
        keys.cursor = Some(timestamp_field(c, &v).map_err(|e| format!("{} {e}", who()))?);
    }
    if let Some(f) = want.class {
        match value(f) {
            Some(Value::String(s)) => keys.class = Some(s),
            other => {
                return Err(format!(
                "{} has `{f}` = {}, not a string, so it can't be told which stream it belongs to",
                who(),
                crate::redact::server_text(&other.unwrap_or(Value::Null).to_string(), 60)
            ))
            }
        }
    }
    Ok(keys)
}

/// The top level of an answer, as far as a page needs it.
struct Top<'a> {
    /// The records at the path (`None` if absent or `null`).
    records: Option<Vec<Item<'a>>>,
    /// Whether the path was there (a `null` list is an empty list).
    found: bool,
    pages: Option<&'a RawValue>,
    total_count: Option<&'a RawValue>,
    scroll_param: Option<&'a RawValue>,
}

/// The most fields a [`Want`] names (a key of two fields, a cursor, a class field);
/// the stream table's test holds every stream to it.
pub const MAX_WANTED: usize = 4;

/// A record's wanted fields, as raw JSON, in the order [`Want::names`] gives.
type Fields<'a> = [Option<&'a RawValue>; MAX_WANTED];

/// One record as the answer's one pass read it.
enum Item<'a> {
    /// Its text (when no field of it is wanted).
    Raw(&'a RawValue),
    /// An object: where it starts (its first key, or that key's value when the key is
    /// written with escapes), its last value, and the wanted fields (the last of
    /// repeated keys).
    Object {
        first: Anchor<'a>,
        last: &'a RawValue,
        fields: Fields<'a>,
    },
    /// `{}`.
    Empty,
}

/// Where an object's first field is.
#[derive(Clone, Copy)]
enum Anchor<'a> {
    Key(&'a str),
    Value(&'a RawValue),
}

/// One pass over the answer: the record list is split into records as it is read, and
/// the wanted fields of each are taken on the way; every other value is skipped unparsed.
fn top_level<'a>(text: &'a str, path: &[&str], names: &[&str]) -> Result<Top<'a>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let top = serde::Deserializer::deserialize_map(&mut de, TopVisitor { path, names })
        .and_then(|t| de.end().map(|()| t));
    top.map_err(|e| {
        let s = e.to_string();
        if let Some((_, kind)) = s.split_once(LIST_MARK) {
            format!(
                "`{}` should be a list, got {}",
                path.join("."),
                kind.split(" at line").next().unwrap_or(kind)
            )
        } else if s.contains(MANY_MARK) {
            format!(
                "`{}` holds more than {MAX_PAGE_RECORDS} records, far more than any list of Intercom's holds",
                path.join(".")
            )
        } else if let Some((_, kind)) = s.split_once(RECORD_MARK) {
            format!(
                "a record in `{}` is {}, not an object",
                path.join("."),
                kind.split(" at line").next().unwrap_or(kind)
            )
        } else {
            not_json(text, &e)
        }
    })
}

/// The most records one answer may hold: far above the 150 of a page (and the
/// thousands an unpaged list such as `/tags` may hold), far below the millions a
/// hostile answer could pack into the body cap. It bounds what an answer's index costs
/// (about 100 bytes a record: 10 MB).
pub const MAX_PAGE_RECORDS: usize = 100_000;

/// The longest `pages` object or `scroll_param` read: Intercom's are a few hundred bytes.
pub const MAX_PAGING_BYTES: usize = 16 * 1024;

/// Marks the "too many records" error raised inside the one-pass parse.
const MANY_MARK: &str = "records-too-many";
/// Marks the "not a list" error raised inside the one-pass parse.
const LIST_MARK: &str = "records-not-a-list: ";
/// Marks the "a record is not an object" error raised inside the one-pass parse.
const RECORD_MARK: &str = "record-not-an-object: ";

/// The visits of a JSON scalar (a boolean, a number, a string), each an error that
/// says what the value was, marked with `$mark`.
macro_rules! refuse_scalars {
    ($value:ty, $mark:expr) => {
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<$value, E> {
            Err(E::custom(format!("{}a boolean", $mark)))
        }

        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<$value, E> {
            Err(E::custom(format!("{}a number", $mark)))
        }

        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<$value, E> {
            Err(E::custom(format!("{}a number", $mark)))
        }

        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<$value, E> {
            Err(E::custom(format!("{}a number", $mark)))
        }

        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<$value, E> {
            Err(E::custom(format!("{}a string", $mark)))
        }
    };
}

struct TopVisitor<'p> {
    path: &'p [&'p str],
    names: &'p [&'p str],
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
                    top.records = map
                        .next_value_seed(ListAt {
                            path: rest,
                            names: self.names,
                        })?
                        .0;
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
    names: &'p [&'p str],
}

/// `None`: `null`, or the path was missing below this level.
struct Found<'a>(Option<Vec<Item<'a>>>);

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
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(64).min(1024));
        if self.names.is_empty() {
            while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                if !raw.get().starts_with('{') {
                    return Err(serde::de::Error::custom(format!(
                        "{RECORD_MARK}{}",
                        kind_of(raw.get())
                    )));
                }
                items.push(Item::Raw(raw));
                if items.len() > MAX_PAGE_RECORDS {
                    return Err(serde::de::Error::custom(MANY_MARK));
                }
            }
        } else {
            while let Some(item) = seq.next_element_seed(RecordSeed { names: self.names })? {
                items.push(item);
                if items.len() > MAX_PAGE_RECORDS {
                    return Err(serde::de::Error::custom(MANY_MARK));
                }
            }
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
                found = Some(map.next_value_seed(ListAt {
                    path: rest,
                    names: self.names,
                })?);
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

    refuse_scalars!(Found<'de>, LIST_MARK);
}

/// One record of the list: an object, read field by field (each value taken as its raw
/// text, which costs what skipping it would); anything else is an error.
struct RecordSeed<'p> {
    names: &'p [&'p str],
}

impl<'de> serde::de::DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Item<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Item<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RecordSeed<'_> {
    type Value = Item<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a record (an object)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Item<'de>, A::Error> {
        let mut fields = Fields::default();
        let mut first: Option<Anchor<'de>> = None;
        let mut last: Option<&'de RawValue> = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let value: &'de RawValue = map.next_value()?;
            if first.is_none() {
                first = Some(match key {
                    Cow::Borrowed(k) => Anchor::Key(k),
                    Cow::Owned(_) => Anchor::Value(value),
                });
            }
            if let Some(slot) = self
                .names
                .iter()
                .position(|n| *n == key.as_ref())
                .and_then(|i| fields.get_mut(i))
            {
                *slot = Some(value);
            }
            last = Some(value);
        }
        Ok(match (first, last) {
            (Some(first), Some(last)) => Item::Object {
                first,
                last,
                fields,
            },
            _ => Item::Empty,
        })
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Item<'de>, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Err(serde::de::Error::custom(format!("{RECORD_MARK}a list")))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Item<'de>, E> {
        Err(E::custom(format!("{RECORD_MARK}null")))
    }

    refuse_scalars!(Item<'de>, RECORD_MARK);
}

/// The range of `part` (a slice of `text`) in `text`.
fn offset_of(text: &str, part: &str) -> Option<Range<usize>> {
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let range = start..start.checked_add(part.len())?;
    (text.get(range.clone())?.as_ptr() == part.as_ptr()).then_some(range)
}

/// The range in `text` of the object whose first field is at `first` and whose last
/// value is `last` (the parse has checked the object whole: between its brace and its
/// first key, and its last value and its brace, there is only whitespace).
fn object_span(text: &str, first: Anchor<'_>, last: &RawValue) -> Option<Range<usize>> {
    let b = text.as_bytes();
    let back_over_space = |mut i: usize| {
        while i > 0 && b.get(i - 1).is_some_and(u8::is_ascii_whitespace) {
            i -= 1;
        }
        i
    };
    // The opening quote of the first key.
    let quote = match first {
        Anchor::Key(k) => offset_of(text, k)?.start.checked_sub(1)?,
        Anchor::Value(v) => {
            let mut i = back_over_space(offset_of(text, v.get())?.start);
            i = i.checked_sub(1).filter(|i| b.get(*i) == Some(&b':'))?;
            let close = back_over_space(i).checked_sub(1)?;
            // Inside a key, a quote is always escaped (right after a backslash); the
            // opening one never is.
            (0..close)
                .rev()
                .find(|&j| b.get(j) == Some(&b'"') && (j == 0 || b.get(j - 1) != Some(&b'\\')))?
        }
    };
    (b.get(quote) == Some(&b'"')).then_some(())?;
    let start = back_over_space(quote).checked_sub(1)?;
    (b.get(start) == Some(&b'{')).then_some(())?;
    let mut end = offset_of(text, last.get())?.end;
    while b.get(end).is_some_and(u8::is_ascii_whitespace) {
        end += 1;
    }
    (b.get(end) == Some(&b'}')).then_some(start..end + 1)
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

/// Read a record field that is a plain number of things (`count_conversation_parts`),
/// if it is one: anything else is `None`, never an error.
pub fn whole_number(raw: Option<&RawValue>) -> Option<i64> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        I(i64),
        F(f64),
        S(String),
    }
    match serde_json::from_str::<N>(raw?.get()).ok()? {
        N::I(i) => Some(i),
        N::F(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9e15 => Some(f as i64),
        N::S(s) => s.trim().parse().ok(),
        N::F(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: Want = Want {
        key: &["id"],
        cursor: None,
        class: None,
    };

    fn page(s: &str, path: &[&str]) -> Result<Page, String> {
        Page::parse(Bytes::from(s.to_string()), path, &ID)
    }

    #[test]
    fn records_are_the_bytes_that_arrived() {
        let p = page(
            r#"{"type":"list","data":[{"id":"1","n":1.50},{ "id" : 2 }],"total_count":7,"pages":{"next":null}}"#,
            &["data"],
        )
        .unwrap();
        let recs: Vec<(&str, &Keys)> = p.records().collect();
        assert_eq!(recs[0].0, r#"{"id":"1","n":1.50}"#);
        assert_eq!(recs[1].0, r#"{ "id" : 2 }"#);
        assert_eq!(p.total_count, Some(7));
        assert!(!p.has_next());
        assert_eq!(recs[0].1.id.as_deref(), Some("1"));
        assert_eq!(recs[1].1.id.as_deref(), Some("2"));
        let nested = page(
            r#"{"conversation_parts":{"conversation_parts":[{"id":"p"}],"total_count":1}}"#,
            &["conversation_parts", "conversation_parts"],
        )
        .unwrap();
        assert_eq!(nested.len(), 1);
        assert!(page(r#"{"data":null}"#, &["data"]).unwrap().is_empty());
    }

    #[test]
    fn records_are_found_whatever_their_spacing() {
        let want = Want {
            key: &["id"],
            cursor: Some("updated_at"),
            class: None,
        };
        let body = "{ \"data\" : [\n  {\n    \"i\\u0064\" : \"a\\\"b\" ,\"updated_at\":1 }\n ,\t{\"\\\"x\":1,\"id\":2,\"updated_at\":3}, { \"id\":\"c\" , \"updated_at\" : 5 } ] }";
        let p = Page::parse(Bytes::from(body), &["data"], &want).unwrap();
        let recs: Vec<(&str, &Keys)> = p.records().collect();
        assert_eq!(
            recs[0].0,
            "{\n    \"i\\u0064\" : \"a\\\"b\" ,\"updated_at\":1 }"
        );
        assert_eq!(recs[0].1.id.as_deref(), Some("a\"b"));
        assert_eq!(recs[1].0, "{\"\\\"x\":1,\"id\":2,\"updated_at\":3}");
        assert_eq!(recs[1].1.cursor, Some(3));
        assert_eq!(recs[2].0, "{ \"id\":\"c\" , \"updated_at\" : 5 }");
        let e = Page::parse(Bytes::from(r#"{"data":[{}]}"#), &["data"], &want).unwrap_err();
        assert!(e.contains("record 1 of `data` has no `id`"), "{e}");
    }

    #[test]
    fn wanted_fields_are_read_one_by_one() {
        let want = Want {
            key: &["id"],
            cursor: Some("updated_at"),
            class: Some("role"),
        };
        let body = r#"{"data":[
            {"id":"c1","role":"lead","updated_at":1700000000,"statistics":{"count":"x"},"x":{"deep":[1,2,3]}},
            {"id":7,"role":"user","updated_at":"2023-11-14T22:13:20Z","created_at":{"odd":true}},
            {"updated_at":1,"id":"dup","role":"user","updated_at":1700000001}
        ]}"#;
        let p = Page::parse(Bytes::from(body), &["data"], &want).unwrap();
        let keys: Vec<&Keys> = p.records().map(|(_, k)| k).collect();
        assert_eq!(keys[0].cursor, Some(1_700_000_000));
        assert!(keys[0].class_is("lead") && !keys[0].class_is("user"));
        assert_eq!(keys[1].id.as_deref(), Some("7"));
        assert_eq!(keys[1].cursor, Some(1_700_000_000));
        assert_eq!(
            keys[2].cursor,
            Some(1_700_000_001),
            "the last duplicate wins"
        );
        // A field that can't be read fails the page, naming the record and the field.
        let cases = [
            (
                r#"{"data":[{"role":"lead","updated_at":1}]}"#,
                "has no `id`",
            ),
            (
                r#"{"data":[{"id":null,"role":"lead","updated_at":1}]}"#,
                "has no `id`",
            ),
            (
                r#"{"data":[{"id":[1],"role":"lead","updated_at":1}]}"#,
                "not a string or a number",
            ),
            (
                r#"{"data":[{"id":"a","role":"lead","updated_at":"soon"}]}"#,
                "`updated_at` = \"soon\"",
            ),
            (
                r#"{"data":[{"id":"a","role":"lead"}]}"#,
                "`updated_at` = null",
            ),
            (
                r#"{"data":[{"id":"a","role":5,"updated_at":1}]}"#,
                "`role` = 5",
            ),
            (r#"{"data":[{"id":"a","updated_at":1}]}"#, "`role` = null"),
        ];
        for (body, want_text) in cases {
            let e = Page::parse(Bytes::from(body), &["data"], &want).unwrap_err();
            assert!(
                e.contains(want_text) && e.contains("record 1 of `data`"),
                "{body}: {e}"
            );
        }
    }

    #[test]
    fn bad_answers_say_what_is_wrong() {
        let deep = format!(
            r#"{{"data":[{{"id":"1","x":{}1{}}}]}}"#,
            "[".repeat(600),
            "]".repeat(600)
        );
        let cases: [(Vec<u8>, &str); 9] = [
            (b"".to_vec(), "no body"),
            (br#"{"data":[{"id":1},"#.to_vec(), "cut off"),
            (
                b"<html><body>502 Bad Gateway</body></html>".to_vec(),
                "HTML page",
            ),
            (br#"{"type":"list"}"#.to_vec(), "no `data` list"),
            (
                br#"{"data":{}}"#.to_vec(),
                "should be a list, got an object",
            ),
            (br#"{"data":[1]}"#.to_vec(), "is a number, not an object"),
            (b"[1,2]".to_vec(), "a list, not a JSON object"),
            (
                b"{\"data\":[],\"x\":\"caf\xe9\"}".to_vec(),
                "not valid UTF-8",
            ),
            (deep.into_bytes(), "more than 512 levels"),
        ];
        for (body, want) in cases {
            let e = Page::parse(Bytes::from(body.clone()), &["data"], &ID).unwrap_err();
            assert!(
                e.contains(want),
                "{:?}: {e}",
                String::from_utf8_lossy(&body)
            );
        }
    }

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        assert_eq!(too_deep(br#"{"a":"[[[[[[","b":[1]}"#, 2), None);
        assert_eq!(too_deep(br#"{"a":"\"[[[","b":[[1]]}"#, 2), Some(18));
        assert_eq!(too_deep(br#"[[["#, 2), Some(2));
        assert_eq!(too_deep(br#"{"a":"unterminated [[[["#, 1), None);
        assert_eq!(too_deep(br#""\"#, 1), None);
    }

    #[test]
    fn whole_numbers_are_read_leniently() {
        fn raw(s: &str) -> Option<&RawValue> {
            serde_json::from_str::<&RawValue>(s).ok()
        }
        assert_eq!(whole_number(raw("7")), Some(7));
        assert_eq!(whole_number(raw("7.0")), Some(7));
        assert_eq!(whole_number(raw("\"7\"")), Some(7));
        assert_eq!(whole_number(raw("7.5")), None);
        assert_eq!(whole_number(raw("{\"a\":1}")), None);
        assert_eq!(whole_number(raw("null")), None);
        assert_eq!(whole_number(None), None);
    }
}
