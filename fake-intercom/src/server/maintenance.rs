//! Maintenance windows: from [`FakeIntercom::maintenance`](crate::FakeIntercom::maintenance)
//! (or [`FakeConfig::maintenance_ms`](crate::FakeConfig::maintenance_ms))
//! on, for a while on the machine's monotonic clock, every authenticated
//! request is answered 503 `service_unavailable` with a `Retry-After` of
//! the time left, as Intercom's front end answers during a maintenance.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::header::{HeaderValue, DATE, RETRY_AFTER};
use axum::http::StatusCode;
use axum::response::Response;

use crate::api::error::{error_body, json_response};
use crate::faults::RetryAfter;
use crate::time::{http_date, now_ms};

/// The message of a maintenance 503.
const MESSAGE: &str = "Intercom is down for scheduled maintenance. Please try again later.";

/// The current maintenance window, if any.
#[derive(Default)]
pub(crate) struct Maintenance {
    window: Mutex<Option<(Instant, RetryAfter)>>,
}

impl Maintenance {
    /// A window of `for_ms` from now, replacing any other (0: none).
    pub(crate) fn start(&self, for_ms: u64, retry_after: RetryAfter) {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        *w = (for_ms > 0).then(|| (Instant::now() + Duration::from_millis(for_ms), retry_after));
    }

    /// The time left of the window and its `Retry-After` form, while one
    /// runs.
    pub(crate) fn left(&self) -> Option<(Duration, RetryAfter)> {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let (until, retry_after) = (*w)?;
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            *w = None;
            return None;
        }
        Some((left, retry_after))
    }
}

/// The 503 of a window with `left` to run, on the fake's clock
/// `clock_offset_secs` away from the machine's: its own `Date`, and
/// `Retry-After` as `retry_after` says.
pub(crate) fn maintenance_answer(
    left: Duration,
    retry_after: RetryAfter,
    clock_offset_secs: i64,
) -> Response {
    let mut resp = json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &error_body("service_unavailable", MESSAGE),
    );
    let now_ms = i64::try_from(now_ms())
        .unwrap_or(i64::MAX)
        .saturating_add(clock_offset_secs.saturating_mul(1000));
    let (date, value) = retry_after_value(left, retry_after, now_ms);
    let headers = resp.headers_mut();
    if let Ok(date) = HeaderValue::from_str(&date) {
        headers.insert(DATE, date);
    }
    if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(RETRY_AFTER, value);
    }
    resp
}

/// The `Date` and `Retry-After` values at `now_ms` (the fake's clock, unix
/// milliseconds) with `left` of the window to run: delay seconds rounded
/// up, or the window's end rounded up to a whole second.
fn retry_after_value(
    left: Duration,
    retry_after: RetryAfter,
    now_ms: i64,
) -> (String, Option<String>) {
    let left_ms = i64::try_from(left.as_millis()).unwrap_or(i64::MAX);
    let date = http_date(now_ms.div_euclid(1000));
    let value = match retry_after {
        RetryAfter::Seconds => Some(left.as_millis().div_ceil(1000).to_string()),
        RetryAfter::HttpDate => {
            let end_ms = now_ms.saturating_add(left_ms);
            Some(http_date(end_ms.saturating_add(999).div_euclid(1000)))
        }
        RetryAfter::None => None,
    };
    (date, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up() {
        let at = 784_111_777_000; // Sun, 06 Nov 1994 08:49:37 GMT
        let ms = Duration::from_millis;
        let v = |left, form, now| retry_after_value(left, form, now).1;
        assert_eq!(
            v(ms(25_000), RetryAfter::Seconds, at).as_deref(),
            Some("25")
        );
        assert_eq!(
            v(ms(24_001), RetryAfter::Seconds, at).as_deref(),
            Some("25")
        );
        assert_eq!(v(ms(1), RetryAfter::Seconds, at).as_deref(), Some("1"));
        assert_eq!(v(ms(1), RetryAfter::None, at), None);
        let (date, end) = retry_after_value(ms(25_000), RetryAfter::HttpDate, at);
        assert_eq!(date, "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(end.as_deref(), Some("Sun, 06 Nov 1994 08:50:02 GMT"));
        // 08:49:37.600 + 24.5 s ends at 08:50:02.100: 08:50:03.
        let (date, end) = retry_after_value(ms(24_500), RetryAfter::HttpDate, at + 600);
        assert_eq!(date, "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(end.as_deref(), Some("Sun, 06 Nov 1994 08:50:03 GMT"));
    }

    #[test]
    fn window_ends() {
        let m = Maintenance::default();
        assert!(m.left().is_none());
        m.start(60_000, RetryAfter::HttpDate);
        let (left, form) = m.left().expect("running");
        assert!(left > Duration::from_secs(59) && left <= Duration::from_secs(60));
        assert_eq!(form, RetryAfter::HttpDate);
        m.start(0, RetryAfter::Seconds);
        assert!(m.left().is_none());
        m.start(1, RetryAfter::Seconds);
        std::thread::sleep(Duration::from_millis(5));
        assert!(m.left().is_none());
    }
}
