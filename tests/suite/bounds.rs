//! Output, memory and time bounds against a misbehaving API or proxy: every wait counts
//! against the request's budget, `Retry-After` is honoured in both forms, answers in
//! flight stay within the memory budget (peak RSS from the child's rusage), server text
//! in messages is bounded, and a proxy with a base path works.

use fake_intercom::{FakeConfig, Fault, FaultKind, RetryAfter};
use serde_json::{json, Value};

use crate::support::*;

const MIB: u64 = 1024 * 1024;

/// The real answer, with these headers added.
fn with_headers(method: &str, path: &str, headers: &[(&str, &str)], times: usize) -> Fault {
    Fault {
        method: method.into(),
        path: path.into(),
        kind: FaultKind::Patch(Vec::new()),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        times,
        ..Default::default()
    }
}

fn huge(path: &str, bytes: u64, times: usize) -> Fault {
    Fault {
        method: "GET".into(),
        path: path.into(),
        kind: FaultKind::Huge { bytes, gzip: true },
        times,
        ..Default::default()
    }
}

/// The one ERROR trace of a failed run, for `stream`.
fn failure(run: &Run, stream: &str) -> (String, String) {
    let errors = run.error_traces();
    let e = errors
        .iter()
        .find(|e| e["stream_descriptor"]["name"] == stream)
        .unwrap_or_else(|| panic!("no error for {stream}: {errors:?}"));
    (
        e["message"].as_str().unwrap_or_default().to_string(),
        e["failure_type"].as_str().unwrap_or_default().to_string(),
    )
}

fn rate_limited_statuses(run: &Run) -> usize {
    run.of_type("TRACE")
        .iter()
        .filter(|m| m["trace"]["stream_status"]["reasons"][0]["type"] == "RATE_LIMITED")
        .count()
}

/// Every LOG and TRACE line of a run, as written (re-serialised: the same length).
fn longest_message_line(run: &Run) -> usize {
    run.messages
        .iter()
        .filter(|m| m["type"] == "LOG" || m["type"] == "TRACE")
        .map(|m| m.to_string().len())
        .max()
        .unwrap_or(0)
}

#[test]
fn a_reset_further_ahead_than_a_window_is_not_waited_for_and_said_once() {
    let env = Env::with(FakeConfig {
        articles: 400,
        ..FakeConfig::default()
    });
    let ahead = (env.fake.now_secs() + 20).to_string();
    for reset in [ahead.as_str(), "95617584000", "9223372036854775807"] {
        env.fake.clear_faults();
        // Every page of the walk says the window is spent until that reset.
        env.fake.inject_fault(with_headers(
            "GET",
            "/articles",
            &[("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", reset)],
            10,
        ));
        let run = env.read_full_refresh(
            &["articles"],
            json!({}),
            &[("SOURCE_INTERCOM_MAX_REQUEST_SECS", "3")],
        );
        assert_eq!(run.code, 0, "{reset}: {:?}", run.error_traces());
        assert_eq!(run.records("articles").len(), 400, "{reset}");
        assert_eq!(rate_limited_statuses(&run), 0, "{reset}: no wait");
        let told: Vec<String> = run
            .logs()
            .into_iter()
            .filter(|l| l.contains("X-RateLimit-Reset") && l.contains("ignored"))
            .collect();
        assert_eq!(told.len(), 1, "{reset}: once per stream: {told:?}");
        assert!(
            told[0].contains(reset) && told[0].contains("GET /articles"),
            "{}",
            told[0]
        );
    }
}

#[test]
fn a_window_wait_longer_than_the_budget_is_not_started() {
    let env = Env::with(FakeConfig {
        articles: 400,
        ..FakeConfig::default()
    });
    // The first page says the window is spent for another 7-8 s (a plausible window).
    let reset = (env.fake.now_secs() + 8).to_string();
    env.fake.inject_fault(with_headers(
        "GET",
        "/articles",
        &[
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", &reset),
        ],
        1,
    ));
    let run = env.read_full_refresh(
        &["articles"],
        json!({}),
        &[("SOURCE_INTERCOM_MAX_REQUEST_SECS", "2")],
    );
    assert_ne!(run.code, 0);
    let (message, kind) = failure(&run, "articles");
    assert_eq!(kind, "transient_error");
    for words in [
        "GET /articles",
        "would have to wait",
        "for Intercom's rate limit",
        "SOURCE_INTERCOM_MAX_REQUEST_SECS",
    ] {
        assert!(message.contains(words), "{words}: {message}");
    }
    assert_eq!(rate_limited_statuses(&run), 0, "the wait was not started");
    assert_eq!(run.records("articles").len(), 150, "the first page");
}

