//! Faults the network and Intercom's edge produce, injected into real answers: cut-off,
//! reset, slow and HTML bodies, one kind per test, and a seeded fault matrix: a full
//! sync of every stream with about 8% of requests failing at random must deliver
//! exactly the records of a clean sync.

use std::collections::{BTreeMap, BTreeSet};

use fake_intercom::{Chaos, FakeConfig, Fault, FaultKind};

use crate::support::*;

/// Seconds-scale waits shortened for tests: a slow answer past the client's timeout,
/// quick backoffs, and a scroll left open by a lost answer that expires quickly.
const FAST: &[(&str, &str)] = &[
    ("SOURCE_INTERCOM_TIMEOUT_MS", "1500"),
    ("SOURCE_INTERCOM_BACKOFF_BASE_MS", "20"),
    ("SOURCE_INTERCOM_BACKOFF_MAX_MS", "200"),
    ("SOURCE_INTERCOM_SCROLL_BUSY_WAIT_MS", "100"),
    ("SOURCE_INTERCOM_SCROLL_BUSY_MAX_MS", "20000"),
];

/// A workspace whose scroll, left open by a lost answer, expires quickly.
fn fast_fake() -> Env {
    Env::with(FakeConfig {
        scroll_expiry_ms: 600,
        ..FakeConfig::default()
    })
}

/// The same with Intercom's rate limit (10,000 a minute), which the fault matrix checks
/// the connector stays within, and seeded faults.
fn chaotic_fake(chaos: Chaos) -> Env {
    Env::rate_limited(FakeConfig {
        scroll_expiry_ms: 600,
        chaos: Some(chaos),
        ..FakeConfig::default()
    })
}

fn read_all(env: &Env) -> Run {
    let names = all_stream_names();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    env.read(
        &env.config(),
        &env.catalog(&names, "full_refresh"),
        None,
        FAST,
    )
}

#[test]
fn each_kind_of_bad_answer_is_retried_and_nothing_is_lost() {
    let kinds = [
        FaultKind::Truncated { keep: 0 },
        FaultKind::Truncated { keep: 1 },
        FaultKind::Html,
        FaultKind::Reset { after_bytes: 0 },
        FaultKind::Slow { delay_ms: 1500 },
    ];
    let streams = [
        "admins",
        "articles",
        "contacts",
        "conversation_parts",
        "company_segments",
    ];
    let clean_env = fast_fake();
    let clean = keys_per_stream(&clean_env.read(
        &clean_env.config(),
        &clean_env.catalog(&streams, "full_refresh"),
        None,
        FAST,
    ));
    for kind in kinds {
        let env = fast_fake();
        // Every stream family: a plain list, a page-number list, a search, children.
        for (method, path) in [
            ("GET", "/admins"),
            ("GET", "/articles"),
            ("POST", "/contacts/search"),
            ("GET", "/conversations/*"),
            ("GET", "/companies/*"),
        ] {
            env.fake.inject_fault(Fault {
                method: method.into(),
                path: path.into(),
                kind: kind.clone(),
                times: 1,
                ..Default::default()
            });
        }
        let run = env.read(
            &env.config(),
            &env.catalog(&streams, "full_refresh"),
            None,
            FAST,
        );
        assert_eq!(run.code, 0, "{kind:?}: {:?}", run.error_traces());
        let stats = env.fake.stats();
        assert_eq!(stats.injected(), 5, "{kind:?}: {stats:?}");
        let got = keys_per_stream(&run);
        for s in streams {
            assert_eq!(got.get(s), clean.get(s), "{kind:?}: stream {s}");
        }
        let retried = run
            .logs()
            .iter()
            .filter(|l| l.contains("retry 1 of"))
            .count()
            + run
                .logs()
                .iter()
                .filter(|l| l.contains("companies scroll broke off"))
                .count();
        assert!(retried >= 4, "{kind:?}: {:?}", run.logs());
    }
}

#[test]
fn a_gzip_bomb_is_stopped_at_the_size_cap() {
    let env = fast_fake();
    env.fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/tags".into(),
        kind: FaultKind::Huge {
            bytes: 2 * 1024 * 1024 * 1024,
            gzip: true,
        },
        times: 1,
        ..Default::default()
    });
    let mut env_vars = FAST.to_vec();
    env_vars.push(("SOURCE_INTERCOM_MAX_BODY_MB", "8"));
    let run = env.read(
        &env.config(),
        &env.catalog(&["tags"], "full_refresh"),
        None,
        &env_vars,
    );
    assert_eq!(run.code, 1);
    let errs = run.error_traces();
    assert_eq!(errs.len(), 1);
    let m = errs[0]["message"].as_str().unwrap();
    assert_eq!(errs[0]["failure_type"], "system_error", "{m}");
    assert!(
        m.contains("GET /tags") && m.contains("larger than 8 MiB"),
        "{m}"
    );
}

