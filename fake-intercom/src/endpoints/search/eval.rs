//! Search evaluation: how one record of a [`SearchRequest`] is judged
//! (matching filters, its sort key, whether it is indexed yet), shared by
//! the full scan here ([`scan`]: every record checked, the matches sorted,
//! the page after the cursor) and the indexed walk in `index`; and the
//! page of results both make.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::endpoints::search::cursor::{encode_cursor, IdKey, Key, SortKey};
use crate::endpoints::search::lag::{IndexCutoff, Jitter};
use crate::endpoints::search::parse::{
    number, timestamp, uses_field, Accessor, Collection, DatePred, FilterKind, Node, Op,
    SearchRequest,
};
use crate::workspace::{ContactLists, Workspace};

/// Per-request lookups some virtual fields need.
#[derive(Default)]
pub(crate) struct Lookup<'a> {
    /// Contact id → person segment ids (only built when a query uses `segment_id`).
    segments: Option<HashMap<&'a str, Vec<&'a str>>>,
    /// The complete lists of the contacts with long ones (their tags).
    long_lists: Option<&'a BTreeMap<String, ContactLists>>,
}

impl<'a> Lookup<'a> {
    /// Build what `req` needs from the workspace's contact segment memberships.
    pub(crate) fn new(req: &SearchRequest, ws: &'a Workspace) -> Lookup<'a> {
        let segments = if uses_field(&req.query, "segment_id") {
            let mut m: HashMap<&str, Vec<&str>> = HashMap::new();
            for (c, s) in &ws.contact_segments {
                m.entry(c.as_str()).or_default().push(s.as_str());
            }
            Some(m)
        } else {
            None
        };
        Lookup {
            segments,
            long_lists: Some(&ws.long_contact_lists),
        }
    }
}

/// The values of a field on one record: none (null or missing), one, or
/// several (list fields).
enum Vals<'a> {
    Empty,
    One(&'a Value),
    Many(Vec<Cow<'a, Value>>),
}

impl<'a> Vals<'a> {
    fn of(v: Option<&'a Value>) -> Vals<'a> {
        match v {
            None | Some(Value::Null) => Vals::Empty,
            Some(Value::Array(a)) => Vals::Many(
                a.iter()
                    .filter(|x| !x.is_null())
                    .map(Cow::Borrowed)
                    .collect(),
            ),
            Some(x) => Vals::One(x),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Value> + '_ {
        let (one, many): (Option<&Value>, &[Cow<'a, Value>]) = match self {
            Vals::Empty => (None, &[]),
            Vals::One(v) => (Some(*v), &[]),
            Vals::Many(l) => (None, l.as_slice()),
        };
        one.into_iter().chain(many.iter().map(|c| c.as_ref()))
    }

    fn first(&self) -> Option<&Value> {
        match self {
            Vals::Empty => None,
            Vals::One(v) => Some(v),
            Vals::Many(l) => l.first().map(|c| c.as_ref()),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Vals::Empty => true,
            Vals::One(_) => false,
            Vals::Many(l) => l.is_empty(),
        }
    }
}

/// The value at `parts` in `rec`, if any.
pub(super) fn walk<'a>(rec: &'a Value, parts: &[String]) -> Option<&'a Value> {
    let mut cur = Some(rec);
    for part in parts {
        cur = cur.and_then(|v| v.get(part.as_str()));
    }
    cur
}

/// What evaluating one record needs besides the record.
struct Eval<'r> {
    coll: Collection,
    lookup: &'r Lookup<'r>,
    /// Precomputed values of the request's paths, one per record (see
    /// `cache`); `None` reads the records themselves.
    cols: Option<&'r [Arc<Vec<Value>>]>,
}

fn values<'r>(access: &Accessor, ev: &Eval<'r>, idx: usize, rec: &'r Value) -> Vals<'r> {
    let lookup = ev.lookup;
    match access {
        Accessor::Path { parts, slot } => match ev.cols {
            Some(cols) => Vals::of(cols.get(*slot).and_then(|c| c.get(idx))),
            None => Vals::of(walk(rec, parts)),
        },
        Accessor::IdsAt(pointer) => Vals::Many(
            rec.pointer(pointer)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|x| x.get("id"))
                .map(Cow::Borrowed)
                .collect(),
        ),
        Accessor::ContactTagIds => {
            let id = rec.get("id").and_then(Value::as_str).unwrap_or_default();
            match lookup.long_lists.and_then(|m| m.get(id)) {
                Some(lists) => {
                    Vals::Many(lists.tags.iter().map(|t| Cow::Owned(json!(t))).collect())
                }
                None => values(&Accessor::IdsAt("/tags/data"), ev, idx, rec),
            }
        }
        Accessor::SegmentIds => {
            let id = rec.get("id").and_then(Value::as_str).unwrap_or_default();
            Vals::Many(
                lookup
                    .segments
                    .as_ref()
                    .and_then(|m| m.get(id))
                    .into_iter()
                    .flatten()
                    .map(|s| Cow::Owned(json!(s)))
                    .collect(),
            )
        }
        Accessor::EmailDomain => match rec
            .get("email")
            .and_then(Value::as_str)
            .and_then(|e| e.rsplit_once('@'))
        {
            Some((_, d)) => Vals::Many(vec![Cow::Owned(json!(d))]),
            None => Vals::Empty,
        },
        Accessor::TicketCategory => {
            let term = match rec.get("category").and_then(Value::as_str) {
                Some("Customer") => "request",
                Some("Back-office") => "task",
                Some("Tracker") => "tracker",
                _ => return Vals::Empty,
            };
            Vals::Many(vec![Cow::Owned(json!(term))])
        }
    }
}

fn loose_eq(x: &Value, q: &Value) -> bool {
    match (x, q) {
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            s.trim().parse::<f64>().ok() == n.as_f64()
        }
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Bool(b), Value::String(s)) | (Value::String(s), Value::Bool(b)) => {
            s.eq_ignore_ascii_case(if *b { "true" } else { "false" })
        }
        _ => x == q,
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn plain_match(coll: Collection, op: Op, q: &Value, vals: &Vals<'_>) -> bool {
    let eq = |q: &Value| {
        if q.is_null() {
            vals.is_empty()
        } else {
            vals.iter().any(|x| loose_eq(x, q))
        }
    };
    let inclusive = coll != Collection::Contacts;
    let cmp = |f: &dyn Fn(f64, f64) -> bool| {
        let Some(qn) = number(q) else { return false };
        vals.iter().filter_map(number).any(|x| f(x, qn))
    };
    let text = |f: &dyn Fn(&str, &str) -> bool| {
        let Some(qs) = q.as_str().map(str::to_lowercase) else {
            return false;
        };
        vals.iter().filter_map(text_of).any(|x| f(&x, &qs))
    };
    match op {
        Op::Eq => eq(q),
        Op::Ne => !eq(q),
        Op::In => q.as_array().is_some_and(|l| l.iter().any(eq)),
        Op::Nin => !q.as_array().is_some_and(|l| l.iter().any(eq)),
        Op::Gt if inclusive => cmp(&|x, y| x >= y),
        Op::Lt if inclusive => cmp(&|x, y| x <= y),
        Op::Gt => cmp(&|x, y| x > y),
        Op::Lt => cmp(&|x, y| x < y),
        Op::Ge => cmp(&|x, y| x >= y),
        Op::Le => cmp(&|x, y| x <= y),
        Op::Contains => text(&|x, y| x.contains(y)),
        Op::NotContains => !text(&|x, y| x.contains(y)),
        Op::StartsWith => text(&|x, y| x.starts_with(y)),
        Op::EndsWith => text(&|x, y| x.ends_with(y)),
    }
}

fn date_match(pred: &DatePred, vals: &Vals<'_>) -> bool {
    let t = vals.first().and_then(timestamp);
    match (pred, t) {
        (DatePred::Within(lo, hi), Some(t)) => {
            lo.map_or(true, |lo| t >= lo) && hi.map_or(true, |hi| t < hi)
        }
        (DatePred::Within(..), None) => false,
        (DatePred::OneOf(set, negated), t) => {
            let hit = t.is_some_and(|t| set.contains(&t));
            hit != *negated
        }
    }
}

fn node_matches<'r>(ev: &Eval<'r>, node: &Node, idx: usize, rec: &'r Value) -> bool {
    match node {
        Node::All(c) => c.iter().all(|n| node_matches(ev, n, idx, rec)),
        Node::Any(c) => c.iter().any(|n| node_matches(ev, n, idx, rec)),
        Node::Filter(f) => {
            let vals = values(&f.access, ev, idx, rec);
            match &f.kind {
                FilterKind::Date(p) => date_match(p, &vals),
                FilterKind::Plain(op, q) => plain_match(ev.coll, *op, q, &vals),
            }
        }
    }
}

