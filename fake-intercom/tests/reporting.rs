//! HTTP tests of the Reporting Data Export endpoints: datasets, enqueue
//! and its checks, the 5-pending-jobs limit, status polls to complete or
//! failed, and the download (gzip or plain CSV, the Accept header), whose
//! rows agree with the workspace.

use std::io::Read;

use fake_intercom::reporting::REPORT_PENDING_JOBS_LIMIT;
use fake_intercom::{FakeConfig, FakeIntercom, Fault, FaultKind};
use serde_json::{json, Value};

const VERSION: &str = "2.16";

/// The fake's defaults, but a retention long enough that the tests' exports
/// from 1970 are allowed (one test checks the default retention).
fn config() -> FakeConfig {
    FakeConfig {
        report_retention_days: 100_000,
        ..FakeConfig::default()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get_json(fake: &FakeIntercom, url: &str) -> (u16, Value) {
    let r = client()
        .get(url)
        .bearer_auth(fake.token())
        .header("Intercom-Version", VERSION)
        .header("Accept", "application/json")
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON body"))
}

async fn enqueue_as(fake: &FakeIntercom, body: &Value, version: &str) -> (u16, Value) {
    let r = client()
        .post(format!("{}/export/reporting_data/enqueue", fake.base_url()))
        .bearer_auth(fake.token())
        .header("Intercom-Version", version)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON body"))
}

async fn enqueue(fake: &FakeIntercom, body: &Value) -> (u16, Value) {
    enqueue_as(fake, body, VERSION).await
}

async fn poll(fake: &FakeIntercom, job: &str) -> (u16, Value) {
    let url = format!(
        "{}/export/reporting_data/{job}?app_id=x&client_id=y&job_identifier={job}",
        fake.base_url()
    );
    get_json(fake, &url).await
}

/// Download with this `Accept` header: status, headers and body bytes.
async fn download(
    fake: &FakeIntercom,
    url: &str,
    accept: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut rb = client()
        .get(url)
        .bearer_auth(fake.token())
        .header("Intercom-Version", VERSION);
    if let Some(a) = accept {
        rb = rb.header("Accept", a);
    }
    let r = rb.send().await.expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.expect("body").to_vec())
}

fn gunzip(bytes: &[u8]) -> String {
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip file");
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("valid gzip");
    text
}

fn conversation_job(start: i64, end: i64) -> Value {
    json!({
        "dataset_id": "conversation",
        "attribute_ids": ["standard.conversation_id", "conversation_started_at",
                          "currently_assigned_teammate_id", "current_conversation_state"],
        "start_time": start,
        "end_time": end,
    })
}

/// Poll `job` until it is no longer pending or in progress; the statuses seen.
async fn poll_to_end(fake: &FakeIntercom, job: &str) -> (Vec<String>, Value) {
    let mut seen = Vec::new();
    for _ in 0..20 {
        let (status, body) = poll(fake, job).await;
        assert_eq!(status, 200, "{body}");
        let s = body["status"].as_str().unwrap().to_string();
        seen.push(s.clone());
        if s != "pending" && s != "in_progress" {
            return (seen, body);
        }
    }
    panic!("job {job} never ended: {seen:?}");
}

#[tokio::test]
async fn datasets_list_their_attributes() {
    let fake = FakeIntercom::start(config()).await.unwrap();
    let url = format!("{}/export/reporting_data/get_datasets", fake.base_url());
    let (status, body) = get_json(&fake, &url).await;
    assert_eq!(status, 200);
    assert_eq!(body, fake.with_workspace(|w| w.report_datasets()));
    let conversation = &body["data"][0];
    assert_eq!(conversation["id"], "conversation");
    assert_eq!(
        conversation["default_time_attribute_id"],
        "conversation_started_at"
    );
    assert!(conversation["attributes"].as_array().unwrap().contains(
        &json!({"id": "conversation_id", "qualified_id": "standard.conversation_id",
                          "name": "Conversation ID"})
    ));
}

#[tokio::test]
async fn a_job_is_pending_then_in_progress_then_complete_and_its_rows_match() {
    let fake = FakeIntercom::start(config()).await.unwrap();
    let (start, end) = fake.with_workspace(|w| {
        let c = |i: usize| w.conversations[i]["created_at"].as_i64().unwrap();
        (c(5), c(40))
    });
    let (status, job) = enqueue(&fake, &conversation_job(start, end)).await;
    assert_eq!(status, 200, "{job}");
    let id = job["job_identifier"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 16);
    assert_eq!(
        job,
        json!({"job_identifier": id, "status": "pending", "download_url": "",
               "download_expires_at": ""})
    );
    let (seen, done) = poll_to_end(&fake, &id).await;
    assert_eq!(seen, ["pending", "in_progress", "complete"]);
    let url = done["download_url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("{}/download/reporting_data/{id}", fake.base_url())
    );
    let expires: i64 = done["download_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(expires > fake.now_secs() + 86_400);
    // Polling a complete job again changes nothing.
    assert_eq!(poll(&fake, &id).await.1, done);

    let (status, headers, bytes) = download(&fake, url, Some("application/octet-stream")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert!(headers.get("content-encoding").is_none(), "a .csv.gz file");
    let csv = gunzip(&bytes);
    let expected = fake.with_workspace(|w| {
        w.report_rows(
            "conversation",
            &[
                "conversation_id",
                "conversation_started_at",
                "currently_assigned_teammate_id",
                "current_conversation_state",
            ],
            start,
            end,
            Some(VERSION),
        )
        .unwrap()
    });
    assert_eq!(csv, expected.to_csv());
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("conversation_id,conversation_started_at,currently_assigned_teammate_id,current_conversation_state")
    );
    // One row per conversation created in [start, end): 35 of them.
    assert_eq!(lines.count(), 35);
    let ids = expected.column("conversation_id").unwrap();
    let want: Vec<String> = fake.with_workspace(|w| {
        w.conversations[5..40]
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    });
    assert_eq!(ids, want);

    let stats = fake.stats();
    assert_eq!(
        (
            stats.report_jobs_enqueued,
            stats.report_job_polls,
            stats.report_downloads,
            stats.report_pending_limit_429s
        ),
        (1, 4, 1, 0)
    );
    let log = fake.requests();
    assert!(log
        .iter()
        .all(|r| r.intercom_version.as_deref() == Some(VERSION)));
    assert_eq!(
        log.last().unwrap().accept.as_deref(),
        Some("application/octet-stream")
    );
}

#[tokio::test]
async fn the_download_needs_the_octet_stream_accept_header() {
    let fake = FakeIntercom::start(FakeConfig {
        report_job_polls: 0,
        ..config()
    })
    .await
    .unwrap();
    let (_, job) = enqueue(&fake, &conversation_job(0, i64::MAX)).await;
    let id = job["job_identifier"].as_str().unwrap();
    let (_, done) = poll(&fake, id).await;
    assert_eq!(done["status"], "complete", "the first poll with 0 polls");
    let url = done["download_url"].as_str().unwrap();
    for accept in [
        None,
        Some("*/*"),
        Some("application/json"),
        Some("text/csv"),
    ] {
        let (status, headers, body) = download(&fake, url, accept).await;
        assert_eq!(status, 406, "{accept:?}");
        assert_eq!(headers["content-type"], "application/json");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["errors"][0]["code"], "not_acceptable");
    }
    let (status, _, _) = download(
        &fake,
        url,
        Some("application/json, application/octet-stream"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(fake.stats().report_downloads, 1);
}

#[tokio::test]
async fn plain_csv_when_gzip_is_off() {
    let fake = FakeIntercom::start(FakeConfig {
        report_download_gzip: false,
        report_job_polls: 1,
        ..config()
    })
    .await
    .unwrap();
    let body = json!({"dataset_id": "ticket", "attribute_ids": ["ticket_id", "ticket_title",
                      "timestamp.ticket_created_at", "user_id"],
                      "start_time": 0, "end_time": 2_000_000_000});
    let (_, job) = enqueue(&fake, &body).await;
    let id = job["job_identifier"].as_str().unwrap();
    let (seen, done) = poll_to_end(&fake, id).await;
    assert_eq!(seen, ["pending", "complete"]);
    let (status, headers, bytes) = download(
        &fake,
        done["download_url"].as_str().unwrap(),
        Some("application/octet-stream"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .ends_with(".csv\""));
    let csv = String::from_utf8(bytes).expect("plain text");
    let (expected, tickets) = fake.with_workspace(|w| {
        let t = w
            .report_rows(
                "ticket",
                &["ticket_id", "ticket_title", "ticket_created_at", "user_id"],
                0,
                2_000_000_000,
                None,
            )
            .unwrap();
        (t, w.tickets.len())
    });
    assert_eq!(csv, expected.to_csv());
    assert_eq!(csv.lines().count(), tickets + 1, "a row per ticket");
}

#[tokio::test]
async fn conversation_rows_depend_on_the_enqueue_version() {
    let fake = FakeIntercom::start(FakeConfig {
        report_job_polls: 0,
        report_download_gzip: false,
        ..config()
    })
    .await
    .unwrap();
    let mut counts = Vec::new();
    for version in ["2.11", "2.14", "2.16", "Unstable"] {
        let (_, job) = enqueue_as(&fake, &conversation_job(0, i64::MAX), version).await;
        let (_, done) = poll(&fake, job["job_identifier"].as_str().unwrap()).await;
        let (_, _, bytes) = download(
            &fake,
            done["download_url"].as_str().unwrap(),
            Some("application/octet-stream"),
        )
        .await;
        counts.push(String::from_utf8(bytes).unwrap().lines().count() - 1);
    }
    let (all, replied) = fake.with_workspace(|w| {
        let replied = w
            .conversations
            .iter()
            .filter(|c| !c["statistics"]["first_contact_reply_at"].is_null())
            .count();
        (w.conversations.len(), replied)
    });
    assert!(replied < all);
    assert_eq!(counts, [replied, replied, all, all]);
}

#[tokio::test]
async fn actions_have_a_row_per_part_in_the_window() {
    let fake = FakeIntercom::start(FakeConfig {
        report_job_polls: 0,
        ..config()
    })
    .await
    .unwrap();
    let (start, end, parts) = fake.with_workspace(|w| {
        let mut times: Vec<i64> = w
            .conversations
            .iter()
            .flat_map(|c| {
                c["conversation_parts"]["conversation_parts"]
                    .as_array()
                    .unwrap()
            })
            .map(|p| p["created_at"].as_i64().unwrap())
            .collect();
        times.sort_unstable();
        // A window from one part's time (included) to a later one's (excluded).
        let (start, end) = (times[times.len() / 4], times[times.len() / 2]);
        let parts = times.iter().filter(|t| (start..end).contains(*t)).count();
        (start, end, parts)
    });
    assert!(parts > 10);
    let body = json!({"dataset_id": "conversation_actions",
                      "attribute_ids": ["action_id", "conversation.conversation_id", "action_type",
                                        "action_time", "teammate_id"],
                      "start_time": start, "end_time": end});
    let (_, job) = enqueue(&fake, &body).await;
    let (_, done) = poll(&fake, job["job_identifier"].as_str().unwrap()).await;
    let (_, _, bytes) = download(
        &fake,
        done["download_url"].as_str().unwrap(),
        Some("application/octet-stream"),
    )
    .await;
    let csv = gunzip(&bytes);
    assert_eq!(csv.lines().count(), parts + 1);
    assert!(csv.starts_with("action_id,conversation_id,action_type,action_time,teammate_id\n"));
}

#[tokio::test]
async fn at_most_five_jobs_pending() {
    let fake = FakeIntercom::start(config()).await.unwrap();
    let mut jobs = Vec::new();
    for _ in 0..REPORT_PENDING_JOBS_LIMIT {
        let (status, job) = enqueue(&fake, &conversation_job(0, 10)).await;
        assert_eq!(status, 200);
        jobs.push(job["job_identifier"].as_str().unwrap().to_string());
    }
    let distinct: std::collections::HashSet<&String> = jobs.iter().collect();
    assert_eq!(distinct.len(), 5);
    let (status, body) = enqueue(&fake, &conversation_job(0, 10)).await;
    assert_eq!(status, 429);
    assert_eq!(body["type"], "error.list");
    assert_eq!(
        body["errors"],
        json!([{"code": "rate_limit_exceeded",
                "message": "Exceeded rate limit of 5 pending reporting dataset export jobs"}])
    );
    // A job in progress still counts; one complete frees a place.
    assert_eq!(poll(&fake, &jobs[0]).await.1["status"], "pending");
    assert_eq!(enqueue(&fake, &conversation_job(0, 10)).await.0, 429);
    assert_eq!(poll(&fake, &jobs[0]).await.1["status"], "in_progress");
    assert_eq!(enqueue(&fake, &conversation_job(0, 10)).await.0, 429);
    assert_eq!(poll(&fake, &jobs[0]).await.1["status"], "complete");
    assert_eq!(enqueue(&fake, &conversation_job(0, 10)).await.0, 200);
    assert_eq!(enqueue(&fake, &conversation_job(0, 10)).await.0, 429);
    let stats = fake.stats();
    assert_eq!(stats.report_jobs_enqueued, 6);
    assert_eq!(stats.report_pending_limit_429s, 4);
}

#[tokio::test]
async fn failed_jobs_have_no_download_and_free_their_place() {
    let fake = FakeIntercom::start(config()).await.unwrap();
    fake.fail_next_report_jobs(1);
    let (_, failing) = enqueue(&fake, &conversation_job(0, 10)).await;
    let (_, fine) = enqueue(&fake, &conversation_job(0, 10)).await;
    let failing = failing["job_identifier"].as_str().unwrap();
    let fine = fine["job_identifier"].as_str().unwrap();
    let (seen, done) = poll_to_end(&fake, failing).await;
    assert_eq!(seen, ["pending", "in_progress", "failed"]);
    assert_eq!(done["download_url"], "");
    assert_eq!(done["download_expires_at"], "");
    assert_eq!(poll_to_end(&fake, fine).await.0.last().unwrap(), "complete");
    let url = format!("{}/download/reporting_data/{failing}", fake.base_url());
    let (status, _, body) = download(&fake, &url, Some("application/octet-stream")).await;
    assert_eq!(status, 400);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["errors"][0]["code"], "bad_request");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("failed"));
    // Failed jobs are not pending.
    for _ in 0..REPORT_PENDING_JOBS_LIMIT {
        assert_eq!(enqueue(&fake, &conversation_job(0, 10)).await.0, 200);
    }

    let always = FakeIntercom::start(FakeConfig {
        report_job_failure_rate: 1.0,
        report_job_polls: 0,
        ..config()
    })
    .await
    .unwrap();
    let (_, job) = enqueue(&always, &conversation_job(0, 10)).await;
    let (_, done) = poll(&always, job["job_identifier"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed");
}

#[tokio::test]
async fn bad_requests_and_unknown_jobs() {
    let fake = FakeIntercom::start(config()).await.unwrap();
    let cases = [
        (
            json!({"attribute_ids": ["conversation_id"], "start_time": 0, "end_time": 1}),
            "'dataset_id' is a required parameter",
        ),
        (
            json!({"dataset_id": "imaginary", "attribute_ids": ["x"], "start_time": 0, "end_time": 1}),
            "imaginary is not a valid dataset_id",
        ),
        (
            json!({"dataset_id": "conversation", "attribute_ids": ["conversation_id", "non_existent"],
                "start_time": 0, "end_time": 1}),
            "attribute_ids invalid for conversation dataset: non_existent",
        ),
        (
            json!({"dataset_id": "conversation", "attribute_ids": [], "start_time": 0, "end_time": 1}),
            "attribute_ids must contain at least one attribute_id",
        ),
        (
            json!({"dataset_id": "conversation", "attribute_ids": "conversation_id",
                "start_time": 0, "end_time": 1}),
            "'attribute_ids' not an array must be of type Array",
        ),
        (
            json!({"dataset_id": "conversation", "attribute_ids": ["conversation_id"], "end_time": 1}),
            "'start_time' is a required parameter",
        ),
    ];
    for (body, message) in cases {
        let (status, answer) = enqueue(&fake, &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            answer["errors"],
            json!([{"code": "bad_request", "message": message}]),
            "{body}"
        );
    }
    let r = client()
        .post(format!("{}/export/reporting_data/enqueue", fake.base_url()))
        .bearer_auth(fake.token())
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(fake.stats().report_jobs_enqueued, 0);
    let (status, body) = poll(&fake, "nosuchjob").await;
    assert_eq!(status, 404);
    assert_eq!(
        body["errors"],
        json!([{"code": "not_found", "message": "Export job not found for identifier: nosuchjob"}])
    );
    let url = format!("{}/download/reporting_data/nosuchjob", fake.base_url());
    assert_eq!(
        download(&fake, &url, Some("application/octet-stream"))
            .await
            .0,
        404
    );
    // A pending job cannot be downloaded yet.
    let (_, job) = enqueue(&fake, &conversation_job(0, 10)).await;
    let url = format!(
        "{}/download/reporting_data/{}",
        fake.base_url(),
        job["job_identifier"].as_str().unwrap()
    );
    assert_eq!(
        download(&fake, &url, Some("application/octet-stream"))
            .await
            .0,
        400
    );
    assert_eq!(
        fake.stats().report_job_polls,
        0,
        "unknown jobs are not polls"
    );
}

#[tokio::test]
async fn the_download_url_carries_the_base_path() {
    let fake = FakeIntercom::start(FakeConfig {
        base_path: "/intercom".into(),
        report_job_polls: 0,
        ..config()
    })
    .await
    .unwrap();
    let (_, job) = enqueue(&fake, &conversation_job(0, i64::MAX)).await;
    let (_, done) = poll(&fake, job["job_identifier"].as_str().unwrap()).await;
    let url = done["download_url"].as_str().unwrap();
    assert!(url.contains("/intercom/download/reporting_data/"), "{url}");
    let (status, _, bytes) = download(&fake, url, Some("application/octet-stream")).await;
    assert_eq!(status, 200);
    assert!(gunzip(&bytes).starts_with("conversation_id,"));
}

#[tokio::test]
async fn an_answer_cut_short_moves_no_job_on() {
    let fake = FakeIntercom::start(config()).await.unwrap();
    let truncated = |method: &str, path: &str| Fault {
        method: method.into(),
        path: path.into(),
        times: 1,
        kind: FaultKind::Truncated { keep: 10 },
        ..Fault::default()
    };
    // An enqueue whose answer is cut short enqueues nothing.
    fake.inject_fault(truncated("POST", "/export/reporting_data/enqueue"));
    let r = client()
        .post(format!("{}/export/reporting_data/enqueue", fake.base_url()))
        .bearer_auth(fake.token())
        .json(&conversation_job(0, 10))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap().len(), 10);
    assert_eq!(fake.stats().report_jobs_enqueued, 0);
    let (_, job) = enqueue(&fake, &conversation_job(0, 10)).await;
    let id = job["job_identifier"].as_str().unwrap();
    // A poll whose answer is cut short does not count.
    fake.inject_fault(truncated("GET", "/export/reporting_data/*"));
    let url = format!("{}/export/reporting_data/{id}", fake.base_url());
    let r = client()
        .get(&url)
        .bearer_auth(fake.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap().len(), 10);
    let (seen, _) = poll_to_end(&fake, id).await;
    assert_eq!(seen, ["pending", "in_progress", "complete"]);
    assert_eq!(fake.stats().report_job_polls, 3);
}

#[tokio::test]
async fn exports_older_than_the_retention_are_refused() {
    let fake = FakeIntercom::start(FakeConfig {
        report_retention_days: 730,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let now = fake.now_secs();
    let edge = now - 730 * 86_400;
    let (status, body) = enqueue(&fake, &conversation_job(edge - 60, now)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["code"], "parameter_invalid");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("retention period (730 days)"));
    assert_eq!(fake.stats().report_jobs_enqueued, 0);
    let (status, body) = enqueue(&fake, &conversation_job(edge + 60, now)).await;
    assert_eq!(status, 200, "{body}");
}
