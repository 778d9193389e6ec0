//! Column selection: a configured stream whose `json_schema.properties` lists some of its
//! top-level fields gets records with those fields only (and its primary key, its cursor,
//! and for a child stream what identifies its rows), each field's bytes as Intercom sent
//! them, in Intercom's order. A full schema, an empty one or none gets the bytes Intercom
//! sent, whole. Names the stream doesn't have are ignored with one warning. States are
//! the same whatever the columns.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::process::{Command, Stdio};

use fake_intercom::{FakeConfig, Fault, FaultKind};
use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::support::*;

/// A finished read with its stdout as written.
struct RawRun {
    code: i32,
    stdout: String,
    messages: Vec<Value>,
}

impl RawRun {
    /// Each record of `stream`: its `data` as written.
    fn data(&self, stream: &str) -> Vec<&str> {
        let prefix = format!(r#"{{"type":"RECORD","record":{{"stream":"{stream}","data":"#);
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(|rest| {
                rest.rsplit_once(r#","emitted_at":"#)
                    .expect("a record ends with emitted_at")
                    .0
            })
            .collect()
    }

    fn records(&self, stream: &str) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["record"]["stream"] == stream)
            .map(|m| &m["record"]["data"])
            .collect()
    }

    fn logs(&self, level: &str) -> Vec<&str> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "LOG" && m["log"]["level"] == level)
            .filter_map(|m| m["log"]["message"].as_str())
            .collect()
    }

    fn errors(&self) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "TRACE" && m["trace"]["type"] == "ERROR")
            .collect()
    }

    /// The state the next sync gets: each stream's last STATE.
    fn final_state(&self) -> Value {
        state_of(&self.messages)
    }

    /// Each stream's last position (its final `stream_state`).
    fn positions(&self) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for m in self.messages.iter().filter(|m| m["type"] == "STATE") {
            let s = &m["state"]["stream"];
            out.insert(
                s["stream_descriptor"]["name"].as_str().unwrap().to_string(),
                s["stream_state"].clone(),
            );
        }
        out
    }

    /// Each stream's records as its STATE messages count them, in all (how they are
    /// spread over the states depends on the order concurrent pages finish in).
    fn state_counts(&self) -> BTreeMap<String, f64> {
        let mut out: BTreeMap<String, f64> = BTreeMap::new();
        for m in self.messages.iter().filter(|m| m["type"] == "STATE") {
            let s = m["state"]["stream"]["stream_descriptor"]["name"]
                .as_str()
                .unwrap()
                .to_string();
            *out.entry(s).or_default() +=
                m["state"]["sourceStats"]["recordCount"].as_f64().unwrap();
        }
        out
    }
}

