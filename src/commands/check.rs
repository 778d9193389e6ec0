//! `check`: validate the config and make one cheap authenticated call (`GET /me`).
//! A problem the user can fix (bad field, rejected token, wrong region, no network)
//! is a FAILED status with a message that says what to fix, and exit 0.

use std::path::Path;

use serde_json::Value;

use crate::config::{read_json_file, Config};
use crate::error::{Error, Result};
use crate::http::{ApiRequest, Client, HttpSettings};
use crate::output::Output;
use crate::protocol::{ConnectionStatus, Message, Status};

pub async fn run(config_path: &Path, output: &Output) -> Result<()> {
    // An unreadable or non-JSON file is not a config at all: that is an error, not a status.
    let raw = read_json_file("config", config_path)?;
    let status = match Config::from_value(&raw) {
        Err(e) => failed(e.to_string()),
        Ok(config) => match probe(&config).await {
            Ok(()) => ConnectionStatus {
                status: Status::Succeeded,
                message: None,
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

async fn probe(config: &Config) -> Result<()> {
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
    Ok(())
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
