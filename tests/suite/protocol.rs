//! The protocol's commands and their inputs: `spec` and `discover` against their
//! snapshots, `check` with good and bad tokens, configs and networks, `read` with missing,
//! malformed or unknown inputs and every form of state, the log level, the command line,
//! and a reader that leaves mid-read.

use fake_intercom::FakeConfig;
use serde_json::json;

use crate::support::*;

#[test]
fn spec_matches_snapshot_and_keeps_official_field_names() {
    let run = run_connector(&["spec"], &[]);
    assert_eq!(run.code, 0);
    assert_eq!(run.messages.len(), 1);
    let spec = &run.messages[0]["spec"];
    let props = spec["connectionSpecification"]["properties"]
        .as_object()
        .unwrap();
    for f in [
        "access_token",
        "start_date",
        "client_id",
        "client_secret",
        "lookback_window",
        "activity_logs_time_step",
        "region",
        "base_url",
    ] {
        assert!(props.contains_key(f), "spec lacks {f}");
    }
    for secret in ["access_token", "client_id", "client_secret"] {
        assert_eq!(
            props[secret]["airbyte_secret"], true,
            "{secret} must be secret"
        );
    }
    assert_eq!(props["base_url"]["airbyte_hidden"], true);
    assert_eq!(spec["advanced_auth"]["auth_flow_type"], "oauth2.0");
    // Intercom's token endpoint reads a form (the newer official connector sends the same header).
    assert_eq!(
        spec["advanced_auth"]["oauth_config_specification"]["oauth_connector_input_specification"]
            ["access_token_headers"]["Content-Type"],
        "application/x-www-form-urlencoded"
    );
    insta::assert_json_snapshot!("spec", spec);
}

#[test]
fn discover_catalog_snapshot() {
    let catalog = discovered();
    let names = all_stream_names();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "stream names are unique");
    insta::assert_json_snapshot!("catalog", catalog);
}

#[test]
fn discover_with_bad_config_is_a_config_error() {
    let files = Files::new();
    let cfg = files.write_json(
        "c.json",
        &json!({"access_token": TOKEN, "start_date": "2020-01-01"}),
    );
    let run = run_connector(&["discover", "--config", cfg.to_str().unwrap()], &[]);
    assert_eq!(run.code, 1);
    let errs = run.error_traces();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["failure_type"], "config_error");
    assert!(errs[0]["message"]
        .as_str()
        .unwrap()
        .contains("`start_date`"));
}

#[test]
fn check_succeeds_with_a_good_token() {
    let env = Env::start();
    let run = run_connector(&["check", "--config", env.config().to_str().unwrap()], &[]);
    assert_eq!(run.code, 0);
    assert_eq!(run.connection_status()["status"], "SUCCEEDED");
}

#[test]
fn check_with_a_rejected_token_fails_with_advice() {
    let env = Env::start();
    let cfg = env.config_with(json!({"access_token": "wrong-token"}));
    let run = run_connector(&["check", "--config", cfg.to_str().unwrap()], &[]);
    assert_eq!(run.code, 0);
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    let msg = status["message"].as_str().unwrap();
    assert!(
        msg.contains("401") && msg.contains("access_token") && msg.contains("region"),
        "{msg}"
    );
    assert!(!msg.contains("wrong-token"));
}

#[test]
fn check_with_no_network_fails_with_advice() {
    let files = Files::new();
    // Nothing listens on port 9 of loopback.
    let cfg = files.write_json("c.json", &json!({"access_token": TOKEN, "start_date": "2020-01-01T00:00:00Z", "base_url": "http://127.0.0.1:9"}));
    let run = run_connector(
        &["check", "--config", cfg.to_str().unwrap()],
        &[("SOURCE_INTERCOM_MAX_RETRIES", "0")],
    );
    assert_eq!(run.code, 0);
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("could not reach Intercom"),
        "{status}"
    );
}

#[test]
fn check_with_invalid_config_values_fails_naming_the_field() {
    let files = Files::new();
    let cfg = files.write_json(
        "c.json",
        &json!({"access_token": TOKEN, "start_date": "yesterday"}),
    );
    let run = run_connector(&["check", "--config", cfg.to_str().unwrap()], &[]);
    assert_eq!(run.code, 0);
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    assert!(status["message"].as_str().unwrap().contains("`start_date`"));
}

#[test]
fn missing_or_malformed_files_name_the_file() {
    let env = Env::start();
    let files = Files::new();
    let garbage = files.write("garbage.json", "{not json");
    let missing = files.dir.path().join("nope.json");
    let catalog = env.catalog(&["admins"], "full_refresh");
    let cases = [
        (
            vec!["check", "--config", missing.to_str().unwrap()],
            "config file",
        ),
        (
            vec!["discover", "--config", garbage.to_str().unwrap()],
            "config file",
        ),
        (
            vec![
                "read",
                "--config",
                env.config().to_str().unwrap().to_string().leak(),
                "--catalog",
                garbage.to_str().unwrap(),
            ],
            "catalog file",
        ),
        (
            vec![
                "read",
                "--config",
                env.config().to_str().unwrap().to_string().leak(),
                "--catalog",
                catalog.to_str().unwrap(),
                "--state",
                garbage.to_str().unwrap(),
            ],
            "state file",
        ),
    ];
    for (args, what) in cases {
        let run = run_connector(&args, &[]);
        assert_eq!(run.code, 1, "{args:?}");
        let errs = run.error_traces();
        assert_eq!(errs.len(), 1, "{args:?}: {:?}", run.messages);
        assert_eq!(errs[0]["failure_type"], "config_error");
        let msg = errs[0]["message"].as_str().unwrap();
        assert!(msg.contains(what), "{msg}");
        assert!(run.of_type("RECORD").is_empty());
    }
    assert!(
        env.fake.requests().is_empty(),
        "no request before the inputs are valid"
    );
}

