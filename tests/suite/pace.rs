//! The rate budget and the requests in flight, sized from what the fake says: the
//! official connector's newer settings (`num_workers`, `api_rate_limit`) are honoured,
//! and other clients spending the same window are left their share without 429s.
//!
//! The fake's windows are 1 second long in most of these (Intercom's are 10): the
//! connector learns the length from the resets, and the tests take a tenth of the time.

use std::collections::BTreeMap;

use fake_intercom::FakeConfig;
use serde_json::json;

use crate::support::*;

/// Our requests in each of the fake's windows (aligned to the epoch, as its limiter's).
fn per_window(env: &Env, window_ms: u64) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for r in env.fake.requests() {
        *counts.entry(r.at_ms / window_ms).or_insert(0) += 1;
    }
    counts
}

#[test]
fn num_workers_caps_the_requests_in_flight() {
    // Slow answers and a fan-out of children: plenty of requests could go at once.
    let cfg = FakeConfig {
        conversations: 60,
        latency_ms: 30,
        ..FakeConfig::default()
    };
    let env = Env::with(cfg.clone());
    let run = env.read_full_refresh(&["conversation_parts"], json!({"num_workers": 3}), &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let want = expected_counts(&env)["conversation_parts"];
    assert_eq!(run.records("conversation_parts").len(), want);
    let max = env.fake.stats().max_in_flight;
    assert!(max <= 3, "{max} requests in flight");
    assert!(
        run.logs()
            .iter()
            .any(|l| l.contains("rate budget:") && l.contains("(of at most 3)")),
        "{:?}",
        run.logs()
    );
    // Without it, the connector sizes the requests in flight itself, above 3 here.
    let env = Env::with(cfg);
    let run = env.read_full_refresh(&["conversation_parts"], json!({}), &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert!(env.fake.stats().max_in_flight > 3, "{:?}", env.fake.stats());
}

#[test]
fn api_rate_limit_is_never_passed_in_a_window() {
    // The fake allows 100,000 a 10-second window; the config says 1,200 a minute: 200 a
    // window. The read needs more than 200 requests, so it spans two windows (this test
    // keeps Intercom's 10-second windows: the ceiling is a minute's).
    let env = Env::rate_limited(FakeConfig {
        contacts: 32_000,
        requests_per_minute: 600_000,
        // One search, not 640 contacts' whole lists: the windows are the subject.
        contacts_with_long_lists: 0.0,
        ..FakeConfig::default()
    });
    let run = env.read_full_refresh(&["contacts"], json!({"api_rate_limit": 1200}), &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(run.records("contacts").len(), 32_000);
    let windows = per_window(&env, 10_000);
    assert!(windows.len() >= 2, "the read spans windows: {windows:?}");
    let most = windows.values().max().copied().unwrap_or(0);
    assert!(most <= 200, "{most} requests in one window: {windows:?}");
    assert_eq!(env.fake.stats().limiter_rejections, 0);
}

#[test]
fn other_clients_spending_the_window_are_left_their_share_without_429s() {
    // 40 a window, of which other clients spend 20, spread over the window.
    let env = Env::rate_limited(FakeConfig {
        contacts: 9_000,
        requests_per_minute: 2_400,
        window_ms: 1_000,
        other_clients_per_window: 20,
        ..FakeConfig::default()
    });
    let run = env.read_full_refresh(&["contacts"], json!({}), &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(run.records("contacts").len(), 9_000);
    let stats = env.fake.stats();
    // At most the first window's, before the first answers tell the limit.
    assert!(
        stats.limiter_rejections <= 1,
        "{} 429s ({} caused by the other clients)",
        stats.limiter_rejections,
        stats.other_clients_rejections
    );
    let windows = per_window(&env, 1_000);
    assert!(windows.len() >= 2, "{windows:?}");
}

#[test]
fn a_limit_reported_above_the_one_enforced_is_corrected_by_remaining() {
    // The headers say 1,667 a window; the workspace enforces 40. The contacts' own
    // lists are whole (their reads, many at once, are no part of this).
    let env = Env::rate_limited(FakeConfig {
        contacts: 9_000,
        requests_per_minute: 2_400,
        window_ms: 1_000,
        reported_limit_per_window: Some(1_667),
        contacts_with_long_lists: 0.0,
        ..FakeConfig::default()
    });
    let run = env.read_full_refresh(&["contacts"], json!({}), &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(run.records("contacts").len(), 9_000);
    assert!(
        env.fake.stats().limiter_rejections <= 1,
        "{:?}",
        env.fake.stats()
    );
}