/// One page of search results.
#[derive(Debug)]
pub(crate) struct SearchPage<'a> {
    /// The records of the page, in answer order, with their indices.
    pub items: Vec<(usize, &'a Value)>,
    /// Records matching the query now (all pages).
    pub total: usize,
    /// 1-based page number: records sorting before this page / per_page + 1.
    pub page: usize,
    pub per_page: usize,
    pub total_pages: usize,
    /// Cursor of the last item, when more records sort after it.
    pub next_cursor: Option<String>,
}

impl<'a> SearchPage<'a> {
    /// The page of `items` (in answer order), of `total` matching records,
    /// `before` of which sort before the cursor; `last` is the key of the
    /// last item when more records sort after it.
    pub(super) fn new(
        items: Vec<(usize, &'a Value)>,
        last: Option<&Key<'_>>,
        total: usize,
        before: usize,
        per_page: usize,
    ) -> SearchPage<'a> {
        SearchPage {
            items,
            total,
            page: before / per_page + 1,
            per_page,
            total_pages: total.div_ceil(per_page),
            next_cursor: last.map(|k| encode_cursor(&k.0, &k.1)),
        }
    }

    /// The `pages` object of the response.
    pub(crate) fn pages_json(&self) -> Value {
        let mut pages = json!({
            "type": "pages",
            "page": self.page,
            "per_page": self.per_page,
            "total_pages": self.total_pages,
        });
        if let Some(c) = &self.next_cursor {
            pages["next"] = json!({"page": self.page + 1, "starting_after": c});
        }
        pages
    }
}

