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
    let client = Client::new(&config, HttpSettings::from_env())?;
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
        tracing::info!(
            "stream {name}: resuming from {} = {saved}",
            p.def.state_key().unwrap_or("cursor")
        );
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
