//! HTTP tests of the search, scroll, conversation, deleted-conversation and
//! activity-log endpoints, the request hook and delayed faults.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake_intercom::{day_start, FakeConfig, FakeIntercom, Fault, GENERATION_END, GENERATION_START};
use serde_json::{json, Value};

const DAY: i64 = 86_400;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn post(fake: &FakeIntercom, path: &str, body: &Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}{}", fake.base_url(), path))
        .bearer_auth(fake.token())
        .header("Intercom-Version", "2.11")
        .json(body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json body"))
}

async fn get_url(fake: &FakeIntercom, url: &str, version: Option<&str>) -> (u16, Value) {
    let mut rb = client().get(url).bearer_auth(fake.token());
    if let Some(v) = version {
        rb = rb.header("Intercom-Version", v);
    }
    let r = rb.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json body"))
}

async fn get(fake: &FakeIntercom, path_and_query: &str) -> (u16, Value) {
    get_url(
        fake,
        &format!("{}{}", fake.base_url(), path_and_query),
        Some("2.11"),
    )
    .await
}

fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["type"], "error.list", "{body}");
    assert!(body["request_id"].is_string(), "{body}");
    assert_eq!(body["errors"][0]["code"], code, "{body}");
    assert!(body["errors"][0]["message"].is_string(), "{body}");
}

/// `AND [id = <id>, <field> <op> <value>]`
fn id_and(id: &str, field: &str, op: &str, value: Value) -> Value {
    json!({"query": {"operator": "AND", "value": [
        {"field": "id", "operator": "=", "value": id},
        {"field": field, "operator": op, "value": value},
    ]}})
}

fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn contact_search_dates_are_day_granular() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let tz = fake.with_workspace(|w| w.timezone_offset_secs);
    assert_eq!(tz, -5 * 3_600);
    // 2026-03-10T20:00:00Z = 15:00 on 2026-03-10 in the workspace (UTC-5).
    let t: i64 = 1_773_172_800;
    let day = day_start(t, tz);
    assert_eq!(day, 1_773_118_800);
    let id = fake.with_workspace(|w| {
        let id = w.contacts[3]["id"].as_str().unwrap().to_string();
        assert!(w.touch_contact(&id, t));
        id
    });
    let found = |op: &'static str, v: Value| {
        let fake = &fake;
        let id = id.clone();
        async move {
            let (status, body) =
                post(fake, "/contacts/search", &id_and(&id, "updated_at", op, v)).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["type"], "list");
            match body["total_count"].as_u64().unwrap() {
                0 => false,
                1 => {
                    assert_eq!(body["data"][0]["updated_at"], t, "full-second timestamps");
                    true
                }
                n => panic!("{n} results"),
            }
        }
    };
    // `>` starts at the next day: the rest of the value's own day is out.
    assert!(!found(">", json!(t - 3_600)).await);
    assert!(!found(">", json!(day)).await);
    assert!(!found(">", json!(t)).await);
    assert!(
        found(">", json!(day - 1)).await,
        "a value on the previous day"
    );
    assert!(
        found(">", json!((day - 1).to_string())).await,
        "string values"
    );
    // `<` ends before the start of the value's day.
    assert!(!found("<", json!(t)).await);
    assert!(!found("<", json!(day + DAY - 1)).await);
    assert!(found("<", json!(day + DAY)).await);
    // `=` is the whole day.
    assert!(found("=", json!(day)).await);
    assert!(found("=", json!(day + DAY - 1)).await);
    assert!(!found("=", json!(day + DAY)).await);
    assert!(!found("=", json!(day - 1)).await);
    // The first second of the next day is in for `>` of any time today.
    fake.with_workspace(|w| w.touch_contact(&id, day + DAY));
    let (_, r) = post(
        &fake,
        "/contacts/search",
        &id_and(&id, "updated_at", ">", json!(t)),
    )
    .await;
    assert_eq!(r["total_count"], 1);
    fake.with_workspace(|w| w.touch_contact(&id, t));

    for op in [">=", "<=", "!="] {
        let (status, body) = post(
            &fake,
            "/contacts/search",
            &id_and(&id, "updated_at", op, json!(t)),
        )
        .await;
        assert_eq!(status, 422, "{op}");
        assert_error(&body, "parameter_invalid");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(op));
    }
    for op in ["IN", "NIN"] {
        let (status, _) = post(
            &fake,
            "/contacts/search",
            &id_and(&id, "created_at", op, json!([t])),
        )
        .await;
        assert_eq!(status, 422, "{op}");
    }
    let (status, body) = post(
        &fake,
        "/contacts/search",
        &id_and(&id, "updated_at", ">", json!("yesterday")),
    )
    .await;
    assert_eq!(status, 400);
    assert_error(&body, "parameter_invalid");
}

