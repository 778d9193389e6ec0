//! One shared request budget for the whole process. Every attempt (first tries and
//! retries alike) waits here before it is sent, because Intercom counts every request:
//! first a proactive token bucket (governor) at the configured requests per minute,
//! then, if Intercom's last answer said the window is spent, until the window resets.
//! Both waits count against the request's time budget: a wait that would pass it is
//! not started ([`RateBudget::acquire`] says how long it would have been).

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
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

    /// Wait until one more request may be sent, for at most `left`. `now_ms` is the
    /// time on Intercom's clock (its windows' resets are on that clock). If Intercom
    /// said the window is spent, `on_wait(wait)` is told first (to show the user why
    /// nothing moves). Returns the time waited; `Err(wait)` when the wait needed is
    /// longer than `left` (nothing is waited then).
    pub async fn acquire(
        &self,
        now_ms: i64,
        left: Duration,
        on_wait: impl FnOnce(Duration),
    ) -> Result<Duration, Duration> {
        let mut waited = Duration::ZERO;
        if let Some(wait) = self.window_wait(now_ms) {
            if wait > left {
                return Err(wait);
            }
            on_wait(wait);
            tokio::time::sleep(wait).await;
            waited = wait;
        }
        let clock = DefaultClock::default();
        loop {
            match self.limiter.check() {
                Ok(()) => return Ok(waited),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(clock.now());
                    if waited.saturating_add(wait) > left {
                        return Err(waited.saturating_add(wait));
                    }
                    tokio::time::sleep(wait).await;
                    waited += wait;
                }
            }
        }
    }

    /// How long to wait for the window, if Intercom said it is spent and it hasn't reset
    /// yet. An implausible reset (past, or further ahead than a window) is not waited for here:
    /// the 429 it leads to is handled by the retry decision's backoff.
    fn window_wait(&self, now_ms: i64) -> Option<Duration> {
        let w = *self.window.lock().unwrap_or_else(|p| p.into_inner());
        match w.remaining {
            Some(0) => w.plausible_wait(now_ms).filter(|d| !d.is_zero()),
            _ => None,
        }
    }

    /// Record the rate-limit headers of an answer received at `now_ms` (Intercom's
    /// clock). A window whose reset is bogus (further ahead than a window can be, long
    /// past, out of range) is ignored, so that one odd answer can't hide every later
    /// window behind it; `false` is returned for it, so the caller can say so.
    pub fn observe(&self, info: RateInfo, now_ms: i64) -> bool {
        if info.remaining.is_none() && info.reset_epoch.is_none() {
            return true;
        }
        if info.bogus_reset(now_ms) {
            return false;
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
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_only_when_window_spent() {
        let b = RateBudget::new(600);
        let now = 1_700_000_000_000;
        let observe = |info| assert!(b.observe(info, now));
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
            reset_epoch: Some(1_700_000_011),
        });
        assert_eq!(b.window_wait(now), None);
        // A reset far in the future, or one that overflows, is not waited for, and does
        // not hide the next real window.
        for reset in [
            1_700_000_020,
            1_700_009_000,
            95_617_584_000,
            i64::MAX,
            i64::MIN,
        ] {
            let b = RateBudget::new(600);
            let bogus = RateInfo {
                limit: Some(10),
                remaining: Some(0),
                reset_epoch: Some(reset),
            };
            assert!(!b.observe(bogus, now), "{reset}");
            assert_eq!(b.window_wait(now), None, "{reset}");
            assert!(b.observe(
                RateInfo {
                    limit: Some(10),
                    remaining: Some(0),
                    reset_epoch: Some(1_700_000_001),
                },
                now,
            ));
            assert_eq!(b.window_wait(now), Some(Duration::from_secs(1)), "{reset}");
        }
    }

    #[tokio::test]
    async fn no_wait_passes_the_budget() {
        let now = chrono::Utc::now().timestamp_millis();
        let b = RateBudget::new(600_000);
        let spent = RateInfo {
            limit: Some(10),
            remaining: Some(0),
            reset_epoch: Some(now / 1000 + 5),
        };
        assert!(b.observe(spent, now));
        // The window resets 4-5 s ahead: more than a budget of 1 s, nothing waited.
        let mut told = false;
        let e = b
            .acquire(now, Duration::from_secs(1), |_| told = true)
            .await
            .unwrap_err();
        assert!(e > Duration::from_secs(3), "{e:?}");
        assert!(!told);
        // The token bucket's wait counts too: one request a minute, the second waits a minute.
        let slow = RateBudget::new(1);
        assert_eq!(
            slow.acquire(now, Duration::from_secs(1), |_| {}).await,
            Ok(Duration::ZERO)
        );
        let e = slow
            .acquire(now, Duration::from_secs(1), |_| {})
            .await
            .unwrap_err();
        assert!(e > Duration::from_secs(50), "{e:?}");
    }
}
