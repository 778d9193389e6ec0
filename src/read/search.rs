//! Search roots ([`Source::Search`](crate::streams::Source::Search)): contacts,
//! conversations, tickets, sorted by `updated_at` ascending.
//!
//! A small search is one chain of pages. A large one (its first page is full, links
//! to a next page, and its `total_count` says more than
//! [`ReadSettings::serial_pages`](super::ReadSettings) pages) is split into
//! `updated_at` ranges read concurrently; a range whose own first page shows it is
//! still too big (the same three signs) is split again (its first page is dropped; its
//! halves read it again). The first page of the whole search is dropped too: small
//! workspaces pay nothing, large ones one request per range. Splitting is bounded: a
//! search has at most [`max_ranges`] ranges, and past that a range is walked whole, so
//! a `total_count` that does not shrink with its range (a proxy reporting the
//! unfiltered total) costs a bounded number of requests.
//!
//! Every range is closed: the last one ends at the sync's start. Records updated
//! during the read are left to the next sync (the saved position never passes the
//! sync's start), so the records a range holds can only leave it while it is walked,
//! never join it, and its walk can be checked against its count
//! ([`crate::walk`]).
//!
//! Ranges and Intercom's filters:
//! - conversations and tickets compare to the second, and `>`/`<` are documented as
//!   "greater (or equal)"/"lower (or equal)", so a range `[a, b)` asks `> a − 1` and
//!   `< b` and drops what falls outside client-side;
//! - contact search matches whole days in the workspace's time zone (`>` from the
//!   next day, `<` before the day). Ranges are whole days: UTC day `d` stands for the
//!   workspace day that contains `d` at 18:00 UTC (the hour at which no time zone's
//!   daylight-saving change moves a date), so consecutive ranges are consecutive
//!   workspace days, with no gap or overlap, whatever the time zone. A range of days
//!   `[d1, d2)` asks `> anchor(d1 − 1)` and `< anchor(d2)`; the first range asks
//!   `> lower − 1 day` (every record of the lower bound's day and after).
//!
//! The position (see [`super::watermark`]) is the end of the finished ranges from the
//! start: a range counts once its walk has ended and added up.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::cut::{self, Heard, Live, Shape, Teller};
use super::group::{in_range, GroupRun};
use super::part::{Part, PER_PAGE};
use super::{keep_max, keep_min};
use crate::error::Result;
use crate::http::page::Page;
use crate::http::ApiRequest;
use crate::streams::Search;
use crate::walk::{Distinct, Pages, Paging};

/// `parts` ranges covering `[lower, now]` evenly (day-aligned for day-granular searches).
#[cfg(test)]
pub fn partition(lower: i64, now: i64, parts: u64, days: bool) -> Vec<Part> {
    partition_skewed(lower, now, parts, days, 1.0)
}

/// `parts` ranges covering `[lower, now]` that hold about as many records each if the
/// records' `updated_at` follow `F(t) = x^k`, `x` the share of the span up to `t`
/// (`k` = 1: evenly; 2: twice as dense at the end as at the middle, as when records are
/// updated at a random time after their creation). Ranges stay at least one unit wide.
pub fn partition_skewed(lower: i64, now: i64, parts: u64, days: bool, k: f64) -> Vec<Part> {
    let whole = Part::first(lower, now, days);
    let (start, end) = (whole.from, whole.to);
    let span = end.saturating_sub(start).max(1);
    let n = parts.clamp(1, span as u64);
    let k = if k.is_finite() {
        k.clamp(0.25, 8.0)
    } else {
        1.0
    };
    let mut bounds: Vec<i64> = (0..n)
        .map(|i| {
            let x = (i as f64 / n as f64).powf(1.0 / k);
            start.saturating_add((x * span as f64) as i64)
        })
        .collect();
    // Strictly increasing, and the last range ends before `end`.
    for i in 1..bounds.len() {
        bounds[i] = bounds[i].max(bounds[i - 1] + 1);
    }
    bounds.retain(|b| *b < end);
    let count = bounds.len();
    (0..count)
        .map(|i| Part {
            from: bounds[i],
            to: bounds.get(i + 1).copied().unwrap_or(end),
            first_lower: (i == 0).then_some(lower),
            days,
        })
        .collect()
}

