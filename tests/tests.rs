//! Integration tests: the real connector binary against the fake Intercom workspace
//! over HTTP on 127.0.0.1.

#[path = "suite/bounds.rs"]
mod bounds;
#[path = "suite/columns.rs"]
mod columns;
#[path = "suite/completeness.rs"]
mod completeness;
#[path = "suite/conformance.rs"]
mod conformance;
#[path = "suite/docs.rs"]
mod docs;
#[path = "suite/faults.rs"]
mod faults;
#[path = "suite/hostile.rs"]
mod hostile;
#[path = "suite/incremental.rs"]
mod incremental;
#[path = "suite/keys.rs"]
mod keys;
#[path = "suite/leaks.rs"]
mod leaks;
#[path = "suite/pace.rs"]
mod pace;
#[path = "suite/permissions.rs"]
mod permissions;
#[path = "suite/pipeline.rs"]
mod pipeline;
#[path = "suite/relations.rs"]
mod relations;
#[path = "suite/reports.rs"]
mod reports;
#[path = "suite/resumable.rs"]
mod resumable;
mod support;
#[path = "suite/transcript.rs"]
mod transcript;

use std::collections::BTreeMap;

use fake_intercom::{FakeConfig, Fault};
use serde_json::json;
use support::*;

/// Records per stream that the fake workspace holds.
fn expected_counts(env: &Env) -> BTreeMap<String, usize> {
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

fn full_refresh_streams(env: &Env) -> Vec<String> {
    expected_counts(env).into_keys().collect()
}

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
fn full_read_of_every_stream_matches_the_workspace() {
    let env = Env::start();
    let streams = full_refresh_streams(&env);
    let mut discovered_names = all_stream_names();
    discovered_names.sort();
    assert_eq!(discovered_names, streams, "the test covers every stream");
    let names: Vec<&str> = streams.iter().map(String::as_str).collect();
    let run = env.read_streams(&names, "full_refresh");
    assert_eq!(run.code, 0, "{:?}\n{}", run.error_traces(), run.stderr);

    // Counts per stream equal what the fake holds.
    let mut got = run.record_counts();
    for s in &streams {
        got.entry(s.clone()).or_insert(0);
    }
    assert_eq!(got, expected_counts(&env));

    for s in &names {
        // Every record fits its discovered schema.
        let v = schema_validator(s);
        for r in run.records(s) {
            let errors: Vec<String> = v
                .iter_errors(r)
                .map(|e| format!("{e} at {}", e.instance_path))
                .collect();
            assert!(
                errors.is_empty(),
                "{s} record does not fit its schema: {errors:?}\n{r}"
            );
        }
        // Status sequence; states after the records they count, the last one saying the
        // full refresh is done (resumable streams save their position on the way).
        assert_eq!(
            run.statuses(s),
            vec!["STARTED", "RUNNING", "COMPLETE"],
            "{s}"
        );
        let states = run.states(s);
        let counted: f64 = states
            .iter()
            .map(|st| st["state"]["sourceStats"]["recordCount"].as_f64().unwrap())
            .sum();
        assert_eq!(counted as usize, run.records(s).len(), "{s}");
        let last = &states.last().unwrap()["state"]["stream"]["stream_state"];
        if discovered_stream(s)["is_resumable"] == true {
            assert_eq!(
                last,
                &json!({"__ab_full_refresh_sync_complete": true}),
                "{s}"
            );
        } else {
            assert_eq!(states.len(), 1, "{s}");
            assert_eq!(last, &json!({"__ab_no_cursor_state_message": true}), "{s}");
        }
    }

    // Every request carried the version header: 2.11, and 2.6 for the legacy counts API.
    let requests = env.fake.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        let want = match r.path.as_str() {
            "/counts" => "2.6",
            "/conversations/deleted" => "2.16",
            _ => "2.11",
        };
        assert_eq!(
            r.intercom_version.as_deref(),
            Some(want),
            "{} {}",
            r.method,
            r.path
        );
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert!(r
            .user_agent
            .as_deref()
            .unwrap_or_default()
            .starts_with("source-intercom/"));
        assert_eq!(r.accept.as_deref(), Some("application/json"));
    }
}

