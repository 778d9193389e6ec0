//! The read pipeline: every selected stream read concurrently within one budget.
//!
//! - [`plan`] turns the catalog, state and config into groups: one root source and the
//!   streams it feeds, each with its bounds.
//! - The groups run as concurrent tasks (at most [`ReadSettings::max_groups`] at once);
//!   every request of every stream takes a slot of the client's one limit on requests
//!   in flight and a turn of its one rate budget ([`crate::http`]).
//! - Each root kind has its reader: [`endpoints`] (GET endpoints), [`search`]
//!   (partitioned searches), [`scroll`] (the companies scroll, one at a time), [`windows`]
//!   (activity logs); [`children`] fetches child rows for the parents a page lists.
//! - [`group`] routes a page's records to the group's streams and keeps their states;
//!   [`watermark`] computes the position a state may claim; [`emit`] writes records as
//!   the bytes Intercom sent ([`crate::http::page`], which checks each answer whole and
//!   reads what the pipeline needs of each record), or, when the catalog selects some of
//!   a stream's columns, only those fields, cut from those bytes as they are written
//!   ([`select`]).
//! - Completeness: a walk ends only when Intercom says so and the numbers add up
//!   ([`crate::walk`]); a searched stream's position stays the search index lag
//!   behind the sync's start; no position passes the sync's start on Intercom's clock
//!   ([`Ctx::start_on_intercom_clock`]); a child that answers 404 is asked again once.
//! - A failure that dooms the sync (a rejected token, stdout gone) stops every group
//!   and is reported once; any other failure ends only the streams it concerns.

pub mod children;
pub mod cut;
pub mod emit;
pub mod endpoints;
pub mod group;
pub mod part;
pub mod plan;
pub mod relations;
pub mod reports;
pub mod scroll;
pub mod search;
pub mod select;
pub mod watermark;
pub mod windows;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::Client;
use crate::output::Output;
use crate::protocol::{ErrorTrace, Message, StreamDescriptor, StreamStatus};
use crate::settings::{self, Lookup, Tunable};
use crate::streams::Source;
use emit::Counter;
use group::{Finished, GroupRun};
use plan::Group;

/// The read's settings. Its tunables (each a `SOURCE_INTERCOM_*` variable) are declared
/// in [`crate::settings`], and filled from there by [`ReadSettings::for_config`].
#[derive(Debug, Clone)]
pub struct ReadSettings {
    /// The most requests in flight at once ([`Config::max_in_flight`]), which also bounds
    /// child fan-out and search ranges.
    pub max_in_flight: usize,
    /// Groups (root sources with their streams) read at once.
    pub max_groups: usize,
    /// Seconds a searched stream's position stays behind the sync's start (Intercom's
    /// search index trails writes): `search_index_lag_minutes`.
    pub search_index_lag_secs: i64,
    /// The pause before a child that answered 404 is asked once more.
    pub child_404_pause: Duration,
    /// Wait between attempts to open a scroll while another client holds the workspace's one scroll.
    pub scroll_busy_wait: Duration,
    /// Give up opening a scroll after waiting this long in all.
    pub scroll_busy_max: Duration,
    /// Scroll restarts (after expiry or a failure mid-way) before giving up.
    pub scroll_max_restarts: u32,
    /// A search of at most this many pages is walked as one chain.
    pub serial_pages: u64,
    /// The pages a search partition aims at: partitions with twice as many are split.
    pub pages_per_partition: u64,
    /// How often each running stream logs its progress.
    pub progress_every: Duration,
    /// Days of one reporting export window.
    pub report_window_days: u32,
    /// Days of reporting data the workspace keeps (Intercom's 2 years by default):
    /// exports start no earlier.
    pub report_retention_days: u32,
    /// The pause after an export job's first status poll (sent right after it is
    /// enqueued); it doubles up to `report_poll_max`.
    pub report_poll_first: Duration,
    pub report_poll_max: Duration,
    /// The longest an export job is waited for.
    pub report_job_max_wait: Duration,
}

