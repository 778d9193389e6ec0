//! Time, in two separate kinds: the fixed calendar of the generated data
//! ([`GENERATION_START`]..[`GENERATION_END`], day boundaries in a time zone),
//! which generation never leaves, and the wall clock the server reads,
//! which generation never reads. The server reads the machine's clock for
//! durations (rate-limit windows, scroll expiry) and the fake's own clock,
//! the machine's shifted by
//! [`FakeConfig::clock_offset_secs`](crate::FakeConfig::clock_offset_secs),
//! for what the API shows or decides by the time of day (search index lag,
//! `X-RateLimit-Reset`, the `Date` header, formatted by [`http_date`]).

use std::time::{SystemTime, UNIX_EPOCH};

/// 2023-01-01T00:00:00Z: the earliest timestamp of generated data.
pub const GENERATION_START: i64 = 1_672_531_200;
/// 2026-06-01T00:00:00Z: the "present" of the generated workspace; no generated
/// `created_at`/`updated_at` is later than this.
pub const GENERATION_END: i64 = 1_780_272_000;

pub(crate) const DAY: i64 = 86_400;
pub(crate) const HOUR: i64 = 3_600;

/// Start (unix seconds) of the calendar day containing `t` in a time zone
/// `tz_offset_secs` east of UTC.
pub fn day_start(t: i64, tz_offset_secs: i64) -> i64 {
    t.saturating_sub(t.saturating_add(tz_offset_secs).rem_euclid(DAY))
}

/// Wall-clock milliseconds since the unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Wall-clock seconds since the unix epoch.
pub(crate) fn now_secs() -> i64 {
    (now_ms() / 1000) as i64
}

/// `secs` (unix seconds) as an HTTP date in IMF-fixdate form (RFC 9110
/// §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`: the `Date` header. Times
/// before 1970 show as 1970 (the fake's clock never goes there).
pub(crate) fn http_date(secs: i64) -> String {
    let at = UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    httpdate::fmt_http_date(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_start_math() {
        // 2026-03-10T02:00:00Z is 2026-03-09 21:00 at UTC-5.
        let t = 1_773_108_000;
        assert_eq!(day_start(t, 0), 1_773_100_800);
        assert_eq!(day_start(t, -5 * HOUR), 1_773_032_400);
        assert_eq!(day_start(1_773_100_800, 0), 1_773_100_800);
        assert_eq!(day_start(1_773_100_799, 0), 1_773_014_400);
    }

    #[test]
    fn http_dates() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(
            http_date(GENERATION_END - 1),
            "Sun, 31 May 2026 23:59:59 GMT"
        );
        assert_eq!(http_date(-1), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(4_107_542_400), "Mon, 01 Mar 2100 00:00:00 GMT");
    }
}
