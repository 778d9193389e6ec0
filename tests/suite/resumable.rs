//! Resumable full refresh: a full-refresh read saves its position as it goes (a search's
//! watermark, activity-log windows, the pages of a page-numbered list, a child's parent
//! position); a read given the last STATE of a killed attempt continues from it, and one
//! given the finished state starts over.

use std::collections::{BTreeMap, BTreeSet};

use fake_intercom::FakeConfig;
use serde_json::{json, Value};

use crate::support::*;

/// Every search is partitioned into ranges of about one page: many positions to resume from.
const PARTITIONED: &[(&str, &str)] = &[
    ("SOURCE_INTERCOM_SERIAL_PAGES", "0"),
    ("SOURCE_INTERCOM_PAGES_PER_PARTITION", "1"),
];

/// One stream of each kind that resumes.
const RESUMABLE: &[&str] = &[
    "contacts",
    "leads",
    "conversation_parts",
    "tickets",
    "activity_logs",
    "articles",
    "deleted_conversations",
];

fn records_of(messages: &[Value], stream: &str) -> usize {
    messages
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["record"]["stream"] == stream)
        .count()
}

#[test]
fn a_killed_full_refresh_resumes_where_it_stopped() {
    let env = Env::with(FakeConfig {
        contacts: 1500,
        conversations: 900,
        tickets: 600,
        activity_logs: 3000,
        articles: 400,
        deleted_conversations: 200,
        ..FakeConfig::default()
    });
    for s in RESUMABLE {
        assert_eq!(discovered_stream(s)["is_resumable"], true, "{s}");
    }
    for s in ["companies", "company_segments", "admins", "data_attributes"] {
        assert_eq!(discovered_stream(s)["is_resumable"], false, "{s}");
    }
    let catalog = env.catalog(RESUMABLE, "full_refresh");
    // One request at a time: ranges end in order, so every stream saves positions
    // along the way (a range's position counts once it and those before it are done).
    let config = env.config_with(json!({
        "activity_logs_time_step": 30,
        "start_date": "2023-01-01T00:00:00Z",
        "num_workers": 1
    }));
    let whole = env.read(&config, &catalog, None, PARTITIONED);
    assert_eq!(whole.code, 0, "{:?}", whole.error_traces());
    let all: BTreeSet<(String, String)> = keyed(&whole).into_keys().collect();
    let total = whole.messages.len();
    // Together, a killed attempt and the resumed one hold every record (checked by
    // `resume_at` at each cut).
    // Cut right after each stream's first and last position, and halfway.
    let mut cuts: BTreeSet<usize> = BTreeSet::from([total / 2]);
    for s in RESUMABLE {
        let positions: Vec<usize> = whole
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m["type"] == "STATE"
                    && m["state"]["stream"]["stream_descriptor"]["name"] == *s
                    && m["state"]["stream"]["stream_state"]["__ab_full_refresh_position"].is_i64()
            })
            .map(|(i, _)| i + 1)
            .collect();
        assert!(
            positions.len() >= 2,
            "{s}: {} positions saved",
            positions.len()
        );
        cuts.insert(positions[0]);
        cuts.insert(positions[positions.len() - 1]);
    }
    let mut resumed_somewhere: BTreeMap<&str, usize> = BTreeMap::new();
    for (n, state, resumed) in resume_at(&env, &config, &catalog, &whole, cuts, PARTITIONED) {
        let written = &whole.messages[..n];
        // A stream that had saved a position past some of its records reads less than a
        // whole read.
        for s in RESUMABLE {
            let position = state.as_array().unwrap().iter().find_map(|st| {
                (st["stream"]["stream_descriptor"]["name"] == *s)
                    .then(|| st["stream"]["stream_state"]["__ab_full_refresh_position"].as_i64())
                    .flatten()
            });
            let Some(position) = position else { continue };
            let past_records = if matches!(*s, "articles" | "deleted_conversations") {
                position > 0 // pages
            } else {
                let field = cursor_field(s);
                written.iter().any(|m| {
                    m["type"] == "RECORD"
                        && m["record"]["stream"] == *s
                        && m["record"]["data"][field]
                            .as_i64()
                            .is_some_and(|v| v < position)
                })
            };
            if past_records {
                let again = resumed.records(s).len();
                assert!(
                    again < records_of(&whole.messages, s),
                    "{s}: resumed at cut {n} and read {again} records, not fewer than a whole read"
                );
                *resumed_somewhere.entry(s).or_default() += 1;
            }
        }
    }
    for s in RESUMABLE {
        assert!(
            resumed_somewhere.get(s).copied().unwrap_or(0) >= 2,
            "{s} resumed at {resumed_somewhere:?} cut points only"
        );
    }
    // A finished full refresh starts over.
    let finished = env.files.write_json("finished.json", &whole.final_state());
    for st in whole.final_state().as_array().unwrap() {
        assert_eq!(
            st["stream"]["stream_state"],
            json!({"__ab_full_refresh_sync_complete": true})
        );
    }
    let again = env.read(&config, &catalog, Some(&finished), PARTITIONED);
    assert_eq!(again.code, 0);
    assert_eq!(keyed(&again).into_keys().collect::<BTreeSet<_>>(), all);
}

#[test]
fn full_refresh_positions_never_leak_into_incremental_reads() {
    let env = Env::start();
    let tickets = env.fake.with_workspace(|w| w.tickets.len());
    // A read of tickets in `mode`, given this saved state.
    let read = |mode: &str, stream_state: Value| {
        let state = json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "tickets"},
            "stream_state": stream_state}}]);
        let path = env.files.write_json("state.json", &state);
        env.read(
            &env.config(),
            &env.catalog(&["tickets"], mode),
            Some(&path),
            &[],
        )
    };
    // An incremental read given a full refresh's position reads from its start.
    let run = read(
        "incremental",
        json!({"__ab_full_refresh_position": 1_900_000_000}),
    );
    assert_eq!(run.code, 0);
    assert_eq!(run.records("tickets").len(), tickets);
    // A full refresh given an incremental position reads everything.
    let run = read("full_refresh", json!({"updated_at": 1_900_000_000}));
    assert_eq!(run.code, 0);
    assert_eq!(run.records("tickets").len(), tickets);
    // A position that is not one is a config error naming the stream.
    let run = read(
        "full_refresh",
        json!({"__ab_full_refresh_position": "soon"}),
    );
    assert_eq!(run.code, 1);
    let e = &run.error_traces()[0];
    assert_eq!(e["failure_type"], "config_error");
    assert!(e["message"].as_str().unwrap().contains("tickets"), "{e}");
}
