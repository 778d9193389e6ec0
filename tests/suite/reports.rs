//! Reporting datasets as `report_<dataset>` streams: discover lists them from
//! `get_datasets`, read exports each window (enqueue, poll, download the CSV) and gives
//! exactly the rows the fake's export holds.

use std::collections::BTreeMap;

use fake_intercom::{Denial, FakeConfig, Fault, FaultKind};
use serde_json::{json, Value};

use crate::support::*;

const DATASETS: [&str; 3] = ["conversation", "conversation_actions", "ticket"];
const ENQUEUE: &str = "/export/reporting_data/enqueue";
const FAST: [(&str, &str); 2] = [
    ("SOURCE_INTERCOM_REPORT_POLL_MS", "5"),
    ("SOURCE_INTERCOM_REPORT_POLL_MAX_MS", "20"),
];

fn discover(env: &Env) -> Run {
    let cfg = env.config();
    run_connector(&["discover", "--config", cfg.to_str().unwrap()], &[])
}

fn report_streams(run: &Run) -> Vec<Value> {
    assert_eq!(run.code, 0, "{:?}", run.messages);
    run.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"].as_str().unwrap().starts_with("report_"))
        .cloned()
        .collect()
}

/// A catalog of these report streams as discovered from `env`.
fn catalog(env: &Env, names: &[&str], mode: &str) -> std::path::PathBuf {
    let found = report_streams(&discover(env));
    let streams: Vec<Value> = names
        .iter()
        .map(|n| {
            let s = found
                .iter()
                .find(|s| s["name"] == *n)
                .cloned()
                .unwrap_or_else(|| json!({"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh"]}));
            json!({"stream": s, "sync_mode": mode, "destination_sync_mode": "append"})
        })
        .collect();
    env.files
        .write_json("report_catalog.json", &json!({ "streams": streams }))
}

fn read(
    env: &Env,
    names: &[&str],
    mode: &str,
    state: Option<&Value>,
    vars: &[(&str, &str)],
) -> Run {
    let cat = catalog(env, names, mode);
    let state = state.map(|s| env.files.write_json("report_state.json", s));
    let mut all: Vec<(&str, &str)> = FAST.to_vec();
    all.push(("SOURCE_INTERCOM_REPORT_WINDOW_DAYS", "365"));
    all.extend_from_slice(vars);
    env.read(&env.config(), &cat, state.as_deref(), &all)
}

/// The enqueue bodies the fake answered 200 for `dataset`, by window (jobs are
/// enqueued concurrently, so in any order).
fn windows(env: &Env, dataset: &str) -> Vec<Value> {
    let mut bodies: Vec<Value> = env
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == ENQUEUE && r.status == 200)
        .filter_map(|r| r.body)
        .filter(|b| b["dataset_id"] == dataset)
        .collect();
    bodies.sort_by_key(|b| b["start_time"].as_i64());
    bodies
}

/// The rows the fake's exports of these windows hold, as records (sorted JSON texts).
fn expected_rows(env: &Env, dataset: &str, time: &str, bodies: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    env.fake.with_workspace(|w| {
        for b in bodies {
            let ids: Vec<&str> = b["attribute_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            // Times (the `timestamp.` attributes) are epoch seconds: integers.
            let times: Vec<&str> = ids
                .iter()
                .filter_map(|i| i.strip_prefix("timestamp."))
                .collect();
            let t = w
                .report_rows(
                    dataset,
                    &ids,
                    b["start_time"].as_i64().unwrap(),
                    b["end_time"].as_i64().unwrap(),
                    Some("2.14"),
                )
                .unwrap();
            for row in t.rows {
                let obj: serde_json::Map<String, Value> = t
                    .header
                    .iter()
                    .zip(row)
                    .map(|(h, c)| {
                        let v = if c.is_empty() {
                            Value::Null
                        } else if h == time || times.contains(&h.as_str()) {
                            json!(c.parse::<i64>().unwrap())
                        } else {
                            json!(c)
                        };
                        (h.clone(), v)
                    })
                    .collect();
                out.push(Value::Object(obj).to_string());
            }
        }
    });
    out.sort();
    out
}

fn got_rows(run: &Run, stream: &str) -> Vec<String> {
    let mut rows: Vec<String> = run.records(stream).iter().map(|r| r.to_string()).collect();
    rows.sort();
    rows
}

/// The saved `key` of the last STATE of `stream`.
fn last_state(run: &Run, stream: &str, key: &str) -> i64 {
    let states = run.states(stream);
    let last = states.last().expect("a state");
    last["state"]["stream"]["stream_state"][key]
        .as_i64()
        .unwrap_or_else(|| panic!("{last}"))
}

fn time_attr(dataset: &str) -> &'static str {
    match dataset {
        "conversation" => "conversation_started_at",
        "conversation_actions" => "action_time",
        _ => "ticket_created_at",
    }
}