/// Path slot of `updated_at` in every request.
pub(crate) const UPDATED_AT_SLOT: usize = 1;
/// Path slot of `created_at` in every request.
pub(crate) const CREATED_AT_SLOT: usize = 2;

/// An [`IndexCutoff`] as one request reads it.
struct Cut {
    /// The timestamp the cutoff's `max` bounds.
    field: Accessor,
    /// `updated_at`, which the jitter's lag is drawn from.
    updated: Accessor,
    max: i64,
    jitter: Option<Jitter>,
}

/// One request's view of the records (`'a`: the records; `'r`: the
/// request, its lookups and columns): what both the full scan ([`scan`])
/// and the indexed walk (`index`) ask of a record, so that they share
/// every rule.
pub(super) struct Evaluator<'a, 'r> {
    ev: Eval<'r>,
    records: &'a [Value],
    req: &'r SearchRequest,
    id_access: Accessor,
    /// The index cutoff, if any.
    cutoff: Option<Cut>,
}

impl<'a, 'r> Evaluator<'a, 'r> {
    /// `cols`, when given, are the columns of `req`'s paths over these
    /// `records` (see `cache`); columns of the wrong shape are ignored.
    pub(super) fn new(
        coll: Collection,
        records: &'a [Value],
        lookup: &'r Lookup<'r>,
        req: &'r SearchRequest,
        cols: Option<&'r [Arc<Vec<Value>>]>,
        cutoff: Option<IndexCutoff>,
    ) -> Evaluator<'a, 'r> {
        let cols = cols.filter(|c| {
            c.len() == req.paths.len() && c.iter().all(|col| col.len() == records.len())
        });
        let path = |slot: usize| {
            req.paths.get(slot).map(|parts| Accessor::Path {
                parts: parts.clone(),
                slot,
            })
        };
        let cutoff = cutoff.and_then(|c| {
            Some(Cut {
                field: path(c.field_slot)?,
                updated: path(UPDATED_AT_SLOT)?,
                max: c.max,
                jitter: c.jitter,
            })
        });
        Evaluator {
            ev: Eval { coll, lookup, cols },
            records,
            req,
            id_access: Accessor::Path {
                parts: vec!["id".into()],
                slot: 0,
            },
            cutoff,
        }
    }

