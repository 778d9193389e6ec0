//! A sync that ends well has read everything. Against an Intercom that misbehaves the
//! way real APIs do, every case here ends either with every record read, or with the
//! stream failed and no saved position past the records it missed:
//! - walks that end early: an empty page that still links on, `pages.next: null`
//!   before the reported `total_count`, a `total_pages` that is too low, a
//!   `total_count` that is too high, records that move while a walk runs;
//! - a search index that trails writes, record by record;
//! - Intercom's clock behind this machine's;
//! - fields of odd types, transient 404s on children, bytes that aren't UTF-8, values
//!   nested past what parsers downstream read, and a `total_count` that never shrinks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use fake_intercom::{FakeConfig, Fault, FaultKind};
use serde_json::{json, Value};

use crate::support::*;

/// Every search is partitioned, ranges of about two pages.
const SPLIT: &[(&str, &str)] = &[
    ("SOURCE_INTERCOM_SERIAL_PAGES", "0"),
    ("SOURCE_INTERCOM_PAGES_PER_PARTITION", "2"),
];

/// A fault that rewrites the real answer to the `after + 1`-th matching request
/// (JSON pointer, new value or `None` to remove), `times` times.
fn patch(
    method: &str,
    path: &str,
    edits: &[(&str, Option<Value>)],
    after: usize,
    times: usize,
) -> Fault {
    Fault {
        method: method.into(),
        path: path.into(),
        after,
        times,
        kind: FaultKind::Patch(
            edits
                .iter()
                .map(|(p, v)| (p.to_string(), v.clone()))
                .collect(),
        ),
        ..Default::default()
    }
}

/// A fault that replaces bytes of the real answer.
fn replace(method: &str, path: &str, find: &[u8], with: &[u8], times: usize) -> Fault {
    Fault {
        method: method.into(),
        path: path.into(),
        times,
        kind: FaultKind::Replace {
            find: find.to_vec(),
            with: with.to_vec(),
        },
        ..Default::default()
    }
}

fn ids(env: &Env, pick: impl Fn(&fake_intercom::Workspace) -> &Vec<Value>) -> BTreeSet<String> {
    env.fake
        .with_workspace(|w| pick(w).iter().map(|o| id_of(&o["id"])).collect())
}

fn got(run: &Run, stream: &str) -> BTreeSet<String> {
    run.records(stream)
        .iter()
        .map(|r| id_of(&r["id"]))
        .collect()
}

/// `stream` delivered exactly `want`; a failure names a few of the differences.
fn assert_ids(run: &Run, stream: &str, want: &BTreeSet<String>) {
    let have = got(run, stream);
    let missing: Vec<_> = want.difference(&have).take(5).collect();
    let extra: Vec<_> = have.difference(want).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{stream}: {} of {} missing, e.g. {missing:?}; unexpected {extra:?}; errors {:?}",
        want.difference(&have).count(),
        want.len(),
        run.error_traces()
    );
}

fn last_position(run: &Run, stream: &str, key: &str) -> Option<i64> {
    run.states(stream)
        .last()
        .and_then(|s| s["state"]["stream"]["stream_state"][key].as_i64())
}

/// Every STATE of `stream` stays at or below `limit`.
fn no_position_past(run: &Run, stream: &str, key: &str, limit: i64) {
    for s in run.states(stream) {
        if let Some(p) = s["state"]["stream"]["stream_state"][key].as_i64() {
            assert!(p <= limit, "{stream}: a saved position {p} is past {limit}");
        }
    }
}

