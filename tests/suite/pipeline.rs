//! The concurrent read pipeline: partitioned searches that deliver every record once,
//! kill-and-resume at random points of a partitioned, concurrent sync, one search
//! feeding several streams, streams overlapping in one request budget, estimates and
//! progress logs.

use std::collections::BTreeSet;

use fake_intercom::FakeConfig;
use serde_json::Value;

use crate::support::*;

/// Force searches to split: every search is partitioned, and ranges holding more than
/// two pages are split again.
const PARTITIONED: &[(&str, &str)] = &[
    ("SOURCE_INTERCOM_SERIAL_PAGES", "0"),
    ("SOURCE_INTERCOM_PAGES_PER_PARTITION", "1"),
];

/// Partitioned, with fewer splits: ranges of about two pages.
const SPLIT: &[(&str, &str)] = &[
    ("SOURCE_INTERCOM_SERIAL_PAGES", "0"),
    ("SOURCE_INTERCOM_PAGES_PER_PARTITION", "2"),
];

/// The fake's own ids of a collection, as the oracle.
fn oracle(env: &Env, pick: impl Fn(&fake_intercom::Workspace) -> Vec<Value>) -> BTreeSet<String> {
    env.fake
        .with_workspace(|w| pick(w).iter().map(|o| id_of(&o["id"])).collect())
}

fn search_requests(env: &Env, path: &str) -> Vec<Value> {
    env.fake
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .filter_map(|r| r.body)
        .collect()
}

