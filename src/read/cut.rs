//! Cutting a running search range in two (work stealing), so that the end of a
//! partitioned search is not one long chain of pages read while the other request
//! slots stand idle.
//!
//! Ranges are sized from what the search's first page tells of how records spread over
//! time, and a range found too big at its first page is split; a range that holds
//! twice the pages of another is still read as one chain, one answer time per page.
//! When a walker is free and no range waits, the running range with the most pages
//! left (see [`worth_cutting`]) is cut at a point [`cut_point`] puts between its last
//! record read and its end: another walker reads the right part `[d, end)` as a range
//! of its own, and the running walk (the left part) stops where the right part begins.
//!
//! Where the right part begins is told by its first page, not computed: its first
//! record `r0` is the oldest record of the right part (both walks are sorted by
//! `updated_at`), so the left walk hands on only records before `r0` and stops at the
//! first page that reaches it. This holds for day-granular contact search too, whose
//! day boundaries depend on the workspace's time zone: until the right part's first
//! page has come, the left walk holds any page that may reach the right part (a record
//! at or after the earliest instant its first day can start).
//!
//! The left walk then adds up like any other ([`crate::walk`]): the distinct
//! records it read before `r0`, plus the records the right part's first page counts,
//! must make the count its own first page reported. Records that left the range during
//! the walk (an update moved them past the sync's start) can make it short: the left
//! part is then read again whole, as a range of its own that is not cut again (its
//! records are emitted again: at least once, never lost). A right part that turns out
//! empty leaves the left walk to read on to its own end, checked as before.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{watch, Notify};

use super::keep_max;
use super::part::{Part, DAY, PER_PAGE, ZONE_MARGIN};

/// What the right part's first page said: the oldest record's `updated_at` (`None`:
/// the part is empty), and its records (`None`: the answer did not count them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heard {
    pub first: Option<i64>,
    pub count: Option<u64>,
}

/// The sender the right part's walk tells its first page through.
pub type Teller = watch::Sender<Option<Heard>>;

/// A cut of a running range.
#[derive(Debug)]
pub struct Cut {
    /// The part the running walk keeps, and the part another walker reads.
    pub left: Part,
    pub right: Part,
    heard: watch::Receiver<Option<Heard>>,
}

impl Cut {
    /// What the right part's first page said, if it has come.
    pub fn heard(&self) -> Option<Heard> {
        *self.heard.borrow()
    }
}

/// A running range, as its walk and the scheduler share it.
#[derive(Debug)]
pub struct Live {
    pub unit: i64,
    pub part: Part,
    /// Whether it may be cut (a part read again after a cut that did not add up is not).
    pub cuttable: bool,
    state: Mutex<State>,
    /// Told when a page has been read: the scheduler may cut now.
    wake: Arc<Notify>,
}

#[derive(Debug, Default)]
struct State {
    /// From the range's first page: its records (the answer's count less the records
    /// below the range that the query's overlap let in).
    count: Option<u64>,
    pages_read: u64,
    /// The highest `updated_at` handed on.
    last: Option<i64>,
    /// The cuts made, in order: each one's left part ends where its right part begins,
    /// left of the one before.
    cuts: Vec<Cut>,
    ended: bool,
}

impl State {
    /// The part the walk keeps: up to the last cut.
    fn kept(&self, whole: Part) -> Part {
        self.cuts.last().map_or(whole, |c| c.left)
    }

    /// The records the cuts' right parts hold (`None` if one of them has not said, or
    /// did not count).
    fn rest(&self) -> Option<u64> {
        self.cuts
            .iter()
            .try_fold(0u64, |sum, c| Some(sum.saturating_add(c.heard()?.count?)))
    }
}

