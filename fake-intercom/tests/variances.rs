//! Real-world variances over real HTTP: maintenance windows (503 with
//! `Retry-After`) and a base path (a proxy serving Intercom under a prefix).

use std::time::{Duration, UNIX_EPOCH};

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
