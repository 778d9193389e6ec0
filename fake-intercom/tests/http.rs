//! HTTP-level tests of the fake server: auth, rate limiting, pagination,
//! faults, the request log and the simple list endpoints.

use std::collections::HashSet;

use fake_intercom::{FakeConfig, FakeIntercom, Fault};
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get(fake: &FakeIntercom, path_and_query: &str) -> reqwest::Response {
    client()
        .get(format!("{}{}", fake.base_url(), path_and_query))
        .bearer_auth(fake.token())
        .header("Intercom-Version", "2.11")
        .header("Accept", "application/json")
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn unauthorized_without_or_with_wrong_token() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let url = format!("{}/admins", fake.base_url());
    let r = client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("x-ratelimit-limit").is_none());
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error.list");
    assert!(body["request_id"].is_string());
    assert_eq!(
        body["errors"],
        json!([{"code": "unauthorized", "message": "Access Token Invalid"}])
    );
    let r = client().get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let log = fake.requests();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|r| r.status == 401 && r.path == "/admins"));
    assert_eq!(log[1].authorization.as_deref(), Some("Bearer nope"));
}

#[tokio::test]
async fn rate_limit_answers_429_with_headers() {
    let fake = FakeIntercom::start(FakeConfig {
        requests_per_minute: 3,
        window_ms: 60_000,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let mut limited = None;
    for _ in 0..10 {
        let r = get(&fake, "/tags").await;
        assert_eq!(r.headers()["x-ratelimit-limit"], "3");
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), 200);
    }
    let r = limited.expect("a 429 within 10 requests");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    let reset: u64 = r.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(reset >= now && reset <= now + 61, "reset {reset} now {now}");
    assert_eq!(reset % 60, 0);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "rate_limit_exceeded");
    assert_eq!(
        body["errors"][0]["message"],
        "Exceeded rate limit of 3 in 60_seconds"
    );
    assert!(fake.requests().iter().any(|r| r.status == 429));
}

