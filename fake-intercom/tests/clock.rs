//! The fake's own clock (`Date`, `X-RateLimit-Reset`,
//! `FakeIntercom::now_secs`) and the search index lag that runs on it,
//! over real HTTP.

use std::collections::BTreeSet;

use fake_intercom::{Chaos, ChaosKind, FakeConfig, FakeIntercom, Fault, FaultKind, GENERATION_END};
use serde_json::{json, Value};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

fn machine_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// The unix seconds of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`),
/// its weekday checked.
fn parse_http_date(text: &str) -> Option<i64> {
    let (weekday, rest) = text.strip_suffix(" GMT")?.split_once(", ")?;
    let parts: Vec<&str> = rest.split([' ', ':']).collect();
    let [day, month, year, h, m, s] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|x| x == month)? as i64 + 1;
    let two = |t: &str| (t.len() == 2).then(|| t.parse::<i64>().ok()).flatten();
    let days = days_from_civil(year.parse().ok()?, month, two(day)?);
    (WEEKDAYS[(days + 4).rem_euclid(7) as usize] == weekday).then_some(())?;
    Some(days * DAY + two(h)? * HOUR + two(m)? * 60 + two(s)?)
}

/// The one `Date` header of an answer, in unix seconds.
fn date_of(r: &reqwest::Response) -> i64 {
    let dates: Vec<_> = r.headers().get_all("date").iter().collect();
    assert_eq!(dates.len(), 1, "{dates:?}");
    let text = dates[0].to_str().expect("ASCII");
    parse_http_date(text).unwrap_or_else(|| panic!("not an IMF-fixdate: {text}"))
}

fn header_i64(r: &reqwest::Response, name: &str) -> i64 {
    r.headers()[name].to_str().unwrap().parse().unwrap()
}

fn near(actual: i64, expected: i64) -> bool {
    (actual - expected).abs() <= 2
}

async fn get(fake: &FakeIntercom, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{}", fake.base_url(), path))
        .bearer_auth(fake.token())
        .send()
        .await
        .expect("request")
}

async fn search(fake: &FakeIntercom, path: &str, body: &Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}{}", fake.base_url(), path))
        .bearer_auth(fake.token())
        .header("Intercom-Version", "2.11")
        .json(body)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    r.json().await.expect("JSON")
}

#[test]
fn http_dates_parse() {
    assert_eq!(
        parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777)
    );
    assert_eq!(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"), None);
    assert_eq!(parse_http_date("Sun, 6 Nov 1994 08:49:37 GMT"), None);
}

#[tokio::test]
async fn date_and_rate_limit_reset_follow_the_fakes_clock() {
    let offset = -3 * HOUR;
    let fake = FakeIntercom::start(FakeConfig {
        clock_offset_secs: offset,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(fake.config().clock_offset_secs, offset);
    assert!(near(fake.now_secs(), machine_now() + offset));
    let r = get(&fake, "/admins").await;
    assert_eq!(r.status(), 200);
    assert!(near(date_of(&r), machine_now() + offset));
    let reset = header_i64(&r, "x-ratelimit-reset");
    let now = fake.now_secs();
    assert!(reset >= now - 1 && reset <= now + 11, "{reset} vs {now}");

    // Errors and fault answers carry it too.
    fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/tags".into(),
        times: 1,
        ..Fault::default()
    });
    fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/teams".into(),
        times: 1,
        kind: FaultKind::Truncated { keep: 5 },
        ..Fault::default()
    });
    for (path, status) in [("/tags", 500), ("/teams", 200), ("/nope", 404)] {
        let r = get(&fake, path).await;
        assert_eq!(r.status(), status, "{path}");
        assert!(near(date_of(&r), machine_now() + offset), "{path}");
    }
    let r = reqwest::Client::new()
        .get(format!("{}/admins", fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(near(date_of(&r), machine_now() + offset));
    // A fault's own Date wins.
    let odd = "Thu, 01 Jan 1970 00:00:00 GMT";
    fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/tags".into(),
        times: 1,
        status: 503,
        headers: vec![("Date".into(), odd.into())],
        ..Fault::default()
    });
    let r = get(&fake, "/tags").await;
    assert_eq!(date_of(&r), 0);

    // The clock jumps.
    let ahead = 400 * DAY;
    fake.set_clock_offset_secs(ahead);
    assert_eq!(fake.config().clock_offset_secs, ahead);
    assert!(near(fake.now_secs(), machine_now() + ahead));
    let r = get(&fake, "/admins").await;
    assert!(near(date_of(&r), machine_now() + ahead));
    let reset = header_i64(&r, "x-ratelimit-reset");
    assert!(reset >= fake.now_secs() - 1 && reset <= fake.now_secs() + 11);
}

