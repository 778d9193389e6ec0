//! The Reporting Data Export endpoints (Intercom-Version 2.14 and later in
//! Intercom's reference; the fake answers them on any version):
//! `GET /export/reporting_data/get_datasets`, `POST
//! /export/reporting_data/enqueue`, `GET /export/reporting_data/{job}` and
//! `GET /download/reporting_data/{job}`. The datasets and rows are in
//! [`reporting`](crate::reporting), the jobs in its `jobs`.

use axum::extract::{Extension, State};
use axum::http::header::{HeaderValue, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::api::error::ApiError;
use crate::endpoints::context::{path_id, reply, Ctx, RawBody, S};
use crate::reporting::jobs::{DownloadRefused, EnqueueRefused, JobStatus, JobView};
use crate::reporting::{ReportRequest, REPORT_PENDING_JOBS_LIMIT};

/// The media type the download must be asked for.
const OCTET_STREAM: &str = "application/octet-stream";

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

fn job_not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("Export job not found for identifier: {id}"),
    )
}

/// `{"job_identifier","status","download_url","download_expires_at"}`:
/// the URL and expiry (epoch seconds, as a string) only once complete,
/// else empty strings.
fn job_answer(view: &JobView, base_url: &str) -> Value {
    let complete = view.status == JobStatus::Complete;
    let url = if complete {
        format!("{base_url}/download/reporting_data/{}", view.id)
    } else {
        String::new()
    };
    let expires = match view.download_expires_at {
        Some(t) if complete => t.to_string(),
        _ => String::new(),
    };
    json!({
        "job_identifier": view.id,
        "status": view.status.name(),
        "download_url": url,
        "download_expires_at": expires,
    })
}

/// `GET /export/reporting_data/get_datasets`.
pub(crate) async fn datasets(State(s): S) -> Response {
    reply(Ok(s.read_ws().report_datasets()))
}

/// `POST /export/reporting_data/enqueue`: 400 `bad_request` for a bad
/// body, 429 `rate_limit_exceeded` with [`REPORT_PENDING_JOBS_LIMIT`]
/// jobs pending, else the new job, `pending`.
pub(crate) async fn enqueue(
    State(s): S,
    ctx: Ctx,
    Extension(body): Extension<RawBody>,
) -> Response {
    reply((|| {
        let v: Value = if body.0.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            serde_json::from_slice(&body.0)
                .map_err(|e| bad_request(format!("Request body is not valid JSON: {e}")))?
        };
        let request = ReportRequest::from_body(&v).map_err(bad_request)?;
        match s
            .reports
            .enqueue(request, ctx.version.clone(), s.now_secs(), ctx.peek)
        {
            Ok(view) => Ok(job_answer(&view, "")),
            Err(EnqueueRefused::TooManyPending) => Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                format!(
                    "Exceeded rate limit of {REPORT_PENDING_JOBS_LIMIT} pending reporting dataset export jobs"
                ),
            )),
            Err(EnqueueRefused::BeforeRetention(days)) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "parameter_invalid",
                format!(
                    "start_time must be within your workspace's reporting data retention period ({days} days)"
                ),
            )),
        }
    })())
}

/// `GET /export/reporting_data/{job}`: a status poll, which moves the job
/// on; 404 `not_found` for an unknown job.
pub(crate) async fn job_status(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let id = path_id(&ctx.path, "/export/reporting_data/", "").unwrap_or_default();
        let view = {
            let ws = s.read_ws();
            s.reports.poll(&id, &ws, s.now_secs(), ctx.peek)
        };
        let view = view.ok_or_else(|| job_not_found(&id))?;
        Ok(job_answer(&view, &ctx.base_url(&s)))
    })())
}

/// Whether an `Accept` header asks for `application/octet-stream` (by
/// name: `*/*` or `application/*` alone do not).
fn accepts_octet_stream(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',').any(|part| {
            let media = part.split(';').next().unwrap_or_default().trim();
            media.eq_ignore_ascii_case(OCTET_STREAM)
        })
    })
}

/// `GET /download/reporting_data/{job}`: the file of a complete job (a
/// gzip-compressed CSV, or plain CSV, `Content-Type:
/// application/octet-stream`). 406 `not_acceptable` unless `Accept`
/// names `application/octet-stream`; 404 `not_found` for an unknown job;
/// 400 `bad_request` for a job not complete (pending, in progress or
/// failed).
pub(crate) async fn download(State(s): S, ctx: Ctx) -> Response {
    let id = path_id(&ctx.path, "/download/reporting_data/", "").unwrap_or_default();
    if !accepts_octet_stream(ctx.accept.as_deref()) {
        return ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            format!("The Accept header must be {OCTET_STREAM}"),
        )
        .into_response();
    }
    let (file, gzip) = match s.reports.download(&id, ctx.peek) {
        Ok(f) => f,
        Err(DownloadRefused::NotFound) => return job_not_found(&id).into_response(),
        Err(DownloadRefused::NotComplete(status)) => {
            return bad_request(format!(
                "Export job {id} is {}; only complete jobs can be downloaded",
                status.name()
            ))
            .into_response()
        }
    };
    let name = if gzip {
        format!("attachment; filename=\"{id}.csv.gz\"")
    } else {
        format!("attachment; filename=\"{id}.csv\"")
    };
    let mut resp = (StatusCode::OK, file).into_response();
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(OCTET_STREAM));
    if let Ok(v) = HeaderValue::from_str(&name) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_must_name_octet_stream() {
        assert!(accepts_octet_stream(Some("application/octet-stream")));
        assert!(accepts_octet_stream(Some(
            "application/json, Application/Octet-Stream;q=0.9"
        )));
        assert!(!accepts_octet_stream(Some("*/*")));
        assert!(!accepts_octet_stream(Some("application/*")));
        assert!(!accepts_octet_stream(Some("application/json")));
        assert!(!accepts_octet_stream(None));
    }
}
