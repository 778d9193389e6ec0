//! One shared request budget for the whole process, spent as Intercom counts it: per
//! 10-second window. Every attempt (first tries and retries alike) takes a turn here
//! before it is sent, because Intercom counts every request.
//!
//! # The budget
//!
//! Intercom lets an app make `X-RateLimit-Limit` requests in each 10-second window
//! (1,667 at the default 10,000 a minute; 167 at 1,000; more for raised workspaces) and
//! says on every answer how many are left (`X-RateLimit-Remaining`) and when the window
//! resets (`X-RateLimit-Reset`). Within a window, requests may be sent as fast as
//! answers come back; smoothing them over the window would only leave the allowance
//! idle. So, per window:
//! - the **allowance** is `rate_limit_share` percent of the limit the latest answer
//!   reported (until one does: the limit `SOURCE_INTERCOM_REQUESTS_PER_MINUTE` implies,
//!   10,000 a minute), and never more than `api_rate_limit` allows (a minute's ceiling,
//!   a sixth of it per window);
//! - a request goes when fewer than the allowance were sent in the window **and** the
//!   window's `Remaining`, less our requests still on their way, stays above the
//!   **reserve**, the share left to others (`limit − allowance`). When other apps of the
//!   workspace spend the same limit, `Remaining` falls faster than our own requests
//!   explain, and the budget stops early instead of running into 429s;
//! - otherwise it waits for the window to reset, on Intercom's clock (from its `Date`
//!   headers), within the request's time budget ([`RateBudget::acquire`] says how long
//!   the wait would be when it would pass it).
//!
//! Without rate headers (a proxy that strips them) the windows are assumed to be
//! Intercom's: 10 seconds, aligned to the epoch.

use std::sync::Mutex;
use std::time::Duration;

use super::retry::RateInfo;

/// The length of Intercom's rate-limit windows.
pub const WINDOW_MS: i64 = 10_000;

/// The process-wide request budget.
pub struct RateBudget {
    /// `rate_limit_share`, percent.
    share_percent: u32,
    /// `api_rate_limit`, requests per minute, if set.
    ceiling: Option<u32>,
    /// The per-window limit assumed until an answer reports one.
    assumed_limit: u32,
    window: Mutex<Window>,
}

/// What the budget knows of the current window.
#[derive(Debug, Default, Clone)]
struct Window {
    /// The windows' length: 10 s, or less if Intercom's resets come closer together.
    length_ms: i64,
    /// Our last requests' send times (Intercom's clock, as far as we know it), for the
    /// turn of a window: see [`RateBudget::turn`].
    recent: std::collections::VecDeque<i64>,
    /// When it resets (ms on Intercom's clock); `None` before the first turn.
    reset_ms: Option<i64>,
    /// Whether Intercom reported that reset (else it is assumed, epoch-aligned).
    told: bool,
    /// The limit per window the latest answer reported.
    limit: Option<u32>,
    /// The lowest `Remaining` reported in this window.
    remaining: Option<u32>,
    /// Our requests sent in this window.
    sent: u32,
    /// Of those, the ones answered with rate headers (`remaining` counts them).
    answered: u32,
    /// Whether any answer has come back (with rate headers or without).
    heard: bool,
    /// The latest reset Intercom reported, to learn the windows' length.
    last_told: Option<i64>,
    /// Whether a request is out before any answer came back.
    probing: bool,
}

impl Window {
    fn length(&self) -> i64 {
        if self.length_ms > 0 {
            self.length_ms
        } else {
            WINDOW_MS
        }
    }

    /// The next window, ending at `reset_ms`. Our reading of Intercom's clock (from the
    /// whole seconds of its `Date` headers, a bound that tightens with every answer) may
    /// lag it by a fraction of a second, so the requests sent in the last
    /// [`CLOCK_SLACK_MS`] of the window that ends may count in the next one: they are
    /// counted in both.
    fn next(&mut self, reset_ms: i64, told: bool) {
        let ended = self.reset_ms.unwrap_or(reset_ms);
        let slack = (self.length() / 10).min(CLOCK_SLACK_MS);
        while self.recent.front().is_some_and(|t| *t < ended - slack) {
            self.recent.pop_front();
        }
        let carried = self.recent.len() as u32;
        self.reset_ms = Some(reset_ms);
        self.told = told;
        self.remaining = None;
        self.sent = carried;
        self.answered = 0;
    }
}

