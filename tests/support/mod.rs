//! Test harness: a fake Intercom workspace on 127.0.0.1 and the real connector binary
//! run against it as a subprocess. Every run checks that stdout holds only valid
//! Airbyte messages and that the access token appears nowhere in stdout or stderr.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use fake_intercom::{FakeConfig, FakeIntercom, Fault};
use serde_json::{json, Value};

pub const TOKEN: &str = "tok_7e1f0c_secret_value_x9";
pub const BIN: &str = env!("CARGO_BIN_EXE_source-intercom");
/// The test tool that runs the connector and reports its peak memory (src/bin/peak-rss.rs).
pub const PEAK_RSS: &str = env!("CARGO_BIN_EXE_peak-rss");

/// The Airbyte protocol schema (copied from the protocol repository), as a validator for one message.
fn protocol_validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let text = include_str!("../data/airbyte_protocol.yaml");
        let mut schema: Value = serde_yaml::from_str(text).expect("protocol yaml parses");
        let obj = schema.as_object_mut().expect("object");
        obj.remove("$id");
        obj.remove("properties");
        obj.insert("$ref".into(), json!("#/definitions/AirbyteMessage"));
        jsonschema::draft7::new(&schema).expect("protocol schema compiles")
    })
}

/// Validate one stdout line as an Airbyte message; return it parsed.
pub fn check_protocol_line(line: &str) -> Value {
    let v: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
    let errors: Vec<String> = protocol_validator()
        .iter_errors(&v)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "invalid Airbyte message {line}: {errors:?}"
    );
    let t = v["type"].as_str().expect("type");
    let key = match t {
        "RECORD" => "record",
        "STATE" => "state",
        "LOG" => "log",
        "SPEC" => "spec",
        "CONNECTION_STATUS" => "connectionStatus",
        "CATALOG" => "catalog",
        "TRACE" => "trace",
        other => panic!("unexpected message type {other}"),
    };
    assert!(
        v.get(key).is_some_and(Value::is_object),
        "{t} without its payload: {line}"
    );
    v
}

/// A fault answering `times` GETs of `path` with Intercom's error body.
pub fn error_fault(path: &str, status: u16, code: &str, message: &str, times: usize) -> Fault {
    Fault {
        method: "GET".into(),
        path: path.into(),
        status,
        body: json!({"type": "error.list", "errors": [{"code": code, "message": message}]}),
        times,
        ..Default::default()
    }
}

/// A fault answering `times` GETs of `path` with Intercom's 429 and these headers
/// (`X-RateLimit-*`, `Retry-After`).
pub fn rate_limit_fault(path: &str, headers: &[(&str, &str)], times: usize) -> Fault {
    Fault {
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..error_fault(
            path,
            429,
            "rate_limit_exceeded",
            "Exceeded rate limit of 167 in 10_seconds",
            times,
        )
    }
}

/// The fake's request log, counted: `env.fake.count("GET", "/admins")`.
pub trait RequestCount {
    /// The requests received so far with this method and exactly this path (no query).
    fn count(&self, method: &str, path: &str) -> usize;
}

impl RequestCount for FakeIntercom {
    fn count(&self, method: &str, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }
}

/// One finished run of the connector.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub messages: Vec<Value>,
    pub stderr: String,
    /// The connector process's peak resident memory (its `rusage`), in bytes.
    pub peak_rss: u64,
}

impl Run {
    pub fn of_type(&self, t: &str) -> Vec<&Value> {
        self.messages.iter().filter(|m| m["type"] == t).collect()
    }

