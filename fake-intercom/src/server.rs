//! The HTTP side: the axum router, the gate every request passes (request log,
//! latency, bearer auth, request hook, rate limiting, injected faults,
//! `per_page` check, `X-RateLimit-*` headers), and the endpoint handlers
//! (lists, searches, the companies scroll, conversations, deleted
//! conversations, activity logs).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{Extension, FromRequestParts, Request, State};
use axum::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::counts::counts_response;
use crate::error::{error_body, ApiError};
use crate::generate::Workspace;
use crate::pagination::{next_url, page_list, page_range, pages_object, PageRequest, MAX_PER_PAGE};
use crate::query::QueryParams;
use crate::ratelimit::{window_label, RateDecision, RateLimiter};
use crate::scroll::ScrollState;
use crate::search::{self, Collection, Lookup, SearchCache};
use crate::{FakeConfig, Fault, RecordedRequest, RequestHook};

/// Default `per_page` of `/help_center/help_centers`.
pub const HELP_CENTERS_PER_PAGE: usize = 20;
/// Default `per_page` of `/help_center/collections`.
pub const COLLECTIONS_PER_PAGE: usize = 20;
/// Default `per_page` of `/articles`.
pub const ARTICLES_PER_PAGE: usize = 25;
/// Default `per_page` of `/conversations/deleted`.
pub const DELETED_CONVERSATIONS_PER_PAGE: usize = 20;
/// Largest `per_page` of `/conversations/deleted`.
pub const DELETED_CONVERSATIONS_MAX_PER_PAGE: u64 = 60;
/// Default `per_page` of `/admins/activity_logs`.
pub const ACTIVITY_LOGS_PER_PAGE: usize = 20;
/// Largest `per_page` of `/admins/activity_logs`.
pub const ACTIVITY_LOGS_MAX_PER_PAGE: u64 = 250;

/// Paths whose handlers check `per_page` themselves (their limit is not 150).
const OWN_PER_PAGE_LIMIT: &[&str] = &["/admins/activity_logs", "/conversations/deleted"];

