//! The read plan, built in one place before any request: which streams the catalog
//! asks for, how each reads (sync mode, bounds from state and config), and how they
//! group: every selected stream is a **consumer** of one **group**, the read of a
//! root source (a search, the scroll, endpoints, windows) that feeds all the streams
//! derived from it. Contacts feeds leads and users; conversations feed their parts;
//! companies feed their segments. A root is read once even when only its derived
//! streams are selected.

use std::collections::HashSet;

use super::keep_min;
use super::select::Selection;
use crate::config::Config;
use crate::cursor::{saved_position, Cursor};
use crate::error::{Error, Result};
use crate::protocol::{ConfiguredCatalog, SyncMode};
use crate::state::InputState;
use crate::streams::{self, Derived, Read, Root, Source, StreamDef};

/// A selected stream, as this run reads it.
#[derive(Debug, Clone)]
pub struct Consumer {
    pub def: &'static StreamDef,
    /// The saved position from the input state (incremental reads).
    pub saved: Option<i64>,
    /// The position's bounds for an incremental read; `None` for a full refresh, which
    /// saves no cursor.
    pub cursor: Option<Cursor>,
    /// Records (for a child stream: parent records) with a cursor below this are not
    /// read; `None` reads everything.
    pub lower: Option<i64>,
    /// A resumable full refresh ([`StreamDef::resumable_full_refresh`]): where the
    /// attempt before this one left off, if the state says ([`crate::state`]).
    pub resume: Option<i64>,
    /// The top-level fields its records are written with ([`Selection`]).
    pub columns: Selection,
}

impl Consumer {
    /// Whether this consumer is a full refresh that saves its position as it goes.
    pub fn resumable(&self) -> bool {
        self.cursor.is_none() && self.def.resumable_full_refresh()
    }
}

impl Consumer {
    /// Whether this consumer reads the root's own records (not a subset or children).
    pub fn is_root(&self) -> bool {
        self.def.parent().is_none()
    }

    /// Whether a record (or parent record) with this cursor value is read.
    pub fn accepts(&self, value: Option<i64>) -> bool {
        match (self.lower, value) {
            (Some(lower), Some(v)) => v >= lower,
            _ => true,
        }
    }
}

/// One root source and the streams it feeds.
#[derive(Debug, Clone)]
pub struct Group {
    pub root: &'static StreamDef,
    /// The root's source, read once for every consumer.
    pub source: &'static Source,
    pub consumers: Vec<Consumer>,
}

impl Group {
    /// Where the root read starts: the lowest bound any consumer needs; `None` when a
    /// consumer reads everything.
    pub fn read_lower(&self) -> Option<i64> {
        let mut lower: Option<i64> = None;
        for c in &self.consumers {
            let l = c.lower?;
            keep_min(&mut lower, l);
        }
        lower
    }

    /// A filter Intercom can apply for us: when every consumer is a subset with the
    /// same `field = value` (only leads, say), the root's other records aren't needed.
    pub fn pushed_filter(&self) -> Option<(&'static str, &'static str)> {
        let mut filter = None;
        for c in &self.consumers {
            match (&c.def.read, filter) {
                (Read::Derived(Derived::Subset { field, value, .. }), None) => {
                    filter = Some((*field, *value))
                }
                (Read::Derived(Derived::Subset { field, value, .. }), Some((f, v)))
                    if *field == f && *value == v => {}
                _ => return None,
            }
        }
        filter
    }

    /// The stream names this group emits, for messages.
    pub fn names(&self) -> Vec<&'static str> {
        self.consumers.iter().map(|c| c.def.name).collect()
    }
}

/// A stream the configured catalog selects, checked.
#[derive(Debug, Clone)]
pub struct Configured {
    pub def: &'static StreamDef,
    pub mode: SyncMode,
    /// The columns selected ([`Selection::plan`]).
    pub columns: Selection,
}

/// Check the configured catalog against the stream table: each stream exists, once,
/// with a sync mode it supports and a cursor field it has; and decide the columns
/// each is written with.
pub fn configured_streams(catalog: &ConfiguredCatalog) -> Result<Vec<Configured>> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(catalog.streams.len());
    for cs in &catalog.streams {
        let name = cs.stream.name.as_str();
        let def = streams::find(name).ok_or_else(|| {
            let known: Vec<&str> = streams::STREAMS.iter().map(|s| s.name).collect();
            Error::Catalog(format!(
                "the catalog asks for stream `{}`, which this connector does not have; its streams are: {}",
                crate::redact::server_text(name, 80),
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
                    "stream `{name}` has sync_mode {:?}; use \"full_refresh\" or \"incremental\"",
                    crate::redact::server_text(other, 40)
                )))
            }
        };
        if mode == SyncMode::Incremental {
            check_cursor_field(def, cs.cursor_field.as_deref())?;
        }
        let columns = Selection::plan(def, cs.stream.json_schema.as_ref())?;
        out.push(Configured { def, mode, columns });
    }
    Ok(out)
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
    let shown = crate::redact::server_text(&path.join("."), 80);
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

/// The inputs a plan is built from, besides the catalog.
pub struct PlanInputs<'a> {
    pub config: &'a Config,
    pub state: &'a InputState,
    /// The sync's start, epoch seconds.
    pub now: i64,
    /// Seconds a searched stream's position stays behind `now`.
    pub index_lag_secs: i64,
}