/// Read with this catalog (and state), keeping stdout as written; every line must be an
/// Airbyte message, and the token appears nowhere.
fn read_raw(env: &Env, catalog: &Value, state: Option<&Value>) -> RawRun {
    let catalog = env.files.write_json("columns_catalog.json", catalog);
    let mut cmd = Command::new(BIN);
    cmd.arg("read")
        .arg("--config")
        .arg(env.config())
        .arg("--catalog")
        .arg(&catalog);
    if let Some(state) = state {
        cmd.arg("--state")
            .arg(env.files.write_json("columns_state.json", state));
    }
    let out = cmd
        .stdin(Stdio::null())
        .env("SOURCE_INTERCOM_REQUESTS_PER_MINUTE", "60000000")
        .env("SOURCE_INTERCOM_BACKOFF_BASE_MS", "20")
        .env("SOURCE_INTERCOM_CHILD_404_PAUSE_MS", "50")
        .env_remove("LOG_LEVEL")
        .output()
        .expect("run the connector");
    let stdout = String::from_utf8(out.stdout).expect("utf8 stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    let messages = stdout.lines().map(check_protocol_line).collect();
    RawRun {
        code: out.status.code().unwrap_or(-1),
        stdout,
        messages,
    }
}

/// A configured catalog of `streams` in `mode`, each with the `json_schema` given
/// (`None`: the discovered one, every column).
fn catalog(streams: &[(&str, Option<Value>)], mode: &str) -> Value {
    let names: Vec<&str> = streams.iter().map(|(s, _)| *s).collect();
    let mut cat = configured_catalog(&names, mode);
    for (entry, (_, schema)) in cat["streams"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(streams)
    {
        if let Some(schema) = schema {
            entry["stream"]["json_schema"] = schema.clone();
        }
    }
    cat
}

/// A stream's discovered schema with only these top-level properties, as Airbyte sends
/// a stream whose columns the user picked.
fn selecting(stream: &str, fields: &[&str]) -> Value {
    let mut schema = discovered_stream(stream)["json_schema"].clone();
    let props = schema["properties"].as_object_mut().unwrap();
    let all = std::mem::take(props);
    for f in fields {
        props.insert(f.to_string(), all.get(*f).cloned().unwrap_or(json!({})));
    }
    schema
}

/// Answers to the next `GET path` with `find` replaced by `with` in the bytes: records
/// that are not as a JSON writer would write them (spacing, escapes), so that a copy
/// of their bytes can be told from a copy of their values.
fn odd_bytes(env: &Env, path: &str, find: &str, with: &str) {
    env.fake.inject_fault(Fault {
        method: "GET".into(),
        path: path.into(),
        times: 1,
        kind: FaultKind::Replace {
            find: find.as_bytes().to_vec(),
            with: with.as_bytes().to_vec(),
        },
        ..Default::default()
    });
}

/// How the admins' `name` is sent in these tests: escaped and spaced, after a `role`
/// (a field of the schema the workspace's admins lack) out of alphabetical order.
const ODD_NAME: (&str, &str) = (r#""name":""#, r#""role":"teammate","name" : "\u0041"#);

/// The top-level fields of a record's text: each name and its value's text, in order.
fn fields_of(text: &str) -> Vec<(String, String)> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(k) = map.next_key::<String>()? {
                let v: &RawValue = map.next_value()?;
                out.push((k, v.get().to_string()));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(V).expect("a record is an object")
}

/// What a stream always keeps, besides the selected fields.
fn always(stream: &str) -> Vec<&'static str> {
    match stream {
        "contacts" | "leads" | "conversations" => vec!["id", "updated_at"],
        "conversation_parts" => vec!["id", "conversation_id", "conversation_updated_at"],
        "company_segments" => vec!["company_id", "id", "company_updated_at"],
        "companies" => vec!["id", "updated_at"],
        "admin_conversation_counts" | "admins" => vec!["id"],
        other => panic!("no keys listed for {other}"),
    }
}

/// The selected columns of the trimmed reads.
const SELECTED: &[(&str, &[&str])] = &[
    ("contacts", &["email", "name"]),
    ("admins", &["name", "role"]),
    ("leads", &["phone"]),
    ("conversations", &["state", "title", "statistics"]),
    ("conversation_parts", &["body", "part_type"]),
    ("admin_conversation_counts", &["open"]),
];

/// Every record of `stream` in `trimmed` is the record of the same key in `full` with
/// the selected fields and the kept ones only, each with the bytes it had, in the same
/// order; returns how many records had each selected field.
fn check_trimmed(
    stream: &str,
    selected: &[&str],
    full: &RawRun,
    trimmed: &RawRun,
) -> BTreeMap<String, usize> {
    let keep: BTreeSet<&str> = selected.iter().copied().chain(always(stream)).collect();
    let pk = &primary_keys()[stream];
    let key = |fields: &[(String, String)]| -> String {
        let v: Value = serde_json::from_str(&format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("{}:{v}", json!(k)))
                .collect::<Vec<_>>()
                .join(",")
        ))
        .unwrap();
        key_of(&v, pk)
    };
    let whole: BTreeMap<String, Vec<(String, String)>> = full
        .data(stream)
        .into_iter()
        .map(|d| {
            let f = fields_of(d);
            (key(&f), f)
        })
        .collect();
    let cut = trimmed.data(stream);
    assert_eq!(cut.len(), full.data(stream).len(), "{stream}: every record");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for d in cut {
        let got = fields_of(d);
        let k = key(&got);
        let want: Vec<(String, String)> = whole
            .get(&k)
            .unwrap_or_else(|| panic!("{stream}: record {k} is not in the full read"))
            .iter()
            .filter(|(name, _)| keep.contains(name.as_str()))
            .cloned()
            .collect();
        assert_eq!(got, want, "{stream} {k}: {d}");
        for f in always(stream) {
            assert!(
                got.iter().any(|(n, _)| n == f),
                "{stream} {k}: no `{f}`: {d}"
            );
        }
        for (n, _) in &got {
            *seen.entry(n.clone()).or_default() += 1;
        }
    }
    seen
}

