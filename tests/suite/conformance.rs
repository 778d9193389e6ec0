//! Our own run of the acceptance checks: reads `acceptance-test-config.yml` (the file Airbyte's
//! standard tests read; `scripts/standard-tests.sh` runs those against the binary and the image)
//! and performs, against the built binary and the fake workspace of the default seed, what
//! Airbyte's connector acceptance tests checked, including the sections the standard tests no
//! longer run (`incremental`). A full read is compared with the fake workspace's own objects (the
//! oracle), not with a recording of an earlier read. Also: the generated files under
//! `integration_tests/` are compared (`UPDATE_INTEGRATION_TESTS=1` rewrites them),
//! `metadata.yaml` is validated against Airbyte's schema, and the Dockerfile is checked against it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

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

/// Airbyte's standard tests (airbyte-cdk 7.39) refuse the whole file if an entry of a section
/// they collect sets a key they do not read; `scripts/standard-tests.sh` would find out, and so
/// does `cargo test`.
#[test]
fn acceptance_test_config_has_only_keys_the_standard_tests_read() {
    const ENTRY: &[&str] = &[
        "config_path",
        "config_dict",
        "configured_catalog_path",
        "empty_streams",
        "status",
        "bypass_reason",
        "validate_schema",
    ];
    let legacy = |section: &str| -> &[&str] {
        match section {
            "spec" => &[
                "spec_path",
                "backward_compatibility_tests_config",
                "deployment_mode",
            ],
            "connection" => &["deployment_mode"],
            "discovery" => &["backward_compatibility_tests_config"],
            "basic_read" => &[
                "client_container_config",
                "expect_trace_message_on_failure",
                "validate_state_messages",
            ],
            "full_refresh" => &["client_container_config"],
            _ => &[],
        }
    };
    for section in [
        "spec",
        "connection",
        "discovery",
        "basic_read",
        "full_refresh",
    ] {
        for t in cat_tests(section) {
            for key in t.as_object().unwrap().keys() {
                assert!(
                    ENTRY.contains(&key.as_str()) || legacy(section).contains(&key.as_str()),
                    "{section}: `{key}` is not read by the standard tests, which reject it"
                );
            }
        }
    }
}

/// The `status` the `connection` section expects of `check` with this config, if any.
fn expected_status(config_path: &str) -> Option<String> {
    cat_tests("connection")
        .iter()
        .find(|t| t["config_path"] == config_path)
        .and_then(|t| t["status"].as_str().map(String::from))
}

