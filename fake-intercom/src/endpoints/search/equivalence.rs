//! Property test of the indexed search path: for random workspaces
//! (ties, duplicate ids, odd `updated_at` values), random queries
//! (`updated_at`/`created_at` bounds, role filters, OR groups, sort field
//! and order, page sizes, the index cutoff: the contact delay and the
//! per-record jitter) and random cursors,
//! with records changed between pages, every page the index gives (and
//! its answer's bytes) is the one the full scan gives.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use serde_json::{json, Value};

use crate::config::FakeConfig;
use crate::endpoints::context::Store;
use crate::endpoints::search::cursor::{encode_cursor, IdKey, SortKey};
use crate::endpoints::search::eval::{
    scan, Evaluator, Lookup, SearchPage, CREATED_AT_SLOT, UPDATED_AT_SLOT,
};
use crate::endpoints::search::lag::{IndexCutoff, Jitter};
use crate::endpoints::search::parse::{parse_request, Collection};
use crate::endpoints::search::{answer, index, page_of, records_of};
use crate::rng::Rng;
use crate::time::{day_start, DAY};

const T0: i64 = 1_700_000_000;
const COLLECTIONS: [Collection; 3] = [
    Collection::Contacts,
    Collection::Conversations,
    Collection::Tickets,
];

