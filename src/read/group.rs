//! One group's read in progress: the consumers' emitters and positions, and the rules
//! that turn root records into each consumer's records and states.
//!
//! - The root's own stream emits every record at or past its lower bound.
//! - A subset emits the records whose field matches (leads: `role = lead`).
//! - A child stream gets the parents at or past its lower bound, fetched by the
//!   source reader after the page ([`super::children`]).
//! - Each record is routed by what its page read of it ([`GroupRun::want`]: its key, its
//!   cursor, the field subsets filter on), never by parsing it again.
//! - States: a sorted read (search, windows) checkpoints every consumer after each page
//!   whose children are all emitted, at the watermark ([`Watermark`], which counts a
//!   unit once its walk is done and adds up); an unsorted read (endpoints, the scroll)
//!   saves each consumer's highest cursor once it is complete. No position passes the
//!   sync's start on Intercom's clock ([`super::Ctx::start_on_intercom_clock`]).
//!
//! A consumer that fails (too many missing children, say) stops alone; a root that
//! fails fails every consumer still running. Errors that doom the whole sync (a
//! rejected token, stdout gone) are returned to the runner instead.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use super::emit::Emitter;
use super::plan::{Consumer, Group};
use super::watermark::Watermark;
use super::{keep_max, Ctx};
use crate::cursor::state_blob;
use crate::error::{Error, Result};
use crate::http::page::{Keys, Want};
use crate::protocol::Message;
use crate::streams::{Child, Derived, Read, Source};

/// A parent record a child stream fetches for.
#[derive(Debug, Clone)]
pub struct Parent {
    pub id: String,
    pub cursor: Option<i64>,
    /// The fields copied onto every child row ([`Child::from_parent`]).
    pub fields: Vec<(&'static str, Value)>,
}

/// One consumer while the group runs.
pub struct Sink {
    pub consumer: Consumer,
    pub emitter: Emitter,
    /// Highest cursor among the records it emitted (unsorted reads save this).
    pub max_seen: Option<i64>,
    pub failed: Option<Error>,
    /// Children answered 404 and counted as deleted.
    pub missing: usize,
    /// Conversations with more parts than Intercom returns.
    pub truncated: usize,
}

impl Sink {
    fn live(&self) -> bool {
        self.failed.is_none()
    }

    pub(super) fn observe(&mut self, value: Option<i64>) {
        if let Some(v) = value {
            keep_max(&mut self.max_seen, v);
        }
    }

    /// The state blob for a position (or the no-cursor state of a full refresh);
    /// `start`: the sync's start on Intercom's clock.
    fn blob(&self, watermark: Option<i64>, start: i64) -> Value {
        let def = self.consumer.def;
        match (&self.consumer.cursor, def.state_key()) {
            (Some(cursor), Some(key)) => {
                let w = watermark.or(self.max_seen).unwrap_or(i64::MIN);
                state_blob(key, def.state_parent(), cursor.position_by_clock(w, start))
            }
            _ if self.consumer.resumable() => crate::state::full_refresh_complete(),
            _ => crate::state::no_cursor_state(),
        }
    }

    /// A resumable full refresh's position while it runs: past the resumed position,
    /// never behind it.
    fn progress(&self, position: i64) -> Value {
        let p = self.consumer.resume.map_or(position, |r| r.max(position));
        crate::state::full_refresh_position(p)
    }

    /// The child declaration, if this consumer is a child stream.
    pub fn child(&self) -> Option<&'static Child> {
        self.consumer.def.child()
    }
}

/// The mutable part of a group's read.
pub struct Shared {
    pub sinks: Vec<Sink>,
    pub watermark: Watermark,
}

/// The order a root's records come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// No useful order (endpoints, the scroll): positions are saved at the end.
    Unsorted,
    /// In units ordered by the cursor (search ranges, activity-log windows): a state
    /// whenever the watermark moves, which it does as units finish.
    Sorted,
}

impl Order {
    /// The order a source's records come in.
    pub fn of(source: &Source) -> Order {
        match source {
            Source::Search(_) | Source::Windows(_) => Order::Sorted,
            Source::Pages(_) | Source::Scroll => Order::Unsorted,
        }
    }
}

