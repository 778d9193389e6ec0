//! Faulty and hostile answers, one test per case: each ends with a clear TRACE (the
//! right `failure_type`, the key words of its message, the exit code) or a recovery
//! with nothing lost; never a leak, a hang or a panic. Every run's stdout and stderr are
//! checked for the token by the harness.

use fake_intercom::{FakeConfig, Fault};
use serde_json::{json, Value};

use crate::support::*;

/// A 200 answering `times` requests of `method path` with `body`, after `after` others.
fn body_fault(method: &str, path: &str, body: Value, after: usize, times: usize) -> Fault {
    Fault {
        method: method.into(),
        path: path.into(),
        status: 200,
        body,
        times,
        after,
        ..Default::default()
    }
}

/// The one ERROR trace of a run.
fn the_error(run: &Run) -> &Value {
    let errs = run.error_traces();
    assert_eq!(errs.len(), 1, "exactly one ERROR trace: {errs:?}");
    errs[0]
}

fn message(e: &Value) -> String {
    e["message"].as_str().unwrap_or_default().to_string()
}

fn assert_failed(run: &Run, stream: &str, failure_type: &str, words: &[&str]) {
    assert_eq!(run.code, 1, "{:?}", run.error_traces());
    let e = the_error(run);
    assert_eq!(e["failure_type"], failure_type, "{e}");
    assert_eq!(e["stream_descriptor"]["name"], stream, "{e}");
    let m = message(e);
    for w in words {
        assert!(m.contains(w), "{w:?} not in {m}");
    }
    assert_eq!(
        run.statuses(stream).last().map(String::as_str),
        Some("INCOMPLETE")
    );
    // No final state: the next sync reads the stream again.
    assert!(
        run.states(stream).is_empty() || stream_is_searched(stream),
        "{stream} saved a state"
    );
}

fn stream_is_searched(stream: &str) -> bool {
    matches!(stream, "contacts" | "conversations" | "conversation_parts")
}

#[test]
fn a_repeated_next_link_fails_the_stream_instead_of_completing() {
    let env = Env::with(FakeConfig {
        articles: 400,
        ..FakeConfig::default()
    });
    let base = env.fake.base_url();
    // The first page claims its next page is itself.
    env.fake.inject_fault(body_fault(
        "GET",
        "/articles",
        json!({"type": "list", "data": [{"id": "x1", "type": "article", "updated_at": 1}],
               "pages": {"type": "pages", "page": 1, "per_page": 150, "total_pages": 3,
                         "next": format!("{base}/articles?per_page=150")}}),
        0,
        1,
    ));
    let run = env.read_streams(&["articles", "admins"], "full_refresh");
    assert_failed(
        &run,
        "articles",
        "system_error",
        &["pagination of GET /articles", "already read"],
    );
    // Other streams finish.
    assert_eq!(run.statuses("admins").last().unwrap(), "COMPLETE");
}

#[test]
fn a_page_past_the_last_or_a_link_elsewhere_fails_the_stream() {
    let env = Env::start();
    env.fake.inject_fault(body_fault(
        "GET",
        "/articles",
        json!({"type": "list", "data": [], "pages": {"page": 9, "total_pages": 2}}),
        0,
        1,
    ));
    let run = env.read_streams(&["articles"], "full_refresh");
    // An empty page ends a walk, but a page number past the last says the walk is lost.
    assert_eq!(
        run.code,
        0,
        "an empty page ends the walk: {:?}",
        run.error_traces()
    );
    env.fake.inject_fault(body_fault(
        "GET",
        "/articles",
        json!({"type": "list", "data": [{"id": "1"}], "pages": {"page": 9, "total_pages": 2}}),
        0,
        1,
    ));
    let run = env.read_streams(&["articles"], "full_refresh");
    assert_failed(&run, "articles", "system_error", &["page 9 of 2"]);
    env.fake.inject_fault(body_fault(
        "GET",
        "/articles",
        json!({"type": "list", "data": [{"id": "1"}],
               "pages": {"page": 1, "total_pages": 2, "next": "https://evil.example/admins/../../me?page=2"}}),
        0,
        1,
    ));
    let run = env.read_streams(&["articles"], "full_refresh");
    assert_failed(&run, "articles", "system_error", &["another endpoint"]);
    assert!(
        env.fake.requests().iter().all(|r| r.path != "/me"),
        "the link was not followed"
    );
}