/// The `k` of [`partition_skewed`] that puts a search's first page where it is: its
/// `per_page` oldest records of `total` end at `oldest_end`, so `F(oldest_end)` is
/// `per_page / total`. 1 (even) when the page says too little.
pub fn skew_of(lower: i64, now: i64, oldest_end: Option<i64>, total: u64, per_page: u64) -> f64 {
    let (Some(t), true) = (oldest_end, total > 2 * per_page) else {
        return 1.0;
    };
    let x = (t.saturating_sub(lower)) as f64 / (now.saturating_sub(lower)).max(1) as f64;
    let share = per_page as f64 / total as f64;
    if !(x > 0.0 && x < 1.0) {
        return 1.0;
    }
    let k = share.ln() / x.ln();
    if k.is_finite() {
        k.clamp(0.25, 8.0)
    } else {
        1.0
    }
}

/// The search request for a range, with the filter pushed to Intercom if any.
fn request(
    search: &Search,
    part: &Part,
    filter: Option<(&str, &str)>,
    stream: &'static str,
) -> ApiRequest {
    let mut conditions = vec![
        json!({"field": "updated_at", "operator": ">", "value": part.gt()}),
        json!({"field": "updated_at", "operator": "<", "value": part.lt()}),
    ];
    if let Some((field, value)) = filter {
        conditions.insert(0, json!({"field": field, "operator": "=", "value": value}));
    }
    let query = json!({"operator": "AND", "value": Value::Array(conditions)});
    let body = json!({"query": query, "sort": {"field": "updated_at", "order": "ascending"}});
    ApiRequest::post(search.path, body).for_stream(stream)
}

fn pages_for(run: &GroupRun, search: &Search, part: &Part) -> Pages {
    let req = request(
        search,
        part,
        run.group.pushed_filter(),
        run.request_stream(),
    );
    Pages::new(
        run.ctx.client.clone(),
        req,
        Paging::SearchCursor { per_page: PER_PAGE },
        search.records,
        run.want(),
    )
}

/// Whether a range's first page says it is too big to walk as one: full, with a next
/// page, and a `total_count` of more than `pages` pages.
fn too_big(page: &Page, pages: u64) -> bool {
    page.len() >= PER_PAGE as usize
        && page.has_next()
        && page.total_count.map_or(0, pages_of) > pages
}

/// The most ranges one search is split into: enough to keep every request slot busy
/// several times over, few enough that a count that never shrinks can't multiply the
/// requests without bound.
pub fn max_ranges(max_in_flight: usize) -> usize {
    max_in_flight.max(2) * 4
}

fn pages_of(total: u64) -> u64 {
    total.div_ceil(u64::from(PER_PAGE))
}

