//! One group's read in progress: the consumers' emitters and positions, and the rules
//! that turn root records into each consumer's records and states.
//!
//! - The root's own stream emits every record at or past its lower bound.
//! - A subset emits the records whose field matches (leads: `role = lead`).
//! - A child stream gets the parents at or past its lower bound, fetched by the
//!   source reader after the page ([`super::children`]).
//! - States: a sorted read (search, windows) checkpoints every consumer after each page
//!   whose children are all emitted, at the watermark ([`Watermark`]); an unsorted read
//!   (endpoints, the scroll) saves each consumer's highest cursor once it is complete.
//!
//! A consumer that fails (too many missing children, say) stops alone; a root that
//! fails fails every consumer still running. Errors that doom the whole sync (a
//! rejected token, stdout gone) are returned to the runner instead.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use super::emit::Emitter;
use super::page::{keys, Keys};
use super::plan::{Consumer, Group};
use super::progress::Watermark;
use super::Ctx;
use crate::cursor::state_blob;
use crate::error::{Error, Result};
use crate::protocol::Message;
use crate::streams::{Child, Read};

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

    fn observe(&mut self, value: Option<i64>) {
        if let Some(v) = value {
            self.max_seen = Some(self.max_seen.map_or(v, |m| m.max(v)));
        }
    }

    /// The state blob for a position (or the no-cursor state of a full refresh).
    fn blob(&self, watermark: Option<i64>) -> Value {
        let def = self.consumer.def;
        match (&self.consumer.cursor, def.state_key()) {
            (Some(cursor), Some(key)) => {
                let w = watermark.or(self.max_seen).unwrap_or(i64::MIN);
                state_blob(key, def.state_parent(), cursor.position_at(w))
            }
            _ => crate::state::no_cursor_state(),
        }
    }

    /// The child declaration, if this consumer is a child stream.
    pub fn child(&self) -> Option<&'static Child> {
        match &self.consumer.def.read {
            Read::Children(c) => Some(c),
            _ => None,
        }
    }
}

/// The mutable part of a group's read.
pub struct Shared {
    pub sinks: Vec<Sink>,
    pub watermark: Watermark,
    /// Highest cursor per unit whose pages are not sorted (applied when it is done).
    unit_max: std::collections::HashMap<i64, i64>,
}

/// The order a root's records come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// No useful order (endpoints, the scroll): positions are saved at the end.
    Unsorted,
    /// Units in order, pages within a unit in no order (activity-log windows): a state
    /// after each unit.
    SortedUnits,
    /// Pages sorted ascending by the cursor (searches): a state after each page.
    SortedPages,
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
    /// Whether states can follow the watermark during the read.
    pub sorted: bool,
    /// Whether pages come sorted ascending by the cursor.
    pub pages_sorted: bool,
    /// The root's cursor field, if it has one.
    pub field: Option<&'static str>,
    shared: Mutex<Shared>,
}

/// What a page gave: the parents child streams must fetch, and its highest cursor.
#[derive(Debug, Default)]
pub struct Taken {
    pub parents: Vec<(usize, Vec<Parent>)>,
    pub max: Option<i64>,
}

/// The decision for one record of the root.
struct Routed {
    cursor: Option<i64>,
    in_range: bool,
}