/// The raw request body, handed from the gate to the handlers.
#[derive(Clone)]
pub(crate) struct RawBody(pub Bytes);

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
    pub hook: RwLock<Option<Arc<RequestHook>>>,
    pub scroll: Mutex<ScrollState>,
    /// Bumped after every mutable access to the workspace (keys the cache).
    pub ws_version: AtomicU64,
    pub search_cache: Mutex<SearchCache>,
    /// The current contact search index delay in seconds.
    pub index_delay: AtomicI64,
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
            hook: RwLock::new(None),
            ws_version: AtomicU64::new(1),
            index_delay: AtomicI64::new(config.search_index_delay_secs),
            search_cache: Mutex::new(SearchCache::default()),
            scroll: Mutex::new(ScrollState::new(crate::rng::mix64(config.seed ^ 0x5C_4011))),
            config,
        }
    }

    /// Run `f` with the workspace write-locked; the search cache is
    /// invalidated afterwards.
    pub fn write_ws<R>(&self, f: impl FnOnce(&mut Workspace) -> R) -> R {
        let mut ws = self.workspace.write().unwrap_or_else(|e| e.into_inner());
        let r = f(&mut ws);
        self.ws_version.fetch_add(1, Ordering::SeqCst);
        r
    }

    /// A 404 or 5xx fault answering a page of the active companies scroll
    /// ends that scroll, as an expired or failed scroll does at Intercom.
    fn fault_ends_scroll(&self, fault: &Fault, path: &str, raw_query: &str) {
        if path != "/companies/scroll" || !(fault.status == 404 || fault.status >= 500) {
            return;
        }
        if let Some(param) = QueryParams::parse(raw_query).get("scroll_param") {
            self.scroll_state().abort(param);
        }
    }

    pub fn index_delay_secs(&self) -> i64 {
        self.index_delay.load(Ordering::SeqCst)
    }

    pub fn scroll_state(&self) -> MutexGuard<'_, ScrollState> {
        self.scroll.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run the request hook, if any, with the workspace write-locked.
    fn run_hook(&self, req: &RecordedRequest) {
        let hook = self.hook.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(hook) = hook {
            self.write_ws(|ws| hook(req, ws));
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

    /// Count this request against the queued faults and take one use of
    /// the first one that applies to it (see [`Fault`]).
    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut faults = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        let mut hit = None;
        for (i, f) in faults.iter_mut().enumerate() {
            if f.times == 0 || !f.matches(method, path) {
                continue;
            }
            if f.after > 0 {
                f.after -= 1;
                continue;
            }
            f.times -= 1;
            hit = Some(i);
            break;
        }
        let i = hit?;
        let fault = faults[i].clone();
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

pub(crate) fn now_ms() -> u64 {
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
    let recorded = RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        query: raw_query.clone(),
        intercom_version: header_string(&parts.headers, "intercom-version"),
        authorization: header_string(&parts.headers, "authorization"),
        user_agent: header_string(&parts.headers, "user-agent"),
        accept: header_string(&parts.headers, "accept"),
        body: recorded_body,
        status: 0,
    };
    let seq = shared.record(recorded.clone());

    if shared.config.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(shared.config.latency_ms)).await;
    }

    let mut response = if !authorized(&parts.headers, &shared.config.token) {
        ApiError::unauthorized().into_response()
    } else {
        shared.run_hook(&recorded);
        let decision = shared.limiter.check(now_ms());
        let mut resp = if !decision.allowed {
            let msg = format!(
                "Exceeded rate limit of {} in {}",
                decision.limit,
                window_label(shared.limiter.window_ms())
            );
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", msg).into_response()
        } else if let Some(fault) = shared.take_fault(&method, &path) {
            shared.fault_ends_scroll(&fault, &path, &raw_query);
            fault_response(&fault)
        } else if let Err(e) = per_page_check(&path, &raw_query) {
            e.into_response()
        } else {
            let mut parts = parts;
            parts.extensions.insert(RawBody(bytes.clone()));
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

/// The gate's `per_page` check (1..=150) for paths without their own limit.
fn per_page_check(path: &str, raw_query: &str) -> Result<(), ApiError> {
    if OWN_PER_PAGE_LIMIT.contains(&path) {
        return Ok(());
    }
    QueryParams::parse(raw_query)
        .get_positive("per_page", MAX_PER_PAGE)
        .map(|_| ())
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
        .route("/contacts/search", post(contacts_search))
        .route("/conversations/search", post(conversations_search))
        .route("/tickets/search", post(tickets_search))
        .route("/companies/scroll", get(companies_scroll))
        .route("/companies/{id}/segments", get(company_segments))
        .route("/conversations/deleted", get(deleted_conversations))
        .route("/conversations/{id}", get(conversation))
        .route("/admins/activity_logs", get(activity_logs))
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

fn now_secs() -> i64 {
    (now_ms() / 1000) as i64
}

/// The JSON body of a request (`{}` when empty).
fn json_body(body: &RawBody) -> Result<Value, ApiError> {
    if body.0.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&body.0)
        .map_err(|e| ApiError::parameter_invalid(format!("Request body is not valid JSON: {e}")))
}

/// A copy of `obj` without `key`.
fn without(obj: &Value, key: &str) -> Value {
    match obj.as_object() {
        Some(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != key)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => obj.clone(),
    }
}

/// A copy of `obj` whose part list `key` (`{type, <key>: [...], total_count}`)
/// holds only the `max` most recent parts, oldest first, with `total_count`
/// the number kept.
fn with_recent_parts(obj: &Value, key: &str, max: usize) -> Value {
    let mut out = without(obj, key);
    let Some(list) = obj.get(key) else {
        return out;
    };
    let parts: &[Value] = list
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let kept = &parts[parts.len().saturating_sub(max)..];
    let list_type = list
        .get("type")
        .cloned()
        .unwrap_or_else(|| json!(format!("{}.list", key.trim_end_matches('s'))));
    if let Some(m) = out.as_object_mut() {
        let mut l = serde_json::Map::new();
        l.insert("type".into(), list_type);
        l.insert(key.into(), Value::Array(kept.to_vec()));
        l.insert("total_count".into(), json!(kept.len()));
        m.insert(key.into(), Value::Object(l));
    }
    out
}

fn search_in(s: &Shared, coll: Collection, body: &RawBody) -> Result<Value, ApiError> {
    let v = json_body(body)?;
    let ws = s.read_ws();
    let version = s.ws_version.load(Ordering::SeqCst);
    let req = search::parse_request(coll, ws.timezone_offset_secs, &v)?;
    let lookup = Lookup::new(&req, &ws.contact_segments);
    let records = match coll {
        Collection::Contacts => &ws.contacts,
        Collection::Conversations => &ws.conversations,
        Collection::Tickets => &ws.tickets,
    };
    let cols = s
        .search_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .columns(version, coll, records, &req);
    let cols = Some(cols.as_slice());
    Ok(match coll {
        Collection::Contacts => {
            let delay = s.index_delay_secs();
            let cutoff = (delay > 0).then(|| search::IndexCutoff {
                field_slot: if s.config.search_index_delay_create_only {
                    search::CREATED_AT_SLOT
                } else {
                    search::UPDATED_AT_SLOT
                },
                max: now_secs().saturating_sub(delay),
            });
            let page = search::run(coll, records, &lookup, &req, cols, cutoff);
            json!({
                "type": "list",
                "data": page.items,
                "total_count": page.total,
                "pages": page.pages_json(),
            })
        }
        Collection::Conversations => {
            let page = search::run(coll, records, &lookup, &req, cols, None);
            let items: Vec<Value> = page
                .items
                .iter()
                .map(|c| without(c, "conversation_parts"))
                .collect();
            json!({
                "type": "conversation.list",
                "conversations": items,
                "total_count": page.total,
                "pages": page.pages_json(),
            })
        }
        Collection::Tickets => {
            let page = search::run(coll, records, &lookup, &req, cols, None);
            let max = s.config.max_parts_returned;
            let items: Vec<Value> = page
                .items
                .iter()
                .map(|t| with_recent_parts(t, "ticket_parts", max))
                .collect();
            json!({
                "type": "ticket.list",
                "tickets": items,
                "total_count": page.total,
                "pages": page.pages_json(),
            })
        }
    })
}

async fn contacts_search(State(s): S, Extension(body): Extension<RawBody>) -> Response {
    reply(search_in(&s, Collection::Contacts, &body))
}

async fn conversations_search(State(s): S, Extension(body): Extension<RawBody>) -> Response {
    reply(search_in(&s, Collection::Conversations, &body))
}

async fn tickets_search(State(s): S, Extension(body): Extension<RawBody>) -> Response {
    reply(search_in(&s, Collection::Tickets, &body))
}

/// The percent-decoded path segment between `prefix` and `suffix`.
fn path_id(path: &str, prefix: &str, suffix: &str) -> Option<String> {
    let id = path.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if id.is_empty() || id.contains('/') {
        return None;
    }
    Some(crate::query::percent_decode(id))
}

async fn conversation(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let id = path_id(&ctx.path, "/conversations/", "").ok_or_else(ApiError::not_found)?;
        let ws = s.read_ws();
        let conv = ws
            .conversations
            .iter()
            .find(|c| c.get("id").and_then(Value::as_str) == Some(id.as_str()))
            .ok_or_else(ApiError::not_found)?;
        Ok(with_recent_parts(
            conv,
            "conversation_parts",
            s.config.max_parts_returned,
        ))
    })())
}