    pub fn records(&self, stream: &str) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["record"]["stream"] == stream)
            .map(|m| &m["record"]["data"])
            .collect()
    }

    pub fn record_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for m in self.of_type("RECORD") {
            *counts
                .entry(m["record"]["stream"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        counts
    }

    pub fn states(&self, stream: &str) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| {
                m["type"] == "STATE" && m["state"]["stream"]["stream_descriptor"]["name"] == stream
            })
            .collect()
    }

    pub fn error_traces(&self) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "TRACE" && m["trace"]["type"] == "ERROR")
            .map(|m| &m["trace"]["error"])
            .collect()
    }

    pub fn statuses(&self, stream: &str) -> Vec<String> {
        self.messages
            .iter()
            .filter(|m| {
                m["type"] == "TRACE"
                    && m["trace"]["type"] == "STREAM_STATUS"
                    && m["trace"]["stream_status"]["stream_descriptor"]["name"] == stream
            })
            .map(|m| {
                m["trace"]["stream_status"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    pub fn connection_status(&self) -> &Value {
        let s = self.of_type("CONNECTION_STATUS");
        assert_eq!(
            s.len(),
            1,
            "exactly one CONNECTION_STATUS: {:?}",
            self.messages
        );
        &s[0]["connectionStatus"]
    }

    /// The state the platform would pass to the next sync: each stream's last STATE.
    pub fn final_state(&self) -> Value {
        state_of(&self.messages)
    }

    pub fn logs(&self) -> Vec<String> {
        self.of_type("LOG")
            .iter()
            .map(|m| m["log"]["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// The state the platform would pass after these messages (all of a run, or the part a
/// killed run wrote): the last STATE of each stream.
pub fn state_of(messages: &[Value]) -> Value {
    let mut last: BTreeMap<String, Value> = BTreeMap::new();
    for m in messages.iter().filter(|m| m["type"] == "STATE") {
        let name = m["state"]["stream"]["stream_descriptor"]["name"]
            .as_str()
            .unwrap()
            .to_string();
        last.insert(name, m["state"].clone());
    }
    Value::Array(last.into_values().collect())
}

/// A temp dir holding the files a run needs.
pub struct Files {
    pub dir: tempfile::TempDir,
}

impl Files {
    pub fn new() -> Files {
        Files {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        let mut f = std::fs::File::create(&p).expect("create");
        f.write_all(content.as_bytes()).expect("write");
        p
    }

    pub fn write_json(&self, name: &str, v: &Value) -> PathBuf {
        self.write(name, &serde_json::to_string_pretty(v).expect("json"))
    }
}

/// Run the connector binary with these arguments and environment, checking every output line.
pub fn run_connector(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Keep retries short in tests; individual tests override.
    cmd.env("SOURCE_INTERCOM_BACKOFF_BASE_MS", "20");
    cmd.env("SOURCE_INTERCOM_CHILD_404_PAUSE_MS", "50");
    cmd.env_remove("LOG_LEVEL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (code, stdout, stderr, peak_rss) = run_measured(cmd);
    let stdout = String::from_utf8(stdout).expect("utf8 stdout");
    let stderr = String::from_utf8_lossy(&stderr).to_string();
    assert!(!stdout.contains(TOKEN), "the token leaked to stdout");
    assert!(!stderr.contains(TOKEN), "the token leaked to stderr");
    let messages = stdout.lines().map(check_protocol_line).collect();
    Run {
        code,
        messages,
        stderr,
        peak_rss,
    }
}

/// Run `cmd` to its end: its exit code (-1 if a signal ended it), stdout, stderr, and
/// its peak resident memory in bytes, which the `peak-rss` tool (src/bin) reads from
/// the kernel's account of that one process (`wait4`'s rusage).
fn run_measured(cmd: Command) -> (i32, Vec<u8>, Vec<u8>, u64) {
    let peak_file = tempfile::NamedTempFile::new().expect("a temp file");
    let mut wrapped = Command::new(PEAK_RSS);
    wrapped
        .arg(peak_file.path())
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    let out = wrapped.output().expect("run connector");
    let report = std::fs::read_to_string(peak_file.path()).unwrap_or_default();
    let mut words = report.split_whitespace();
    let peak = words
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| {
            panic!(
                "peak-rss wrote no figure: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    // A signal is -1, as `ExitStatus::code` has it.
    let code = match words.next() {
        Some("signal") => -1,
        _ => out.status.code().unwrap_or(-1),
    };
    (code, out.stdout, out.stderr, peak)
}

/// A running fake workspace plus helpers to build configs and catalogs for it.
pub struct Env {
    pub fake: FakeIntercom,
    pub files: Files,
    /// Environment every read of this workspace gets (before the read's own).
    run_env: Vec<(&'static str, String)>,
}

/// The request rate of an [`Env::with`] workspace and its connector: out of reach.
const UNTHROTTLED_RPM: u32 = 60_000_000;

impl Env {
    /// The default workspace, for a test that is not about rate limits.
    pub fn start() -> Env {
        Env::with(FakeConfig::default())
    }

    /// A workspace for a test that is not about rate limits: its rate limit, and the
    /// connector's own request budget, are out of reach, so that reads take the time their
    /// requests take and never wait out Intercom's 10-second windows.
    pub fn with(cfg: FakeConfig) -> Env {
        let mut env = Env::rate_limited(FakeConfig {
            requests_per_minute: UNTHROTTLED_RPM,
            ..cfg
        });
        env.run_env = vec![(
            "SOURCE_INTERCOM_REQUESTS_PER_MINUTE",
            UNTHROTTLED_RPM.to_string(),
        )];
        env
    }

    /// A workspace with the rate limit `cfg` gives it (Intercom's 10,000 a minute by
    /// default), read by a connector with its default budget (90% of that).
    pub fn rate_limited(mut cfg: FakeConfig) -> Env {
        cfg.token = TOKEN.to_string();
        let fake = FakeIntercom::spawn(cfg).expect("fake starts");
        Env {
            fake,
            files: Files::new(),
            run_env: Vec::new(),
        }
    }

    pub fn config_value(&self) -> Value {
        json!({
            "access_token": TOKEN,
            "start_date": "2020-01-01T00:00:00Z",
            "base_url": self.fake.base_url(),
        })
    }

    pub fn config(&self) -> PathBuf {
        self.files.write_json("config.json", &self.config_value())
    }

    pub fn config_with(&self, patch: Value) -> PathBuf {
        let mut v = self.config_value();
        for (k, val) in patch.as_object().expect("object patch") {
            v[k] = val.clone();
        }
        self.files.write_json("config_patched.json", &v)
    }

    /// A configured catalog of these streams (from `discover`), all in `mode`.
    pub fn catalog(&self, streams: &[&str], mode: &str) -> PathBuf {
        self.files
            .write_json("catalog.json", &configured_catalog(streams, mode))
    }

    /// Read these streams in `mode` with the default config and no state.
    pub fn read_streams(&self, streams: &[&str], mode: &str) -> Run {
        self.read(&self.config(), &self.catalog(streams, mode), None, &[])
    }

    /// A full refresh of these streams with no state, the config patched with `patch`
    /// (`json!({})`: the default one) and these environment variables.
    pub fn read_full_refresh(&self, streams: &[&str], patch: Value, vars: &[(&str, &str)]) -> Run {
        self.read(
            &self.config_with(patch),
            &self.catalog(streams, "full_refresh"),
            None,
            vars,
        )
    }

    pub fn read(
        &self,
        config: &Path,
        catalog: &Path,
        state: Option<&Path>,
        env: &[(&str, &str)],
    ) -> Run {
        let mut args = vec![
            "read",
            "--config",
            config.to_str().unwrap(),
            "--catalog",
            catalog.to_str().unwrap(),
        ];
        if let Some(s) = state {
            args.push("--state");
            args.push(s.to_str().unwrap());
        }
        let mut all_env: Vec<(&str, &str)> =
            self.run_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        all_env.extend_from_slice(env);
        run_connector(&args, &all_env)
    }
}

impl Env {
    /// Start a read of these streams (default config, no state) and return at once, with
    /// its stdout and stderr piped: for tests that watch a read as it runs.
    pub fn spawn_read(&self, streams: &[&str], mode: &str) -> std::process::Child {
        let mut cmd = Command::new(BIN);
        cmd.arg("read")
            .arg("--config")
            .arg(self.config())
            .arg("--catalog")
            .arg(self.catalog(streams, mode))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.env("SOURCE_INTERCOM_CHILD_404_PAUSE_MS", "50");
        for (k, v) in &self.run_env {
            cmd.env(k, v);
        }
        cmd.spawn().expect("start the connector")
    }
}

/// Records per stream that the fake workspace holds.
pub fn expected_counts(env: &Env) -> BTreeMap<String, usize> {
    env.fake.with_workspace(|w| {
        let attrs = w.company_attributes.len()
            + w.contact_attributes.len()
            + w.conversation_attributes.len();
        let app_totals = w
            .counts()
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "type")
            .count();
        BTreeMap::from([
            ("admins".to_string(), w.admins.len()),
            ("teams".to_string(), w.teams.len()),
            ("tags".to_string(), w.tags.len()),
            ("segments".to_string(), w.segments.len()),
            ("company_attributes".to_string(), w.company_attributes.len()),
            ("contact_attributes".to_string(), w.contact_attributes.len()),
            (
                "conversation_attributes".to_string(),
                w.conversation_attributes.len(),
            ),
            ("data_attributes".to_string(), attrs),
            ("subscription_types".to_string(), w.subscription_types.len()),
            ("help_centers".to_string(), w.help_centers.len()),
            ("help_center_collections".to_string(), w.collections.len()),
            ("articles".to_string(), w.articles.len()),
            ("counts".to_string(), app_totals),
            ("conversation_counts".to_string(), 4),
            ("admin_conversation_counts".to_string(), w.admins.len()),
            (
                "user_segment_tag_counts".to_string(),
                w.segments.len() + w.tags.len(),
            ),
            (
                "company_user_segment_tag_counts".to_string(),
                w.companies.len() + w.company_segments.len() + w.tags.len(),
            ),
            ("contacts".to_string(), w.contacts.len()),
            (
                "leads".to_string(),
                w.contacts.iter().filter(|c| c["role"] == "lead").count(),
            ),
            (
                "users".to_string(),
                w.contacts.iter().filter(|c| c["role"] == "user").count(),
            ),
            ("companies".to_string(), w.companies.len()),
            (
                "company_segments".to_string(),
                w.companies
                    .iter()
                    .map(|c| c["segments"]["segments"].as_array().map_or(0, Vec::len))
                    .sum(),
            ),
            ("conversations".to_string(), w.conversations.len()),
            (
                "conversation_parts".to_string(),
                w.conversations
                    .iter()
                    .map(|c| {
                        c["conversation_parts"]["conversation_parts"]
                            .as_array()
                            .map_or(0, |p| p.len().min(500))
                    })
                    .sum(),
            ),
            ("tickets".to_string(), w.tickets.len()),
            ("activity_logs".to_string(), w.activity_logs.len()),
            (
                "deleted_conversations".to_string(),
                w.deleted_conversations.len(),
            ),
        ])
    })
}

/// The discovered catalog (runs `discover` once per test binary).
pub fn discovered() -> &'static Value {
    static CAT: OnceLock<Value> = OnceLock::new();
    CAT.get_or_init(|| {
        let files = Files::new();
        let cfg = files.write_json(
            "c.json",
            &json!({"access_token": TOKEN, "start_date": "2020-01-01T00:00:00Z", "base_url": "http://127.0.0.1:9"}),
        );
        let run = run_connector(&["discover", "--config", cfg.to_str().unwrap()], &[]);
        assert_eq!(run.code, 0, "discover failed: {:?}", run.messages);
        run.of_type("CATALOG")[0]["catalog"].clone()
    })
}

pub fn all_stream_names() -> Vec<String> {
    discovered()["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

pub fn configured_catalog(streams: &[&str], mode: &str) -> Value {
    let all = discovered()["streams"].as_array().unwrap();
    let streams: Vec<Value> = streams
        .iter()
        .map(|name| {
            let s = all
                .iter()
                .find(|s| s["name"] == *name)
                .cloned()
                .unwrap_or_else(|| json!({"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]}));
            json!({"stream": s, "sync_mode": mode, "destination_sync_mode": "overwrite"})
        })
        .collect();
    json!({ "streams": streams })
}

/// A validator for a stream's discovered schema.
pub fn schema_validator(stream: &str) -> jsonschema::Validator {
    let s = discovered()["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == stream)
        .unwrap_or_else(|| panic!("no stream {stream}"));
    jsonschema::draft7::new(&s["json_schema"]).expect("schema compiles")
}

/// The discovered stream of this name.
pub fn discovered_stream(name: &str) -> &'static Value {
    discovered()["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("discover has no stream {name}"))
}

/// The names of the streams `discover` offers in incremental mode.
pub fn incremental_stream_names() -> Vec<&'static str> {
    discovered()["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["supported_sync_modes"]
                .as_array()
                .unwrap()
                .contains(&json!("incremental"))
        })
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

/// A stream's cursor field, as `discover` declares it: the field of its records that
/// its state follows.
pub fn cursor_field(stream: &str) -> &'static str {
    discovered_stream(stream)["default_cursor_field"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{stream} has no cursor field"))
}

/// The key a stream's state saves its position under. The official state shape keeps a
/// child stream's position under its parent's name for it (`updated_at`), not under the
/// child records' copy of that field (`conversation_updated_at`, `company_updated_at`).
pub fn state_key(stream: &str) -> &'static str {
    match cursor_field(stream) {
        "conversation_updated_at" | "company_updated_at" => "updated_at",
        field => field,
    }
}

/// Each discovered stream's primary key: its (top-level) fields.
pub fn primary_keys() -> &'static BTreeMap<String, Vec<String>> {
    static PKS: OnceLock<BTreeMap<String, Vec<String>>> = OnceLock::new();
    PKS.get_or_init(|| {
        discovered()["streams"]
            .as_array()
            .unwrap()
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
            .collect()
    })
}

/// An id as a string, whether it came as 7 or "7".
pub fn id_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A record's (or an object's) primary key as one string: the fields' values joined by
/// `/`, strings without their quotes (an id is the same whether it came as 7 or "7").
pub fn key_of(data: &Value, pk: &[String]) -> String {
    pk.iter()
        .map(|f| id_of(&data[f]))
        .collect::<Vec<_>>()
        .join("/")
}

/// A record of `stream`: its primary key as one string.
pub fn record_key(stream: &str, data: &Value) -> String {
    key_of(data, &primary_keys()[stream])
}

/// (stream, primary key) of every record of a run, with how many times each came.
pub fn keyed(run: &Run) -> BTreeMap<(String, String), usize> {
    keyed_messages(&run.messages)
}

/// (stream, primary key) of every record among these messages, with how many times each came.
pub fn keyed_messages(messages: &[Value]) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for m in messages.iter().filter(|m| m["type"] == "RECORD") {
        let stream = m["record"]["stream"].as_str().unwrap();
        let key = record_key(stream, &m["record"]["data"]);
        *out.entry((stream.to_string(), key)).or_default() += 1;
    }
    out
}

/// The primary keys of every record of a run, per stream.
pub fn keys_per_stream(run: &Run) -> BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut out: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for (stream, key) in keyed(run).into_keys() {
        out.entry(stream).or_default().insert(key);
    }
    out
}

/// Kill-and-resume: for each cut point `n`, the first `n` messages of `full` stand for all
/// a killed sync wrote. A sync resumed from the states among them, together with them,
/// must deliver every record of `full`.
pub fn assert_resumes_without_gaps(
    env: &Env,
    catalog: &Path,
    full: &Run,
    cuts: impl IntoIterator<Item = usize>,
    run_env: &[(&str, &str)],
) {
    resume_at(env, &env.config(), catalog, full, cuts, run_env);
}

/// [`assert_resumes_without_gaps`] with this config; returns, for each cut point, the
/// state the resumed read was given and the resumed read.
pub fn resume_at(
    env: &Env,
    config: &Path,
    catalog: &Path,
    full: &Run,
    cuts: impl IntoIterator<Item = usize>,
    run_env: &[(&str, &str)],
) -> Vec<(usize, Value, Run)> {
    assert_eq!(full.code, 0, "{:?}", full.error_traces());
    let all: std::collections::BTreeSet<(String, String)> = keyed(full).into_keys().collect();
    let total = full.messages.len();
    let mut out = Vec::new();
    for n in cuts {
        let written = &full.messages[..n];
        let state = state_of(written);
        let path = env.files.write_json(&format!("cut{n}.json"), &state);
        let resumed = env.read(config, catalog, Some(&path), run_env);
        assert_eq!(
            resumed.code,
            0,
            "resume after {n}: {:?}",
            resumed.error_traces()
        );
        let mut union = keyed_messages(written);
        union.extend(keyed(&resumed));
        let missing: Vec<_> = all
            .iter()
            .filter(|k| !union.contains_key(*k))
            .take(5)
            .collect();
        assert!(
            missing.is_empty(),
            "killed after {n} of {total} messages: missing {missing:?}"
        );
        out.push((n, state, resumed));
    }
    out
}