#[tokio::test]
async fn contact_search_day_follows_workspace_timezone() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    // 2026-03-10T02:00Z is 21:00 on 2026-03-09 at UTC-5.
    let t: i64 = 1_773_108_000;
    // 2026-03-09T17:00Z: noon on 2026-03-09 at UTC-5.
    let v: i64 = 1_773_075_600;
    let id = fake.with_workspace(|w| {
        let id = w.contacts[10]["id"].as_str().unwrap().to_string();
        w.touch_contact(&id, t);
        id
    });
    let body = id_and(&id, "updated_at", ">", json!(v));
    let (_, r) = post(&fake, "/contacts/search", &body).await;
    assert_eq!(r["total_count"], 0, "same local day as the value at UTC-5");
    fake.with_workspace(|w| w.timezone_offset_secs = 0);
    let (_, r) = post(&fake, "/contacts/search", &body).await;
    assert_eq!(r["total_count"], 1, "the next day in UTC");
}

#[tokio::test]
async fn contact_search_waits_for_the_index_delay() {
    let fake = FakeIntercom::start(FakeConfig {
        search_index_delay_secs: 300,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let now = now_secs();
    let id = fake.with_workspace(|w| w.add_contact("lead", now));
    let by_id = json!({"query": {"field": "id", "operator": "=", "value": id}});
    let (status, r) = post(&fake, "/contacts/search", &by_id).await;
    assert_eq!(status, 200);
    assert_eq!(r["total_count"], 0, "not indexed yet");
    assert_eq!(r["data"], json!([]));
    let all = json!({"query": {"field": "role", "operator": "IN", "value": ["user", "lead"]}});
    let (_, r) = post(&fake, "/contacts/search", &all).await;
    assert_eq!(r["total_count"], 120, "generated contacts are old enough");
    fake.with_workspace(|w| w.touch_contact(&id, now - 301));
    let (_, r) = post(&fake, "/contacts/search", &by_id).await;
    assert_eq!(r["total_count"], 1);
    assert_eq!(r["data"][0]["role"], "lead");
    // A fresh update hides it again until indexed.
    fake.with_workspace(|w| w.touch_contact(&id, now));
    let (_, r) = post(&fake, "/contacts/search", &by_id).await;
    assert_eq!(r["total_count"], 0);
    // The index catches up.
    fake.set_search_index_delay_secs(0);
    assert_eq!(fake.config().search_index_delay_secs, 0);
    let (_, r) = post(&fake, "/contacts/search", &by_id).await;
    assert_eq!(r["total_count"], 1);
}

#[tokio::test]
async fn index_delay_can_apply_to_new_contacts_only() {
    let fake = FakeIntercom::start(FakeConfig {
        search_index_delay_secs: 600,
        search_index_delay_create_only: true,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let now = now_secs();
    let (new_id, old_id) = fake.with_workspace(|w| {
        let new_id = w.add_contact("user", now - 120);
        let old_id = w.contacts[3]["id"].as_str().unwrap().to_string();
        w.touch_contact(&old_id, now - 60);
        (new_id, old_id)
    });
    let count = |id: String| {
        let fake = &fake;
        async move {
            let (_, r) = post(
                fake,
                "/contacts/search",
                &json!({"query": {"field": "id", "operator": "=", "value": id}}),
            )
            .await;
            r["total_count"].as_u64().unwrap()
        }
    };
    assert_eq!(count(new_id.clone()).await, 0, "created 2 minutes ago");
    assert_eq!(count(old_id).await, 1, "an update to an older contact");
    fake.set_search_index_delay_secs(0);
    assert_eq!(count(new_id).await, 1);
}

#[tokio::test]
async fn ascending_walk_sees_a_record_updated_mid_walk_again() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    // The record that sorts first (oldest updated_at, then smallest id).
    let first_id = fake.with_workspace(|w| {
        let mut keys: Vec<(i64, String)> = w
            .contacts
            .iter()
            .map(|c| {
                (
                    c["updated_at"].as_i64().unwrap(),
                    c["id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        keys.sort();
        keys[0].1.clone()
    });
    let searches = Arc::new(AtomicUsize::new(0));
    {
        let searches = searches.clone();
        let first_id = first_id.clone();
        fake.set_request_hook(move |req, ws| {
            if req.path == "/contacts/search" && searches.fetch_add(1, Ordering::SeqCst) + 1 == 2 {
                assert!(req.body.as_ref().unwrap()["pagination"]["starting_after"].is_string());
                assert!(ws.touch_contact(&first_id, GENERATION_END + 100));
            }
        });
    }
    let mut cursor: Option<String> = None;
    let mut seen: Vec<(String, i64)> = Vec::new();
    let mut pages = 0;
    loop {
        let body = json!({
            "query": {"field": "updated_at", "operator": ">", "value": 0},
            "sort": {"field": "updated_at", "order": "ascending"},
            "pagination": {"per_page": 7, "starting_after": cursor},
        });
        let (status, r) = post(&fake, "/contacts/search", &body).await;
        assert_eq!(status, 200, "{r}");
        pages += 1;
        assert_eq!(r["total_count"], 120);
        assert_eq!(r["pages"]["type"], "pages");
        assert_eq!(r["pages"]["per_page"], 7);
        assert_eq!(r["pages"]["total_pages"], 18);
        for c in r["data"].as_array().unwrap() {
            seen.push((
                c["id"].as_str().unwrap().to_string(),
                c["updated_at"].as_i64().unwrap(),
            ));
        }
        match r["pages"].get("next") {
            Some(next) => {
                assert_eq!(r["data"].as_array().unwrap().len(), 7);
                assert_eq!(next["page"], r["pages"]["page"].as_u64().unwrap() + 1);
                cursor = Some(next["starting_after"].as_str().unwrap().to_string());
            }
            None => break,
        }
        assert!(pages < 40, "the walk ends");
    }
    assert_eq!(seen.len(), 121, "every contact, and the updated one twice");
    let unique: HashSet<&str> = seen.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(unique.len(), 120);
    assert_eq!(seen[0].0, first_id);
    assert_eq!(
        seen.last().unwrap(),
        &(first_id.clone(), GENERATION_END + 100)
    );
    assert!(
        seen.windows(2).all(|w| w[0].1 <= w[1].1),
        "ascending updated_at"
    );
    assert!(
        seen.windows(2).any(|w| w[0].1 == w[1].1),
        "the data has updated_at ties"
    );
    assert_eq!(searches.load(Ordering::SeqCst), pages);

    // The cursor is base64 JSON [sort value, id].
    let c = cursor.unwrap_or_default();
    assert!(
        c.is_empty()
            || c.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "+/=".contains(ch))
    );
}

#[tokio::test]
async fn search_request_errors() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let q = json!({"field": "role", "operator": "=", "value": "user"});
    let cases = [
        (
            json!({"query": q, "pagination": {"starting_after": "%%%"}}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"query": q, "pagination": {"starting_after": "bm90IGpzb24="}}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"query": q, "pagination": {"per_page": 151}}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"query": q, "pagination": {"per_page": 0}}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"query": q, "sort": {"field": "updated_at", "order": "desc"}}),
            400,
            "invalid_sort_order",
        ),
        (
            json!({"pagination": {"per_page": 5}}),
            400,
            "parameter_not_found",
        ),
        (
            json!({"query": {"operator": "AND", "value": [{"operator": "OR", "value": [{"operator": "AND", "value": [q]}]}]}}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"query": {"operator": "OR", "value": vec![q.clone(); 16]}}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"query": {"field": "role", "operator": "LIKE", "value": "u"}}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"query": {"field": "role", "operator": "IN", "value": "user"}}),
            400,
            "parameter_invalid",
        ),
    ];
    for (body, status, code) in cases {
        let (s, r) = post(&fake, "/contacts/search", &body).await;
        assert_eq!(s, status, "{body} -> {r}");
        assert_error(&r, code);
    }
    let (_, r) = post(
        &fake,
        "/contacts/search",
        &json!({"query": q, "sort": {"order": "sideways"}}),
    )
    .await;
    assert_eq!(
        r["errors"][0]["message"],
        "Invalid sort order 'sideways'. Must be one of: ascending, descending"
    );
    // Not JSON at all.
    let r = client()
        .post(format!("{}/contacts/search", fake.base_url()))
        .bearer_auth(fake.token())
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_error(&r.json::<Value>().await.unwrap(), "parameter_invalid");
    // Allowed: 15 filters, 2 levels, 150 per page; default 50 per page, descending.
    let ok = json!({"query": {"operator": "AND", "value": [
        {"operator": "OR", "value": vec![q.clone(); 15]}, q]},
        "pagination": {"per_page": 150}});
    assert_eq!(post(&fake, "/contacts/search", &ok).await.0, 200);
    let (_, r) = post(
        &fake,
        "/contacts/search",
        &json!({"query": {"field": "updated_at", "operator": ">", "value": 0}}),
    )
    .await;
    assert_eq!(r["pages"]["per_page"], 50);
    let u: Vec<i64> = r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["updated_at"].as_i64().unwrap())
        .collect();
    assert!(u.windows(2).all(|w| w[0] >= w[1]), "descending by default");
}