/// How a finished group went: the streams that failed (each already reported).
#[derive(Debug, Default)]
pub struct Finished {
    pub failed: Vec<&'static str>,
}

/// A group's read in progress.
pub struct GroupRun {
    pub ctx: Arc<Ctx>,
    pub group: Group,
    /// The order the root's records come in: whether states can follow the watermark
    /// during the read.
    pub order: Order,
    shared: Mutex<Shared>,
}

/// What a page gave: the parents child streams must fetch, and its highest cursor.
#[derive(Debug, Default)]
pub struct Taken {
    pub parents: Vec<(usize, Vec<Parent>)>,
    pub max: Option<i64>,
}

impl GroupRun {
    pub fn new(ctx: Arc<Ctx>, group: Group) -> GroupRun {
        let sinks = group
            .consumers
            .iter()
            .map(|c| Sink {
                consumer: c.clone(),
                emitter: Emitter::new(ctx.output.clone(), c.def.name)
                    .with_columns(c.columns.clone()),
                max_seen: None,
                failed: None,
                missing: 0,
                truncated: 0,
            })
            .collect();
        let lower = group.read_lower().unwrap_or(i64::MIN);
        GroupRun {
            shared: Mutex::new(Shared {
                sinks,
                watermark: Watermark::new(lower),
            }),
            order: Order::of(group.source),
            ctx,
            group,
        }
    }