    /// Number of records.
    pub(super) fn len(&self) -> usize {
        self.records.len()
    }

    pub(super) fn record(&self, idx: usize) -> &'a Value {
        &self.records[idx]
    }

    /// What the index cutoff asks: each `(object path, max)` is a
    /// timestamp that, plus the record's lag, must not pass `max`; and the
    /// largest lag (0 without a jitter). No limits without a cutoff.
    pub(super) fn cutoff_limits(&self) -> (Vec<(&[String], i64)>, i64) {
        let Some(c) = &self.cutoff else {
            return (Vec::new(), 0);
        };
        let mut limits = Vec::new();
        if let Accessor::Path { parts, .. } = &c.field {
            limits.push((parts.as_slice(), c.max));
        }
        let Some(j) = &c.jitter else {
            return (limits, 0);
        };
        if let Accessor::Path { parts, .. } = &c.updated {
            limits.push((parts.as_slice(), j.now));
        }
        (limits, j.secs.max(0))
    }

    /// Whether record `idx` is in the search index yet (see
    /// [`IndexCutoff`]).
    pub(super) fn visible(&self, idx: usize) -> bool {
        let Some(c) = &self.cutoff else {
            return true;
        };
        let rec = &self.records[idx];
        let stamp = |a: &Accessor| {
            values(a, &self.ev, idx, rec)
                .first()
                .and_then(timestamp)
                .unwrap_or(0)
        };
        let t = stamp(&c.field);
        let Some(j) = &c.jitter else {
            return t <= c.max;
        };
        let updated = stamp(&c.updated);
        let id = match values(&self.id_access, &self.ev, idx, rec) {
            Vals::One(Value::String(s)) => s.as_str(),
            _ => "",
        };
        let lag = j.lag(id, updated);
        t.saturating_add(lag) <= c.max && updated.saturating_add(lag) <= j.now
    }

    /// Whether record `idx` matches `node` (a part of the request's query).
    pub(super) fn matches(&self, node: &Node, idx: usize) -> bool {
        node_matches(&self.ev, node, idx, &self.records[idx])
    }

    /// Record `idx`'s position in the sort order.
    pub(super) fn key(&self, idx: usize) -> Key<'_> {
        let rec = &self.records[idx];
        let sort = match values(&self.req.sort_access, &self.ev, idx, rec) {
            Vals::Empty => SortKey::Null,
            Vals::One(v) => SortKey::from_value(Some(v)).unwrap_or(SortKey::Null),
            Vals::Many(l) => l
                .first()
                .and_then(|v| SortKey::from_value(Some(v)).map(SortKey::into_owned))
                .unwrap_or(SortKey::Null),
        };
        let id = match values(&self.id_access, &self.ev, idx, rec) {
            Vals::One(Value::String(s)) => IdKey::new(s),
            _ => IdKey::Str(Cow::Borrowed("")),
        };
        (sort, id)
    }

    /// Record `idx`'s sort value as a timestamp, when it is a plain JSON
    /// integer timestamp: its sort key is then that number, and a date
    /// filter on the sort field reads that same number.
    pub(super) fn sort_timestamp(&self, idx: usize) -> Option<i64> {
        match values(&self.req.sort_access, &self.ev, idx, &self.records[idx]) {
            Vals::One(v @ Value::Number(n)) if n.is_i64() => timestamp(v),
            _ => None,
        }
    }

    /// Ascending or descending, as the request sorts.
    pub(super) fn directed(&self, a: &Key<'_>, b: &Key<'_>) -> Ordering {
        if self.req.ascending {
            a.cmp(b)
        } else {
            b.cmp(a)
        }
    }
}

