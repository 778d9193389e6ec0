//! Intercom's rate limiting: the per-minute limit is spread over fixed windows
//! (10 s by default) aligned to multiples of the window length since the unix
//! epoch, and reported through the `X-RateLimit-*` headers.
//!
//! Two variances of a workspace whose allowance is shared (Intercom: 10 000
//! calls a minute per app, 25 000 per workspace across all its apps):
//!
//! * **Other clients** ([`RateLimiter::set_other_clients`]): `n` phantom
//!   requests a window, spread evenly over it, spend the same window's
//!   limit: `floor(n * t / window_ms)` of them are counted `t` ms into the
//!   window. They are computed when a request is checked (no background
//!   task) and never seen as requests.
//! * **A reported limit** ([`RateLimiter::set_reported_limit`]):
//!   `X-RateLimit-Limit` (and the 429 message) show this figure, while
//!   the limit enforced stays the one of the requests per minute.
//!
//! `X-RateLimit-Remaining` is the smaller of what the reported figure and
//! what the enforced limit leave after our and the other clients'
//! requests, so it never exceeds `X-RateLimit-Limit` and is 0 by the time a
//! request would be refused: a client that paces itself on `Remaining`
//! (and backs off on 429) gets through, one that trusts `Limit` alone
//! overshoots and gets 429s.

use std::sync::Mutex;

/// Requests allowed per window: `ceil(requests_per_minute * window_ms / 60000)`.
pub fn per_window_limit(requests_per_minute: u32, window_ms: u64) -> u32 {
    let n = u64::from(requests_per_minute) * window_ms.max(1);
    n.div_ceil(60_000).min(u64::from(u32::MAX)) as u32
}

/// Start (ms since the epoch) of the window containing `now_ms`.
pub fn window_start(now_ms: u64, window_ms: u64) -> u64 {
    let w = window_ms.max(1);
    now_ms - now_ms % w
}

/// `X-RateLimit-Reset`: the end of the current window, in epoch seconds rounded up.
pub fn reset_epoch_secs(now_ms: u64, window_ms: u64) -> u64 {
    (window_start(now_ms, window_ms) + window_ms.max(1)).div_ceil(1000)
}

/// The window length as Intercom words it in its 429 message (`10_seconds`).
pub fn window_label(window_ms: u64) -> String {
    if window_ms % 1000 == 0 {
        format!("{}_seconds", window_ms / 1000)
    } else {
        format!("{window_ms}_milliseconds")
    }
}

/// The outcome of counting one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateDecision {
    /// The request may go on (else: 429).
    pub allowed: bool,
    /// `X-RateLimit-Limit`: the reported limit if one is set, else the
    /// enforced one.
    pub limit: u32,
    /// `X-RateLimit-Remaining` (see the module documentation).
    pub remaining: u32,
    /// `X-RateLimit-Reset` on the machine's clock: the end of the window,
    /// in epoch seconds rounded up.
    pub reset: u64,
    /// Refused only because of the other clients: our own requests in the
    /// window, this one included, were within the enforced limit.
    pub by_other_clients: bool,
}

/// A fixed-window counter, with other clients spending the same windows
/// and a reported limit that may differ from the enforced one (both off
/// unless set).
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window_ms: u64,
    state: Mutex<LimiterState>,
}

/// What a [`RateLimiter`] counts and its settings that change while running.
#[derive(Debug, Default)]
struct LimiterState {
    /// Start (ms since the epoch) of the window counted in `ours`.
    window_start: u64,
    /// Our requests counted in that window, refused ones included.
    ours: u32,
    /// Phantom requests of other clients per window.
    other_clients: u32,
    /// The figure `X-RateLimit-Limit` reports instead of `limit`.
    reported_limit: Option<u32>,
}

impl RateLimiter {
    /// A limiter enforcing [`per_window_limit`] over windows of `window_ms`
    /// (at least 1), without other clients or a reported limit.
    pub fn new(requests_per_minute: u32, window_ms: u64) -> RateLimiter {
        RateLimiter {
            limit: per_window_limit(requests_per_minute, window_ms),
            window_ms: window_ms.max(1),
            state: Mutex::new(LimiterState::default()),
        }
    }

    /// The per-window limit `X-RateLimit-Limit` shows: the reported one if
    /// set, else the enforced one.
    pub fn header_limit(&self) -> u32 {
        self.lock().reported_limit.unwrap_or(self.limit)
    }