#[tokio::test]
async fn rate_limit_headers_on_success() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let r = get(&fake, "/teams").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-ratelimit-limit"], "1667");
    let remaining: u32 = r.headers()["x-ratelimit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(remaining < 1667);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "team.list");
    assert_eq!(body["teams"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn articles_page_number_pagination_follows_next() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let mut url = format!("{}/articles?per_page=10", fake.base_url());
    let mut all: Vec<Value> = Vec::new();
    let mut pages = 0;
    loop {
        let r = client()
            .get(&url)
            .bearer_auth(fake.token())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        pages += 1;
        assert_eq!(body["type"], "list");
        assert_eq!(body["total_count"], 45);
        assert_eq!(body["pages"]["type"], "pages");
        assert_eq!(body["pages"]["page"], pages);
        assert_eq!(body["pages"]["per_page"], 10);
        assert_eq!(body["pages"]["total_pages"], 5);
        all.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["pages"].get("next").and_then(Value::as_str) {
            Some(next) => {
                assert!(next.starts_with(&fake.base_url()));
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(all.len(), 45);
    let ids: HashSet<&str> = all.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 45);
    let updated: Vec<i64> = all
        .iter()
        .map(|a| a["updated_at"].as_i64().unwrap())
        .collect();
    assert!(
        updated.windows(2).all(|w| w[0] >= w[1]),
        "sorted by updated_at desc"
    );
    assert!(all.iter().all(|a| a["type"] == "article"));

    // Defaults and an out-of-range page.
    let body: Value = get(&fake, "/articles").await.json().await.unwrap();
    assert_eq!(body["pages"]["per_page"], 25);
    assert_eq!(body["data"].as_array().unwrap().len(), 25);
    let body: Value = get(&fake, "/articles?page=9").await.json().await.unwrap();
    assert_eq!(body["data"], json!([]));
    assert!(body["pages"].get("next").is_none());
}

#[tokio::test]
async fn collections_and_help_centers_are_paged() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let body: Value = get(&fake, "/help_center/collections?per_page=3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["total_count"], 8);
    assert_eq!(body["pages"]["total_pages"], 3);
    assert_eq!(
        body["pages"]["next"],
        format!(
            "{}/help_center/collections?per_page=3&page=2",
            fake.base_url()
        )
    );
    let body: Value = get(&fake, "/help_center/help_centers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["total_count"], 2);
    assert_eq!(body["pages"]["total_pages"], 1);
    assert!(body["pages"].get("next").is_none());

    let empty = FakeIntercom::start(FakeConfig {
        collections: 0,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let body: Value = get(&empty, "/help_center/collections")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["total_count"], 0);
    assert_eq!(body["pages"]["total_pages"], 1);
}

#[tokio::test]
async fn bad_parameters_are_400_and_unknown_paths_404() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    for q in [
        "/articles?per_page=151",
        "/articles?page=abc",
        "/admins?per_page=500",
        "/segments?include_count=maybe",
        "/counts?type=bogus",
        "/data_attributes?model=ticket",
    ] {
        let r = get(&fake, q).await;
        assert_eq!(r.status(), 400, "{q}");
        assert!(r.headers().get("x-ratelimit-limit").is_some());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "parameter_invalid", "{q}");
    }
    let r = get(&fake, "/nope").await;
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "not_found");
    assert_eq!(body["errors"][0]["message"], "Resource Not Found");
    let r = client()
        .delete(format!("{}/admins", fake.base_url()))
        .bearer_auth(fake.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn faults_replace_answers_then_expire() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    fake.inject_fault(Fault {
        method: "GET".into(),
        path: "/admins".into(),
        status: 503,
        body: json!({"type": "error.list", "errors": [{"code": "service_unavailable", "message": "Try later"}]}),
        headers: vec![("Retry-After".into(), "1".into())],
        times: 2,
        after: 0,
        ..Fault::default()
    });
    fake.inject_fault(Fault {
        method: "*".into(),
        path: "/tags".into(),
        status: 429,
        body: json!({"type": "error.list", "errors": [{"code": "rate_limit_exceeded", "message": "x"}]}),
        headers: vec![("X-RateLimit-Remaining".into(), "0".into())],
        times: 1,
        after: 0,
        ..Fault::default()
    });
    for _ in 0..2 {
        let r = get(&fake, "/admins").await;
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "1");
        assert!(r.headers().get("x-ratelimit-limit").is_some());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "service_unavailable");
    }
    let r = get(&fake, "/admins").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "admin.list");
    assert_eq!(body["admins"].as_array().unwrap().len(), 8);

    let r = get(&fake, "/tags").await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(get(&fake, "/tags").await.status(), 200);

    let statuses: Vec<(String, u16)> = fake
        .requests()
        .iter()
        .map(|r| (r.path.clone(), r.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("/admins".to_string(), 503),
            ("/admins".to_string(), 503),
            ("/admins".to_string(), 200),
            ("/tags".to_string(), 429),
            ("/tags".to_string(), 200),
        ]
    );
    let log = fake.requests();
    assert_eq!(log[0].intercom_version.as_deref(), Some("2.11"));
    assert_eq!(log[0].accept.as_deref(), Some("application/json"));
    assert_eq!(log[0].query, "");
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn me_segments_data_attributes_and_counts() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let me: Value = get(&fake, "/me").await.json().await.unwrap();
    assert_eq!(me["type"], "admin");
    assert_eq!(me["app"]["type"], "app");
    assert_eq!(me["avatar"]["type"], "avatar");

    let seg: Value = get(&fake, "/segments").await.json().await.unwrap();
    assert_eq!(seg["type"], "segment.list");
    assert!(seg["segments"][0].get("count").is_none());
    let seg: Value = get(&fake, "/segments?include_count=true")
        .await
        .json()
        .await
        .unwrap();
    let total: u64 = seg["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_u64().unwrap())
        .sum();
    let members = fake.with_workspace(|w| w.contact_segments.len());
    assert_eq!(total as usize, members);

    let all: Value = get(&fake, "/data_attributes").await.json().await.unwrap();
    let with_archived: Value = get(&fake, "/data_attributes?include_archived=true")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        with_archived["data"].as_array().unwrap().len() > all["data"].as_array().unwrap().len()
    );
    let company: Value = get(&fake, "/data_attributes?model=company")
        .await
        .json()
        .await
        .unwrap();
    assert!(company["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["model"] == "company"));
    let conv: Value = get(&fake, "/data_attributes?model=conversation")
        .await
        .json()
        .await
        .unwrap();
    assert!(conv["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["model"] == "conversation"));
    let r = client()
        .get(format!(
            "{}/data_attributes?model=conversation",
            fake.base_url()
        ))
        .bearer_auth(fake.token())
        .header("Intercom-Version", "2.16")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    let totals: Value = get(&fake, "/counts").await.json().await.unwrap();
    assert_eq!(totals, fake.with_workspace(|w| w.counts()));
    let mut url = format!(
        "{}/counts?type=company&count=user&per_page=7",
        fake.base_url()
    );
    let mut n = 0;
    loop {
        let body: Value = client()
            .get(&url)
            .bearer_auth(fake.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        n += body["company"]["user"].as_array().unwrap().len();
        match body["pages"].get("next").and_then(Value::as_str) {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(n, 40);
}

#[tokio::test]
async fn workspace_changes_are_served() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    fake.with_workspace(|w| {
        w.tags
            .push(json!({"type": "tag", "id": "1", "name": "Added in test"}));
    });
    let tags: Value = get(&fake, "/tags").await.json().await.unwrap();
    assert_eq!(tags["data"].as_array().unwrap().len(), 13);
    let id = fake.with_workspace(|w| w.contacts[0]["id"].as_str().unwrap().to_string());
    assert!(fake.with_workspace(|w| w.touch_contact(&id, fake_intercom::GENERATION_END + 5)));
    assert!(!fake.with_workspace(|w| w.touch_contact("missing", 1)));
}

#[tokio::test]
async fn latency_is_added() {
    let fake = FakeIntercom::start(FakeConfig {
        latency_ms: 150,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let t = std::time::Instant::now();
    assert_eq!(get(&fake, "/tags").await.status(), 200);
    assert!(t.elapsed() >= std::time::Duration::from_millis(150));
}

#[test]
fn spawned_server_works_from_plain_tests() {
    let fake = FakeIntercom::spawn(FakeConfig::default()).unwrap();
    let base = fake.base_url();
    assert!(base.starts_with("http://127.0.0.1:"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body: Value = rt.block_on(async {
        client()
            .get(format!("{base}/subscription_types"))
            .bearer_auth(fake.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(body["type"], "list");
    assert_eq!(body["data"].as_array().unwrap().len(), 3);
    drop(fake);
    // The port is released once the handle is dropped.
    let gone = rt.block_on(async { client().get(format!("{base}/tags")).send().await });
    assert!(gone.is_err());
}
