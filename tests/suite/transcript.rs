//! A snapshot of one whole read: a small seeded workspace, the full catalog (incremental
//! wherever a stream offers it), and a state to resume some streams from. Any change in
//! what the connector emits (a record's fields, a state's shape, a status, a log line)
//! changes the snapshot and shows up in review.
//!
//! Streams are read concurrently, so the transcript is grouped per stream: its statuses,
//! traces and logs in the order it emitted them, its last state, and its records sorted by
//! primary key (their order within a stream depends on which answer came first). Wall-clock values
//! are normalised: `emitted_at`, a rate limit's reset time, durations and rates in log
//! lines, and positions in states that come from the clock rather than from records.

use std::collections::BTreeMap;

use fake_intercom::{FakeConfig, GENERATION_END};
use serde_json::{json, Value};

use crate::support::*;

/// A workspace small enough to review: a few of everything.
fn small_workspace() -> FakeConfig {
    FakeConfig {
        seed: 7,
        contacts: 5,
        companies: 3,
        conversations: 3,
        parts_per_conversation: 2,
        admins: 2,
        teams: 1,
        tags: 2,
        segments: 2,
        company_segments: 1,
        subscription_types: 1,
        help_centers: 1,
        collections: 2,
        articles: 2,
        tickets: 2,
        activity_logs: 3,
        deleted_conversations: 1,
        ..FakeConfig::default()
    }
}

/// The full catalog: every stream, incremental where it can be.
fn full_catalog() -> Value {
    let incremental = incremental_stream_names();
    let streams: Vec<Value> = discovered()["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let name = s["name"].as_str().unwrap();
            let mode = if incremental.contains(&name) {
                "incremental"
            } else {
                "full_refresh"
            };
            json!({"stream": s, "sync_mode": mode, "destination_sync_mode": "append"})
        })
        .collect();
    json!({ "streams": streams })
}