#[test]
fn a_search_that_ends_early_is_read_again() {
    // 400 conversations: one walk of three pages.
    let env = Env::with(FakeConfig {
        conversations: 400,
        ..FakeConfig::default()
    });
    let all = ids(&env, |w| &w.conversations);
    let catalog = env.catalog(&["conversations"], "incremental");
    // (edit of one answer, which answer, searches the read takes, whether it walks again)
    let cases: [(&str, Option<Value>, usize, usize, bool); 4] = [
        // Page 2 comes empty, still linking to page 3.
        ("/conversations", Some(json!([])), 1, 6, true),
        // Page 1 says there is no next page.
        ("/pages/next", None, 0, 4, true),
        // Page 2 says there is no next page.
        ("/pages/next", None, 1, 5, true),
        // Page 1 reports more than there are (not enough to split the search): asked
        // again, Intercom reports what was read, and the walk is complete.
        ("/total_count", Some(json!(550)), 0, 4, false),
    ];
    for (pointer, value, after, want_searches, again) in cases {
        env.fake.clear_requests();
        env.fake.inject_fault(patch(
            "POST",
            "/conversations/search",
            &[(pointer, value.clone())],
            after,
            1,
        ));
        let run = env.read(&env.config(), &catalog, None, &[]);
        let case = format!("{pointer} = {value:?} on answer {}", after + 1);
        assert_eq!(run.code, 0, "{case}: {:?}", run.error_traces());
        assert_ids(&run, "conversations", &all);
        assert_eq!(
            env.fake.count("POST", "/conversations/search"),
            want_searches,
            "{case}"
        );
        let walked_again = run.logs().iter().any(|l| l.contains("reading it again"));
        assert_eq!(walked_again, again, "{case}: {:?}", run.logs());
    }
}