impl ReadSettings {
    /// Settings for a config (its cap on requests in flight and its index lag), with the
    /// tunables the environment sets ([`crate::settings`]).
    pub fn for_config(config: &Config) -> ReadSettings {
        ReadSettings::from_lookup(config, &settings::env)
    }

    /// Settings for a config, with each tunable `lookup` gives.
    pub(crate) fn from_lookup(config: &Config, lookup: Lookup<'_>) -> ReadSettings {
        let millis = |t: &Tunable| Duration::from_millis(t.value(lookup));
        let secs = |t: &Tunable| Duration::from_secs(t.value(lookup));
        ReadSettings {
            max_in_flight: config.max_in_flight(),
            max_groups: 8,
            search_index_lag_secs: settings::SEARCH_INDEX_LAG_SECS
                .given(lookup)
                .map_or(i64::from(config.search_index_lag_minutes) * 60, |v| {
                    v as i64
                }),
            child_404_pause: millis(&settings::CHILD_404_PAUSE_MS),
            scroll_busy_wait: millis(&settings::SCROLL_BUSY_WAIT_MS),
            scroll_busy_max: millis(&settings::SCROLL_BUSY_MAX_MS),
            scroll_max_restarts: 5,
            serial_pages: settings::SERIAL_PAGES.value(lookup),
            pages_per_partition: settings::PAGES_PER_PARTITION.value(lookup),
            progress_every: secs(&settings::PROGRESS_SECS),
            report_window_days: settings::REPORT_WINDOW_DAYS.value(lookup) as u32,
            report_retention_days: settings::REPORT_RETENTION_DAYS.value(lookup) as u32,
            report_poll_first: millis(&settings::REPORT_POLL_MS),
            report_poll_max: millis(&settings::REPORT_POLL_MAX_MS),
            report_job_max_wait: secs(&settings::REPORT_JOB_MAX_SECS),
        }
    }
}

/// What every group of one read shares.
pub struct Ctx {
    pub client: Client,
    pub config: Config,
    pub settings: ReadSettings,
    /// The sync's start, epoch seconds.
    pub now: i64,
    pub output: Output,
    /// Streams started and not yet ended, for progress logs and for marking them
    /// INCOMPLETE if the sync stops.
    running: Mutex<Vec<Running>>,
    /// Whether the clock's offset has been logged.
    clock_noted: std::sync::Once,
    /// The sync's start on Intercom's clock, fixed at the first position that needed
    /// it (see [`Ctx::start_on_intercom_clock`]).
    clock_start: std::sync::OnceLock<i64>,
    /// The workspace's pending reporting export jobs, across the sync's report streams
    /// ([`reports::PENDING_JOBS`]).
    pub report_jobs: tokio::sync::Semaphore,
}

struct Running {
    stream: &'static str,
    started: Instant,
    records: Arc<Counter>,
}