/// A turn at the budget: go now, or wait this long for the window to reset (at this
/// time, ms on Intercom's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    Go,
    Wait {
        wait: Duration,
        reset_ms: i64,
    },
    /// The first request is out and its answer, which tells the limit, isn't back yet:
    /// ask again in a moment.
    Hold(Duration),
}

/// How far our reading of Intercom's clock may lag it, once a few answers came back.
const CLOCK_SLACK_MS: i64 = 250;

/// How often a request held for the first answer asks again.
const HOLD: Duration = Duration::from_millis(10);

/// The budget's view, for progress logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// The limit per window Intercom reported, if it did.
    pub limit: Option<u32>,
    /// The windows' length (10 s for Intercom).
    pub window: Duration,
    /// The allowance per window this connector spends.
    pub allowance: u32,
}

impl RateBudget {
    /// A budget spending `share_percent` of each window's limit, at most
    /// `ceiling_per_minute` a minute if set, assuming `assumed_per_minute` until an
    /// answer reports the limit.
    pub fn new(
        share_percent: u32,
        ceiling_per_minute: Option<u32>,
        assumed_per_minute: u32,
    ) -> RateBudget {
        RateBudget {
            share_percent: share_percent.clamp(1, 100),
            ceiling: ceiling_per_minute,
            assumed_limit: per_window(assumed_per_minute),
            window: Mutex::new(Window::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The share of a window whose limit is `limit` that `rate_limit_share` grants.
    fn share_of(&self, limit: u32) -> u32 {
        ((u64::from(limit) * u64::from(self.share_percent) / 100) as u32).max(1)
    }

    /// The allowance of a window of `length_ms` whose limit is `limit`: its share,
    /// within the ceiling's part of a minute.
    fn allowance_of(&self, limit: u32, length_ms: i64) -> u32 {
        let ceiling = self.ceiling.map_or(u32::MAX, |per_minute| {
            (u64::from(per_minute) * length_ms.max(1) as u64 / 60_000).clamp(1, u64::from(u32::MAX))
                as u32
        });
        self.share_of(limit).min(ceiling).max(1)
    }

    /// The learned limit and the allowance per window.
    pub fn snapshot(&self) -> Snapshot {
        let w = self.lock();
        Snapshot {
            limit: w.limit,
            window: Duration::from_millis(w.length() as u64),
            allowance: self.allowance_of(w.limit.unwrap_or(self.assumed_limit), w.length()),
        }
    }

    /// The allowance per second when spent evenly: what keeps the budget busy.
    pub fn per_second(&self) -> f64 {
        let s = self.snapshot();
        f64::from(s.allowance) / s.window.as_secs_f64().max(0.001)
    }

    /// Take a turn at `now_ms` (Intercom's clock): claim a request of the current
    /// window, or say how long until it resets.
    pub fn turn(&self, now_ms: i64) -> Turn {
        let mut w = self.lock();
        // The first answer tells the limit: until it comes, one request at a time.
        if !w.heard {
            if w.probing {
                return Turn::Hold(HOLD);
            }
            w.probing = true;
        }
        let length = w.length();
        match w.reset_ms {
            None => w.reset_ms = Some(align_up(now_ms, length)),
            Some(r) if now_ms >= r => {
                let windows = (now_ms - r) / length + 1;
                w.next(r.saturating_add(windows.saturating_mul(length)), false);
            }
            Some(_) => {}
        }
        let limit = w.limit.unwrap_or(self.assumed_limit);
        let allowance = self.allowance_of(limit, length);
        // What is left to others: the share not granted (a ceiling leaves more unused,
        // but does not reserve it).
        let reserve = limit.saturating_sub(self.share_of(limit));
        let on_the_way = w.sent.saturating_sub(w.answered);
        let room = w
            .remaining
            .map_or(true, |r| r.saturating_sub(on_the_way) > reserve);
        if w.sent < allowance && room {
            w.sent += 1;
            w.recent.push_back(now_ms);
            if w.recent.len() > 4 * allowance as usize {
                w.recent.pop_front();
            }
            return Turn::Go;
        }
        let reset_ms = w.reset_ms.unwrap_or(now_ms);
        Turn::Wait {
            wait: Duration::from_millis(reset_ms.saturating_sub(now_ms).max(1) as u64),
            reset_ms,
        }
    }

    /// Wait for a turn, for at most `left`. `now` gives the time on Intercom's clock
    /// (its windows' resets are on that clock); `on_wait(wait, reset_ms)` is told before
    /// each wait (to show the user why nothing moves). `Err(wait)` when the wait needed
    /// is longer than what is left (nothing more is waited then).
    pub async fn acquire(
        &self,
        now: impl Fn() -> i64,
        left: Duration,
        mut on_wait: impl FnMut(Duration, i64),
    ) -> Result<(), Duration> {
        let mut waited = Duration::ZERO;
        loop {
            match self.turn(now()) {
                Turn::Go => return Ok(()),
                Turn::Hold(hold) => {
                    let total = waited.saturating_add(hold);
                    if total > left {
                        return Err(total);
                    }
                    tokio::time::sleep(hold).await;
                    waited = total;
                }
                Turn::Wait { wait, reset_ms } => {
                    let total = waited.saturating_add(wait);
                    if total > left {
                        return Err(total);
                    }
                    on_wait(wait, reset_ms);
                    tokio::time::sleep(wait).await;
                    waited = total;
                }
            }
        }
    }

    /// An attempt ended without an answer to observe (a network failure): the requests
    /// held for the first answer go on all the same, on the assumed limit.
    pub fn settled(&self) {
        self.lock().heard = true;
    }

    /// Record the rate-limit headers of an answer received at `now_ms` (Intercom's
    /// clock). A window whose reset is bogus (further ahead than a window can be, long
    /// past, out of range) is ignored, so that one odd answer can't hide every later
    /// window behind it; `false` is returned for it, so the caller can say so.
    pub fn observe(&self, info: RateInfo, now_ms: i64) -> bool {
        self.lock().heard = true;
        if info.limit.is_none() && info.remaining.is_none() && info.reset_epoch.is_none() {
            return true;
        }
        if info.bogus_reset(now_ms) {
            return false;
        }
        let mut w = self.lock();
        if let Some(limit) = info.limit.filter(|l| *l > 0) {
            w.limit = Some(limit);
        }
        let reset_ms = info.reset_epoch.and_then(|r| r.checked_mul(1000));
        if let Some(told) = reset_ms {
            // Two resets Intercom told: its windows are no longer than their distance.
            if let Some(prev) = w.last_told.filter(|p| told > *p) {
                w.length_ms = (told - prev).min(w.length());
            }
            w.last_told = Some(w.last_told.map_or(told, |p| p.max(told)));
        }
        let same = match (reset_ms, w.reset_ms) {
            (Some(told), Some(ours)) if told == ours => true,
            // A later window than ours (it reset at Intercom first), or, when ours was
            // only assumed, Intercom's own current one: it is the current one now. Our
            // requests still on their way may land in it.
            (Some(told), Some(ours)) if told > ours || (!w.told && told > now_ms) => {
                if told > ours {
                    let on_the_way = w.sent.saturating_sub(w.answered);
                    w.next(told, true);
                    w.sent = w.sent.max(on_the_way);
                } else {
                    // The window assumed is the one Intercom is in: it ends earlier.
                    w.reset_ms = Some(told);
                    w.told = true;
                }
                true
            }
            (Some(told), None) => {
                w.reset_ms = Some(told);
                w.told = true;
                true
            }
            // An answer from a window that has passed: its counts are stale.
            (Some(_), Some(_)) => false,
            // Without a reset, a count can't be placed in a window.
            (None, _) => false,
        };
        if same {
            w.told |= reset_ms.is_some();
            w.answered = w.answered.saturating_add(1).min(w.sent.max(1));
            if let Some(r) = info.remaining {
                w.remaining = Some(w.remaining.map_or(r, |q| q.min(r)));
            }
        }
        true
    }
}

/// Requests per window of a per-minute figure.
fn per_window(per_minute: u32) -> u32 {
    (u64::from(per_minute) * WINDOW_MS as u64 / 60_000).clamp(1, u64::from(u32::MAX)) as u32
}

/// The end of the epoch-aligned window of `length` ms holding `now_ms`.
fn align_up(now_ms: i64, length: i64) -> i64 {
    now_ms
        .div_euclid(length.max(1))
        .saturating_add(1)
        .saturating_mul(length.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_003_000;
    /// The window holding NOW ends at ...010 s.
    const RESET: i64 = 1_700_000_010;

    fn info(limit: u32, remaining: u32, reset: i64) -> RateInfo {
        RateInfo {
            limit: Some(limit),
            remaining: Some(remaining),
            reset_epoch: Some(reset),
        }
    }

    fn goes(b: &RateBudget, now: i64, n: usize) -> usize {
        (0..n).take_while(|_| b.turn(now) == Turn::Go).count()
    }

    /// A budget that has heard its first answer (without rate headers).
    fn heard(b: RateBudget) -> RateBudget {
        b.observe(RateInfo::default(), NOW);
        b
    }

    #[test]
    fn the_first_request_goes_alone_until_its_answer_tells_the_limit() {
        let b = RateBudget::new(90, None, 10_000);
        assert_eq!(b.turn(NOW), Turn::Go);
        assert_eq!(b.turn(NOW), Turn::Hold(HOLD));
        b.observe(info(167, 166, RESET), NOW);
        assert_eq!(goes(&b, NOW, 1_000), 149);
        // A first request that fails without an answer releases the others too.
        let b = RateBudget::new(90, None, 10_000);
        assert_eq!(b.turn(NOW), Turn::Go);
        assert_eq!(b.turn(NOW), Turn::Hold(HOLD));
        b.settled();
        assert_eq!(b.turn(NOW), Turn::Go);
    }

    #[test]
    fn a_window_is_spent_at_once_then_waits_for_its_reset() {
        // 1,000 a minute assumed (no rate headers): 166 a window, 90% of it is 149.
        let b = heard(RateBudget::new(90, None, 1_000));
        assert_eq!(goes(&b, NOW, 1_000), 149);
        assert_eq!(
            b.turn(NOW),
            Turn::Wait {
                wait: Duration::from_secs(7),
                reset_ms: RESET * 1000
            }
        );
        // The next window starts afresh.
        assert_eq!(goes(&b, RESET * 1000, 1_000), 149);
    }

    #[test]
    fn the_limit_is_learned_from_answers() {
        let b = RateBudget::new(90, None, 1_000);
        assert_eq!(b.turn(NOW), Turn::Go);
        // The app has 10,000 a minute: 1,667 a window.
        assert!(b.observe(info(1_667, 1_666, RESET), NOW));
        assert_eq!(b.snapshot().limit, Some(1_667));
        assert_eq!(b.snapshot().allowance, 1_500);
        assert_eq!(goes(&b, NOW, 5_000), 1_499);
        // 25,000 a minute.
        let b = RateBudget::new(90, None, 10_000);
        b.observe(info(4_167, 4_167, RESET), NOW);
        assert_eq!(goes(&b, NOW, 10_000), 3_750);
    }

    #[test]
    fn api_rate_limit_is_a_ceiling_whatever_intercom_allows() {
        let b = RateBudget::new(90, Some(1_200), 10_000);
        b.observe(info(25_000, 25_000, RESET), NOW);
        assert_eq!(goes(&b, NOW, 10_000), 200);
        // Answers showing the window's count don't hold the ceiling back further.
        let b = RateBudget::new(90, Some(1_200), 10_000);
        assert_eq!(b.turn(NOW), Turn::Go);
        for k in 1..=150 {
            b.observe(info(4_167, 4_167 - k, RESET), NOW);
            assert_eq!(b.turn(NOW), Turn::Go, "{k}");
        }
        assert_eq!(goes(&b, NOW, 1_000), 49);
    }

    #[test]
    fn other_clients_spending_the_limit_stop_the_budget_early() {
        let b = RateBudget::new(90, None, 10_000);
        b.observe(info(1_000, 1_000, RESET), NOW);
        // 100 of ours answered; others spent 500 meanwhile.
        assert_eq!(goes(&b, NOW, 100), 100);
        for k in 1..=100 {
            b.observe(info(1_000, 1_000 - 500 - k, RESET), NOW);
        }
        // 400 left, of which 100 are the others' reserve: 300 more of ours.
        assert_eq!(goes(&b, NOW, 5_000), 300);
        // A limit that reports more than is enforced shows in `Remaining` too.
        // After our first request, 999 are left of the 1,000 enforced.
        let b = RateBudget::new(100, None, 10_000);
        assert_eq!(b.turn(NOW), Turn::Go);
        b.observe(info(1_667, 999, RESET), NOW);
        assert_eq!(goes(&b, NOW, 5_000), 999);
    }

    #[test]
    fn answers_move_the_window() {
        let b = heard(RateBudget::new(90, None, 10_000));
        assert_eq!(goes(&b, NOW, 10), 10);
        // Intercom's window ends at 008 s, not at the 010 s assumed: it is adopted.
        b.observe(info(100, 80, RESET - 2), NOW);
        let later = (RESET - 2) * 1000 + 500;
        // At 008.5 s that window has passed: the next ends at 018 s.
        assert_eq!(goes(&b, later, 1_000), 90);
        assert_eq!(
            b.turn(later),
            Turn::Wait {
                wait: Duration::from_millis(9_500),
                reset_ms: (RESET + 8) * 1000
            }
        );
        // A late answer from the window before changes nothing of this one.
        b.observe(info(100, 0, RESET - 2), later);
        b.observe(info(100, 95, RESET + 8), later);
        assert_eq!(b.turn(later + 9_500), Turn::Go);
    }

    #[test]
    fn bogus_resets_are_ignored() {
        for reset in [
            RESET + 10,
            1_700_009_000,
            95_617_584_000,
            i64::MAX,
            i64::MIN,
        ] {
            let b = RateBudget::new(90, None, 10_000);
            assert!(!b.observe(info(10, 0, reset), NOW), "{reset}");
            assert_eq!(b.turn(NOW), Turn::Go, "{reset}");
        }
    }

    #[tokio::test]
    async fn no_wait_passes_the_budget() {
        let b = RateBudget::new(100, None, 10_000);
        b.observe(info(1, 0, RESET), NOW);
        let mut told = false;
        let e = b
            .acquire(|| NOW, Duration::from_secs(1), |_, _| told = true)
            .await
            .unwrap_err();
        assert_eq!(e, Duration::from_secs(7));
        assert!(!told);
        // Within the budget, the wait is announced and taken.
        let b = RateBudget::new(100, None, 10_000);
        b.observe(info(1, 0, RESET), RESET * 1000 - 20);
        let clock = std::sync::atomic::AtomicI64::new(RESET * 1000 - 20);
        let started = std::time::Instant::now();
        let turn = b
            .acquire(
                // The clock reads the reset once the wait is over.
                || clock.swap(RESET * 1000, std::sync::atomic::Ordering::Relaxed),
                Duration::from_secs(1),
                |wait, reset| told = wait == Duration::from_millis(20) && reset == RESET * 1000,
            )
            .await;
        assert_eq!(turn, Ok(()));
        assert!(told);
        assert!(started.elapsed() >= Duration::from_millis(20));
    }
}