#[test]
fn a_repeated_search_cursor_fails_the_stream() {
    let env = Env::start();
    let page = json!({"type": "list", "total_count": 120,
        "data": [{"type": "contact", "id": "c1", "role": "user", "updated_at": 1_700_000_000}],
        "pages": {"type": "pages", "page": 1, "total_pages": 9, "next": {"page": 2, "starting_after": "SAME"}}});
    env.fake
        .inject_fault(body_fault("POST", "/contacts/search", page, 0, 2));
    let run = env.read_streams(&["contacts"], "full_refresh");
    assert_failed(
        &run,
        "contacts",
        "system_error",
        &["POST /contacts/search", "already read", "SAME"],
    );
}

#[test]
fn more_pages_than_the_total_can_fill_fail_the_stream() {
    let env = Env::start();
    // Says there are 2 records, then never stops handing out new cursors.
    for i in 0..30 {
        env.fake.inject_fault(body_fault(
            "POST",
            "/contacts/search",
            json!({"type": "list", "total_count": 2,
                   "data": [{"type": "contact", "id": format!("c{i}"), "role": "user", "updated_at": 1_700_000_000 + i}],
                   "pages": {"next": {"starting_after": format!("cursor-{i}")}}}),
            0,
            1,
        ));
    }
    let run = env.read_streams(&["contacts"], "full_refresh");
    assert_failed(
        &run,
        "contacts",
        "system_error",
        &[
            "more than 12 pages",
            "its first page reported 2 records and its latest 2 records",
        ],
    );
}

#[test]
fn a_scroll_that_repeats_its_page_fails_instead_of_looping() {
    let env = Env::start();
    let page = json!({"type": "list", "scroll_param": "sp-1", "pages": null, "total_count": null,
        "data": [{"type": "company", "id": "co-1", "updated_at": 1_700_000_000},
                 {"type": "company", "id": "co-2", "updated_at": 1_700_000_001}]});
    env.fake
        .inject_fault(body_fault("GET", "/companies/scroll", page, 0, 1000));
    let run = env.read_streams(&["companies"], "full_refresh");
    assert_failed(
        &run,
        "companies",
        "system_error",
        &["companies scroll", "already returned"],
    );
    let scroll_requests = env.fake.count("GET", "/companies/scroll");
    assert_eq!(scroll_requests, 2);
}

#[test]
fn redirects_are_not_followed_even_to_the_metadata_service() {
    let env = Env::start();
    let redirect = |path: &str| Fault {
        method: "GET".into(),
        path: path.into(),
        status: 302,
        body: json!({}),
        headers: vec![(
            "Location".into(),
            "http://169.254.169.254/latest/meta-data/iam?token=Bearer%20x".into(),
        )],
        times: 10,
        ..Default::default()
    };
    env.fake.inject_fault(redirect("/me"));
    let cfg = env.config();
    let run = run_connector(&["check", "--config", cfg.to_str().unwrap()], &[]);
    assert_eq!(run.code, 0);
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    let m = status["message"].as_str().unwrap();
    assert!(
        m.contains("HTTP 302") && m.contains("169.254.169.254") && m.contains("not followed"),
        "{m}"
    );
    assert!(
        !m.contains("meta-data"),
        "only the redirect's origin is shown: {m}"
    );

    env.fake.inject_fault(redirect("/admins"));
    let run = env.read_streams(&["admins"], "full_refresh");
    assert_failed(&run, "admins", "config_error", &["GET /admins", "HTTP 302"]);
}