impl Ctx {
    pub fn new(
        client: Client,
        config: Config,
        settings: ReadSettings,
        now: i64,
        output: Output,
    ) -> Ctx {
        Ctx {
            client,
            config,
            settings,
            now,
            output,
            running: Mutex::new(Vec::new()),
            clock_noted: std::sync::Once::new(),
            clock_start: std::sync::OnceLock::new(),
            report_jobs: tokio::sync::Semaphore::new(reports::PENDING_JOBS),
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, Vec<Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sync's start on Intercom's clock, as far as this machine can tell: the
    /// timestamps Intercom writes during the sync are no earlier. Saved positions never
    /// pass it, so a record updated during the read is read by the next sync even when
    /// Intercom's clock is behind this machine's. Measured from the `Date` of Intercom's
    /// answers ([`Client::clock_offset_ms`], a lower bound of the offset); with no
    /// `Date` seen, [`CLOCK_MARGIN_SECS`] before this machine's start. Never later than
    /// this machine's start. Fixed once measured, so that the estimate tightening over
    /// the sync (a second more of offset) doesn't move positions already settled.
    pub fn start_on_intercom_clock(&self) -> i64 {
        if let Some(start) = self.clock_start.get() {
            return *start;
        }
        let Some(offset_ms) = self.client.clock_offset_ms() else {
            self.clock_noted.call_once(|| {
                tracing::warn!(
                    "Intercom's answers carry no `Date` header, so its clock can't be compared with this machine's; saved positions stay {CLOCK_MARGIN_SECS} s behind the sync's start"
                )
            });
            return self.now.saturating_sub(CLOCK_MARGIN_SECS);
        };
        let offset = offset_ms.div_euclid(1000).min(0);
        if offset <= -CLOCK_NOTE_SECS {
            self.clock_noted.call_once(|| {
                tracing::warn!(
                    "Intercom's clock is {} s behind this machine's (from the `Date` of its answers): saved positions stay at Intercom's time of the sync's start, so records updated during the sync are read by the next one",
                    -offset
                )
            });
        }
        *self
            .clock_start
            .get_or_init(|| self.now.saturating_add(offset))
    }
}

/// Keep in `highest` the highest value it has been given: `value`, if it is the first or
/// higher. The one form of the read's "keep the max" (cursors seen, positions reached).
pub(crate) fn keep_max(highest: &mut Option<i64>, value: i64) {
    *highest = Some(highest.map_or(value, |h| h.max(value)));
}

/// Keep in `lowest` the lowest value it has been given (the bounds' counterpart of
/// [`keep_max`]).
pub(crate) fn keep_min(lowest: &mut Option<i64>, value: i64) {
    *lowest = Some(lowest.map_or(value, |l| l.min(value)));
}

/// With no `Date` from Intercom, positions stay this far behind the sync's start.
pub const CLOCK_MARGIN_SECS: i64 = 600;

/// A clock offset worth a log line.
const CLOCK_NOTE_SECS: i64 = 5;

/// Read every group; return how many streams failed (each already reported). An error
/// that dooms the sync is returned after every group has stopped and every stream it
/// cut short is marked INCOMPLETE.
pub async fn run(
    ctx: Arc<Ctx>,
    groups: Vec<Group>,
    reports: Vec<reports::ReportStream>,
) -> Result<usize> {
    let permits = Arc::new(tokio::sync::Semaphore::new(ctx.settings.max_groups.max(1)));
    let mut tasks = JoinSet::new();
    for g in groups {
        let ctx = ctx.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let stream = g.consumers[0].def.name;
            run_group(ctx, g)
                .await
                .map(|f| f.failed.len())
                .map_err(|e| (stream, e))
        });
    }
    for r in reports {
        let ctx = ctx.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let stream = r.name;
            reports::run(ctx, r).await.map_err(|e| (stream, e))
        });
    }
    let ticker = tokio::spawn(log_progress(ctx.clone()));
    let mut failed = 0;
    let mut fatal: Option<(&'static str, Error)> = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(n)) => failed += n,
            Ok(Err(e)) => {
                if fatal.is_none() {
                    tasks.abort_all();
                    fatal = Some(e);
                }
            }
            // Aborted after a fatal error; a panic has already been reported by the hook.
            Err(_) => {}
        }
    }
    ticker.abort();
    tracing::info!("{}", pace_line(&ctx.client));
    let Some((stream, e)) = fatal else {
        return Ok(failed);
    };
    if matches!(e, Error::BrokenPipe | Error::Output(_)) {
        return Err(e);
    }
    // Every stream cut short is INCOMPLETE; the one that hit the error says why, once.
    let cut: Vec<&'static str> = ctx.running().iter().map(|r| r.stream).collect();
    for s in cut.iter().filter(|s| **s != stream) {
        ctx.output
            .emit(&Message::stream_status(s, StreamStatus::Incomplete))?;
    }
    report_stream_failure(&ctx.output, stream, &e)?;
    tracing::error!("stopped the sync: every other stream would fail the same way");
    Ok(failed + cut.len().max(1))
}

