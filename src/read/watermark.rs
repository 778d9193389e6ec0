//! How far a read has come, as a watermark: the cursor value below which every record
//! has been emitted. A read is a row of contiguous units (the `updated_at` ranges of a
//! partitioned search, the windows of activity logs, or one unit for a walk), done in
//! any order; the watermark is the end of the longest run of finished units from the
//! start. A unit counts only once it is done, that is once its walk has ended and
//! added up ([`crate::walk`]): until then a page missing in its middle could not
//! be told from a page still to come, so nothing inside it is claimed. Resuming from
//! the watermark (inclusive) loses nothing.

use super::keep_max;

/// One unit of a read.
#[derive(Debug, Clone, PartialEq)]
struct Unit {
    /// The unit's key (its start), for [`Watermark::seen`] and [`Watermark::done`].
    start: i64,
    /// The watermark once this unit and all before it are done; `None` for an
    /// open-ended last unit, whose highest emitted cursor is then the watermark.
    safe_end: Option<i64>,
    done: bool,
    max_seen: Option<i64>,
}

/// The progress of one read.
#[derive(Debug, Clone)]
pub struct Watermark {
    /// The watermark before any unit is done: the read's inclusive lower bound.
    lower: i64,
    units: Vec<Unit>,
}

impl Watermark {
    /// A read from `lower` with no units yet.
    pub fn new(lower: i64) -> Watermark {
        Watermark {
            lower,
            units: Vec::new(),
        }
    }

    /// Add a unit at the end (units are added in order, contiguous).
    pub fn add(&mut self, start: i64, safe_end: Option<i64>) {
        self.units.push(Unit {
            start,
            safe_end,
            done: false,
            max_seen: None,
        });
    }

    /// Replace the unfinished unit `start` by two: `[start, mid)` ending safely at
    /// `mid_safe_end`, and `[mid, …)` with the old unit's end. Nothing seen in the old
    /// unit counts any more (its records are read again by the halves).
    pub fn split(&mut self, start: i64, mid: i64, mid_safe_end: i64) {
        if let Some(i) = self.units.iter().position(|u| u.start == start) {
            let old = self.units[i].clone();
            self.units[i] = Unit {
                start,
                safe_end: Some(mid_safe_end),
                done: false,
                max_seen: None,
            };
            self.units.insert(
                i + 1,
                Unit {
                    start: mid,
                    safe_end: old.safe_end,
                    done: false,
                    max_seen: None,
                },
            );
        }
    }

    /// Unit `start` has emitted a record with cursor `value`.
    pub fn seen(&mut self, start: i64, value: i64) {
        if let Some(u) = self.units.iter_mut().find(|u| u.start == start) {
            keep_max(&mut u.max_seen, value);
        }
    }

    /// Unit `start` is done: all its records are emitted.
    pub fn done(&mut self, start: i64) {
        if let Some(u) = self.units.iter_mut().find(|u| u.start == start) {
            u.done = true;
        }
    }

    /// Whether every unit is done.
    pub fn complete(&self) -> bool {
        self.units.iter().all(|u| u.done)
    }

    /// The watermark: every record with a cursor below it has been emitted.
    pub fn position(&self) -> i64 {
        let mut w = self.lower;
        for u in &self.units {
            if !u.done {
                return w;
            }
            let seen = u.max_seen.map_or(w, |m| m.max(w));
            w = u.safe_end.map_or(seen, |e| e.max(w));
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_counts_once_it_is_done() {
        let mut w = Watermark::new(100);
        w.add(100, None);
        assert_eq!(w.position(), 100);
        w.seen(100, 150);
        w.seen(100, 140);
        assert_eq!(w.position(), 100, "a page may still be missing before 150");
        w.done(100);
        assert!(w.complete());
        assert_eq!(w.position(), 150);
    }

    #[test]
    fn ranges_count_only_from_the_start_without_gaps() {
        let mut w = Watermark::new(0);
        w.add(0, Some(100));
        w.add(100, Some(200));
        w.add(200, None);
        // Later ranges finishing first move nothing.
        w.seen(200, 250);
        w.done(200);
        w.seen(100, 180);
        w.done(100);
        assert_eq!(w.position(), 0);
        // The first range in progress claims nothing yet.
        w.seen(0, 40);
        assert_eq!(w.position(), 0);
        w.done(0);
        // All done: the open last range's highest cursor.
        assert_eq!(w.position(), 250);
        assert!(w.complete());
    }

    #[test]
    fn an_empty_finished_range_advances_to_its_end() {
        let mut w = Watermark::new(10);
        w.add(10, Some(100));
        w.add(100, Some(300));
        w.done(10);
        assert_eq!(w.position(), 100);
        w.seen(100, 120);
        assert_eq!(w.position(), 100);
        w.done(100);
        assert_eq!(w.position(), 300);
    }

    #[test]
    fn a_split_range_starts_over() {
        let mut w = Watermark::new(0);
        w.add(0, None);
        w.seen(0, 30);
        w.split(0, 500, 490);
        assert_eq!(w.position(), 0, "the half-read range is read again");
        w.done(0);
        assert_eq!(w.position(), 490);
        w.seen(500, 600);
        w.done(500);
        assert_eq!(w.position(), 600);
    }
}
