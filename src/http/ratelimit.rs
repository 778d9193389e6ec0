//! One shared request budget for the whole process. Every attempt (first tries and
//! retries alike) waits here before it is sent, because Intercom counts every request:
//! first a proactive token bucket (governor) at the configured requests per minute,
//! then, if Intercom's last answer said the window is spent, until the window resets.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::retry::RateInfo;

/// The process-wide request budget.
pub struct RateBudget {
    limiter: DefaultDirectRateLimiter,
    window: Mutex<RateInfo>,
}

impl RateBudget {
    /// A budget of `requests_per_minute`, spread evenly: bursts of at most a tenth of a
    /// second's share, so that no 10-second window of Intercom's ever sees more than
    /// its sixth of the minute's limit (plus that small burst).
    pub fn new(requests_per_minute: u32) -> RateBudget {
        let rpm = NonZeroU32::new(requests_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new((requests_per_minute / 600).max(1)).unwrap_or(NonZeroU32::MIN);
        RateBudget {
            limiter: RateLimiter::direct(Quota::per_minute(rpm).allow_burst(burst)),
            window: Mutex::new(RateInfo::default()),
        }
    }

    /// Wait until one more request may be sent. If Intercom said the window is spent,
    /// `on_wait(wait)` is told first (to show the user why nothing moves) and the wait
    /// is returned, so that it counts against the request's time budget.
    pub async fn acquire(&self, on_wait: impl FnOnce(Duration)) -> Duration {
        let mut waited = Duration::ZERO;
        if let Some(wait) = self.window_wait(chrono::Utc::now().timestamp_millis()) {
            on_wait(wait);
            tokio::time::sleep(wait).await;
            waited = wait;
        }
        self.limiter.until_ready().await;
        waited
    }

    /// How long to wait for the window, if Intercom said it is spent and it hasn't reset
    /// yet. An implausible reset (past, or over an hour ahead) is not waited for here:
    /// the 429 it leads to is handled by the retry decision's backoff.
    fn window_wait(&self, now_ms: i64) -> Option<Duration> {
        let w = *self.window.lock().unwrap_or_else(|p| p.into_inner());
        match w.remaining {
            Some(0) => w.plausible_wait(now_ms).filter(|d| !d.is_zero()),
            _ => None,
        }
    }

    /// Record the rate-limit headers of an answer received at `now_ms`. A window whose
    /// reset is implausible (over an hour ahead, say) is ignored, so that one odd answer
    /// can't hide every later window behind it.
    pub fn observe(&self, info: RateInfo, now_ms: i64) {
        if info.remaining.is_none() && info.reset_epoch.is_none() {
            return;
        }
        if info.reset_epoch.is_some()
            && info.plausible_wait(now_ms).is_none()
            && info
                .reset_epoch
                .and_then(|r| r.checked_mul(1000))
                .map_or(true, |r| r > now_ms)
        {
            return;
        }
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        // Answers arrive out of order under concurrency: a newer window wins, and within
        // one window the lowest remaining count is the truest.
        let newer = match (info.reset_epoch, w.reset_epoch) {
            (Some(a), Some(b)) => a > b,
            (Some(_), None) => true,
            _ => false,
        };
        if newer {
            *w = info;
        } else if info.reset_epoch == w.reset_epoch {
            w.limit = info.limit.or(w.limit);
            w.remaining = match (info.remaining, w.remaining) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_only_when_window_spent() {
        let b = RateBudget::new(600);
        let now = 1_700_000_000_000;
        let observe = |info| b.observe(info, now);
        assert_eq!(b.window_wait(now), None);
        observe(RateInfo {
            limit: Some(10),
            remaining: Some(3),
            reset_epoch: Some(1_700_000_002),
        });
        assert_eq!(b.window_wait(now), None);
        observe(RateInfo {
            limit: Some(10),
            remaining: Some(0),
            reset_epoch: Some(1_700_000_002),
        });
        assert_eq!(b.window_wait(now), Some(Duration::from_secs(2)));
        // A late answer from the same window doesn't raise the count again.
        observe(RateInfo {
            limit: Some(10),
            remaining: Some(5),
            reset_epoch: Some(1_700_000_002),
        });
        assert_eq!(b.window_wait(now), Some(Duration::from_secs(2)));
        // The window passed.
        assert_eq!(b.window_wait(1_700_000_002_000), None);
        // A new window replaces it.
        observe(RateInfo {
            limit: Some(10),
            remaining: Some(9),
            reset_epoch: Some(1_700_000_012),
        });
        assert_eq!(b.window_wait(now), None);
        // A reset far in the future, or one that overflows, is not waited for, and does
        // not hide the next real window.
        for reset in [1_700_009_000, i64::MAX, i64::MIN] {
            let b = RateBudget::new(600);
            let bogus = RateInfo {
                limit: Some(10),
                remaining: Some(0),
                reset_epoch: Some(reset),
            };
            b.observe(bogus, now);
            assert_eq!(b.window_wait(now), None, "{reset}");
            b.observe(
                RateInfo {
                    limit: Some(10),
                    remaining: Some(0),
                    reset_epoch: Some(1_700_000_001),
                },
                now,
            );
            assert_eq!(b.window_wait(now), Some(Duration::from_secs(1)), "{reset}");
        }
    }
}
