//! Incremental replication: first sync, changes, second sync; kill-and-resume; the
//! quirks of Intercom's search, scroll and conversation endpoints; state compatibility.

use std::collections::{BTreeSet, HashMap};

use fake_intercom::{FakeConfig, Fault};
use serde_json::{json, Value};

use crate::support::*;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The value a search body's `updated_at` condition with `operator` compares to.
fn bound(body: &Value, operator: &str) -> Option<i64> {
    let q = &body["query"];
    let conditions = match q["value"].as_array() {
        Some(list) if q["operator"] == "AND" => list.clone(),
        _ => vec![q.clone()],
    };
    conditions
        .iter()
        .find(|c| c["field"] == "updated_at" && c["operator"] == operator)
        .and_then(|c| c["value"].as_i64())
}

fn saved_cursor(state: &Value, stream: &str) -> i64 {
    state
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stream"]["stream_descriptor"]["name"] == stream)
        .and_then(|s| s["stream"]["stream_state"][state_key(stream)].as_i64())
        .unwrap_or_else(|| panic!("no state for {stream}: {state}"))
}

/// Make one change per stream in the fake; return the keys of records the next sync must deliver.
fn change(env: &Env, stream: &str, at: i64) -> BTreeSet<String> {
    env.fake.with_workspace(|w| {
        let mut keys = BTreeSet::new();
        match stream {
            "segments" => {
                let id = w.segments[1]["id"].as_str().unwrap().to_string();
                assert!(w.touch_segment(&id, at));
                keys.insert(id);
            }
            "articles" => {
                let id = w.articles[3]["id"].as_str().unwrap().to_string();
                assert!(w.touch_article(&id, at));
                keys.insert(id);
            }
            "help_center_collections" => {
                let id = w.collections[2]["id"].as_str().unwrap().to_string();
                assert!(w.touch_collection(&id, at));
                keys.insert(id);
            }
            "contacts" | "leads" | "users" => {
                let role = if stream == "leads" { "lead" } else { "user" };
                // One existing contact of the role changes, and one is created.
                let id = w
                    .contacts
                    .iter()
                    .find(|c| c["role"] == role)
                    .map(|c| c["id"].as_str().unwrap().to_string())
                    .unwrap();
                assert!(w.touch_contact(&id, at));
                keys.insert(id);
                keys.insert(w.add_contact(role, at));
            }
            "companies" => {
                let id = w.companies[5]["id"].as_str().unwrap().to_string();
                assert!(w.touch_company(&id, at));
                keys.insert(id);
            }
            "company_segments" => {
                let c = w
                    .companies
                    .iter()
                    .find(|c| !c["segments"]["segments"].as_array().unwrap().is_empty())
                    .unwrap()
                    .clone();
                let id = c["id"].as_str().unwrap().to_string();
                assert!(w.touch_company(&id, at));
                for s in c["segments"]["segments"].as_array().unwrap() {
                    keys.insert(format!("{id}/{}", s["id"].as_str().unwrap()));
                }
            }
            "conversations" => {
                let id = w.conversations[4]["id"].as_str().unwrap().to_string();
                assert!(w.touch_conversation(&id, at));
                keys.insert(id);
            }
            "conversation_parts" => {
                let id = w.conversations[7]["id"].as_str().unwrap().to_string();
                assert!(w.add_conversation_part(&id, at));
                let conv = w
                    .conversations
                    .iter()
                    .find(|c| c["id"] == id.as_str())
                    .unwrap();
                let parts = conv["conversation_parts"]["conversation_parts"]
                    .as_array()
                    .unwrap();
                keys.insert(id_of(&parts.last().unwrap()["id"]));
            }
            "tickets" => {
                let id = w.tickets[2]["id"].as_str().unwrap().to_string();
                assert!(w.touch_ticket(&id, at));
                keys.insert(id);
            }
            "activity_logs" => {
                keys.insert(w.add_activity_log(at));
            }
            "deleted_conversations" => {
                let id = w.conversations[9]["id"].as_str().unwrap().to_string();
                assert!(w.delete_conversation(&id, at));
                keys.insert(id);
            }
            other => panic!("no change defined for {other}"),
        }
        keys
    })
}

