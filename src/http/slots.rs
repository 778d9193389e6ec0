//! The requests in flight, sized from what the answers show: enough to keep the rate
//! budget busy at the measured answer time (Little's law), never more than the cap
//! (`max_concurrency`/`num_workers` when set, else [`AUTO_MAX`]).
//!
//! The target is `ceil(rate × latency × 2) + 4`: `rate` the budget's allowance per
//! second (what a window allows, spread over it), `latency` a moving average of the
//! time from sending a request to its last byte. Twice what Little's law asks, so a
//! window's allowance is spent in about half the window, and a few more so that slow
//! answers don't leave the budget idle. Before the first answer it is
//! [`INITIAL`]: the first window's answers tell the real limit and latency.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

/// Requests in flight when the user set no cap: with the memory budget's shares (half
/// of `SOURCE_INTERCOM_MEMORY_MB` split between them), each may hold 1 MiB of answer
/// without waiting for the large-answer turn at the default 128 MiB.
pub const AUTO_MAX: usize = 64;

/// Requests in flight before any answer has been timed.
pub const INITIAL: usize = 8;

/// The fewest requests in flight the sizing settles on.
pub const MIN: usize = 4;

/// The request slots.
pub struct Slots {
    cap: usize,
    state: Mutex<State>,
    freed: Notify,
}

#[derive(Debug, Clone, Copy)]
struct State {
    in_use: usize,
    target: usize,
    /// Moving average of answer times, in seconds (0 before the first).
    latency: f64,
    /// The quickest answer so far, in seconds (0 before the first): what an answer
    /// takes when requests don't queue behind each other (the average grows when the
    /// CPU, not the network, holds them up).
    quickest: f64,
}

/// A slot in use; freed when dropped.
pub struct Slot<'a> {
    slots: &'a Slots,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        {
            let mut s = self.slots.lock();
            s.in_use = s.in_use.saturating_sub(1);
        }
        self.slots.freed.notify_one();
    }
}

impl Slots {
    /// Slots up to `cap`, starting at [`INITIAL`].
    pub fn new(cap: usize) -> Slots {
        let cap = cap.max(1);
        Slots {
            cap,
            state: Mutex::new(State {
                in_use: 0,
                target: INITIAL.min(cap),
                latency: 0.0,
                quickest: 0.0,
            }),
            freed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The most requests in flight at once.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// The current target, and the answer time it was sized from.
    pub fn target(&self) -> (usize, Duration) {
        let s = *self.lock();
        (s.target, Duration::from_secs_f64(s.latency.max(0.0)))
    }

    /// The quickest answer so far (zero before the first).
    pub fn quickest(&self) -> Duration {
        Duration::from_secs_f64(self.lock().quickest.max(0.0))
    }

    /// Wait for a slot.
    pub async fn acquire(&self) -> Slot<'_> {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut s = self.lock();
                if s.in_use < s.target {
                    s.in_use += 1;
                    return Slot { slots: self };
                }
            }
            freed.await;
        }
    }

    /// An answer took `took`; the budget allows `per_second`: size the target again.
    pub fn answered(&self, took: Duration, per_second: f64) {
        let grew = {
            let mut s = self.lock();
            let t = took.as_secs_f64();
            s.quickest = if s.quickest == 0.0 {
                t
            } else {
                s.quickest.min(t)
            };
            s.latency = if s.latency == 0.0 {
                t
            } else {
                0.8 * s.latency + 0.2 * t
            };
            let target = sized(per_second, s.latency, self.cap);
            let grew = target > s.target;
            s.target = target;
            grew
        };
        if grew {
            self.freed.notify_waiters();
        }
    }
}

/// The target for a rate (requests per second) and an answer time (seconds).
pub fn sized(per_second: f64, latency: f64, cap: usize) -> usize {
    let want = (per_second.max(0.0) * latency.max(0.0) * 2.0).ceil();
    let want = if want.is_finite() {
        want.min(cap as f64) as usize
    } else {
        cap
    };
    want.saturating_add(4).clamp(MIN.min(cap), cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizing_follows_little_s_law_within_the_cap() {
        // 10,000 a minute at 90%: 150 a second; 100 ms answers.
        assert_eq!(sized(150.0, 0.1, 64), 34);
        // 25,000 a minute at 90%: 375 a second.
        assert_eq!(sized(375.0, 0.1, 64), 64);
        assert_eq!(sized(375.0, 0.1, 128), 79);
        // 1,000 a minute: 15 a second.
        assert_eq!(sized(15.0, 0.1, 64), 7);
        // Fast answers need few; the user's cap wins; nonsense stays in bounds.
        assert_eq!(sized(150.0, 0.002, 64), 5);
        assert_eq!(sized(150.0, 0.1, 3), 3);
        assert_eq!(sized(f64::INFINITY, 1.0, 16), 16);
        assert_eq!(sized(f64::NAN, 1.0, 16), 4);
    }

    #[tokio::test]
    async fn never_more_in_flight_than_the_target() {
        let slots = std::sync::Arc::new(Slots::new(3));
        assert_eq!(slots.target().0, 3);
        let a = slots.acquire().await;
        let _b = slots.acquire().await;
        let _c = slots.acquire().await;
        let waiting = {
            let slots = slots.clone();
            tokio::spawn(async move {
                let _d = slots.acquire().await;
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        drop(a);
        waiting.await.unwrap();
        // The target grows with the answer time, up to the cap.
        let slots = Slots::new(64);
        assert_eq!(slots.target().0, INITIAL);
        slots.answered(Duration::from_millis(100), 150.0);
        assert_eq!(slots.target().0, 34);
    }
}