#[test]
fn partitioned_searches_that_end_early_are_read_whole() {
    let env = Env::with(FakeConfig {
        conversations: 1500,
        tickets: 900,
        ..FakeConfig::default()
    });
    let conversations = ids(&env, |w| &w.conversations);
    let tickets = ids(&env, |w| &w.tickets);
    // One range of each goes wrong: a page of conversations emptied (still linking on), a
    // walk of tickets ended early.
    env.fake.inject_fault(patch(
        "POST",
        "/conversations/search",
        &[("/conversations", Some(json!([])))],
        5,
        1,
    ));
    env.fake.inject_fault(patch(
        "POST",
        "/tickets/search",
        &[("/pages/next", None)],
        5,
        1,
    ));
    let catalog = env.catalog(&["conversations", "tickets"], "incremental");
    let run = env.read(
        &env.config_with(json!({"max_concurrency": 2})),
        &catalog,
        None,
        SPLIT,
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_ids(&run, "conversations", &conversations);
    assert_ids(&run, "tickets", &tickets);
    for s in ["conversations", "tickets"] {
        assert_eq!(run.statuses(s).last().unwrap(), "COMPLETE", "{s}");
    }
}

#[test]
fn a_search_that_stays_short_fails_without_a_position_past_the_gap() {
    let env = Env::with(FakeConfig {
        conversations: 1500,
        ..FakeConfig::default()
    });
    // After the first answer, every walk stops after its first page (`next: null`),
    // short of its count, every time.
    env.fake.inject_fault(patch(
        "POST",
        "/conversations/search",
        &[("/pages/next", None)],
        1,
        100_000,
    ));
    let catalog = env.catalog(&["conversations", "admins"], "incremental");
    let run = env.read(&env.config(), &catalog, None, SPLIT);
    assert_ne!(run.code, 0);
    assert_eq!(run.statuses("conversations").last().unwrap(), "INCOMPLETE");
    assert_eq!(run.statuses("admins").last().unwrap(), "COMPLETE");
    let e = run
        .error_traces()
        .into_iter()
        .find(|e| e["stream_descriptor"]["name"] == "conversations")
        .expect("an error for conversations");
    assert!(
        e["message"].as_str().unwrap().contains("ended early twice"),
        "{e}"
    );
    // Whatever was saved stays below every conversation that was not read.
    let read = got(&run, "conversations");
    let first_missing = env.fake.with_workspace(|w| {
        w.conversations
            .iter()
            .filter(|c| !read.contains(&id_of(&c["id"])))
            .filter_map(|c| c["updated_at"].as_i64())
            .min()
    });
    let t = first_missing.expect("some conversations were not read");
    no_position_past(&run, "conversations", "updated_at", t);
}

#[test]
fn activity_log_windows_and_articles_end_only_when_the_numbers_add_up() {
    let env = Env::with(FakeConfig {
        activity_logs: 6000,
        articles: 400,
        ..FakeConfig::default()
    });
    let logs = ids(&env, |w| &w.activity_logs);
    let articles = ids(&env, |w| &w.articles);
    let config = env.config_with(json!({"activity_logs_time_step": 91}));
    // Activity logs: a window whose first page stops early, a window whose first page
    // says it is the only one while linking on, a window's second page emptied.
    for (edits, after) in [
        (vec![("/pages/next", None)], 2),
        (vec![("/pages/total_pages", Some(json!(1)))], 5),
        (vec![("/activity_logs", Some(json!([])))], 8),
    ] {
        env.fake
            .inject_fault(patch("GET", "/admins/activity_logs", &edits, after, 1));
    }
    // Articles: page 1 claims to be the only page while linking to page 2; page 2 of 3
    // comes empty with its link to page 3.
    env.fake.inject_fault(patch(
        "GET",
        "/articles",
        &[("/pages/total_pages", Some(json!(1)))],
        0,
        1,
    ));
    env.fake.inject_fault(patch(
        "GET",
        "/articles",
        &[("/data", Some(json!([])))],
        0,
        1,
    ));
    let run = env.read(
        &config,
        &env.catalog(&["activity_logs", "articles"], "incremental"),
        None,
        &[],
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_ids(&run, "activity_logs", &logs);
    assert_ids(&run, "articles", &articles);
    assert!(
        env.fake.count("GET", "/articles") >= 4,
        "the articles were walked again"
    );
}

#[test]
fn records_that_move_during_a_walk_are_read_by_this_sync_or_the_next() {
    let env = Env::with(FakeConfig {
        conversations: 1200,
        ..FakeConfig::default()
    });
    let all = ids(&env, |w| &w.conversations);
    // While the ranges are walked, 30 of the oldest conversations are updated: they
    // leave their range (whose walk then ends short of its count) for the present.
    let calls = Arc::new(AtomicUsize::new(0));
    let moved: Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let (c, m) = (calls.clone(), moved.clone());
    env.fake.set_request_hook(move |req, w| {
        if req.path == "/conversations/search" && c.fetch_add(1, Ordering::SeqCst) == 4 {
            let now = fake_now();
            let mut oldest: Vec<(i64, String)> = w
                .conversations
                .iter()
                .map(|c| (c["updated_at"].as_i64().unwrap_or(0), id_of(&c["id"])))
                .collect();
            oldest.sort();
            for (_, id) in oldest.into_iter().take(30) {
                w.touch_conversation(&id, now);
                m.lock().unwrap().push(id);
            }
        }
    });
    let catalog = env.catalog(&["conversations"], "incremental");
    let first = env.read(&env.config(), &catalog, None, SPLIT);
    assert_eq!(first.code, 0, "{:?}", first.error_traces());
    env.fake.clear_request_hook();
    let state = env.files.write_json("state.json", &first.final_state());
    let second = env.read(&env.config(), &catalog, Some(&state), SPLIT);
    assert_eq!(second.code, 0, "{:?}", second.error_traces());
    let mut union = got(&first, "conversations");
    union.extend(got(&second, "conversations"));
    let missing: Vec<_> = all.difference(&union).take(5).collect();
    assert!(missing.is_empty(), "never read: {missing:?}");
    // The moved ones, in their new version, by one sync or the other.
    let versions: BTreeSet<(String, i64)> = first
        .records("conversations")
        .into_iter()
        .chain(second.records("conversations"))
        .map(|r| (id_of(&r["id"]), r["updated_at"].as_i64().unwrap()))
        .collect();
    let now_versions = env.fake.with_workspace(|w| {
        w.conversations
            .iter()
            .map(|c| (id_of(&c["id"]), c["updated_at"].as_i64().unwrap()))
            .collect::<BTreeMap<_, _>>()
    });
    for id in moved.lock().unwrap().iter() {
        assert!(
            versions.contains(&(id.clone(), now_versions[id])),
            "conversation {id} in its new version"
        );
    }
}

/// The fake's clock, from inside a request hook (which may not call the fake).
fn fake_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[test]
fn updates_the_search_index_has_not_caught_up_with_are_read_by_the_next_sync() {
    let env = Env::with(FakeConfig {
        conversations: 300,
        tickets: 200,
        // Each update becomes searchable 0 to 60 s after it is made, record by record.
        search_index_jitter_secs: 60,
        ..FakeConfig::default()
    });
    // 47 updates spread over the last 30 s.
    let now = env.fake.now_secs();
    let updated: Vec<(String, &str, i64)> = env.fake.with_workspace(|w| {
        let mut out = Vec::new();
        for i in 0..47usize {
            let t = now - 30 + (i as i64 * 30 / 47);
            if i % 2 == 0 {
                let id = id_of(&w.conversations[i * 5]["id"]);
                w.touch_conversation(&id, t);
                out.push((id, "conversations", t));
            } else {
                let id = id_of(&w.tickets[i * 3]["id"]);
                w.touch_ticket(&id, t);
                out.push((id, "tickets", t));
            }
        }
        out
    });
    // The fake really hides some of them now.
    let probe = env.read_streams(&["conversations", "tickets"], "incremental");
    let hidden = updated
        .iter()
        .filter(|(id, s, _)| !got(&probe, s).contains(id))
        .count();
    assert!(hidden > 0 && hidden < 47, "{hidden} of 47 hidden");
    // A sync now, and another once the index has caught up, from the first one's state.
    let catalog = env.catalog(&["conversations", "tickets"], "incremental");
    let first = env.read(&env.config(), &catalog, None, &[]);
    assert_eq!(first.code, 0, "{:?}", first.error_traces());
    env.fake.set_search_index_jitter_secs(0);
    let state = env.files.write_json("state.json", &first.final_state());
    let second = env.read(&env.config(), &catalog, Some(&state), &[]);
    assert_eq!(second.code, 0, "{:?}", second.error_traces());
    let mut missed = Vec::new();
    for (id, stream, t) in &updated {
        let seen = first
            .records(stream)
            .into_iter()
            .chain(second.records(stream))
            .any(|r| id_of(&r["id"]) == *id && r["updated_at"] == *t);
        if !seen {
            missed.push(format!("{stream} {id}"));
        }
    }
    assert!(missed.is_empty(), "never read: {missed:?}");
    // The saved position stays the lag behind the sync's start.
    for stream in ["conversations", "tickets"] {
        let p = last_position(&first, stream, "updated_at").unwrap();
        assert!(p <= now - 30 * 60 + 5, "{stream}: {p} vs {now}");
    }
}

#[test]
fn an_update_during_the_read_is_kept_for_the_next_sync_when_intercoms_clock_is_behind() {
    let env = Env::with(FakeConfig {
        companies: 400,
        clock_offset_secs: -600,
        ..FakeConfig::default()
    });
    let (first_id, last_id) = env.fake.with_workspace(|w| {
        (
            id_of(&w.companies[0]["id"]),
            id_of(&w.companies[w.companies.len() - 1]["id"]),
        )
    });
    // Mid-scroll, Intercom (600 s behind) updates a company already read, then one not
    // read yet.
    let calls = Arc::new(AtomicUsize::new(0));
    let (c, a, b) = (calls.clone(), first_id.clone(), last_id.clone());
    env.fake.set_request_hook(move |req, w| {
        if req.path == "/companies/scroll" && c.fetch_add(1, Ordering::SeqCst) == 1 {
            let intercom_now = fake_now() - 600;
            w.touch_company(&a, intercom_now);
            w.touch_company(&b, intercom_now + 1);
        }
    });
    let catalog = env.catalog(&["companies"], "incremental");
    let first = env.read(&env.config(), &catalog, None, &[]);
    assert_eq!(first.code, 0, "{:?}", first.error_traces());
    env.fake.clear_request_hook();
    let updated_at = env
        .fake
        .with_workspace(|w| w.companies[0]["updated_at"].as_i64().unwrap());
    let state = env.files.write_json("state.json", &first.final_state());
    let second = env.read(&env.config(), &catalog, Some(&state), &[]);
    assert_eq!(second.code, 0, "{:?}", second.error_traces());
    let read_again = first
        .records("companies")
        .into_iter()
        .chain(second.records("companies"))
        .any(|r| id_of(&r["id"]) == first_id && r["updated_at"] == updated_at);
    assert!(
        read_again,
        "the company updated mid-read is read in its new version"
    );
    assert!(
        first
            .logs()
            .iter()
            .any(|l| l.contains("behind this machine's")),
        "the skew is reported: {:?}",
        first.logs()
    );
}

#[test]
fn fields_are_read_one_by_one() {
    let env = Env::with(FakeConfig {
        conversations: 40,
        contacts: 60,
        ..FakeConfig::default()
    });
    // A conversation whose part count is not a whole number keeps its parts' fields.
    let odd = env.fake.with_workspace(|w| {
        let c = &mut w.conversations[3];
        c["statistics"]["count_conversation_parts"] = json!("lots");
        id_of(&c["id"])
    });
    let run = env.read_streams(&["conversation_parts"], "incremental");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let parts: Vec<&Value> = run
        .records("conversation_parts")
        .into_iter()
        .filter(|p| p["conversation_id"] == json!(odd))
        .collect();
    assert!(!parts.is_empty());
    for p in parts {
        assert!(p["conversation_updated_at"].is_i64(), "{p}");
        assert!(p["conversation_created_at"].is_i64(), "{p}");
    }
    // A contact whose role can't be read: contacts alone don't need it; a read that
    // splits contacts into leads and users fails, naming it, instead of losing it.
    env.fake
        .with_workspace(|w| w.contacts[7]["role"] = json!(5));
    let alone = env.read_streams(&["contacts"], "incremental");
    assert_eq!(alone.code, 0, "{:?}", alone.error_traces());
    let split = env.read(
        &env.config(),
        &env.catalog(&["contacts", "leads", "users", "admins"], "incremental"),
        None,
        &[("SOURCE_INTERCOM_MAX_RETRIES", "1")],
    );
    assert_ne!(split.code, 0);
    for s in ["contacts", "leads", "users"] {
        assert_eq!(split.statuses(s).last().unwrap(), "INCOMPLETE", "{s}");
        assert!(split.states(s).iter().all(|st| {
            st["state"]["stream"]["stream_state"]["updated_at"]
                .as_i64()
                .unwrap_or(0)
                <= 1_577_836_800
        }));
    }
    assert_eq!(split.statuses("admins").last().unwrap(), "COMPLETE");
    let msg = split.error_traces()[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("`role` = 5"), "{msg}");
    // A cursor that can't be read fails the stream the same way.
    env.fake
        .with_workspace(|w| w.conversations[5]["updated_at"] = json!(1_700_000_000.5));
    let run = env.read(
        &env.config(),
        &env.catalog(&["conversations"], "incremental"),
        None,
        &[("SOURCE_INTERCOM_MAX_RETRIES", "1")],
    );
    assert_ne!(run.code, 0);
    let msg = run.error_traces()[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("`updated_at` = 1700000000.5"), "{msg}");
}

#[test]
fn a_child_that_answers_404_once_is_asked_again() {
    let env = Env::with(FakeConfig {
        conversations: 600,
        ..FakeConfig::default()
    });
    let all: Vec<String> = env
        .fake
        .with_workspace(|w| w.conversations.iter().map(|c| id_of(&c["id"])).collect());
    let expected_parts: usize = env.fake.with_workspace(|w| {
        w.conversations
            .iter()
            .map(|c| {
                c["conversation_parts"]["conversation_parts"]
                    .as_array()
                    .map_or(0, Vec::len)
            })
            .sum()
    });
    // 9% of the conversations answer 404 once.
    for id in all.iter().step_by(11) {
        env.fake.inject_fault(error_fault(
            &format!("/conversations/{id}"),
            404,
            "not_found",
            "Resource Not Found",
            1,
        ));
    }
    let run = env.read_streams(&["conversation_parts"], "incremental");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(run.records("conversation_parts").len(), expected_parts);
    assert!(
        !run.logs().iter().any(|l| l.contains("deleted")),
        "no conversation counted as deleted"
    );
}

#[test]
fn bytes_that_are_not_utf8_and_deep_nesting_fail_a_page_never_the_process() {
    let env = Env::with(FakeConfig {
        conversations: 30,
        ..FakeConfig::default()
    });
    let (latin, deep) = env.fake.with_workspace(|w| {
        w.conversations[2]["custom_attributes"]["note"] = json!("café");
        w.conversations[4]["custom_attributes"]["shape"] = json!("DEEP-MARKER");
        (
            id_of(&w.conversations[2]["id"]),
            id_of(&w.conversations[4]["id"]),
        )
    });
    let catalog = env.catalog(&["conversations", "admins"], "incremental");
    let retries = [("SOURCE_INTERCOM_MAX_RETRIES", "2")];
    // A Latin-1 `é` once: the page is asked again, and the read is whole.
    env.fake.inject_fault(replace(
        "POST",
        "/conversations/search",
        "é".as_bytes(),
        b"\xe9",
        1,
    ));
    env.fake.clear_requests();
    let run = env.read(&env.config(), &catalog, None, &retries);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert!(got(&run, "conversations").contains(&latin));
    assert_eq!(
        env.fake.count("POST", "/conversations/search"),
        2,
        "the page, and the page again"
    );
    // Always: the stream fails cleanly, the others finish.
    env.fake.inject_fault(replace(
        "POST",
        "/conversations/search",
        "é".as_bytes(),
        b"\xe9",
        100,
    ));
    let run = env.read(&env.config(), &catalog, None, &retries);
    assert_eq!(run.code, 1);
    assert_eq!(run.statuses("conversations").last().unwrap(), "INCOMPLETE");
    assert_eq!(run.statuses("admins").last().unwrap(), "COMPLETE");
    let msg = run.error_traces()[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("not valid UTF-8"), "{msg}");
    assert!(!run.stderr.contains("panic"), "{}", run.stderr);
    env.fake.clear_faults();
    // Nested 100,000 deep: a bad body too. Nesting parsers read is passed through (100
    // deep here: this test's own JSON parser stops at 128).
    let nest = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n)).into_bytes();
    env.fake.inject_fault(replace(
        "POST",
        "/conversations/search",
        b"\"DEEP-MARKER\"",
        &nest(100_000),
        100,
    ));
    let run = env.read(&env.config(), &catalog, None, &retries);
    assert_eq!(run.code, 1);
    let msg = run.error_traces()[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("more than 512 levels"), "{msg}");
    env.fake.clear_faults();
    env.fake.inject_fault(replace(
        "POST",
        "/conversations/search",
        b"\"DEEP-MARKER\"",
        &nest(100),
        1,
    ));
    let run = env.read(&env.config(), &catalog, None, &retries);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert!(run
        .records("conversations")
        .iter()
        .any(|r| id_of(&r["id"]) == deep && r["custom_attributes"]["shape"].is_array()));
}

