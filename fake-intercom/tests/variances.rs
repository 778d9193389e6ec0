//! Real-world variances over real HTTP: maintenance windows (503 with
//! `Retry-After`), a base path (a proxy serving Intercom under a prefix)
//! and a rate limit shared with other clients (phantom requests spending
//! the window, a reported limit above the enforced one).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fake_intercom::{Denial, FakeConfig, FakeIntercom, Fault, RetryAfter};
use serde_json::{json, Value};

async fn get_url(fake: &FakeIntercom, url: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(fake.token())
        .header("Intercom-Version", "2.11")
        .send()
        .await
        .expect("request")
}

async fn get(fake: &FakeIntercom, path_and_query: &str) -> reqwest::Response {
    get_url(fake, &format!("{}{}", fake.base_url(), path_and_query)).await
}

/// An HTTP date header of `r` in unix seconds.
fn date_header(r: &reqwest::Response, name: &str) -> i64 {
    let text = r.headers()[name].to_str().expect("ASCII");
    let at = httpdate::parse_http_date(text).unwrap_or_else(|_| panic!("not a date: {text}"));
    at.duration_since(UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

async fn assert_maintenance_body(r: reqwest::Response) {
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error.list");
    assert!(body["request_id"].is_string());
    assert_eq!(body["errors"][0]["code"], "service_unavailable");
    assert!(body["errors"][0]["message"].is_string());
}

#[tokio::test]
async fn maintenance_answers_503_with_retry_after_seconds() {
    // One request per window: a maintenance 503 must not use it up.
    let fake = FakeIntercom::start(FakeConfig {
        requests_per_minute: 1,
        window_ms: 60_000,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    fake.maintenance(25_000, RetryAfter::Seconds);
    for _ in 0..3 {
        let r = get(&fake, "/admins").await;
        assert_eq!(r.status(), 503);
        let secs: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((24..=25).contains(&secs), "Retry-After: {secs}");
        assert!(r.headers().get("x-ratelimit-limit").is_none());
        assert!(r.headers().contains_key("date"));
        assert_maintenance_body(r).await;
    }
    // Auth comes first.
    let r = reqwest::Client::new()
        .get(format!("{}/admins", fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Faults and deny rules wait for the window to end.
    fake.inject_fault(Fault {
        path: "/tags".into(),
        status: 500,
        times: 1,
        ..Fault::default()
    });
    fake.deny("/teams", Denial::PlanRestricted);
    assert_eq!(get(&fake, "/tags").await.status(), 503);
    assert_eq!(get(&fake, "/teams").await.status(), 503);

    fake.maintenance(0, RetryAfter::Seconds);
    let r = get(&fake, "/admins").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("retry-after").is_none());
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(get(&fake, "/admins").await.status(), 429);

    let stats = fake.stats();
    assert_eq!(stats.maintenance_503s, 5);
    assert_eq!(stats.limiter_rejections, 1);
    assert_eq!(stats.unauthorized, 1);
    assert!(stats.faults.is_empty());
    assert_eq!(stats.injected(), 5);
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 503, 401, 503, 503, 200, 429]);
}

#[tokio::test]
async fn maintenance_retry_after_date_is_on_the_fake_clock() {
    let fake = FakeIntercom::start(FakeConfig {
        clock_offset_secs: -7_200,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    fake.maintenance(30_000, RetryAfter::HttpDate);
    let before = fake.now_secs();
    let r = get(&fake, "/articles").await;
    let after = fake.now_secs();
    assert_eq!(r.status(), 503);
    let date = date_header(&r, "date");
    let retry_at = date_header(&r, "retry-after");
    assert!((before..=after).contains(&date), "{before} {date} {after}");
    // The end of the window, rounded up: 30 s after the Date header, or 31
    // when the Date (whole seconds) is cut down.
    assert!(
        (30..=31).contains(&(retry_at - date)),
        "{}",
        retry_at - date
    );
    assert!(retry_at <= after + 31);
    assert_maintenance_body(r).await;
    assert_eq!(fake.stats().maintenance_503s, 1);
}

#[tokio::test]
async fn maintenance_window_ends() {
    // From the configuration: a window from the start, no Retry-After.
    let fake = FakeIntercom::start(FakeConfig {
        maintenance_ms: 400,
        maintenance_retry_after: RetryAfter::None,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let r = get(&fake, "/admins").await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_none());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(get(&fake, "/admins").await.status(), 200);

    // From the handle, in seconds.
    fake.maintenance(300, RetryAfter::Seconds);
    let r = get(&fake, "/admins").await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(get(&fake, "/admins").await.status(), 200);
    assert_eq!(fake.stats().maintenance_503s, 2);
}

#[tokio::test]
async fn base_path_serves_every_endpoint_under_the_prefix() {
    let fake = FakeIntercom::start(FakeConfig {
        base_path: "/intercom".into(),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let root = format!("http://{}", fake.addr());
    assert_eq!(fake.base_url(), format!("{root}/intercom"));

    let r = get(&fake, "/admins").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "admin.list");

    // Outside the prefix: Intercom's 404, token or not.
    for url in [format!("{root}/admins"), format!("{root}/intercomx/admins")] {
        let r = get_url(&fake, &url).await;
        assert_eq!(r.status(), 404, "{url}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["type"], "error.list");
        assert_eq!(
            body["errors"],
            json!([{"code": "not_found", "message": "Resource Not Found"}])
        );
    }
    let r = reqwest::Client::new()
        .get(format!("{root}/admins"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Unknown paths inside it: 404 too.
    assert_eq!(get(&fake, "/nope").await.status(), 404);
    assert_eq!(get(&fake, "").await.status(), 404);

    // Links carry the prefix, and lead on.
    let r = get(&fake, "/articles?per_page=10").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let next = body["pages"]["next"].as_str().expect("next").to_string();
    assert!(
        next.starts_with(&format!("{}/articles", fake.base_url())),
        "{next}"
    );
    let r = get_url(&fake, &next).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["pages"]["page"], 2);

    // Searches and paths with ids.
    let r = reqwest::Client::new()
        .post(format!("{}/conversations/search", fake.base_url()))
        .bearer_auth(fake.token())
        .header("Intercom-Version", "2.11")
        .json(&json!({"query": {"field": "updated_at", "operator": ">", "value": 0}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let id = body["conversations"][0]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let r = get(&fake, &format!("/conversations/{id}")).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["id"], json!(id));

    // The log sees paths without the prefix; one outside it keeps its own.
    let paths: Vec<(String, u16)> = fake
        .requests()
        .iter()
        .map(|r| (r.path.clone(), r.status))
        .collect();
    assert_eq!(paths[0], ("/admins".to_string(), 200));
    assert_eq!(paths[1], ("/admins".to_string(), 404));
    assert_eq!(paths[2], ("/intercomx/admins".to_string(), 404));
    assert_eq!(paths[4], ("/nope".to_string(), 404));
    assert_eq!(paths[5], ("/".to_string(), 404));
    assert_eq!(paths[6], ("/articles".to_string(), 200));
    assert_eq!(
        fake.stats().unauthorized,
        0,
        "outside the prefix: before auth"
    );
}

#[tokio::test]
async fn base_path_faults_and_deny_use_paths_without_it() {
    let fake = FakeIntercom::start(FakeConfig {
        base_path: "intercom/".into(),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(fake.base_url(), format!("http://{}/intercom", fake.addr()));
    assert_eq!(fake.config().base_path, "/intercom");
    fake.inject_fault("GET /tags status status=502".parse().unwrap());
    fake.deny("/help_center/*", Denial::PlanRestricted);
    assert_eq!(get(&fake, "/tags").await.status(), 502);
    assert_eq!(get(&fake, "/tags").await.status(), 200);
    assert_eq!(get(&fake, "/help_center/collections").await.status(), 403);
    fake.maintenance(10_000, RetryAfter::Seconds);
    assert_eq!(get(&fake, "/tags").await.status(), 503);
    let stats = fake.stats();
    assert_eq!(stats.faults["status"], 1);
    assert_eq!(stats.maintenance_503s, 1);
}

/// The machine's clock in ms since the epoch (the rate limiter's clock).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
}

/// Sleep until `margin_ms` after the start of the next rate-limit window
/// of `window_ms`; its start.
async fn next_window(window_ms: u64, margin_ms: u64) -> u64 {
    let start = now_ms() / window_ms * window_ms + window_ms;
    tokio::time::sleep(Duration::from_millis(start + margin_ms - now_ms())).await;
    start
}

fn header_u32(r: &reqwest::Response, name: &str) -> u32 {
    r.headers()[name].to_str().unwrap().parse().unwrap()
}

/// The other clients' requests counted `at` ms since the epoch in the
/// window starting at `start`.
fn theirs(n: u64, window_ms: u64, start: u64, at: u64) -> u32 {
    (n * (at - start) / window_ms) as u32
}

/// One request of a steadily paced client: when it was sent and answered,
/// its status and `X-RateLimit-Limit`/`Remaining`.
struct Paced {
    sent: u64,
    answered: u64,
    status: u16,
    limit: u32,
    remaining: u32,
}

#[tokio::test]
async fn other_clients_spend_the_rate_limit_window() {
    // 40 a window of 2 s; other clients spend 20 of them, spread over it.
    const WINDOW: u64 = 2_000;
    const LIMIT: u32 = 40;
    const THEIRS: u32 = LIMIT / 2;
    let fake = FakeIntercom::start(FakeConfig {
        requests_per_minute: 1_200,
        window_ms: WINDOW,
        other_clients_per_window: THEIRS,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/tags", fake.base_url());
    let theirs = |start, at| theirs(THEIRS.into(), WINDOW, start, at);
    let (mut sent, mut refused) = (0u64, 0u64);
    // A client pacing itself at one request every 60 ms (33 a window, below
    // the 40 the headers show) meets the 429 about 1.5 s into the window,
    // after some 25 of its own. A slow machine may push it out of the
    // window: try again in the next one.
    let mut window = None;
    for _attempt in 0..3 {
        let start = next_window(WINDOW, 10).await;
        let mut tick = tokio::time::interval(Duration::from_millis(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut log: Vec<Paced> = Vec::new();
        loop {
            tick.tick().await;
            let at = now_ms();
            let r = client
                .get(&url)
                .bearer_auth(fake.token())
                .send()
                .await
                .unwrap();
            sent += 1;
            let paced = Paced {
                sent: at,
                answered: now_ms(),
                status: r.status().as_u16(),
                limit: header_u32(&r, "x-ratelimit-limit"),
                remaining: header_u32(&r, "x-ratelimit-remaining"),
            };
            let status = paced.status;
            if status == 429 {
                refused += 1;
                let body: Value = r.json().await.unwrap();
                assert_eq!(
                    body["errors"][0]["message"],
                    "Exceeded rate limit of 40 in 2_seconds"
                );
            }
            let late = paced.answered >= start + WINDOW;
            log.push(paced);
            if late {
                break;
            }
            if status == 429 {
                window = Some((start, log));
                break;
            }
            assert_eq!(status, 200);
        }
        if window.is_some() {
            break;
        }
    }
    let (start, log) = window.expect("a 429 within the window, in one of 3 windows");
    let (ok, last) = log.split_at(log.len() - 1);
    let last = &last[0];
    assert!(log.iter().all(|p| p.limit == LIMIT));
    // Remaining: the limit less ours and theirs so far.
    for (k, p) in ok.iter().enumerate() {
        let ours = k as u32 + 1;
        let low = LIMIT - ours - theirs(start, p.answered);
        let high = LIMIT - ours - theirs(start, p.sent);
        assert!(
            (low..=high).contains(&p.remaining),
            "request {ours}: Remaining {} not in {low}..={high}",
            p.remaining
        );
    }
    // It fell by more than our own requests explain.
    let ours = ok.len() as u32;
    let before = ok.last().expect("some 200s before the 429");
    let spent_by_others = LIMIT - ours - before.remaining;
    assert!((1..=THEIRS).contains(&spent_by_others), "{spent_by_others}");
    // The 429 came with fewer of ours than X-RateLimit-Limit: when ours
    // and theirs so far no longer fitted.
    assert_eq!(last.remaining, 0);
    assert!((LIMIT - THEIRS..LIMIT).contains(&ours), "{ours}");
    assert!(ours >= LIMIT - theirs(start, last.answered), "{ours}");
    assert!(ours <= LIMIT - theirs(start, before.sent), "{ours}");

    // Phantom requests are neither logged nor counted as ours.
    let stats = fake.stats();
    assert_eq!(fake.requests().len() as u64, sent);
    assert_eq!(stats.requests, sent);
    assert_eq!(stats.limiter_rejections, refused);
    assert_eq!(stats.other_clients_rejections, refused);

    // The other clients stop: our own requests fit again at once.
    fake.set_other_clients_per_window(0);
    assert_eq!(fake.config().other_clients_per_window, 0);
    let at = now_ms();
    let r = get(&fake, "/tags").await;
    let answered = now_ms();
    assert_eq!(r.status(), 200);
    let remaining = header_u32(&r, "x-ratelimit-remaining");
    if answered < start + WINDOW {
        assert_eq!(remaining, LIMIT - ours - 2);
    } else if at >= start + WINDOW {
        assert!(remaining >= LIMIT - 2, "{remaining}");
    }
}

#[tokio::test]
async fn reported_limit_shows_in_headers_while_the_enforced_one_refuses() {
    // Headers say 25 a minute-long window; 10 are enforced.
    const WINDOW: u64 = 60_000;
    let fake = FakeIntercom::start(FakeConfig {
        requests_per_minute: 10,
        window_ms: WINDOW,
        reported_limit_per_window: Some(25),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(fake.config().reported_limit_per_window, Some(25));
    if WINDOW - now_ms() % WINDOW < 5_000 {
        next_window(WINDOW, 10).await;
    }
    // A client trusting X-RateLimit-Limit sends 25; only 10 get through,
    // and Remaining said so all along.
    let mut statuses = Vec::new();
    for k in 1..=25u32 {
        let r = get(&fake, "/tags").await;
        assert_eq!(r.headers()["x-ratelimit-limit"], "25");
        let remaining = header_u32(&r, "x-ratelimit-remaining");
        assert_eq!(remaining, 10u32.saturating_sub(k), "request {k}");
        statuses.push(r.status().as_u16());
        if r.status() == 429 && k == 11 {
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["errors"][0]["code"], "rate_limit_exceeded");
            assert_eq!(
                body["errors"][0]["message"],
                "Exceeded rate limit of 25 in 60_seconds"
            );
        }
    }
    assert_eq!(statuses[..10], [200; 10]);
    assert_eq!(statuses[10..], [429; 15]);

    // Reporting the enforced limit again.
    fake.set_reported_limit_per_window(None);
    assert_eq!(fake.config().reported_limit_per_window, None);
    let r = get(&fake, "/tags").await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-ratelimit-limit"], "10");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");

    let stats = fake.stats();
    assert_eq!(stats.limiter_rejections, 16);
    assert_eq!(stats.other_clients_rejections, 0);
}