#[test]
fn an_error_body_echoing_the_token_is_masked_everywhere() {
    let env = Env::start();
    let echo = format!(
        "bad request; you sent Authorization: Bearer {TOKEN}; header authorization=Bearer {TOKEN}"
    );
    env.fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/tags".into(),
        status: 400,
        body: json!({"type": "error.list", "errors": [{"code": "bad_request", "message": echo}]}),
        times: 1,
        ..Default::default()
    });
    env.fake.inject_fault(error_fault(
        "/teams",
        503,
        "down",
        "Bearer someone-elses-token",
        1,
    ));
    // The harness fails the test if the token shows anywhere in stdout or stderr.
    let run = env.read_streams(&["tags", "teams"], "full_refresh");
    assert_failed(
        &run,
        "tags",
        "system_error",
        &["HTTP 400", "bad_request", "***"],
    );
    let all = run
        .messages
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!all.contains("someone-elses-token"), "{all}");
    assert_eq!(run.statuses("teams").last().unwrap(), "COMPLETE");
}

#[test]
fn odd_rate_limit_headers_neither_overflow_nor_hang() {
    let env = Env::start();
    for reset in [
        "9223372036854775807",
        "-9223372036854775808",
        "soon",
        "99999999999",
    ] {
        env.fake.inject_fault(rate_limit_fault(
            "/admins",
            &[
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", reset),
                ("Retry-After", "99999"),
            ],
            1,
        ));
    }
    let run = env.read_streams(&["admins"], "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(
        run.records("admins").len(),
        env.fake.with_workspace(|w| w.admins.len())
    );
    // Each wait was announced as a RATE_LIMITED status of the stream.
    let limited: Vec<&Value> = run
        .of_type("TRACE")
        .into_iter()
        .filter(|m| m["trace"]["stream_status"]["reasons"][0]["type"] == "RATE_LIMITED")
        .collect();
    assert_eq!(limited.len(), 4, "{limited:?}");
    for m in limited {
        assert_eq!(
            m["trace"]["stream_status"]["stream_descriptor"]["name"],
            "admins"
        );
        assert_eq!(m["trace"]["stream_status"]["status"], "RUNNING");
        assert!(m["trace"]["stream_status"]["reasons"][0]["rate_limited"]["quota_reset"].is_i64());
    }
}

#[test]
fn a_rate_limit_wait_is_announced_with_its_reset_and_capped_in_total() {
    let env = Env::start();
    let limited = |reset: i64, times| {
        rate_limit_fault(
            "/admins",
            &[
                ("X-RateLimit-Limit", "167"),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", &reset.to_string()),
            ],
            times,
        )
    };
    let reset = chrono::Utc::now().timestamp() + 2;
    env.fake.inject_fault(limited(reset, 1));
    let run = env.read_streams(&["admins"], "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let statuses = run.of_type("TRACE");
    let announced = statuses
        .iter()
        .find(|m| m["trace"]["stream_status"]["reasons"][0]["type"] == "RATE_LIMITED")
        .expect("a RATE_LIMITED status");
    assert_eq!(
        announced["trace"]["stream_status"]["reasons"][0]["rate_limited"]["quota_reset"]
            .as_i64()
            .unwrap()
            / 1000,
        reset,
        "quota_reset is the window's reset"
    );
    assert!(run
        .logs()
        .iter()
        .any(|l| l.contains("rate limited by Intercom (stream admins)")));

    // A request may not wait longer than its budget in all.
    env.fake.clear_faults();
    env.fake
        .inject_fault(limited(chrono::Utc::now().timestamp() + 5, 1000));
    let run = env.read(
        &env.config(),
        &env.catalog(&["admins"], "full_refresh"),
        None,
        &[("SOURCE_INTERCOM_MAX_REQUEST_SECS", "1")],
    );
    assert_failed(
        &run,
        "admins",
        "transient_error",
        &["HTTP 429 on GET /admins", "rate_limit_exceeded"],
    );
}

#[test]
fn server_ids_cannot_escape_their_path_segment() {
    let env = Env::start();
    let page = json!({"type": "conversation.list", "total_count": 1,
        "conversations": [{"type": "conversation", "id": "../../admins", "updated_at": 1_700_000_000}],
        "pages": {"type": "pages", "page": 1, "total_pages": 1}});
    env.fake
        .inject_fault(body_fault("POST", "/conversations/search", page, 0, 1));
    let run = env.read_streams(&["conversation_parts"], "full_refresh");
    // The fake has no such conversation: a 404, asked again once, then counted as a deletion.
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let paths: Vec<String> = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, vec!["/conversations/%2E%2E%2F%2E%2E%2Fadmins"; 2]);

    // An id that would still move the path is refused.
    let page = json!({"type": "conversation.list", "total_count": 1,
        "conversations": [{"type": "conversation", "id": "..", "updated_at": 1_700_000_000}],
        "pages": {"type": "pages", "page": 1, "total_pages": 1}});
    env.fake
        .inject_fault(body_fault("POST", "/conversations/search", page, 0, 1));
    let run = env.read_streams(&["conversation_parts"], "full_refresh");
    assert_failed(
        &run,
        "conversation_parts",
        "system_error",
        &[
            "POST /conversations/search",
            "can't be used in a request path",
        ],
    );
}