#[tokio::test]
async fn conversation_and_ticket_search_compare_to_the_second() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let (id, u) = fake.with_workspace(|w| {
        let c = &w.conversations[5];
        (
            c["id"].as_str().unwrap().to_string(),
            c["updated_at"].as_i64().unwrap(),
        )
    });
    let count = |op: &'static str, v: i64| {
        let fake = &fake;
        let id = id.clone();
        async move {
            let (status, r) = post(
                fake,
                "/conversations/search",
                &id_and(&id, "updated_at", op, json!(v)),
            )
            .await;
            assert_eq!(status, 200, "{r}");
            assert_eq!(r["type"], "conversation.list");
            r["total_count"].as_u64().unwrap()
        }
    };
    assert_eq!(count(">", u).await, 1, "> is greater or equal");
    assert_eq!(count(">", u + 1).await, 0);
    assert_eq!(count(">", u - 1).await, 1);
    assert_eq!(count("<", u).await, 1, "< is lower or equal");
    assert_eq!(count("<", u - 1).await, 0);
    assert_eq!(count("=", u).await, 1);
    assert_eq!(count("=", u + 1).await, 0);
    assert_eq!(count("!=", u).await, 0);
    let (status, r) = post(
        &fake,
        "/conversations/search",
        &id_and(&id, "updated_at", ">=", json!(u)),
    )
    .await;
    assert_eq!(status, 400);
    assert_error(&r, "parameter_invalid");

    let (_, r) = post(
        &fake,
        "/conversations/search",
        &json!({
        "query": {"field": "updated_at", "operator": ">", "value": GENERATION_START},
        "sort": {"field": "updated_at", "order": "ascending"}}),
    )
    .await;
    assert_eq!(r["total_count"], 60);
    assert_eq!(r["pages"]["per_page"], 20);
    assert_eq!(r["pages"]["total_pages"], 3);
    assert_eq!(r["pages"]["next"]["page"], 2);
    let convs = r["conversations"].as_array().unwrap();
    assert_eq!(convs.len(), 20);
    assert!(convs.iter().all(|c| c.get("conversation_parts").is_none()));
    assert!(convs.iter().all(|c| c["statistics"].is_object()));

    let (tid, created) = fake.with_workspace(|w| {
        let t = &w.tickets[2];
        (
            t["id"].as_str().unwrap().to_string(),
            t["created_at"].as_i64().unwrap(),
        )
    });
    for (op, v, n) in [
        (">=", created, 1),
        ("<=", created, 1),
        (">", created, 1),
        (">", created + 1, 0),
        ("<=", created - 1, 0),
    ] {
        let (status, r) = post(
            &fake,
            "/tickets/search",
            &id_and(&tid, "created_at", op, json!(v)),
        )
        .await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(r["type"], "ticket.list");
        assert_eq!(r["total_count"], n, "{op} {v}");
    }
    let (_, r) = post(
        &fake,
        "/tickets/search",
        &json!({"query": {"field": "created_at", "operator": ">", "value": 0}}),
    )
    .await;
    assert_eq!(r["total_count"], 30);
    assert_eq!(r["pages"]["per_page"], 20);
    let t = &r["tickets"][0];
    assert_eq!(t["type"], "ticket");
    assert!(t["ticket_state"].is_string());
    assert!(t["ticket_state_internal_label"].is_string());
    assert_eq!(t["ticket_parts"]["type"], "ticket_part.list");
    assert_eq!(t["contacts"]["type"], "contact.list");
    assert!(t["admin_assignee_id"].is_string());
}