#[test]
fn a_total_count_that_never_shrinks_costs_a_bounded_number_of_requests() {
    let env = Env::with(FakeConfig {
        conversations: 1500,
        contacts: 1200,
        ..FakeConfig::default()
    });
    // A proxy that reports the unfiltered total (and more) on every search answer.
    for path in ["/conversations/search", "/contacts/search"] {
        env.fake.inject_fault(patch(
            "POST",
            path,
            &[("/total_count", Some(json!(u64::MAX)))],
            0,
            100_000,
        ));
    }
    let run = env.read(
        &env.config(),
        &env.catalog(&["conversations", "contacts", "admins"], "incremental"),
        None,
        SPLIT,
    );
    let searches = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/search"))
        .count();
    // At most 64 ranges each, each walked at most twice with one re-check.
    assert!(searches < 2 * 64 * 12, "{searches} search requests");
    // The counts never add up: the streams fail, saying so, with no position saved.
    for s in ["conversations", "contacts"] {
        assert_eq!(run.statuses(s).last().unwrap(), "INCOMPLETE", "{s}");
        no_position_past(&run, s, "updated_at", 1_577_836_800);
    }
    assert_eq!(run.statuses("admins").last().unwrap(), "COMPLETE");
    // The estimate fits a Java long.
    for e in run.of_type("TRACE") {
        if let Some(n) = e["trace"]["estimate"]["row_estimate"].as_u64() {
            assert!(n <= i64::MAX as u64);
        }
    }
    // Records emitted stay near the workspace's size, never many times over.
    assert!(run.records("contacts").len() <= 2 * 1200 + 150);
}

