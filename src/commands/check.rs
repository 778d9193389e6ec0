//! `check`: validate the config and make one cheap authenticated call (`GET /me`).
//! A problem the user can fix (bad field, rejected token, wrong region, no network)
//! is a FAILED status with a message that says what to fix, and exit 0.
//!
//! A token that works is SUCCEEDED, even when its app lacks some permissions: one
//! cheap request per permission the streams need ([`PROBES`]) finds out which, a WARN
//! names each missing one with the streams that need it, and the status message lists
//! the streams that would fail.

use std::path::Path;

use serde_json::Value;

use serde_json::json;

use crate::config::{read_json_file, Config};
use crate::error::{Error, Result};
use crate::http::{ApiRequest, Client, HttpSettings};
use crate::output::Output;
use crate::protocol::{ConnectionStatus, Message, Status};
use crate::streams::{permission, STREAMS};

pub async fn run(config_path: &Path, output: &Output) -> Result<()> {
    // An unreadable or non-JSON file is not a config at all: that is an error, not a status.
    let raw = read_json_file("config", config_path)?;
    let status = match Config::from_value(&raw) {
        Err(e) => failed(e.to_string()),
        Ok(config) => match probe(&config).await {
            Ok(missing) => ConnectionStatus {
                status: Status::Succeeded,
                message: (!missing.is_empty()).then(|| would_fail(&missing)),
            },
            Err(e) => failed(explain(&e, &config)),
        },
    };
    output.emit(&Message::ConnectionStatus {
        connection_status: status,
    })
}

fn failed(message: String) -> ConnectionStatus {
    ConnectionStatus {
        status: Status::Failed,
        message: Some(message),
    }
}

/// Connect (`GET /me`), then try each permission; return the permissions the token's
/// app lacks.
async fn probe(config: &Config) -> Result<Vec<&'static str>> {
    let mut settings = HttpSettings::from_env();
    // A check is interactive: fail fast rather than retry for minutes.
    settings.retry.max_error_retries = settings.retry.max_error_retries.min(2);
    let client = Client::new(config, settings)?;
    let me: Value = client.json(&ApiRequest::get("/me")).await?;
    let workspace = me
        .pointer("/app/name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)");
    tracing::info!("connected to Intercom workspace {workspace:?}");
    let now = chrono::Utc::now().timestamp();
    let answers = futures::future::join_all(
        PROBES
            .iter()
            .map(|(p, request)| async { (*p, client.json(&request(now)).await) }),
    )
    .await;
    let mut missing = Vec::new();
    for (p, answer) in answers {
        match answer {
            Ok(_) => {}
            Err(e) if e.is_not_permitted() => {
                tracing::warn!(
                    "the access token's app lacks the \"{p}\" permission ({e}); these streams would fail: {}",
                    needing(p).join(", ")
                );
                missing.push(p);
            }
            // The token works; whether this permission does is unknown.
            Err(e) if e.is_fatal_for_sync() => return Err(e),
            Err(e) => tracing::info!("could not tell whether the app has \"{p}\": {e}"),
        }
    }
    Ok(missing)
}

/// A permission, and the cheap request that tells whether the app has it, built at a
/// time (epoch seconds).
type Probe = (&'static str, fn(i64) -> ApiRequest);

/// One cheap request per permission a stream needs (a page of one, or the smallest
/// answer the endpoint has).
pub const PROBES: &[Probe] = &[
    (permission::ADMINS, |_| ApiRequest::get("/admins")),
    (permission::USERS_AND_COMPANIES, |now| {
        search_probe("/contacts/search", now)
    }),
    (permission::CONVERSATIONS, |now| {
        search_probe("/conversations/search", now)
    }),
    (permission::TICKETS, |now| {
        search_probe("/tickets/search", now)
    }),
    (permission::TAGS, |_| ApiRequest::get("/tags")),
    (permission::COUNTS, |_| {
        ApiRequest::get("/counts").version(crate::streams::COUNTS_VERSION)
    }),
    (permission::ARTICLES, |_| {
        ApiRequest::get("/articles").query("per_page", "1")
    }),
    (permission::ACTIVITY_LOGS, |now| {
        ApiRequest::get("/admins/activity_logs")
            .query("created_at_after", now.saturating_sub(86_400).to_string())
            .query("per_page", "1")
    }),
];

/// A search for one record updated in the future (none): the cheapest answer a search has.
fn search_probe(path: &str, now: i64) -> ApiRequest {
    ApiRequest::post(
        path,
        json!({"query": {"field": "updated_at", "operator": ">", "value": now.saturating_add(86_400)},
               "pagination": {"per_page": 1}}),
    )
}

/// The streams that need permission `p`.
fn needing(p: &str) -> Vec<&'static str> {
    STREAMS
        .iter()
        .filter(|s| s.permission == p)
        .map(|s| s.name)
        .collect()
}

/// The status message of a check whose token lacks these permissions.
fn would_fail(missing: &[&str]) -> String {
    let parts: Vec<String> = missing
        .iter()
        .map(|p| format!("\"{p}\" ({})", needing(p).join(", ")))
        .collect();
    format!(
        "Connected, but the access token's app lacks these permissions, so the streams that need them would fail: {}. Grant them in the Intercom Developer Hub (your app > Configure > Authentication), or deselect those streams.",
        parts.join("; ")
    )
}

fn explain(e: &Error, config: &Config) -> String {
    match e {
        Error::Transport { .. } => format!(
            "{e}. Check that this machine can reach {} (network, proxy, firewall) and that `region` ({}) is right.",
            config.base_url,
            config.region.as_str()
        ),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_probe_per_permission() {
        let probed: Vec<&str> = PROBES.iter().map(|(p, _)| *p).collect();
        let mut sorted = probed.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), probed.len(), "one probe each");
        let mut all = permission::ALL.to_vec();
        all.sort();
        assert_eq!(sorted, all);
        let m = would_fail(&[permission::TICKETS]);
        assert!(m.contains("\"Read tickets\" (tickets)"), "{m}");
    }
}
