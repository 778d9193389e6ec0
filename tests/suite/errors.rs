//! Errors from Intercom: a rejected token stops the read, a forbidden stream fails alone,
//! server errors, rate limits and malformed answers are retried, and what still fails
//! names the endpoint and says why.

use fake_intercom::{FakeConfig, Fault};
use serde_json::json;

use crate::support::*;

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
    assert_eq!(env.fake.count("GET", "/admins"), 3);
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
    assert_eq!(env.fake.count("GET", "/admins"), 3);
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