pub async fn read(run: &GroupRun, search: &Search) -> Result<()> {
    let ctx = &run.ctx;
    let lower = run.group.read_lower().unwrap_or(ctx.config.start_date);
    let whole = Part::first(lower, ctx.now, search.day_granular);
    let mut pages = pages_for(run, search, &whole);
    let Some(first) = pages.next_raw().await? else {
        return Ok(());
    };
    if run.group.pushed_filter().is_none() {
        if let Some(total) = first.total_count {
            run.estimate(total)?;
        }
    }
    let total_pages = first.total_count.map_or(0, pages_of);
    let settings = &ctx.settings;
    let want = total_pages / settings.pages_per_partition.max(1);
    let oldest_end = first.records().filter_map(|(_, k)| k.cursor).max();
    let shape = Shape {
        lower,
        now: ctx.now,
        k: skew_of(
            lower,
            ctx.now,
            oldest_end,
            first.total_count.unwrap_or(0),
            u64::from(PER_PAGE),
        ),
    };
    let parts = if too_big(&first, settings.serial_pages) && want >= 2 {
        // Each range ends in a part-filled page, and each split drops a first page: as
        // few ranges as keep the rate budget busy at the answer time measured so far
        // (Little's law), and no more than are read at once. A range found too big is
        // split (see `walk`), and a running range with many pages left is cut when a
        // walker is free (see `cut`). Ranges of about as many records each, as far as
        // the first page tells how the records spread over time (most are recently
        // updated, as a rule).
        let count = want.min(ranges_needed(run));
        partition_skewed(lower, ctx.now, count.max(2), search.day_granular, shape.k)
    } else {
        Vec::new()
    };
    if parts.len() < 2 {
        run.with_watermark(|w| w.add(0, Some(whole.safe_end())));
        let live = Live::new(0, whole, false, Arc::default());
        walk(run, search, live, Some((pages, first)), None, None).await?;
        return Ok(());
    }
    tracing::info!(
        "stream {}: {} records in about {total_pages} pages; reading {} updated_at ranges concurrently",
        run.request_stream(),
        first.total_count.unwrap_or(0),
        parts.len()
    );
    // A range is split when its first page shows more than twice its fair share.
    let fair = total_pages
        .div_ceil(parts.len().max(1) as u64)
        .max(settings.pages_per_partition);
    read_parts(run, search, parts, fair, shape).await
}

/// The ranges that keep the rate budget busy: one and a half times its requests per
/// second times the answer time (a window is spent in two thirds of it), plus two,
/// within the ranges read at once ([`walkers`]).
fn ranges_needed(run: &GroupRun) -> u64 {
    let (per_second, latency) = pace(run);
    let needed = (1.5 * per_second * latency).ceil();
    let needed = if needed.is_finite() {
        needed as u64
    } else {
        u64::MAX
    };
    needed
        .saturating_add(2)
        .clamp(2, walkers(run).max(2) as u64)
}

/// The rate budget's requests per second, and the answer time measured so far.
fn pace(run: &GroupRun) -> (f64, f64) {
    let (budget, (_, latency), _) = run.ctx.client.pace();
    let per_second = f64::from(budget.allowance) / budget.window.as_secs_f64().max(0.001);
    (per_second, latency.as_secs_f64())
}

/// Ranges read at once: one per request in flight (as many as the answers so far say
/// keep the rate budget busy, see [`crate::http::slots`]), or, when each page fans out
/// to child requests (which take the slots), a few ranges with many children each.
fn walkers(run: &GroupRun) -> usize {
    let (_, (target, _), _) = run.ctx.client.pace();
    let concurrency = target.clamp(1, run.ctx.settings.max_in_flight.max(1));
    if run.wants(|s| s.child().is_some()) {
        (concurrency / 16).max(1)
    } else {
        concurrency
    }
}

/// A range waiting for a walker: its unit, whether its first page may split it, and
/// whether it may be cut while walked.
struct Queued {
    part: Part,
    unit: i64,
    may_split: bool,
    cuttable: bool,
}

