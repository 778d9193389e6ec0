//! Every fault kind, chaos, and the server's counters, over real HTTP
//! (`Patch` and `Replace` in `faults/rewrite.rs`).

#[path = "faults/rewrite.rs"]
mod rewrite;

use std::io::Read;
use std::time::{Duration, Instant};

use fake_intercom::{Chaos, ChaosKind, FakeConfig, FakeIntercom, Fault, FaultKind};
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn request(fake: &FakeIntercom, method: &str, path_and_query: &str) -> reqwest::RequestBuilder {
    let url = format!("{}{}", fake.base_url(), path_and_query);
    let req = match method {
        "POST" => client().post(url),
        _ => client().get(url),
    };
    req.bearer_auth(fake.token())
        .header("Intercom-Version", "2.11")
        .header("Accept", "application/json")
}

async fn get(fake: &FakeIntercom, path_and_query: &str) -> reqwest::Response {
    request(fake, "GET", path_and_query)
        .send()
        .await
        .expect("request")
}

async fn get_json(fake: &FakeIntercom, path_and_query: &str) -> Value {
    let r = get(fake, path_and_query).await;
    assert_eq!(r.status(), 200, "{path_and_query}");
    r.json().await.expect("JSON")
}

fn fault(method: &str, path: &str, kind: FaultKind) -> Fault {
    Fault {
        method: method.into(),
        path: path.into(),
        times: 1,
        kind,
        ..Fault::default()
    }
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn truncated_answers_are_complete_responses_of_cut_json() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let whole = get(&fake, "/admins").await.bytes().await.unwrap();
    fake.inject_fault(fault("GET", "/admins", FaultKind::Truncated { keep: 0 }));
    fake.inject_fault(fault("GET", "/admins", FaultKind::Truncated { keep: 10 }));
    for expected in [whole.len() / 2, 10] {
        let r = get(&fake, "/admins").await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.content_length(), Some(expected as u64));
        let body = r.bytes().await.expect("a complete HTTP response");
        assert_eq!(&body[..], &whole[..expected]);
        assert!(serde_json::from_slice::<Value>(&body).is_err());
    }
    assert_eq!(get(&fake, "/admins").await.bytes().await.unwrap(), whole);
}

#[tokio::test]
async fn html_pages_and_redirects_and_odd_headers_pass_through() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    fake.inject_fault(fault("GET", "/tags", FaultKind::Html));
    let r = get(&fake, "/tags").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("<h1>502 Bad Gateway</h1>"));

    let metadata = "http://169.254.169.254/latest/meta-data/";
    fake.inject_fault(Fault {
        status: 302,
        headers: vec![("Location".into(), metadata.into())],
        ..fault("GET", "/admins", FaultKind::Status)
    });
    let r = get(&fake, "/admins").await;
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], metadata);

    fake.inject_fault(Fault {
        status: 429,
        body: json!({"type": "error.list", "errors": [{"code": "rate_limit_exceeded", "message": "x"}]}),
        headers: vec![
            ("X-RateLimit-Reset".into(), "9223372036854775807".into()),
            ("X-RateLimit-Remaining".into(), "-3".into()),
            ("Retry-After".into(), "99999".into()),
        ],
        ..fault("GET", "/teams", FaultKind::Status)
    });
    let r = get(&fake, "/teams").await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-ratelimit-reset"], "9223372036854775807");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "-3");
    assert_eq!(r.headers()["retry-after"], "99999");
    assert_eq!(
        r.headers()["x-ratelimit-limit"],
        "1667",
        "computed, not set by the fault"
    );
}

#[tokio::test]
async fn reset_answers_break_off_mid_body() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let whole = get(&fake, "/admins").await.bytes().await.unwrap();
    fake.inject_fault(fault("GET", "/admins", FaultKind::Reset { after_bytes: 0 }));
    let r = get(&fake, "/admins").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.content_length(), Some(whole.len() as u64));
    assert!(r.bytes().await.is_err(), "the body ends early");
    assert_eq!(get(&fake, "/admins").await.status(), 200);
}