#[test]
fn count_tables_agree_with_the_workspace() {
    let env = Env::start();
    let names = [
        "counts",
        "conversation_counts",
        "admin_conversation_counts",
        "user_segment_tag_counts",
        "segments",
    ];
    let run = env.read_streams(&names, "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let (users, leads) = env.fake.with_workspace(|w| {
        let users = w.contacts.iter().filter(|c| c["role"] == "user").count();
        (users as i64, (w.contacts.len() - users) as i64)
    });
    let totals: BTreeMap<String, i64> = run
        .records("counts")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(totals["user"], users);
    assert_eq!(totals["lead"], leads);

    let conv: BTreeMap<String, i64> = run
        .records("conversation_counts")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["count"].as_i64().unwrap(),
            )
        })
        .collect();
    let admin_open: i64 = run
        .records("admin_conversation_counts")
        .iter()
        .map(|r| r["open"].as_i64().unwrap())
        .sum();
    assert!(admin_open <= conv["open"]);
    assert_eq!(conv["assigned"] + conv["unassigned"], conv["open"]);

    // Segment counts from /counts agree with segments' own include_count figures.
    let seg_counts: BTreeMap<String, i64> = run
        .records("segments")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["count"].as_i64().unwrap(),
            )
        })
        .collect();
    for r in run.records("user_segment_tag_counts") {
        if r["count_type"] == "segment" {
            assert_eq!(
                seg_counts[r["name"].as_str().unwrap()],
                r["count"].as_i64().unwrap()
            );
        }
    }
}

#[test]
fn articles_follow_every_page() {
    let env = Env::with(FakeConfig {
        articles: 401,
        ..FakeConfig::default()
    });
    let run = env.read_streams(&["articles"], "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(run.records("articles").len(), 401);
    let mut ids: Vec<&str> = run
        .records("articles")
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 401, "no article twice");
    let pages = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.path == "/articles")
        .count();
    assert_eq!(pages, 3, "401 articles at 150 per page");
}