async fn company_segments(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let company_not_found = || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "company_not_found",
                "Company Not Found",
            )
        };
        let id = path_id(&ctx.path, "/companies/", "/segments").ok_or_else(company_not_found)?;
        let ws = s.read_ws();
        let company = ws
            .companies
            .iter()
            .find(|c| c.get("id").and_then(Value::as_str) == Some(id.as_str()))
            .ok_or_else(company_not_found)?;
        let data: Vec<Value> = company
            .pointer("/segments/segments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|embedded| {
                let sid = embedded.get("id");
                ws.company_segments
                    .iter()
                    .find(|seg| seg.get("id") == sid)
                    .unwrap_or(embedded)
                    .clone()
            })
            .collect();
        Ok(json!({"type": "list", "data": data}))
    })())
}

async fn companies_scroll(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let per_page = ctx
            .query
            .get_positive("per_page", MAX_PER_PAGE)?
            .map(|n| n as usize);
        let param = ctx.query.get("scroll_param").filter(|p| !p.is_empty());
        let ws = s.read_ws();
        let (range, param) = s.scroll_state().next_page(
            param,
            per_page,
            ws.companies.len(),
            now_ms(),
            s.config.scroll_expiry_ms,
        )?;
        let data = ws.companies.get(range).unwrap_or(&[]);
        Ok(json!({
            "type": "list",
            "data": data,
            "pages": null,
            "total_count": null,
            "scroll_param": param,
        }))
    })())
}

