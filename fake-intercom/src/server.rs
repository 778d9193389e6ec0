//! The HTTP side: the axum router, the gate every request passes (request log,
//! latency, bearer auth, rate limiting, injected faults, `per_page` check,
//! `X-RateLimit-*` headers), and the endpoint handlers.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::counts::counts_response;
use crate::error::{error_body, ApiError};
use crate::generate::Workspace;
use crate::pagination::{page_list, PageRequest, MAX_PER_PAGE};
use crate::query::QueryParams;
use crate::ratelimit::{window_label, RateDecision, RateLimiter};
use crate::{FakeConfig, Fault, RecordedRequest};

/// Default `per_page` of `/help_center/help_centers`.
pub const HELP_CENTERS_PER_PAGE: usize = 20;
/// Default `per_page` of `/help_center/collections`.
pub const COLLECTIONS_PER_PAGE: usize = 20;
/// Default `per_page` of `/articles`.
pub const ARTICLES_PER_PAGE: usize = 25;

/// Everything the server shares between requests.
pub(crate) struct Shared {
    pub config: FakeConfig,
    pub base_url: String,
    pub workspace: RwLock<Workspace>,
    /// `(sequence number, request)`: the sequence lets a finished request
    /// update its own entry even after `clear_requests`.
    pub log: Mutex<(u64, Vec<(u64, RecordedRequest)>)>,
    pub faults: Mutex<Vec<Fault>>,
    pub limiter: RateLimiter,
}

impl Shared {
    pub fn new(config: FakeConfig, addr: SocketAddr) -> Shared {
        let workspace = Workspace::generate(&config);
        let limiter = RateLimiter::new(config.requests_per_minute, config.window_ms);
        Shared {
            base_url: format!("http://{addr}"),
            workspace: RwLock::new(workspace),
            log: Mutex::new((0, Vec::new())),
            faults: Mutex::new(Vec::new()),
            limiter,
            config,
        }
    }

    pub fn read_ws(&self) -> RwLockReadGuard<'_, Workspace> {
        self.workspace.read().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, req: RecordedRequest) -> u64 {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.0 += 1;
        let seq = log.0;
        log.1.push((seq, req));
        seq
    }

    fn set_status(&self, seq: u64, status: u16) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(i) = log.1.binary_search_by_key(&seq, |(s, _)| *s) {
            log.1[i].1.status = status;
        }
    }

    /// Take one use of the first fault matching `method` and `path`.
    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut faults = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        let i = faults.iter().position(|f| {
            f.times > 0
                && (f.method == "*" || f.method.eq_ignore_ascii_case(method))
                && f.path == path
        })?;
        let fault = faults[i].clone();
        faults[i].times -= 1;
        if faults[i].times == 0 {
            faults.remove(i);
        }
        Some(fault)
    }
}

/// A JSON response with `Content-Type: application/json`.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = (status, bytes).into_response();
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn reply(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

fn header_string(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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

fn add_rate_headers(headers: &mut HeaderMap, d: &RateDecision) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(d.reset));
}