#[test]
fn a_hostile_server_echoing_request_headers_leaks_nothing() {
    let env = fast_fake();
    env.fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/admins".into(),
        kind: FaultKind::Echo,
        times: 1,
        ..Default::default()
    });
    env.fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/me".into(),
        kind: FaultKind::Echo,
        times: 10,
        ..Default::default()
    });
    // The harness fails the run if the token appears in stdout or stderr.
    let run = env.read_streams(&["admins"], "full_refresh");
    assert_eq!(run.code, 1);
    let m = run.error_traces()[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.contains("HTTP 400 on GET /admins") && m.contains("***"),
        "{m}"
    );
    let cfg = env.config();
    let run = run_connector(&["check", "--config", cfg.to_str().unwrap()], FAST);
    assert_eq!(run.connection_status()["status"], "FAILED");
}

#[test]
fn a_repeated_page_is_caught_on_every_kind_of_pagination() {
    for (stream, method, path, after) in [
        ("contacts", "POST", "/contacts/search", 1),
        ("articles", "GET", "/articles", 1),
        ("companies", "GET", "/companies/scroll", 1),
    ] {
        let env = Env::with(FakeConfig {
            contacts: 400,
            articles: 400,
            companies: 400,
            ..FakeConfig::default()
        });
        env.fake.inject_fault(Fault {
            method: method.into(),
            path: path.into(),
            kind: FaultKind::Repeat,
            times: 1,
            after,
            ..Default::default()
        });
        let run = env.read(
            &env.config(),
            &env.catalog(&[stream], "full_refresh"),
            None,
            FAST,
        );
        assert_eq!(run.code, 1, "{stream}");
        let errs = run.error_traces();
        assert_eq!(errs.len(), 1, "{stream}: {errs:?}");
        let m = errs[0]["message"].as_str().unwrap();
        assert!(m.contains("pagination of"), "{stream}: {m}");
        assert!(
            m.contains("already read") || m.contains("already returned"),
            "{stream}: {m}"
        );
        assert_eq!(run.statuses(stream).last().unwrap(), "INCOMPLETE");
    }
}

/// One sync of every stream against a workspace with seeded faults: what it got wrong.
fn chaotic_sync(seed: u64, want: &BTreeMap<String, BTreeSet<String>>) -> Result<(), String> {
    let env = chaotic_fake(Chaos {
        seed,
        rate: 0.08,
        slow_ms: 4000,
        ..Chaos::default()
    });
    let run = read_all(&env);
    let stats = env.fake.stats();
    if run.code != 0 {
        return Err(format!("exit {}: {:?}", run.code, run.error_traces()));
    }
    let got = keys_per_stream(&run);
    for (stream, ids) in want {
        let g = got.get(stream).cloned().unwrap_or_default();
        if &g != ids {
            let lost = ids.difference(&g).count();
            let extra = g.difference(ids).count();
            return Err(format!("{stream}: {lost} lost, {extra} unexpected"));
        }
    }
    let injected_429 = stats.chaos.get("rate-limit-burst").copied().unwrap_or(0);
    if stats.limiter_rejections > injected_429 {
        return Err(format!(
            "{} requests over the fake's limit (recovered 429s: {injected_429})",
            stats.limiter_rejections
        ));
    }
    if stats.injected() == 0 {
        return Err("no fault was injected".into());
    }
    Ok(())
}

/// The fault matrix: 20 seeds, about 8% of requests failing at random (429 bursts,
/// 5xx, resets, cut-off bodies, slow answers, HTML pages with status 200), a full read
/// of every stream each time. Every run must deliver exactly a clean run's records,
/// and stay within the fake's rate limit except for the 429s it recovered from.
#[test]
fn fault_matrix_twenty_seeds_deliver_every_record() {
    let clean = read_all(&fast_fake());
    assert_eq!(clean.code, 0, "{:?}", clean.error_traces());
    let want = keys_per_stream(&clean);
    assert_eq!(
        want.len(),
        all_stream_names().len(),
        "every stream has records"
    );

    // All twenty syncs at once: most of each one's time is spent waiting out 429 resets and
    // slow answers, which overlap; the client's 1.5 s timeout leaves room for a loaded
    // machine (and a fast answer that still times out is retried like any other).
    let results: Vec<(u64, Result<(), String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..=20u64)
            .map(|seed| {
                let want = &want;
                scope.spawn(move || (seed, chaotic_sync(seed, want)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("seed thread"))
            .collect()
    });
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(seed, r)| r.as_ref().err().map(|e| format!("seed {seed}: {e}")))
        .collect();
    assert!(
        failed.is_empty(),
        "{}/20 seeds passed:\n{}",
        20 - failed.len(),
        failed.join("\n")
    );
}