#[test]
fn partitioned_searches_deliver_every_record_exactly_once() {
    let env = Env::with(FakeConfig {
        contacts: 1500,
        conversations: 500,
        tickets: 400,
        ..FakeConfig::default()
    });
    let streams = [
        "contacts",
        "leads",
        "users",
        "conversations",
        "conversation_parts",
        "tickets",
    ];
    let run = env.read(
        &env.config(),
        &env.catalog(&streams, "full_refresh"),
        None,
        PARTITIONED,
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    // No record twice, although ranges overlap in their queries.
    let twice: Vec<_> = keyed(&run).into_iter().filter(|(_, n)| *n > 1).collect();
    assert!(
        twice.is_empty(),
        "duplicates: {:?}",
        &twice[..twice.len().min(5)]
    );
    // Every record the workspace holds.
    let got = keys_per_stream(&run);
    let ids = |stream: &str| got.get(stream).cloned().unwrap_or_default();
    assert_eq!(ids("contacts"), oracle(&env, |w| w.contacts.clone()));
    let by_role = |role: &str| {
        oracle(&env, |w| {
            w.contacts
                .iter()
                .filter(|c| c["role"] == role)
                .cloned()
                .collect()
        })
    };
    assert_eq!(ids("leads"), by_role("lead"));
    assert_eq!(ids("users"), by_role("user"));
    assert_eq!(
        ids("conversations"),
        oracle(&env, |w| w.conversations.clone())
    );
    assert_eq!(ids("tickets"), oracle(&env, |w| w.tickets.clone()));
    let parts: BTreeSet<String> = env.fake.with_workspace(|w| {
        w.conversations
            .iter()
            .flat_map(|c| {
                c["conversation_parts"]["conversation_parts"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    });
    assert_eq!(ids("conversation_parts"), parts);
    // The searches were really split: bounded ranges, and more first pages than one.
    let contact_searches = search_requests(&env, "/contacts/search");
    let bounded = contact_searches
        .iter()
        .filter(|b| b["query"].to_string().contains("\"<\""))
        .count();
    assert!(bounded > 3, "{bounded} bounded contact searches");
    let first_pages = contact_searches
        .iter()
        .filter(|b| b["pagination"].get("starting_after").is_none())
        .count();
    assert!(first_pages > 3, "{first_pages} ranges");
    // One search fed contacts, leads and users: no search asked for a role.
    assert!(contact_searches
        .iter()
        .all(|b| !b["query"].to_string().contains("\"role\"")));
}

#[test]
fn a_lone_subset_asks_intercom_for_its_role_only() {
    let env = Env::start();
    let run = env.read_streams(&["leads"], "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let searches = search_requests(&env, "/contacts/search");
    assert!(!searches.is_empty());
    for b in &searches {
        assert!(b["query"].to_string().contains("\"lead\""), "{b}");
    }
    assert!(run.records("leads").iter().all(|r| r["role"] == "lead"));
}

/// A tiny deterministic generator for cut points.
fn cut_points(total: usize, seed: u64, n: usize) -> Vec<usize> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            1 + (x as usize) % (total - 1)
        })
        .collect()
}

#[test]
fn killed_partitioned_syncs_resume_without_gaps_at_random_points() {
    let env = Env::with(FakeConfig {
        contacts: 600,
        conversations: 150,
        tickets: 120,
        ..FakeConfig::default()
    });
    let streams = [
        "contacts",
        "leads",
        "users",
        "conversations",
        "conversation_parts",
        "tickets",
        "activity_logs",
        "companies",
        "company_segments",
    ];
    let catalog = env.catalog(&streams, "incremental");
    let full = env.read(&env.config(), &catalog, None, SPLIT);
    let cuts = cut_points(full.messages.len(), 7, 10);
    assert_resumes_without_gaps(&env, &catalog, &full, cuts, SPLIT);
}

#[test]
fn streams_overlap_within_one_request_budget() {
    let env = Env::with(FakeConfig {
        latency_ms: 40,
        ..FakeConfig::default()
    });
    let names = all_stream_names();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let run = env.read(
        &env.config_with(serde_json::json!({"max_concurrency": 6})),
        &env.catalog(&names, "full_refresh"),
        None,
        &[],
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let stats = env.fake.stats();
    assert!(
        stats.max_in_flight > 1,
        "streams and children overlap: {stats:?}"
    );
    assert!(
        stats.max_in_flight <= 6,
        "never more in flight than max_concurrency: {stats:?}"
    );
    // Several streams were running at once.
    let mut running = BTreeSet::new();
    let mut most = 0;
    for m in run.of_type("TRACE") {
        let s = &m["trace"]["stream_status"];
        match s["status"].as_str() {
            Some("STARTED") => {
                running.insert(s["stream_descriptor"]["name"].to_string());
            }
            Some("COMPLETE") | Some("INCOMPLETE") => {
                running.remove(&s["stream_descriptor"]["name"].to_string());
            }
            _ => {}
        }
        most = most.max(running.len());
    }
    assert!(most > 1, "streams ran one after another");
}

#[test]
fn searches_estimate_their_size_and_long_reads_log_progress() {
    let env = Env::with(FakeConfig {
        contacts: 600,
        latency_ms: 300,
        ..FakeConfig::default()
    });
    let run = env.read(
        &env.config_with(serde_json::json!({"max_concurrency": 1})),
        &env.catalog(&["contacts"], "full_refresh"),
        None,
        &[("SOURCE_INTERCOM_PROGRESS_SECS", "1")],
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let estimates: Vec<&Value> = run
        .of_type("TRACE")
        .into_iter()
        .filter(|m| m["trace"]["type"] == "ESTIMATE")
        .collect();
    assert_eq!(estimates.len(), 1);
    let e = &estimates[0]["trace"]["estimate"];
    assert_eq!(e["name"], "contacts");
    assert_eq!(e["type"], "STREAM");
    assert_eq!(e["row_estimate"], 600);
    let progress: Vec<String> = run
        .logs()
        .into_iter()
        .filter(|l| l.starts_with("stream contacts:") && l.contains("records in"))
        .collect();
    assert!(!progress.is_empty(), "{:?}", run.logs());
    assert!(
        progress[0].contains("requests") && progress[0].contains("waiting on rate limits"),
        "{progress:?}"
    );
}
