//! One `updated_at` range of a search ([`Part`]): its bounds in seconds or in UTC days
//! anchored at 18:00 UTC, and the filters that ask Intercom for it. The search reader
//! ([`super::search`]) walks parts; the cutter ([`super::cut`]) splits running ones.
//! Both import this module, which imports neither.

pub(crate) const DAY: i64 = 86_400;
pub(crate) const PER_PAGE: u32 = 150;

/// The reference instant of UTC day `day`: 18:00 UTC.
pub(super) fn anchor(day: i64) -> i64 {
    day.saturating_mul(DAY).saturating_add(18 * 3600)
}

/// One `updated_at` range of a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// Start: a UTC day index (day-granular searches) or a second.
    pub from: i64,
    /// End, exclusive, in the same unit.
    pub to: i64,
    /// The read's lower bound (seconds), for the first range.
    pub first_lower: Option<i64>,
    pub days: bool,
}

/// The end (exclusive) of a search read at `now`: the second after it, or, for day
/// ranges, two UTC days after its day: the workspace day holding `now` may be the one
/// after its UTC day (a zone east of UTC late in the day), and a range of days `[a, b)`
/// covers the workspace days holding `anchor(a)` to `anchor(b − 1)`.
fn end_of(now: i64, days: bool) -> i64 {
    if days {
        now.div_euclid(DAY).saturating_add(2)
    } else {
        now.saturating_add(1)
    }
}

/// Half of the widest margin between a UTC day and a workspace day (time zones from
/// UTC−12 to UTC+14, see [`Part::range`]).
pub(crate) const ZONE_MARGIN: i64 = 6 * 3600;

impl Part {
    /// The whole of a read from `lower` up to the sync's start `now`.
    pub fn first(lower: i64, now: i64, days: bool) -> Part {
        Part {
            from: if days { lower.div_euclid(DAY) } else { lower },
            to: end_of(now, days),
            first_lower: Some(lower),
            days,
        }
    }

    /// The value for `updated_at >`.
    pub fn gt(&self) -> i64 {
        match (self.days, self.first_lower) {
            (true, Some(lower)) => lower.saturating_sub(DAY),
            (true, None) => anchor(self.from - 1),
            (false, _) => self.from.saturating_sub(1),
        }
    }

    /// The value for `updated_at <`.
    pub fn lt(&self) -> i64 {
        if self.days {
            anchor(self.to)
        } else {
            self.to
        }
    }

    /// The `updated_at` values this range can hold: records outside (which the query's
    /// overlap lets in, or a proxy that ignores the filter) are dropped client-side.
    /// A range of workspace days `[d1, d2)` lies within `[d1 − 6 h, d2 + 18 h)` UTC in
    /// every time zone (a workspace day starts between 6 h before and 18 h after its
    /// UTC day), so the bound never drops a record Intercom's exact filter gives.
    pub fn range(&self) -> (i64, Option<i64>) {
        if self.days {
            (
                self.from.saturating_mul(DAY).saturating_sub(ZONE_MARGIN),
                Some(self.to.saturating_mul(DAY).saturating_add(3 * ZONE_MARGIN)),
            )
        } else {
            (self.from, Some(self.to))
        }
    }

    /// The watermark once this range and all before it are done: every record below it
    /// has been read. A day range ends at its last day's anchor (the workspace day
    /// before the next range certainly ends after it).
    pub fn safe_end(&self) -> i64 {
        if self.days {
            anchor(self.to - 1)
        } else {
            self.to
        }
    }

    /// Halves of this range, if it can be split.
    pub fn split(&self) -> Option<(Part, Part)> {
        if self.to.saturating_sub(self.from) < 2 {
            return None;
        }
        let mid = self.from + (self.to - self.from) / 2;
        Some((
            Part { to: mid, ..*self },
            Part {
                from: mid,
                to: self.to,
                first_lower: None,
                days: self.days,
            },
        ))
    }
}