#[tokio::test]
async fn companies_scroll_semantics() {
    let fake = FakeIntercom::start(FakeConfig {
        scroll_expiry_ms: 300,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let (status, first) = get(&fake, "/companies/scroll").await;
    assert_eq!(status, 200);
    assert_eq!(first["type"], "list");
    assert_eq!(first["pages"], Value::Null);
    assert_eq!(first["total_count"], Value::Null);
    let param = first["scroll_param"].as_str().unwrap().to_string();
    let mut ids = ids_of(&first["data"]);
    assert_eq!(ids.len(), 15);

    let (status, body) = get(&fake, "/companies/scroll").await;
    assert_eq!(status, 400);
    assert_error(&body, "scroll_exists");
    assert_eq!(
        body["errors"][0]["message"],
        "scroll already exists for this workspace"
    );

    let mut sizes = Vec::new();
    loop {
        let (status, page) = get(&fake, &format!("/companies/scroll?scroll_param={param}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            page["scroll_param"],
            param.as_str(),
            "the same param on every page"
        );
        let data = ids_of(&page["data"]);
        sizes.push(data.len());
        if data.is_empty() {
            break;
        }
        ids.extend(data);
    }
    assert_eq!(sizes, vec![15, 10, 0]);
    let expected: Vec<String> = fake.with_workspace(|w| {
        w.companies
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    });
    assert_eq!(ids, expected, "every company once, in workspace order");
    let (status, body) = get(&fake, &format!("/companies/scroll?scroll_param={param}")).await;
    assert_eq!(status, 404, "the param expires at the end");
    assert_error(&body, "not_found");
    assert_eq!(
        body["errors"][0]["message"],
        "scroll_param is expired or not found"
    );

    // A new scroll may start at once; it expires when left idle.
    let (status, page) = get(&fake, "/companies/scroll?per_page=30").await;
    assert_eq!(status, 200);
    assert_eq!(page["data"].as_array().unwrap().len(), 30);
    let p2 = page["scroll_param"].as_str().unwrap().to_string();
    assert_ne!(p2, param);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (status, _) = get(&fake, &format!("/companies/scroll?scroll_param={p2}")).await;
    assert_eq!(status, 404);
    let (status, page) = get(&fake, "/companies/scroll").await;
    assert_eq!(status, 200, "an expired scroll frees the slot");
    let p3 = page["scroll_param"].as_str().unwrap().to_string();

    fake.expire_scroll();
    assert_eq!(
        get(&fake, &format!("/companies/scroll?scroll_param={p3}"))
            .await
            .0,
        404
    );
    fake.occupy_scroll(60_000);
    let (status, body) = get(&fake, "/companies/scroll").await;
    assert_eq!(status, 400);
    assert_error(&body, "scroll_exists");
    fake.expire_scroll();
    assert_eq!(get(&fake, "/companies/scroll").await.0, 200);
    assert_eq!(
        get(&fake, "/companies/scroll?scroll_param=unknown").await.0,
        404
    );
    assert_eq!(get(&fake, "/companies/scroll?per_page=151").await.0, 400);
}

#[tokio::test]
async fn a_failed_scroll_page_ends_the_scroll() {
    for status in [404u16, 500] {
        let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
        fake.inject_fault(Fault {
            method: "GET".into(),
            path: "/companies/scroll".into(),
            status,
            after: 1,
            times: 1,
            ..Fault::default()
        });
        let (_, first) = get(&fake, "/companies/scroll").await;
        let p = first["scroll_param"].as_str().unwrap().to_string();
        assert_eq!(
            get(&fake, &format!("/companies/scroll?scroll_param={p}"))
                .await
                .0,
            status
        );
        assert_eq!(
            get(&fake, &format!("/companies/scroll?scroll_param={p}"))
                .await
                .0,
            404
        );
        assert_eq!(
            get(&fake, "/companies/scroll").await.0,
            200,
            "{status}: restart at once"
        );
    }
    // A 429 leaves the scroll open.
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    fake.inject_fault(Fault {
        path: "/companies/scroll".into(),
        status: 429,
        after: 1,
        times: 1,
        ..Fault::default()
    });
    let (_, first) = get(&fake, "/companies/scroll").await;
    let p = first["scroll_param"].as_str().unwrap().to_string();
    assert_eq!(
        get(&fake, &format!("/companies/scroll?scroll_param={p}"))
            .await
            .0,
        429
    );
    assert_eq!(
        get(&fake, &format!("/companies/scroll?scroll_param={p}"))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn company_segments_lists_the_company_segments() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let (company, seg_ids) = fake.with_workspace(|w| {
        let c = w
            .companies
            .iter()
            .find(|c| !c["segments"]["segments"].as_array().unwrap().is_empty())
            .unwrap();
        (
            c["id"].as_str().unwrap().to_string(),
            ids_of(&c["segments"]["segments"]),
        )
    });
    fake.with_workspace(|w| assert!(w.touch_segment(&seg_ids[0], GENERATION_END + 7)));
    let (status, r) = get(&fake, &format!("/companies/{company}/segments")).await;
    assert_eq!(status, 200);
    assert_eq!(r["type"], "list");
    assert_eq!(ids_of(&r["data"]), seg_ids);
    assert_eq!(r["data"][0]["type"], "segment");
    assert_eq!(r["data"][0]["updated_at"], GENERATION_END + 7);
    let (status, r) = get(&fake, "/companies/nope/segments").await;
    assert_eq!(status, 404);
    assert_error(&r, "company_not_found");
}

#[tokio::test]
async fn conversation_returns_the_500_most_recent_parts() {
    let fake = FakeIntercom::start(FakeConfig {
        conversations: 3,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let id = fake.with_workspace(|w| w.conversations[1]["id"].as_str().unwrap().to_string());
    let stored: Vec<String> = fake.with_workspace(|w| {
        for k in 0..520 {
            assert!(w.add_conversation_part(&id, GENERATION_END + k));
        }
        let c = w
            .conversations
            .iter()
            .find(|c| c["id"] == id.as_str())
            .unwrap();
        ids_of(&c["conversation_parts"]["conversation_parts"])
    });
    assert!(stored.len() >= 520);
    let (status, c) = get(&fake, &format!("/conversations/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(c["type"], "conversation");
    assert_eq!(c["updated_at"], GENERATION_END + 519);
    let parts = &c["conversation_parts"];
    assert_eq!(parts["type"], "conversation_part.list");
    assert_eq!(parts["total_count"], 500);
    let got = ids_of(&parts["conversation_parts"]);
    assert_eq!(
        got.as_slice(),
        &stored[stored.len() - 500..],
        "the most recent, oldest first"
    );
    assert_eq!(
        c["statistics"]["count_conversation_parts"],
        stored.len() + 1
    );

    // A short conversation comes whole.
    let (other, n) = fake.with_workspace(|w| {
        let c = &w.conversations[0];
        (
            c["id"].as_str().unwrap().to_string(),
            c["conversation_parts"]["conversation_parts"]
                .as_array()
                .unwrap()
                .len(),
        )
    });
    let (_, c) = get(&fake, &format!("/conversations/{other}")).await;
    assert_eq!(c["conversation_parts"]["total_count"], n);
    assert_eq!(c["statistics"]["count_conversation_parts"], n + 1);

    let (status, body) = get(&fake, "/conversations/999999999").await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found");
    fake.with_workspace(|w| assert!(w.delete_conversation(&other, GENERATION_END)));
    assert_eq!(get(&fake, &format!("/conversations/{other}")).await.0, 404);
}

#[tokio::test]
async fn deleted_conversations_need_version_2_16() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let url = format!("{}/conversations/deleted", fake.base_url());
    for version in [None, Some("2.11"), Some("2.15")] {
        let (status, body) = get_url(&fake, &url, version).await;
        assert_eq!(status, 404, "{version:?}");
        assert_error(&body, "not_found");
    }
    let (status, r) = get_url(&fake, &url, Some("2.16")).await;
    assert_eq!(status, 200);
    assert_eq!(r["type"], "conversations.list");
    assert_eq!(r["total_count"], 5);
    assert_eq!(r["pages"]["type"], "pages");
    assert_eq!(r["pages"]["per_page"], 20);
    assert!(r["pages"].get("next").is_none());
    let item = &r["conversations"][0];
    assert_eq!(item["type"], "conversation");
    assert!(
        item["id"].is_string()
            && item["deleted_at"].is_i64()
            && item["metrics_retained"].is_boolean()
    );

    let gone = fake.with_workspace(|w| {
        let id = w.conversations[0]["id"].as_str().unwrap().to_string();
        assert!(w.delete_conversation(&id, GENERATION_END + 10));
        id
    });
    let (_, r) = get_url(&fake, &url, Some("2.16")).await;
    assert_eq!(r["total_count"], 6);
    assert_eq!(
        r["conversations"][0]["id"],
        gone.as_str(),
        "newest deletion first"
    );

    let mut next = Some(format!("{url}?per_page=4&order=asc"));
    let mut all = Vec::new();
    while let Some(u) = next {
        let (status, page) = get_url(&fake, &u, Some("2.16")).await;
        assert_eq!(status, 200);
        all.extend(
            page["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["deleted_at"].as_i64().unwrap()),
        );
        next = page["pages"]
            .get("next")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(n) = &next {
            assert!(
                n.starts_with(&fake.base_url()) && n.contains("page=2") && n.contains("order=asc")
            );
        }
    }
    assert_eq!(all.len(), 6);
    assert!(all.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(*all.last().unwrap(), GENERATION_END + 10);

    for q in ["per_page=61", "order=sideways", "page=0"] {
        let (status, body) = get_url(&fake, &format!("{url}?{q}"), Some("2.16")).await;
        assert_eq!(status, 400, "{q}");
        assert_error(&body, "parameter_invalid");
    }
    assert_eq!(
        get_url(&fake, &format!("{url}?per_page=60"), Some("2.16"))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn activity_logs_window_is_inclusive_and_paged() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let base = fake.base_url();
    let (status, body) = get(&fake, "/admins/activity_logs").await;
    assert_eq!(status, 400);
    assert_error(&body, "parameter_not_found");
    let (status, body) = get(&fake, "/admins/activity_logs?created_at_after=soon").await;
    assert_eq!(status, 400);
    assert_error(&body, "parameter_invalid");

    // A second shared by several logs: a window of exactly that second has them all.
    let (t, n) = fake.with_workspace(|w| {
        let times: Vec<i64> = w
            .activity_logs
            .iter()
            .map(|l| l["created_at"].as_i64().unwrap())
            .collect();
        let t = *times
            .windows(2)
            .find(|p| p[0] == p[1])
            .map(|p| &p[0])
            .unwrap();
        (t, times.iter().filter(|&&x| x == t).count())
    });
    assert!(n >= 2);
    let (status, r) = get(
        &fake,
        &format!("/admins/activity_logs?created_at_after={t}&created_at_before={t}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(r["type"], "activity_log.list");
    assert_eq!(r["activity_logs"].as_array().unwrap().len(), n);

    // Walk everything 30 at a time, newest first.
    let mut next = Some(format!(
        "{base}/admins/activity_logs?created_at_after={GENERATION_START}&created_at_before={GENERATION_END}&per_page=30"
    ));
    let mut times = Vec::new();
    let mut pages = 0;
    while let Some(u) = next {
        let (status, r) = get_url(&fake, &u, Some("2.11")).await;
        assert_eq!(status, 200, "{r}");
        pages += 1;
        assert_eq!(r["pages"]["page"], pages);
        assert_eq!(r["pages"]["total_pages"], 7);
        for l in r["activity_logs"].as_array().unwrap() {
            assert_eq!(l["performed_by"]["type"], "admin");
            times.push(l["created_at"].as_i64().unwrap());
        }
        next = r["pages"]
            .get("next")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    assert_eq!(pages, 7);
    assert_eq!(times.len(), 200);
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let (status, r) = get(
        &fake,
        &format!("/admins/activity_logs?created_at_after={GENERATION_START}&per_page=250"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(r["activity_logs"].as_array().unwrap().len(), 200);
    assert!(r["pages"].get("next").is_none());
    assert_eq!(
        get(
            &fake,
            "/admins/activity_logs?created_at_after=0&per_page=251"
        )
        .await
        .0,
        400
    );

    let id = fake.with_workspace(|w| w.add_activity_log(GENERATION_END + 5));
    let (_, r) = get(
        &fake,
        &format!(
            "/admins/activity_logs?created_at_after={}",
            GENERATION_END + 5
        ),
    )
    .await;
    assert_eq!(ids_of(&r["activity_logs"]), vec![id]);
    assert_eq!(r["pages"]["per_page"], 20);
}

#[tokio::test]
async fn faults_can_wait_and_match_prefixes() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let id = fake.with_workspace(|w| w.conversations[0]["id"].as_str().unwrap().to_string());
    fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/conversations/*".into(),
        status: 500,
        body: json!({"type": "error.list", "errors": [{"code": "server_error", "message": "boom"}]}),
        after: 1,
        times: 2,
        ..Fault::default()
    });
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(get(&fake, &format!("/conversations/{id}")).await.0);
    }
    assert_eq!(statuses, vec![200, 500, 500, 200]);
    // Default method (any) and exact path.
    fake.inject_fault(Fault {
        path: "/tags".into(),
        status: 503,
        times: 1,
        ..Fault::default()
    });
    assert_eq!(get(&fake, "/teams").await.0, 200);
    assert_eq!(get(&fake, "/tags").await.0, 503);
    assert_eq!(get(&fake, "/tags").await.0, 200);
}

#[tokio::test]
async fn request_hook_sees_authenticated_requests() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    {
        let seen = seen.clone();
        fake.set_request_hook(move |req, ws| {
            seen.lock()
                .unwrap()
                .push(format!("{} {}", req.method, req.path));
            assert_eq!(req.status, 0);
            if req.path == "/tags" {
                ws.tags
                    .push(json!({"type": "tag", "id": "42", "name": "From hook"}));
            }
        });
    }
    let (_, tags) = get(&fake, "/tags").await;
    assert_eq!(
        tags["data"].as_array().unwrap().len(),
        13,
        "the hook runs before the answer"
    );
    let r = client()
        .get(format!("{}/tags", fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    post(
        &fake,
        "/contacts/search",
        &json!({"query": {"field": "role", "operator": "=", "value": "lead"}}),
    )
    .await;
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["GET /tags", "POST /contacts/search"]
    );
    fake.clear_request_hook();
    get(&fake, "/tags").await;
    assert_eq!(seen.lock().unwrap().len(), 2);
}

/// Walk every page of a contact search of `updated_at` in `[from, to)`
/// (day starts), `role = lead` only with `leads`; returns the ids seen and
/// the first page's `total_count`.
async fn walk_range(fake: &FakeIntercom, from: i64, to: i64, leads: bool) -> (Vec<String>, u64) {
    let mut filters = vec![
        json!({"field": "updated_at", "operator": ">", "value": from - DAY}),
        json!({"field": "updated_at", "operator": "<", "value": to}),
    ];
    if leads {
        filters.push(json!({"field": "role", "operator": "=", "value": "lead"}));
    }
    let (mut ids, mut total, mut cursor) = (Vec::new(), None, None::<String>);
    loop {
        let body = json!({
            "query": {"operator": "AND", "value": filters},
            "sort": {"field": "updated_at", "order": "ascending"},
            "pagination": {"per_page": 150, "starting_after": cursor},
        });
        let (status, r) = post(fake, "/contacts/search", &body).await;
        assert_eq!(status, 200, "{r}");
        total.get_or_insert(r["total_count"].as_u64().unwrap());
        ids.extend(ids_of(&r["data"]));
        match r["pages"]["next"]["starting_after"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return (ids, total.unwrap_or(0)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_range_searches_cover_every_contact_once() {
    let fake = Arc::new(
        FakeIntercom::start(FakeConfig {
            contacts: 3_000,
            latency_ms: 200,
            ..FakeConfig::default()
        })
        .await
        .unwrap(),
    );
    let (tz, all, leads) = fake.with_workspace(|w| {
        let ids = |role: Option<&str>| -> HashSet<String> {
            w.contacts
                .iter()
                .filter(|c| role.map_or(true, |r| c["role"] == r))
                .map(|c| c["id"].as_str().unwrap().to_string())
                .collect()
        };
        (w.timezone_offset_secs, ids(None), ids(Some("lead")))
    });
    // 64 ranges of whole days (and 16 more of leads only), read at once.
    let first = day_start(GENERATION_START, tz);
    let days = (day_start(GENERATION_END, tz) + DAY - first) / DAY;
    let bound = |i: i64, n: i64| first + days * i / n * DAY;
    let t = std::time::Instant::now();
    let mut walks = tokio::task::JoinSet::new();
    for (n, leads) in [(64, false), (16, true)] {
        for i in 0..n {
            let fake = fake.clone();
            let (from, to) = (bound(i, n), bound(i + 1, n));
            walks.spawn(async move { (leads, walk_range(&fake, from, to, leads).await) });
        }
    }
    let (mut seen, mut seen_leads) = (Vec::new(), Vec::new());
    let (mut total, mut total_leads) = (0, 0);
    for (leads, (ids, count)) in walks.join_all().await {
        assert_eq!(ids.len() as u64, count);
        if leads {
            seen_leads.extend(ids);
            total_leads += count;
        } else {
            seen.extend(ids);
            total += count;
        }
    }
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    assert_eq!((seen.len(), total as usize), (all.len(), all.len()));
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), all);
    assert_eq!(total_leads as usize, leads.len());
    assert_eq!(seen_leads.into_iter().collect::<HashSet<_>>(), leads);
    let stats = fake.stats();
    assert!(stats.max_in_flight >= 64, "{stats:?}");
}