    /// The stream the root's requests are counted for: the root itself if selected,
    /// else its first consumer.
    pub fn request_stream(&self) -> &'static str {
        self.group
            .consumers
            .iter()
            .find(|c| c.is_root())
            .unwrap_or(&self.group.consumers[0])
            .def
            .name
    }

    pub fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether any consumer still runs.
    pub fn any_live(&self) -> bool {
        self.lock().sinks.iter().any(Sink::live)
    }

    /// Whether a live consumer needs the root's records themselves (not only a subset
    /// pushed to Intercom, or children).
    pub fn wants(&self, pred: impl Fn(&Sink) -> bool) -> bool {
        self.lock().sinks.iter().any(|s| s.live() && pred(s))
    }

    /// Register the read's units ([`Watermark`]).
    pub fn with_watermark<R>(&self, f: impl FnOnce(&mut Watermark) -> R) -> R {
        f(&mut self.lock().watermark)
    }

    /// An ESTIMATE for the root's own stream, from an answer's `total_count`.
    pub fn estimate(&self, total: u64) -> Result<()> {
        let mut shared = self.lock();
        if let Some(s) = shared
            .sinks
            .iter_mut()
            .find(|s| s.consumer.is_root() && s.live())
        {
            s.emitter
                .message(&Message::estimate(s.consumer.def.name, total))?;
        }
        Ok(())
    }

    /// What the root's reader must read of every record: the root's key, its cursor
    /// when a consumer positions or filters by it (or the read is sorted by it), and
    /// the field a subset filters on. A record without them fails its page.
    pub fn want(&self) -> Want {
        want_for(&self.group, self.order)
    }

    /// Hand a page of root records to the consumers. Returns, per child consumer, the
    /// parents to fetch, and the page's highest cursor: once the children are emitted,
    /// pass it to [`GroupRun::page_done`] (a state may not claim a parent whose children
    /// are not all emitted). `range` (inclusive start, exclusive end) keeps only the
    /// records of this unit where neighbouring units' queries overlap.
    pub fn take<'p>(
        &self,
        records: impl Iterator<Item = (&'p str, &'p Keys)>,
        range: Option<(i64, Option<i64>)>,
    ) -> Result<Taken> {
        let mut shared = self.lock();
        let sinks = &mut shared.sinks;
        let mut taken = Taken::default();
        for (r, k) in records {
            let cursor = k.cursor;
            if !in_range(cursor, range) {
                continue;
            }
            for (i, sink) in sinks.iter_mut().enumerate() {
                if !sink.live() || !sink.consumer.accepts(cursor) {
                    continue;
                }
                match &sink.consumer.def.read {
                    Read::Derived(Derived::Subset { value, .. }) => {
                        if k.class_is(value) {
                            sink.emitter.raw(r)?;
                            sink.observe(cursor);
                        }
                    }
                    Read::Derived(Derived::Children(child)) => {
                        let parent = parent_of(k, child).ok_or_else(|| Error::Decode {
                            endpoint: self.group.source.list_endpoint(),
                            message: format!("one of the {} has no `id`", child.what),
                        })?;
                        match taken.parents.iter_mut().find(|(j, _)| *j == i) {
                            Some((_, list)) => list.push(parent),
                            None => taken.parents.push((i, vec![parent])),
                        }
                    }
                    Read::Root(_) => {
                        sink.emitter.raw(r)?;
                        sink.observe(cursor);
                    }
                }
            }
            if let Some(v) = cursor {
                keep_max(&mut taken.max, v);
            }
        }
        Ok(taken)
    }

    /// A page of unit `unit` is fully emitted, children included, up to cursor `max`.
    pub fn page_done(&self, unit: i64, max: Option<i64>) {
        if let Some(v) = max {
            // Counted once the unit is done (see `Watermark::position`).
            self.lock().watermark.seen(unit, v);
        }
    }

    /// Rows built by the connector (count tables), for the root's own stream.
    pub fn take_values(&self, rows: Vec<Value>) -> Result<()> {
        let mut shared = self.lock();
        for s in shared.sinks.iter_mut().filter(|s| s.live()) {
            for r in &rows {
                s.emitter.value(r)?;
            }
        }
        Ok(())
    }

    /// A unit of the watermark is done.
    pub fn unit_done(&self, unit: i64) {
        self.lock().watermark.done(unit);
    }

    /// For sorted reads: save every incremental consumer's position at the watermark.
    pub fn checkpoint(&self) -> Result<()> {
        if self.order == Order::Unsorted {
            return Ok(());
        }
        let mut shared = self.lock();
        let start = clock_start(&self.ctx, &shared.sinks);
        let w = shared.watermark.position();
        for s in shared.sinks.iter_mut() {
            if !s.live() {
                continue;
            }
            let blob = if s.consumer.cursor.is_some() {
                s.blob(Some(w), start)
            } else if s.consumer.resumable() && moved_past_start(w, s) {
                s.progress(w)
            } else {
                continue;
            };
            s.emitter.checkpoint_if_moved(blob)?;
        }
        Ok(())
    }

    /// For page-numbered lists: `pages` pages (from the list's first) are emitted; a
    /// resumable full refresh saves that.
    pub fn pages_done(&self, pages: i64) -> Result<()> {
        let mut shared = self.lock();
        for s in shared.sinks.iter_mut() {
            if s.live() && s.consumer.resumable() {
                let blob = s.progress(pages);
                s.emitter.checkpoint_if_moved(blob)?;
            }
        }
        Ok(())
    }

    /// A consumer failed: it stops, and is reported when the group ends. Errors that
    /// doom the whole sync are returned instead.
    pub fn fail(&self, index: usize, e: Error) -> Result<()> {
        if e.is_fatal_for_sync() {
            return Err(e);
        }
        let mut shared = self.lock();
        if let Some(s) = shared.sinks.get_mut(index) {
            let def = s.consumer.def;
            let e = e.needing(def.name, def.permission);
            if s.failed.is_none() {
                tracing::warn!("stream {} failed: {e}", s.consumer.def.name);
                let _ = s.emitter.flush();
                s.failed = Some(e);
            }
        }
        Ok(())
    }

    /// The root read failed: every consumer still running fails with it.
    pub fn fail_all(&self, e: Error) -> Result<()> {
        if e.is_fatal_for_sync() {
            return Err(e);
        }
        // A refused root endpoint: the permission of the stream its requests were for.
        let e = match crate::streams::find(self.request_stream()) {
            Some(def) => e.needing(def.name, def.permission),
            None => e,
        };
        let n = self.lock().sinks.len();
        for i in 0..n {
            self.fail(i, clone_error(&e))?;
        }
        Ok(())
    }

    /// End the group: final states for the consumers that finished, INCOMPLETE and one
    /// ERROR trace for each that failed.
    pub fn finish(self) -> Result<Finished> {
        let mut shared = self.shared.into_inner().unwrap_or_else(|p| p.into_inner());
        let complete = shared.watermark.complete();
        let w = (self.order == Order::Sorted && complete).then(|| shared.watermark.position());
        let start = clock_start(&self.ctx, &shared.sinks);
        let mut finished = Finished::default();
        for s in shared.sinks.iter_mut() {
            let name = s.consumer.def.name;
            if let Some(child) = s.child() {
                summarize_children(s, child);
            }
            match s.failed.take() {
                None => {
                    let blob = s.blob(w, start);
                    s.emitter.checkpoint(blob)?;
                    s.emitter.message(&Message::stream_status(
                        name,
                        crate::protocol::StreamStatus::Complete,
                    ))?;
                    tracing::info!("stream {name}: {} records", s.emitter.total());
                }
                Some(e) => {
                    s.emitter.flush()?;
                    super::report_stream_failure(&self.ctx.output, name, &e)?;
                    finished.failed.push(name);
                }
            }
        }
        Ok(finished)
    }
}

