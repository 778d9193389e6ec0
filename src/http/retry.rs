//! The retry decision, as a pure function: given what one attempt produced, the
//! attempts before it and the time spent on the request so far, [`classify`] says
//! whether we are done, should wait and retry, or must stop. No I/O, no clock and no
//! randomness of its own (the caller passes the time and a jitter draw), so it is
//! tested as a table.
//!
//! The rules:
//! - a 2xx whose body is usable is done; a 2xx whose body is not (cut off, not JSON,
//!   an HTML page from a load balancer, no records list) is retried like a 5xx;
//! - 408, 5xx and transport failures (connect, timeout, reset, a body that broke off)
//!   are retried with exponential backoff and full jitter, a bounded number of times;
//! - a 502, 503 or 504 with `Retry-After` (seconds or an HTTP date, as the client read
//!   it) waits as long as it says: a maintenance window says how long it lasts;
//! - 429 waits for `Retry-After`, else until Intercom's `X-RateLimit-Reset` when that is
//!   plausible (at most [`LONGEST_WINDOW_WAIT`] ahead: Intercom's windows are 10 s
//!   long), else backs off like an error;
//! - every other status is done (the caller turns it into an error);
//! - no wait may take a request past its total time budget: then it stops, and says
//!   how long it was asked to wait ([`Decision::OverBudget`]).

use std::time::Duration;

use crate::settings::{self, Lookup};
use crate::status::retriable_status;

/// The longest wait for a window's reset that is believed: a window, plus a second
/// because `X-RateLimit-Reset` is in whole seconds. A reset further ahead is bogus.
pub const LONGEST_WINDOW_WAIT: Duration = Duration::from_secs(11);

/// A reset further in the past than this is bogus too (a window that reset a moment
/// ago is normal: the answer was on its way).
const LONGEST_PAST: Duration = Duration::from_secs(3600);

/// Rate-limit headers of one response (`X-RateLimit-*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateInfo {
    /// Requests allowed in the current window.
    pub limit: Option<u32>,
    /// Requests left in the current window.
    pub remaining: Option<u32>,
    /// Epoch seconds when the window resets.
    pub reset_epoch: Option<i64>,
}

impl RateInfo {
    /// Milliseconds from `now_ms` (Intercom's clock) until the window resets, if the
    /// reset is plausible: not in the past and at most [`LONGEST_WINDOW_WAIT`] ahead.
    pub fn plausible_wait(&self, now_ms: i64) -> Option<Duration> {
        let ahead = self.ahead_ms(now_ms)?;
        if ahead < 0 || ahead as u128 > LONGEST_WINDOW_WAIT.as_millis() {
            return None;
        }
        Some(Duration::from_millis(ahead as u64))
    }

    /// Whether the answer sent a reset that can't be a window's: more than
    /// [`LONGEST_WINDOW_WAIT`] ahead, long past, or out of range.
    pub fn bogus_reset(&self, now_ms: i64) -> bool {
        if self.reset_epoch.is_none() {
            return false;
        }
        match self.ahead_ms(now_ms) {
            None => true,
            Some(a) => {
                a as i128 > LONGEST_WINDOW_WAIT.as_millis() as i128
                    || (a as i128) < -(LONGEST_PAST.as_millis() as i128)
            }
        }
    }

    fn ahead_ms(&self, now_ms: i64) -> Option<i64> {
        self.reset_epoch?.checked_mul(1000)?.checked_sub(now_ms)
    }
}

/// What one attempt produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP answer with a usable body (or a non-2xx status, whatever its body).
    Status {
        status: u16,
        rate: RateInfo,
        /// `Retry-After` as a wait (from seconds, or from an HTTP date), if sent.
        retry_after: Option<Duration>,
    },
    /// A failure that the same request can't cure and that is not an HTTP status (an
    /// address refused before connecting, an encoding this client doesn't read).
    Final,
    /// A 2xx whose body cannot be used: cut off, not JSON, HTML, or without the list
    /// the endpoint always has.
    BadBody,
    /// No complete HTTP answer: connect error, timeout, reset, a body that broke off.
    Transport,
}

