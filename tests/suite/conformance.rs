//! Our own run of the connector acceptance tests: reads `acceptance-test-config.yml` and
//! performs what Airbyte's connector-acceptance-test checks, against the built binary and
//! the fake workspace of the default seed (the acceptance-test runner needs a Docker
//! engine, which our machines lack). Also: the files under `integration_tests/` are
//! regenerated and compared (`UPDATE_INTEGRATION_TESTS=1` rewrites them), `metadata.yaml`
//! is validated against Airbyte's schema, and the Dockerfile is checked against it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::incremental::state_after;
use crate::support::*;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read_text(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn read_json(rel: &str) -> Value {
    serde_json::from_str(&read_text(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> Value {
    serde_yaml::from_str(&read_text(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The acceptance-test-config.yml section's tests.
fn cat_tests(section: &str) -> Vec<Value> {
    let cfg = yaml("acceptance-test-config.yml");
    assert_eq!(cfg["test_strictness_level"], "high");
    cfg["acceptance_tests"][section]["tests"]
        .as_array()
        .unwrap_or_else(|| panic!("acceptance-test-config.yml declares no {section} tests"))
        .clone()
}

/// A config file for a test: `secrets/config.json` is the sample config pointed at the
/// fake; any other config gets the fake's base_url if it names no host.
fn config_for(env: &Env, path: &str) -> PathBuf {
    let mut v = if path == "secrets/config.json" {
        let mut v = read_json("integration_tests/sample_config.json");
        v["access_token"] = json!(TOKEN);
        v
    } else {
        read_json(path)
    };
    if v.get("base_url").is_none() {
        v["base_url"] = json!(env.fake.base_url());
    }
    env.files
        .write_json(&format!("cfg-{}.json", path.replace('/', "_")), &v)
}

fn spec() -> Value {
    let run = run_connector(&["spec"], &[]);
    assert_eq!(run.code, 0);
    run.of_type("SPEC")[0]["spec"].clone()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap() + "\n"
}

/// A configured catalog of discovered streams in a sync mode.
fn catalog_of(streams: &[&Value], mode: &str) -> Value {
    json!({"streams": streams.iter().map(|s| json!({
        "stream": s,
        "sync_mode": mode,
        "destination_sync_mode": if mode == "incremental" { "append" } else { "overwrite" },
    })).collect::<Vec<_>>()})
}

fn discovered_streams() -> Vec<&'static Value> {
    discovered()["streams"].as_array().unwrap().iter().collect()
}

fn incremental_streams() -> Vec<&'static Value> {
    discovered_streams()
        .into_iter()
        .filter(|s| {
            s["supported_sync_modes"]
                .as_array()
                .unwrap()
                .contains(&json!("incremental"))
        })
        .collect()
}

/// The key a stream's state saves its position under.
fn state_key(stream: &Value) -> String {
    let name = stream["name"].as_str().unwrap();
    match name {
        "conversation_parts" | "company_segments" => "updated_at".into(),
        _ => stream["default_cursor_field"][0]
            .as_str()
            .unwrap()
            .to_string(),
    }
}

fn abnormal_state() -> Value {
    Value::Array(
        incremental_streams()
            .iter()
            .map(|s| {
                let name = s["name"].as_str().unwrap();
                let key = state_key(s);
                let mut blob = json!({ key.clone(): 7626086649u64 });
                match name {
                    "conversation_parts" => blob["conversations"] = json!({"updated_at": 7626086649u64}),
                    "company_segments" => blob["companies"] = json!({"updated_at": 7626086649u64}),
                    _ => {}
                }
                json!({"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": blob}})
            })
            .collect(),
    )
}

/// Records of a run as expected_records.jsonl lines (emitted_at fixed: it is ignored).
fn records_jsonl(run: &Run) -> String {
    let mut out = String::new();
    for m in run.of_type("RECORD") {
        let line = json!({"stream": m["record"]["stream"], "data": m["record"]["data"], "emitted_at": 1700000000000u64});
        out.push_str(&serde_json::to_string(&line).unwrap());
        out.push('\n');
    }
    out
}

/// Compare (or, with UPDATE_INTEGRATION_TESTS=1, rewrite) a generated file.
fn up_to_date(rel: &str, generated: &str, stale: &mut Vec<String>) {
    let path = repo(rel);
    if std::env::var("UPDATE_INTEGRATION_TESTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != generated {
        stale.push(rel.to_string());
    }
}

#[test]
fn integration_tests_files_are_current() {
    let mut stale = vec![];
    up_to_date(
        "integration_tests/expected_spec.json",
        &pretty(&spec()),
        &mut stale,
    );
    up_to_date(
        "integration_tests/configured_catalog.json",
        &pretty(&catalog_of(&discovered_streams(), "full_refresh")),
        &mut stale,
    );
    let incremental = catalog_of(&incremental_streams(), "incremental");
    up_to_date(
        "integration_tests/incremental_catalog.json",
        &pretty(&incremental),
        &mut stale,
    );
    up_to_date(
        "integration_tests/abnormal_state.json",
        &pretty(&abnormal_state()),
        &mut stale,
    );

    let env = Env::start();
    let full = env.files.write_json(
        "full.json",
        &catalog_of(&discovered_streams(), "full_refresh"),
    );
    let run = env.read(&config_for(&env, "secrets/config.json"), &full, None, &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    up_to_date(
        "integration_tests/expected_records.jsonl",
        &records_jsonl(&run),
        &mut stale,
    );

    let inc = env.files.write_json("inc.json", &incremental);
    let run = env.read(&config_for(&env, "secrets/config.json"), &inc, None, &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    up_to_date(
        "integration_tests/sample_state.json",
        &pretty(&state_after(&[&run])),
        &mut stale,
    );

    assert!(
        stale.is_empty(),
        "out of date: {stale:?}; regenerate with `UPDATE_INTEGRATION_TESTS=1 cargo test conformance::integration_tests_files_are_current` and review the diff"
    );
}

// ---------------------------------------------------------------- spec

/// Spec lints of the acceptance tests: secrets marked, enums unique, no forbidden
/// keywords, at most [T, "null"] types, no closed objects, unique `order`s, OAuth paths exist.
fn spec_problems(spec: &Value) -> Vec<String> {
    let mut problems = vec![];
    let conn = &spec["connectionSpecification"];
    fn walk(v: &Value, path: &str, problems: &mut Vec<String>) {
        let Some(obj) = v.as_object() else { return };
        for k in [
            "not",
            "anyOf",
            "allOf",
            "patternProperties",
            "prefixItems",
            "if",
            "then",
            "else",
            "dependentSchemas",
            "dependentRequired",
        ] {
            if obj.contains_key(k) {
                problems.push(format!("{path}: forbidden keyword {k}"));
            }
        }
        if obj.get("additionalProperties") == Some(&json!(false)) {
            problems.push(format!("{path}: additionalProperties false"));
        }
        if let Some(Value::Array(types)) = obj.get("type") {
            if types.len() > 2 || (types.len() == 2 && !types.contains(&json!("null"))) {
                problems.push(format!("{path}: type {types:?}"));
            }
        }
        if let Some(Value::Array(e)) = obj.get("enum") {
            let unique: BTreeSet<String> = e.iter().map(|x| x.to_string()).collect();
            if unique.len() != e.len() {
                problems.push(format!("{path}: duplicate enum values"));
            }
        }
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            let mut orders = BTreeSet::new();
            for (name, p) in props {
                let secretish = [
                    "token",
                    "secret",
                    "password",
                    "api_key",
                    "credentials",
                    "client_id",
                ]
                .iter()
                .any(|w| name.contains(w));
                let is_string = p["type"] == "string";
                if secretish && is_string && p["airbyte_secret"] != true {
                    problems.push(format!(
                        "{path}.{name}: looks secret but is not airbyte_secret"
                    ));
                }
                if p.get("airbyte_secret").is_some() && !is_string {
                    problems.push(format!("{path}.{name}: airbyte_secret on a non-string"));
                }
                if let Some(o) = p.get("order") {
                    if !orders.insert(o.to_string()) {
                        problems.push(format!("{path}.{name}: duplicate order {o}"));
                    }
                }
                walk(p, &format!("{path}.{name}"), problems);
            }
        }
    }
    walk(conn, "connectionSpecification", &mut problems);
    let props = &conn["properties"];
    for section in [
        "complete_oauth_output_specification",
        "complete_oauth_server_output_specification",
    ] {
        if let Some(p) =
            spec["advanced_auth"]["oauth_config_specification"][section]["properties"].as_object()
        {
            for (k, v) in p {
                let path = v["path_in_connector_config"][0]
                    .as_str()
                    .unwrap_or_default();
                if props.get(path).is_none() {
                    problems.push(format!(
                        "advanced_auth {section}.{k}: {path} is not a config field"
                    ));
                }
            }
        }
    }
    problems
}

#[test]
fn cat_spec() {
    let spec = spec();
    for t in cat_tests("spec") {
        let expected = read_json(t["spec_path"].as_str().unwrap());
        assert_eq!(spec, expected, "spec differs from {}", t["spec_path"]);
    }
    let problems = spec_problems(&spec);
    assert!(problems.is_empty(), "{problems:?}");
    // The lints catch what they should.
    let mut bad = spec.clone();
    bad["connectionSpecification"]["properties"]["api_token"] =
        json!({"type": "string", "order": 0});
    bad["connectionSpecification"]["properties"]["x"] =
        json!({"anyOf": [], "type": ["string", "integer"]});
    assert_eq!(spec_problems(&bad).len(), 4, "{:?}", spec_problems(&bad));
    // The sample config fits the spec.
    let schema = jsonschema::draft7::new(&spec["connectionSpecification"]).unwrap();
    for f in [
        "integration_tests/sample_config.json",
        "integration_tests/invalid_config.json",
    ] {
        assert!(schema.is_valid(&read_json(f)), "{f} does not fit the spec");
    }
}

// ---------------------------------------------------------------- connection

#[test]
fn cat_connection() {
    let env = Env::start();
    for t in cat_tests("connection") {
        let path = t["config_path"].as_str().unwrap();
        let run = run_connector(
            &[
                "check",
                "--config",
                config_for(&env, path).to_str().unwrap(),
            ],
            &[],
        );
        let want = t["status"].as_str().unwrap();
        match want {
            "succeed" | "failed" => {
                assert_eq!(run.code, 0, "{path}");
                let status = run.connection_status()["status"]
                    .as_str()
                    .unwrap()
                    .to_string();
                assert_eq!(
                    status,
                    if want == "succeed" {
                        "SUCCEEDED"
                    } else {
                        "FAILED"
                    },
                    "{path}"
                );
            }
            "exception" => assert!(!run.error_traces().is_empty(), "{path}"),
            other => panic!("unknown status {other}"),
        }
    }
}

// ---------------------------------------------------------------- discovery

#[test]
fn cat_discovery() {
    assert!(!cat_tests("discovery").is_empty());
    let streams = discovered_streams();
    assert!(!streams.is_empty());
    let names: BTreeSet<&str> = streams
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), streams.len(), "unique names");
    for s in streams {
        let name = s["name"].as_str().unwrap();
        let schema = &s["json_schema"];
        assert!(
            jsonschema::draft7::meta::is_valid(schema),
            "{name}: not a valid draft-07 schema"
        );
        let text = schema.to_string();
        for k in ["\"$ref\"", "\"allOf\"", "\"not\""] {
            assert!(!text.contains(k), "{name}: uses {k}");
        }
        assert!(
            !text.contains("\"additionalProperties\":false"),
            "{name}: closed object"
        );
        assert!(!s["supported_sync_modes"].as_array().unwrap().is_empty());
        let props = schema["properties"].as_object().unwrap();
        if let Some(cursor) = s["default_cursor_field"].as_array() {
            assert!(
                props.contains_key(cursor[0].as_str().unwrap()),
                "{name}: cursor not in schema"
            );
            assert_eq!(s["source_defined_cursor"], true);
        }
        for pk in s["source_defined_primary_key"].as_array().unwrap() {
            let field = pk[0].as_str().unwrap();
            let t = props
                .get(field)
                .unwrap_or_else(|| panic!("{name}: pk {field} not in schema"));
            let types = t["type"].to_string();
            assert!(
                !types.contains("object") && !types.contains("array"),
                "{name}: pk {field} is {types}"
            );
        }
    }
}

// ---------------------------------------------------------------- basic read

/// `ignored_fields` of a test: stream name to the fields left out of comparisons (volatile values).
fn ignored_fields(t: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(map) = t["ignored_fields"].as_object() {
        for (stream, fields) in map {
            for f in fields.as_array().into_iter().flatten() {
                assert!(
                    f["bypass_reason"].is_string(),
                    "ignored field without bypass_reason"
                );
                out.entry(stream.clone())
                    .or_default()
                    .push(f["name"].as_str().unwrap().to_string());
            }
        }
    }
    out
}

fn without_ignored(
    stream: &str,
    mut data: Value,
    ignored: &BTreeMap<String, Vec<String>>,
) -> Value {
    for f in ignored.get(stream).into_iter().flatten() {
        if let Some(obj) = data.as_object_mut() {
            obj.remove(f);
        }
    }
    data
}

/// Records keyed by stream and primary key.
fn by_key(lines: impl Iterator<Item = (String, Value)>) -> BTreeMap<(String, String), Value> {
    let pks: BTreeMap<String, Vec<String>> = discovered_streams()
        .iter()
        .map(|s| {
            let pk = s["source_defined_primary_key"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p[0].as_str().unwrap().to_string())
                .collect();
            (s["name"].as_str().unwrap().to_string(), pk)
        })
        .collect();
    lines
        .map(|(stream, data)| {
            let key = pks[&stream]
                .iter()
                .map(|f| data[f].to_string())
                .collect::<Vec<_>>()
                .join("|");
            ((stream, key), data)
        })
        .collect()
}

#[test]
fn cat_basic_read() {
    let env = Env::start();
    for t in cat_tests("basic_read") {
        assert!(
            t.get("configured_catalog_path").is_none(),
            "high strictness reads the discovered catalog"
        );
        let empty: BTreeSet<String> = t["empty_streams"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        assert!(
                            e["bypass_reason"].is_string(),
                            "empty stream without bypass_reason"
                        );
                        e["name"].as_str().unwrap().to_string()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let streams: Vec<&Value> = discovered_streams()
            .into_iter()
            .filter(|s| !empty.contains(s["name"].as_str().unwrap()))
            .collect();
        let catalog = env
            .files
            .write_json("basic.json", &catalog_of(&streams, "full_refresh"));
        let run = env.read(
            &config_for(&env, t["config_path"].as_str().unwrap()),
            &catalog,
            None,
            &[],
        );
        assert_eq!(run.code, 0, "{:?}", run.error_traces());
        for s in &streams {
            let name = s["name"].as_str().unwrap();
            assert!(
                !run.records(name).is_empty(),
                "{name}: no records and not declared empty"
            );
            assert_eq!(
                run.statuses(name),
                vec!["STARTED", "RUNNING", "COMPLETE"],
                "{name}"
            );
            let states = run.states(name);
            assert!(!states.is_empty(), "{name}: no state");
            for st in states {
                assert_eq!(st["state"]["type"], "STREAM");
                assert!(st["state"]["sourceStats"]["recordCount"].is_number());
            }
            let v = schema_validator(name);
            for r in run.records(name) {
                assert!(v.is_valid(r), "{name}: record does not fit the schema: {r}");
                for pk in s["source_defined_primary_key"].as_array().unwrap() {
                    let val = &r[pk[0].as_str().unwrap()];
                    assert!(!val.is_object() && !val.is_array(), "{name}: pk is {val}");
                }
            }
        }
        // Expected records, matched by primary key.
        let expect = &t["expect_records"];
        let text = read_text(expect["path"].as_str().unwrap());
        let ignored = ignored_fields(&t);
        let expected = by_key(text.lines().map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let stream = v["stream"].as_str().unwrap().to_string();
            let data = without_ignored(&stream, v["data"].clone(), &ignored);
            (stream, data)
        }));
        let got = by_key(run.of_type("RECORD").iter().map(|m| {
            let stream = m["record"]["stream"].as_str().unwrap().to_string();
            let data = without_ignored(&stream, m["record"]["data"].clone(), &ignored);
            (stream, data)
        }));
        for (k, v) in &expected {
            assert_eq!(
                got.get(k),
                Some(v),
                "expected record {k:?} missing or different"
            );
        }
    }
    // An invalid catalog gives an ERROR trace.
    let invalid = env.files.write_json(
        "invalid.json",
        &json!({"streams": [{"stream": {"name": "__AIRBYTE__stream_that_does_not_exist", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}, "sync_mode": "INVALID", "destination_sync_mode": "INVALID"}]}),
    );
    let run = env.read(
        &config_for(&env, "secrets/config.json"),
        &invalid,
        None,
        &[],
    );
    assert_ne!(run.code, 0);
    assert!(!run.error_traces().is_empty());
}

// ---------------------------------------------------------------- full refresh

#[test]
fn cat_full_refresh() {
    let env = Env::start();
    for t in cat_tests("full_refresh") {
        let catalog = repo(t["configured_catalog_path"].as_str().unwrap());
        let config = config_for(&env, t["config_path"].as_str().unwrap());
        let first = env.read(&config, &catalog, None, &[]);
        let second = env.read(&config, &catalog, None, &[]);
        assert_eq!(first.code, 0, "{:?}", first.error_traces());
        assert_eq!(second.code, 0);
        let ignored = ignored_fields(&t);
        let records = |r: &Run| -> Vec<String> {
            let mut v: Vec<String> = r
                .of_type("RECORD")
                .iter()
                .map(|m| {
                    let stream = m["record"]["stream"].as_str().unwrap();
                    let data = without_ignored(stream, m["record"]["data"].clone(), &ignored);
                    format!("{stream}{data}")
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            records(&first),
            records(&second),
            "two full refreshes differ"
        );
    }
}

// ---------------------------------------------------------------- incremental

fn state_value(state: &Value, stream: &Value) -> Option<i64> {
    let name = stream["name"].as_str().unwrap();
    state
        .as_array()?
        .iter()
        .find(|s| s["stream"]["stream_descriptor"]["name"] == name)
        .and_then(|s| s["stream"]["stream_state"][state_key(stream)].as_i64())
}

#[test]
fn cat_incremental() {
    let env = Env::start();
    for t in cat_tests("incremental") {
        let catalog_path = repo(t["configured_catalog_path"].as_str().unwrap());
        let catalog: Value = read_json(t["configured_catalog_path"].as_str().unwrap());
        let streams: Vec<Value> = catalog["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["stream"].clone())
            .collect();
        let config = config_for(&env, t["config_path"].as_str().unwrap());

        // Two sequential reads: the second yields nothing older than the first's state.
        let first = env.read(&config, &catalog_path, None, &[]);
        assert_eq!(first.code, 0, "{:?}", first.error_traces());
        assert!(!first.of_type("RECORD").is_empty() && !first.of_type("STATE").is_empty());
        let check_after = |state: &Value, run: &Run, what: &str| {
            for s in &streams {
                let name = s["name"].as_str().unwrap();
                let Some(cursor) = state_value(state, s) else {
                    continue;
                };
                let field = s["default_cursor_field"][0].as_str().unwrap();
                for r in run.records(name) {
                    let v = r[field].as_i64().unwrap_or(i64::MAX);
                    assert!(
                        v >= cursor,
                        "{what}: {name} record with {field} {v} older than the state {cursor}"
                    );
                }
            }
        };
        let state = state_after(&[&first]);
        let second = env.read(
            &config,
            &catalog_path,
            Some(&env.files.write_json("s1.json", &state)),
            &[],
        );
        assert_eq!(second.code, 0);
        check_after(&state, &second, "second read");

        // Sequential slices: resuming from intermediate states obeys the same rule.
        let states: Vec<usize> = first
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m["type"] == "STATE")
            .map(|(i, _)| i)
            .collect();
        for &i in states.iter().step_by((states.len() / 6).max(1)) {
            let prefix = Run {
                code: 0,
                messages: first.messages[..=i].to_vec(),
                stderr: String::new(),
            };
            let mid = state_after(&[&prefix]);
            let run = env.read(
                &config,
                &catalog_path,
                Some(&env.files.write_json("mid.json", &mid)),
                &[],
            );
            assert_eq!(run.code, 0);
            check_after(&mid, &run, "read from an intermediate state");
        }

        // A state from the future yields no records.
        let future = &t["future_state"];
        let path = repo(future["future_state_path"].as_str().unwrap());
        let future_state: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let covered: BTreeSet<&str> = future_state
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["stream"]["stream_descriptor"]["name"].as_str().unwrap())
            .collect();
        for s in &streams {
            assert!(
                covered.contains(s["name"].as_str().unwrap()),
                "future state lacks {}",
                s["name"]
            );
        }
        let run = env.read(&config, &catalog_path, Some(&path), &[]);
        assert_eq!(run.code, 0);
        assert!(
            run.of_type("RECORD").is_empty(),
            "records despite a future state"
        );
    }
}

// ---------------------------------------------------------------- metadata and image

#[test]
fn metadata_is_valid_and_matches_the_crate() {
    let meta = yaml("metadata.yaml");
    let mut schema = read_json("tests/data/ConnectorMetadataDefinitionV0.json");
    // Nested `$id`s point at files we don't have; resolve everything within this document.
    // One definition says `"type": "ConnectorMetric"`, not a JSON type (Python's validator
    // only trips on it if a metadata file has `generated.metrics`): drop such types.
    const TYPES: &[&str] = &[
        "null", "boolean", "object", "array", "number", "string", "integer",
    ];
    fn strip_ids(v: &mut Value, top: bool) {
        match v {
            Value::Object(m) => {
                if !top {
                    m.remove("$id");
                }
                if m.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| !TYPES.contains(&t))
                {
                    m.remove("type");
                }
                m.values_mut().for_each(|x| strip_ids(x, false));
            }
            Value::Array(a) => a.iter_mut().for_each(|x| strip_ids(x, false)),
            _ => {}
        }
    }
    strip_ids(&mut schema, true);
    schema.as_object_mut().unwrap().remove("$id");
    let v = jsonschema::draft7::new(&schema).expect("metadata schema compiles");
    let errors: Vec<String> = v
        .iter_errors(&meta)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "metadata.yaml: {errors:?}");
    let data = &meta["data"];
    assert_eq!(
        data["dockerImageTag"],
        env!("CARGO_PKG_VERSION"),
        "dockerImageTag is the crate version"
    );
    assert_eq!(data["connectorSubtype"], "api");
    assert!(data["tags"]
        .as_array()
        .unwrap()
        .contains(&json!("language:rust")));
    let hosts: BTreeSet<&str> = data["allowedHosts"]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        [
            "api.intercom.io",
            "api.eu.intercom.io",
            "api.au.intercom.io"
        ]
        .into_iter()
        .collect()
    );
    assert!(data["maxSecondsBetweenMessages"].as_u64().unwrap() > 0);
    // The schema rejects what it should.
    let mut bad = meta.clone();
    bad["data"]["registries"] = json!({});
    assert!(!v.is_valid(&bad));
}