fn summarize_children(s: &Sink, child: &Child) {
    let name = s.consumer.def.name;
    if s.missing > 0 {
        tracing::warn!(
            "{name}: {} of the {} were deleted during the sync and skipped",
            s.missing,
            child.what
        );
    }
    if s.truncated > 0 {
        tracing::warn!(
            "{name}: {} conversation(s) have more than {} parts; Intercom returns only the newest {} of each, so their older parts were not read",
            s.truncated,
            crate::streams::PARTS_CAP,
            crate::streams::PARTS_CAP
        );
    }
}

/// What the root's reader of `group` reads of every record (see [`GroupRun::want`]);
/// `order`: the order the root's records come in.
pub fn want_for(group: &Group, order: Order) -> Want {
    let needs_cursor = order == Order::Sorted
        || group
            .consumers
            .iter()
            .any(|c| c.cursor.is_some() || c.lower.is_some());
    let class = group.consumers.iter().find_map(|c| match &c.def.read {
        Read::Derived(Derived::Subset { field, .. }) => Some(*field),
        _ => None,
    });
    Want {
        key: group.root.primary_key,
        cursor: group.root.cursor.filter(|_| needs_cursor),
        class,
    }
}

/// The sync's start on Intercom's clock when a consumer's position depends on it (an
/// incremental one), else this machine's (asked only then: with no `Date` from
/// Intercom, asking logs a warning).
fn clock_start(ctx: &Ctx, sinks: &[Sink]) -> i64 {
    if sinks.iter().any(|s| s.consumer.cursor.is_some()) {
        ctx.start_on_intercom_clock()
    } else {
        ctx.now
    }
}

/// Whether a full refresh has come far enough to be worth a state: its watermark is
/// past where it started.
fn moved_past_start(watermark: i64, s: &Sink) -> bool {
    s.consumer.lower.is_some_and(|l| watermark > l)
}

/// Whether a record with this cursor belongs to the unit's `range` (no range, or no
/// cursor to judge by: it does).
pub(super) fn in_range(cursor: Option<i64>, range: Option<(i64, Option<i64>)>) -> bool {
    match (range, cursor) {
        (Some((a, b)), Some(v)) => v >= a && b.map_or(true, |b| v < b),
        _ => true,
    }
}

/// The parent a child stream fetches for, from what was read of its record: its `id`,
/// and the fields its rows copy ([`Child::from_parent`]: the parent's `id` or its
/// cursor, which the stream table's test holds to).
pub fn parent_of(k: &Keys, child: &Child) -> Option<Parent> {
    let id = k.id.clone()?;
    let fields = child
        .from_parent
        .iter()
        .map(|(row_field, parent_field)| {
            let v = match *parent_field {
                "id" => Value::String(id.clone()),
                _ => k.cursor.map_or(Value::Null, Value::from),
            };
            (*row_field, v)
        })
        .collect();
    Some(Parent {
        id,
        cursor: k.cursor,
        fields,
    })
}

