//! Search evaluation: a [`SearchRequest`] run over records, matching
//! filters, sorting, paging after the cursor, leaving out records not yet
//! indexed; and the per-field column cache that makes repeated searches of
//! a large workspace cheap.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::endpoints::search::cursor::{encode_cursor, IdKey, Key, SortKey};
use crate::endpoints::search::parse::{
    number, timestamp, uses_field, Accessor, Collection, DatePred, FilterKind, Node, Op,
    SearchRequest,
};

/// Per-request lookups some virtual fields need.
#[derive(Default)]
pub(crate) struct Lookup<'a> {
    /// Contact id → person segment ids (only built when a query uses `segment_id`).
    segments: Option<HashMap<&'a str, Vec<&'a str>>>,
}

impl<'a> Lookup<'a> {
    /// Build what `req` needs from the contact segment memberships.
    pub(crate) fn new(req: &SearchRequest, contact_segments: &'a [(String, String)]) -> Lookup<'a> {
        let segments = if uses_field(&req.query, "segment_id") {
            let mut m: HashMap<&str, Vec<&str>> = HashMap::new();
            for (c, s) in contact_segments {
                m.entry(c.as_str()).or_default().push(s.as_str());
            }
            Some(m)
        } else {
            None
        };
        Lookup { segments }
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

fn walk<'a>(rec: &'a Value, parts: &[String]) -> Option<&'a Value> {
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
    /// [`SearchCache`]); `None` reads the records themselves.
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

/// Per-field columns of the searched records, reused across requests while
/// the workspace does not change: a field read from 100 000 JSON objects
/// costs tens of milliseconds, from a column well under one.
#[derive(Debug, Default)]
pub(crate) struct SearchCache {
    version: u64,
    columns: HashMap<(Collection, Vec<String>), Arc<Vec<Value>>>,
}

impl SearchCache {
    /// The columns of `req`'s paths over `records`, in [`SearchRequest`]
    /// path order. `version` identifies the workspace state: a different
    /// one drops every cached column.
    pub(crate) fn columns(
        &mut self,
        version: u64,
        coll: Collection,
        records: &[Value],
        req: &SearchRequest,
    ) -> Vec<Arc<Vec<Value>>> {
        if version != self.version {
            self.columns.clear();
            self.version = version;
        }
        req.paths
            .iter()
            .map(|p| {
                let key = (coll, p.clone());
                if let Some(c) = self.columns.get(&key) {
                    if c.len() == records.len() {
                        return c.clone();
                    }
                }
                let col: Arc<Vec<Value>> = Arc::new(
                    records
                        .iter()
                        .map(|r| walk(r, p).cloned().unwrap_or(Value::Null))
                        .collect(),
                );
                self.columns.insert(key, col.clone());
                col
            })
            .collect()
    }
}

/// One page of search results.
#[derive(Debug)]
pub(crate) struct SearchPage<'a> {
    pub items: Vec<&'a Value>,
    /// Records matching the query now (all pages).
    pub total: usize,
    /// 1-based page number: records sorting before this page / per_page + 1.
    pub page: usize,
    pub per_page: usize,
    pub total_pages: usize,
    /// Cursor of the last item, when more records sort after it.
    pub next_cursor: Option<String>,
}

impl SearchPage<'_> {
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

/// Records not yet in the search index: those whose timestamp at path slot
/// `field_slot` ([`UPDATED_AT_SLOT`] or [`CREATED_AT_SLOT`]) is after `max`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IndexCutoff {
    pub field_slot: usize,
    pub max: i64,
}