/// A store over a workspace with no generated contacts, conversations or
/// tickets (the test puts its own).
fn store() -> Store {
    let config = FakeConfig {
        contacts: 0,
        companies: 0,
        conversations: 0,
        tickets: 0,
        activity_logs: 0,
        ..FakeConfig::default()
    };
    Store::new(config, SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// A timestamp near the others: often one of 40 shared ones (ties, and
/// the start of a day in each test time zone), else any second.
fn stamp(rng: &mut Rng) -> i64 {
    let midnight = day_start(T0, 0);
    if rng.chance(0.5) {
        let offset = rng.pick(&[0, 5 * 3_600, 12 * 3_600, 18 * 3_600 + 1_800]);
        midnight + rng.range(0, 9) * DAY + offset.copied().unwrap_or(0)
    } else {
        T0 + rng.range(0, 10 * DAY)
    }
}

/// An `updated_at` that is sometimes not an integer timestamp (`odd`).
fn updated_at(rng: &mut Rng, odd: bool) -> Option<Value> {
    let t = stamp(rng);
    if !odd || rng.chance(0.8) {
        return Some(json!(t));
    }
    match rng.below(5) {
        0 => None,
        1 => Some(Value::Null),
        2 => Some(json!(t as f64 + 0.5)),
        3 => Some(json!(t.to_string())),
        _ => Some(json!([t])),
    }
}

fn record(rng: &mut Rng, coll: Collection, serial: usize, odd: bool) -> Value {
    let id = match coll {
        Collection::Contacts => format!("{:x}{serial:04}", 0x6500_0000 + rng.below(1 << 20)),
        _ => (1000 + serial).to_string(),
    };
    let mut rec = json!({
        "id": id,
        "created_at": stamp(rng) - DAY,
        "email": format!("{}@ex{}.com", rng.alnum(4), rng.below(3)),
    });
    if let Some(t) = updated_at(rng, odd) {
        rec["updated_at"] = t;
    }
    if let Some(role) = rng
        .pick(&["user", "lead", "user"])
        .filter(|_| rng.chance(0.95))
    {
        rec["role"] = json!(role);
    }
    rec
}

/// Random records; with `odd`, some odd `updated_at`s and duplicate ids.
fn records(rng: &mut Rng, coll: Collection, odd: bool) -> Vec<Value> {
    let n = rng.index(120);
    let mut out: Vec<Value> = (0..n).map(|i| record(rng, coll, i, odd)).collect();
    if odd && n > 1 && rng.chance(0.5) {
        let (a, b) = (rng.index(n), rng.index(n));
        out[a]["id"] = out[b]["id"].clone();
        out[a]["updated_at"] = out[b]["updated_at"].clone();
    }
    out
}

/// A date filter on `field`, with an operator `coll` accepts.
fn date_filter(rng: &mut Rng, coll: Collection, field: &str) -> Value {
    let ops: &[&str] = match coll {
        Collection::Contacts => &[">", "<", "=", ">", "<"],
        Collection::Conversations => &[">", "<", "=", "!="],
        Collection::Tickets => &[">", "<", "=", ">=", "<="],
    };
    let t = if rng.chance(0.5) {
        stamp(rng)
    } else {
        T0 + rng.range(-DAY, 11 * DAY)
    };
    json!({"field": field, "operator": rng.word(ops), "value": t})
}

/// A random query: date bounds, a role filter, sometimes an OR group.
fn query(rng: &mut Rng, coll: Collection) -> Value {
    let mut parts = Vec::new();
    for _ in 0..rng.below(4) {
        let field = if rng.chance(0.85) {
            "updated_at"
        } else {
            "created_at"
        };
        parts.push(date_filter(rng, coll, field));
    }
    if rng.chance(0.5) {
        let op = if rng.chance(0.85) { "=" } else { "!=" };
        let role = rng.word(&["lead", "user", "lead", "nobody"]);
        parts.push(json!({"field": "role", "operator": op, "value": role}));
    }
    if rng.chance(0.1) {
        parts.push(json!({"operator": "OR", "value": [
            {"field": "role", "operator": "=", "value": "lead"},
            {"field": "email", "operator": "~", "value": "ex1"}]}));
    }
    if parts.len() == 1 && rng.chance(0.5) {
        return parts.remove(0);
    }
    json!({"operator": "AND", "value": parts})
}

/// A search body: the query, a sort (mostly `updated_at`), a page size.
fn body(rng: &mut Rng, coll: Collection) -> Value {
    let mut b = json!({"query": query(rng, coll),
                       "pagination": {"per_page": rng.range(1, 12)}});
    if rng.chance(0.9) {
        let field = rng.word(&[
            "updated_at",
            "updated_at",
            "updated_at",
            "created_at",
            "email",
            "id",
            "role",
        ]);
        let mut sort = json!({"field": field});
        if let Some(order) = rng.pick(&["ascending", "descending"]) {
            if rng.chance(0.9) {
                sort["order"] = json!(order);
            }
        }
        b["sort"] = sort;
    }
    b
}

/// A cursor at a random position (on no record, mostly).
fn random_cursor(rng: &mut Rng) -> String {
    let id = (1000 + rng.below(130)).to_string();
    encode_cursor(&SortKey::Num(stamp(rng) as f64), &IdKey::new(&id))
}

/// A random change: a record's `updated_at` or role changed, or a record added.
fn mutate(rng: &mut Rng, store: &Store, coll: Collection, odd: bool) {
    store.write_ws(|ws| {
        let list = match coll {
            Collection::Contacts => &mut ws.contacts,
            Collection::Conversations => &mut ws.conversations,
            Collection::Tickets => &mut ws.tickets,
        };
        let n = list.len();
        match rng.below(3) {
            0 if n > 0 => list[rng.index(n)]["updated_at"] = json!(stamp(rng) + DAY),
            1 if n > 0 => list[rng.index(n)]["role"] = json!(rng.word(&["user", "lead"])),
            _ => list.push(record(rng, coll, n + 200, odd)),
        }
    });
}

/// What must be the same in both pages.
fn summary(page: &SearchPage<'_>) -> (Vec<usize>, usize, usize, usize, Option<String>) {
    let items = page.items.iter().map(|(i, _)| *i).collect();
    let next = page.next_cursor.clone();
    (items, page.total, page.page, page.total_pages, next)
}

/// Answer `body` both ways; returns the next cursor and whether the
/// index answered.
fn check(
    store: &Store,
    coll: Collection,
    body: &Value,
    cutoff: Option<IndexCutoff>,
) -> (Option<String>, bool) {
    let ws = store.read_ws();
    let version = store.ws_version.load(Ordering::SeqCst);
    let req = parse_request(coll, ws.timezone_offset_secs, body).expect("valid body");
    let lookup = Lookup::new(&req, &ws);
    let records = records_of(&ws, coll);
    let cols = store.search_cache.columns(version, coll, records, &req);
    let ev = Evaluator::new(coll, records, &lookup, &req, Some(&cols), cutoff);
    let fast = page_of(store, version, coll, &req, &ev);
    let slow = scan(&Evaluator::new(coll, records, &lookup, &req, None, cutoff));
    assert_eq!(summary(&fast), summary(&slow), "{coll:?} {body} {cutoff:?}");
    let texts = store.search_cache.texts(version, coll, records.len());
    let bytes = serde_json::to_vec(&answer(coll, &fast, &texts, 500)).expect("JSON");
    if coll == Collection::Contacts {
        let items: Vec<&Value> = slow.items.iter().map(|(_, v)| *v).collect();
        let plain = json!({"type": "list", "data": items, "total_count": slow.total,
                           "pages": slow.pages_json()});
        assert_eq!(bytes, serde_json::to_vec(&plain).expect("JSON"), "{body}");
    } else {
        let plain = serde_json::to_vec(&answer(coll, &slow, &texts, 500)).expect("JSON");
        assert_eq!(bytes, plain, "{body}");
    }
    let indexed = index::plan(coll, &req).is_some_and(|plan| {
        let cached = store
            .search_cache
            .index(version, plan.key(), records.len(), || None);
        cached.is_some()
    });
    (fast.next_cursor, indexed)
}

/// A random index cutoff, or none: the contact delay (contacts only),
/// counted from `updated_at` or `created_at`, a jitter (any collection),
/// or both.
fn random_cutoff(rng: &mut Rng, coll: Collection) -> Option<IndexCutoff> {
    let delay = coll == Collection::Contacts && rng.chance(0.3);
    let jitter = rng.chance(0.3).then(|| Jitter {
        seed: rng.next_u64(),
        secs: *rng.pick(&[1, 60, 3_600, DAY, 4 * DAY]).unwrap_or(&60),
        now: stamp(rng),
    });
    if !delay && jitter.is_none() {
        return None;
    }
    let now = match jitter {
        Some(j) => j.now,
        None => stamp(rng),
    };
    let (field_slot, max) = if delay {
        let slot = *rng.pick(&[UPDATED_AT_SLOT, CREATED_AT_SLOT]).unwrap_or(&1);
        (slot, now - rng.range(0, 2 * DAY))
    } else {
        (UPDATED_AT_SLOT, now)
    };
    Some(IndexCutoff {
        field_slot,
        max,
        jitter,
    })
}

/// Walk one query's pages, changing records and jumping to random cursors
/// now and then; returns how many pages the index answered.
fn walk_pages(rng: &mut Rng, store: &Store, coll: Collection, odd: bool) -> usize {
    let mut b = body(rng, coll);
    let cutoff = random_cutoff(rng, coll);
    let mut indexed = 0;
    for _ in 0..40 {
        let (next, by_index) = check(store, coll, &b, cutoff);
        indexed += usize::from(by_index);
        let next = if rng.chance(0.1) {
            Some(random_cursor(rng))
        } else {
            next
        };
        let Some(cursor) = next else { break };
        b["pagination"]["starting_after"] = json!(cursor);
        if rng.chance(0.25) {
            mutate(rng, store, coll, odd);
        }
    }
    indexed
}

#[test]
fn indexed_pages_are_the_full_scan_pages() {
    let mut rng = Rng::new(0x1DE7_5EA2);
    let store = store();
    let (mut pages_indexed, mut walks) = (0, 0);
    for round in 0..60 {
        let odd = round % 4 == 3;
        let tz = *rng.pick(&[0, -5 * 3_600, 19_800]).unwrap_or(&0);
        store.write_ws(|ws| ws.timezone_offset_secs = tz);
        for coll in COLLECTIONS {
            let recs = records(&mut rng, coll, odd);
            store.write_ws(|ws| match coll {
                Collection::Contacts => ws.contacts = recs,
                Collection::Conversations => ws.conversations = recs,
                Collection::Tickets => ws.tickets = recs,
            });
            for _ in 0..12 {
                pages_indexed += walk_pages(&mut rng, &store, coll, odd);
                walks += 1;
            }
        }
    }
    assert!(
        pages_indexed > walks * 2,
        "the index answered only {pages_indexed} pages in {walks} walks"
    );
}

#[test]
fn warm_cache_answers_like_a_cold_one() {
    let config = FakeConfig {
        contacts: 300,
        ..FakeConfig::default()
    };
    let warm = Store::new(config.clone(), SocketAddr::from(([127, 0, 0, 1], 0)));
    crate::endpoints::search::warm(&warm);
    let cold = Store::new(config, SocketAddr::from(([127, 0, 0, 1], 0)));
    let mut rng = Rng::new(7);
    for coll in COLLECTIONS {
        for _ in 0..20 {
            let b = body(&mut rng, coll);
            let (a, _) = check(&warm, coll, &b, None);
            let (c, _) = check(&cold, coll, &b, None);
            assert_eq!(a, c, "{b}");
        }
    }
}

#[test]
fn jitter_hides_some_of_the_latest_records_on_both_paths() {
    let store = store();
    let n = 100;
    for coll in COLLECTIONS {
        let recs: Vec<Value> = (0..n)
            .map(|i| {
                json!({"id": format!("{}", 5000 + i), "created_at": T0 - DAY,
                            "updated_at": T0 + i as i64, "role": "user"})
            })
            .collect();
        store.write_ws(|ws| match coll {
            Collection::Contacts => ws.contacts = recs,
            Collection::Conversations => ws.conversations = recs,
            Collection::Tickets => ws.tickets = recs,
        });
        let jitter = Jitter {
            seed: 42,
            secs: 50,
            now: T0 + n as i64,
        };
        let cutoff = Some(IndexCutoff {
            field_slot: UPDATED_AT_SLOT,
            max: jitter.now,
            jitter: Some(jitter),
        });
        for order in ["ascending", "descending"] {
            let mut b = json!({"query": {"operator": "AND", "value": []},
                               "sort": {"field": "updated_at", "order": order},
                               "pagination": {"per_page": 7}});
            let mut pages = 0;
            loop {
                let (next, indexed) = check(&store, coll, &b, cutoff);
                assert!(indexed, "{coll:?} {order}");
                pages += 1;
                let Some(cursor) = next else { break };
                b["pagination"]["starting_after"] = json!(cursor);
            }
            let visible = (0..n)
                .filter(|i| {
                    let t = T0 + *i as i64;
                    t + jitter.lag(&format!("{}", 5000 + i), t) <= jitter.now
                })
                .count();
            assert!(
                visible > 50 && visible < n,
                "{visible}: some hidden, not all"
            );
            assert_eq!(pages, visible.div_ceil(7), "{coll:?} {order}");
        }
    }
}
