//! The Intercom HTTP client: one `reqwest` client (rustls) shared by every stream,
//! with bearer auth, the `Intercom-Version` header on every call, timeouts, the shared
//! rate budget and retries. Answers are mapped to [`Error`] variants that say what
//! to fix; the token never appears in an error.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, USER_AGENT};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use super::ratelimit::RateBudget;
use super::retry::{classify, Attempts, Decision, Outcome, RateInfo, RetryPolicy};
use crate::config::{Config, Secret};
use crate::error::{ApiErrorBody, Error, Result};

/// The API version sent unless a stream pins another.
pub const DEFAULT_VERSION: &str = "2.11";

/// Tunables. Defaults suit the real API; tests shorten the waits through the
/// `SOURCE_INTERCOM_*` environment variables read by [`HttpSettings::from_env`].
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub retry: RetryPolicy,
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// The proactive budget (Intercom's private-app limit is 10,000 per minute).
    pub requests_per_minute: u32,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(15),
            requests_per_minute: 10_000,
        }
    }
}

impl HttpSettings {
    /// Defaults, overridden by `SOURCE_INTERCOM_REQUESTS_PER_MINUTE`,
    /// `SOURCE_INTERCOM_MAX_RETRIES`, `SOURCE_INTERCOM_BACKOFF_BASE_MS`,
    /// `SOURCE_INTERCOM_BACKOFF_MAX_MS` and `SOURCE_INTERCOM_TIMEOUT_MS` where set to a number.
    pub fn from_env() -> HttpSettings {
        let mut s = HttpSettings::default();
        let num = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if let Some(v) = num("SOURCE_INTERCOM_REQUESTS_PER_MINUTE") {
            s.requests_per_minute = v.clamp(1, u32::MAX as u64) as u32;
        }
        if let Some(v) = num("SOURCE_INTERCOM_MAX_RETRIES") {
            s.retry.max_error_retries = v.min(100) as u32;
        }
        if let Some(v) = num("SOURCE_INTERCOM_BACKOFF_BASE_MS") {
            s.retry.backoff_base = Duration::from_millis(v);
        }
        if let Some(v) = num("SOURCE_INTERCOM_BACKOFF_MAX_MS") {
            s.retry.backoff_max = Duration::from_millis(v);
        }
        if let Some(v) = num("SOURCE_INTERCOM_TIMEOUT_MS") {
            s.timeout = Duration::from_millis(v.max(1));
        }
        s
    }
}

/// One API call, before it is sent.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    /// Path (e.g. `/admins`), optionally with a query string (from a `pages.next` link).
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// `Intercom-Version` for this call.
    pub version: &'static str,
    /// Retry 5xx answers and transport errors. Off where the caller must react to them
    /// itself (a companies scroll that fails mid-way has to restart, not repeat a call).
    pub retry_errors: bool,
}

impl ApiRequest {
    pub fn get(path: impl Into<String>) -> ApiRequest {
        ApiRequest {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            version: DEFAULT_VERSION,
            retry_errors: true,
        }
    }

    pub fn post(path: impl Into<String>, body: Value) -> ApiRequest {
        ApiRequest {
            method: Method::POST,
            body: Some(body),
            ..ApiRequest::get(path)
        }
    }

    pub fn no_error_retries(mut self) -> ApiRequest {
        self.retry_errors = false;
        self
    }

    pub fn query(mut self, k: &str, v: impl Into<String>) -> ApiRequest {
        self.query.push((k.to_string(), v.into()));
        self
    }

    pub fn version(mut self, v: &'static str) -> ApiRequest {
        self.version = v;
        self
    }

    /// `GET /path?query` for messages (no host, no token).
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}", self.method, self.path);
        if !self.query.is_empty() {
            s.push(if self.path.contains('?') { '&' } else { '?' });
            let q: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.push_str(&q.join("&"));
        }
        s
    }
}

/// The shared Intercom client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    token: Secret,
    budget: RateBudget,
    retry: RetryPolicy,
}

