//! The retry decision, as a pure function: given what one attempt produced and how
//! many attempts came before, [`classify`] says whether we are done, should wait and
//! retry, or must fail. No I/O and no clock here, so it is tested as a table.

use std::time::Duration;

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

/// What one attempt produced.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// An HTTP answer.
    Status {
        status: u16,
        rate: RateInfo,
        /// `Retry-After` in seconds, if sent.
        retry_after: Option<Duration>,
    },
    /// No HTTP answer: connect error, timeout, reset.
    Transport,
}

/// Attempts made so far for one request, by kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct Attempts {
    /// Attempts that failed with a retriable error (5xx, 408, transport).
    pub errors: u32,
    /// Attempts answered with 429.
    pub rate_limited: u32,
}

/// How persistent to be.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retriable errors tolerated before failing.
    pub max_error_retries: u32,
    /// 429 answers tolerated before failing.
    pub max_rate_limited_retries: u32,
    /// First backoff after an error; doubles each time.
    pub backoff_base: Duration,
    /// Backoff ceiling.
    pub backoff_max: Duration,
    /// Longest single wait for a rate-limit window to reset.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_error_retries: 5,
            max_rate_limited_retries: 30,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            max_rate_limit_wait: Duration::from_secs(70),
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
}

/// Decide what to do after an attempt. `attempts` counts the attempts *before* this
/// one; `now_ms` is the current epoch time in milliseconds (to turn a reset time into a wait).
pub fn classify(
    outcome: &Outcome,
    attempts: Attempts,
    policy: &RetryPolicy,
    now_ms: i64,
) -> Decision {
    match *outcome {
        Outcome::Status { status, .. } if (200..300).contains(&status) => Decision::Done,
        Outcome::Status {
            status: 429,
            rate,
            retry_after,
        } => {
            if attempts.rate_limited >= policy.max_rate_limited_retries {
                return Decision::Fail;
            }
            let wait = retry_after
                .or_else(|| {
                    rate.reset_epoch
                        .map(|reset| Duration::from_millis((reset * 1000 - now_ms).max(0) as u64))
                })
                .unwrap_or_else(|| backoff(policy, attempts.rate_limited));
            // A reset a moment away still needs a pause, or we hammer the same window.
            Decision::RetryAfter(wait.clamp(Duration::from_millis(100), policy.max_rate_limit_wait))
        }
        Outcome::Status { status, .. } if status == 408 || status >= 500 => {
            retry_error(attempts, policy)
        }
        Outcome::Status { .. } => Decision::Done,
        Outcome::Transport => retry_error(attempts, policy),
    }
}

fn retry_error(attempts: Attempts, policy: &RetryPolicy) -> Decision {
    if attempts.errors >= policy.max_error_retries {
        Decision::Fail
    } else {
        Decision::RetryAfter(backoff(policy, attempts.errors))
    }
}

/// Exponential backoff: base, 2·base, 4·base, … capped.
pub fn backoff(policy: &RetryPolicy, n: u32) -> Duration {
    let factor = 1u32.checked_shl(n.min(20)).unwrap_or(u32::MAX);
    policy
        .backoff_base
        .checked_mul(factor)
        .unwrap_or(policy.backoff_max)
        .min(policy.backoff_max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(status: u16) -> Outcome {
        Outcome::Status {
            status,
            rate: RateInfo::default(),
            retry_after: None,
        }
    }

    #[test]
    fn decision_table() {
        let p = RetryPolicy::default();
        let none = Attempts::default();
        let spent = Attempts {
            errors: 5,
            rate_limited: 30,
        };
        let now = 1_700_000_000_000;
        let reset_in_3s = Outcome::Status {
            status: 429,
            rate: RateInfo {
                limit: Some(10),
                remaining: Some(0),
                reset_epoch: Some(1_700_000_003),
            },
            retry_after: None,
        };
        let retry_after_7s = Outcome::Status {
            status: 429,
            rate: RateInfo::default(),
            retry_after: Some(Duration::from_secs(7)),
        };
        let cases: Vec<(Outcome, Attempts, Decision)> = vec![
            (st(200), none, Decision::Done),
            (st(204), spent, Decision::Done),
            (st(401), none, Decision::Done),
            (st(404), none, Decision::Done),
            (st(400), none, Decision::Done),
            (st(500), none, Decision::RetryAfter(Duration::from_secs(1))),
            (
                st(503),
                Attempts {
                    errors: 2,
                    rate_limited: 0,
                },
                Decision::RetryAfter(Duration::from_secs(4)),
            ),
            (st(502), spent, Decision::Fail),
            (st(408), none, Decision::RetryAfter(Duration::from_secs(1))),
            (
                Outcome::Transport,
                none,
                Decision::RetryAfter(Duration::from_secs(1)),
            ),
            (Outcome::Transport, spent, Decision::Fail),
            (
                reset_in_3s,
                none,
                Decision::RetryAfter(Duration::from_secs(3)),
            ),
            (
                retry_after_7s,
                none,
                Decision::RetryAfter(Duration::from_secs(7)),
            ),
            (st(429), none, Decision::RetryAfter(Duration::from_secs(1))),
            (reset_in_3s, spent, Decision::Fail),
        ];
        for (o, a, want) in cases {
            assert_eq!(classify(&o, a, &p, now), want, "{o:?} {a:?}");
        }
    }

    #[test]
    fn rate_limit_wait_is_bounded() {
        let p = RetryPolicy::default();
        let past = Outcome::Status {
            status: 429,
            rate: RateInfo {
                limit: None,
                remaining: Some(0),
                reset_epoch: Some(1),
            },
            retry_after: None,
        };
        assert_eq!(
            classify(&past, Attempts::default(), &p, 1_700_000_000_000),
            Decision::RetryAfter(Duration::from_millis(100))
        );
        let far = Outcome::Status {
            status: 429,
            rate: RateInfo {
                limit: None,
                remaining: Some(0),
                reset_epoch: Some(1_700_009_000),
            },
            retry_after: None,
        };
        assert_eq!(
            classify(&far, Attempts::default(), &p, 1_700_000_000_000),
            Decision::RetryAfter(p.max_rate_limit_wait)
        );
    }

    #[test]
    fn backoff_caps() {
        let p = RetryPolicy::default();
        assert_eq!(backoff(&p, 0), Duration::from_secs(1));
        assert_eq!(backoff(&p, 3), Duration::from_secs(8));
        assert_eq!(backoff(&p, 40), Duration::from_secs(60));
    }
}