impl Outcome {
    /// Whether this outcome is a failure that sending the same request again may cure.
    /// The one definition of a retriable status lives in [`retriable_status`].
    pub fn is_retriable(&self) -> bool {
        match *self {
            Outcome::Status { status, .. } => retriable_status(status),
            Outcome::BadBody | Outcome::Transport => true,
            Outcome::Final => false,
        }
    }
}

/// The attempts made so far for one request, and the time it has taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    /// Attempts that failed with a retriable error (5xx, 408, bad body, transport).
    pub errors: u32,
    /// Attempts answered with 429, or with a 5xx that said when to come back
    /// (`Retry-After`): retries the server scheduled.
    pub rate_limited: u32,
    /// Time since the first attempt was sent, waits included.
    pub elapsed: Duration,
}

/// How persistent to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retriable errors tolerated before failing (so at most this + 1 error attempts).
    pub max_error_retries: u32,
    /// Scheduled retries (429, or 5xx with `Retry-After`) tolerated before failing.
    pub max_rate_limited_retries: u32,
    /// The backoff ceiling of the first retry; doubles each time (full jitter below it).
    pub backoff_base: Duration,
    /// The largest backoff ceiling.
    pub backoff_max: Duration,
    /// Total time one request may take, waits included.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// Every tunable at its default (the environment is not read).
    fn default() -> Self {
        RetryPolicy::from_lookup(&settings::defaults)
    }
}

impl RetryPolicy {
    /// The policy, with each tunable `lookup` gives ([`crate::settings`]).
    pub(crate) fn from_lookup(lookup: Lookup<'_>) -> RetryPolicy {
        RetryPolicy {
            max_error_retries: settings::MAX_RETRIES.value(lookup) as u32,
            max_rate_limited_retries: 60,
            backoff_base: Duration::from_millis(settings::BACKOFF_BASE_MS.value(lookup)),
            backoff_max: Duration::from_millis(settings::BACKOFF_MAX_MS.value(lookup)),
            max_elapsed: Duration::from_secs(settings::MAX_REQUEST_SECS.value(lookup)),
        }
    }
}

/// The decision after one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Use this answer (success, or an error the caller handles).
    Done,
    /// Wait this long, then send the same request again.
    RetryAfter(Duration),
    /// Give up: the caller turns the last answer into an error.
    Fail,
    /// The wait this asks for would take the request past its time budget: stop, and
    /// say so.
    OverBudget(Duration),
}

/// Decide what to do after an attempt. `attempts` counts the attempts *before* this
/// one and the time spent so far; `now_ms` is the epoch time in milliseconds (to turn a
/// reset time into a wait); `jitter` is a draw from `[0, 1)` that spreads backoffs.
pub fn classify(
    outcome: &Outcome,
    attempts: Attempts,
    policy: &RetryPolicy,
    now_ms: i64,
    jitter: f64,
) -> Decision {
    let outcome = &believed(*outcome, policy);
    let wait = match *outcome {
        Outcome::Status { status, .. } if (200..300).contains(&status) => return Decision::Done,
        Outcome::Status {
            status: 429,
            rate,
            retry_after,
        } => {
            if attempts.rate_limited >= policy.max_rate_limited_retries {
                return Decision::Fail;
            }
            match retry_after.or_else(|| rate.plausible_wait(now_ms)) {
                // A reset a moment away still needs a pause, or we hammer the same window.
                Some(d) => d.max(Duration::from_millis(100)),
                None => backoff(policy, attempts.rate_limited, jitter),
            }
        }
        Outcome::Status {
            status: 502..=504,
            retry_after: Some(told),
            ..
        } => {
            if attempts.rate_limited >= policy.max_rate_limited_retries {
                return Decision::Fail;
            }
            told.max(policy.backoff_base)
        }
        ref o if o.is_retriable() => {
            if attempts.errors >= policy.max_error_retries {
                return Decision::Fail;
            }
            backoff(policy, attempts.errors, jitter)
        }
        Outcome::Status { .. } | Outcome::Final => return Decision::Done,
        // Unreachable: BadBody and Transport are retriable.
        Outcome::BadBody | Outcome::Transport => return Decision::Fail,
    };
    if attempts.elapsed.saturating_add(wait) > policy.max_elapsed {
        Decision::OverBudget(wait)
    } else {
        Decision::RetryAfter(wait)
    }
}