/// Read ranges concurrently, splitting those that turn out too big and cutting running
/// ones when walkers are free, up to [`max_ranges`] in all.
async fn read_parts(
    run: &GroupRun,
    search: &Search,
    parts: Vec<Part>,
    fair: u64,
    shape: Shape,
) -> Result<()> {
    let mut next_unit: i64 = 0;
    let mut queue: VecDeque<Queued> = VecDeque::new();
    run.with_watermark(|w| {
        for part in parts {
            w.add(next_unit, Some(part.safe_end()));
            queue.push_back(Queued {
                part,
                unit: next_unit,
                may_split: true,
                cuttable: true,
            });
            next_unit += 1;
        }
    });
    let cap = max_ranges(run.ctx.settings.max_in_flight) as i64;
    let mut lives: Vec<Arc<Live>> = Vec::new();
    let wake = Arc::new(Notify::new());
    let mut cuts = 0u64;
    let mut running = FuturesUnordered::new();
    loop {
        // The requests in flight are sized as answers come: so are the ranges read.
        while running.len() < walkers(run) {
            if let Some(q) = queue.pop_front() {
                let live = Live::new(q.unit, q.part, q.cuttable, Arc::clone(&wake));
                lives.push(Arc::clone(&live));
                let split = q.may_split.then_some(fair);
                running.push(walk(run, search, live, None, split, None));
                continue;
            }
            // Nothing waits: cut the running range with the most pages left, if worth it.
            if next_unit >= cap {
                break;
            }
            // A chain takes its answers' time without queueing: the quickest answer.
            let (per_second, _) = pace(run);
            let latency = run.ctx.client.quickest_answer().as_secs_f64();
            let Some((victim, right, tell)) = cut::choose(&lives, shape, latency, per_second)
            else {
                break;
            };
            let unit = next_unit;
            next_unit += 1;
            cuts += 1;
            let left_end = Part {
                to: right.from,
                ..victim.part
            }
            .safe_end();
            run.with_watermark(|w| w.split(victim.unit, unit, left_end));
            tracing::debug!(
                "stream {}: cut range {} at {}: a walker reads the rest",
                run.request_stream(),
                victim.unit,
                right.from
            );
            let live = Live::new(unit, right, true, Arc::clone(&wake));
            lives.push(Arc::clone(&live));
            running.push(walk(run, search, live, None, Some(fair), Some(tell)));
        }
        // With walkers free, a page read may make a range worth cutting: wake for it.
        let free = running.len() < walkers(run) && next_unit < cap;
        let ended = if free {
            tokio::select! {
                ended = running.next() => ended,
                () = wake.notified() => continue,
            }
        } else {
            running.next().await
        };
        match ended {
            Some(Ok((unit, walked))) => {
                lives.retain(|l| l.unit != unit);
                match walked {
                    Walked::Done => {}
                    Walked::Split { whole, left, right } => {
                        if next_unit >= cap {
                            // Enough ranges: this one is walked whole.
                            queue.push_front(Queued {
                                part: whole,
                                unit,
                                may_split: false,
                                cuttable: true,
                            });
                            continue;
                        }
                        let right_unit = next_unit;
                        next_unit += 1;
                        run.with_watermark(|w| w.split(unit, right_unit, left.safe_end()));
                        for (part, unit) in [(right, right_unit), (left, unit)] {
                            queue.push_front(Queued {
                                part,
                                unit,
                                may_split: true,
                                cuttable: true,
                            });
                        }
                    }
                    Walked::Again(left) => queue.push_front(Queued {
                        part: left,
                        unit,
                        may_split: false,
                        cuttable: false,
                    }),
                }
            }
            Some(Err(e)) => return Err(e),
            None => {
                if cuts > 0 {
                    tracing::debug!("stream {}: {cuts} ranges cut", run.request_stream());
                }
                return Ok(());
            }
        }
    }
}

/// How a range's walk ended.
enum Walked {
    Done,
    /// Too big: read these halves instead (or, past the cap on ranges, `whole` without
    /// splitting).
    Split {
        whole: Part,
        left: Part,
        right: Part,
    },
    /// Cut, and the left part did not add up: read it again, whole.
    Again(Part),
}

/// The `(lowest, highest)` `updated_at` of the records of `page` within `range`, and
/// how many records lie below it.
fn bounds_in(page: &Page, range: (i64, Option<i64>)) -> (Option<i64>, Option<i64>, u64) {
    let (mut lo, mut hi, mut below) = (None::<i64>, None::<i64>, 0u64);
    for (_, k) in page.records() {
        let Some(v) = k.cursor else { continue };
        if v < range.0 {
            below += 1;
        } else if range.1.map_or(true, |b| v < b) {
            keep_min(&mut lo, v);
            keep_max(&mut hi, v);
        }
    }
    (lo, hi, below)
}

