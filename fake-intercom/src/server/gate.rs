//! The gate every request passes, in this order: the base path stripped
//! (once, here: everything after sees the path without it); counted and
//! logged; the configured latency; outside the base path, 404; bearer auth
//! (401); the request hook; a maintenance window (503, not counted by the
//! rate limiter); the rate limiter (429); a denied path (401
//! `token_unauthorized`, 403); a queued fault, else a chaos fault, else the
//! `per_page` check and the endpoint; then the `X-RateLimit-*` headers
//! (those a fault set win; the reset epoch on the fake's clock; none on a
//! maintenance 503), a default `Content-Type` and the `Date` of the fake's
//! clock (unless a fault set one; hyper then adds no `Date` of its own).
//!
//! Waiting is always an async sleep and no lock is held across an await,
//! so many requests can be in flight at once.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{HeaderValue, CONTENT_TYPE, DATE};
use axum::http::request::Parts;
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::api::error::{error_body, json_response, ApiError};
use crate::api::pagination::MAX_PER_PAGE;
use crate::api::query::QueryParams;
use crate::api::ratelimit::{window_label, RateDecision};
use crate::endpoints::context::{header_string, Peek, RawBody};
use crate::faults::{Denial, Fault, FaultKind};
use crate::server::answers::{
    echo_answer, html_answer, huge_answer, status_answer, status_or, with_headers, Collected,
};
use crate::server::bodies::Tracked;
use crate::server::chaos::Injection;
use crate::server::log::RecordedRequest;
use crate::server::maintenance::maintenance_answer;
use crate::server::memory::Remembered;
use crate::server::shared::Shared;
use crate::time::{http_date, now_ms};

/// Paths whose handlers check `per_page` themselves (their limit is not 150).
const OWN_PER_PAGE_LIMIT: &[&str] = &["/admins/activity_logs", "/conversations/deleted"];

/// Largest request body read.
const MAX_REQUEST_BODY: usize = 64 * 1024 * 1024;

/// The gate (an axum middleware in front of every route).
pub(crate) async fn gate(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let in_flight = shared.stats.arrive();
    let (mut parts, body) = req.into_parts();
    let inside = strip_base_path(&mut parts.uri, &shared.config().base_path);
    let body = axum::body::to_bytes(body, MAX_REQUEST_BODY)
        .await
        .unwrap_or_default();
    let recorded = recorded(&parts, &body);
    let seq = shared.log.record(recorded.clone());
    let latency_ms = shared.config().latency_ms;
    if latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(latency_ms)).await;
    }
    let mut response = if !inside {
        ApiError::not_found().into_response()
    } else if !authorized(&parts.headers, &shared.config().token) {
        shared.stats.unauthorized();
        ApiError::unauthorized().into_response()
    } else {
        shared.run_hook(&recorded);
        match shared.maintenance.left() {
            Some((left, retry_after)) => {
                shared.stats.maintenance_503();
                maintenance_answer(left, retry_after, shared.store.clock_offset_secs())
            }
            None => limited(&shared, Pending { parts, body, next }).await,
        }
    };
    let headers = response.headers_mut();
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if !headers.contains_key(DATE) {
        if let Ok(date) = HeaderValue::from_str(&http_date(shared.store.now_secs())) {
            headers.insert(DATE, date);
        }
    }
    shared.log.set_status(seq, response.status().as_u16());
    response.map(|b| Body::new(Tracked::new(b, in_flight)))
}

/// The rate limiter's answer (429, its message naming the limit
/// `X-RateLimit-Limit` shows), else a denied path's (401, 403), else
/// [`answer`]; with the `X-RateLimit-*` headers.
async fn limited(shared: &Shared, req: Pending) -> Response {
    let decision = shared.limiter.check(now_ms());
    let denial = shared.denial(req.parts.uri.path());
    let mut resp = if let (true, Some(d)) = (decision.allowed, denial) {
        match d {
            Denial::TokenUnauthorized => ApiError::token_unauthorized(),
            Denial::PlanRestricted => ApiError::plan_restricted(),
        }
        .into_response()
    } else if decision.allowed {
        answer(shared, req).await
    } else {
        shared.stats.limiter_rejection(decision.by_other_clients);
        let msg = format!(
            "Exceeded rate limit of {} in {}",
            decision.limit,
            window_label(shared.limiter.window_ms())
        );
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", msg).into_response()
    };
    add_rate_headers(
        resp.headers_mut(),
        &decision,
        shared.store.clock_offset_secs(),
    );
    resp
}

/// A request past auth, not answered yet (past the rate limiter once
/// [`answer`] gets it).
struct Pending {
    parts: Parts,
    body: Bytes,
    next: Next,
}

/// A queued fault, else a chaos fault, else the endpoint's answer.
async fn answer(shared: &Shared, req: Pending) -> Response {
    let method = req.parts.method.as_str().to_string();
    let path = req.parts.uri.path().to_string();
    let query = req.parts.uri.query().unwrap_or("").to_string();
    let resp = if let Some(fault) = shared.take_fault(&method, &path) {
        shared.stats.fault(fault.kind.name());
        answer_fault(shared, &fault, req).await
    } else if let Some(injection) = shared.chaos.as_ref().and_then(|c| c.decide(&path)) {
        shared.stats.chaos(injection.kind().name());
        answer_chaos(shared, injection, req).await
    } else {
        return real(shared, req, false).await;
    };
    shared.injected_answer_sent(resp.status(), &path, &query);
    resp
}