/// Whether a retry after `outcome` is one the server scheduled (counted in
/// [`Attempts::rate_limited`]) rather than an error's backoff.
pub fn is_scheduled(outcome: &Outcome, policy: &RetryPolicy) -> bool {
    matches!(
        believed(*outcome, policy),
        Outcome::Status { status: 429, .. }
            | Outcome::Status {
                status: 502..=504,
                retry_after: Some(_),
                ..
            }
    )
}

/// The outcome as the decision reads it: a `Retry-After` longer than a whole request
/// may take is not believed (a proxy's placeholder, a day for a rate limit), as if
/// there were none.
fn believed(outcome: Outcome, policy: &RetryPolicy) -> Outcome {
    match outcome {
        Outcome::Status {
            status,
            rate,
            retry_after: Some(told),
        } if told > policy.max_elapsed => Outcome::Status {
            status,
            rate,
            retry_after: None,
        },
        o => o,
    }
}

/// Exponential backoff with full jitter: a wait drawn from `[0, ceiling)`, where the
/// ceiling is `base · 2^n`, capped at `backoff_max`.
pub fn backoff(policy: &RetryPolicy, n: u32, jitter: f64) -> Duration {
    let factor = 1u32.checked_shl(n.min(30)).unwrap_or(u32::MAX);
    let ceiling = policy
        .backoff_base
        .checked_mul(factor)
        .unwrap_or(policy.backoff_max)
        .min(policy.backoff_max);
    let j = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        1.0
    };
    ceiling.mul_f64(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn st(status: u16) -> Outcome {
        Outcome::Status {
            status,
            rate: RateInfo::default(),
            retry_after: None,
        }
    }

    fn limited(reset_epoch: Option<i64>, retry_after: Option<u64>) -> Outcome {
        Outcome::Status {
            status: 429,
            rate: RateInfo {
                limit: Some(10),
                remaining: Some(0),
                reset_epoch,
            },
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    fn unavailable(status: u16, retry_after: u64) -> Outcome {
        Outcome::Status {
            status,
            rate: RateInfo::default(),
            retry_after: Some(Duration::from_secs(retry_after)),
        }
    }

    fn errors(n: u32) -> Attempts {
        Attempts {
            errors: n,
            ..Attempts::default()
        }
    }

    fn secs(s: u64) -> Decision {
        Decision::RetryAfter(Duration::from_secs(s))
    }

    #[test]
    fn decision_table() {
        let p = RetryPolicy::default();
        let none = Attempts::default();
        let spent = Attempts {
            errors: 5,
            rate_limited: 60,
            elapsed: Duration::ZERO,
        };
        let late = Attempts {
            elapsed: Duration::from_secs(30 * 60 - 2),
            ..Attempts::default()
        };
        // (outcome, attempts before, jitter, decision)
        let cases: Vec<(Outcome, Attempts, f64, Decision)> = vec![
            (st(200), none, 0.5, Decision::Done),
            (st(204), spent, 0.5, Decision::Done),
            (st(401), none, 0.5, Decision::Done),
            (st(403), none, 0.5, Decision::Done),
            (st(404), none, 0.5, Decision::Done),
            (st(400), none, 0.5, Decision::Done),
            (st(302), none, 0.5, Decision::Done),
            // Errors: full jitter below base · 2^n.
            (
                st(500),
                none,
                0.5,
                Decision::RetryAfter(Duration::from_millis(500)),
            ),
            (st(503), errors(2), 0.5, secs(2)),
            (
                st(503),
                errors(2),
                0.0,
                Decision::RetryAfter(Duration::ZERO),
            ),
            (st(502), errors(4), 0.75, secs(12)),
            (st(502), spent, 0.5, Decision::Fail),
            (st(408), none, 1.0, secs(1)),
            (Outcome::BadBody, none, 1.0, secs(1)),
            (Outcome::BadBody, errors(3), 0.5, secs(4)),
            (Outcome::BadBody, spent, 0.5, Decision::Fail),
            (Outcome::Transport, none, 1.0, secs(1)),
            (Outcome::Transport, spent, 0.5, Decision::Fail),
            // 429: the window's reset, or Retry-After, when plausible.
            (limited(Some(1_700_000_003), None), none, 0.5, secs(3)),
            (limited(None, Some(7)), none, 0.5, secs(7)),
            (limited(Some(1_700_000_003), Some(7)), none, 0.5, secs(7)),
            // A reset a moment ago still pauses a little.
            (
                limited(Some(1_700_000_000), None),
                none,
                0.5,
                Decision::RetryAfter(Duration::from_millis(100)),
            ),
            // Bogus resets (past, over an hour ahead, overflowing) fall back to backoff.
            (limited(Some(1), None), none, 1.0, secs(1)),
            (limited(Some(1_700_003_601), None), none, 1.0, secs(1)),
            (limited(Some(i64::MAX), None), none, 1.0, secs(1)),
            (limited(Some(i64::MIN), None), none, 1.0, secs(1)),
            // Retry-After is believed, but not past the budget; one longer than the
            // whole budget is not believed at all.
            (
                limited(None, Some(1_000)),
                late,
                1.0,
                Decision::OverBudget(Duration::from_secs(1_000)),
            ),
            (limited(None, Some(1_000)), none, 1.0, secs(1_000)),
            (limited(None, Some(99_999)), none, 1.0, secs(1)),
            // A reset further ahead than a window can be is bogus.
            (limited(Some(1_700_000_011), None), none, 0.5, secs(11)),
            (limited(Some(1_700_000_020), None), none, 1.0, secs(1)),
            (st(429), none, 1.0, secs(1)),
            (
                limited(Some(1_700_000_003), None),
                spent,
                0.5,
                Decision::Fail,
            ),
            // No wait may take the request past its budget.
            (
                limited(Some(1_700_000_003), None),
                late,
                0.5,
                Decision::OverBudget(Duration::from_secs(3)),
            ),
            // A maintenance 5xx that says when to come back is waited for.
            (unavailable(503, 25), none, 0.5, secs(25)),
            (unavailable(502, 2), errors(5), 0.5, secs(2)),
            (unavailable(504, 0), none, 0.5, secs(1)),
            (
                unavailable(503, 25),
                Attempts {
                    rate_limited: 60,
                    ..none
                },
                0.5,
                Decision::Fail,
            ),
            (
                unavailable(503, 25),
                late,
                0.5,
                Decision::OverBudget(Duration::from_secs(25)),
            ),
            // Other statuses back off whatever they say.
            (
                unavailable(500, 25),
                none,
                0.5,
                Decision::RetryAfter(Duration::from_millis(500)),
            ),
            (unavailable(404, 25), none, 0.5, Decision::Done),
            (Outcome::Final, none, 0.5, Decision::Done),
            (
                st(500),
                late,
                0.5,
                Decision::RetryAfter(Duration::from_millis(500)),
            ),
            (st(500), late, 1.0, secs(1)),
            (
                st(500),
                Attempts { errors: 3, ..late },
                1.0,
                Decision::OverBudget(Duration::from_secs(8)),
            ),
        ];
        for (o, a, j, want) in cases {
            assert_eq!(classify(&o, a, &p, NOW, j), want, "{o:?} {a:?} jitter {j}");
        }
    }

    #[test]
    fn bogus_resets() {
        let at = |reset| RateInfo {
            reset_epoch: Some(reset),
            ..RateInfo::default()
        };
        assert!(!RateInfo::default().bogus_reset(NOW));
        for ok in [1_700_000_000, 1_700_000_011, 1_699_999_000] {
            assert!(!at(ok).bogus_reset(NOW), "{ok}");
        }
        for bogus in [
            1_700_000_012,
            1_699_990_000,
            95_617_584_000,
            i64::MAX,
            i64::MIN,
        ] {
            assert!(at(bogus).bogus_reset(NOW), "{bogus}");
        }
    }

    #[test]
    fn backoff_caps_and_never_overflows() {
        let p = RetryPolicy::default();
        assert_eq!(backoff(&p, 0, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(&p, 3, 1.0), Duration::from_secs(8));
        assert_eq!(backoff(&p, 40, 1.0), Duration::from_secs(60));
        assert_eq!(backoff(&p, u32::MAX, 0.5), Duration::from_secs(30));
        assert_eq!(backoff(&p, 2, f64::NAN), Duration::from_secs(4));
        assert_eq!(backoff(&p, 2, -3.0), Duration::ZERO);
    }
}