#[test]
fn children_missing_beyond_a_small_share_fail_with_advice() {
    let env = Env::start();
    // A misrouted proxy: every conversation fetch is 404.
    env.fake.inject_fault(error_fault(
        "/conversations/*",
        404,
        "not_found",
        "Resource Not Found",
        10_000,
    ));
    let run = env.read_streams(&["conversation_parts", "admins"], "full_refresh");
    assert_failed(
        &run,
        "conversation_parts",
        "config_error",
        &["answered 404", "region", "proxy"],
    );
    assert!(run.records("conversation_parts").len() < 5);
    assert_eq!(run.statuses("admins").last().unwrap(), "COMPLETE");

    // Two deletions between search and fetch (404, and 404 again) are only warnings.
    env.fake.clear_faults();
    let gone: Vec<String> = env.fake.with_workspace(|w| {
        w.conversations[3..5]
            .iter()
            .map(|c| id_of(&c["id"]))
            .collect()
    });
    for id in &gone {
        env.fake.inject_fault(error_fault(
            &format!("/conversations/{id}"),
            404,
            "not_found",
            "Resource Not Found",
            2,
        ));
    }
    let run = env.read_streams(&["conversation_parts"], "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(
        run.logs()
            .iter()
            .filter(|l| l.contains("was deleted after the list returned it"))
            .count(),
        2
    );
}

#[test]
fn oversized_answers_fail_clearly() {
    let env = Env::start();
    let big = "x".repeat(3 * 1024 * 1024);
    env.fake.inject_fault(body_fault(
        "GET",
        "/tags",
        json!({"type": "list", "data": [{"name": big}]}),
        0,
        1,
    ));
    let run = env.read(
        &env.config(),
        &env.catalog(&["tags"], "full_refresh"),
        None,
        &[("SOURCE_INTERCOM_MAX_BODY_MB", "2")],
    );
    assert_failed(
        &run,
        "tags",
        "system_error",
        &[
            "GET /tags",
            "larger than 2 MiB",
            "SOURCE_INTERCOM_MAX_BODY_MB",
        ],
    );
}