/// The gate every request passes before (and after) its handler.
async fn gate(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let recorded_body = if bytes.is_empty() {
        None
    } else {
        Some(
            serde_json::from_slice::<Value>(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        )
    };
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let seq = shared.record(RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        query: raw_query.clone(),
        intercom_version: header_string(&parts.headers, "intercom-version"),
        authorization: header_string(&parts.headers, "authorization"),
        user_agent: header_string(&parts.headers, "user-agent"),
        accept: header_string(&parts.headers, "accept"),
        body: recorded_body,
        status: 0,
    });

    if shared.config.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(shared.config.latency_ms)).await;
    }

    let mut response = if !authorized(&parts.headers, &shared.config.token) {
        ApiError::unauthorized().into_response()
    } else {
        let decision = shared.limiter.check(now_ms());
        let mut resp = if !decision.allowed {
            let msg = format!(
                "Exceeded rate limit of {} in {}",
                decision.limit,
                window_label(shared.limiter.window_ms())
            );
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", msg).into_response()
        } else if let Some(fault) = shared.take_fault(&method, &path) {
            fault_response(&fault)
        } else if let Err(e) = QueryParams::parse(&raw_query).get_positive("per_page", MAX_PER_PAGE)
        {
            e.into_response()
        } else {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        };
        let headers = resp.headers_mut();
        // Fault headers (already set) win over the computed ones.
        let mut rate = HeaderMap::new();
        add_rate_headers(&mut rate, &decision);
        for (name, value) in rate.iter() {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        resp
    };
    if !response.headers().contains_key(CONTENT_TYPE) {
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    shared.set_status(seq, response.status().as_u16());
    response
}

fn fault_response(fault: &Fault) -> Response {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = json_response(status, &fault.body);
    for (k, v) in &fault.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp
}

/// What a handler needs to know about its request.
pub(crate) struct Ctx {
    pub query: QueryParams,
    /// `http://host:port` as the client addressed us (for absolute `next` URLs).
    pub base: Option<String>,
    pub path: String,
    pub version: Option<String>,
}

impl Ctx {
    fn base_url(&self, shared: &Shared) -> String {
        self.base.clone().unwrap_or_else(|| shared.base_url.clone())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Ctx, Infallible> {
        let host = parts
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty())
            .map(|h| format!("http://{h}"));
        Ok(Ctx {
            query: QueryParams::parse(parts.uri.query().unwrap_or("")),
            base: host,
            path: parts.uri.path().to_string(),
            version: header_string(&parts.headers, "intercom-version"),
        })
    }
}

/// Whether an `Intercom-Version` header value is at least `major.minor`.
/// `Unstable`/`Preview` count as newer than any number; a missing or
/// unparsable header means the app default (2.11 here).
pub fn version_at_least(version: Option<&str>, major: u32, minor: u32) -> bool {
    let v = version.map(str::trim).unwrap_or("2.11");
    if v.eq_ignore_ascii_case("unstable") || v.eq_ignore_ascii_case("preview") {
        return true;
    }
    let mut it = v.split('.');
    let ma = it.next().and_then(|s| s.parse::<u32>().ok());
    let mi = it.next().and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
    match ma {
        Some(ma) => (ma, mi) >= (major, minor),
        None => (2, 11) >= (major, minor),
    }
}

/// The router with every endpoint and the gate in front.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/admins", get(admins))
        .route("/teams", get(teams))
        .route("/tags", get(tags))
        .route("/segments", get(segments))
        .route("/data_attributes", get(data_attributes))
        .route("/subscription_types", get(subscription_types))
        .route("/help_center/help_centers", get(help_centers))
        .route("/help_center/collections", get(collections))
        .route("/articles", get(articles))
        .route("/counts", get(counts))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

type S = State<Arc<Shared>>;

async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &error_body("not_found", "Resource Not Found"),
    )
}

async fn me(State(s): S) -> Response {
    let ws = s.read_ws();
    reply(match ws.admins.first() {
        Some(admin) => {
            let mut v = admin.clone();
            v["email_verified"] = json!(true);
            v["app"] = ws.app.clone();
            Ok(v)
        }
        None => Err(ApiError::not_found()),
    })
}

async fn admins(State(s): S) -> Response {
    let ws = s.read_ws();
    reply(Ok(json!({"type": "admin.list", "admins": ws.admins})))
}

async fn teams(State(s): S) -> Response {
    let ws = s.read_ws();
    reply(Ok(json!({"type": "team.list", "teams": ws.teams})))
}

async fn tags(State(s): S) -> Response {
    let ws = s.read_ws();
    reply(Ok(json!({"type": "list", "data": ws.tags})))
}

async fn segments(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let include_count = ctx.query.get_bool("include_count")?.unwrap_or(false);
        let ws = s.read_ws();
        let members = if include_count {
            Some(ws.segment_member_counts())
        } else {
            None
        };
        let list: Vec<Value> = ws
            .segments
            .iter()
            .map(|seg| {
                let mut seg = seg.clone();
                if let Some(m) = &members {
                    let id = seg.get("id").and_then(Value::as_str).unwrap_or_default();
                    let n = m.get(id).copied().unwrap_or(0);
                    seg["count"] = json!(n);
                }
                seg
            })
            .collect();
        Ok(json!({"type": "segment.list", "segments": list}))
    })())
}

