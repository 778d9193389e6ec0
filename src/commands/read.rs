//! `read`: validate config, catalog and state before any request, plan the read (see
//! [`crate::read::plan`]), then read every selected stream ([`crate::read::run`]):
//! each shows STARTED, RUNNING, its records and states, then COMPLETE — or INCOMPLETE
//! and exactly one ERROR trace naming it.

use std::path::Path;
use std::sync::Arc;

use crate::config::{read_json_file, Config};
use crate::error::{Error, Result};
use crate::http::{Client, HttpSettings};
use crate::output::Output;
use crate::protocol::{ConfiguredCatalog, Message};
use crate::read::plan::{configured_streams, groups, Group, PlanInputs};
use crate::read::reports::is_report;
use crate::read::{Ctx, ReadSettings};
use crate::state::InputState;

use super::Ended;

pub async fn run(
    config: &Path,
    catalog: &Path,
    state: Option<&Path>,
    output: &Output,
) -> Result<Ended> {
    let config = Config::from_file(config)?;
    // Tests exercise the panic hook through this (debug builds only).
    #[cfg(debug_assertions)]
    if std::env::var_os("SOURCE_INTERCOM_DEBUG_PANIC").is_some() {
        panic!("deliberate panic (SOURCE_INTERCOM_DEBUG_PANIC) with Authorization: Bearer leaked-in-panic");
    }
    let mut catalog = read_catalog(catalog)?;
    // Report streams are Intercom's datasets, known only at read time.
    let (reports, streams): (Vec<_>, Vec<_>) = catalog
        .streams
        .into_iter()
        .partition(|s| is_report(&s.stream.name));
    catalog.streams = streams;
    let selected = configured_streams(&catalog)?;
    let state = match state {
        Some(p) => InputState::from_file(p)?,
        None => InputState::default(),
    };
    let reports = crate::read::reports::plan(&reports.iter().collect::<Vec<_>>(), &state)?;
    let settings = ReadSettings::for_config(&config);
    let now = chrono::Utc::now().timestamp();
    let plan: Vec<Group> = groups(
        &selected,
        &PlanInputs {
            config: &config,
            state: &state,
            now,
            index_lag_secs: settings.search_index_lag_secs,
        },
    )?;
    let listener_output = output.clone();
    let client = Client::with_listener(
        &config,
        HttpSettings::for_config(&config),
        Some(Box::new(move |stream, reset_ms, _wait| {
            // The platform's heartbeat and the user both see why nothing moves.
            let _ = match stream {
                Some(s) => listener_output.emit(&Message::rate_limited(s, reset_ms)),
                None => listener_output.flush(),
            };
        })),
    )?;
    let ctx = Arc::new(Ctx::new(client, config, settings, now, output.clone()));
    let failed = crate::read::run(ctx, plan, reports).await?;
    Ok(if failed == 0 {
        Ended::Ok
    } else {
        Ended::StreamsFailed(failed)
    })
}

/// Read the configured catalog file.
pub fn read_catalog(catalog_path: &Path) -> Result<ConfiguredCatalog> {
    let raw = read_json_file("catalog", catalog_path)?;
    serde_json::from_value(raw).map_err(|e| Error::InputInvalid {
        what: "catalog",
        path: catalog_path.to_path_buf(),
        message: format!("not a configured catalog ({e})"),
    })
}