#[test]
fn impossible_saved_cursors_are_config_errors_and_future_ones_read_nothing() {
    let env = Env::start();
    let catalog = env.catalog(&["contacts"], "incremental");
    for (cursor, words) in [
        (
            json!(1_700_000_000_000i64),
            vec!["contacts", "1700000000000", "milliseconds"],
        ),
        (json!(1e30), vec!["contacts", "after the year 9999"]),
        (json!("inf"), vec!["contacts", "not a finite number"]),
        (
            json!(1_700_000_000.5),
            vec!["contacts", "not a whole number"],
        ),
    ] {
        let state = env
            .files
            .write_json("state.json", &json!({"contacts": {"updated_at": cursor}}));
        let run = env.read(&env.config(), &catalog, Some(&state), &[]);
        assert_eq!(run.code, 1);
        let e = the_error(&run);
        assert_eq!(e["failure_type"], "config_error");
        for w in words {
            assert!(message(e).contains(w), "{w:?} not in {}", message(e));
        }
        assert!(run.records("contacts").is_empty());
    }
    let requests_before = env.fake.requests().len();
    assert_eq!(requests_before, 0, "nothing was asked of Intercom");

    // The acceptance tests' abnormal state: year 2211.
    let state = env.files.write_json(
        "state.json",
        &json!({"contacts": {"updated_at": 7_626_086_649u64}}),
    );
    let run = env.read(&env.config(), &catalog, Some(&state), &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert!(run.records("contacts").is_empty());
    assert!(run
        .logs()
        .iter()
        .any(|l| l.contains("in the future") && l.contains("no records will be emitted")));

    // A negative cursor reads from start_date.
    let state = env.files.write_json(
        "state.json",
        &json!({"contacts": {"updated_at": -1_000_000_000_000i64}}),
    );
    let run = env.read(&env.config(), &catalog, Some(&state), &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(
        run.records("contacts").len(),
        env.fake.with_workspace(|w| w.contacts.len())
    );
}

#[test]
fn catalog_cursor_fields_are_checked_against_the_stream() {
    let env = Env::start();
    let with_cursor = |stream: &str, field: &str| {
        let mut c = configured_catalog(&[stream], "incremental");
        c["streams"][0]["cursor_field"] = json!([field]);
        env.files.write_json("catalog.json", &c)
    };
    let run = env.read(
        &env.config(),
        &with_cursor("contacts", "no_such_field"),
        None,
        &[],
    );
    assert_eq!(run.code, 1);
    let e = the_error(&run);
    assert_eq!(e["failure_type"], "config_error");
    let m = message(e);
    assert!(
        m.contains("no_such_field") && m.contains("`updated_at`"),
        "{m}"
    );
    assert!(env.fake.requests().is_empty());

    // The official connector's catalogs carry updated_at for conversation_parts.
    let run = env.read(
        &env.config(),
        &with_cursor("conversation_parts", "updated_at"),
        None,
        &[],
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert!(!run.records("conversation_parts").is_empty());
    assert!(run
        .logs()
        .iter()
        .any(|l| l.contains("conversation_parts") && l.contains("conversation_updated_at")));
}

#[test]
fn tokens_and_base_urls_that_could_leak_are_refused_up_front() {
    let env = Env::start();
    let cases = [
        (
            json!({"access_token": format!("{TOKEN}\nX-Evil: 1")}),
            "line break",
        ),
        (
            json!({"base_url": env.fake.base_url().replace("http://", "http://user:hunter2@")}),
            "user name or password",
        ),
        (
            json!({"base_url": "http://api.intercom.io"}),
            "must use https://",
        ),
        (json!({"base_url": "https://169.254.169.254"}), "link-local"),
    ];
    for (patch, want) in cases {
        let cfg = env.config_with(patch.clone());
        let run = run_connector(&["check", "--config", cfg.to_str().unwrap()], &[]);
        assert_eq!(run.code, 0);
        let status = run.connection_status();
        assert_eq!(status["status"], "FAILED", "{patch}");
        let m = status["message"].as_str().unwrap();
        assert!(m.contains(want), "{patch}: {m}");
        assert!(!m.contains("hunter2"), "{m}");

        let run = env.read(&cfg, &env.catalog(&["admins"], "full_refresh"), None, &[]);
        assert_eq!(run.code, 1);
        let e = the_error(&run);
        assert_eq!(e["failure_type"], "config_error");
        assert!(!message(e).contains("hunter2"));
        assert!(!e.to_string().contains("hunter2"));
    }
    assert!(env.fake.requests().is_empty(), "nothing was sent");
}

#[test]
fn a_panic_is_one_system_error_trace() {
    let env = Env::start();
    let run = env.read(
        &env.config(),
        &env.catalog(&["admins"], "full_refresh"),
        None,
        &[("SOURCE_INTERCOM_DEBUG_PANIC", "1")],
    );
    assert_eq!(run.code, 1);
    let e = the_error(&run);
    assert_eq!(e["failure_type"], "system_error");
    assert!(message(e).contains("crashed on an internal error"));
    // The panic text is server-side-like text: credentials in it are masked too.
    assert!(!run.stderr.contains("leaked-in-panic"), "{}", run.stderr);
    assert!(!e.to_string().contains("leaked-in-panic"), "{e}");
    assert!(run.stderr.contains("panic at"), "{}", run.stderr);
}

#[test]
fn sigterm_stops_at_a_message_boundary_with_one_error_trace() {
    use std::io::{BufRead, BufReader, Read};
    // Slow answers, so that the read is surely mid-way when the signal arrives.
    let env = Env::with(FakeConfig {
        contacts: 3000,
        latency_ms: 150,
        ..FakeConfig::default()
    });
    let mut child = env.spawn_read(&["contacts"], "full_refresh");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    // Wait for the first record, then ask the connector to stop.
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "ended early: {lines:?}"
        );
        let is_record = line.starts_with("{\"type\":\"RECORD\"");
        lines.push(line);
        if is_record {
            break;
        }
    }
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // A slow reader: the pipe fills, and the streams' writes block mid-page while the
    // connector stops (it must still cut no line).
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    assert!(
        rest.is_empty() || rest.ends_with('\n'),
        "the last line is whole"
    );
    let all: Vec<Value> = lines
        .iter()
        .map(|l| l.trim_end().to_string())
        .chain(rest.lines().map(str::to_string))
        .map(|l| check_protocol_line(&l))
        .collect();
    let records = all.iter().filter(|m| m["type"] == "RECORD").count();
    assert!(records < 3000, "the read stopped early ({records} records)");
    let errors: Vec<&Value> = all
        .iter()
        .filter(|m| m["type"] == "TRACE" && m["trace"]["type"] == "ERROR")
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0]["trace"]["error"]["failure_type"],
        "transient_error"
    );
    assert!(errors[0]["trace"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("interrupted by SIGTERM"));
}

#[test]
fn a_long_rate_limit_wait_is_announced_while_it_lasts() {
    use std::io::{BufRead, BufReader};
    let env = Env::start();
    let reset = chrono::Utc::now().timestamp() + 2;
    env.fake.inject_fault(rate_limit_fault(
        "/admins",
        &[
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", &reset.to_string()),
        ],
        1,
    ));
    let mut child = env.spawn_read(&["admins"], "full_refresh");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut log_seen = false;
    loop {
        let line = lines
            .next()
            .expect("the announcement comes before the end")
            .unwrap();
        let m = check_protocol_line(&line);
        if m["type"] == "LOG"
            && m["log"]["message"]
                .as_str()
                .unwrap()
                .contains("rate limited")
        {
            log_seen = true;
        }
        if m["trace"]["stream_status"]["reasons"][0]["type"] == "RATE_LIMITED" {
            break;
        }
    }
    // Both reached stdout while the connector still waits for the reset.
    assert!(log_seen, "the LOG line came with the status");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the announcement arrived only when the wait was over"
    );
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(child.wait().unwrap().success());
    assert!(rest.iter().any(|l| l.contains("\"COMPLETE\"")));
}