#[test]
fn empty_workspace_lists_are_not_errors() {
    let env = Env::with(FakeConfig {
        articles: 0,
        collections: 0,
        help_centers: 0,
        ..FakeConfig::default()
    });
    let run = env.read(
        &env.config(),
        &env.catalog(
            &["articles", "help_center_collections", "help_centers"],
            "full_refresh",
        ),
        None,
        &[],
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    for s in ["articles", "help_center_collections", "help_centers"] {
        assert_eq!(run.records(s).len(), 0);
        assert_eq!(run.statuses(s), vec!["STARTED", "RUNNING", "COMPLETE"]);
        let last = &run.states(s).last().unwrap()["state"]["stream"]["stream_state"];
        assert_eq!(last, &json!({"__ab_full_refresh_sync_complete": true}));
    }
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
fn a_rejected_token_stops_the_read_with_a_config_error() {
    let env = Env::start();
    let cfg = env.config_with(json!({"access_token": "wrong-token"}));
    let run = env.read(
        &cfg,
        &env.catalog(&["admins", "teams"], "full_refresh"),
        None,
        &[],
    );
    assert_eq!(run.code, 1);
    let errs = run.error_traces();
    assert_eq!(errs.len(), 1, "exactly one ERROR trace: {errs:?}");
    assert_eq!(errs[0]["failure_type"], "config_error");
    // Streams run concurrently: whichever asked first reports the error; the sync
    // stops for all, none completes.
    let failed = errs[0]["stream_descriptor"]["name"].as_str().unwrap();
    assert!(failed == "admins" || failed == "teams", "{failed}");
    assert!(errs[0]["message"].as_str().unwrap().contains("401"));
    assert_eq!(
        run.statuses(failed),
        vec!["STARTED", "RUNNING", "INCOMPLETE"]
    );
    for s in ["admins", "teams"] {
        let st = run.statuses(s);
        assert!(
            st.is_empty() || st == ["STARTED", "RUNNING", "INCOMPLETE"],
            "{s}: {st:?}"
        );
        assert!(run.records(s).is_empty());
    }
    assert!(run.records("teams").is_empty());
}

#[test]
fn a_forbidden_stream_fails_alone_and_names_the_permission_problem() {
    let env = Env::start();
    env.fake.inject_fault(error_fault(
        "/teams",
        403,
        "forbidden",
        "Missing scope: read_teams",
        100,
    ));
    let run = env.read_streams(&["teams", "admins"], "full_refresh");
    assert_eq!(run.code, 1);
    let errs = run.error_traces();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["failure_type"], "config_error");
    let msg = errs[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("403") && msg.contains("read_teams") && msg.contains("/teams"),
        "{msg}"
    );
    assert_eq!(
        run.statuses("teams"),
        vec!["STARTED", "RUNNING", "INCOMPLETE"]
    );
    assert_eq!(
        run.statuses("admins"),
        vec!["STARTED", "RUNNING", "COMPLETE"]
    );
    assert!(!run.records("admins").is_empty());
}

#[test]
fn server_errors_are_retried() {
    let env = Env::start();
    env.fake.inject_fault(error_fault(
        "/admins",
        503,
        "service_unavailable",
        "try later",
        2,
    ));
    let run = env.read_streams(&["admins"], "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(
        run.records("admins").len(),
        env.fake.with_workspace(|w| w.admins.len())
    );
    assert_eq!(
        env.fake
            .requests()
            .iter()
            .filter(|r| r.path == "/admins")
            .count(),
        3
    );
}

#[test]
fn persistent_server_errors_fail_the_stream_as_transient() {
    let env = Env::start();
    env.fake
        .inject_fault(error_fault("/admins", 500, "server_error", "boom", 100));
    let run = env.read(
        &env.config(),
        &env.catalog(&["admins"], "full_refresh"),
        None,
        &[("SOURCE_INTERCOM_MAX_RETRIES", "2")],
    );
    assert_eq!(run.code, 1);
    let errs = run.error_traces();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["failure_type"], "transient_error");
    assert_eq!(
        env.fake
            .requests()
            .iter()
            .filter(|r| r.path == "/admins")
            .count(),
        3
    );
}

#[test]
fn rate_limits_are_waited_out_and_nothing_is_lost() {
    // 3 requests per 1-second window: a full read must hit 429s and wait for the reset.
    let env = Env::rate_limited(FakeConfig {
        requests_per_minute: 180,
        window_ms: 1000,
        ..FakeConfig::default()
    });
    let names = [
        "admins",
        "teams",
        "tags",
        "segments",
        "subscription_types",
        "help_centers",
        "data_attributes",
    ];
    // The connector is told the workspace's limit, as it knows Intercom's (10,000/min).
    let run = env.read(
        &env.config(),
        &env.catalog(&names, "full_refresh"),
        None,
        &[("SOURCE_INTERCOM_REQUESTS_PER_MINUTE", "180")],
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let want = expected_counts(&env);
    for s in names {
        assert_eq!(run.records(s).len(), want[s], "{s}");
    }
    // Concurrent streams share one budget paced below the limit, so they never run into
    // 429s; the reads still span several windows.
    let requests = env.fake.requests();
    assert!(requests.len() > 6, "more requests than one window allows");
    assert!(
        requests.iter().all(|r| r.status != 429),
        "the budget is respected"
    );
}

#[test]
fn a_429_is_waited_out_until_the_reset() {
    let env = Env::start();
    let reset = (chrono_now_secs() + 1).to_string();
    env.fake.inject_fault(rate_limit_fault(
        "/admins",
        &[
            ("X-RateLimit-Limit", "167"),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", &reset),
        ],
        2,
    ));
    let run = env.read_streams(&["admins"], "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(
        run.records("admins").len(),
        env.fake.with_workspace(|w| w.admins.len())
    );
    let statuses: Vec<u16> = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.path == "/admins")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![429, 429, 200]);
    assert!(
        run.logs().iter().any(|l| l.contains("rate limited")),
        "{:?}",
        run.logs()
    );
}