/// Run `req` over `records` by the full scan, leaving out those past
/// `cutoff` (not indexed yet). `cols`, when given, are the columns `cache`
/// made for `req` over these `records`.
#[cfg(test)]
pub(super) fn run<'a>(
    coll: Collection,
    records: &'a [Value],
    lookup: &Lookup<'_>,
    req: &SearchRequest,
    cols: Option<&[Arc<Vec<Value>>]>,
    cutoff: Option<IndexCutoff>,
) -> SearchPage<'a> {
    scan(&Evaluator::new(coll, records, lookup, req, cols, cutoff))
}

/// The reference evaluation: every record checked, the matches after the
/// cursor sorted.
pub(super) fn scan<'a>(ev: &Evaluator<'a, '_>) -> SearchPage<'a> {
    let req = ev.req;
    let mut total = 0usize;
    let mut after = Vec::new();
    for idx in 0..ev.len() {
        if !ev.visible(idx) || !ev.matches(&req.query, idx) {
            continue;
        }
        total += 1;
        let key = ev.key(idx);
        if let Some(c) = &req.cursor {
            if ev.directed(&key, c) != Ordering::Greater {
                continue;
            }
        }
        after.push((key, (idx, ev.record(idx))));
    }
    let before = total - after.len();
    let per_page = req.per_page.max(1);
    let has_more = after.len() > per_page;
    if has_more {
        after.select_nth_unstable_by(per_page, |a, b| ev.directed(&a.0, &b.0));
        after.truncate(per_page);
    }
    after.sort_by(|a, b| ev.directed(&a.0, &b.0));
    let last = after.last().map(|(k, _)| k.clone()).filter(|_| has_more);
    let items = after.into_iter().map(|(_, v)| v).collect();
    SearchPage::new(items, last.as_ref(), total, before, per_page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::ApiError;
    use crate::endpoints::search::parse::parse_request;
    use crate::time::{day_start, DAY};

    const TZ: i64 = -5 * 3_600;

    fn parse(coll: Collection, body: Value) -> Result<SearchRequest, ApiError> {
        parse_request(coll, TZ, &body)
    }

    fn recs() -> Vec<Value> {
        (0..10)
            .map(|i| {
                json!({
                    "id": format!("{}", 100 + i),
                    "role": if i % 2 == 0 { "user" } else { "lead" },
                    "email": format!("p{i}@ex{}.com", i % 3),
                    "updated_at": 1_000_000 + (i / 2) * 10,
                    "n": i,
                    "tags": {"data": [{"id": format!("t{}", i % 4)}]},
                })
            })
            .collect()
    }

    fn ids(page: &SearchPage<'_>) -> Vec<String> {
        page.items
            .iter()
            .map(|(_, v)| v["id"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn day_granular_contact_dates() {
        // 2026-03-09 12:00 at UTC-5 = 17:00Z.
        let v = 1_773_075_600;
        let day = day_start(v, TZ); // 2026-03-09 00:00 local = 05:00Z
        assert_eq!(day, 1_773_032_400);
        let q = |op: &str| {
            parse(
                Collection::Contacts,
                json!({"query": {"field": "updated_at", "operator": op, "value": v}}),
            )
            .unwrap()
        };
        let rec = |t: i64| vec![json!({"id": "1", "updated_at": t})];
        let hit = |req: &SearchRequest, t: i64| {
            let r = rec(t);
            run(
                Collection::Contacts,
                &r,
                &Lookup::default(),
                req,
                None,
                None,
            )
            .total
                == 1
        };
        let gt = q(">");
        assert!(!hit(&gt, v + 1));
        assert!(!hit(&gt, day + DAY - 1));
        assert!(hit(&gt, day + DAY));
        let lt = q("<");
        assert!(hit(&lt, day - 1));
        assert!(!hit(&lt, day));
        let eq = q("=");
        assert!(hit(&eq, day));
        assert!(hit(&eq, day + DAY - 1));
        assert!(!hit(&eq, day + DAY));
        assert!(!hit(&eq, day - 1));
    }

    #[test]
    fn second_precision_inclusive_for_conversations() {
        let q = |op: &str| {
            parse(
                Collection::Conversations,
                json!({"query": {"field": "updated_at", "operator": op, "value": "500"}}),
            )
            .unwrap()
        };
        let hit = |req: &SearchRequest, t: i64| {
            let r = vec![json!({"id": "1", "updated_at": t})];
            run(
                Collection::Conversations,
                &r,
                &Lookup::default(),
                req,
                None,
                None,
            )
            .total
                == 1
        };
        assert!(hit(&q(">"), 500));
        assert!(!hit(&q(">"), 499));
        assert!(hit(&q("<"), 500));
        assert!(!hit(&q("<"), 501));
        assert!(hit(&q("="), 500));
        assert!(!hit(&q("="), 501));
        assert!(hit(&q("!="), 501));
    }

    #[test]
    fn plain_operators() {
        let r = recs();
        let count = |query: Value| {
            let req = parse(Collection::Contacts, json!({"query": query})).unwrap();
            run(
                Collection::Contacts,
                &r,
                &Lookup::default(),
                &req,
                None,
                None,
            )
            .total
        };
        // (query, how many of the ten records match)
        let cases = [
            (
                json!({"field": "role", "operator": "=", "value": "user"}),
                5,
            ),
            (
                json!({"field": "role", "operator": "!=", "value": "user"}),
                5,
            ),
            (
                json!({"field": "id", "operator": "IN", "value": ["100", "101", "x"]}),
                2,
            ),
            (
                json!({"field": "id", "operator": "NIN", "value": ["100"]}),
                9,
            ),
            (json!({"field": "n", "operator": ">", "value": 7}), 2),
            (json!({"field": "n", "operator": ">=", "value": 7}), 3),
            (
                json!({"field": "email", "operator": "~", "value": "EX1"}),
                3,
            ),
            (
                json!({"field": "email", "operator": "!~", "value": "ex1"}),
                7,
            ),
            (json!({"field": "email", "operator": "^", "value": "p1"}), 1),
            (
                json!({"field": "email", "operator": "$", "value": "0.com"}),
                4,
            ),
            (
                json!({"field": "email_domain", "operator": "=", "value": "ex2.com"}),
                3,
            ),
            (
                json!({"field": "tag_id", "operator": "=", "value": "t1"}),
                3,
            ),
            (json!({"field": "name", "operator": "=", "value": null}), 10),
            (
                json!({"operator": "AND", "value": [ {"field": "role", "operator": "=", "value": "user"}, {"operator": "OR", "value": [ {"field": "n", "operator": "=", "value": 0}, {"field": "n", "operator": "=", "value": "8"}]}]}),
                2,
            ),
            (json!({"operator": "OR", "value": []}), 0),
            (json!({"operator": "AND", "value": []}), 10),
        ];
        for (query, want) in cases {
            assert_eq!(count(query.clone()), want, "{query}");
        }
    }

    #[test]
    fn cached_columns_give_the_same_pages() {
        let r = recs();
        let cache = crate::endpoints::search::cache::SearchCache::default();
        let mut cursor: Option<String> = None;
        loop {
            let req = parse(
                Collection::Contacts,
                json!({"query": {"operator": "OR", "value": [
                        {"field": "role", "operator": "=", "value": "user"},
                        {"field": "email", "operator": "~", "value": "ex1"}]},
                       "sort": {"field": "email", "order": "ascending"},
                       "pagination": {"per_page": 2, "starting_after": cursor}}),
            )
            .unwrap();
            let cols = cache.columns(7, Collection::Contacts, &r, &req);
            let cutoff = Some(IndexCutoff {
                field_slot: UPDATED_AT_SLOT,
                max: 1_000_030,
                jitter: None,
            });
            let plain = run(
                Collection::Contacts,
                &r,
                &Lookup::default(),
                &req,
                None,
                cutoff,
            );
            let cached = run(
                Collection::Contacts,
                &r,
                &Lookup::default(),
                &req,
                Some(&cols),
                cutoff,
            );
            assert_eq!(ids(&plain), ids(&cached));
            assert_eq!(plain.total, cached.total);
            assert_eq!(plain.next_cursor, cached.next_cursor);
            assert!(plain.total < 10, "the updated_at bound applies");
            cursor = plain.next_cursor.clone();
            if cursor.is_none() {
                break;
            }
        }
        // A new workspace version drops the columns.
        let req = parse(
            Collection::Contacts,
            json!({"query": {"field": "n", "operator": ">", "value": 5}}),
        )
        .unwrap();
        let mut changed = r.clone();
        changed[0]["n"] = json!(100);
        let stale = cache.columns(7, Collection::Contacts, &r, &req);
        let fresh = cache.columns(8, Collection::Contacts, &changed, &req);
        let run_with = |cols: &[Arc<Vec<Value>>]| {
            run(
                Collection::Contacts,
                &changed,
                &Lookup::default(),
                &req,
                Some(cols),
                None,
            )
            .total
        };
        assert_eq!(run_with(&stale), 4);
        assert_eq!(run_with(&fresh), 5);
    }

    #[test]
    fn cursor_walk_is_positional() {
        let mut r = recs();
        let body = |cursor: Option<&str>| {
            json!({
                "query": {"field": "n", "operator": ">", "value": -1},
                "sort": {"field": "updated_at", "order": "ascending"},
                "pagination": {"per_page": 3, "starting_after": cursor},
            })
        };
        let req = parse(Collection::Contacts, body(None)).unwrap();
        let p1 = run(
            Collection::Contacts,
            &r,
            &Lookup::default(),
            &req,
            None,
            None,
        );
        assert_eq!(ids(&p1), ["100", "101", "102"]);
        assert_eq!((p1.page, p1.total, p1.total_pages), (1, 10, 4));
        let c1 = p1.next_cursor.clone().unwrap();
        let first = ids(&p1);
        // Record 100 is updated: it moves to the end and comes back later.
        r[0]["updated_at"] = json!(2_000_000);
        let req = parse(Collection::Contacts, body(Some(&c1))).unwrap();
        let p2 = run(
            Collection::Contacts,
            &r,
            &Lookup::default(),
            &req,
            None,
            None,
        );
        assert_eq!(ids(&p2), ["103", "104", "105"]);
        assert_eq!(p2.page, 1, "two records now sort before the cursor");
        let mut seen = first;
        seen.extend(ids(&p2));
        let mut cursor = p2.next_cursor.clone();
        while let Some(c) = cursor {
            let req = parse(Collection::Contacts, body(Some(&c))).unwrap();
            let p = run(
                Collection::Contacts,
                &r,
                &Lookup::default(),
                &req,
                None,
                None,
            );
            seen.extend(ids(&p));
            cursor = p.next_cursor.clone();
        }
        assert_eq!(seen.len(), 11);
        assert_eq!(seen.last().map(String::as_str), Some("100"));

        // Descending is the default.
        let req = parse(
            Collection::Contacts,
            json!({"query": {"field": "n", "operator": ">", "value": -1},
                   "pagination": {"per_page": 2}}),
        )
        .unwrap();
        let p = run(
            Collection::Contacts,
            &r,
            &Lookup::default(),
            &req,
            None,
            None,
        );
        assert_eq!(ids(&p), ["100", "109"]);
    }
}