/// The windows are contiguous from `from` and end at `to`.
fn assert_contiguous(bodies: &[Value], from: i64, to: i64) {
    let mut at = from;
    for b in bodies {
        assert_eq!(b["start_time"].as_i64().unwrap(), at, "{bodies:?}");
        at = b["end_time"].as_i64().unwrap();
    }
    assert_eq!(at, to, "{bodies:?}");
}

/// The oldest start the connector asks an export for: Intercom keeps 2 years of
/// reporting data (the fake too); the connector leaves a day's margin. Within a
/// couple of minutes of the sync's start.
fn assert_retention_start(env: &Env, from: i64) {
    let want = env.fake.now_secs() - 729 * 86_400;
    assert!(
        (want - 120..=want).contains(&from),
        "the first window starts at {from}, not within 2 minutes before {want}"
    );
}

#[test]
fn discover_lists_a_stream_per_dataset() {
    let env = Env::start();
    let run = discover(&env);
    let streams = report_streams(&run);
    let names: Vec<&str> = streams
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "report_conversation",
            "report_conversation_actions",
            "report_ticket"
        ]
    );
    let datasets = env.fake.with_workspace(|w| w.report_datasets());
    for (s, d) in streams.iter().zip(datasets["data"].as_array().unwrap()) {
        let time = d["default_time_attribute_id"].as_str().unwrap();
        assert_eq!(s["default_cursor_field"], json!([time]));
        assert_eq!(s["source_defined_cursor"], true);
        assert_eq!(
            s["supported_sync_modes"],
            json!(["full_refresh", "incremental"])
        );
        // One row per conversation or ticket: keyed by its id; actions have no key.
        let key = match d["id"].as_str().unwrap() {
            "conversation" => json!([["conversation_id"]]),
            "ticket" => json!([["ticket_id"]]),
            _ => json!([]),
        };
        assert_eq!(s["source_defined_primary_key"], key, "{}", d["id"]);
        let props = s["json_schema"]["properties"].as_object().unwrap();
        let attrs = d["attributes"].as_array().unwrap();
        assert_eq!(props.len(), attrs.len());
        for a in attrs {
            let id = a["id"].as_str().unwrap();
            let stamp = a["qualified_id"]
                .as_str()
                .is_some_and(|q| q.starts_with("timestamp."));
            let want = if id == time || stamp {
                "integer"
            } else {
                "string"
            };
            assert_eq!(props[id]["type"], json!(["null", want]), "{id}");
        }
    }
    let asked: Vec<_> = env
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/export/reporting_data/get_datasets")
        .collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].intercom_version.as_deref(), Some("2.14"));
}

#[test]
fn discover_without_the_permission_lists_the_other_streams_and_warns() {
    let env = Env::start();
    env.fake.deny(
        "/export/reporting_data/get_datasets",
        Denial::TokenUnauthorized,
    );
    let run = discover(&env);
    assert!(report_streams(&run).is_empty());
    let streams = run.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(streams, all_stream_names().len());
    let warns: Vec<&Value> = run
        .of_type("LOG")
        .into_iter()
        .filter(|l| l["log"]["level"] == "WARN")
        .collect();
    assert_eq!(warns.len(), 1, "{:?}", run.logs());
    let msg = warns[0]["log"]["message"].as_str().unwrap();
    assert!(
        msg.contains("Read reporting datasets") && msg.contains("get_datasets"),
        "{msg}"
    );
}