#[tokio::test]
async fn chaos_429_resets_are_on_the_fakes_clock() {
    let fake = FakeIntercom::start(FakeConfig {
        clock_offset_secs: 2 * HOUR,
        chaos: Some(Chaos {
            seed: 3,
            rate: 1.0,
            kinds: vec![ChaosKind::RateLimitBurst],
            slow_ms: 10,
        }),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    for _ in 0..5 {
        let before = fake.now_secs();
        let r = get(&fake, "/tags").await;
        assert_eq!(r.status(), 429);
        let reset = header_i64(&r, "x-ratelimit-reset");
        assert!(reset > before && reset <= fake.now_secs() + 2, "{reset}");
        assert!(near(date_of(&r), before));
    }
}

/// The ids of the first 30 records of each search (updated by the test).
fn recent_ids(w: &fake_intercom::Workspace) -> [Vec<String>; 3] {
    let ids = |list: &[Value]| -> Vec<String> {
        list.iter()
            .take(30)
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect()
    };
    [ids(&w.contacts), ids(&w.conversations), ids(&w.tickets)]
}

const SEARCHES: [(&str, &str); 3] = [
    ("/contacts/search", "data"),
    ("/conversations/search", "conversations"),
    ("/tickets/search", "tickets"),
];

/// The ids `path` returns for `body` (one page of up to 150), and its total.
async fn found(fake: &FakeIntercom, path: &str, key: &str, body: Value) -> (BTreeSet<String>, u64) {
    let mut body = body;
    body["pagination"] = json!({"per_page": 150});
    let r = search(fake, path, &body).await;
    let ids = r[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    (ids, r["total_count"].as_u64().unwrap())
}

#[tokio::test]
async fn search_index_jitter_hides_some_recent_records() {
    // Intercom's clock an hour behind (unless that is before the generated
    // data, which must all be searchable).
    let offset = (GENERATION_END + 2 * DAY - machine_now()).max(-HOUR);
    let fake = FakeIntercom::start(FakeConfig {
        search_index_jitter_secs: 60,
        clock_offset_secs: offset,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(fake.config().search_index_jitter_secs, 60);
    // Updated at now-30..now on Intercom's clock.
    let now = fake.now_secs();
    let recent = fake.with_workspace(|w| {
        let recent = recent_ids(w);
        for (i, id) in recent[0].iter().enumerate() {
            w.touch_contact(id, now - 30 + i as i64);
        }
        for (i, id) in recent[1].iter().enumerate() {
            w.touch_conversation(id, now - 30 + i as i64);
        }
        for (i, id) in recent[2].iter().enumerate() {
            w.touch_ticket(id, now - 30 + i as i64);
        }
        recent
    });
    let all = json!({"query": {"operator": "AND", "value": []},
                     "sort": {"field": "updated_at", "order": "descending"}});
    let mut hidden_before = Vec::new();
    for ((path, key), ids) in SEARCHES.into_iter().zip(&recent) {
        let by_id = json!({"query": {"field": "id", "operator": "IN", "value": ids}});
        let (seen, total) = found(&fake, path, key, by_id.clone()).await;
        assert_eq!(total, seen.len() as u64, "{path}");
        assert!(
            !seen.is_empty() && seen.len() < 30,
            "{path}: {} of 30",
            seen.len()
        );
        hidden_before.push(30 - seen.len());
        // The same record versions are hidden again (give or take one that
        // came in as the clock ticked).
        let (again, _) = found(&fake, path, key, by_id).await;
        assert!(seen.is_subset(&again), "{path}");
        // Older records are all there; the count leaves the hidden out.
        let (_, everything) = found(&fake, path, key, all.clone()).await;
        let n = match key {
            "data" => 120,
            "conversations" => 60,
            _ => 30,
        };
        let hidden = n - everything as usize;
        assert!(hidden >= 1 && hidden <= 30 - seen.len(), "{path}: {hidden}");
    }
    // An update in Intercom's future (the machine's now, when Intercom's
    // clock is behind) is not searchable yet.
    fake.with_workspace(|w| w.touch_ticket(&recent[2][0], now + HOUR));
    let one = json!({"query": {"field": "id", "operator": "=", "value": recent[2][0]}});
    assert_eq!(
        found(&fake, "/tickets/search", "tickets", one.clone())
            .await
            .1,
        0
    );
    // The index catches up.
    fake.set_search_index_jitter_secs(0);
    assert_eq!(fake.config().search_index_jitter_secs, 0);
    for ((path, key), ids) in SEARCHES.into_iter().zip(&recent) {
        let by_id = json!({"query": {"field": "id", "operator": "IN", "value": ids}});
        let (seen, total) = found(&fake, path, key, by_id).await;
        assert_eq!((seen.len(), total), (30, 30), "{path}");
    }
    assert!(hidden_before.iter().all(|h| *h > 0));
}

#[tokio::test]
async fn jitter_adds_to_the_contact_delay_on_the_fakes_clock() {
    let fake = FakeIntercom::start(FakeConfig {
        search_index_delay_secs: 300,
        search_index_jitter_secs: 60,
        clock_offset_secs: -DAY,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let now = fake.now_secs();
    let ids = fake.with_workspace(|w| {
        let ids = recent_ids(w)[0].clone();
        for (i, id) in ids.iter().enumerate() {
            // 300..=330 s ago at Intercom: past the delay, not all past the jitter.
            w.touch_contact(id, now - 330 + i as i64);
        }
        ids
    });
    let by_id = json!({"query": {"field": "id", "operator": "IN", "value": ids}});
    let (seen, _) = found(&fake, "/contacts/search", "data", by_id.clone()).await;
    assert!(!seen.is_empty() && seen.len() < 30, "{} of 30", seen.len());
    fake.set_search_index_jitter_secs(0);
    let (seen, _) = found(&fake, "/contacts/search", "data", by_id.clone()).await;
    assert_eq!(seen.len(), 30);
    // The delay alone still counts on Intercom's clock.
    fake.set_clock_offset_secs(-DAY - 100);
    let (seen, _) = found(&fake, "/contacts/search", "data", by_id).await;
    assert!(seen.is_empty(), "{} of 30", seen.len());
}
