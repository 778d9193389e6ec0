//! `read`: validate config, catalog and state before any request, then read each
//! configured stream: STARTED, RUNNING, its records, its STATE, then COMPLETE — or
//! INCOMPLETE and exactly one ERROR trace naming the stream.

use std::collections::HashSet;
use std::path::Path;

use crate::config::{read_json_file, Config};
use crate::error::{Error, Result};
use crate::http::{Client, HttpSettings};
use crate::output::Output;
use crate::protocol::{
    ConfiguredCatalog, ErrorTrace, Message, StreamDescriptor, StreamStatus, SyncMode,
};
use crate::state::{no_cursor_state, InputState};
use crate::streams::{self, reader, StreamDef};

use super::Ended;

/// A stream as this run will read it.
#[derive(Debug)]
pub struct Planned {
    pub def: &'static StreamDef,
    pub mode: SyncMode,
}

pub async fn run(
    config: &Path,
    catalog: &Path,
    state: Option<&Path>,
    output: &Output,
) -> Result<Ended> {
    let config = Config::from_file(config)?;
    let plan = plan(catalog)?;
    let _state = match state {
        Some(p) => InputState::from_file(p)?,
        None => InputState::default(),
    };
    let client = Client::new(&config, HttpSettings::from_env())?;

    let mut failed = 0;
    for p in &plan {
        match read_stream(&client, p, output).await {
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
        plan.push(Planned { def, mode });
    }
    Ok(plan)
}

async fn read_stream(client: &Client, p: &Planned, output: &Output) -> Result<()> {
    let name = p.def.name;
    output.emit(&Message::stream_status(name, StreamStatus::Started))?;
    // RUNNING before the first request, so an empty stream shows the full status sequence.
    output.emit(&Message::stream_status(name, StreamStatus::Running))?;
    let mut emitter = reader::Emitter::new(output.clone(), name);
    reader::read_all(client, p.def, &mut emitter).await?;
    emitter.state(no_cursor_state())?;
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
