//! Property tests (proptest, a bounded number of cases) for everything parsed from
//! outside the process: config, catalog, state, and answers from Intercom. For any
//! input, parsing returns a value or an error that names what was wrong; it never
//! panics, never overflows, and never repeats the access token.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::cursor::{epoch_seconds, saved_position, Cursor, MAX_EPOCH_SECONDS};
use crate::error::Error;
use crate::http::client::{decode, status_error, Expect};
use crate::http::page::{Page, Want};
use crate::http::retry::{classify, Attempts, Decision, Outcome, RateInfo, RetryPolicy};
use crate::http::ApiRequest;
use crate::protocol::{ConfiguredCatalog, SyncMode};
use crate::read::children::Answer;
use crate::read::plan::{configured_streams, groups, PlanInputs};
use crate::read::select::{write_fields, Names, Selection};
use crate::redact;
use crate::state::InputState;
use crate::streams::{find, STREAMS};
use crate::walk::{next_page_number, next_search_page, page_limit, Paging};

const TOKEN: &str = "tok_property_secret_9f8e7d";

/// Any JSON value, with keys and strings drawn partly from the words our parsers look for.
fn json_value() -> impl Strategy<Value = Value> {
    let word = prop_oneof![
        Just("type".to_string()),
        Just("stream".to_string()),
        Just("streams".to_string()),
        Just("stream_state".to_string()),
        Just("stream_descriptor".to_string()),
        Just("name".to_string()),
        Just("updated_at".to_string()),
        Just("global".to_string()),
        Just("stream_states".to_string()),
        Just("data".to_string()),
        Just("pages".to_string()),
        Just("next".to_string()),
        Just("page".to_string()),
        Just("total_pages".to_string()),
        Just("starting_after".to_string()),
        Just("STREAM".to_string()),
        Just("sync_mode".to_string()),
        Just("incremental".to_string()),
        Just("contacts".to_string()),
        Just("cursor_field".to_string()),
        Just("https://api.intercom.io/articles?page=2".to_string()),
        "[a-z_]{0,12}",
        any::<String>(),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        word.clone().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((word.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// How deep a value nests (a scalar: 0, `[]` or `{}`: 1).
fn depth_of(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth_of).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth_of).max().unwrap_or(0),
        _ => 0,
    }
}

/// What the readers ask of records, from nothing to everything.
const WANTS: &[Want] = &[
    Want {
        key: &[],
        cursor: None,
        class: None,
    },
    Want {
        key: &["id"],
        cursor: Some("updated_at"),
        class: Some("role"),
    },
];

/// A page of records as Intercom sends them (ids, cursors, roles, statistics, anything).
fn page_body() -> impl Strategy<Value = Vec<u8>> {
    let record = (
        any::<u32>(),
        0i64..2_000_000_000,
        prop::sample::select(vec!["user", "lead"]),
        json_value(),
    )
        .prop_map(|(id, t, role, extra)| {
            json!({"id": id.to_string(), "updated_at": t, "created_at": t, "role": role,
                   "statistics": {"count_conversation_parts": id % 7}, "extra": extra})
        });
    prop::collection::vec(record, 0..4).prop_map(|records| {
        let parts = json!({"conversation_parts": records.clone(), "total_count": records.len()});
        serde_json::to_vec(
            &json!({"type": "list", "id": "9", "updated_at": 5, "created_at": 4,
            "statistics": {"count_conversation_parts": 3}, "data": records,
            "conversation_parts": parts, "pages": {"next": null}, "total_count": 3}),
        )
        .unwrap_or_default()
    })
}

/// One way a body goes wrong on the way: cut off, a byte changed (a Latin-1 `é`, a
/// stray quote or bracket), bytes inserted, a value nested deep, a key repeated.
fn malformed(body: Vec<u8>, how: u8, at: usize, byte: u8, depth: usize) -> Vec<u8> {
    let at = if body.is_empty() { 0 } else { at % body.len() };
    let mut b = body;
    match how % 6 {
        0 => b.truncate(at),
        1 => {
            if let Some(x) = b.get_mut(at) {
                *x = byte;
            }
        }
        2 => {
            b.splice(at..at, [byte, 0xE9, byte]);
        }
        3 => {
            let deep = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            let text = String::from_utf8_lossy(&b).replacen(
                "\"extra\":",
                &format!("\"extra\":{deep},\"x\":"),
                1,
            );
            b = text.into_bytes();
        }
        4 => {
            let text = String::from_utf8_lossy(&b).replacen("\"role\":", "\"role\":7,\"role\":", 1);
            b = text.into_bytes();
        }
        _ => {
            b.splice(at..at, b"\"}]".iter().copied());
        }
    }
    b
}

/// One configured stream of a generated catalog: a stream of the table, in full refresh
/// or incremental mode (incremental on a stream without a cursor too: it is read in
/// full), with a `cursor_field` and a `json_schema` that the planner accepts.
#[derive(Debug, Clone)]
struct CatalogEntry {
    /// The stream: an index into [`STREAMS`].
    stream: usize,
    incremental: bool,
    /// `cursor_field`: 0 absent, 1 `[]`, 2 the stream's cursor, 3 another of its fields.
    cursor: u8,
    /// `json_schema`: 0 absent, 1 `{}`, 2 some of its fields, 3 the catalog's `anything`.
    schema: u8,
    /// Which of the stream's fields choices 2 and 3 take.
    pick: u64,
}

/// Up to 6 distinct streams, in any order, as a catalog the planner accepts.
fn catalog_entries() -> impl Strategy<Value = Vec<CatalogEntry>> {
    let streams =
        prop::sample::subsequence((0..STREAMS.len()).collect::<Vec<_>>(), 0..=6).prop_shuffle();
    let entry = (any::<bool>(), 0u8..4, 0u8..4, any::<u64>());
    (streams, prop::collection::vec(entry, 6)).prop_map(|(streams, choices)| {
        streams
            .into_iter()
            .zip(choices)
            .map(
                |(stream, (incremental, cursor, schema, pick))| CatalogEntry {
                    stream,
                    incremental,
                    cursor,
                    schema,
                    pick,
                },
            )
            .collect()
    })
}

/// The top-level fields of a stream's schema.
fn schema_fields(def: &crate::streams::StreamDef) -> Vec<String> {
    let schema = def.json_schema().unwrap_or_default();
    schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

impl CatalogEntry {
    /// The entry as a configured catalog holds it; `anything` is the `json_schema` of
    /// choice 3.
    fn to_json(&self, anything: &Value) -> Value {
        let def = &STREAMS[self.stream];
        let fields = schema_fields(def);
        let picked = |i: usize| fields[(self.pick as usize).wrapping_add(i) % fields.len()].clone();
        let mut stream = json!({"name": def.name, "supported_sync_modes": ["full_refresh"]});
        match self.schema {
            1 => stream["json_schema"] = json!({}),
            2 => {
                let props: Map<String, Value> = (0..(self.pick % 5) as usize)
                    .map(|i| (picked(i), json!({})))
                    .chain([("not_a_field".to_string(), json!({}))])
                    .collect();
                stream["json_schema"] = json!({"type": "object", "properties": props});
            }
            3 => stream["json_schema"] = anything.clone(),
            _ => {}
        }
        let mode = if self.incremental {
            "incremental"
        } else {
            "full_refresh"
        };
        let mut entry =
            json!({"stream": stream, "sync_mode": mode, "destination_sync_mode": "append"});
        match (self.cursor, def.cursor) {
            (1, _) => entry["cursor_field"] = json!([]),
            (2, Some(ours)) => entry["cursor_field"] = json!([ours]),
            (3, _) => entry["cursor_field"] = json!([picked(0)]),
            _ => {}
        }
        entry
    }

    /// The mode the planner reads the stream in.
    fn mode(&self) -> SyncMode {
        if self.incremental && STREAMS[self.stream].supports(SyncMode::Incremental) {
            SyncMode::Incremental
        } else {
            SyncMode::FullRefresh
        }
    }
}

/// Make one entry of a catalog (the `at`-th, or a new one) wrong in one of four ways: a
/// stream the connector lacks, a stream given twice, a sync mode that is none, a
/// `cursor_field` naming no field. Returns the stream the planner must name, and what
/// else its message must hold.
fn break_catalog(streams: &mut Vec<Value>, how: u8, at: prop::sample::Index) -> (String, String) {
    if streams.is_empty() {
        streams.push(json!({"stream": {"name": "no_such_stream"}, "sync_mode": "full_refresh"}));
        return ("no_such_stream".into(), "its streams are".into());
    }
    let i = at.index(streams.len());
    let name = streams[i]["stream"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let with_cursor = streams.iter().position(|s| {
        s["stream"]["name"]
            .as_str()
            .and_then(find)
            .is_some_and(|d| d.cursor.is_some())
    });
    match (how % 4, with_cursor) {
        (0, _) => {
            streams[i]["stream"]["name"] = json!("no_such_stream");
            ("no_such_stream".into(), "its streams are".into())
        }
        (1, _) => {
            let again = streams[i].clone();
            streams.push(again);
            (name, "appears twice".into())
        }
        (3, Some(c)) => {
            streams[c]["sync_mode"] = json!("incremental");
            streams[c]["cursor_field"] = json!(["no_such_field"]);
            let name = streams[c]["stream"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (name, "`no_such_field`".into())
        }
        _ => {
            streams[i]["sync_mode"] = json!("append_dedup");
            (name, "\"append_dedup\"".into())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn record_fields_are_read_as_a_json_parser_reads_them(v in json_value(), pretty in any::<bool>(),
                                                    dup in any::<bool>(), escaped in any::<bool>()) {
        let mut m = match v {
            Value::Object(m) => m,
            other => Map::from_iter([("x".to_string(), other)]),
        };
        m.insert("role".into(), json!("user"));
        let mut text = if pretty {
            serde_json::to_string_pretty(&m).unwrap_or_default()
        } else {
            serde_json::to_string(&m).unwrap_or_default()
        };
        if dup {
            text = text.replacen('{', r#"{"id": "first", "updated_at": [[1]] ,"#, 1);
        }
        if escaped {
            text = text.replacen("\"role\"", "\"r\\u006fle\"", 1);
        }
        let names = ["id", "updated_at", "role", "statistics", "pages", "missing"];
        let fields = crate::http::page::raw_fields(&text, &names).map_err(TestCaseError::fail)?;
        // A parser downstream: the last of repeated keys wins.
        let parsed: Map<String, Value> = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (i, n) in names.iter().enumerate() {
            let got = fields[i].map(|t| serde_json::from_str::<Value>(t.get()).map_err(|e| e.to_string()));
            prop_assert_eq!(got, parsed.get(*n).cloned().map(Ok), "{} in {}", n, text);
        }
        // The one-pass page parse finds each record's exact text, whatever the spacing,
        // key escapes and repeats, and reads the same field.
        let body = format!("{{\"data\": [ {text} ,\n\t{text}]}}");
        let want = Want { key: &["role"], ..Want::default() };
        let page = Page::parse(bytes::Bytes::from(body), &["data"], &want).map_err(TestCaseError::fail)?;
        prop_assert_eq!(page.len(), 2);
        for (r, k) in page.records() {
            prop_assert_eq!(r, text.as_str());
            prop_assert!(k.id.is_none());
        }
        // The depth: no deeper than its brackets, and exactly what a parser finds.
        let mut depth = depth_of(&Value::Object(m.clone()));
        if dup {
            depth = depth.max(3); // the repeated `updated_at`: [[1]]
        }
        let b = text.as_bytes();
        prop_assert!(crate::http::page::too_deep(b, depth).is_none());
        prop_assert!(crate::http::page::too_deep(b, depth - 1).is_some());
    }

    #[test]
    fn any_malformed_body_is_refused_or_read_whole(body in page_body(), how in any::<u8>(), at in any::<usize>(),
                                                    byte in any::<u8>(), depth in 1usize..1200) {
        let bad = malformed(body, how, at, byte, depth);
        let Some(parts) = find("conversation_parts").and_then(|s| s.child()) else {
            return Err(TestCaseError::fail("conversation_parts is a child stream"));
        };
        for want in WANTS {
            // Never a panic; what is read is whole JSON objects with what was asked.
            if let Ok(p) = Page::parse(bytes::Bytes::from(bad.clone()), &["data"], want) {
                prop_assert!(crate::http::page::too_deep(p.text().as_bytes(), crate::http::page::MAX_DEPTH).is_none());
                for (r, k) in p.records() {
                    // Whole JSON (checked without serde_json's own depth limit, below ours).
                    prop_assert!(r.starts_with('{') && serde_json::from_str::<&serde_json::value::RawValue>(r).is_ok(), "{}", r);
                    prop_assert_eq!(k.id.is_some(), want.key.contains(&"id"));
                    prop_assert_eq!(k.class.is_some(), want.class.is_some());
                }
            }
            let rows = Want { key: parts.row_key, ..Want::default() };
            if let Ok(a) = Answer::parse(bytes::Bytes::from(bad.clone()), parts, &rows, Some("conversation_updated_at")) {
                for (r, _) in a.page.records() {
                    prop_assert!(r.starts_with('{') && serde_json::from_str::<&serde_json::value::RawValue>(r).is_ok(), "{}", r);
                }
                prop_assert!(a.fields.iter().any(|(f, v)| *f == "conversation_updated_at" && epoch_seconds(v).is_ok()));
            }
        }
    }

    #[test]
    fn any_config_parses_or_names_a_field_without_the_token(mut v in json_value(), base in any::<String>()) {
        if let Value::Object(m) = &mut v {
            m.insert("access_token".into(), json!(TOKEN));
            if base.len() % 2 == 0 {
                m.insert("base_url".into(), json!(base));
            }
        }
        match Config::from_value(&v) {
            Ok(c) => {
                let shown = format!("{:?}", c);
                prop_assert!(!shown.contains(TOKEN));
                prop_assert!(c.base_url.username().is_empty());
            }
            Err(e) => {
                let s = e.to_string();
                prop_assert!(!s.contains(TOKEN));
                prop_assert!(s.contains('`') || s.contains("JSON object"), "{}", s);
            }
        }
    }

    #[test]
    fn any_state_parses_or_says_why(v in json_value()) {
        if let Ok(state) = InputState::from_value(&v) {
            for (name, blob) in &state.streams {
                for parent in [None, Some("conversations")] {
                    if let Ok(Some(t)) = saved_position(name, Some(blob), "updated_at", parent) {
                        prop_assert!(t <= MAX_EPOCH_SECONDS);
                    }
                }
            }
        }
    }

    #[test]
    fn any_cursor_value_is_sane_epoch_seconds_or_an_error(v in json_value()) {
        if let Ok(t) = epoch_seconds(&v) {
            prop_assert!(t <= MAX_EPOCH_SECONDS);
        }
        let blob = json!({"updated_at": v});
        let _ = saved_position("s", Some(&blob), "updated_at", None);
    }

    #[test]
    fn cursor_arithmetic_never_overflows(saved in any::<Option<i64>>(), start in any::<i64>(),
                                         lookback in 0u32..=36_500, now in any::<i64>(), lag in any::<i64>(),
                                         seen in any::<i64>()) {
        let c = Cursor::new(saved, start, lookback, now, lag);
        prop_assert!(c.lower() >= start);
        prop_assert!(c.position_at(i64::MIN) >= start);
        prop_assert!(c.position_at(seen) >= start);
    }

    /// Catalogs of the connector's streams, half of them with one entry made wrong, are
    /// planned (every stream in its mode, in the group of its root) or refused with a
    /// message naming the stream at fault; any other JSON is refused or planned, and
    /// never panics.
    #[test]
    fn any_catalog_plans_or_says_why(entries in catalog_entries(), anything in json_value(),
                                     fault in prop::option::of((0u8..4, any::<prop::sample::Index>())),
                                     junk in json_value()) {
        let mut streams: Vec<Value> = entries.iter().map(|e| e.to_json(&anything)).collect();
        let culprit = fault.map(|(how, at)| break_catalog(&mut streams, how, at));
        let cat: ConfiguredCatalog = serde_json::from_value(json!({"streams": streams}))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        match (configured_streams(&cat), culprit) {
            (Ok(configured), None) => {
                prop_assert_eq!(configured.len(), entries.len());
                for (c, e) in configured.iter().zip(&entries) {
                    prop_assert_eq!(c.def.name, STREAMS[e.stream].name);
                    prop_assert_eq!(c.mode, e.mode());
                }
                let config = Config::from_value(&json!({"access_token": TOKEN, "start_date": "2020-01-01T00:00:00Z"}))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let state = InputState::from_value(&json!([])).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let inputs = PlanInputs { config: &config, state: &state, now: 1_800_000_000, index_lag_secs: 1800 };
                let planned = groups(&configured, &inputs).map_err(|e| TestCaseError::fail(e.to_string()))?;
                // Every stream is read once, in the group of its root, with a cursor when
                // incremental; the groups come in stream-table order.
                let mut consumers = 0;
                for g in &planned {
                    for c in &g.consumers {
                        prop_assert!(c.def.root().is_some_and(|r| std::ptr::eq(r.def, g.root)), "{} under {}", c.def.name, g.root.name);
                        let mode = configured.iter().find(|k| std::ptr::eq(k.def, c.def)).map(|k| k.mode);
                        prop_assert_eq!(c.cursor.is_some(), mode == Some(SyncMode::Incremental));
                        if let Some(cursor) = &c.cursor {
                            prop_assert_eq!(c.lower, Some(cursor.lower()));
                            prop_assert!(cursor.lower() >= config.start_date);
                        }
                    }
                    consumers += g.consumers.len();
                }
                prop_assert_eq!(consumers, entries.len());
                let order: Vec<usize> = planned.iter()
                    .map(|g| STREAMS.iter().position(|s| std::ptr::eq(s, g.root)).unwrap_or(usize::MAX))
                    .collect();
                prop_assert!(order.windows(2).all(|w| w[0] < w[1]), "{:?}", order);
            }
            (Err(Error::Catalog(message)), Some((name, why))) => {
                prop_assert!(message.contains(&format!("`{name}`")) && message.contains(&why), "{}", message);
            }
            (Ok(_), Some(culprit)) => return Err(TestCaseError::fail(format!("planned despite {culprit:?}"))),
            (Err(e), culprit) => return Err(TestCaseError::fail(format!("{e:?} (made wrong: {culprit:?})"))),
        }
        // Anything else that reads as a catalog: planned, or refused as a catalog error.
        if let Ok(cat) = serde_json::from_value::<ConfiguredCatalog>(junk) {
            let r = configured_streams(&cat);
            prop_assert!(matches!(r, Ok(_) | Err(Error::Catalog(_))), "{:?}", r.err());
        }
    }

    /// Any stream's `json_schema`, whatever it holds, selects columns or all of them.
    #[test]
    fn any_configured_schema_selects_or_says_why(v in json_value(), stream in 0..crate::streams::STREAMS.len()) {
        let def = &crate::streams::STREAMS[stream];
        let wrapped = json!({"properties": v.clone()});
        for schema in [&v, &wrapped] {
            if let Ok(Selection::Only(keep)) = Selection::plan(def, Some(schema)) {
                for f in def.always_selected() {
                    prop_assert!(keep.iter().any(|k| k == f), "{}: {f}", def.name);
                }
            }
        }
    }

    /// Cutting a record to some of its fields gives, once read, the record without the
    /// others, whatever its keys hold (escapes included) and however it is spaced.
    #[test]
    fn cut_records_read_as_the_record_without_the_other_fields(v in json_value(), pick in any::<u64>(), pretty in any::<bool>()) {
        let Some(names) = v.as_object().map(|m| m.keys()) else { return Ok(()) };
        let keep: std::collections::BTreeSet<String> = names.enumerate().filter(|(i, _)| pick >> (i % 64) & 1 == 1).map(|(_, k)| k.clone()).chain(["id".to_string()]).collect();
        let keep: Vec<String> = keep.into_iter().collect();
        let text = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }.unwrap();
        let mut out = vec![b'{'];
        let written = write_fields(&mut out, &text, &Names::new(&keep)).unwrap();
        out.push(b'}');
        let got: Value = serde_json::from_slice(&out).unwrap();
        // The whole record as a reader reads it (the same float parsing as the cut one's).
        let whole: Value = serde_json::from_str(&text).unwrap();
        let fields = whole.as_object().unwrap();
        let want: Map<String, Value> = fields.iter().filter(|(k, _)| keep.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        prop_assert_eq!(written, want.len());
        prop_assert_eq!(got, Value::Object(want));
    }

    #[test]
    fn any_answer_decodes_or_says_why(bytes in prop::collection::vec(any::<u8>(), 0..300), v in json_value()) {
        for expect in [Expect::Object, Expect::List(&["data"]), Expect::List(&["pages", "data"])] {
            let _ = decode(&bytes, expect);
            let text = serde_json::to_vec(&v).unwrap_or_default();
            if let Ok(back) = decode(&text, expect) {
                prop_assert!(back.is_object());
            }
            for path in [&["data"][..], &["pages", "data"][..]] {
                for want in WANTS {
                    let _ = Page::parse(bytes::Bytes::from(bytes.clone()), path, want);
                    if let Ok(p) = Page::parse(bytes::Bytes::from(text.clone()), path, want) {
                        for (r, k) in p.records() {
                            let is_object = r.starts_with('{') && r.ends_with('}');
                            prop_assert!(is_object);
                            prop_assert!(serde_json::from_str::<Value>(r).is_ok());
                            prop_assert_eq!(k.id.is_some(), want.key.contains(&"id"));
                            prop_assert_eq!(k.cursor.is_some(), want.cursor.is_some());
                        }
                    }
                }
            }
        }
        let req = ApiRequest::get("/articles");
        let e = status_error(&req, 500, &bytes).to_string();
        prop_assert!(e.chars().count() < 600);
    }

    #[test]
    fn any_page_links_advance_or_say_why(v in json_value()) {
        let get = ApiRequest::get("/articles").query("per_page", "150");
        if let Ok(Some(next)) = next_page_number(&get, &v, 150, false) {
            prop_assert!(next.path.starts_with("/articles"));
        }
        let post = ApiRequest::post("/contacts/search", json!({"query": {}, "pagination": {"per_page": 150}}));
        let _ = next_search_page(&post, &v);
        for paging in [Paging::None, Paging::PageNumber { per_page: 150 }, Paging::SearchCursor { per_page: 150 }] {
            prop_assert!(page_limit(&v, paging) <= crate::walk::MAX_PAGES);
        }
    }

    #[test]
    fn retry_waits_stay_inside_the_request_budget(status in 100u16..600, reset in any::<Option<i64>>(),
                                                   retry_after in any::<Option<u32>>(), errors in 0u32..10,
                                                   limited in 0u32..100, elapsed_ms in 0u64..4_000_000,
                                                   now in any::<i64>(), jitter in any::<f64>()) {
        let p = RetryPolicy::default();
        let outcome = Outcome::Status {
            status,
            rate: RateInfo { limit: None, remaining: Some(0), reset_epoch: reset },
            retry_after: retry_after.map(|s| std::time::Duration::from_secs(u64::from(s))),
        };
        let attempts = Attempts { errors, rate_limited: limited, elapsed: std::time::Duration::from_millis(elapsed_ms) };
        if let Decision::RetryAfter(w) = classify(&outcome, attempts, &p, now, jitter) {
            prop_assert!(attempts.elapsed + w <= p.max_elapsed);
            // Only a Retry-After may ask for more than a window or a backoff.
            let told = outcome_retry_after(&outcome).unwrap_or_default();
            prop_assert!(w <= told.max(crate::http::retry::LONGEST_WINDOW_WAIT).max(p.backoff_max));
        }
    }

    #[test]
    fn masking_keeps_json_lines_valid_and_drops_credentials(s in any::<String>(), t in "[A-Za-z0-9_.-]{8,30}") {
        let text = format!("{s} Authorization: Bearer {t} {s}");
        let line = serde_json::to_vec(&json!({"message": text})).unwrap_or_default();
        let out = redact::mask_credentials(&line).unwrap_or(line);
        let back: Value = serde_json::from_slice(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let m = back["message"].as_str().unwrap_or_default();
        let bearer = format!("Bearer {}", t);
        prop_assert!(!m.contains(&bearer));
    }
}

fn outcome_retry_after(o: &Outcome) -> Option<std::time::Duration> {
    match o {
        Outcome::Status { retry_after, .. } => *retry_after,
        _ => None,
    }
}