#[tokio::test]
async fn slow_answers_exceed_a_short_timeout() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    fake.inject_fault(fault("GET", "/tags", FaultKind::Slow { delay_ms: 1_500 }));
    let t = Instant::now();
    let e = request(&fake, "GET", "/tags")
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .expect_err("times out");
    assert!(e.is_timeout(), "{e}");
    assert!(t.elapsed() < Duration::from_millis(1_000));
    fake.inject_fault(fault("GET", "/tags", FaultKind::Slow { delay_ms: 200 }));
    let t = Instant::now();
    assert_eq!(get(&fake, "/tags").await.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn echo_repeats_the_request_headers_with_the_token() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    fake.inject_fault(fault("GET", "/me", FaultKind::Echo));
    let r = get(&fake, "/me").await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error.list");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("headers: "), "{message}");
    assert!(
        message.contains(&format!("authorization=Bearer {}", fake.token())),
        "{message}"
    );
    assert!(message.contains("intercom-version=2.11"), "{message}");
}

#[tokio::test]
async fn huge_bodies_plain_and_gzip() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let size: u64 = 1024 * 1024;
    fake.inject_fault(fault(
        "GET",
        "/tags",
        FaultKind::Huge {
            bytes: size,
            gzip: true,
        },
    ));
    let r = get(&fake, "/tags").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let compressed = r.bytes().await.unwrap();
    assert!(
        (compressed.len() as u64) < size / 100,
        "{} bytes on the wire",
        compressed.len()
    );
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut plain)
        .expect("gzip");
    assert_eq!(plain.len() as u64, size);
    let v: Value = serde_json::from_slice(&plain).expect("JSON");
    assert_eq!(
        (v["type"].as_str(), v["data"].as_array().map(Vec::len)),
        (Some("list"), Some(0))
    );

    fake.inject_fault(fault(
        "GET",
        "/tags",
        FaultKind::Huge {
            bytes: size,
            gzip: false,
        },
    ));
    let r = get(&fake, "/tags").await;
    assert_eq!(r.content_length(), Some(size));
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(r.bytes().await.unwrap().len() as u64, size);

    // A 2 GiB bomb starts at once and stops when the client hangs up.
    fake.inject_fault(fault(
        "GET",
        "/tags",
        FaultKind::Huge {
            bytes: 2 << 30,
            gzip: true,
        },
    ));
    let mut r = get(&fake, "/tags").await;
    assert!(r.chunk().await.unwrap().is_some());
    drop(r);
    assert_eq!(get(&fake, "/tags").await.status(), 200);
}

#[tokio::test]
async fn repeat_sends_the_previous_page_again() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    // Nothing to repeat yet: answered normally.
    fake.inject_fault(fault("GET", "/teams", FaultKind::Repeat));
    assert_eq!(get_json(&fake, "/teams").await["type"], "team.list");

    // Search: page 2 gets page 1 again, with the same cursor.
    let search = |cursor: Option<String>| {
        json!({"query": {"field": "created_at", "operator": ">", "value": 0},
               "pagination": {"per_page": 5, "starting_after": cursor}})
    };
    let fake_ref = &fake;
    let post = |body: Value| async move {
        let r = request(fake_ref, "POST", "/contacts/search")
            .json(&body)
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()
    };
    let page1 = post(search(None)).await;
    let cursor = page1["pages"]["next"]["starting_after"]
        .as_str()
        .map(str::to_string);
    fake.inject_fault(fault("POST", "/contacts/search", FaultKind::Repeat));
    assert_eq!(post(search(cursor.clone())).await, page1);
    let page2 = post(search(cursor)).await;
    assert_ne!(ids(&page2["data"]), ids(&page1["data"]));

    // Page numbers: page 2 gets page 1 and its `next` link again.
    let articles1 = get_json(&fake, "/articles?per_page=5").await;
    fake.inject_fault(fault("GET", "/articles", FaultKind::Repeat));
    let again = get_json(&fake, "/articles?per_page=5&page=2").await;
    assert_eq!(again, articles1);
    assert_eq!(again["pages"]["page"], 1);

    // The scroll: the same companies again, and the scroll does not move on.
    let s1 = get_json(&fake, "/companies/scroll?per_page=5").await;
    let param = s1["scroll_param"].as_str().unwrap().to_string();
    fake.inject_fault(fault("GET", "/companies/scroll", FaultKind::Repeat));
    let next = format!("/companies/scroll?scroll_param={param}");
    assert_eq!(get_json(&fake, &next).await, s1);
    let s2 = get_json(&fake, &next).await;
    let all = fake.with_workspace(|w| ids(&json!(w.companies)));
    assert_eq!(ids(&s2["data"]), all[5..10]);
}