#[test]
fn a_trimmed_catalog_gets_the_selected_fields_and_the_keys() {
    let env = Env::start();
    let names: Vec<&str> = SELECTED.iter().map(|(s, _)| *s).collect();
    odd_bytes(&env, "/admins", ODD_NAME.0, ODD_NAME.1);
    let full = read_raw(
        &env,
        &catalog(
            &names.iter().map(|s| (*s, None)).collect::<Vec<_>>(),
            "full_refresh",
        ),
        None,
    );
    assert_eq!(full.code, 0, "{:?}", full.errors());
    odd_bytes(&env, "/admins", ODD_NAME.0, ODD_NAME.1);
    let trimmed = read_raw(
        &env,
        &catalog(
            &SELECTED
                .iter()
                .map(|(s, f)| (*s, Some(selecting(s, f))))
                .collect::<Vec<_>>(),
            "full_refresh",
        ),
        None,
    );
    assert_eq!(trimmed.code, 0, "{:?}", trimmed.errors());
    for (stream, selected) in SELECTED {
        let seen = check_trimmed(stream, selected, &full, &trimmed);
        assert!(!seen.is_empty(), "{stream}: records to check");
        // The selected fields are there (the workspace has them), or the test says nothing.
        for f in *selected {
            assert!(
                seen.get(*f).copied().unwrap_or(0) > 0,
                "{stream}: no record has `{f}`: {seen:?}"
            );
        }
        // Each trimmed stream says so once; nothing warns.
        let said: Vec<&str> = trimmed
            .logs("INFO")
            .into_iter()
            .filter(|l| l.starts_with(&format!("stream {stream}: writing ")))
            .collect();
        assert_eq!(said.len(), 1, "{stream}: {said:?}");
    }
    assert!(
        trimmed.logs("WARN").is_empty(),
        "{:?}",
        trimmed.logs("WARN")
    );
    // The streams' states are those of the full read.
    assert_eq!(trimmed.state_counts(), full.state_counts());
    assert_eq!(trimmed.positions(), full.positions());
}

#[test]
fn a_full_or_empty_schema_gets_the_bytes_intercom_sent() {
    let env = Env::start();
    let streams = ["contacts", "admins", "conversation_parts", "counts"];
    let (contacts, admins) = env.fake.with_workspace(|w| {
        let text = |v: &Vec<Value>, (find, with): (&str, &str)| -> BTreeSet<String> {
            v.iter()
                .map(|o| serde_json::to_string(o).expect("json").replace(find, with))
                .collect()
        };
        // A contact with a list of more than 10 is written whole, not as sent
        // (tests/suite/relations.rs): those are left out here.
        let sent_whole: Vec<Value> = w
            .contacts
            .iter()
            .filter(|c| !w.long_contact_lists.contains_key(&id_of(&c["id"])))
            .cloned()
            .collect();
        (text(&sent_whole, ("", "")), text(&w.admins, ODD_NAME))
    });
    let rewritten: BTreeSet<String> = env
        .fake
        .with_workspace(|w| w.long_contact_lists.keys().cloned().collect());
    let schemas: [(&str, Option<Value>); 5] = [
        ("discovered", None),
        ("empty", Some(json!({}))),
        ("without properties", Some(json!({"type": "object"}))),
        (
            "empty properties",
            Some(json!({"type": "object", "properties": {}})),
        ),
        ("null properties", Some(json!({"properties": null}))),
    ];
    let mut first: Option<BTreeMap<&str, BTreeSet<String>>> = None;
    for (case, schema) in schemas {
        let cat = catalog(
            &streams
                .iter()
                .map(|s| (*s, schema.clone()))
                .collect::<Vec<_>>(),
            "full_refresh",
        );
        odd_bytes(&env, "/admins", ODD_NAME.0, ODD_NAME.1);
        let run = read_raw(&env, &cat, None);
        assert_eq!(run.code, 0, "{case}: {:?}", run.errors());
        let got: BTreeMap<&str, BTreeSet<String>> = streams
            .iter()
            .map(|s| {
                let data = run.data(s).into_iter().filter(|d| {
                    let v: Value = serde_json::from_str(d).unwrap_or(Value::Null);
                    *s != "contacts" || !rewritten.contains(&id_of(&v["id"]))
                });
                (*s, data.map(str::to_string).collect())
            })
            .collect();
        // Byte for byte, the workspace's own JSON of each object (the admins' as the
        // answer's odd bytes have it).
        for (stream, want) in [("contacts", &contacts), ("admins", &admins)] {
            let odd: Vec<&String> = got[stream].symmetric_difference(want).take(2).collect();
            assert!(odd.is_empty(), "{case}: {stream} differ: {odd:?}");
        }
        assert!(!run.stdout.contains("writing "), "{case}: nothing is cut");
        assert!(
            run.logs("WARN").is_empty(),
            "{case}: {:?}",
            run.logs("WARN")
        );
        // The same records whichever way every column is asked for.
        match &first {
            None => first = Some(got),
            Some(f) => assert_eq!(&got, f, "{case}"),
        }
    }
}