/// A log line with its timings replaced by `N`: a number followed by a unit of time or
/// rate (`2.5 s`, `340 ms`, `1200 records/s`). Counts of records and cursors stay.
fn without_timings(text: &str) -> String {
    const UNITS: [&str; 4] = [" ms", "ms", " s", "s"];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        let number_len = rest[start..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len() - start);
        let (number, after) = rest[start..].split_at(number_len);
        let timing = after.starts_with(" records/s")
            || after.starts_with("/s")
            || UNITS.iter().any(|u| {
                after.starts_with(u)
                    && !after[u.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
            });
        out.push_str(if timing { "N" } else { number });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// One message as a transcript line, its wall-clock values normalised.
fn line(m: &Value) -> String {
    let mut m = m.clone();
    match m["type"].as_str().unwrap() {
        "RECORD" => m["record"]["emitted_at"] = json!(0),
        "TRACE" => {
            m["trace"]["emitted_at"] = json!(0);
            if m["trace"]["type"] == "STREAM_STATUS" {
                // A rate-limited status says when the quota resets.
                let status = &mut m["trace"]["stream_status"];
                if let Some(reasons) = status.get_mut("reasons").and_then(Value::as_array_mut) {
                    for r in reasons {
                        r["rate_limited"]["quota_reset"] = json!(0);
                    }
                }
            }
        }
        "LOG" => {
            let text = m["log"]["message"].as_str().unwrap().to_string();
            m["log"]["message"] = json!(without_timings(&text));
        }
        _ => {}
    }
    serde_json::to_string(&m).unwrap()
}

/// The stream a message belongs to, if any.
fn stream_of(m: &Value) -> Option<String> {
    let name = match m["type"].as_str().unwrap() {
        "RECORD" => &m["record"]["stream"],
        "STATE" => &m["state"]["stream"]["stream_descriptor"]["name"],
        "TRACE" => match m["trace"]["type"].as_str().unwrap() {
            "STREAM_STATUS" => &m["trace"]["stream_status"]["stream_descriptor"]["name"],
            "ESTIMATE" => &m["trace"]["estimate"]["name"],
            _ => &Value::Null,
        },
        // Log lines about one stream begin with its name.
        "LOG" => {
            let text = m["log"]["message"].as_str().unwrap();
            return text
                .strip_prefix("stream ")
                .and_then(|t| t.split_once(':'))
                .map(|(name, _)| name.to_string());
        }
        _ => &Value::Null,
    };
    name.as_str().map(str::to_string)
}

/// Replace positions taken from the clock with `"CLOCK"`: a windowed stream whose last
/// windows hold no record saves the start of its last window, which moves with the date.
/// No generated record is newer than `GENERATION_END`, so any later position is one.
fn clock_positions(v: &mut Value) {
    match v {
        Value::Number(n) if n.as_i64().is_some_and(|t| t > GENERATION_END) => {
            *v = json!("CLOCK");
        }
        Value::Object(map) => map.values_mut().for_each(clock_positions),
        _ => {}
    }
}

/// What one stream emitted.
#[derive(Default)]
struct StreamTranscript {
    /// Statuses, traces and log lines, in order.
    events: Vec<String>,
    /// (primary key, line) of each record.
    records: Vec<(String, String)>,
    /// The last state, and the records all its states counted.
    last_state: Option<Value>,
    counted: f64,
}

/// The transcript of a run, grouped per stream. Where a concurrent stream checkpoints
/// depends on which answer came first, so of its states only the last is kept (the
/// position a next sync resumes from), with the records all of them counted.
fn transcript(run: &Run) -> String {
    let mut per_stream: BTreeMap<String, StreamTranscript> = BTreeMap::new();
    let mut run_wide: Vec<String> = Vec::new();
    for m in &run.messages {
        let Some(stream) = stream_of(m) else {
            run_wide.push(line(m));
            continue;
        };
        let t = per_stream.entry(stream.clone()).or_default();
        match m["type"].as_str().unwrap() {
            "RECORD" => t
                .records
                .push((record_key(&stream, &m["record"]["data"]), line(m))),
            "STATE" => {
                let mut state = m["state"].clone();
                let stats = state.as_object_mut().unwrap().remove("sourceStats");
                clock_positions(&mut state["stream"]["stream_state"]);
                t.counted += stats.map_or(0.0, |s| s["recordCount"].as_f64().unwrap());
                t.last_state = Some(state);
            }
            _ => t.events.push(line(m)),
        }
    }
    let mut out = String::new();
    out.push_str("== messages of no stream, in order\n");
    for l in &run_wide {
        out.push_str(l);
        out.push('\n');
    }
    for (stream, mut t) in per_stream {
        out.push_str(&format!(
            "\n== {stream}: statuses, traces and logs, in order\n"
        ));
        for l in &t.events {
            out.push_str(l);
            out.push('\n');
        }
        if let Some(state) = &t.last_state {
            out.push_str(&format!(
                "== {stream}: the last state (its states counted {} records)\n{}\n",
                t.counted,
                serde_json::to_string(state).unwrap()
            ));
        }
        // A primary key can repeat (attributes of the same name on different models).
        t.records.sort();
        out.push_str(&format!("== {stream}: {} records\n", t.records.len()));
        for (_, l) in &t.records {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

#[test]
fn a_whole_read_transcript_is_stable() {
    let env = Env::with(small_workspace());
    let catalog = env.files.write_json("catalog.json", &full_catalog());
    // Resume some streams from the middle of the workspace (in the official connector's
    // state shapes), and start the others from scratch.
    let state = env.files.write_json(
        "state.json",
        &json!([
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": "contacts"},
                "stream_state": {"updated_at": 1_720_000_000}}},
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": "conversation_parts"},
                "stream_state": {"updated_at": 1_700_000_000,
                                 "conversations": {"updated_at": 1_700_000_000}}}},
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": "activity_logs"},
                "stream_state": {"created_at": 1_750_000_000}}},
        ]),
    );
    let run = env.read(&env.config(), &catalog, Some(&state), &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let text = transcript(&run);
    // The same workspace read again gives the same transcript: what is normalised is all
    // that varies from run to run.
    let again = transcript(&env.read(&env.config(), &catalog, Some(&state), &[]));
    if again != text {
        let first_difference = text
            .lines()
            .zip(again.lines())
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("\n{a}\n{b}"))
            .unwrap_or_else(|| "one transcript is longer".into());
        panic!("two reads of one workspace differ: {first_difference}");
    }
    insta::assert_snapshot!("read_transcript", text);
}