#[tokio::test]
async fn broken_scroll_pages_do_not_move_the_scroll() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let all = fake.with_workspace(|w| ids(&json!(w.companies)));
    let s1 = get_json(&fake, "/companies/scroll?per_page=5").await;
    let next = format!(
        "/companies/scroll?scroll_param={}",
        s1["scroll_param"].as_str().unwrap()
    );
    fake.inject_fault(fault(
        "GET",
        "/companies/scroll",
        FaultKind::Truncated { keep: 0 },
    ));
    let r = get(&fake, &next).await;
    assert!(serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).is_err());
    fake.inject_fault(fault(
        "GET",
        "/companies/scroll",
        FaultKind::Reset { after_bytes: 0 },
    ));
    assert!(get(&fake, &next).await.bytes().await.is_err());
    assert_eq!(ids(&get_json(&fake, &next).await["data"]), all[5..10]);
    // An injected 500 ends the scroll; a new one may start at once.
    fake.inject_fault(fault("GET", "/companies/scroll", FaultKind::Status));
    assert_eq!(get(&fake, &next).await.status(), 500);
    assert_eq!(get(&fake, &next).await.status(), 404);
    assert_eq!(
        ids(&get_json(&fake, "/companies/scroll?per_page=5").await["data"]),
        all[..5]
    );
}

#[tokio::test]
async fn a_slow_scroll_page_the_client_gave_up_on_does_not_move_the_scroll() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let all = fake.with_workspace(|w| ids(&json!(w.companies)));
    let s1 = get_json(&fake, "/companies/scroll?per_page=5").await;
    let next = format!(
        "/companies/scroll?scroll_param={}",
        s1["scroll_param"].as_str().unwrap()
    );
    fake.inject_fault(fault(
        "GET",
        "/companies/scroll",
        FaultKind::Slow { delay_ms: 500 },
    ));
    let e = request(&fake, "GET", &next)
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .expect_err("times out");
    assert!(e.is_timeout());
    // Past the delay: the page the client gave up on was never computed.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(ids(&get_json(&fake, &next).await["data"]), all[5..10]);
}

fn chaos(rate: f64, kinds: Vec<ChaosKind>) -> FakeConfig {
    FakeConfig {
        chaos: Some(Chaos {
            seed: 11,
            rate,
            kinds,
            slow_ms: 50,
        }),
        ..FakeConfig::default()
    }
}