/// Read one group from its root source to its streams' final states.
async fn run_group(ctx: Arc<Ctx>, group: Group) -> Result<Finished> {
    for c in &group.consumers {
        let name = c.def.name;
        ctx.output
            .emit(&Message::stream_status(name, StreamStatus::Started))?;
        // RUNNING before the first request, so an empty stream shows the full sequence.
        ctx.output
            .emit(&Message::stream_status(name, StreamStatus::Running))?;
        log_resume(&ctx, c);
    }
    let run = GroupRun::new(ctx.clone(), group);
    {
        let shared = run.lock();
        let mut running = ctx.running();
        for s in &shared.sinks {
            running.push(Running {
                stream: s.consumer.def.name,
                started: Instant::now(),
                records: s.emitter.counter(),
            });
        }
    }
    let result = match run.group.source {
        Source::Pages(list) => endpoints::read(&run, list).await,
        Source::Search(search) => search::read(&run, search).await,
        Source::Scroll => scroll::read(&run).await,
        Source::Windows(w) => windows::read(&run, w).await,
    };
    if let Err(e) = result {
        run.fail_all(e)?;
    }
    let names = run.group.names();
    let finished = run.finish()?;
    ctx.running().retain(|r| !names.contains(&r.stream));
    Ok(finished)
}

fn log_resume(ctx: &Ctx, c: &plan::Consumer) {
    let name = c.def.name;
    let Some(saved) = c.saved else { return };
    let key = c.def.state_key().unwrap_or("cursor");
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

/// Every `progress_every`, one LOG line per running stream: records, records per
/// second, requests, and time spent waiting on the rate limit.
async fn log_progress(ctx: Arc<Ctx>) {
    let mut tick = tokio::time::interval(ctx.settings.progress_every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let lines: Vec<String> = ctx
            .running()
            .iter()
            .map(|r| {
                let secs = r.started.elapsed().as_secs_f64().max(0.001);
                let records = r.records.get();
                let stats = ctx.client.stats(r.stream);
                format!(
                    "stream {}: {records} records in {secs:.0} s ({:.0}/s), {} requests, {:.1} s waiting on rate limits",
                    r.stream,
                    records as f64 / secs,
                    stats.requests.load(Ordering::Relaxed),
                    stats.rate_limited_ms.load(Ordering::Relaxed) as f64 / 1000.0
                )
            })
            .collect();
        if !lines.is_empty() {
            tracing::info!("{}", pace_line(&ctx.client));
        }
        for l in lines {
            tracing::info!("{l}");
        }
    }
}

/// The rate budget and the requests in flight, as learned so far, in words.
pub fn pace_line(client: &Client) -> String {
    let (budget, (target, latency), cap) = client.pace();
    let window = budget.window.as_secs_f64();
    let limit = match budget.limit {
        Some(l) => format!(
            "Intercom's limit {l} requests per {window:.0}-second window ({:.0} a minute)",
            f64::from(l) * 60.0 / window.max(0.001)
        ),
        None => "no limit reported by Intercom yet".to_string(),
    };
    format!(
        "rate budget: {limit}, spending up to {} a window; {target} requests in flight (of at most {cap}) for answers of {:.0} ms",
        budget.allowance,
        latency.as_secs_f64() * 1000.0
    )
}

/// INCOMPLETE and one ERROR trace naming the stream.
pub fn report_stream_failure(output: &Output, stream: &str, e: &Error) -> Result<()> {
    output.emit(&Message::stream_status(stream, StreamStatus::Incomplete))?;
    output.emit(&Message::error_trace(ErrorTrace {
        message: format!("Stream `{stream}` failed: {e}"),
        internal_message: Some(format!("{e:?}")),
        failure_type: e.failure_type(),
        stream_descriptor: Some(StreamDescriptor::new(stream)),
    }))
}