fn chrono_now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn malformed_answers_are_retried_then_fail_naming_the_endpoint() {
    let env = Env::start();
    let bad = |times| Fault {
        method: "GET".into(),
        path: "/tags".into(),
        status: 200,
        body: json!({"type": "list", "data": {"not": "a list"}}),
        times,
        ..Default::default()
    };
    // Once: retried like a 5xx, and every tag arrives.
    env.fake.inject_fault(bad(1));
    let run = env.read_streams(&["tags"], "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let tags = env.fake.with_workspace(|w| w.tags.len());
    assert_eq!(run.records("tags").len(), tags);
    assert!(run.logs().iter().any(|l| l.contains("GET /tags")
        && l.contains("should be a list")
        && l.contains("retry 1 of")));
    // Every time: the stream fails, naming the endpoint and what was wrong.
    env.fake.inject_fault(bad(100));
    let run = env.read(
        &env.config(),
        &env.catalog(&["tags"], "full_refresh"),
        None,
        &[("SOURCE_INTERCOM_MAX_RETRIES", "2")],
    );
    assert_eq!(run.code, 1);
    let errs = run.error_traces();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["failure_type"], "system_error");
    let msg = errs[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("Stream `tags` failed")
            && msg.contains("GET /tags")
            && msg.contains("should be a list")
            && msg.contains("gave up after 3 attempts"),
        "{msg}"
    );
    assert!(run.states("tags").is_empty());
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

#[test]
fn data_attributes_carry_their_model() {
    let env = Env::start();
    let run = env.read_streams(&["data_attributes"], "full_refresh");
    assert_eq!(run.code, 0);
    let models: std::collections::BTreeSet<&str> = run
        .records("data_attributes")
        .iter()
        .map(|r| r["model"].as_str().unwrap())
        .collect();
    assert_eq!(
        models,
        ["company", "contact", "conversation"].into_iter().collect()
    );
}

/// The README's stream table says what `discover` says: every stream, its sync modes,
/// cursor and primary key.
#[test]
fn readme_stream_table_matches_discover() {
    let readme = include_str!("../README.md");
    let mut rows: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() != 5 || !cells[2].contains("full refresh") {
            continue;
        }
        let plain = |s: &str| s.replace('`', "");
        rows.insert(
            plain(cells[0]),
            (cells[2].to_string(), plain(cells[3]), plain(cells[4])),
        );
    }
    // One row stands for every reporting dataset, whose streams discover lists only
    // from a workspace (`discovered()` reaches none): their own test checks them.
    let reports = rows
        .remove("report_<dataset>")
        .expect("README has the report_<dataset> row");
    assert_eq!(
        reports,
        (
            "full refresh, incremental".to_string(),
            "(the dataset's time attribute)".to_string(),
            "(the dataset's id attribute, if any)".to_string()
        )
    );
    let streams = discovered()["streams"].as_array().unwrap();
    assert_eq!(rows.len(), streams.len(), "README rows: {:?}", rows.keys());
    for s in streams {
        let name = s["name"].as_str().unwrap();
        let (modes, cursor, pk) = rows
            .get(name)
            .unwrap_or_else(|| panic!("README lacks {name}"));
        let incremental = s["supported_sync_modes"]
            .as_array()
            .unwrap()
            .contains(&json!("incremental"));
        let want_modes = if incremental {
            "full refresh, incremental"
        } else {
            "full refresh"
        };
        assert_eq!(modes, want_modes, "{name}: sync modes");
        let want_cursor = s["default_cursor_field"][0].as_str().unwrap_or("");
        assert_eq!(cursor, want_cursor, "{name}: cursor");
        let want_pk: Vec<&str> = s["source_defined_primary_key"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[0].as_str().unwrap())
            .collect();
        assert_eq!(pk, &want_pk.join(", "), "{name}: primary key");
    }
}