/// The answer of a queued fault (see [`FaultKind`]).
async fn answer_fault(shared: &Shared, fault: &Fault, req: Pending) -> Response {
    let resp = match &fault.kind {
        FaultKind::Status => status_answer(
            status_or(fault.status, StatusCode::INTERNAL_SERVER_ERROR),
            &fault.body,
        ),
        FaultKind::Html => {
            html_answer(status_or(fault.status, StatusCode::OK), fault.body.as_str())
        }
        FaultKind::Echo => echo_answer(
            status_or(fault.status, StatusCode::BAD_REQUEST),
            &req.parts.headers,
        ),
        FaultKind::Huge { bytes, gzip } => {
            huge_answer(status_or(fault.status, StatusCode::OK), *bytes, *gzip)
        }
        FaultKind::Truncated { keep } => {
            let status = status_or(fault.status, StatusCode::OK);
            Collected::from(real(shared, req, true).await)
                .await
                .truncated(status, *keep)
        }
        FaultKind::Patch(ops) => {
            let status = status_or(fault.status, StatusCode::OK);
            Collected::from(real(shared, req, false).await)
                .await
                .patched(status, ops)
        }
        FaultKind::Replace { find, with } => {
            let status = status_or(fault.status, StatusCode::OK);
            Collected::from(real(shared, req, false).await)
                .await
                .replaced(status, find, with)
        }
        FaultKind::Reset { after_bytes } => Collected::from(real(shared, req, true).await)
            .await
            .reset(*after_bytes),
        FaultKind::Slow { delay_ms } => {
            tokio::time::sleep(Duration::from_millis(*delay_ms)).await;
            real(shared, req, false).await
        }
        FaultKind::Repeat => {
            let remembered = shared
                .memory
                .recall(req.parts.method.as_str(), req.parts.uri.path());
            match remembered {
                Some(r) => repeated(r),
                None => real(shared, req, false).await,
            }
        }
    };
    with_headers(resp, &fault.headers)
}

/// The answer of a chaos fault (see [`ChaosKind`](crate::ChaosKind)).
async fn answer_chaos(shared: &Shared, injection: Injection, req: Pending) -> Response {
    match injection {
        Injection::RateLimit { reset_in_secs } => {
            let limit = shared.limiter.header_limit();
            let msg = format!(
                "Exceeded rate limit of {limit} in {}",
                window_label(shared.limiter.window_ms())
            );
            let resp = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                &error_body("rate_limit_exceeded", &msg),
            );
            let reset = shared.store.now_secs().saturating_add(reset_in_secs as i64);
            let headers = [
                ("X-RateLimit-Limit", limit.to_string()),
                ("X-RateLimit-Remaining", "0".to_string()),
                ("X-RateLimit-Reset", reset.to_string()),
            ];
            with_headers(resp, &headers.map(|(k, v)| (k.to_string(), v)))
        }
        Injection::ServerError { status, empty } => {
            let status = status_or(status, StatusCode::INTERNAL_SERVER_ERROR);
            if empty {
                return status.into_response();
            }
            let (code, message) = match status.as_u16() {
                500 => ("server_error", "Server Error"),
                502 => ("bad_gateway", "Bad Gateway"),
                _ => ("service_unavailable", "Service Unavailable"),
            };
            json_response(status, &error_body(code, message))
        }
        Injection::Reset => Collected::from(real(shared, req, true).await)
            .await
            .reset(0),
        Injection::Truncated => Collected::from(real(shared, req, true).await)
            .await
            .truncated(StatusCode::OK, 0),
        Injection::Slow { delay_ms } => {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            real(shared, req, false).await
        }
        Injection::Html200 => html_answer(StatusCode::OK, None),
    }
}

/// The endpoint's own answer, after the gate's `per_page` check. A `peek`
/// answer (one the client will not get whole) moves no state on; other 2xx
/// answers are remembered for `Repeat`.
async fn real(shared: &Shared, req: Pending, peek: bool) -> Response {
    let Pending {
        mut parts,
        body,
        next,
    } = req;
    if let Err(e) = per_page_check(parts.uri.path(), parts.uri.query().unwrap_or("")) {
        return e.into_response();
    }
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    parts.extensions.insert(RawBody(body.clone()));
    if peek {
        parts.extensions.insert(Peek);
    }
    let resp = next.run(Request::from_parts(parts, Body::from(body))).await;
    if peek || !resp.status().is_success() {
        return resp;
    }
    let answer = Collected::from(resp).await;
    let remembered = Remembered {
        status: answer.status,
        content_type: answer.headers.get(CONTENT_TYPE).cloned(),
        body: answer.body.clone(),
    };
    shared.memory.remember(&method, &path, remembered);
    answer.whole()
}

