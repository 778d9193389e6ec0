//! `read`: validate config, catalog and state before any request, then read each
//! configured stream: STARTED, RUNNING, its records, its STATE, then COMPLETE — or
//! INCOMPLETE and exactly one ERROR trace naming the stream.

use std::collections::HashSet;
use std::path::Path;

use crate::config::{read_json_file, Config};
use crate::cursor::{saved_position, Cursor};
use crate::error::{Error, Result};
use crate::http::{Client, HttpSettings};
use crate::output::Output;
use crate::protocol::{
    ConfiguredCatalog, ErrorTrace, Message, StreamDescriptor, StreamStatus, SyncMode,
};
use crate::state::InputState;
use crate::streams::reader::{self, ReadContext, ReadSettings};
use crate::streams::{self, Source, StreamDef};

use super::Ended;

/// A stream as this run will read it.
#[derive(Debug)]
pub struct Planned {
    pub def: &'static StreamDef,
    pub mode: SyncMode,
    /// The saved position for an incremental read.
    pub saved: Option<i64>,
}

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
    let mut plan = plan(catalog)?;
    let state = match state {
        Some(p) => InputState::from_file(p)?,
        None => InputState::default(),
    };
    for p in plan.iter_mut() {
        if p.mode == SyncMode::Incremental {
            if let Some(key) = p.def.state_key() {
                p.saved =
                    saved_position(p.def.name, state.get(p.def.name), key, p.def.state_parent())?;
            }
        }
    }
    let listener_output = output.clone();
    let client = Client::with_listener(
        &config,
        HttpSettings::from_env(),
        Some(Box::new(move |stream, reset_ms, _wait| {
            // The platform's heartbeat and the user both see why nothing moves.
            let _ = match stream {
                Some(s) => listener_output.emit(&Message::rate_limited(s, reset_ms)),
                None => listener_output.flush(),
            };
        })),
    )?;
    let ctx = ReadContext::new(client, config, ReadSettings::from_env());

    let mut failed = 0;
    for p in &plan {
        match read_stream(&ctx, p, output).await {
            Ok(()) => {}
            Err(e) if matches!(e, Error::BrokenPipe) => return Err(e),
            Err(e) => {
                failed += 1;
                report_stream_failure(output, p.def.name, &e)?;
                if e.is_fatal_for_sync() {
                    tracing::error!(
                        "stopping the sync: every other stream would fail the same way"
                    );
                    break;
                }
            }
        }
    }
    Ok(if failed == 0 {
        Ended::Ok
    } else {
        Ended::StreamsFailed(failed)
    })
}

/// Read and check the configured catalog against the stream table.
pub fn plan(catalog_path: &Path) -> Result<Vec<Planned>> {
    let raw = read_json_file("catalog", catalog_path)?;
    let catalog: ConfiguredCatalog =
        serde_json::from_value(raw).map_err(|e| Error::InputInvalid {
            what: "catalog",
            path: catalog_path.to_path_buf(),
            message: format!("not a configured catalog ({e})"),
        })?;
    plan_streams(&catalog)
}

/// Check each configured stream: it must exist, with a sync mode it supports, once.
pub fn plan_streams(catalog: &ConfiguredCatalog) -> Result<Vec<Planned>> {
    let mut seen = HashSet::new();
    let mut plan = Vec::with_capacity(catalog.streams.len());
    for cs in &catalog.streams {
        let name = cs.stream.name.as_str();
        let def = streams::find(name).ok_or_else(|| {
            let known: Vec<&str> = streams::STREAMS.iter().map(|s| s.name).collect();
            Error::Catalog(format!(
                "the catalog asks for stream `{name}`, which this connector does not have; its streams are: {}",
                known.join(", ")
            ))
        })?;
        if !seen.insert(name) {
            return Err(Error::Catalog(format!(
                "stream `{name}` appears twice in the catalog"
            )));
        }
        let mode = match cs.sync_mode.as_str() {
            "full_refresh" => SyncMode::FullRefresh,
            "incremental" if def.supports(SyncMode::Incremental) => SyncMode::Incremental,
            "incremental" => {
                // Orchestrators such as PyAirbyte ask for incremental everywhere.
                tracing::info!("stream `{name}` has no cursor; reading it as full refresh");
                SyncMode::FullRefresh
            }
            other => {
                return Err(Error::Catalog(format!(
                "stream `{name}` has sync_mode {other:?}; use \"full_refresh\" or \"incremental\""
            )))
            }
        };
        if mode == SyncMode::Incremental {
            check_cursor_field(def, cs.cursor_field.as_deref())?;
        }
        plan.push(Planned {
            def,
            mode,
            saved: None,
        });
    }
    // Parents before children (companies before company_segments), in table order.
    plan.sort_by_key(|p| streams::STREAMS.iter().position(|s| std::ptr::eq(s, p.def)));
    Ok(plan)
}