impl Client {
    pub fn new(config: &Config, settings: HttpSettings) -> Result<Client> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!(
                "source-intercom/",
                env!("CARGO_PKG_VERSION"),
                " (Airbyte source; Rust)"
            )),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(50))
            .build()
            .map_err(|e| Error::Internal(format!("could not build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: config.base_url.clone(),
                token: config.access_token.clone(),
                budget: RateBudget::new(
                    settings.requests_per_minute,
                    settings.retry.max_rate_limit_wait,
                ),
                retry: settings.retry,
            }),
        })
    }

    /// The API base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    fn url_for(&self, req: &ApiRequest) -> Result<Url> {
        // Relative to the base, so a `pages.next` link from Intercom (absolute, maybe naming
        // another host) is followed on the host we were configured with.
        let mut url = self.inner.base.clone();
        let (path, query) = match req.path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (req.path.as_str(), None),
        };
        let base_path = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base_path}{path}"));
        url.set_query(query);
        if !req.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &req.query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// Send a request (with rate limiting and retries) and parse the JSON answer.
    pub async fn json(&self, req: &ApiRequest) -> Result<Value> {
        let (status, bytes) = self.send(req).await?;
        if status == StatusCode::NO_CONTENT || bytes.is_empty() {
            return Err(Error::Decode {
                endpoint: req.describe(),
                message: "the answer had no body".into(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
            endpoint: req.describe(),
            message: format!("the body is not valid JSON ({e})"),
        })
    }

    /// Send with retries; return the successful status and body, or the error.
    pub async fn send(&self, req: &ApiRequest) -> Result<(StatusCode, bytes::Bytes)> {
        let url = self.url_for(req)?;
        let mut attempts = Attempts::default();
        let policy = if req.retry_errors {
            self.inner.retry.clone()
        } else {
            RetryPolicy {
                max_error_retries: 0,
                ..self.inner.retry.clone()
            }
        };
        loop {
            self.inner.budget.acquire().await;
            let mut builder = self
                .inner
                .http
                .request(req.method.clone(), url.clone())
                .header(
                    AUTHORIZATION,
                    format!("Bearer {}", self.inner.token.expose()),
                )
                .header("Intercom-Version", req.version);
            if let Some(body) = &req.body {
                builder = builder.json(body);
            }
            let result = builder.send().await;
            let now_ms = chrono::Utc::now().timestamp_millis();
            match result {
                Ok(resp) => {
                    let status = resp.status();
                    let rate = rate_info(resp.headers());
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    self.inner.budget.observe(rate);
                    let body = match resp.bytes().await {
                        Ok(b) => b,
                        Err(e) => {
                            // The body broke off mid-way: as good as no answer.
                            match classify(&Outcome::Transport, attempts, &policy, now_ms) {
                                Decision::RetryAfter(wait) => {
                                    tracing::warn!(
                                        "reading the answer to {} failed ({}); retrying in {} ms",
                                        req.describe(),
                                        transport_message(&e),
                                        wait.as_millis()
                                    );
                                    attempts.errors += 1;
                                    tokio::time::sleep(wait).await;
                                    continue;
                                }
                                _ => {
                                    return Err(Error::Transport {
                                        endpoint: req.describe(),
                                        message: transport_message(&e),
                                    })
                                }
                            }
                        }
                    };
                    let outcome = Outcome::Status {
                        status: status.as_u16(),
                        rate,
                        retry_after,
                    };
                    match classify(&outcome, attempts, &policy, now_ms) {
                        Decision::Done if status.is_success() => return Ok((status, body)),
                        Decision::Done | Decision::Fail => {
                            return Err(status_error(req, status.as_u16(), &body))
                        }
                        Decision::RetryAfter(wait) => {
                            if status.as_u16() == 429 {
                                attempts.rate_limited += 1;
                                tracing::info!(
                                    "rate limited by Intercom on {}; waiting {} ms",
                                    req.describe(),
                                    wait.as_millis()
                                );
                            } else {
                                attempts.errors += 1;
                                tracing::warn!(
                                    "{} answered HTTP {} ({}); retry {} of {} in {} ms",
                                    req.describe(),
                                    status.as_u16(),
                                    ApiErrorBody::parse(&body).summary(),
                                    attempts.errors,
                                    policy.max_error_retries,
                                    wait.as_millis()
                                );
                            }
                            tokio::time::sleep(wait).await;
                        }
                    }
                }
                Err(e) => match classify(&Outcome::Transport, attempts, &policy, now_ms) {
                    Decision::RetryAfter(wait) => {
                        attempts.errors += 1;
                        tracing::warn!(
                            "{} failed ({}); retry {} of {} in {} ms",
                            req.describe(),
                            transport_message(&e),
                            attempts.errors,
                            policy.max_error_retries,
                            wait.as_millis()
                        );
                        tokio::time::sleep(wait).await;
                    }
                    _ => {
                        return Err(Error::Transport {
                            endpoint: req.describe(),
                            message: transport_message(&e),
                        })
                    }
                },
            }
        }
    }
}

fn rate_info(headers: &HeaderMap) -> RateInfo {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    RateInfo {
        limit: get("x-ratelimit-limit").map(|v| v.clamp(0, u32::MAX as i64) as u32),
        remaining: get("x-ratelimit-remaining").map(|v| v.clamp(0, u32::MAX as i64) as u32),
        reset_epoch: get("x-ratelimit-reset"),
    }
}

/// A reqwest error as text without the URL (which holds no secret, but is noise here).
fn transport_message(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "request failed"
    };
    let mut msg = kind.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// Map a non-success answer to the error that says what to fix.
pub fn status_error(req: &ApiRequest, status: u16, body: &[u8]) -> Error {
    let parsed = ApiErrorBody::parse(body);
    let mut detail = parsed.summary();
    if detail.is_empty() && !body.is_empty() {
        let text = String::from_utf8_lossy(body);
        detail = text
            .chars()
            .take(200)
            .collect::<String>()
            .trim()
            .to_string();
    }
    let endpoint = req.describe();
    match status {
        401 => Error::Unauthorized { endpoint, detail },
        403 => Error::Forbidden { endpoint, detail },
        _ => Error::Api {
            endpoint,
            status,
            code: parsed.code().map(str::to_string),
            detail,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client(base: &str) -> Client {
        let cfg = Config::from_value(&json!({
            "access_token": "t", "start_date": "2020-01-01T00:00:00Z", "base_url": base
        }))
        .unwrap();
        Client::new(&cfg, HttpSettings::default()).unwrap()
    }

    #[test]
    fn urls_keep_base_path_and_follow_next_links_on_our_host() {
        let c = client("http://127.0.0.1:1/proxy");
        let u = c
            .url_for(&ApiRequest::get("/articles").query("per_page", "150"))
            .unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:1/proxy/articles?per_page=150");
        let u = c
            .url_for(&ApiRequest::get("/articles?page=2&per_page=150"))
            .unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:1/proxy/articles?page=2&per_page=150"
        );
    }

    #[test]
    fn status_errors_carry_intercom_codes() {
        let req = ApiRequest::get("/admins");
        let e = status_error(&req, 403, br#"{"type":"error.list","errors":[{"code":"api_plan_restricted","message":"Active subscription needed."}]}"#);
        let s = e.to_string();
        assert!(
            s.contains("GET /admins") && s.contains("api_plan_restricted"),
            "{s}"
        );
        let e = status_error(&req, 500, b"oops");
        assert!(e.to_string().contains("HTTP 500 on GET /admins: oops"));
    }
}
