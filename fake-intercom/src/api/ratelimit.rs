//! Intercom's rate limiting: the per-minute limit is spread over fixed windows
//! (10 s by default) aligned to multiples of the window length since the unix
//! epoch, and reported through the `X-RateLimit-*` headers.

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
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    pub reset: u64,
}

/// A fixed-window counter.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window_ms: u64,
    /// (window start ms, requests counted in it)
    state: Mutex<(u64, u32)>,
}

impl RateLimiter {
    pub fn new(requests_per_minute: u32, window_ms: u64) -> RateLimiter {
        RateLimiter {
            limit: per_window_limit(requests_per_minute, window_ms),
            window_ms: window_ms.max(1),
            state: Mutex::new((0, 0)),
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn window_ms(&self) -> u64 {
        self.window_ms
    }

    /// Count one request arriving at `now_ms`.
    pub fn check(&self, now_ms: u64) -> RateDecision {
        let start = window_start(now_ms, self.window_ms);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.0 != start {
            *st = (start, 0);
        }
        st.1 = st.1.saturating_add(1);
        let allowed = st.1 <= self.limit;
        RateDecision {
            allowed,
            limit: self.limit,
            remaining: self.limit.saturating_sub(st.1),
            reset: reset_epoch_secs(now_ms, self.window_ms),
        }
    }
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
}