/// A config file for a test. The configs under `secrets/` are written for a workspace by
/// `scripts/standard-tests.sh`; here they are made the same way for the fake:
/// `secrets/config.json` is `integration_tests/sample_config.json` with the fake's token,
/// `secrets/X.json` is `integration_tests/X.json`, and both get the fake's base_url.
fn config_for(env: &Env, path: &str) -> PathBuf {
    let mut v = match path.strip_prefix("secrets/") {
        Some("config.json") => {
            let mut v = read_json("integration_tests/sample_config.json");
            v["access_token"] = json!(TOKEN);
            v
        }
        Some(name) => read_json(&format!("integration_tests/{name}")),
        None => read_json(path),
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

fn abnormal_state() -> Value {
    Value::Array(
        incremental_streams()
            .iter()
            .map(|s| {
                let name = s["name"].as_str().unwrap();
                let mut blob = json!({ state_key(name): 7626086649u64 });
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

/// Compare (or, with UPDATE_INTEGRATION_TESTS=1, rewrite) a generated file.
fn up_to_date(rel: &str, generated: &str, stale: &mut Vec<String>) {
    up_to_date_as(rel, generated, stale, |text| text.to_string());
}

/// [`up_to_date`], comparing the files as `normal` makes them.
fn up_to_date_as(
    rel: &str,
    generated: &str,
    stale: &mut Vec<String>,
    normal: impl Fn(&str) -> String,
) {
    let path = repo(rel);
    if std::env::var("UPDATE_INTEGRATION_TESTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if normal(&current) != normal(generated) {
        stale.push(rel.to_string());
    }
}

/// A saved state with its positions and counts left out: they follow the sync's start
/// (searches save the start less the index lag; activity logs the end of their last
/// full window), and so does which STATE comes last.
fn without_positions(text: &str) -> String {
    let mut v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    for s in v.as_array_mut().into_iter().flatten() {
        if let Some(m) = s.as_object_mut() {
            m.remove("sourceStats");
        }
        if let Some(state) = s["stream"]["stream_state"].as_object_mut() {
            for (_, position) in state.iter_mut() {
                if let Some(inner) = position.as_object_mut() {
                    inner.values_mut().for_each(|p| *p = json!("position"));
                } else {
                    *position = json!("position");
                }
            }
        }
    }
    pretty(&v)
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
    let inc = env.files.write_json("inc.json", &incremental);
    let run = env.read(&config_for(&env, "secrets/config.json"), &inc, None, &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    up_to_date_as(
        "integration_tests/sample_state.json",
        &pretty(&run.final_state()),
        &mut stale,
        without_positions,
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
    let env = Env::start();
    let schema = jsonschema::draft7::new(&spec["connectionSpecification"]).unwrap();
    for t in cat_tests("spec") {
        if let Some(path) = t["spec_path"].as_str() {
            assert_eq!(spec, read_json(path), "spec differs from {path}");
        }
        // Each config listed under `spec` fits the spec (the standard tests' config-matches-spec).
        if let Some(path) = t["config_path"].as_str() {
            let config: Value =
                serde_json::from_str(&std::fs::read_to_string(config_for(&env, path)).unwrap())
                    .unwrap();
            assert!(schema.is_valid(&config), "{path} does not fit the spec");
        }
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
    // The sample configs fit the spec as they are.
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

/// Values by primary key; a key can repeat (tests/suite/keys.rs holds the attribute streams to
/// unique keys).
fn by_key<'a>(
    values: impl IntoIterator<Item = &'a Value>,
    pk: &[String],
) -> BTreeMap<String, Vec<&'a Value>> {
    let mut m: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for v in values {
        m.entry(key_of(v, pk)).or_default().push(v);
    }
    m
}

/// What a full read of a stream must return, from the fake workspace's own objects.
enum Expected {
    /// The objects the endpoint lists: records carry each object's fields with the same values
    /// (plus fields the connector adds, and less those in `not_served`).
    Objects {
        objects: Vec<Value>,
        not_served: &'static [&'static str],
    },
    /// Only the rows' keys (rows the connector derives from other objects).
    Keys(Vec<Value>),
    /// Only the number of rows (the legacy count tables).
    Count(usize),
}

/// The oracle: for every stream, what the fake workspace holds behind it.
fn oracle(env: &Env) -> BTreeMap<&'static str, Expected> {
    use Expected::*;
    env.fake.with_workspace(|w| {
        let objects = |v: &Vec<Value>| Objects {
            objects: v.clone(),
            not_served: &[],
        };
        // Contacts come out with their whole tag, company and note lists.
        let contacts: Vec<Value> = w.contacts.iter().map(|c| with_whole_lists(w, c)).collect();
        let role = |r: &str| Objects {
            objects: contacts
                .iter()
                .filter(|c| c["role"] == r)
                .cloned()
                .collect(),
            not_served: &[],
        };
        let attributes: Vec<Value> = [
            &w.company_attributes,
            &w.contact_attributes,
            &w.conversation_attributes,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        let company_segments = w
            .companies
            .iter()
            .flat_map(|c| {
                c["segments"]["segments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| json!({"company_id": c["id"], "id": s["id"]}))
            })
            .collect();
        let parts = w
            .conversations
            .iter()
            .flat_map(|c| {
                let parts = c["conversation_parts"]["conversation_parts"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                // Intercom returns the most recent 500 parts of a conversation.
                let skip = parts.len().saturating_sub(500);
                parts.into_iter().skip(skip).map(|p| json!({"id": p["id"]}))
            })
            .collect();
        let app_totals = w
            .counts()
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "type")
            .count();
        BTreeMap::from([
            ("admins", objects(&w.admins)),
            ("teams", objects(&w.teams)),
            ("tags", objects(&w.tags)),
            ("segments", objects(&w.segments)),
            ("company_attributes", objects(&w.company_attributes)),
            ("contact_attributes", objects(&w.contact_attributes)),
            (
                "conversation_attributes",
                objects(&w.conversation_attributes),
            ),
            (
                "data_attributes",
                Objects {
                    objects: attributes,
                    not_served: &[],
                },
            ),
            ("subscription_types", objects(&w.subscription_types)),
            ("help_centers", objects(&w.help_centers)),
            ("help_center_collections", objects(&w.collections)),
            ("articles", objects(&w.articles)),
            ("contacts", objects(&contacts)),
            ("leads", role("lead")),
            ("users", role("user")),
            ("companies", objects(&w.companies)),
            ("company_segments", Keys(company_segments)),
            (
                "conversations",
                // The search lists conversations without their parts (conversation_parts reads them).
                Objects {
                    objects: w.conversations.clone(),
                    not_served: &["conversation_parts"],
                },
            ),
            ("conversation_parts", Keys(parts)),
            ("tickets", objects(&w.tickets)),
            ("activity_logs", objects(&w.activity_logs)),
            ("deleted_conversations", objects(&w.deleted_conversations)),
            ("admin_conversation_counts", Keys(w.admins.clone())),
            ("counts", Count(app_totals)),
            ("conversation_counts", Count(4)),
            (
                "user_segment_tag_counts",
                Count(w.segments.len() + w.tags.len()),
            ),
            (
                "company_user_segment_tag_counts",
                Count(w.companies.len() + w.company_segments.len() + w.tags.len()),
            ),
        ])
    })
}

/// A contact as the connector emits it: each embedded list that has more replaced by the
/// whole list, in the order its endpoint serves it, as `{type, id, url}` entries.
fn with_whole_lists(w: &fake_intercom::Workspace, contact: &Value) -> Value {
    let mut c = contact.clone();
    let id = id_of(&contact["id"]);
    for (field, kind, prefix) in [
        ("tags", "tag", "/tags"),
        ("companies", "company", "/companies"),
        ("notes", "note", "/notes"),
    ] {
        if c[field]["has_more"] != json!(true) {
            continue;
        }
        let ids: Vec<String> = match field {
            "tags" => w
                .contact_tags(&id)
                .unwrap_or_default()
                .iter()
                .map(|t| id_of(&t["id"]))
                .collect(),
            "companies" => w
                .contact_companies(&id)
                .unwrap_or_default()
                .iter()
                .map(|t| id_of(&t["id"]))
                .collect(),
            _ => w
                .contact_notes(&id)
                .unwrap_or_default()
                .iter()
                .map(|t| id_of(&t["id"]))
                .collect(),
        };
        let entries: Vec<Value> = ids
            .iter()
            .map(|e| json!({"type": kind, "id": e, "url": format!("{prefix}/{e}")}))
            .collect();
        c[field]["total_count"] = json!(entries.len());
        c[field]["has_more"] = json!(false);
        c[field]["data"] = Value::Array(entries);
    }
    c
}

/// Where a full read's records differ from the oracle (empty if they match).
fn oracle_differences(env: &Env, run: &Run, streams: &[&Value]) -> Vec<String> {
    let oracle = oracle(env);
    let pks = primary_keys();
    let mut problems = vec![];
    for s in streams {
        let name = s["name"].as_str().unwrap();
        let records = run.records(name);
        let Some(expected) = oracle.get(name) else {
            problems.push(format!("{name}: the oracle does not know this stream"));
            continue;
        };
        let pk = &pks[name];
        let (wanted, not_served): (&[Value], &[&str]) = match expected {
            Expected::Count(n) => {
                if records.len() != *n {
                    problems.push(format!(
                        "{name}: {} rows, the workspace has {n}",
                        records.len()
                    ));
                }
                continue;
            }
            Expected::Keys(keys) => (keys, &[]),
            Expected::Objects {
                objects,
                not_served,
            } => (objects, not_served),
        };
        let got = by_key(records, pk);
        let want = by_key(wanted, pk);
        let missing: Vec<&String> = want
            .iter()
            .filter(|(k, v)| got.get(*k).map_or(0, Vec::len) < v.len())
            .map(|(k, _)| k)
            .collect();
        let extra: Vec<&String> = got
            .iter()
            .filter(|(k, v)| want.get(*k).map_or(0, Vec::len) < v.len())
            .map(|(k, _)| k)
            .collect();
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!(
                "{name}: {} keys missing (e.g. {:?}), {} more often than in the workspace (e.g. {:?})",
                missing.len(),
                missing.first(),
                extra.len(),
                extra.first()
            ));
        }
        if matches!(expected, Expected::Keys(_)) {
            continue;
        }
        // Field by field: how many records differ, and the first that does.
        let same = |object: &Value, record: &Value, field: &str| {
            not_served.contains(&field) || record.get(field) == object.get(field)
        };
        let mut differing: BTreeMap<&str, (usize, String)> = BTreeMap::new();
        for (k, objects) in &want {
            let Some(records) = got.get(k) else { continue };
            for object in objects {
                let fields = object.as_object().unwrap();
                if records
                    .iter()
                    .any(|r| fields.keys().all(|f| same(object, r, f)))
                {
                    continue;
                }
                for (field, value) in fields {
                    if !same(object, records[0], field) {
                        let example = format!(
                            "{k}: {} instead of {}",
                            records[0].get(field).map_or("missing".into(), short),
                            short(value)
                        );
                        differing.entry(field).or_insert((0, example)).0 += 1;
                    }
                }
            }
        }
        for (field, (n, example)) in differing {
            problems.push(format!(
                "{name}.{field} differs in {n} records, e.g. {example}"
            ));
        }
    }
    problems
}

/// A value for a message, cut short.
fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(80) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text,
    }
}

#[test]
fn cat_basic_read() {
    let env = Env::start();
    for t in cat_tests("basic_read") {
        let path = t["config_path"].as_str().unwrap();
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
        let run = env.read(&config_for(&env, path), &catalog, None, &[]);
        if expected_status(path).as_deref() == Some("failed") {
            // A config whose check must fail (a rejected token) fails a read too, with an error.
            assert_ne!(run.code, 0, "{path}: read succeeded");
            assert!(!run.error_traces().is_empty(), "{path}: no ERROR trace");
            continue;
        }
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
        // The records are the fake workspace's own objects.
        let problems = oracle_differences(&env, &run, &streams);
        assert!(
            problems.is_empty(),
            "{} differences from the workspace:\n{}",
            problems.len(),
            problems[..problems.len().min(40)].join("\n")
        );
        // The comparison catches what it should: a changed field and a lost record.
        let mut tampered = Run {
            code: 0,
            messages: run.messages.clone(),
            stderr: String::new(),
            peak_rss: 0,
        };
        let record_of = |run: &Run, stream: &str| {
            run.messages
                .iter()
                .position(|m| m["type"] == "RECORD" && m["record"]["stream"] == stream)
                .unwrap()
        };
        let i = record_of(&tampered, "admins");
        tampered.messages[i]["record"]["data"]["email"] = json!("changed@example.com");
        let i = record_of(&tampered, "tickets");
        tampered.messages.remove(i);
        let problems = oracle_differences(&env, &tampered, &streams);
        assert_eq!(problems.len(), 2, "{problems:?}");
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
        let records = |r: &Run| -> Vec<String> {
            let mut v: Vec<String> = r
                .of_type("RECORD")
                .iter()
                .map(|m| format!("{}{}", m["record"]["stream"], m["record"]["data"]))
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
        .and_then(|s| {
            s["stream"]["stream_state"][state_key(stream["name"].as_str().unwrap())].as_i64()
        })
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
        let state = first.final_state();
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
            let mid = state_of(&first.messages[..=i]);
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