    /// The window length in milliseconds.
    pub fn window_ms(&self) -> u64 {
        self.window_ms
    }

    /// Other clients' requests per window from now on (the current window
    /// included: how many of them have been counted depends only on the
    /// time into the window). `0`: none.
    pub fn set_other_clients(&self, per_window: u32) {
        self.lock().other_clients = per_window;
    }

    /// Other clients' requests per window.
    pub fn other_clients(&self) -> u32 {
        self.lock().other_clients
    }

    /// Report `limit` in `X-RateLimit-Limit` from now on, still enforcing
    /// the limit of the requests per minute; `None`: report that one.
    pub fn set_reported_limit(&self, limit: Option<u32>) {
        self.lock().reported_limit = limit;
    }

    /// The reported limit set, if any.
    pub fn reported_limit(&self) -> Option<u32> {
        self.lock().reported_limit
    }

    /// Count one request arriving at `now_ms` (on the machine's clock).
    /// It is refused when our requests in the window, this one included,
    /// plus the other clients' so far exceed the enforced limit; refused
    /// requests still count as ours.
    pub fn check(&self, now_ms: u64) -> RateDecision {
        let start = window_start(now_ms, self.window_ms);
        let mut st = self.lock();
        if st.window_start != start {
            st.window_start = start;
            st.ours = 0;
        }
        st.ours = st.ours.saturating_add(1);
        let theirs = other_clients_so_far(st.other_clients, now_ms - start, self.window_ms);
        let used = st.ours.saturating_add(theirs);
        let allowed = used <= self.limit;
        let reported = st.reported_limit.unwrap_or(self.limit);
        RateDecision {
            allowed,
            limit: reported,
            remaining: reported
                .saturating_sub(st.ours)
                .min(self.limit.saturating_sub(used)),
            reset: reset_epoch_secs(now_ms, self.window_ms),
            by_other_clients: !allowed && st.ours <= self.limit,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The other clients' requests counted `into_window_ms` into a window:
/// `floor(per_window * into_window_ms / window_ms)`, so `per_window` of
/// them spread evenly over the window.
pub fn other_clients_so_far(per_window: u32, into_window_ms: u64, window_ms: u64) -> u32 {
    let w = window_ms.max(1);
    let n = u128::from(per_window) * u128::from(into_window_ms.min(w)) / u128::from(w);
    n.min(u128::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_math() {
        assert_eq!(per_window_limit(10_000, 10_000), 1667);
        assert_eq!(per_window_limit(1_000, 10_000), 167);
        assert_eq!(per_window_limit(60, 10_000), 10);
        assert_eq!(per_window_limit(600, 1_000), 10);
        assert_eq!(per_window_limit(1, 10_000), 1);
        assert_eq!(per_window_limit(0, 10_000), 0);
    }

    #[test]
    fn window_math() {
        assert_eq!(window_start(1_700_000_012_345, 10_000), 1_700_000_010_000);
        assert_eq!(reset_epoch_secs(1_700_000_012_345, 10_000), 1_700_000_020);
        assert_eq!(window_start(1_700_000_010_000, 10_000), 1_700_000_010_000);
        assert_eq!(reset_epoch_secs(1_700_000_010_000, 10_000), 1_700_000_020);
        // Sub-second windows round the reset up to a whole second.
        assert_eq!(reset_epoch_secs(1_700_000_000_100, 250), 1_700_000_001);
        assert_eq!(window_label(10_000), "10_seconds");
        assert_eq!(window_label(1_500), "1500_milliseconds");
    }

    #[test]
    fn limiter_counts_and_resets_per_window() {
        let r = RateLimiter::new(18, 10_000); // 3 per window
        let t = 1_700_000_010_000;
        let d1 = r.check(t);
        assert_eq!(
            (d1.allowed, d1.limit, d1.remaining, d1.reset),
            (true, 3, 2, 1_700_000_020)
        );
        assert!(r.check(t + 1).allowed);
        let d3 = r.check(t + 2);
        assert!(d3.allowed);
        assert_eq!(d3.remaining, 0);
        let d4 = r.check(t + 3);
        assert!(!d4.allowed);
        assert_eq!(d4.remaining, 0);
        let next = r.check(t + 10_000);
        assert!(next.allowed);
        assert_eq!(next.remaining, 2);
        assert_eq!(next.reset, 1_700_000_030);
    }

    #[test]
    fn other_clients_spread_over_the_window() {
        assert_eq!(other_clients_so_far(5, 0, 10_000), 0);
        assert_eq!(other_clients_so_far(5, 1_999, 10_000), 0);
        assert_eq!(other_clients_so_far(5, 2_000, 10_000), 1);
        assert_eq!(other_clients_so_far(5, 9_999, 10_000), 4);
        assert_eq!(other_clients_so_far(0, 9_999, 10_000), 0);
        assert_eq!(
            other_clients_so_far(u32::MAX, u64::MAX - 1, u64::MAX),
            u32::MAX - 1
        );
    }

    #[test]
    fn other_clients_spend_the_window() {
        let r = RateLimiter::new(60, 10_000); // 10 per window
        r.set_other_clients(5);
        assert_eq!(r.other_clients(), 5);
        let t = 1_700_000_010_000;
        // One request a second, as a client trusting the limit of 10 would
        // pace itself: the k-th (from 0) meets floor(k / 2) of theirs.
        let mut remaining = Vec::new();
        for k in 0..7 {
            let d = r.check(t + k * 1_000);
            assert!(d.allowed, "request {k}");
            assert!(!d.by_other_clients);
            assert_eq!(d.limit, 10);
            remaining.push(d.remaining);
        }
        // Down by more than our own count: 10 - (k + 1) - floor(k / 2).
        assert_eq!(remaining, [9, 8, 6, 5, 3, 2, 0]);
        let d = r.check(t + 7_000);
        assert_eq!(
            (d.allowed, d.remaining, d.by_other_clients),
            (false, 0, true)
        );
        // A new window starts with none of theirs counted.
        let d = r.check(t + 10_000);
        assert_eq!((d.allowed, d.remaining), (true, 9));

        // A burst late in the window gets what they left: 10 - 4.
        let late = t + 29_999;
        let allowed = (0..12).filter(|_| r.check(late).allowed).count();
        assert_eq!(allowed, 6);
        // Over the limit on our own: not their doing.
        let d = (0..5).map(|_| r.check(late)).last().unwrap();
        assert!(!d.allowed && !d.by_other_clients);

        r.set_other_clients(0);
        let d = r.check(t + 30_000);
        assert_eq!((d.allowed, d.remaining), (true, 9));
    }

    #[test]
    fn reported_limit_shows_but_does_not_enforce() {
        let r = RateLimiter::new(60, 10_000); // 10 per window enforced
        r.set_reported_limit(Some(25));
        assert_eq!(
            (r.limit, r.header_limit(), r.reported_limit()),
            (10, 25, Some(25))
        );
        let t = 1_700_000_010_000;
        for k in 1..=10 {
            let d = r.check(t);
            assert!(d.allowed);
            // Remaining follows what is enforced, under the figure shown.
            assert_eq!((d.limit, d.remaining), (25, 10 - k));
        }
        let d = r.check(t);
        assert_eq!((d.allowed, d.limit, d.remaining), (false, 25, 0));
        assert!(!d.by_other_clients);

        // A reported limit below the enforced one: Remaining reaches 0
        // early, requests still go through up to the enforced limit.
        r.set_reported_limit(Some(4));
        let t = t + 10_000;
        let ds: Vec<RateDecision> = (0..11).map(|_| r.check(t)).collect();
        let remaining: Vec<u32> = ds.iter().map(|d| d.remaining).collect();
        assert_eq!(remaining, [3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(ds.iter().filter(|d| d.allowed).count(), 10);
        assert!(ds.iter().all(|d| d.limit == 4));

        // Both: the reported 25, 10 enforced, 6 of theirs a window.
        r.set_reported_limit(Some(25));
        r.set_other_clients(6);
        let t = t + 10_000;
        let d = r.check(t + 5_000); // 3 of theirs so far
        assert_eq!((d.allowed, d.limit, d.remaining), (true, 25, 6));
        let allowed = (0..10).filter(|_| r.check(t + 5_000).allowed).count();
        assert_eq!(allowed, 6);

        r.set_reported_limit(None);
        assert_eq!((r.header_limit(), r.reported_limit()), (10, None));
    }
}