#[test]
fn an_unknown_selected_field_is_one_warning_not_an_error() {
    let env = Env::start();
    let cat = catalog(
        &[
            (
                "contacts",
                Some(selecting(
                    "contacts",
                    &["email", "no_such_field", "another_missing"],
                )),
            ),
            (
                "conversations",
                Some(selecting("conversations", &["bogus"])),
            ),
            ("admins", Some(selecting("admins", &["name"]))),
        ],
        "full_refresh",
    );
    let run = read_raw(&env, &cat, None);
    assert_eq!(run.code, 0, "{:?}", run.errors());
    let warns = run.logs("WARN");
    for (stream, names) in [
        ("contacts", &["`no_such_field`", "`another_missing`"][..]),
        ("conversations", &["`bogus`"][..]),
    ] {
        let mine: Vec<&&str> = warns
            .iter()
            .filter(|w| w.starts_with(&format!("stream {stream}:")))
            .collect();
        assert_eq!(mine.len(), 1, "{stream}: one warning: {warns:?}");
        for n in names {
            assert!(mine[0].contains(n), "{stream}: names {n}: {}", mine[0]);
        }
    }
    assert_eq!(warns.len(), 2, "{warns:?}");
    // The known names are kept; a selection of unknown names alone is every field.
    for r in run.records("contacts") {
        let keys: BTreeSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(
            keys.is_subset(&BTreeSet::from(["email", "id", "updated_at"]))
                && keys.contains("id")
                && keys.contains("updated_at"),
            "{keys:?}"
        );
    }
    let conversations = env.fake.with_workspace(|w| w.conversations.len());
    assert_eq!(run.records("conversations").len(), conversations);
    assert!(run
        .records("conversations")
        .iter()
        .all(|r| r.get("source").is_some()));
    for r in run.records("admins") {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "name"], "{r}");
    }
}

/// The positions of two reads' states agree: equal, or, for a searched stream (whose
/// position follows the sync's start, less the search index lag), no further apart
/// than the reads' starts were.
fn same_positions(a: &Value, b: &Value, apart: i64, path: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let kx: Vec<&String> = x.keys().collect();
            let ky: Vec<&String> = y.keys().collect();
            assert_eq!(kx, ky, "{path}");
            for (k, v) in x {
                same_positions(v, &y[k], apart, &format!("{path}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                same_positions(v, w, apart, &format!("{path}[{i}]"));
            }
        }
        (Value::Number(x), Value::Number(y)) if x.is_i64() && y.is_i64() => {
            let (x, y) = (x.as_i64().unwrap(), y.as_i64().unwrap());
            assert!((x - y).abs() <= apart, "{path}: {x} and {y}");
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

#[test]
fn an_incremental_read_with_trimmed_columns_saves_the_same_state() {
    let env = Env::with(FakeConfig {
        contacts: 700,
        conversations: 60,
        ..FakeConfig::default()
    });
    let selected: &[(&str, &[&str])] = &[
        ("contacts", &["email"]),
        ("conversations", &["state"]),
        ("conversation_parts", &["body"]),
        ("companies", &["name"]),
        ("company_segments", &["name"]),
    ];
    let full_cat = catalog(
        &selected.iter().map(|(s, _)| (*s, None)).collect::<Vec<_>>(),
        "incremental",
    );
    let trimmed_cat = catalog(
        &selected
            .iter()
            .map(|(s, f)| (*s, Some(selecting(s, f))))
            .collect::<Vec<_>>(),
        "incremental",
    );
    let started = std::time::Instant::now();
    let full = read_raw(&env, &full_cat, None);
    let trimmed = read_raw(&env, &trimmed_cat, None);
    let apart = started.elapsed().as_secs() as i64 + 1;
    for run in [&full, &trimmed] {
        assert_eq!(run.code, 0, "{:?}", run.errors());
    }
    for (stream, fields) in selected {
        let seen = check_trimmed(stream, fields, &full, &trimmed);
        assert!(!seen.is_empty(), "{stream}: records to check");
    }
    assert_eq!(trimmed.state_counts(), full.state_counts());
    let (a, b) = (full.positions(), trimmed.positions());
    assert_eq!(a.len(), selected.len(), "{a:?}");
    for (stream, position) in &a {
        same_positions(position, &b[stream], apart, stream);
    }
    // Streams positioned by their records, not the clock, save exactly the same.
    for s in ["companies", "company_segments"] {
        assert_eq!(a[s], b[s], "{s}");
    }

    // The next sync, from either state, brings the same records.
    let state = full.final_state();
    env.fake.with_workspace(|w| {
        let id = w.contacts[3]["id"].as_str().unwrap().to_string();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!(w.touch_contact(&id, now));
    });
    let full2 = read_raw(&env, &full_cat, Some(&state));
    let trimmed2 = read_raw(&env, &trimmed_cat, Some(&trimmed.final_state()));
    for run in [&full2, &trimmed2] {
        assert_eq!(run.code, 0, "{:?}", run.errors());
    }
    for (stream, fields) in selected {
        check_trimmed(stream, fields, &full2, &trimmed2);
    }
    assert!(!full2.data("contacts").is_empty(), "the changed contact");
    assert_eq!(trimmed2.state_counts(), full2.state_counts());
}