#[test]
fn unknown_stream_or_sync_mode_fails_before_any_request() {
    let env = Env::start();
    let unknown = env.files.write_json(
        "unknown.json",
        &json!({"streams": [
            {"stream": {"name": "admins", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"},
            {"stream": {"name": "__AIRBYTE__stream_that_does_not_exist", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}, "sync_mode": "INVALID", "destination_sync_mode": "overwrite"}
        ]}),
    );
    let run = env.read(&env.config(), &unknown, None, &[]);
    assert_eq!(run.code, 1);
    let errs = run.error_traces();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["failure_type"], "config_error");
    assert!(errs[0]["message"]
        .as_str()
        .unwrap()
        .contains("__AIRBYTE__stream_that_does_not_exist"));

    let bad_mode = env.files.write_json(
        "mode.json",
        &json!({"streams": [{"stream": {"name": "admins", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}, "sync_mode": "INVALID", "destination_sync_mode": "overwrite"}]}),
    );
    let run = env.read(&env.config(), &bad_mode, None, &[]);
    assert_eq!(run.code, 1);
    let msg = run.error_traces()[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("admins") && msg.contains("INVALID"), "{msg}");
    assert!(run.of_type("RECORD").is_empty());
    assert!(env.fake.requests().is_empty());
}

#[test]
fn incremental_on_a_full_refresh_stream_reads_it_in_full() {
    let env = Env::start();
    let run = env.read_streams(&["admins"], "incremental");
    assert_eq!(run.code, 0);
    assert_eq!(
        run.records("admins").len(),
        env.fake.with_workspace(|w| w.admins.len())
    );
}

#[test]
fn state_forms_are_accepted_by_read() {
    let env = Env::start();
    let catalog = env.catalog(&["admins"], "full_refresh");
    for (i, state) in [
        json!([]),
        json!(null),
        json!({"companies": {"updated_at": 7626086649u64}}),
        json!([{"type":"STREAM","stream":{"stream_descriptor":{"name":"admins","namespace":null},"stream_state":{"__ab_no_cursor_state_message":true}},"sourceStats":{"recordCount":1.0}}]),
    ]
    .iter()
    .enumerate()
    {
        let path = env.files.write_json(&format!("state{i}.json"), state);
        let run = env.read(&env.config(), &catalog, Some(&path), &[]);
        assert_eq!(run.code, 0, "{state}: {:?}", run.error_traces());
    }
    let bad = env.files.write_json(
        "bad_state.json",
        &json!([{"type": "STREAM", "stream": {"stream_state": {}}}]),
    );
    let run = env.read(&env.config(), &catalog, Some(&bad), &[]);
    assert_eq!(run.code, 1);
    assert!(run.error_traces()[0]["message"]
        .as_str()
        .unwrap()
        .contains("stream_descriptor.name"));
}

#[test]
fn log_level_controls_logs() {
    let env = Env::start();
    let catalog = env.catalog(&["admins"], "full_refresh");
    let quiet = env.read(&env.config(), &catalog, None, &[("LOG_LEVEL", "error")]);
    assert!(quiet.of_type("LOG").is_empty(), "{:?}", quiet.logs());
    let normal = env.read(&env.config(), &catalog, None, &[]);
    assert!(
        normal.logs().iter().any(|l| l.contains("stream admins")),
        "{:?}",
        normal.logs()
    );
    assert!(
        normal.stderr.is_empty(),
        "nothing on stderr: {}",
        normal.stderr
    );
}

#[test]
fn bad_command_line_is_an_error_trace() {
    let run = run_connector(&["read", "--config"], &[]);
    assert_ne!(run.code, 0);
    assert_eq!(run.error_traces().len(), 1);
    let help = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("discover"));
}

/// A reader that leaves (closing the pipe) ends the read at once and quietly: exit 0, no
/// panic, and the rest of the sync is not fetched.
#[test]
fn broken_pipe_exits_quietly() {
    use std::io::{BufRead, BufReader};
    const CONVERSATIONS: usize = 600;
    // Each conversation's parts take one request, 16 at a time, 20 ms each: the whole read
    // takes most of a second, long after the reader has gone.
    let env = Env::with(FakeConfig {
        conversations: CONVERSATIONS,
        latency_ms: 20,
        ..FakeConfig::default()
    });
    let mut child = env.spawn_read(&["conversation_parts"], "full_refresh");
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    check_protocol_line(first.trim_end());
    // The reader is dropped here: the pipe closes.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The read stopped early: most conversations were never fetched.
    let fetched = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/conversations/"))
        .count();
    assert!(
        fetched < CONVERSATIONS / 2,
        "{fetched} of {CONVERSATIONS} conversations fetched after the reader left"
    );
}