#[tokio::test]
async fn chaos_at_rate_one_hits_every_authenticated_request() {
    let fake = FakeIntercom::start(chaos(1.0, vec![])).await.unwrap();
    for _ in 0..40 {
        // Reset and truncated answers are client errors here; that is fine.
        if let Ok(r) = get(&fake, "/admins").await.error_for_status() {
            let _ = r.bytes().await;
        }
    }
    let r = client()
        .get(format!("{}/admins", fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no chaos without the token");
    let stats = fake.stats();
    assert_eq!(stats.requests, 41);
    assert_eq!(stats.unauthorized, 1);
    assert_eq!(stats.chaos.values().sum::<u64>(), 40, "{stats:?}");
    assert!(stats.chaos.len() >= 4, "several kinds: {stats:?}");
    assert!(stats.faults.is_empty());
    assert_eq!(stats.injected(), 40);
    assert!(stats.max_in_flight >= 1);
}

#[tokio::test]
async fn chaos_at_rate_zero_never_hits() {
    let fake = FakeIntercom::start(chaos(0.0, vec![])).await.unwrap();
    for _ in 0..40 {
        assert_eq!(get(&fake, "/tags").await.status(), 200);
    }
    let stats = fake.stats();
    assert_eq!((stats.requests, stats.injected()), (40, 0));
}

#[tokio::test]
async fn chaos_rate_limit_bursts_look_like_intercoms() {
    let fake = FakeIntercom::start(chaos(1.0, vec![ChaosKind::RateLimitBurst]))
        .await
        .unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    for _ in 0..10 {
        let before = now();
        let r = get(&fake, "/tags").await;
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
        let reset: u64 = r.headers()["x-ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(reset > before && reset <= now() + 2, "{reset}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "rate_limit_exceeded");
    }
    let stats = fake.stats();
    assert_eq!(stats.limiter_rejections, 0);
    assert_eq!(stats.chaos.get("rate-limit-burst"), Some(&10));
}

#[tokio::test]
async fn chaos_is_reproducible_and_keeps_the_scroll_closed() {
    let statuses = |fake: FakeIntercom| async move {
        let mut out = Vec::new();
        for _ in 0..30 {
            out.push(get(&fake, "/teams").await.status().as_u16());
        }
        out
    };
    let kinds = vec![ChaosKind::ServerError, ChaosKind::Html200];
    let a = statuses(
        FakeIntercom::start(chaos(0.5, kinds.clone()))
            .await
            .unwrap(),
    )
    .await;
    let b = statuses(FakeIntercom::start(chaos(0.5, kinds)).await.unwrap()).await;
    assert_eq!(a, b);
    assert!(a.iter().any(|s| *s >= 500) && a.iter().filter(|s| **s == 200).count() > 5);

    // A reset scroll start opens no scroll: the next start is no 400.
    let fake = FakeIntercom::start(chaos(1.0, vec![ChaosKind::Reset]))
        .await
        .unwrap();
    for _ in 0..3 {
        let r = get(&fake, "/companies/scroll").await;
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_64_requests_in_flight() {
    let fake = FakeIntercom::start(FakeConfig {
        latency_ms: 400,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let t = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (url, token) = (format!("{}/tags", fake.base_url()), fake.token());
        calls.spawn(async move {
            let r = client().get(url).bearer_auth(token).send().await;
            r.map(|r| r.status().as_u16()).unwrap_or(0)
        });
    }
    let statuses = calls.join_all().await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    let stats = fake.stats();
    assert!(stats.max_in_flight >= 64, "{stats:?}");
    // A request leaves the count once the server has dropped its answer,
    // which may be just after the client has read it.
    let t = Instant::now();
    while fake.stats().in_flight > 0 && t.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(fake.stats().in_flight, 0);
}

#[tokio::test]
async fn limiter_rejections_are_counted_apart_from_faults() {
    let fake = FakeIntercom::start(FakeConfig {
        requests_per_minute: 3,
        window_ms: 60_000,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    fake.inject_fault(fault("GET", "/tags", FaultKind::Status));
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(get(&fake, "/tags").await.status().as_u16());
    }
    let stats = fake.stats();
    let rejected = statuses.iter().filter(|s| **s == 429).count() as u64;
    assert!(rejected >= 2, "{statuses:?}");
    assert_eq!(stats.limiter_rejections, rejected);
    assert_eq!(stats.faults.get("status"), Some(&1));
    fake.clear_faults();
}

#[cfg(unix)]
#[test]
fn the_binary_takes_fault_and_chaos_flags_and_prints_stats() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-intercom"))
        .args([
            "--contacts",
            "5",
            "--token",
            "t0k",
            "--chaos-rate",
            "0",
            "--chaos-seed",
            "1",
        ])
        .args(["--fault", "GET /admins status status=503 times=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut url = String::new();
    let stdout = child.stdout.take().expect("stdout");
    std::io::BufReader::new(stdout)
        .read_line(&mut url)
        .expect("url");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let statuses: Vec<u16> = rt.block_on(async {
        let mut out = Vec::new();
        for _ in 0..2 {
            let r = client()
                .get(format!("{}/admins", url.trim()))
                .bearer_auth("t0k")
                .send()
                .await
                .unwrap();
            out.push(r.status().as_u16());
        }
        out
    });
    assert_eq!(statuses, [503, 200]);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("exits");
    assert!(out.status.success(), "{:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().last().expect("a stats line");
    let stats: Value = serde_json::from_str(line).expect("JSON stats");
    assert_eq!(stats["requests"], 2);
    assert_eq!(stats["faults"]["status"], 1);
}

#[tokio::test]
async fn denied_paths_answer_as_intercom_refuses_a_permission_or_a_plan() {
    use fake_intercom::Denial;
    let fake = FakeIntercom::start(FakeConfig::default())
        .await
        .expect("start");
    fake.deny("/tickets/search", Denial::TokenUnauthorized);
    fake.deny("/help_center/*", Denial::PlanRestricted);
    let r = request(&fake, "POST", "/tickets/search")
        .json(&json!({"query": {"field": "updated_at", "operator": ">", "value": 0}}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("x-ratelimit-limit"));
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["code"], "token_unauthorized");
    assert_eq!(
        body["errors"][0]["message"],
        "Not authorized to access resource"
    );
    let r = get(&fake, "/help_center/collections").await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["code"], "api_plan_restricted");
    // Everything else is answered, and a grant restores the path.
    assert_eq!(get(&fake, "/admins").await.status(), 200);
    assert_eq!(get(&fake, "/articles").await.status(), 200);
    fake.allow_all();
    assert_eq!(get(&fake, "/help_center/collections").await.status(), 200);
}