impl Live {
    pub fn new(unit: i64, part: Part, cuttable: bool, wake: Arc<Notify>) -> Arc<Live> {
        Arc::new(Live {
            unit,
            part,
            cuttable,
            state: Mutex::new(State::default()),
            wake,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The range's first page has been read (and the range is walked, not split).
    pub fn started(&self, count: Option<u64>) {
        self.lock().count = count;
    }

    /// A page has been handed on, up to `updated_at` `max`.
    pub fn page_read(&self, max: Option<i64>) {
        let mut s = self.lock();
        s.pages_read += 1;
        if let Some(v) = max {
            keep_max(&mut s.last, v);
        }
        drop(s);
        if self.cuttable {
            self.wake.notify_one();
        }
    }

    /// The walk has ended: no more cuts.
    pub fn end(&self) {
        self.lock().ended = true;
    }

    /// The records the first page counted.
    pub fn count(&self) -> Option<u64> {
        self.lock().count
    }

    /// The part the walk keeps after its cuts, and the records the cuts' right parts
    /// hold (`None` if one of them has not said, or did not count).
    pub fn kept(&self) -> (Part, Option<u64>) {
        let s = self.lock();
        (s.kept(self.part), s.rest())
    }

    /// The `updated_at` before which a page whose highest is `max` may be handed on in
    /// full (`None`: no bound): the oldest record of the nearest cut's right part that
    /// has one. Waits for a cut's right part's first page when the page may reach that
    /// part and it has not come yet.
    pub async fn limit_for(&self, max: Option<i64>) -> Option<i64> {
        loop {
            let mut heard = {
                let s = self.lock();
                let mut limit = None;
                let mut waiting = None;
                // Nearest first: the last cut is the leftmost.
                for cut in s.cuts.iter().rev() {
                    match cut.heard() {
                        Some(h) => {
                            if let Some(first) = h.first {
                                limit = Some(first);
                                break;
                            }
                        }
                        None => {
                            if max.map_or(true, |m| m >= cut.right.range().0) {
                                waiting = Some(cut.heard.clone());
                                break;
                            }
                        }
                    }
                }
                match waiting {
                    Some(w) => w,
                    None => return limit,
                }
            };
            // The right part's walk ending without its first page means it failed, and
            // so does the read: until then, read on (nothing is lost).
            if heard.wait_for(Option::is_some).await.is_err() {
                return None;
            }
        }
    }

    /// Pages left, and the last record handed on, if the range may be cut now (once
    /// every earlier cut's right part has said what it holds).
    fn pages_left(&self) -> Option<(u64, i64)> {
        let s = self.lock();
        if !self.cuttable || s.ended {
            return None;
        }
        let rest = s.rest()?;
        let mine = s.count?.saturating_sub(rest);
        let left = mine
            .div_ceil(u64::from(PER_PAGE))
            .saturating_sub(s.pages_read);
        Some((left, s.last?))
    }
}

/// How the records of a read spread over time, as its first page told
/// ([`super::search::skew_of`]): `F(t) = x^k`, `x` the share of `[lower, now]` up to `t`.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub lower: i64,
    pub now: i64,
    pub k: f64,
}

/// Whether cutting a range with `pages_left` pages is worth its cost: the cut saves
/// about half the chain's answer times, and costs about one and a half requests of the
/// budget (a page the left walk reads past the cut, and the right part's last, part
/// filled, page) and one more page in memory. Cut when the time saved is four times
/// the time those requests take of the budget, and at least 100 ms (below that, the
/// answers are quick and the read is bound by the CPU or the budget, not by the chain:
/// a cut would add requests and memory for nothing). With answers of 100 ms, a range
/// with 4 pages left is cut; with answers of 5 ms, one with 40.
pub fn worth_cutting(pages_left: u64, latency_s: f64, per_second: f64) -> bool {
    const MIN_PAGES: u64 = 4;
    const MIN_SAVED_S: f64 = 0.1;
    let positive = |x: f64| x.partial_cmp(&0.0) == Some(std::cmp::Ordering::Greater);
    if pages_left < MIN_PAGES || !positive(latency_s) || !positive(per_second) {
        return false;
    }
    let saved = pages_left as f64 * latency_s / 2.0;
    saved >= MIN_SAVED_S && saved > 4.0 * 1.5 / per_second
}

/// Where to cut `part`, whose walk has handed on records up to `last`: the point
/// (a UTC day index for day ranges, a second otherwise) that leaves about as many of
/// the remaining records on each side, by the read's [`Shape`]. `None` when the part
/// can't be cut past `last`: a day range's cut leaves the workspace day of `last`
/// (whatever the time zone) on the left.
pub fn cut_point(part: &Part, last: i64, shape: Shape) -> Option<i64> {
    let end = if part.days {
        part.to.saturating_mul(DAY)
    } else {
        part.to
    }
    .min(shape.now);
    let span = (shape.now.saturating_sub(shape.lower)).max(1) as f64;
    let k = if shape.k.is_finite() {
        shape.k.clamp(0.25, 8.0)
    } else {
        1.0
    };
    let f = |t: i64| {
        ((t.saturating_sub(shape.lower)) as f64 / span)
            .clamp(0.0, 1.0)
            .powf(k)
    };
    let target = (f(last) + f(end)) / 2.0;
    let mid = shape
        .lower
        .saturating_add((target.powf(1.0 / k) * span) as i64);
    let (lo, hi) = if part.days {
        (
            last.saturating_add(ZONE_MARGIN).div_euclid(DAY) + 1,
            part.to - 1,
        )
    } else {
        (last.saturating_add(2), part.to - 1)
    };
    let lo = lo.max(part.from + 1);
    if lo > hi {
        return None;
    }
    let at = if part.days { mid.div_euclid(DAY) } else { mid };
    Some(at.clamp(lo, hi))
}

/// Choose, among the running ranges, the one to cut: the most pages left, if worth
/// it. Returns the range, the right part, and the teller for the right part's walk.
pub fn choose(
    lives: &[Arc<Live>],
    shape: Shape,
    latency_s: f64,
    per_second: f64,
) -> Option<(Arc<Live>, Part, Teller)> {
    let mut best: Option<(&Arc<Live>, u64, i64)> = None;
    for live in lives {
        if let Some((left, last)) = live.pages_left() {
            if worth_cutting(left, latency_s, per_second) && best.map_or(true, |b| left > b.1) {
                best = Some((live, left, last));
            }
        }
    }
    let (live, _, last) = best?;
    let mut s = live.lock();
    let kept = s.kept(live.part);
    let at = cut_point(&kept, last, shape)?;
    let left = Part { to: at, ..kept };
    let right = Part {
        from: at,
        to: kept.to,
        first_lower: None,
        days: kept.days,
    };
    let (tell, heard) = watch::channel(None);
    s.cuts.push(Cut { left, right, heard });
    drop(s);
    Some((Arc::clone(live), right, tell))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000;

    fn part(from: i64, to: i64, days: bool) -> Part {
        Part {
            from,
            to,
            first_lower: None,
            days,
        }
    }

    #[test]
    fn cuts_are_worth_it_with_answer_times_not_without() {
        // 100 ms answers at 10,000 a minute: 4 pages left are worth a cut.
        assert!(worth_cutting(4, 0.1, 166.7));
        assert!(!worth_cutting(3, 0.1, 166.7));
        // 5 ms answers: a chain of 20 pages takes 100 ms; not worth a cut.
        assert!(!worth_cutting(20, 0.005, 166.7));
        assert!(worth_cutting(40, 0.005, 166.7));
        // Whatever the budget (unlimited here).
        assert!(!worth_cutting(20, 0.005, 1e9));
        // A slow budget: 1.5 requests at 1 a second are worth more than 6 pages of 1 s.
        assert!(!worth_cutting(6, 1.0, 1.0));
        assert!(worth_cutting(13, 1.0, 1.0));
        assert!(!worth_cutting(100, 0.0, 166.7));
        assert!(!worth_cutting(100, f64::NAN, 166.7));
    }

    #[test]
    fn second_cuts_halve_what_is_left() {
        let shape = Shape {
            lower: T,
            now: T + 1000,
            k: 1.0,
        };
        let p = part(T, T + 1001, false);
        assert_eq!(cut_point(&p, T + 200, shape), Some(T + 600));
        // Nothing left to cut past the last record read.
        assert_eq!(cut_point(&p, T + 999, shape), None);
        // Skewed towards the end: the cut moves right of the even half.
        let skewed = Shape { k: 2.0, ..shape };
        let at = cut_point(&p, T + 200, skewed).unwrap();
        assert!(at > T + 600 && at < T + 1000, "{at}");
    }

    #[test]
    fn day_cuts_leave_the_last_records_workspace_day_on_the_left() {
        let day0 = T.div_euclid(DAY);
        let shape = Shape {
            lower: day0 * DAY,
            now: (day0 + 100) * DAY,
            k: 1.0,
        };
        let p = part(day0, day0 + 102, true);
        // A record at 20:00 UTC of day0 + 10 is on workspace day day0 + 11 east of UTC+4.
        let last = (day0 + 10) * DAY + 20 * 3600;
        let at = cut_point(&p, last, shape).unwrap();
        assert!(at >= day0 + 12, "{at}");
        assert_eq!(at, day0 + 55);
        // Past the last day: no cut.
        let last = (day0 + 101) * DAY;
        assert_eq!(cut_point(&part(day0, day0 + 102, true), last, shape), None);
    }

    #[test]
    fn the_range_with_most_pages_left_is_cut_once() {
        let shape = Shape {
            lower: T,
            now: T + 10_000,
            k: 1.0,
        };
        let a = Live::new(0, part(T, T + 5000, false), true, Arc::default());
        let b = Live::new(1, part(T + 5000, T + 10_001, false), true, Arc::default());
        let c = Live::new(
            2,
            part(T + 10_001, T + 10_002, false),
            false,
            Arc::default(),
        );
        a.started(Some(1500));
        a.page_read(Some(T + 400));
        b.started(Some(3000));
        b.page_read(Some(T + 5100));
        c.started(Some(7500));
        c.page_read(Some(T + 10_001));
        let lives = [a.clone(), b.clone(), c];
        let (live, right, _tell) = choose(&lives, shape, 0.1, 166.7).unwrap();
        assert_eq!(live.unit, 1);
        assert_eq!(right.to, T + 10_001);
        let (kept, rest) = b.kept();
        assert_eq!((kept.from, kept.to), (T + 5000, right.from));
        assert_eq!(rest, None);
        // b is cut already, c may not be: a next.
        let (live, _, _) = choose(&lives, shape, 0.1, 166.7).unwrap();
        assert_eq!(live.unit, 0);
        assert!(choose(&lives, shape, 0.1, 166.7).is_none());
    }

    #[tokio::test]
    async fn a_left_walk_waits_for_the_right_parts_first_page_only_when_it_may_reach_it() {
        let shape = Shape {
            lower: T,
            now: T + 10_000,
            k: 1.0,
        };
        let a = Live::new(0, part(T, T + 10_001, false), true, Arc::default());
        a.started(Some(6000));
        a.page_read(Some(T + 100));
        let (_, right, tell) = choose(std::slice::from_ref(&a), shape, 0.1, 166.7).unwrap();
        // Below the right part: no bound, no wait.
        assert_eq!(a.limit_for(Some(right.from - 1)).await, None);
        // Reaching it: waits for the word.
        let waiting = tokio::spawn({
            let a = a.clone();
            async move { a.limit_for(Some(right.from + 5)).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        let _ = tell.send(Some(Heard {
            first: Some(right.from + 3),
            count: Some(10),
        }));
        assert_eq!(waiting.await.unwrap(), Some(right.from + 3));
        assert_eq!(a.limit_for(Some(T + 1)).await, Some(right.from + 3));
    }
}