/// Debug logs, and ranges of about ten pages read concurrently.
const CUTTING: &[(&str, &str)] = &[
    ("LOG_LEVEL", "debug"),
    ("SOURCE_INTERCOM_SERIAL_PAGES", "0"),
    ("SOURCE_INTERCOM_PAGES_PER_PARTITION", "10"),
];

#[test]
fn ranges_cut_while_walked_give_every_record_exactly_once() {
    // Answers take time and walkers are free once the few ranges run: the connector
    // cuts running ranges (contact search by whole workspace days, conversation search
    // to the second), and the left walks stop where the right parts begin.
    let env = Env::with(FakeConfig {
        contacts: 6_000,
        conversations: 3_000,
        latency_ms: 40,
        ..FakeConfig::default()
    });
    let run = env.read_full_refresh(&["contacts", "conversations"], json!({}), CUTTING);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    for (stream, all) in [
        ("contacts", ids(&env, |w| &w.contacts)),
        ("conversations", ids(&env, |w| &w.conversations)),
    ] {
        let logs = run.logs();
        assert!(
            logs.iter()
                .any(|l| l.starts_with(&format!("stream {stream}: cut range"))),
            "{stream} was cut: {logs:?}"
        );
        let records = run.records(stream);
        assert_eq!(records.len(), all.len(), "{stream}: each record once");
        assert_ids(&run, stream, &all);
    }
}