async fn data_attributes(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let include_archived = ctx.query.get_bool("include_archived")?.unwrap_or(false);
        let v216 = version_at_least(ctx.version.as_deref(), 2, 16);
        let ws = s.read_ws();
        let lists: Vec<&Vec<Value>> = match ctx.query.get("model") {
            None => {
                let mut l = vec![&ws.contact_attributes, &ws.company_attributes];
                if !v216 {
                    l.push(&ws.conversation_attributes);
                }
                l
            }
            Some("contact") => vec![&ws.contact_attributes],
            Some("company") => vec![&ws.company_attributes],
            Some("conversation") if v216 => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "parameter_invalid",
                    "model=conversation is no longer supported. Use GET /conversations/attributes instead",
                ))
            }
            Some("conversation") => vec![&ws.conversation_attributes],
            Some(other) => {
                return Err(ApiError::parameter_invalid(format!(
                    "model {other} is invalid; must be one of contact, company, conversation"
                )))
            }
        };
        let data: Vec<&Value> = lists
            .into_iter()
            .flatten()
            .filter(|a| include_archived || a.get("archived") != Some(&Value::Bool(true)))
            .collect();
        Ok(json!({"type": "list", "data": data}))
    })())
}

async fn subscription_types(State(s): S) -> Response {
    let ws = s.read_ws();
    reply(Ok(json!({"type": "list", "data": ws.subscription_types})))
}

/// Sort newest `updated_at` first (ties: larger id first), as Intercom lists
/// articles and collections.
fn by_updated_desc(items: &[Value]) -> Vec<&Value> {
    let mut v: Vec<&Value> = items.iter().collect();
    let key = |x: &Value| {
        let updated = x.get("updated_at").and_then(Value::as_i64).unwrap_or(0);
        let id = x.get("id").and_then(Value::as_str).unwrap_or_default();
        (updated, id.parse::<i64>().unwrap_or(0), id.to_string())
    };
    v.sort_by_cached_key(|x| std::cmp::Reverse(key(x)));
    v
}

fn paged(
    s: &Shared,
    ctx: &Ctx,
    items: Vec<&Value>,
    default_per_page: usize,
) -> Result<Value, ApiError> {
    let req = PageRequest::from_query(&ctx.query, default_per_page)?;
    Ok(page_list(
        &items,
        req,
        &ctx.base_url(s),
        &ctx.path,
        &ctx.query,
    ))
}

async fn help_centers(State(s): S, ctx: Ctx) -> Response {
    let ws = s.read_ws();
    let items: Vec<&Value> = ws.help_centers.iter().collect();
    reply(paged(&s, &ctx, items, HELP_CENTERS_PER_PAGE))
}

async fn collections(State(s): S, ctx: Ctx) -> Response {
    let ws = s.read_ws();
    reply(paged(
        &s,
        &ctx,
        by_updated_desc(&ws.collections),
        COLLECTIONS_PER_PAGE,
    ))
}

async fn articles(State(s): S, ctx: Ctx) -> Response {
    let ws = s.read_ws();
    reply(paged(
        &s,
        &ctx,
        by_updated_desc(&ws.articles),
        ARTICLES_PER_PAGE,
    ))
}

async fn counts(State(s): S, ctx: Ctx) -> Response {
    let ws = s.read_ws();
    reply(counts_response(
        &ws,
        &ctx.query,
        &ctx.base_url(&s),
        &ctx.path,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_comparison() {
        assert!(version_at_least(Some("2.16"), 2, 16));
        assert!(version_at_least(Some("2.17"), 2, 16));
        assert!(version_at_least(Some("3.0"), 2, 16));
        assert!(!version_at_least(Some("2.11"), 2, 16));
        assert!(!version_at_least(Some("2.9"), 2, 16));
        assert!(!version_at_least(None, 2, 16));
        assert!(version_at_least(Some("Unstable"), 2, 16));
        assert!(version_at_least(Some("Preview"), 2, 16));
        assert!(!version_at_least(Some("garbage"), 2, 16));
    }

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
}