#[test]
fn second_sync_returns_exactly_the_changes() {
    let env = Env::start();
    let streams = incremental_stream_names();
    let catalog = env.catalog(&streams, "incremental");
    let config = env.config();
    let first = env.read(&config, &catalog, None, &[]);
    assert_eq!(first.code, 0, "{:?}", first.error_traces());
    for s in &streams {
        assert!(!first.records(s).is_empty(), "first sync of {s} is empty");
        assert!(!first.states(s).is_empty(), "no state for {s}");
    }
    let state = first.final_state();
    let state_path = env.files.write_json("state1.json", &state);

    // Changes after the first sync (the workspace has no search-index lag here).
    let at = now();
    let mut changed: HashMap<&str, BTreeSet<String>> = HashMap::new();
    for s in &streams {
        changed.insert(s, change(&env, s, at));
    }
    // A change made for one stream shows in related streams too (a new lead is a contact; a
    // company touched for company_segments is a changed company; a part added to a
    // conversation changes the conversation): any record changed at `at` is legitimate.
    let touched_at = |s: &str, r: &Value| r[cursor_field(s)].as_i64() == Some(at);
    let second = env.read(&config, &catalog, Some(&state_path), &[]);
    assert_eq!(second.code, 0, "{:?}", second.error_traces());

    let mut boundary_records = 0;
    for s in &streams {
        let saved = saved_cursor(&state, s);
        let field = cursor_field(s);
        let got: BTreeSet<String> = second.records(s).iter().map(|r| record_key(s, r)).collect();
        let want = &changed[s];
        // Every change arrives...
        for k in want {
            assert!(got.contains(k), "{s}: change {k} missed; got {got:?}");
        }
        // ...and nothing else but the boundary: resume is inclusive, so the records at
        // exactly the saved cursor come again (all of them, and only them), and a child
        // stream re-reads every row of a parent at or after it.
        let child = field != state_key(s);
        let boundary_of = |run: &Run| -> BTreeSet<String> {
            run.records(s)
                .iter()
                .filter(|r| !touched_at(s, r))
                .map(|r| record_key(s, r))
                .filter(|k| !want.contains(k))
                .collect()
        };
        let again = boundary_of(&second);
        let expected: BTreeSet<String> = first
            .records(s)
            .iter()
            .filter(|r| {
                let v = r[field].as_i64();
                if child {
                    v >= Some(saved)
                } else {
                    v == Some(saved)
                }
            })
            .map(|r| record_key(s, r))
            .filter(|k| !want.contains(k))
            .collect();
        assert!(
            again.is_subset(&expected),
            "{s}: unexpected records {:?} (saved {saved})",
            again.difference(&expected).take(5).collect::<Vec<_>>()
        );
        if !child {
            assert_eq!(again, expected, "{s}: the boundary records at {saved}");
            boundary_records += expected.len();
        }
        // The cursor moves forward.
        let new_state = second.final_state();
        assert!(
            saved_cursor(&new_state, s) >= saved,
            "{s}: state went backwards"
        );
    }
    assert!(boundary_records > 0, "no stream was resumed at a record");
}

#[test]
fn a_third_sync_without_changes_repeats_only_the_boundary() {
    let env = Env::start();
    let catalog = env.catalog(
        &["conversations", "tickets", "activity_logs"],
        "incremental",
    );
    let first = env.read(&env.config(), &catalog, None, &[]);
    let state = first.final_state();
    let second = env.read(
        &env.config(),
        &catalog,
        Some(&env.files.write_json("s.json", &state)),
        &[],
    );
    assert_eq!(second.code, 0);
    for s in ["conversations", "tickets", "activity_logs"] {
        let saved = saved_cursor(&state, s);
        for r in second.records(s) {
            assert_eq!(
                r[cursor_field(s)].as_i64(),
                Some(saved),
                "{s}: only boundary records"
            );
        }
        // One position, emitted once: never behind, and no further than the second
        // sync's start less the search index lag (activity logs: their newest record).
        assert_eq!(second.states(s).len(), 1, "{s}");
        let moved = saved_cursor(&second.final_state(), s);
        assert!(moved >= saved, "{s}");
        if s == "activity_logs" {
            assert_eq!(moved, saved, "{s}");
        } else {
            assert!(moved <= now() - 30 * 60, "{s}");
        }
    }
}