fn timestamp_param(q: &QueryParams, key: &str) -> Result<Option<i64>, ApiError> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
            ApiError::parameter_invalid(format!("{key} must be a UNIX timestamp, got '{v}'"))
        }),
    }
}

fn int_of(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn id_key(v: &Value) -> (u64, String) {
    let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
    (id.parse::<u64>().unwrap_or(u64::MAX), id.to_string())
}

async fn deleted_conversations(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        if !version_at_least(ctx.version.as_deref(), 2, 16) {
            return Err(ApiError::not_found());
        }
        let q = &ctx.query;
        let req = PageRequest::from_query_with_max(
            q,
            DELETED_CONVERSATIONS_PER_PAGE,
            DELETED_CONVERSATIONS_MAX_PER_PAGE,
        )?;
        let descending = match q.get("order") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(other) => {
                return Err(ApiError::parameter_invalid(format!(
                    "order must be asc or desc, got '{other}'"
                )))
            }
        };
        let ws = s.read_ws();
        let mut items: Vec<&Value> = ws.deleted_conversations.iter().collect();
        items.sort_by_cached_key(|v| (int_of(v, "deleted_at"), id_key(v)));
        if descending {
            items.reverse();
        }
        let total = items.len();
        let data: Vec<&Value> = items[page_range(total, req.page, req.per_page)].to_vec();
        let next = next_url(req, total, &ctx.base_url(&s), &ctx.path, q);
        Ok(json!({
            "type": "conversations.list",
            "conversations": data,
            "total_count": total,
            "pages": pages_object(req, total, next),
        }))
    })())
}

async fn activity_logs(State(s): S, ctx: Ctx) -> Response {
    reply((|| {
        let q = &ctx.query;
        let after = timestamp_param(q, "created_at_after")?.ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "parameter_not_found",
                "created_at_after is required",
            )
        })?;
        let before = timestamp_param(q, "created_at_before")?;
        let req = PageRequest::from_query_with_max(
            q,
            ACTIVITY_LOGS_PER_PAGE,
            ACTIVITY_LOGS_MAX_PER_PAGE,
        )?;
        let ws = s.read_ws();
        let mut items: Vec<&Value> = ws
            .activity_logs
            .iter()
            .filter(|l| {
                let t = int_of(l, "created_at");
                t >= after && before.map_or(true, |b| t <= b)
            })
            .collect();
        items.sort_by_cached_key(|v| {
            std::cmp::Reverse((
                int_of(v, "created_at"),
                v.get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            ))
        });
        let total = items.len();
        let data: Vec<&Value> = items[page_range(total, req.page, req.per_page)].to_vec();
        let next = next_url(req, total, &ctx.base_url(&s), &ctx.path, q);
        Ok(json!({
            "type": "activity_log.list",
            "activity_logs": data,
            "pages": pages_object(req, total, next),
        }))
    })())
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
