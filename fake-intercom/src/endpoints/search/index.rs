//! Sorted indexes of the searched records and the search path over them:
//! the records (optionally only those matching one `field = "text"`
//! filter, e.g. `role = lead`) in ascending (sort value, id) order, made
//! once per workspace version (see `cache`). A request then needs no sort:
//! date bounds on the sort field (and the contact index cutoff, when it
//! reads the sort field) become a range of the index found by binary
//! search, the cursor a position in it, and the page the next entries —
//! O(log n + page) when no other filter is left to check, else one pass
//! over the range.
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
    entries: Vec<(Key<'static>, u32)>,
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

/// The entries a request can match and what is left to check on each.
struct Narrowed<'q, 'i> {
    range: &'i [(Key<'static>, u32)],
    others: Vec<&'q Node>,
    check_cutoff: bool,
}

/// Narrow `ix` to the timestamps the plan's bounds and the cutoff allow,
/// when its sort values are all timestamps; else everything is left to
/// check record by record.
fn narrow<'q, 'i>(ev: &Evaluator<'_, '_>, plan: &Plan<'q>, ix: &'i SortIndex) -> Narrowed<'q, 'i> {
    let mut others = plan.others.clone();
    let Some(stamps) = &ix.stamps else {
        others.extend(plan.bounds.iter().map(|(node, ..)| *node));
        return Narrowed {
            range: &ix.entries,
            others,
            check_cutoff: ev.cutoff().is_some(),
        };
    };
    let lo = plan.bounds.iter().filter_map(|b| b.1).max();
    let mut hi = plan.bounds.iter().filter_map(|b| b.2).min();
    let mut check_cutoff = false;
    if let Some((path, max)) = ev.cutoff() {
        if *path == plan.key.sort {
            let end = max.saturating_add(1);
            hi = Some(hi.map_or(end, |h| h.min(end)));
        } else {
            check_cutoff = true;
        }
    }
    let a = lo.map_or(0, |lo| stamps.partition_point(|t| *t < lo));
    let b = hi.map_or(stamps.len(), |hi| stamps.partition_point(|t| *t < hi));
    Narrowed {
        range: &ix.entries[a..b.max(a)],
        others,
        check_cutoff,
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
    if n.others.is_empty() && !n.check_cutoff {
        return run_range(ev, req, n.range, per_page);
    }
    let in_order: Box<dyn Iterator<Item = &(Key<'static>, u32)>> = if req.ascending {
        Box::new(n.range.iter())
    } else {
        Box::new(n.range.iter().rev())
    };
    let (mut total, mut before) = (0, 0);
    let mut items = Vec::new();
    let mut last = None;
    let mut has_more = false;
    for (key, idx) in in_order {
        let idx = *idx as usize;
        if (n.check_cutoff && !ev.visible(idx)) || !n.others.iter().all(|o| ev.matches(o, idx)) {
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

/// The page of `range` when every entry in it matches: positions found by
/// binary search, only the page's entries read.
fn run_range<'a>(
    ev: &Evaluator<'a, '_>,
    req: &SearchRequest,
    range: &[(Key<'static>, u32)],
    per_page: usize,
) -> SearchPage<'a> {
    let total = range.len();
    let (before, after): (usize, Box<dyn Iterator<Item = &(Key<'static>, u32)>>) = if req.ascending
    {
        let p = req
            .cursor
            .as_ref()
            .map_or(0, |c| range.partition_point(|e| e.0 <= *c));
        (p, Box::new(range[p..].iter()))
    } else {
        let q = req
            .cursor
            .as_ref()
            .map_or(total, |c| range.partition_point(|e| e.0 < *c));
        (total - q, Box::new(range[..q].iter().rev()))
    };
    let has_more = total - before > per_page;
    let page: Vec<&(Key<'static>, u32)> = after.take(per_page).collect();
    let last = page.last().map(|e| &e.0).filter(|_| has_more);
    let items = page
        .iter()
        .map(|e| (e.1 as usize, ev.record(e.1 as usize)))
        .collect();
    SearchPage::new(items, last, total, before, per_page)
}