/// The runtime stage of the Dockerfile, parsed just enough to check it.
struct Runtime {
    from: String,
    entrypoint: Vec<String>,
    env: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    user: String,
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').to_string()
}

fn dockerfile_runtime() -> Runtime {
    let text = read_text("Dockerfile").replace("\\\n", " ");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let last_from = lines.iter().rposition(|l| l.starts_with("FROM ")).unwrap();
    let mut rt = Runtime {
        from: lines[last_from][5..].trim().to_string(),
        entrypoint: vec![],
        env: BTreeMap::new(),
        labels: BTreeMap::new(),
        user: String::new(),
    };
    for l in &lines[last_from + 1..] {
        let (instr, rest) = l.split_once(' ').unwrap_or((l, ""));
        match instr {
            "ENTRYPOINT" => {
                rt.entrypoint = serde_json::from_str(rest).expect("exec-form ENTRYPOINT")
            }
            "ENV" | "LABEL" => {
                for pair in rest.split_whitespace() {
                    let (k, v) = pair.split_once('=').expect("KEY=value");
                    let map = if instr == "ENV" {
                        &mut rt.env
                    } else {
                        &mut rt.labels
                    };
                    map.insert(k.to_string(), unquote(v));
                }
            }
            "USER" => rt.user = rest.trim().to_string(),
            _ => {}
        }
    }
    rt
}

#[test]
fn dockerfile_agrees_with_metadata() {
    let rt = dockerfile_runtime();
    let meta = yaml("metadata.yaml");
    assert!(
        rt.from.starts_with("debian:bookworm"),
        "runtime base: {}",
        rt.from
    );
    assert_eq!(
        rt.labels["io.airbyte.name"],
        meta["data"]["dockerRepository"].as_str().unwrap()
    );
    assert_eq!(
        rt.labels["io.airbyte.version"],
        meta["data"]["dockerImageTag"].as_str().unwrap()
    );
    assert!(rt.entrypoint[0].starts_with('/'), "absolute entrypoint");
    assert_eq!(
        rt.env["AIRBYTE_ENTRYPOINT"],
        rt.entrypoint.join(" "),
        "AIRBYTE_ENTRYPOINT equals the entrypoint"
    );
    assert_eq!(rt.user, "airbyte");
    assert!(rt.env["HOME"].starts_with("/airbyte"));
    let docker = read_text("Dockerfile");
    assert!(docker.contains("--uid 1000"), "user airbyte has uid 1000");
    assert!(docker.contains("ca-certificates"));
    assert!(docker.contains("--locked"));
}
