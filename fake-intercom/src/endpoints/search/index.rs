//! Sorted indexes of the searched records and the search path over them:
//! the records (optionally only those matching one `field = "text"`
//! filter, e.g. `role = lead`) in ascending (sort value, id) order, made
//! once per workspace version (see `cache`). A request then needs no sort:
//! date bounds on the sort field (and the index cutoff, when it reads the
//! sort field) become a range of the index found by binary search, the
//! cursor a position in it, and the page the next entries — O(log n +
//! page) when no other filter is left to check (plus one pass over the
//! range's last `lag` seconds with a jitter), else one pass over the
//! range.
//!
//! Every record is still judged by the `eval` rules (the same sort keys,
//! filters and cutoff), so the answers are those of the full scan; records
//! that could order differently (equal keys) are not indexed, and dates
//! narrow the range only when every sort value is an integer timestamp.

use std::cmp::Ordering;

use serde_json::Value;

use crate::endpoints::search::cursor::Key;
use crate::endpoints::search::eval::{Evaluator, SearchPage};
use crate::endpoints::search::parse::{
    Accessor, Collection, DatePred, Filter, FilterKind, Node, Op, SearchRequest,
};

/// Which index a request needs: the records of a collection sorted by the
/// value at `sort`, only those matching `field = "text"` when `subset` is
/// `(field path, text)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct IndexKey {
    coll: Collection,
    sort: Vec<String>,
    subset: Option<(Vec<String>, String)>,
}

/// Records in ascending (sort value, id) order.
#[derive(Debug)]
pub(crate) struct SortIndex {
    /// Each record's sort position and index.
    entries: Vec<Entry>,
    /// The entries' sort values as timestamps, when every one is an
    /// integer timestamp (see [`Evaluator::sort_timestamp`]).
    stamps: Option<Vec<i64>>,
    /// How many records the index was made over (not only those in it).
    records: usize,
}

impl SortIndex {
    /// How many records the index was made over.
    pub(crate) fn records(&self) -> usize {
        self.records
    }
}

/// How a request runs over an index.
#[derive(Debug)]
pub(super) struct Plan<'q> {
    key: IndexKey,
    /// The filter the index is restricted to.
    subset: Option<&'q Node>,
    /// Date filters on the sort field, with their bounds (`lo <= t < hi`).
    bounds: Vec<(&'q Node, Option<i64>, Option<i64>)>,
    /// Every other part of the query, checked record by record.
    others: Vec<&'q Node>,
}

impl Plan<'_> {
    pub(super) fn key(&self) -> &IndexKey {
        &self.key
    }
}

/// The parts of an AND (nested ANDs flattened).
fn conjuncts<'q>(node: &'q Node, out: &mut Vec<&'q Node>) {
    match node {
        Node::All(children) => children.iter().for_each(|c| conjuncts(c, out)),
        other => out.push(other),
    }
}

/// The plan of `req`, if its sort field is an object path (else only the
/// full scan applies).
pub(super) fn plan(coll: Collection, req: &SearchRequest) -> Option<Plan<'_>> {
    let Accessor::Path { parts: sort, .. } = &req.sort_access else {
        return None;
    };
    let mut parts = Vec::new();
    conjuncts(&req.query, &mut parts);
    let mut plan = Plan {
        key: IndexKey {
            coll,
            sort: sort.clone(),
            subset: None,
        },
        subset: None,
        bounds: Vec::new(),
        others: Vec::new(),
    };
    for node in parts {
        let Node::Filter(Filter {
            access: Accessor::Path { parts: path, .. },
            kind,
            ..
        }) = node
        else {
            plan.others.push(node);
            continue;
        };
        match kind {
            FilterKind::Date(DatePred::Within(lo, hi)) if path == sort => {
                plan.bounds.push((node, *lo, *hi));
            }
            FilterKind::Plain(Op::Eq, Value::String(text)) if plan.subset.is_none() => {
                plan.key.subset = Some((path.clone(), text.clone()));
                plan.subset = Some(node);
            }
            _ => plan.others.push(node),
        }
    }
    Some(plan)
}

/// The index of `plan` over `ev`'s records, or `None` when two records
/// share a sort position (their order is the full scan's alone).
pub(super) fn build(ev: &Evaluator<'_, '_>, plan: &Plan<'_>) -> Option<SortIndex> {
    let mut entries = Vec::new();
    for idx in 0..ev.len() {
        if plan.subset.is_some_and(|n| !ev.matches(n, idx)) {
            continue;
        }
        let (sort, id) = ev.key(idx);
        entries.push((
            (sort.into_owned(), id.into_owned()),
            u32::try_from(idx).ok()?,
        ));
    }
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    if entries.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    let stamps = entries
        .iter()
        .map(|(_, idx)| ev.sort_timestamp(*idx as usize))
        .collect();
    Some(SortIndex {
        entries,
        stamps,
        records: ev.len(),
    })
}