/// A remembered answer sent again.
fn repeated(r: Remembered) -> Response {
    let mut resp = (r.status, r.body).into_response();
    if let Some(ct) = r.content_type {
        resp.headers_mut().insert(CONTENT_TYPE, ct);
    }
    resp
}

/// Strip `base` (normalized: `""` or `/name` without a trailing `/`) from
/// the front of `uri`'s path; false when the path is outside it. The path
/// `base` alone becomes `/`.
fn strip_base_path(uri: &mut Uri, base: &str) -> bool {
    if base.is_empty() {
        return true;
    }
    let Some(rest) = uri.path().strip_prefix(base) else {
        return false;
    };
    if !rest.is_empty() && !rest.starts_with('/') {
        return false;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let stripped = match uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_string(),
    };
    let mut uri_parts = uri.clone().into_parts();
    uri_parts.path_and_query = PathAndQuery::try_from(stripped).ok();
    if let Ok(stripped) = Uri::from_parts(uri_parts) {
        *uri = stripped;
    }
    true
}

/// The request as the log keeps it.
fn recorded(parts: &Parts, body: &Bytes) -> RecordedRequest {
    let recorded_body = if body.is_empty() {
        None
    } else {
        Some(
            serde_json::from_slice::<Value>(body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned())),
        )
    };
    RecordedRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        intercom_version: header_string(&parts.headers, "intercom-version"),
        authorization: header_string(&parts.headers, "authorization"),
        user_agent: header_string(&parts.headers, "user-agent"),
        accept: header_string(&parts.headers, "accept"),
        body: recorded_body,
        status: 0,
        at_ms: now_ms(),
    }
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut it = value.trim().splitn(2, ' ');
    let scheme = it.next().unwrap_or_default();
    let presented = it.next().unwrap_or_default().trim();
    scheme.eq_ignore_ascii_case("bearer") && !presented.is_empty() && presented == token
}

/// The `X-RateLimit-*` headers of `d`, except those already set (a
/// fault's own headers win). The limiter counts on the machine's clock;
/// the reset epoch is reported on the fake's, `clock_offset_secs` apart.
fn add_rate_headers(headers: &mut HeaderMap, d: &RateDecision, clock_offset_secs: i64) {
    let reset = i64::try_from(d.reset)
        .unwrap_or(i64::MAX)
        .saturating_add(clock_offset_secs);
    let computed = [
        ("x-ratelimit-limit", HeaderValue::from(d.limit)),
        ("x-ratelimit-remaining", HeaderValue::from(d.remaining)),
        ("x-ratelimit-reset", HeaderValue::from(reset)),
    ];
    for (name, value) in computed {
        if !headers.contains_key(name) {
            headers.insert(name, value);
        }
    }
}

/// The gate's `per_page` check (1..=150) for paths without their own limit.
fn per_page_check(path: &str, raw_query: &str) -> Result<(), ApiError> {
    if OWN_PER_PAGE_LIMIT.contains(&path) {
        return Ok(());
    }
    QueryParams::parse(raw_query)
        .get_positive("per_page", MAX_PER_PAGE)
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_header_parsing() {
        let mut h = HeaderMap::new();
        assert!(!authorized(&h, "t"));
        h.insert("authorization", HeaderValue::from_static("Bearer t"));
        assert!(authorized(&h, "t"));
        assert!(!authorized(&h, "u"));
        h.insert("authorization", HeaderValue::from_static("bearer t"));
        assert!(authorized(&h, "t"));
        h.insert("authorization", HeaderValue::from_static("Basic t"));
        assert!(!authorized(&h, "t"));
        h.insert("authorization", HeaderValue::from_static("Bearer "));
        assert!(!authorized(&h, ""));
    }

    #[test]
    fn base_path_stripped() {
        let strip = |base: &str, uri: &str| {
            let mut uri: Uri = uri.parse().unwrap();
            strip_base_path(&mut uri, base).then(|| uri.to_string())
        };
        assert_eq!(strip("", "/admins?x=1").as_deref(), Some("/admins?x=1"));
        assert_eq!(
            strip("/intercom", "/intercom/articles?page=2").as_deref(),
            Some("/articles?page=2")
        );
        assert_eq!(strip("/intercom", "/intercom").as_deref(), Some("/"));
        assert_eq!(strip("/intercom", "/admins"), None);
        assert_eq!(strip("/intercom", "/intercomx/admins"), None);
        assert_eq!(strip("/a/b", "/a/b/me").as_deref(), Some("/me"));
    }

    #[test]
    fn fault_headers_win_over_computed_rate_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", HeaderValue::from_static("-1"));
        let d = RateDecision {
            allowed: true,
            limit: 10,
            remaining: 9,
            reset: 1_700_000_000,
            by_other_clients: false,
        };
        add_rate_headers(&mut h, &d, 0);
        assert_eq!(h["x-ratelimit-reset"], "-1");
        assert_eq!(h["x-ratelimit-limit"], "10");
        let mut h = HeaderMap::new();
        add_rate_headers(&mut h, &d, -3_600);
        assert_eq!(h["x-ratelimit-reset"], "1699996400", "on the fake's clock");
    }
}