impl GroupRun {
    pub fn new(ctx: Arc<Ctx>, group: Group, order: Order) -> GroupRun {
        let sinks = group
            .consumers
            .iter()
            .map(|c| Sink {
                consumer: c.clone(),
                emitter: Emitter::new(ctx.output.clone(), c.def.name),
                max_seen: None,
                failed: None,
                missing: 0,
                truncated: 0,
            })
            .collect();
        let lower = group.read_lower().unwrap_or(i64::MIN);
        GroupRun {
            field: group.root.cursor,
            shared: Mutex::new(Shared {
                sinks,
                watermark: Watermark::new(lower),
                unit_max: Default::default(),
            }),
            ctx,
            group,
            sorted: order != Order::Unsorted,
            pages_sorted: order == Order::SortedPages,
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

    /// Hand a page of root records to the consumers. Returns, per child consumer, the
    /// parents to fetch, and the page's highest cursor: once the children are emitted,
    /// pass it to [`GroupRun::page_done`] (a state may not claim a parent whose children
    /// are not all emitted). `range` (inclusive start, exclusive end) keeps only the
    /// records of this unit where neighbouring units' queries overlap.
    pub fn take<'p>(
        &self,
        records: impl ExactSizeIterator<Item = &'p str> + Clone,
        range: Option<(i64, Option<i64>)>,
    ) -> Result<Taken> {
        let mut shared = self.lock();
        let sinks = &mut shared.sinks;
        let field = self.field;
        if self.fast_path_ok(sinks, records.clone(), range) {
            // Sorted pages read by the root's own stream alone: the first and last
            // records tell whether the whole page is in bounds.
            let last = records.clone().last().map(keys);
            let max = last.and_then(|k| field.and_then(|f| k.cursor(f)));
            let sink = &mut sinks[0];
            for r in records {
                sink.emitter.raw(r)?;
            }
            sink.observe(max);
            return Ok(Taken {
                parents: Vec::new(),
                max,
            });
        }
        let mut taken = Taken::default();
        for r in records {
            let k = keys(r);
            let routed = route(&k, field, range);
            if !routed.in_range {
                continue;
            }
            for (i, sink) in sinks.iter_mut().enumerate() {
                if !sink.live() || !sink.consumer.accepts(routed.cursor) {
                    continue;
                }
                match &sink.consumer.def.read {
                    Read::Subset { field, value, .. } => {
                        if k.field_is(field, value) {
                            sink.emitter.raw(r)?;
                            sink.observe(routed.cursor);
                        }
                    }
                    Read::Children(child) => {
                        let parent =
                            parent_of(&k, child, routed.cursor).ok_or_else(|| Error::Decode {
                                endpoint: self.group.root.list_endpoint(),
                                message: format!("one of the {} has no `id`", child.what),
                            })?;
                        match taken.parents.iter_mut().find(|(j, _)| *j == i) {
                            Some((_, list)) => list.push(parent),
                            None => taken.parents.push((i, vec![parent])),
                        }
                    }
                    _ => {
                        sink.emitter.raw(r)?;
                        sink.observe(routed.cursor);
                    }
                }
            }
            if let Some(v) = routed.cursor {
                taken.max = Some(taken.max.map_or(v, |m| m.max(v)));
            }
        }
        Ok(taken)
    }

    /// A page of unit `unit` is fully emitted, children included, up to cursor `max`.
    pub fn page_done(&self, unit: i64, max: Option<i64>) {
        let Some(v) = max else { return };
        let mut shared = self.lock();
        if self.pages_sorted {
            shared.watermark.seen(unit, v);
        } else {
            let m = shared.unit_max.entry(unit).or_insert(v);
            *m = (*m).max(v);
        }
    }

    fn fast_path_ok<'p>(
        &self,
        sinks: &[Sink],
        records: impl ExactSizeIterator<Item = &'p str>,
        range: Option<(i64, Option<i64>)>,
    ) -> bool {
        if !self.pages_sorted
            || sinks.len() != 1
            || !sinks[0].consumer.is_root()
            || !sinks[0].live()
        {
            return false;
        }
        let Some(field) = self.field else {
            return false;
        };
        let mut records = records;
        let Some(first) = records.next() else {
            return true;
        };
        let last = records.last().unwrap_or(first);
        let (Some(lo), Some(hi)) = (keys(first).cursor(field), keys(last).cursor(field)) else {
            return false;
        };
        let low_ok = sinks[0].consumer.lower.map_or(true, |l| lo >= l)
            && range.map_or(true, |(a, _)| lo >= a);
        let high_ok = range.map_or(true, |(_, b)| b.map_or(true, |b| hi < b));
        low_ok && high_ok && lo <= hi
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
        let mut shared = self.lock();
        if let Some(m) = shared.unit_max.remove(&unit) {
            shared.watermark.seen(unit, m);
        }
        shared.watermark.done(unit);
    }

    /// For sorted reads: save every incremental consumer's position at the watermark.
    pub fn checkpoint(&self) -> Result<()> {
        if !self.sorted {
            return Ok(());
        }
        let mut shared = self.lock();
        let w = shared.watermark.position();
        for s in shared.sinks.iter_mut() {
            if s.live() && s.consumer.cursor.is_some() {
                let blob = s.blob(Some(w));
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
        let w = (self.sorted && complete).then(|| shared.watermark.position());
        let mut finished = Finished::default();
        for s in shared.sinks.iter_mut() {
            let name = s.consumer.def.name;
            if let Some(child) = s.child() {
                summarize_children(s, child);
            }
            match s.failed.take() {
                None => {
                    let blob = s.blob(w);
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

fn route(k: &Keys<'_>, field: Option<&str>, range: Option<(i64, Option<i64>)>) -> Routed {
    let cursor = field.and_then(|f| k.cursor(f));
    let in_range = match (range, cursor) {
        (Some((a, b)), Some(v)) => v >= a && b.map_or(true, |b| v < b),
        _ => true,
    };
    Routed { cursor, in_range }
}

fn parent_of(k: &Keys<'_>, child: &Child, cursor: Option<i64>) -> Option<Parent> {
    let id = k.id()?;
    let fields = child
        .from_parent
        .iter()
        .map(|(row_field, parent_field)| {
            let v = match *parent_field {
                "id" => Value::String(id.clone()),
                f => k.cursor(f).map_or(Value::Null, Value::from),
            };
            (*row_field, v)
        })
        .collect();
    Some(Parent { id, cursor, fields })
}

/// Errors aren't `Clone` (they may hold I/O errors); a root failure is reported to each
/// consumer with the same words and failure type.
fn clone_error(e: &Error) -> Error {
    Error::Relayed {
        message: e.to_string(),
        failure_type: e.failure_type(),
    }
}
