//! Real workspaces: an app that lacks a permission (401 `token_unauthorized`) or a
//! workspace whose plan lacks the data (403 `api_plan_restricted`) fails the streams
//! that need it, saying which permission to grant; every other stream is read in full.

use std::collections::BTreeMap;

use fake_intercom::{Denial, FakeConfig};
use serde_json::Value;

use crate::support::*;

/// Every stream of `discover`, incremental where it can be.
fn every_stream(env: &Env) -> std::path::PathBuf {
    let incremental = incremental_stream_names();
    let all: Vec<Value> = all_stream_names()
        .iter()
        .map(|name| {
            let mode = if incremental.contains(&name.as_str()) {
                "incremental"
            } else {
                "full_refresh"
            };
            configured_catalog(&[name], mode)["streams"][0].clone()
        })
        .collect();
    env.files
        .write_json("every.json", &serde_json::json!({ "streams": all }))
}

/// A read of every stream with `denied` refused, checked against a read of the same
/// workspace with every permission: the `failing` streams fail alone, saying which
/// permission to grant; every other stream delivers the same records and finishes.
fn read_without(denied: &[(&str, Denial)], failing: &[&str], permission: &str) {
    let env = Env::with(FakeConfig::default());
    let catalog = every_stream(&env);
    let whole = env.read(&env.config(), &catalog, None, &[]);
    assert_eq!(whole.code, 0, "{:?}", whole.error_traces());
    for (path, d) in denied {
        env.fake.deny(path, *d);
    }
    let run = env.read(&env.config(), &catalog, None, &[]);
    assert_eq!(run.code, 1, "a selected stream was not read");
    let want: BTreeMap<_, _> = keys_per_stream(&whole)
        .into_iter()
        .filter(|(s, _)| !failing.contains(&s.as_str()))
        .collect();
    let got: BTreeMap<_, _> = keys_per_stream(&run)
        .into_iter()
        .filter(|(s, _)| !failing.contains(&s.as_str()))
        .collect();
    assert_eq!(
        got, want,
        "every other stream reads what it reads with every permission"
    );
    for s in all_stream_names() {
        let statuses = run.statuses(&s);
        if failing.contains(&s.as_str()) {
            assert_eq!(statuses.last().unwrap(), "INCOMPLETE", "{s}");
        } else {
            assert_eq!(statuses.last().unwrap(), "COMPLETE", "{s}");
            assert!(!run.states(&s).is_empty(), "{s}: a final state");
        }
    }
    let errors = run.error_traces();
    assert_eq!(errors.len(), failing.len(), "{errors:?}");
    for e in errors {
        let stream = e["stream_descriptor"]["name"].as_str().unwrap();
        assert!(failing.contains(&stream), "{stream}");
        assert_eq!(e["failure_type"], "config_error");
        let m = e["message"].as_str().unwrap();
        assert!(
            m.contains(&format!("\"{permission}\" permission")) && m.contains("Developer Hub"),
            "{m}"
        );
    }
    for line in run.logs().iter().chain(
        run.error_traces()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .iter(),
    ) {
        assert!(
            !line.contains("rejected the access token"),
            "no message calls the token invalid: {line}"
        );
    }
}

#[test]
fn an_app_without_read_tickets_fails_tickets_alone() {
    read_without(
        &[("/tickets/search", Denial::TokenUnauthorized)],
        &["tickets"],
        "Read tickets",
    );
}

#[test]
fn a_plan_without_the_help_center_fails_its_streams_alone() {
    read_without(
        &[
            ("/help_center/*", Denial::PlanRestricted),
            ("/articles", Denial::PlanRestricted),
        ],
        &["help_centers", "help_center_collections", "articles"],
        "Read and list articles",
    );
}

#[test]
fn a_refused_parent_fails_its_children_with_it() {
    read_without(
        &[("/companies/scroll", Denial::TokenUnauthorized)],
        &["companies", "company_segments"],
        "Read and list users and companies",
    );
}

#[test]
fn a_refused_child_fails_the_child_and_keeps_its_parent() {
    let env = Env::start();
    let ids: Vec<String> = env
        .fake
        .with_workspace(|w| w.conversations.iter().map(|c| id_of(&c["id"])).collect());
    for id in &ids {
        env.fake
            .deny(&format!("/conversations/{id}"), Denial::TokenUnauthorized);
    }
    // Four requests in flight at most: those out when the first refusal comes back.
    let run = env.read(
        &env.config_with(serde_json::json!({"num_workers": 4})),
        &env.catalog(&["conversations", "conversation_parts"], "incremental"),
        None,
        &[],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.statuses("conversations").last().unwrap(), "COMPLETE");
    assert_eq!(run.records("conversations").len(), ids.len());
    assert_eq!(
        run.statuses("conversation_parts").last().unwrap(),
        "INCOMPLETE"
    );
    let errors = run.error_traces();
    assert_eq!(errors.len(), 1);
    let m = errors[0]["message"].as_str().unwrap();
    assert!(
        m.contains("stream `conversation_parts` needs the \"Read conversations\" permission"),
        "{m}"
    );
    // Once refused, no more of its requests are sent.
    let fetched = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/conversations/") && r.path != "/conversations/search")
        .count();
    assert!(fetched <= 8, "{fetched} fetches after the first refusal");
}

#[test]
fn check_succeeds_and_names_the_streams_a_missing_permission_would_fail() {
    let env = Env::start();
    env.fake.deny("/tickets/search", Denial::TokenUnauthorized);
    env.fake
        .deny("/admins/activity_logs", Denial::PlanRestricted);
    let cfg = env.config();
    let run = run_connector(&["check", "--config", cfg.to_str().unwrap()], &[]);
    assert_eq!(run.code, 0);
    let status = run.connection_status();
    assert_eq!(status["status"], "SUCCEEDED");
    let m = status["message"].as_str().unwrap();
    assert!(
        m.contains("\"Read tickets\" (tickets)")
            && m.contains("\"Read admin activity logs\" (activity_logs)"),
        "{m}"
    );
    let warned = run
        .logs()
        .iter()
        .filter(|l| l.contains("lacks the \""))
        .count();
    assert_eq!(warned, 2, "{:?}", run.logs());
    // One cheap request for each permission.
    assert_eq!(env.fake.count("POST", "/tickets/search"), 1);
    // With every permission, no message.
    env.fake.allow_all();
    let run = run_connector(&["check", "--config", cfg.to_str().unwrap()], &[]);
    assert_eq!(run.connection_status()["status"], "SUCCEEDED");
    assert!(run
        .connection_status()
        .get("message")
        .is_none_or(Value::is_null));
}