/// An index entry: a record's sort position and index.
type Entry = (Key<'static>, u32);

/// The entries a request can match and what is left to check on each.
struct Narrowed<'q, 'i> {
    range: &'i [Entry],
    others: Vec<&'q Node>,
    /// Entries of `range` from this position on need the index cutoff
    /// checked (`range.len()`: none do).
    check_from: usize,
}

/// Narrow `ix` to the timestamps the plan's bounds and the index cutoff
/// allow, when its sort values are all timestamps; else everything is left
/// to check record by record. A cutoff limit on the sort field ends the
/// range, and with a jitter of at most `lag` seconds only the entries
/// within `lag` of that end need checking.
fn narrow<'q, 'i>(ev: &Evaluator<'_, '_>, plan: &Plan<'q>, ix: &'i SortIndex) -> Narrowed<'q, 'i> {
    let mut others = plan.others.clone();
    let (limits, lag) = ev.cutoff_limits();
    let Some(stamps) = &ix.stamps else {
        others.extend(plan.bounds.iter().map(|(node, ..)| *node));
        let check_from = if limits.is_empty() {
            ix.entries.len()
        } else {
            0
        };
        return Narrowed {
            range: &ix.entries,
            others,
            check_from,
        };
    };
    let lo = plan.bounds.iter().filter_map(|b| b.1).max();
    let mut hi = plan.bounds.iter().filter_map(|b| b.2).min();
    // Entries with a timestamp up to `sure` pass every limit whatever their lag.
    let mut sure: Option<i64> = None;
    let mut check_all = false;
    for (path, max) in limits {
        if path != plan.key.sort.as_slice() {
            check_all = true;
            continue;
        }
        let end = max.saturating_add(1);
        hi = Some(hi.map_or(end, |h| h.min(end)));
        let certain = max.saturating_sub(lag);
        sure = Some(sure.map_or(certain, |s| s.min(certain)));
    }
    let a = lo.map_or(0, |lo| stamps.partition_point(|t| *t < lo));
    let b = hi.map_or(stamps.len(), |hi| stamps.partition_point(|t| *t < hi));
    let b = b.max(a);
    let check_from = match sure {
        _ if check_all => 0,
        Some(sure) => stamps.partition_point(|t| *t <= sure).clamp(a, b) - a,
        None => b - a,
    };
    Narrowed {
        range: &ix.entries[a..b],
        others,
        check_from,
    }
}

/// Run the request of `ev` over `ix`, the index of `plan`.
pub(super) fn run<'a>(
    ev: &Evaluator<'a, '_>,
    req: &SearchRequest,
    plan: &Plan<'_>,
    ix: &SortIndex,
) -> SearchPage<'a> {
    let n = narrow(ev, plan, ix);
    let per_page = req.per_page.max(1);
    if n.others.is_empty() {
        let (head, rest) = n.range.split_at(n.check_from);
        let tail = rest
            .iter()
            .filter(|(_, idx)| ev.visible(*idx as usize))
            .collect();
        return run_range(ev, req, &Seq { head, tail }, per_page);
    }
    let positions = n.range.iter().enumerate();
    let in_order: Box<dyn Iterator<Item = (usize, &Entry)>> = if req.ascending {
        Box::new(positions)
    } else {
        Box::new(positions.rev())
    };
    let (mut total, mut before) = (0, 0);
    let mut items = Vec::new();
    let mut last = None;
    let mut has_more = false;
    for (pos, (key, idx)) in in_order {
        let idx = *idx as usize;
        let hidden = pos >= n.check_from && !ev.visible(idx);
        if hidden || !n.others.iter().all(|o| ev.matches(o, idx)) {
            continue;
        }
        total += 1;
        if req
            .cursor
            .as_ref()
            .is_some_and(|c| ev.directed(key, c) != Ordering::Greater)
        {
            before += 1;
        } else if items.len() < per_page {
            items.push((idx, ev.record(idx)));
            last = Some(key);
        } else {
            has_more = true;
        }
    }
    SearchPage::new(items, last.filter(|_| has_more), total, before, per_page)
}

/// Entries in ascending order, every one matching: a run of the index,
/// then some chosen entries sorting after it (those of the range's end
/// that the index cutoff lets through).
struct Seq<'i> {
    head: &'i [Entry],
    tail: Vec<&'i Entry>,
}

impl<'i> Seq<'i> {
    fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    fn get(&self, i: usize) -> Option<&'i Entry> {
        match i.checked_sub(self.head.len()) {
            None => self.head.get(i),
            Some(j) => self.tail.get(j).copied(),
        }
    }

    /// The number of leading entries for which `pred` holds (it must hold
    /// for a prefix), by binary search.
    fn partition_point(&self, pred: impl Fn(&Entry) -> bool) -> usize {
        let h = self.head.partition_point(&pred);
        if h < self.head.len() {
            return h;
        }
        h + self.tail.partition_point(|e| pred(e))
    }
}

/// The page of `seq`: positions found by binary search, only the page's
/// entries read.
fn run_range<'a>(
    ev: &Evaluator<'a, '_>,
    req: &SearchRequest,
    seq: &Seq<'_>,
    per_page: usize,
) -> SearchPage<'a> {
    let total = seq.len();
    let (before, page): (usize, Vec<&Entry>) = if req.ascending {
        let p = req
            .cursor
            .as_ref()
            .map_or(0, |c| seq.partition_point(|e| e.0 <= *c));
        let page = (p..total).take(per_page).filter_map(|i| seq.get(i));
        (p, page.collect())
    } else {
        let q = req
            .cursor
            .as_ref()
            .map_or(total, |c| seq.partition_point(|e| e.0 < *c));
        let page = (0..q).rev().take(per_page).filter_map(|i| seq.get(i));
        (total - q, page.collect())
    };
    let has_more = total - before > per_page;
    let last = page.last().map(|e| &e.0).filter(|_| has_more);
    let items = page
        .iter()
        .map(|e| (e.1 as usize, ev.record(e.1 as usize)))
        .collect();
    SearchPage::new(items, last, total, before, per_page)
}