/// Build the groups for a checked catalog, in stream-table order of their roots.
pub fn groups(selected: &[Configured], inputs: &PlanInputs<'_>) -> Result<Vec<Group>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut ordered: Vec<&Configured> = selected.iter().collect();
    ordered.sort_by_key(|c| streams::STREAMS.iter().position(|s| std::ptr::eq(s, c.def)));
    for c in ordered {
        let def = c.def;
        let root = root_of(def)?;
        let consumer = consumer(def, root.source, c.mode, c.columns.clone(), inputs)?;
        match groups.iter_mut().find(|g| std::ptr::eq(g.root, root.def)) {
            Some(g) => g.consumers.push(consumer),
            None => groups.push(Group {
                root: root.def,
                source: root.source,
                consumers: vec![consumer],
            }),
        }
    }
    groups.sort_by_key(|g| {
        streams::STREAMS
            .iter()
            .position(|s| std::ptr::eq(s, g.root))
    });
    Ok(groups)
}

/// The root a stream is read from, with its source.
fn root_of(def: &'static StreamDef) -> Result<Root> {
    def.root().ok_or_else(|| {
        Error::Internal(format!(
            "stream {} is read from no root source (the stream table names a parent it doesn't have)",
            def.name
        ))
    })
}

/// How `def` reads, its root's records coming from `source`.
fn consumer(
    def: &'static StreamDef,
    source: &Source,
    mode: SyncMode,
    columns: Selection,
    inputs: &PlanInputs<'_>,
) -> Result<Consumer> {
    let c = inputs.config;
    let saved = match (mode, def.state_key()) {
        (SyncMode::Incremental, Some(key)) => saved_position(
            def.name,
            inputs.state.get(def.name),
            key,
            def.state_parent(),
        )?,
        _ => None,
    };
    let lag = match source {
        Source::Search(s) if s.index_lag => inputs.index_lag_secs,
        _ => 0,
    };
    let cursor = match (mode, def.cursor) {
        (SyncMode::Incremental, Some(_)) => Some(Cursor::new(
            saved,
            c.start_date,
            c.lookback_window_days,
            inputs.now,
            lag,
        )),
        _ => None,
    };
    let resume = match (mode, def.resumable_full_refresh()) {
        (SyncMode::FullRefresh, true) => {
            crate::state::saved_full_refresh_position(def.name, inputs.state.get(def.name))?
        }
        _ => None,
    };
    let lower = match &cursor {
        Some(cur) => Some(cur.lower()),
        // Intercom filters these by date anyway: start_date bounds a full refresh too,
        // and a resumed one starts where its attempt before left off.
        None if def.server_filtered() => Some(resume.map_or(c.start_date, |r| r.max(c.start_date))),
        None => None,
    };
    Ok(Consumer {
        def,
        saved,
        cursor,
        lower,
        resume,
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(catalog: serde_json::Value, state: serde_json::Value) -> Vec<Group> {
        let cat: ConfiguredCatalog = serde_json::from_value(catalog).unwrap();
        let config = Config::from_value(&json!({
            "access_token": "tok-12345678", "start_date": "2020-01-01T00:00:00Z"
        }))
        .unwrap();
        let state = InputState::from_value(&state).unwrap();
        let inputs = PlanInputs {
            config: &config,
            state: &state,
            now: 1_800_000_000,
            index_lag_secs: 3600,
        };
        groups(&configured_streams(&cat).unwrap(), &inputs).unwrap()
    }

    fn catalog(streams: &[(&str, &str)]) -> serde_json::Value {
        json!({"streams": streams.iter().map(|(n, m)| json!({
            "stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": m, "destination_sync_mode": "append"
        })).collect::<Vec<_>>()})
    }

    #[test]
    fn derived_streams_join_their_root_group() {
        let g = plan(
            catalog(&[
                ("users", "incremental"),
                ("conversation_parts", "incremental"),
                ("contacts", "full_refresh"),
                ("leads", "incremental"),
                ("admins", "full_refresh"),
            ]),
            json!({"leads": {"updated_at": 1_700_000_000}}),
        );
        let roots: Vec<&str> = g.iter().map(|g| g.root.name).collect();
        assert_eq!(roots, ["admins", "contacts", "conversations"]);
        assert_eq!(g[1].names(), ["contacts", "leads", "users"]);
        // The shared search starts where the most demanding consumer needs it.
        assert_eq!(g[1].read_lower(), Some(1_577_836_800));
        assert_eq!(g[1].consumers[1].lower, Some(1_700_000_000));
        assert_eq!(g[1].pushed_filter(), None);
        assert_eq!(g[2].names(), ["conversation_parts"]);
        assert_eq!(g[0].read_lower(), None);
    }

    #[test]
    fn a_lone_subset_pushes_its_filter_to_intercom() {
        let g = plan(catalog(&[("leads", "full_refresh")]), json!({}));
        assert_eq!(g[0].root.name, "contacts");
        assert_eq!(g[0].pushed_filter(), Some(("role", "lead")));
        let g = plan(
            catalog(&[("leads", "full_refresh"), ("users", "full_refresh")]),
            json!({}),
        );
        assert_eq!(g[0].pushed_filter(), None);
    }
}