/// Truncate a full run after `n` messages, resume from the last state each stream had
/// emitted by then, and check the union of both runs covers the full run's records.
#[test]
fn killed_syncs_resume_without_gaps() {
    // Searches of several pages (150 records each), and more conversations than one
    // page: cuts land inside page chains and between a parent page and its children.
    let env = Env::with(FakeConfig {
        contacts: 450,
        conversations: 200,
        ..FakeConfig::default()
    });
    let streams = [
        "contacts",
        "conversations",
        "conversation_parts",
        "activity_logs",
        "companies",
        "tickets",
    ];
    let catalog = env.catalog(&streams, "incremental");
    let full = env.read(&env.config(), &catalog, None, &[]);
    // Cut at twelfths of the run, and near its start and end.
    let total = full.messages.len();
    let mut cuts: Vec<usize> = (1..12).map(|i| i * total / 12).collect();
    cuts.extend([3, 5, total - 2]);
    assert_resumes_without_gaps(&env, &catalog, &full, cuts, &[]);
}

#[test]
fn records_updated_during_the_sync_are_not_lost() {
    let env = Env::with(FakeConfig {
        contacts: 600,
        ..FakeConfig::default()
    });
    let catalog = env.catalog(&["contacts", "conversations"], "incremental");
    // On the second search page, move a contact and a conversation from the first page to now-2h.
    let at = now() - 7200;
    let moved = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let moved_hook = moved.clone();
    let pages = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    env.fake.set_request_hook(move |req, w| {
        if req.path == "/contacts/search"
            && pages.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1
        {
            let mut oldest: Vec<(i64, String)> = w
                .contacts
                .iter()
                .map(|c| {
                    (
                        c["updated_at"].as_i64().unwrap(),
                        c["id"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            oldest.sort();
            let id = oldest[0].1.clone();
            w.touch_contact(&id, at);
            moved_hook.lock().unwrap().push(id);
        }
    });
    let run = env.read(&env.config(), &catalog, None, &[]);
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let moved = moved.lock().unwrap().clone();
    assert_eq!(moved.len(), 1);
    let versions: Vec<i64> = run
        .records("contacts")
        .iter()
        .filter(|c| c["id"] == moved[0].as_str())
        .map(|c| c["updated_at"].as_i64().unwrap())
        .collect();
    assert!(
        versions.contains(&at),
        "the moved contact's new version was delivered: {versions:?}"
    );
    let ids: BTreeSet<&str> = run
        .records("contacts")
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 600, "every contact delivered");
}

#[test]
fn day_granular_contact_search_misses_nothing_near_midnight() {
    let env = Env::start();
    let catalog = env.catalog(&["contacts"], "incremental");
    let first = env.read(&env.config(), &catalog, None, &[]);
    let state = first.final_state();
    let saved = saved_cursor(&state, "contacts");
    // Contacts updated a second after the saved cursor, and at the last second of its day
    // in the workspace's time zone, and at the first second of the next day.
    let (ids, tz) = env.fake.with_workspace(|w| {
        let tz = w.timezone_offset_secs;
        let local = saved + tz;
        let day_end = local - local.rem_euclid(86_400) + 86_399 - tz;
        let mut ids = vec![];
        for (i, t) in [saved, saved + 1, day_end, day_end + 1]
            .into_iter()
            .enumerate()
        {
            let id = w.contacts[10 + i]["id"].as_str().unwrap().to_string();
            w.touch_contact(&id, t);
            ids.push(id);
        }
        (ids, tz)
    });
    let second = env.read(
        &env.config(),
        &catalog,
        Some(&env.files.write_json("s.json", &state)),
        &[],
    );
    assert_eq!(second.code, 0);
    let got: BTreeSet<&str> = second
        .records("contacts")
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for id in &ids {
        assert!(
            got.contains(id.as_str()),
            "contact {id} missed (tz offset {tz})"
        );
    }
    for c in second.records("contacts") {
        assert!(
            c["updated_at"].as_i64().unwrap() >= saved,
            "nothing older than the cursor is emitted"
        );
    }
    // The search asked from the day before the cursor, with `>` (never `>=`, which Intercom rejects).
    let body = env
        .fake
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path == "/contacts/search")
        .unwrap()
        .body
        .unwrap();
    assert_eq!(bound(&body, ">"), Some(saved - 86_400), "{}", body["query"]);
    // The range ends at the start of a workspace day after the sync's.
    assert!(bound(&body, "<").unwrap() > now() + 86_400 - 14 * 3600);
    assert_eq!(
        body["sort"],
        json!({"field": "updated_at", "order": "ascending"})
    );
}

#[test]
fn contacts_that_become_searchable_late_arrive_in_the_next_sync() {
    let env = Env::with(FakeConfig {
        search_index_delay_secs: 600,
        search_index_delay_create_only: true,
        ..FakeConfig::default()
    });
    let catalog = env.catalog(&["contacts"], "incremental");
    // A new contact (not searchable for 10 minutes) and an existing contact updated after it
    // (searchable at once).
    let t = now();
    let (new_id, old_id) = env.fake.with_workspace(|w| {
        let new_id = w.add_contact("lead", t - 120);
        let old_id = w.contacts[3]["id"].as_str().unwrap().to_string();
        w.touch_contact(&old_id, t - 60);
        (new_id, old_id)
    });
    let first = env.read(&env.config(), &catalog, None, &[]);
    assert_eq!(first.code, 0);
    let ids: BTreeSet<&str> = first
        .records("contacts")
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(old_id.as_str()));
    assert!(
        !ids.contains(new_id.as_str()),
        "the fake hides new contacts for a while"
    );
    let state = first.final_state();
    assert!(
        saved_cursor(&state, "contacts") <= t - 120,
        "the cursor stays behind the search index"
    );
    // The index catches up.
    env.fake.set_search_index_delay_secs(0);
    let second = env.read(
        &env.config(),
        &catalog,
        Some(&env.files.write_json("s.json", &state)),
        &[],
    );
    let ids: BTreeSet<&str> = second
        .records("contacts")
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(new_id.as_str()), "the late contact arrives");
}

