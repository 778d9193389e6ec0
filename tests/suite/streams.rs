//! Every stream against the fake workspace: a full read of each matches the workspace
//! (counts, schemas, statuses, states, the headers of every request), the count tables
//! agree with it, lists follow every page or are empty without error, and the README's
//! stream table says what `discover` says.

use std::collections::BTreeMap;

use fake_intercom::FakeConfig;
use serde_json::json;

use crate::support::*;

fn full_refresh_streams(env: &Env) -> Vec<String> {
    expected_counts(env).into_keys().collect()
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
    let pages = env.fake.count("GET", "/articles");
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
    let readme = include_str!("../../README.md");
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