/// Walk one range page by page: hand each page to the group, fetch its children, and
/// checkpoint. With `split_over` (a range's fair share of pages), a range whose first
/// page shows it is too big (see [`too_big`]: twice that) is split instead. With
/// `tell`, the range is the right part of a cut ([`cut`]): its first page is told to the
/// left part's walk. Returns the range's unit with how the walk ended.
async fn walk(
    run: &GroupRun,
    search: &Search,
    live: Arc<Live>,
    prefetched: Option<(Pages, Page)>,
    split_over: Option<u64>,
    tell: Option<Teller>,
) -> Result<(i64, Walked)> {
    let (part, unit) = (live.part, live.unit);
    let (mut pages, page) = match prefetched {
        Some(p) => p,
        None => {
            let mut pages = pages_for(run, search, &part);
            match pages.next_raw().await? {
                Some(first) => (pages, first),
                None => {
                    if let Some(tell) = tell {
                        let _ = tell.send(Some(Heard {
                            first: None,
                            count: Some(0),
                        }));
                    }
                    live.end();
                    run.unit_done(unit);
                    return Ok((unit, Walked::Done));
                }
            }
        }
    };
    let (oldest, _, below) = bounds_in(&page, part.range());
    let count = page.total_count.map(|t| t.saturating_sub(below));
    if let Some(tell) = tell {
        let _ = tell.send(Some(Heard {
            first: oldest,
            count,
        }));
    }
    // Splitting drops this first page and costs an answer's time before the halves
    // start; where answers are slow enough for a cut to pay, the range is cut while it
    // is walked instead (when a walker is free), which wastes neither.
    let cut_later = live.cuttable && {
        let (per_second, _) = pace(run);
        let quickest = run.ctx.client.quickest_answer().as_secs_f64();
        let pages = page.total_count.map_or(0, pages_of);
        cut::worth_cutting(pages.saturating_sub(1), quickest, per_second)
    };
    if let (Some(fair), false) = (split_over, cut_later) {
        if too_big(&page, 2 * fair.max(1)) {
            if let Some((left, right)) = part.split() {
                live.end();
                return Ok((
                    unit,
                    Walked::Split {
                        whole: part,
                        left,
                        right,
                    },
                ));
            }
        }
    }
    live.started(count);
    // The distinct records read in the range, for a cut's sum.
    let mut read = Distinct::default();
    let mut next = Some(page);
    while let Some(page) = next.take() {
        let range = part.range();
        let (_, max, _) = bounds_in(&page, range);
        // A cut bounds what this walk hands on by the right part's oldest record.
        let limit = live.limit_for(max).await;
        let range = (
            range.0,
            limit.map_or(range.1, |l| Some(range.1.map_or(l, |e| e.min(l)))),
        );
        for (_, k) in page.records() {
            if in_range(k.cursor, Some(range)) {
                read.add(k);
            }
        }
        let reached = limit.is_some_and(|l| {
            page.records()
                .any(|(_, k)| k.cursor.is_some_and(|v| v >= l))
        });
        // Lists the records embed only part of, read whole (most pages have none); the
        // next page is asked for meanwhile, so a page with such records costs its chain
        // no answer time (two pages of this range are in memory then).
        let todo = super::relations::needed(search.relations, &page);
        let (whole, ahead) = if todo.is_empty() || reached {
            (
                super::relations::complete(run, search.relations, todo).await?,
                None,
            )
        } else {
            let (whole, ahead) = tokio::join!(
                super::relations::complete(run, search.relations, todo),
                pages.next_raw()
            );
            (whole?, Some(ahead))
        };
        let records = page
            .records()
            .enumerate()
            .map(|(i, (r, k))| (whole.get(&i).map_or(r, String::as_str), k));
        let taken = run.take(records, Some(range))?;
        // Only one page per range in memory: this one goes before the next is asked for.
        drop(page);
        super::children::fetch(run, taken.parents).await?;
        run.page_done(unit, taken.max);
        live.page_read(taken.max);
        run.checkpoint()?;
        if !run.any_live() {
            break;
        }
        if reached {
            return cut_end(run, &live, read.count());
        }
        next = match ahead {
            Some(page) => page?,
            None => pages.next_raw().await?,
        };
    }
    live.end();
    run.unit_done(unit);
    run.checkpoint()?;
    Ok((unit, Walked::Done))
}