/// Run `req` over `records`, leaving out those past `cutoff` (not indexed
/// yet). `cols`, when given, are the columns [`SearchCache::columns`] made
/// for `req` over these `records`.
pub(crate) fn run<'a>(
    coll: Collection,
    records: &'a [Value],
    lookup: &Lookup<'_>,
    req: &SearchRequest,
    cols: Option<&[Arc<Vec<Value>>]>,
    cutoff: Option<IndexCutoff>,
) -> SearchPage<'a> {
    let cols = cols
        .filter(|c| c.len() == req.paths.len() && c.iter().all(|col| col.len() == records.len()));
    let ev = Eval { coll, lookup, cols };
    let id_access = Accessor::Path {
        parts: vec!["id".into()],
        slot: 0,
    };
    let cutoff_access = cutoff.and_then(|c| {
        req.paths.get(c.field_slot).map(|parts| {
            (
                Accessor::Path {
                    parts: parts.clone(),
                    slot: c.field_slot,
                },
                c.max,
            )
        })
    });
    let directed = |a: &Key<'_>, b: &Key<'_>| {
        if req.ascending {
            a.cmp(b)
        } else {
            b.cmp(a)
        }
    };
    let mut total = 0usize;
    let mut after = Vec::new();
    for (idx, rec) in records.iter().enumerate() {
        if let Some((access, max)) = &cutoff_access {
            let t = values(access, &ev, idx, rec)
                .first()
                .and_then(timestamp)
                .unwrap_or(0);
            if t > *max {
                continue;
            }
        }
        if !node_matches(&ev, &req.query, idx, rec) {
            continue;
        }
        total += 1;
        let sort = match values(&req.sort_access, &ev, idx, rec) {
            Vals::Empty => SortKey::Null,
            Vals::One(v) => SortKey::from_value(Some(v)).unwrap_or(SortKey::Null),
            Vals::Many(l) => l
                .first()
                .and_then(|v| SortKey::from_value(Some(v)).map(SortKey::into_owned))
                .unwrap_or(SortKey::Null),
        };
        let id = match values(&id_access, &ev, idx, rec) {
            Vals::One(Value::String(s)) => IdKey::new(s),
            _ => IdKey::Str(Cow::Borrowed("")),
        };
        let key: Key<'_> = (sort, id);
        if let Some(c) = &req.cursor {
            if directed(&key, c) != Ordering::Greater {
                continue;
            }
        }
        after.push((key, rec));
    }
    let before = total - after.len();
    let per_page = req.per_page.max(1);
    let has_more = after.len() > per_page;
    if has_more {
        after.select_nth_unstable_by(per_page, |a, b| directed(&a.0, &b.0));
        after.truncate(per_page);
    }
    after.sort_by(|a, b| directed(&a.0, &b.0));
    let next_cursor = if has_more {
        after.last().map(|(k, _)| encode_cursor(&k.0, &k.1))
    } else {
        None
    };
    SearchPage {
        items: after.into_iter().map(|(_, v)| v).collect(),
        total,
        page: before / per_page + 1,
        per_page,
        total_pages: total.div_ceil(per_page),
        next_cursor,
    }
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
            .map(|v| v["id"].as_str().unwrap().to_string())
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
        assert_eq!(
            count(json!({"field": "role", "operator": "=", "value": "user"})),
            5
        );
        assert_eq!(
            count(json!({"field": "role", "operator": "!=", "value": "user"})),
            5
        );
        assert_eq!(
            count(json!({"field": "id", "operator": "IN", "value": ["100", "101", "x"]})),
            2
        );
        assert_eq!(
            count(json!({"field": "id", "operator": "NIN", "value": ["100"]})),
            9
        );
        assert_eq!(count(json!({"field": "n", "operator": ">", "value": 7})), 2);
        assert_eq!(
            count(json!({"field": "n", "operator": ">=", "value": 7})),
            3
        );
        assert_eq!(
            count(json!({"field": "email", "operator": "~", "value": "EX1"})),
            3
        );
        assert_eq!(
            count(json!({"field": "email", "operator": "!~", "value": "ex1"})),
            7
        );
        assert_eq!(
            count(json!({"field": "email", "operator": "^", "value": "p1"})),
            1
        );
        assert_eq!(
            count(json!({"field": "email", "operator": "$", "value": "0.com"})),
            4
        );
        assert_eq!(
            count(json!({"field": "email_domain", "operator": "=", "value": "ex2.com"})),
            3
        );
        assert_eq!(
            count(json!({"field": "tag_id", "operator": "=", "value": "t1"})),
            3
        );
        assert_eq!(
            count(json!({"field": "name", "operator": "=", "value": null})),
            10
        );
        assert_eq!(
            count(json!({"operator": "AND", "value": [
                {"field": "role", "operator": "=", "value": "user"},
                {"operator": "OR", "value": [
                    {"field": "n", "operator": "=", "value": 0},
                    {"field": "n", "operator": "=", "value": "8"}]}]})),
            2
        );
        assert_eq!(count(json!({"operator": "OR", "value": []})), 0);
        assert_eq!(count(json!({"operator": "AND", "value": []})), 10);
    }

    #[test]
    fn cached_columns_give_the_same_pages() {
        let r = recs();
        let mut cache = SearchCache::default();
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