#[test]
fn truncated_conversations_are_reported() {
    let env = Env::with(FakeConfig {
        conversations: 4,
        parts_per_conversation: 400,
        ..FakeConfig::default()
    });
    let counts: Vec<usize> = env.fake.with_workspace(|w| {
        w.conversations
            .iter()
            .map(|c| {
                c["conversation_parts"]["conversation_parts"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .collect()
    });
    let long = counts.iter().filter(|&&n| n > 500).count();
    assert!(long > 0, "the fake holds long conversations: {counts:?}");
    let run = env.read_streams(&["conversation_parts"], "full_refresh");
    assert_eq!(run.code, 0);
    let expected: usize = counts.iter().map(|&n| n.min(500)).sum();
    assert_eq!(run.records("conversation_parts").len(), expected);
    let logs = run.logs().join("\n");
    assert!(
        logs.contains(&format!("{long} conversation(s) have more than 500 parts")),
        "{logs}"
    );
    for p in run.records("conversation_parts") {
        assert!(p["conversation_id"].is_string());
        assert!(p["conversation_updated_at"].is_i64());
    }
}

#[test]
fn a_conversation_deleted_mid_sync_is_skipped_with_a_warning() {
    let env = Env::start();
    let victim = env
        .fake
        .with_workspace(|w| w.conversations[2]["id"].as_str().unwrap().to_string());
    let v = victim.clone();
    // Deleted after the search returned it, while its conversations are being fetched.
    env.fake.set_request_hook(move |req, w| {
        if req.path.starts_with("/conversations/") && req.path != "/conversations/search" {
            w.delete_conversation(&v, 1_700_000_000);
        }
    });
    let run = env.read_streams(&["conversation_parts"], "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert!(
        run.logs()
            .iter()
            .any(|l| l.contains(&victim) && l.contains("deleted")),
        "{:?}",
        run.logs()
    );
    assert!(run
        .records("conversation_parts")
        .iter()
        .all(|p| p["conversation_id"] != victim.as_str()));
}

#[test]
fn a_busy_scroll_is_waited_for() {
    let env = Env::start();
    env.fake.occupy_scroll(1500);
    let run = env.read(
        &env.config(),
        &env.catalog(&["companies"], "full_refresh"),
        None,
        &[("SOURCE_INTERCOM_SCROLL_BUSY_WAIT_MS", "300")],
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(
        run.records("companies").len(),
        env.fake.with_workspace(|w| w.companies.len())
    );
    assert!(env
        .fake
        .requests()
        .iter()
        .any(|r| r.path == "/companies/scroll" && r.status == 400));
}

#[test]
fn a_scroll_held_too_long_fails_with_an_explanation() {
    let env = Env::start();
    env.fake.occupy_scroll(60_000);
    let run = env.read(
        &env.config(),
        &env.catalog(&["companies"], "full_refresh"),
        None,
        &[
            ("SOURCE_INTERCOM_SCROLL_BUSY_WAIT_MS", "100"),
            ("SOURCE_INTERCOM_SCROLL_BUSY_MAX_MS", "500"),
        ],
    );
    assert_eq!(run.code, 1);
    let errs = run.error_traces();
    assert_eq!(errs.len(), 1);
    let msg = errs[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("scroll_exists") && msg.contains("another client"),
        "{msg}"
    );
}

#[test]
fn an_expired_or_failed_scroll_restarts_without_duplicates() {
    for status in [404u16, 500] {
        // A scroll left open expires in 600 ms here (a minute at Intercom).
        let env = Env::with(FakeConfig {
            companies: 400,
            scroll_expiry_ms: 600,
            ..FakeConfig::default()
        });
        // The third scroll page fails (expired, or Intercom's "restart the scroll" 500).
        env.fake.inject_fault(Fault {
            method: "GET".into(),
            path: "/companies/scroll".into(),
            status,
            body: json!({"type": "error.list", "errors": [{"code": if status == 404 { "not_found" } else { "server_error" }, "message": "scroll"}]}),
            after: 2,
            times: 1,
            ..Default::default()
        });
        if status == 404 {
            env.fake.expire_scroll();
        }
        let run = env.read(
            &env.config(),
            &env.catalog(&["companies", "company_segments"], "incremental"),
            None,
            &[("SOURCE_INTERCOM_SCROLL_BUSY_WAIT_MS", "100")],
        );
        assert_eq!(run.code, 0, "{status}: {:?}", run.error_traces());
        let ids: Vec<&str> = run
            .records("companies")
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), unique.len(), "{status}: no company twice");
        assert_eq!(unique.len(), 400, "{status}: every company");
        assert!(
            run.logs().iter().any(|l| l.contains("restarting")),
            "{status}"
        );
        // company_segments reused the scroll read by companies.
        let scroll_starts = env
            .fake
            .requests()
            .iter()
            .filter(|r| r.path == "/companies/scroll" && !r.query.contains("scroll_param"))
            .count();
        assert_eq!(scroll_starts, 2, "{status}: one scroll plus one restart");
    }
}

#[test]
fn official_state_files_are_accepted() {
    let env = Env::start();
    let catalog = env.catalog(&incremental_stream_names(), "incremental");
    let sample = include_str!("../data/official_sample_state.json");
    let run = env.read(
        &env.config(),
        &catalog,
        Some(&env.files.write("sample.json", sample)),
        &[],
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    // contacts resumed from the official state's cursor: contacts, leads and users share
    // one search (from the earliest of their positions), and contacts emits nothing older
    // than its own.
    let contacts = run.records("contacts");
    assert!(!contacts.is_empty());
    assert!(contacts
        .iter()
        .all(|r| r["updated_at"].as_i64().unwrap() >= 1676462031));
    let searches: Vec<_> = env
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/contacts/search")
        .collect();
    let first_pages = searches
        .iter()
        .filter(|r| {
            r.body.as_ref().unwrap()["pagination"]
                .get("starting_after")
                .is_none()
        })
        .count();
    assert_eq!(first_pages, 1, "one search for contacts, leads and users");

    for file in [
        include_str!("../data/official_abnormal_state.json"),
        include_str!("../data/official_abnormal_state.legacy-format.json"),
    ] {
        let run = env.read(
            &env.config(),
            &catalog,
            Some(&env.files.write("abnormal.json", file)),
            &[],
        );
        assert_eq!(run.code, 0, "{:?}", run.error_traces());
        let future: Value = serde_json::from_str(file).unwrap();
        let in_file: Vec<String> = match &future {
            Value::Array(a) => a
                .iter()
                .map(|m| {
                    m["stream"]["stream_descriptor"]["name"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect(),
            Value::Object(o) => o.keys().cloned().collect(),
            _ => unreachable!(),
        };
        for s in &in_file {
            assert!(
                run.records(s).is_empty(),
                "{s}: a state from the future yields no records"
            );
            let st = run.final_state();
            assert_eq!(
                saved_cursor(&st, s),
                7626086649,
                "{s}: the future state is kept"
            );
        }
    }
}

#[test]
fn lookback_window_widens_the_lower_bound_once() {
    let env = Env::start();
    let catalog = env.catalog(&["conversations"], "incremental");
    let cursor = 1_760_000_000i64;
    let state = json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "conversations"}, "stream_state": {"updated_at": cursor}}}]);
    let cfg = env.config_with(json!({"lookback_window": 2}));
    let run = env.read(
        &cfg,
        &catalog,
        Some(&env.files.write_json("s.json", &state)),
        &[],
    );
    assert_eq!(run.code, 0);
    let lower = cursor - 2 * 86_400;
    let body = env
        .fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/conversations/search")
        .unwrap()
        .body
        .unwrap();
    assert_eq!(bound(&body, ">"), Some(lower - 1), "{}", body["query"]);
    assert!(run
        .records("conversations")
        .iter()
        .all(|c| c["updated_at"].as_i64().unwrap() >= lower));
    let expected = env.fake.with_workspace(|w| {
        w.conversations
            .iter()
            .filter(|c| c["updated_at"].as_i64().unwrap() >= lower)
            .count()
    });
    assert_eq!(run.records("conversations").len(), expected);
    // The saved position never goes backwards.
    assert!(saved_cursor(&run.final_state(), "conversations") >= cursor);
}

#[test]
fn a_malformed_cursor_in_state_is_a_config_error() {
    let env = Env::start();
    let state = json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "contacts"}, "stream_state": {"updated_at": "last tuesday"}}}]);
    let run = env.read(
        &env.config(),
        &env.catalog(&["contacts"], "incremental"),
        Some(&env.files.write_json("s.json", &state)),
        &[],
    );
    assert_eq!(run.code, 1);
    let errs = run.error_traces();
    assert_eq!(errs[0]["failure_type"], "config_error");
    assert!(errs[0]["message"].as_str().unwrap().contains("contacts"));
    assert!(env.fake.requests().is_empty());
}

#[test]
fn leads_and_users_split_contacts_by_role() {
    let env = Env::start();
    let run = env.read_streams(&["contacts", "leads", "users"], "incremental");
    assert_eq!(run.code, 0);
    assert!(run.records("leads").iter().all(|c| c["role"] == "lead"));
    assert!(run.records("users").iter().all(|c| c["role"] == "user"));
    assert_eq!(
        run.records("leads").len() + run.records("users").len(),
        run.records("contacts").len()
    );
    // Each keeps its own state.
    for s in ["contacts", "leads", "users"] {
        assert!(!run.states(s).is_empty());
    }
}

#[test]
fn deleted_conversations_use_api_2_16() {
    let env = Env::start();
    let run = env.read_streams(&["deleted_conversations"], "incremental");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    assert_eq!(
        run.records("deleted_conversations").len(),
        env.fake.with_workspace(|w| w.deleted_conversations.len())
    );
    for r in env.fake.requests() {
        assert_eq!(r.intercom_version.as_deref(), Some("2.16"));
    }
}