/// A configured `cursor_field` must be a field of the stream. Our cursors are
/// source-defined: one naming another field the stream has (the official connector's
/// catalogs carry `updated_at` for conversation_parts and company_segments) is read
/// with our own cursor, with a warning; one naming no field of the stream is an error.
fn check_cursor_field(def: &StreamDef, configured: Option<&[String]>) -> Result<()> {
    let (Some(ours), Some(path)) = (def.cursor, configured) else {
        return Ok(());
    };
    if path.is_empty() || (path.len() == 1 && path[0] == ours) {
        return Ok(());
    }
    let schema = def.json_schema().map_err(Error::Internal)?;
    let mut node = &schema;
    let mut exists = true;
    for key in path {
        match node.get("properties").and_then(|p| p.get(key)) {
            Some(inner) => node = inner,
            None => {
                exists = false;
                break;
            }
        }
    }
    let shown = path.join(".");
    let shown = crate::redact::server_text(&shown, 80);
    if !exists {
        return Err(Error::Catalog(format!(
            "stream `{}` has cursor_field `{shown}`, which is not a field of this stream; its cursor is `{ours}` (source-defined): set cursor_field to [\"{ours}\"] or leave it empty",
            def.name
        )));
    }
    tracing::warn!(
        "stream {}: the catalog's cursor_field `{shown}` is not this stream's cursor; reading incrementally by `{ours}`, which the connector defines",
        def.name
    );
    Ok(())
}

/// The cursor of a planned stream: incremental reads resume from the saved position;
/// full refreshes of streams Intercom filters by date start at `start_date`; other full
/// refreshes read everything and save no cursor.
fn cursor_for(ctx: &ReadContext, p: &Planned) -> Option<Cursor> {
    p.def.cursor?;
    let lag = match &p.def.source {
        Source::Search(s) if s.index_lag => ctx.settings.contact_index_lag_secs,
        _ => 0,
    };
    let c = &ctx.config;
    match p.mode {
        SyncMode::Incremental => Some(Cursor::new(
            p.saved,
            c.start_date,
            c.lookback_window_days,
            ctx.now,
            lag,
        )),
        SyncMode::FullRefresh => None,
    }
}

async fn read_stream(ctx: &ReadContext, p: &Planned, output: &Output) -> Result<()> {
    let name = p.def.name;
    output.emit(&Message::stream_status(name, StreamStatus::Started))?;
    // RUNNING before the first request, so an empty stream shows the full status sequence.
    output.emit(&Message::stream_status(name, StreamStatus::Running))?;
    let mut emitter = reader::Emitter::new(output.clone(), name);
    if let Some(saved) = p.saved {
        let key = p.def.state_key().unwrap_or("cursor");
        tracing::info!("stream {name}: resuming from {key} = {saved}");
        if saved > ctx.now {
            tracing::warn!(
                "stream {name}: the saved {key} = {saved} ({}) is in the future, so there is nothing newer to read and no records will be emitted; the state is kept. Reset the stream if the saved state is wrong",
                chrono::DateTime::from_timestamp(saved, 0)
                    .map(|d| d.to_rfc3339())
                    .unwrap_or_default()
            );
        } else if saved < ctx.config.start_date {
            tracing::info!(
                "stream {name}: the saved {key} is before start_date; reading from start_date"
            );
        }
    }
    reader::read_stream(ctx, p.def, cursor_for(ctx, p), &mut emitter).await?;
    output.emit(&Message::stream_status(name, StreamStatus::Complete))?;
    tracing::info!("stream {name}: {} records", emitter.total());
    Ok(())
}

fn report_stream_failure(output: &Output, stream: &str, e: &Error) -> Result<()> {
    output.emit(&Message::stream_status(stream, StreamStatus::Incomplete))?;
    output.emit(&Message::error_trace(ErrorTrace {
        message: format!("Stream `{stream}` failed: {e}"),
        internal_message: Some(format!("{e:?}")),
        failure_type: e.failure_type(),
        stream_descriptor: Some(StreamDescriptor::new(stream)),
    }))
}