/// Errors aren't `Clone` (they may hold I/O errors); a root failure is reported to each
/// consumer with the same words and failure type.
fn clone_error(e: &Error) -> Error {
    Error::Relayed {
        message: e.to_string(),
        failure_type: e.failure_type(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::http::page::Page;
    use crate::protocol::ConfiguredCatalog;
    use crate::read::plan::{configured_streams, groups, PlanInputs};
    use crate::state::InputState;
    use crate::streams::STREAMS;
    use serde_json::json;

    /// Every field the pipeline reads by name, for every stream of the table: a record
    /// holding them (among fields of every odd kind) gives each one back, so no stream
    /// can be declared with a cursor, subset field or parent field that is never read.
    #[test]
    fn the_field_vocabulary_follows_the_stream_table() {
        let catalog: ConfiguredCatalog =
            serde_json::from_value(json!({"streams": STREAMS.iter().map(|s| json!({
            "stream": {"name": s.name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": if s.cursor.is_some() { "incremental" } else { "full_refresh" },
            "destination_sync_mode": "append"
        })).collect::<Vec<_>>()}))
            .unwrap();
        let config = Config::from_value(&json!({
            "access_token": "tok-12345678", "start_date": "2020-01-01T00:00:00Z"
        }))
        .unwrap();
        let inputs = PlanInputs {
            config: &config,
            state: &InputState::default(),
            now: 1_800_000_000,
            index_lag_secs: 0,
        };
        let plan = groups(&configured_streams(&catalog).unwrap(), &inputs).unwrap();
        for g in &plan {
            let root = g.root;
            let want = want_for(g, Order::of(g.source));
            assert!(
                want.names().len() <= crate::http::page::MAX_WANTED,
                "{}",
                root.name
            );
            assert_eq!(
                want.cursor, root.cursor,
                "{}: its cursor is read",
                root.name
            );
            let mut record = json!({"noise": {"updated_at": "x", "id": [1]}, "statistics": "odd"});
            for k in root.primary_key {
                record[*k] = json!(format!("key-{k}"));
            }
            if let Some(c) = root.cursor {
                record[c] = json!(1_700_000_000);
            }
            for c in &g.consumers {
                match &c.def.read {
                    Read::Derived(Derived::Subset {
                        parent,
                        field,
                        value,
                    }) => {
                        assert_eq!(*parent, root.name);
                        assert_eq!(want.class, Some(*field), "{}", c.def.name);
                        record[*field] = json!(value);
                    }
                    Read::Derived(Derived::Children(child)) => {
                        assert_eq!(
                            root.primary_key,
                            ["id"],
                            "{}: parents are fetched by id",
                            c.def.name
                        );
                        for (_, from) in child.from_parent {
                            assert!(
                                *from == "id" || Some(*from) == root.cursor,
                                "{}: `{from}` is copied from the parent, but only its id and cursor are read",
                                c.def.name
                            );
                        }
                        let mut added: Vec<&str> = child.row_key.to_vec();
                        added.extend(child.from_parent.iter().map(|(f, _)| *f));
                        added.extend(child.from_answer.iter().map(|(f, _)| *f));
                        for k in c.def.primary_key {
                            assert!(
                                added.contains(k),
                                "{}: key `{k}` comes from nowhere",
                                c.def.name
                            );
                        }
                    }
                    _ => {}
                }
            }
            if matches!(g.source, Source::Search(_) | Source::Scroll) {
                assert_eq!(
                    root.primary_key,
                    ["id"],
                    "{}: walks count and dedup ids",
                    root.name
                );
            }
            let body = json!({"list": [record.clone()]}).to_string();
            let page = Page::parse(bytes::Bytes::from(body), &["list"], &want)
                .unwrap_or_else(|e| panic!("{}: {e}", root.name));
            let (_, k) = page.records().next().unwrap();
            assert_eq!(
                k.cursor,
                root.cursor.map(|_| 1_700_000_000),
                "{}",
                root.name
            );
            if root.primary_key.contains(&"id") {
                assert_eq!(k.id.as_deref(), Some("key-id"), "{}", root.name);
            }
            for c in &g.consumers {
                if let Some(child) = c.def.child() {
                    let parent = parent_of(k, child).unwrap();
                    for (row, from) in child.from_parent {
                        let got = &parent.fields.iter().find(|(f, _)| f == row).unwrap().1;
                        let want = if *from == "id" {
                            json!("key-id")
                        } else {
                            json!(1_700_000_000)
                        };
                        assert_eq!(got, &want, "{}: {row}", c.def.name);
                    }
                }
                if let Read::Derived(Derived::Subset { field, .. }) = &c.def.read {
                    assert_eq!(
                        k.class.as_deref(),
                        record[*field].as_str(),
                        "{}",
                        c.def.name
                    );
                }
            }
        }
    }
}