#[test]
fn a_maintenance_window_is_waited_out_as_retry_after_says() {
    for form in [RetryAfter::Seconds, RetryAfter::HttpDate] {
        let env = Env::start();
        // Intercom's clock ten minutes behind ours: an HTTP date is read on its clock.
        env.fake.set_clock_offset_secs(-600);
        // Longer than five quick retries (20 ms backoff base in tests) can cover.
        env.fake.maintenance(2_500, form);
        let run = env.read_streams(&["admins"], "full_refresh");
        assert_eq!(run.code, 0, "{form:?}: {:?}", run.error_traces());
        assert_eq!(
            run.records("admins").len(),
            env.fake.with_workspace(|w| w.admins.len())
        );
        assert!(env.fake.stats().maintenance_503s >= 1);
        assert!(
            run.logs()
                .iter()
                .any(|l| l.contains("HTTP 503") && l.contains("as its Retry-After asks")),
            "{form:?}: {:?}",
            run.logs()
        );
    }
}

#[test]
fn a_retry_after_past_the_budget_stops_the_request_and_says_so() {
    let env = Env::start();
    let mut down = error_fault("/admins", 503, "service_unavailable", "maintenance", 2);
    down.headers = vec![("Retry-After".into(), "2".into())];
    env.fake.inject_fault(down);
    let run = env.read_full_refresh(
        &["admins"],
        json!({}),
        &[("SOURCE_INTERCOM_MAX_REQUEST_SECS", "3")],
    );
    assert_ne!(run.code, 0);
    let (message, kind) = failure(&run, "admins");
    assert_eq!(kind, "transient_error");
    for words in [
        "HTTP 503 on GET /admins",
        "would have to wait 2.0 s more (HTTP 503 with Retry-After)",
        "3 s one request may take",
    ] {
        assert!(message.contains(words), "{words}: {message}");
    }
}

#[test]
fn a_decompression_bomb_to_an_answer_read_whole_stays_small() {
    let env = Env::start();
    env.fake.inject_fault(huge("/counts", 512 * MIB, 10));
    let run = env.read_streams(&["counts"], "full_refresh");
    assert_ne!(run.code, 0);
    let (message, _) = failure(&run, "counts");
    assert!(
        message.contains("GET /counts") && message.contains("larger than 1 MiB"),
        "{message}"
    );
    assert!(
        run.peak_rss < 24 * MIB,
        "peak RSS {} MiB",
        run.peak_rss / MIB
    );

    // `check` reads /me whole, too.
    env.fake.inject_fault(huge("/me", 512 * MIB, 10));
    let run = run_connector(&["check", "--config", env.config().to_str().unwrap()], &[]);
    assert_eq!(run.code, 0);
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .contains("larger than 1 MiB"),
        "{status}"
    );
    assert!(
        run.peak_rss < 24 * MIB,
        "peak RSS {} MiB",
        run.peak_rss / MIB
    );
}

#[test]
fn answers_in_flight_stay_within_the_memory_budget() {
    let env = Env::with(FakeConfig {
        conversations: 60,
        ..FakeConfig::default()
    });
    // 24 conversation answers of 30 MiB each (gzip: a few KB on the wire), fetched many
    // at a time: without a byte budget they would be read side by side (480 MiB).
    env.fake
        .inject_fault(huge("/conversations/*", 30 * MIB, 24));
    let run = env.read_full_refresh(
        &["conversation_parts"],
        json!({}),
        &[
            ("SOURCE_INTERCOM_MAX_RETRIES", "0"),
            ("SOURCE_INTERCOM_MEMORY_MB", "64"),
        ],
    );
    assert!(env.fake.stats().injected() >= 16, "{:?}", env.fake.stats());
    // The budget (64 MiB here) plus what the process needs besides (about 10 MiB for a
    // debug build). Without the budget: 133 MiB here.
    assert!(
        run.peak_rss < 64 * MIB + 24 * MIB,
        "peak RSS {} MiB",
        run.peak_rss / MIB
    );
    let _ = failure(&run, "conversation_parts");
}