/// A cut walk has reached the right part: done if what it read and what the right part
/// holds make the count of its first page, else its part is read again.
fn cut_end(run: &GroupRun, live: &Live, read: u64) -> Result<(i64, Walked)> {
    live.end();
    let (kept, rest) = live.kept();
    match (live.count(), rest) {
        (Some(total), Some(rest)) if read.saturating_add(rest) >= total => {
            run.unit_done(live.unit);
            run.checkpoint()?;
            Ok((live.unit, Walked::Done))
        }
        (total, rest) => {
            tracing::info!(
                "stream {}: a cut range read {read} records and the rest holds {} of the {} its first page counted: reading the range again",
                run.request_stream(),
                rest.map_or("an uncounted number".to_string(), |r| r.to_string()),
                total.map_or("uncounted".to_string(), |t| t.to_string()),
            );
            Ok((live.unit, Walked::Again(kept)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::part::{anchor, DAY};
    use super::*;

    const T: i64 = 1_700_000_000; // 2023-11-14T22:13:20Z

    #[test]
    fn skewed_ranges_hold_about_as_many_records_each() {
        // Records updated at a random time after a creation spread evenly: F(x) = x^2.
        let k = skew_of(T, T + 1_000_000, Some(T + 38_730), 100_000, 150);
        assert!((k - 2.0).abs() < 0.05, "{k}");
        let parts = partition_skewed(T, T + 1_000_000, 4, false, k);
        let ends: Vec<i64> = parts.iter().map(|p| p.to - T).collect();
        // sqrt(1/4), sqrt(2/4), sqrt(3/4) of the span, then the end.
        for (got, want) in ends.iter().zip([500_000, 707_107, 866_025, 1_000_001]) {
            assert!((got - want).abs() < 2_000, "{ends:?}");
        }
        // Contiguous, and the first one starts at the read's lower bound.
        assert_eq!(parts[0].first_lower, Some(T));
        for w in parts.windows(2) {
            assert_eq!(w[0].to, w[1].from);
        }
        // Too little to tell, or nonsense: even.
        assert_eq!(skew_of(T, T + 1000, None, 100_000, 150), 1.0);
        assert_eq!(skew_of(T, T + 1000, Some(T + 2000), 100_000, 150), 1.0);
        assert_eq!(skew_of(T, T + 1000, Some(T + 10), 200, 150), 1.0);
        // Narrow spans keep ranges at least a unit wide.
        let parts = partition_skewed(T, T + 3, 10, false, 8.0);
        assert!(parts.iter().all(|p| p.to > p.from), "{parts:?}");
        assert_eq!(parts.last().unwrap().to, T + 4);
    }

    #[test]
    fn second_ranges_overlap_by_the_documented_ambiguity_only() {
        let parts = partition(T, T + 999, 4, false);
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0].gt(), T - 1);
        assert_eq!(parts[0].lt(), T + 250);
        assert_eq!(parts[0].range(), (T, Some(T + 250)));
        assert_eq!(parts[1].gt(), T + 249);
        // The last range ends at the sync's start: closed, like every other.
        assert_eq!(parts[3].to, T + 1000);
        assert_eq!(parts[3].lt(), T + 1000);
        assert_eq!(parts[3].safe_end(), T + 1000);
        assert_eq!(parts[0].safe_end(), T + 250);
        for w in parts.windows(2) {
            assert_eq!(w[0].to, w[1].from, "contiguous");
        }
    }

    #[test]
    fn day_ranges_are_whole_days_anchored_at_18_utc() {
        let lower = T; // day 19675, 22:13 UTC
        let parts = partition(lower, lower + 10 * DAY, 5, true);
        let day = lower.div_euclid(DAY);
        assert_eq!(parts[0].from, day);
        assert_eq!(
            parts[0].gt(),
            lower - DAY,
            "the first range starts a day early"
        );
        assert_eq!(parts[1].gt(), anchor(parts[1].from - 1));
        assert_eq!(parts[0].lt(), anchor(parts[1].from));
        assert_eq!(parts[0].safe_end(), anchor(parts[1].from - 1));
        assert_eq!(
            parts[4].to,
            day + 12,
            "the last range ends after the sync's day"
        );
        // A workspace day in any time zone: the day holding anchor(d).
        for offset_h in [-12i64, -5, 0, 1, 5, 6, 9, 12, 14] {
            let local_day = |t: i64| (t + offset_h * 3600).div_euclid(DAY);
            let local_start = |d: i64| d * DAY - offset_h * 3600;
            // Each range covers local days [L(from), L(to)): contiguous and disjoint.
            for w in parts.windows(2) {
                let end_of_left = local_day(w[0].lt());
                let start_of_right = local_day(w[1].gt()) + 1;
                assert_eq!(end_of_left, start_of_right, "offset {offset_h}");
            }
            // The first range includes the lower bound's local day.
            assert!(
                local_day(parts[0].gt()) < local_day(lower),
                "offset {offset_h}"
            );
            // Everything below a safe end belongs to finished ranges.
            let right_start = local_day(parts[1].gt()) + 1;
            assert!(local_day(parts[0].safe_end() - 1) < right_start);
            // The client-side bounds hold every record Intercom's day filter gives.
            for p in &parts[1..] {
                let (lo, hi) = p.range();
                let first_day = local_day(p.gt()) + 1;
                let end_day = local_day(p.lt());
                assert!(lo <= local_start(first_day), "offset {offset_h}");
                assert!(local_start(end_day) <= hi.unwrap(), "offset {offset_h}");
            }
        }
    }

    #[test]
    fn splits_halve_and_stop_at_the_unit() {
        let p = Part::first(T, T + 99, false);
        let (a, b) = p.split().unwrap();
        assert_eq!((a.from, a.to, b.from, b.to), (T, T + 50, T + 50, T + 100));
        assert_eq!(a.first_lower, Some(T));
        assert_eq!(b.first_lower, None);
        let one = Part {
            from: T,
            to: T + 1,
            first_lower: None,
            days: false,
        };
        assert!(one.split().is_none());
        let d = Part::first(T, T + 3 * DAY, true);
        let (a, b) = d.split().unwrap();
        assert_eq!(a.to, b.from);
        assert_eq!(a.gt(), T - DAY);
        assert_eq!(b.gt(), anchor(b.from - 1));
        assert_eq!(max_ranges(16), 64);
        assert_eq!(max_ranges(1), 8);
    }

    #[test]
    fn bodies_push_filters_and_bounds() {
        let search = Search {
            path: "/contacts/search",
            records: &["data"],
            day_granular: true,
            index_lag: true,
            relations: &[],
        };
        let p = Part::first(T, T + 10, true);
        let b = request(&search, &p, Some(("role", "lead")), "leads")
            .body
            .unwrap();
        let day = T.div_euclid(DAY);
        assert_eq!(
            b["query"],
            json!({"operator": "AND", "value": [
                {"field": "role", "operator": "=", "value": "lead"},
                {"field": "updated_at", "operator": ">", "value": T - DAY},
                {"field": "updated_at", "operator": "<", "value": anchor(day + 2)},
            ]})
        );
        assert_eq!(
            b["sort"],
            json!({"field": "updated_at", "order": "ascending"})
        );
        let b = request(&search, &p, None, "contacts").body.unwrap();
        assert_eq!(
            b["query"],
            json!({"operator": "AND", "value": [
                {"field": "updated_at", "operator": ">", "value": T - DAY},
                {"field": "updated_at", "operator": "<", "value": anchor(day + 2)},
            ]})
        );
    }

    #[test]
    fn the_last_day_range_holds_the_sync_start_in_every_zone() {
        for now in [T, T + 3 * 3600, T + 80_000, T - 50_000] {
            let p = Part::first(now - 30 * DAY, now, true);
            for offset_h in [-12i64, -6, 0, 5, 6, 9, 14] {
                let local_day = |t: i64| (t + offset_h * 3600).div_euclid(DAY);
                // `<` matches before the start of the workspace day holding lt().
                assert!(local_day(now) < local_day(p.lt()), "{now} {offset_h}");
            }
        }
    }
}
