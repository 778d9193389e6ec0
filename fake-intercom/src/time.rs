//! Time, in two separate kinds: the fixed calendar of the generated data
//! ([`GENERATION_START`]..[`GENERATION_END`], day boundaries in a time zone),
//! which generation never leaves, and the wall clock the server reads
//! (rate-limit windows, scroll expiry, the search index delay), which
//! generation never reads.

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
}