#[test]
fn an_answer_packed_with_tiny_records_is_refused_before_its_index_grows() {
    let env = Env::start();
    // Two million records of ten bytes: 21 MB of text, within the body cap.
    let mut packed = b"\"data\":[".to_vec();
    for _ in 0..2_000_000 {
        packed.extend_from_slice(b"{\"id\":\"1\"},");
    }
    env.fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/tags".into(),
        kind: FaultKind::Replace {
            find: b"\"data\":[".to_vec(),
            with: packed,
        },
        times: 10,
        ..Default::default()
    });
    let run = env.read_full_refresh(
        &["tags"],
        json!({}),
        &[("SOURCE_INTERCOM_MAX_RETRIES", "0")],
    );
    let (message, _) = failure(&run, "tags");
    assert!(
        message.contains("holds more than 100000 records"),
        "{message}"
    );
    assert!(
        run.peak_rss < 64 * MIB,
        "peak RSS {} MiB",
        run.peak_rss / MIB
    );
}

#[test]
fn server_text_in_errors_and_warnings_stays_short() {
    let env = Env::with(FakeConfig {
        articles: 400,
        contacts: 400,
        ..FakeConfig::default()
    });
    let pad = "a".repeat(2_000_000);
    env.fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/articles".into(),
        kind: FaultKind::Patch(vec![(
            "/pages/next".into(),
            Some(json!(format!("https://x/articles?page=2&pad={pad}"))),
        )]),
        times: 10,
        ..Default::default()
    });
    env.fake.inject_fault(Fault {
        method: "POST".into(),
        path: "/contacts/search".into(),
        kind: FaultKind::Patch(vec![(
            "/pages/next/starting_after".into(),
            Some(Value::String(pad.clone())),
        )]),
        times: 10,
        ..Default::default()
    });
    let run = env.read_streams(&["articles", "contacts"], "full_refresh");
    assert_ne!(run.code, 0);
    for stream in ["articles", "contacts"] {
        let (message, _) = failure(&run, stream);
        assert!(message.contains("`pages` is"), "{stream}: {message}");
    }
    let longest = longest_message_line(&run);
    assert!(longest < 5_000, "a LOG or TRACE line of {longest} bytes");
}

#[test]
fn a_proxy_with_a_base_path_is_followed_through_its_own_links() {
    let env = Env::with(FakeConfig {
        base_path: "/intercom".into(),
        articles: 400,
        contacts: 400,
        activity_logs: 400,
        ..FakeConfig::default()
    });
    assert!(env.fake.base_url().ends_with("/intercom"));
    let expected = expected_counts(&env);
    let names: Vec<&str> = expected.keys().map(String::as_str).collect();
    let run = env.read_streams(&names, "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let counts = run.record_counts();
    for (stream, want) in &expected {
        assert_eq!(counts.get(stream).copied().unwrap_or(0), *want, "{stream}");
    }
}

#[test]
fn an_encoding_the_client_cannot_read_is_named() {
    let env = Env::start();
    env.fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/admins".into(),
        kind: FaultKind::Patch(Vec::new()),
        headers: vec![("Content-Encoding".into(), "br".into())],
        times: 10,
        ..Default::default()
    });
    let run = env.read_streams(&["admins"], "full_refresh");
    let (message, _) = failure(&run, "admins");
    assert!(
        message.contains("encoded as `br`") && message.contains("GET /admins"),
        "{message}"
    );
}

#[test]
fn an_error_answer_that_breaks_off_is_asked_again() {
    let env = Env::start();
    // Another client holds the scroll: the first answer is a 400 `scroll_exists`, and
    // it breaks off mid-body, before it says so.
    env.fake.occupy_scroll(300);
    env.fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/companies/scroll".into(),
        kind: FaultKind::Reset { after_bytes: 10 },
        times: 1,
        ..Default::default()
    });
    let run = env.read_full_refresh(
        &["companies"],
        json!({}),
        &[("SOURCE_INTERCOM_SCROLL_BUSY_WAIT_MS", "100")],
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(
        run.records("companies").len(),
        env.fake.with_workspace(|w| w.companies.len())
    );
    assert!(
        run.logs()
            .iter()
            .any(|l| l.contains("HTTP 400 answer broke off before it said why")),
        "{:?}",
        run.logs()
    );
}