#[test]
fn a_cut_range_that_loses_records_during_its_walk_is_read_again() {
    // Two ranges of about ten pages; once the first range is cut (its right part's
    // search arrives), ten conversations just left of the cut are deleted: the left
    // walk reads fewer than its count less the right part's, and reads its part again.
    let env = Env::with(FakeConfig {
        conversations: 3_000,
        latency_ms: 40,
        ..FakeConfig::default()
    });
    let lowers: Arc<std::sync::Mutex<BTreeSet<i64>>> = Default::default();
    let deleted: Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let (l, d) = (lowers.clone(), deleted.clone());
    env.fake.set_request_hook(move |req, w| {
        if req.path != "/conversations/search" {
            return;
        }
        let gt = req.body.as_ref().and_then(|b| {
            b["query"]["value"].as_array()?.iter().find_map(|c| {
                (c["field"] == "updated_at" && c["operator"] == ">")
                    .then(|| c["value"].as_i64())
                    .flatten()
            })
        });
        let Some(gt) = gt else { return };
        let mut lowers = l.lock().unwrap();
        // The whole search and the first range share a lower bound; the second range
        // has its own: a third is the first cut's right part.
        if lowers.insert(gt) && lowers.len() == 3 {
            let mut left: Vec<(i64, String)> = w
                .conversations
                .iter()
                .map(|c| (c["updated_at"].as_i64().unwrap_or(0), id_of(&c["id"])))
                .filter(|(t, _)| *t <= gt)
                .collect();
            left.sort();
            for (_, id) in left.into_iter().rev().take(10) {
                w.delete_conversation(&id, fake_now());
                d.lock().unwrap().push(id);
            }
        }
    });
    let run = env.read_full_refresh(&["conversations"], json!({}), CUTTING);
    env.fake.clear_request_hook();
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let deleted = deleted.lock().unwrap().clone();
    assert_eq!(deleted.len(), 10, "a range was cut");
    assert!(
        run.logs()
            .iter()
            .any(|l| l.contains("a cut range read") && l.contains("reading the range again")),
        "{:?}",
        run.logs()
    );
    // Every conversation still there is read.
    let all = ids(&env, |w| &w.conversations);
    assert_eq!(all.len(), 2_990);
    let read = got(&run, "conversations");
    let missing: Vec<_> = all.difference(&read).take(5).collect();
    assert!(missing.is_empty(), "never read: {missing:?}");
}
