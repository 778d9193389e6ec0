//! Chaos: for each request, whether it gets a random fault and which one,
//! decided by a PRNG seeded from [`Chaos::seed`] and a request counter, and
//! the follow-up 429s a rate-limit burst promised for a path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::faults::{Chaos, ChaosKind};
use crate::rng::{mix64, Rng};

/// One chaos decision, with the details drawn for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Injection {
    /// A 429 whose `X-RateLimit-Reset` is this many seconds ahead.
    RateLimit {
        reset_in_secs: u64,
    },
    /// A 500, 502 or 503; `empty`: no body at all.
    ServerError {
        status: u16,
        empty: bool,
    },
    Reset,
    Truncated,
    Slow {
        delay_ms: u64,
    },
    Html200,
}

impl Injection {
    pub(crate) fn kind(self) -> ChaosKind {
        match self {
            Injection::RateLimit { .. } => ChaosKind::RateLimitBurst,
            Injection::ServerError { .. } => ChaosKind::ServerError,
            Injection::Reset => ChaosKind::Reset,
            Injection::Truncated => ChaosKind::Truncated,
            Injection::Slow { .. } => ChaosKind::Slow,
            Injection::Html200 => ChaosKind::Html200,
        }
    }
}

/// The chaos settings and what they have decided so far.
pub(crate) struct ChaosState {
    chaos: Chaos,
    /// Requests decided so far (the PRNG's per-request input).
    decided: AtomicU64,
    /// Path → 429s still owed by a burst.
    bursts: Mutex<HashMap<String, u32>>,
}

impl ChaosState {
    pub(crate) fn new(chaos: Chaos) -> ChaosState {
        ChaosState {
            chaos,
            decided: AtomicU64::new(0),
            bursts: Mutex::new(HashMap::new()),
        }
    }

    /// Decide the fate of the next request for `path`.
    pub(crate) fn decide(&self, path: &str) -> Option<Injection> {
        if self.owed_429(path) {
            return Some(Injection::RateLimit { reset_in_secs: 1 });
        }
        let n = self.decided.fetch_add(1, Ordering::SeqCst);
        let mut rng = Rng::new(mix64(self.chaos.seed ^ mix64(n.wrapping_add(1))));
        if rng.unit() >= self.chaos.rate {
            return None;
        }
        let kinds: &[ChaosKind] = if self.chaos.kinds.is_empty() {
            &ChaosKind::ALL
        } else {
            &self.chaos.kinds
        };
        let kind = *rng.pick(kinds)?;
        Some(match kind {
            ChaosKind::RateLimitBurst => {
                let reset_in_secs = rng.range(1, 2) as u64;
                if rng.chance(0.5) {
                    let more = 1 + rng.index(2) as u32;
                    let mut bursts = self.bursts.lock().unwrap_or_else(|e| e.into_inner());
                    bursts.insert(path.to_string(), more);
                }
                Injection::RateLimit { reset_in_secs }
            }
            ChaosKind::ServerError => {
                let status = [500, 502, 503][rng.index(3)];
                let empty = status != 500 && rng.chance(0.5);
                Injection::ServerError { status, empty }
            }
            ChaosKind::Reset => Injection::Reset,
            ChaosKind::Truncated => Injection::Truncated,
            ChaosKind::Slow => Injection::Slow {
                delay_ms: self.chaos.slow_ms,
            },
            ChaosKind::Html200 => Injection::Html200,
        })
    }

    /// Take one 429 a burst still owes `path`, if any.
    fn owed_429(&self, path: &str) -> bool {
        let mut bursts = self.bursts.lock().unwrap_or_else(|e| e.into_inner());
        let Some(left) = bursts.get_mut(path) else {
            return false;
        };
        *left = left.saturating_sub(1);
        if *left == 0 {
            bursts.remove(path);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(rate: f64, kinds: Vec<ChaosKind>) -> ChaosState {
        ChaosState::new(Chaos {
            seed: 9,
            rate,
            kinds,
            slow_ms: 10,
        })
    }

    #[test]
    fn rate_bounds_and_determinism() {
        let never = state(0.0, vec![]);
        assert!((0..500).all(|_| never.decide("/admins").is_none()));
        let always = state(1.0, vec![]);
        assert!((0..500).all(|_| always.decide("/admins").is_some()));
        let a: Vec<_> = (0..200).map(|_| state(0.3, vec![]).decide("/x")).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]), "a fresh state repeats");
        let s = state(0.3, vec![ChaosKind::Reset, ChaosKind::Slow]);
        let hits = (0..2_000).filter_map(|_| s.decide("/tags")).count();
        assert!((450..750).contains(&hits), "{hits}");
    }

    #[test]
    fn only_the_chosen_kinds_and_bursts_follow_up_on_their_path() {
        let s = state(1.0, vec![ChaosKind::ServerError]);
        for _ in 0..200 {
            match s.decide("/x") {
                Some(Injection::ServerError { status, empty }) => {
                    assert!([500, 502, 503].contains(&status));
                    assert!(!(empty && status == 500));
                }
                other => panic!("{other:?}"),
            }
        }
        let s = state(1.0, vec![ChaosKind::RateLimitBurst]);
        let mut followed = false;
        for _ in 0..50 {
            assert!(matches!(
                s.decide("/a"),
                Some(Injection::RateLimit {
                    reset_in_secs: 1..=2
                })
            ));
            followed |= s.bursts.lock().unwrap().contains_key("/a");
        }
        assert!(followed, "some bursts owe more 429s");
        let owed = state(0.0, vec![]);
        owed.bursts.lock().unwrap().insert("/a".into(), 2);
        assert!(owed.decide("/b").is_none());
        assert!(owed.decide("/a").is_some());
        assert!(owed.decide("/a").is_some());
        assert!(owed.decide("/a").is_none());
    }
}