#[test]
fn full_and_incremental_reads_give_exactly_the_exports_rows() {
    let env = Env::start();
    let names: Vec<String> = DATASETS.iter().map(|d| format!("report_{d}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let run = read(&env, &names, "full_refresh", None, &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    for d in DATASETS {
        let stream = format!("report_{d}");
        let bodies = windows(&env, d);
        // start_date is 2020-01-01, but Intercom keeps two years: two windows of a year.
        assert_eq!(bodies.len(), 2, "{bodies:?}");
        assert_retention_start(&env, bodies[0]["start_time"].as_i64().unwrap());
        let want = expected_rows(&env, d, time_attr(d), &bodies);
        assert!(!want.is_empty(), "{d}");
        assert_eq!(got_rows(&run, &stream), want, "{d}");
        assert_eq!(run.statuses(&stream), ["STARTED", "RUNNING", "COMPLETE"]);
        // A keyed dataset's key is unique (one row per conversation or ticket).
        let key = match d {
            "conversation" => Some("conversation_id"),
            "ticket" => Some("ticket_id"),
            _ => None,
        };
        if let Some(key) = key {
            let records = run.records(&stream);
            let keys: std::collections::BTreeSet<String> =
                records.iter().map(|r| r[key].to_string()).collect();
            assert_eq!(keys.len(), records.len(), "{stream}: {key} is unique");
            assert!(records.iter().all(|r| r[key].is_string()), "{stream}");
        }
    }
    // Every reporting request asked for the version that has the endpoints; downloads for a file.
    let reqs = env.fake.requests();
    let reporting: Vec<_> = reqs
        .iter()
        .filter(|r| r.path.contains("/reporting_data/"))
        .collect();
    assert!(reporting
        .iter()
        .all(|r| r.intercom_version.as_deref() == Some("2.14")));
    let downloads: Vec<_> = reporting
        .iter()
        .filter(|r| r.path.starts_with("/download/"))
        .collect();
    assert!(!downloads.is_empty());
    assert!(downloads
        .iter()
        .all(|r| r.accept.as_deref() == Some("application/octet-stream")
            && r.query.contains("job_identifier=")));

    // Incremental: the same rows, a state per window, then nothing old.
    env.fake.clear_requests();
    let run = read(&env, &["report_ticket"], "incremental", None, &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let bodies = windows(&env, "ticket");
    let states = run.states("report_ticket");
    assert_eq!(states.len(), bodies.len(), "a state per window");
    let end = last_state(&run, "report_ticket", "ticket_created_at");
    let from = bodies[0]["start_time"].as_i64().unwrap();
    assert_retention_start(&env, from);
    assert_contiguous(&bodies, from, end);
    assert!(run
        .logs()
        .iter()
        .any(|l| l.contains("start_date is older than Intercom keeps reporting data (730 days")));
    assert_eq!(
        got_rows(&run, "report_ticket"),
        expected_rows(&env, "ticket", "ticket_created_at", &bodies)
    );
    let state = json!([{"type": "STREAM", "stream": {
        "stream_descriptor": {"name": "report_ticket"},
        "stream_state": {"ticket_created_at": end}}}]);
    env.fake.clear_requests();
    let again = read(&env, &["report_ticket"], "incremental", Some(&state), &[]);
    assert_eq!(again.code, 0, "{:?}", again.error_traces());
    let later = windows(&env, "ticket");
    assert!(later
        .iter()
        .all(|b| b["start_time"].as_i64().unwrap() >= end));
    assert!(again
        .records("report_ticket")
        .iter()
        .all(|r| r["ticket_created_at"].as_i64().map_or(true, |t| t >= end)));
    assert!(last_state(&again, "report_ticket", "ticket_created_at") >= end);
}

#[test]
fn windows_follow_the_setting_and_columns_the_catalog() {
    let env = Env::start();
    let found = report_streams(&discover(&env));
    let mut ticket = found
        .iter()
        .find(|s| s["name"] == "report_ticket")
        .unwrap()
        .clone();
    ticket["json_schema"]["properties"] = json!({"ticket_id": {"type": ["null", "string"]}});
    let cat = env.files.write_json(
        "cols.json",
        &json!({"streams": [{"stream": ticket, "sync_mode": "incremental", "destination_sync_mode": "append"}]}),
    );
    let cfg = env.config_with(json!({"start_date": "2025-06-01T00:00:00Z"}));
    let mut vars = FAST.to_vec();
    vars.push(("SOURCE_INTERCOM_REPORT_WINDOW_DAYS", "30"));
    let run = env.read(&cfg, &cat, None, &vars);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let bodies = windows(&env, "ticket");
    for b in &bodies {
        assert_eq!(
            b["attribute_ids"],
            json!(["standard.ticket_id", "timestamp.ticket_created_at"])
        );
        let span = b["end_time"].as_i64().unwrap() - b["start_time"].as_i64().unwrap();
        assert!(span <= 30 * 86_400, "{span}");
    }
    let end = last_state(&run, "report_ticket", "ticket_created_at");
    assert_contiguous(&bodies, 1_748_736_000, end);
    let rows = got_rows(&run, "report_ticket");
    assert_eq!(
        rows,
        expected_rows(&env, "ticket", "ticket_created_at", &bodies)
    );
    assert!(!rows.is_empty());
    for r in run.records("report_ticket") {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["ticket_created_at", "ticket_id"]);
    }
}

#[test]
fn a_failed_job_is_enqueued_again_and_nothing_is_lost() {
    let env = Env::start();
    env.fake.fail_next_report_jobs(1);
    let run = read(&env, &["report_ticket"], "full_refresh", None, &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let bodies = windows(&env, "ticket");
    // One window twice (jobs run concurrently: whichever failed); the rows once.
    let mut once: Vec<Value> = Vec::new();
    for b in &bodies {
        if !once.contains(b) {
            once.push(b.clone());
        }
    }
    assert_eq!(once.len() + 1, bodies.len(), "one window enqueued twice");
    once.sort_by_key(|b| b["start_time"].as_i64());
    assert_eq!(
        got_rows(&run, "report_ticket"),
        expected_rows(&env, "ticket", "ticket_created_at", &once)
    );
    assert!(run.logs().iter().any(|l| l.contains("failed at Intercom")));
}

#[test]
fn a_job_that_fails_twice_fails_the_stream_naming_the_job() {
    let env = Env::start();
    env.fake.fail_next_report_jobs(2);
    // One window (from 200 days ago, in windows of a year), so that both failures are
    // its jobs.
    let from = (chrono::Utc::now() - chrono::Duration::days(200)).timestamp();
    let cfg = env.config_with(json!({
        "start_date": chrono::DateTime::from_timestamp(from, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }));
    let cat = catalog(&env, &["report_ticket", "admins"], "incremental");
    let mut vars = FAST.to_vec();
    vars.push(("SOURCE_INTERCOM_REPORT_WINDOW_DAYS", "366"));
    let run = env.read(&cfg, &cat, None, &vars);
    assert_eq!(run.code, 1);
    let errs = run.error_traces();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["failure_type"], "transient_error");
    assert_eq!(errs[0]["stream_descriptor"]["name"], "report_ticket");
    let msg = errs[0]["message"].as_str().unwrap();
    let polled: Vec<String> = env
        .fake
        .requests()
        .iter()
        .filter_map(|r| {
            r.path
                .strip_prefix("/export/reporting_data/")
                .map(str::to_string)
        })
        .filter(|j| j != "enqueue" && j != "get_datasets")
        .collect();
    assert!(!polled.is_empty());
    for job in &polled {
        assert!(msg.contains(job.as_str()), "{msg} lacks {job}");
    }
    assert!(msg.contains(&format!("[{from}, ")), "{msg}");
    assert_eq!(
        run.statuses("report_ticket"),
        ["STARTED", "RUNNING", "INCOMPLETE"]
    );
    assert!(run.states("report_ticket").is_empty());
    assert_eq!(run.statuses("admins"), ["STARTED", "RUNNING", "COMPLETE"]);
}

#[test]
fn the_pending_jobs_limit_is_waited_out() {
    let env = Env::start();
    env.fake.inject_fault(Fault {
        method: "POST".into(),
        path: ENQUEUE.into(),
        status: 429,
        body: json!({"type": "error.list", "errors": [{"code": "rate_limit_exceeded",
            "message": "Exceeded rate limit of 5 pending reporting dataset export jobs"}]}),
        headers: vec![("Retry-After".into(), "1".into())],
        times: 2,
        ..Default::default()
    });
    let run = read(&env, &["report_ticket"], "full_refresh", None, &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let statuses: Vec<u16> = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.path == ENQUEUE)
        .map(|r| r.status)
        .take(3)
        .collect();
    assert_eq!(statuses, [429, 429, 200]);
    let bodies = windows(&env, "ticket");
    assert_eq!(
        got_rows(&run, "report_ticket"),
        expected_rows(&env, "ticket", "ticket_created_at", &bodies)
    );
}

#[test]
fn slow_jobs_and_plain_csv_files_complete() {
    let env = Env::with(FakeConfig {
        report_job_polls: 5,
        report_download_gzip: false,
        ..FakeConfig::default()
    });
    let run = read(
        &env,
        &["report_conversation_actions"],
        "full_refresh",
        None,
        &[],
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let bodies = windows(&env, "conversation_actions");
    assert_eq!(
        got_rows(&run, "report_conversation_actions"),
        expected_rows(&env, "conversation_actions", "action_time", &bodies)
    );
    let mut polls: BTreeMap<String, usize> = BTreeMap::new();
    for r in env.fake.requests() {
        if let Some(job) = r.path.strip_prefix("/export/reporting_data/") {
            if job != "enqueue" && job != "get_datasets" {
                *polls.entry(job.to_string()).or_default() += 1;
            }
        }
    }
    assert_eq!(polls.len(), bodies.len());
    assert!(polls.values().all(|n| *n == 6), "{polls:?}");
}

#[test]
fn a_job_that_never_completes_fails_the_stream_after_the_wait() {
    let env = Env::with(FakeConfig {
        report_job_polls: 1000,
        ..FakeConfig::default()
    });
    let run = read(
        &env,
        &["report_ticket"],
        "full_refresh",
        None,
        &[("SOURCE_INTERCOM_REPORT_JOB_MAX_SECS", "1")],
    );
    assert_eq!(run.code, 1);
    let msg = run.error_traces()[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("SOURCE_INTERCOM_REPORT_JOB_MAX_SECS") && msg.contains("report_ticket"),
        "{msg}"
    );
}

#[test]
fn a_dataset_that_is_gone_is_a_config_error() {
    let env = Env::start();
    let run = read(&env, &["report_imaginary"], "full_refresh", None, &[]);
    assert_eq!(run.code, 1);
    let errs = run.error_traces();
    assert_eq!(errs[0]["failure_type"], "config_error");
    let msg = errs[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("report_imaginary") && msg.contains("`imaginary`"),
        "{msg}"
    );
}

#[test]
fn a_start_the_workspace_no_longer_keeps_is_a_config_error_naming_the_setting() {
    let env = Env::start();
    // The connector is told of three years; the workspace keeps two.
    let run = read(
        &env,
        &["report_ticket"],
        "full_refresh",
        None,
        &[("SOURCE_INTERCOM_REPORT_RETENTION_DAYS", "1095")],
    );
    assert_eq!(run.code, 1);
    let errs = run.error_traces();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["failure_type"], "config_error");
    let msg = errs[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("report_ticket")
            && msg.contains("retention period (730 days)")
            && msg.contains("SOURCE_INTERCOM_REPORT_RETENTION_DAYS (1095 days)"),
        "{msg}"
    );
    assert!(!msg.contains(&env.fake.token()), "{msg}");
}

#[test]
fn a_download_that_breaks_off_is_read_again_without_a_row_twice() {
    for (what, kind) in [
        ("reset", FaultKind::Reset { after_bytes: 0 }),
        ("cut short", FaultKind::Truncated { keep: 0 }),
    ] {
        let env = Env::with(FakeConfig {
            conversations: 400,
            ..FakeConfig::default()
        });
        env.fake.inject_fault(Fault {
            method: "GET".into(),
            path: "/download/reporting_data/*".into(),
            kind,
            times: 1,
            ..Default::default()
        });
        let run = read(
            &env,
            &["report_conversation_actions"],
            "full_refresh",
            None,
            &[("SOURCE_INTERCOM_REPORT_WINDOW_DAYS", "366")],
        );
        assert_eq!(run.code, 0, "{what}: {:?}", run.error_traces());
        let bodies = windows(&env, "conversation_actions");
        let got = got_rows(&run, "report_conversation_actions");
        let want = expected_rows(&env, "conversation_actions", "action_time", &bodies);
        assert!(want.len() > 100, "{what}: {}", want.len());
        assert_eq!(got.len(), want.len(), "{what}: no row twice, none lost");
        assert_eq!(got, want, "{what}");
        let again: Vec<String> = run
            .logs()
            .into_iter()
            .filter(|l| l.contains("downloading it again (1 of 3)"))
            .collect();
        assert_eq!(again.len(), 1, "{what}: {again:?}");
        if what == "reset" {
            // Half the file arrived first: its rows were emitted once, then skipped.
            assert!(!again[0].contains("skipping its 0 rows"), "{}", again[0]);
        }
    }
}

#[test]
fn a_killed_read_resumes_at_the_window_in_progress() {
    let env = Env::with(FakeConfig {
        conversations: 300,
        ..FakeConfig::default()
    });
    let names: Vec<String> = DATASETS.iter().map(|d| format!("report_{d}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let cat = catalog(&env, &names, "incremental");
    let cfg = env.config_with(json!({"start_date": "2025-06-01T00:00:00Z"}));
    let mut vars = FAST.to_vec();
    vars.push(("SOURCE_INTERCOM_REPORT_WINDOW_DAYS", "30"));
    let full = env.read(&cfg, &cat, None, &vars);
    assert_eq!(full.code, 0, "{:?}", full.error_traces());
    let text = |m: &Value| {
        (
            m["record"]["stream"].to_string(),
            m["record"]["data"].to_string(),
        )
    };
    let all: std::collections::BTreeSet<(String, String)> = full
        .messages
        .iter()
        .filter(|m| m["type"] == "RECORD")
        .map(text)
        .collect();
    assert!(all.len() > 300, "{}", all.len());
    let total = full.messages.len();
    for n in [total / 7, total / 3, total / 2, 4 * total / 5, total - 3] {
        // The orchestrator saw the first `n` messages when the read was killed.
        let seen = &full.messages[..n];
        let state = state_of(seen);
        let path = env.files.write_json(&format!("cut{n}.json"), &state);
        let resumed = env.read(&cfg, &cat, Some(&path), &vars);
        assert_eq!(resumed.code, 0, "cut {n}: {:?}", resumed.error_traces());
        let mut union: std::collections::BTreeSet<(String, String)> = seen
            .iter()
            .filter(|m| m["type"] == "RECORD")
            .map(text)
            .collect();
        union.extend(
            resumed
                .messages
                .iter()
                .filter(|m| m["type"] == "RECORD")
                .map(text),
        );
        assert_eq!(union, all, "killed after {n} of {total} messages");
        // The resumed read starts at each stream's saved window end: nothing older again.
        for d in DATASETS {
            let stream = format!("report_{d}");
            let saved = state
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["stream"]["stream_descriptor"]["name"] == stream.as_str())
                .and_then(|s| s["stream"]["stream_state"][time_attr(d)].as_i64());
            if let Some(saved) = saved {
                for r in resumed.records(&stream) {
                    let t = r[time_attr(d)].as_i64().unwrap();
                    assert!(
                        t >= saved,
                        "cut {n}: {stream} read {t} again (saved {saved})"
                    );
                }
            }
        }
    }
}

#[test]
fn discover_asks_for_the_datasets_twice_at_most_when_they_fail() {
    let env = Env::start();
    env.fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/export/reporting_data/get_datasets".into(),
        status: 503,
        times: 100,
        ..Default::default()
    });
    let run = discover(&env);
    assert!(report_streams(&run).is_empty());
    assert_eq!(
        run.of_type("CATALOG")[0]["catalog"]["streams"]
            .as_array()
            .unwrap()
            .len(),
        all_stream_names().len()
    );
    assert_eq!(
        env.fake.count("GET", "/export/reporting_data/get_datasets"),
        2,
        "one retry"
    );
    assert!(
        run.logs()
            .iter()
            .any(|l| l.contains("no report_* streams are listed")
                && l.contains("refresh the source schema")),
        "{:?}",
        run.logs()
    );
    // Once Intercom answers, they are listed.
    env.fake.clear_faults();
    assert_eq!(report_streams(&discover(&env)).len(), 3);
}

#[test]
fn report_streams_read_at_once_through_one_request_slot_all_finish() {
    // Two requests in flight at most, answers of 100 ms, jobs that take a poll, and
    // three report streams of many windows. When a stream's jobs were driven only while
    // the stream waited for its next job (not while it downloaded a file), a job could
    // hold a request slot mid-poll that every stream's download then waited for: the
    // read hung (2 runs in 6, and once in CI's standard tests). Each job now runs on a
    // task of its own.
    let env = Env::with(FakeConfig {
        latency_ms: 100,
        report_job_polls: 1,
        ..FakeConfig::default()
    });
    let names: Vec<String> = DATASETS.iter().map(|d| format!("report_{d}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let cat = catalog(&env, &names, "full_refresh");
    let cfg = env.config_with(json!({
        "start_date": "2025-06-01T00:00:00Z",
        "max_concurrency": 2
    }));
    let mut vars = FAST.to_vec();
    vars.push(("SOURCE_INTERCOM_REPORT_WINDOW_DAYS", "30"));
    let run = env.read(&cfg, &cat, None, &vars);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    for d in DATASETS {
        let stream = format!("report_{d}");
        let bodies = windows(&env, d);
        assert!(bodies.len() > 10, "{d}: {}", bodies.len());
        assert_eq!(
            got_rows(&run, &stream),
            expected_rows(&env, d, time_attr(d), &bodies),
            "{d}"
        );
    }
}
