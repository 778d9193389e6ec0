//! The Intercom HTTP client: one `reqwest` client (rustls) shared by every stream,
//! with bearer auth, the `Intercom-Version` header on every call, timeouts, the shared
//! rate budget and retries. Answers are mapped to [`Error`] variants that say what
//! to fix; the token never appears in an error.
//!
//! # The layers of one request
//!
//! [`Client::json`], [`Client::page`] and [`Client::fetch`] run the same loop. Each
//! **attempt** goes through these layers, in this order (the order is deliberate):
//! 1. take a slot of the requests in flight ([`Slots`], shared by every stream), held
//!    until the answer is parsed;
//! 2. wait for the shared rate budget ([`RateBudget::acquire`]; every attempt counts
//!    against Intercom's limit), within the request's time budget: a longer wait ends
//!    the request ([`Error::OverBudget`]);
//! 3. send with the whole-request and connect timeouts and the headers (`Authorization`,
//!    `Intercom-Version`; the client's `Accept` and `User-Agent`); the host's addresses
//!    come through the network policy's resolver ([`guard`]: a host with only refused
//!    addresses is a config error, and nothing is sent), and redirects are never
//!    followed;
//! 4. record the answer's `Date` (Intercom's clock) and, on that clock, its
//!    `X-RateLimit-*` headers ([`RateBudget::observe`]), and read its `Retry-After`;
//! 5. read the body: an error answer's up to 64 KiB, for Intercom's message; a success
//!    up to the size cap, within the memory budget (below), unless it is in an encoding
//!    other than the gzip the client decodes, which is refused;
//! 6. tell the slots how long the answer took, which sizes the requests in flight
//!    ([`Slots::answered`]); an attempt that got no answer settles the budget instead
//!    ([`RateBudget::settled`]);
//! 7. parse the body and check it has what the endpoint always has ([`Expect`]), so a
//!    cut-off, HTML or empty answer counts as a failed attempt, not as data;
//! 8. give the slot back and ask [`classify`] what to do: done, wait and retry (a wait
//!    holds no slot), or stop.
//!
//! [`Client::open`] runs the same steps but hands over the answer's body unread once
//! its status and headers are good (a reporting export file, read as it arrives).
//!
//! # Memory
//!
//! Answers in flight are bounded by one byte budget, [`HttpSettings::memory_bytes`]:
//! each of the `max_in_flight` request slots may hold an answer of up to its share
//! (half the budget, split evenly) without asking; an answer that grows past its share
//! takes the one *large answer* turn, which owns the other half, and keeps it until the
//! answer is parsed. So at most one large answer is read at a time, nobody ever waits
//! while holding what another waits for (no deadlock), and the bytes of answers being
//! read and parsed never pass the budget. Answers decoded into a JSON tree (the count
//! tables, `/me`), which costs many times their size, are capped much lower
//! ([`VALUE_BODY_CAP`]) and parsed one at a time in the same turn.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, LOCATION, USER_AGENT};
use reqwest::StatusCode;
use serde_json::Value;
use url::Url;

use super::guard;
use super::page::{not_json, Page, Want};
use super::ratelimit::{RateBudget, Snapshot};
use super::retry::{classify, is_scheduled, Attempts, Decision, Outcome, RateInfo, RetryPolicy};
use super::slots::{self, Slots};
use crate::config::Config;
use crate::error::{ApiErrorBody, Error, Result};
use crate::redact;
use crate::settings::{self, Lookup};

pub use super::request::{path_segment, ApiRequest, Expect, DEFAULT_VERSION};

/// Error bodies are read up to this size: enough for any message, no more.
const ERROR_BODY_CAP: usize = 64 * 1024;

/// The largest answer decoded into a JSON tree ([`Client::json`]: the count tables,
/// `/me`, `check`'s probes). A tree costs up to about 16 times its text (a list of
/// zeros); Intercom's largest such answers are a few tens of KB.
pub const VALUE_BODY_CAP: u64 = 1024 * 1024;

/// The client's settings. Its tunables (each a `SOURCE_INTERCOM_*` variable) are
/// declared in [`crate::settings`], and filled from there by [`HttpSettings::from_env`].
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub retry: RetryPolicy,
    /// Whole-request timeout (one attempt).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// The app's limit assumed until an answer reports it (`X-RateLimit-Limit`):
    /// Intercom's default for private apps, 10,000 a minute.
    pub requests_per_minute: u32,
    /// `rate_limit_share`: the percentage of each window's limit spent.
    pub share_percent: u32,
    /// `api_rate_limit`: a ceiling in requests per minute, whatever Intercom allows.
    pub ceiling_per_minute: Option<u32>,
    /// The largest answer accepted, after decompression (at most half the memory
    /// budget plus a slot's share, see [`HttpSettings::body_cap`]).
    pub max_body_bytes: u64,
    /// The most requests in flight at once, across all streams: `max_concurrency` (or
    /// `num_workers`) when set, else [`slots::AUTO_MAX`] ([`Config::max_in_flight`]).
    /// The number in flight is sized below it from the answers ([`slots`]).
    pub max_in_flight: usize,
    /// The byte budget of answers being read and parsed, across all requests (see the
    /// module docs).
    pub memory_bytes: u64,
}

impl Default for HttpSettings {
    /// Every tunable at its default (the environment is not read).
    fn default() -> Self {
        HttpSettings::from_lookup(&settings::defaults)
    }
}

const MIB: u64 = 1024 * 1024;

impl HttpSettings {
    /// The defaults, with the tunables the environment sets ([`crate::settings`]).
    pub fn from_env() -> HttpSettings {
        HttpSettings::from_lookup(&settings::env)
    }

    /// These settings for a config: the environment's tunables, with the config's share
    /// of the rate limit, its ceiling and its cap on requests in flight.
    pub fn for_config(config: &Config) -> HttpSettings {
        let mut s = HttpSettings::from_env();
        s.share_percent = config.rate_limit_share_percent;
        s.ceiling_per_minute = config.api_rate_limit;
        s.max_in_flight = config.max_in_flight();
        s
    }

    /// The defaults, with each tunable `lookup` gives.
    pub(crate) fn from_lookup(lookup: Lookup<'_>) -> HttpSettings {
        HttpSettings {
            retry: RetryPolicy::from_lookup(lookup),
            timeout: Duration::from_millis(settings::TIMEOUT_MS.value(lookup)),
            connect_timeout: Duration::from_secs(15),
            requests_per_minute: settings::REQUESTS_PER_MINUTE.value(lookup) as u32,
            share_percent: crate::config::RATE_LIMIT_SHARE.default.unwrap_or(90) as u32,
            ceiling_per_minute: None,
            max_body_bytes: settings::MAX_BODY_MB.value(lookup).saturating_mul(MIB),
            max_in_flight: slots::AUTO_MAX,
            memory_bytes: settings::MEMORY_MB.value(lookup).saturating_mul(MIB),
        }
    }

    /// What a request slot may hold without taking the large-answer turn: half the
    /// memory budget, split between the slots.
    pub fn share(&self) -> u64 {
        (self.memory_bytes / 2 / self.max_in_flight.max(1) as u64).max(1)
    }

    /// The largest answer read: [`HttpSettings::max_body_bytes`], or what the memory
    /// budget can hold (a share plus the large-answer half), whichever is smaller.
    pub fn body_cap(&self) -> u64 {
        self.max_body_bytes
            .min(self.share().saturating_add(self.memory_bytes / 2))
            .max(1)
    }
}

/// Told when a stream is about to wait for Intercom's rate limit: the stream (if the
/// request named one), when the quota resets (epoch ms), and the wait.
pub type RateLimitListener = dyn Fn(Option<&'static str>, i64, Duration) + Send + Sync;

/// The shared Intercom client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    authorization: HeaderValue,
    budget: RateBudget,
    in_flight: Slots,
    retry: RetryPolicy,
    max_body_bytes: u64,
    /// What an answer may hold before it takes the large-answer turn (see the module docs).
    share: u64,
    /// The large-answer turn.
    large: Arc<tokio::sync::Mutex<()>>,
    on_rate_limit: Option<Box<RateLimitListener>>,
    stats: std::sync::Mutex<std::collections::HashMap<&'static str, Arc<RequestStats>>>,
    /// The best lower bound of Intercom's clock minus ours (ms) so far, from the `Date`
    /// of its answers; [`NO_OFFSET`] until one is seen.
    clock_offset_ms: std::sync::atomic::AtomicI64,
    /// Whether a bogus `X-RateLimit-Reset` was reported for a request of no stream.
    bogus_reset_told: std::sync::atomic::AtomicBool,
}

/// No `Date` seen yet.
const NO_OFFSET: i64 = i64::MIN;

/// Requests made for one stream, and the time they waited for the rate limit.
#[derive(Debug, Default)]
pub struct RequestStats {
    pub requests: std::sync::atomic::AtomicU64,
    pub rate_limited_ms: std::sync::atomic::AtomicU64,
    /// Whether a bogus `X-RateLimit-Reset` was reported for this stream already.
    pub bogus_reset_told: std::sync::atomic::AtomicBool,
    /// The budget window whose wait was last told for this stream.
    pub window_told: std::sync::atomic::AtomicI64,
}

/// What one attempt produced: the outcome for [`classify`], and what the caller gets
/// if this attempt is the last.
struct Attempted {
    outcome: Outcome,
    result: Result<Answer>,
    /// The large-answer turn, if the answer took it: held until it is parsed.
    turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// A successful answer as an attempt hands it over: read whole, or (for
/// [`Client::open`]) with its body unread.
enum Answer {
    Read(bytes::Bytes),
    Open(reqwest::Response),
}

impl Answer {
    fn bytes(self) -> std::result::Result<bytes::Bytes, String> {
        match self {
            Answer::Read(b) => Ok(b),
            Answer::Open(_) => Err("the answer was not read".into()),
        }
    }
}

/// How long a streamed answer ([`Client::open`]) may take in all: its body is read
/// by the caller, which bounds each wait for a chunk.
const OPEN_BODY_TIMEOUT: Duration = Duration::from_secs(3600);

impl Client {
    pub fn new(config: &Config, settings: HttpSettings) -> Result<Client> {
        Client::with_listener(config, settings, None)
    }

    /// A client that tells `on_rate_limit` about every wait for the rate limit.
    pub fn with_listener(
        config: &Config,
        settings: HttpSettings,
        on_rate_limit: Option<Box<RateLimitListener>>,
    ) -> Result<Client> {
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
        let mut authorization = config.access_token.header_value()?;
        authorization.set_sensitive(true);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(50))
            // A redirect could carry the token to another host: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(guard::GuardedResolver))
            .build()
            .map_err(|e| Error::Internal(format!("could not build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: config.base_url.clone(),
                authorization,
                budget: RateBudget::new(
                    settings.share_percent,
                    settings.ceiling_per_minute,
                    settings.requests_per_minute,
                ),
                in_flight: Slots::new(settings.max_in_flight),
                max_body_bytes: settings.body_cap(),
                share: settings.share(),
                large: Arc::new(tokio::sync::Mutex::new(())),
                retry: settings.retry,
                on_rate_limit,
                stats: Default::default(),
                clock_offset_ms: std::sync::atomic::AtomicI64::new(NO_OFFSET),
                bogus_reset_told: Default::default(),
            }),
        })
    }

    /// The API base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The rate budget as learned so far, and the requests in flight it is sized for
    /// (target, the answer time it was sized from, the cap).
    pub fn pace(&self) -> (Snapshot, (usize, Duration), usize) {
        (
            self.inner.budget.snapshot(),
            self.inner.in_flight.target(),
            self.inner.in_flight.cap(),
        )
    }

    /// The quickest answer so far: an answer's time without queueing.
    pub fn quickest_answer(&self) -> Duration {
        self.inner.in_flight.quickest()
    }

    fn url_for(&self, req: &ApiRequest) -> Url {
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
        url
    }

    /// How far Intercom's clock is ahead of this machine's (negative: behind), in ms, as
    /// a lower bound: a `Date` header is stamped before the answer arrives and is cut to
    /// the second, so `Date − arrival` is never more than the true offset. The largest
    /// such bound over the answers so far; `None` before any answer with a `Date`.
    pub fn clock_offset_ms(&self) -> Option<i64> {
        match self
            .inner
            .clock_offset_ms
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            NO_OFFSET => None,
            v => Some(v),
        }
    }

    fn observe_date(&self, headers: &HeaderMap) {
        let arrived = chrono::Utc::now().timestamp_millis();
        if let Some(offset) = date_offset_ms(headers, arrived) {
            self.inner
                .clock_offset_ms
                .fetch_max(offset, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The request counters of a stream (created on first use).
    pub fn stats(&self, stream: &'static str) -> Arc<RequestStats> {
        let mut map = self.inner.stats.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(stream).or_default().clone()
    }

    /// Tell the user a request waits for the rate limit. A wait for the budget's window
    /// (`window`: its reset on Intercom's clock) is told once per stream and window:
    /// many requests of a stream wait for the same reset.
    fn notify_rate_limit(&self, req: &ApiRequest, wait: Duration, window: Option<i64>) {
        if let Some(stream) = req.stream {
            let stats = self.stats(stream);
            stats.rate_limited_ms.fetch_add(
                u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                std::sync::atomic::Ordering::Relaxed,
            );
            if let Some(reset) = window {
                let told = stats
                    .window_told
                    .swap(reset, std::sync::atomic::Ordering::Relaxed);
                if told == reset {
                    return;
                }
            }
        }
        let reset_ms = crate::protocol::now_ms()
            .saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
        tracing::info!(
            "rate limited by Intercom{}: waiting {:.1} s for the quota to reset before {}",
            req.stream
                .map(|s| format!(" (stream {s})"))
                .unwrap_or_default(),
            wait.as_secs_f64(),
            req.describe()
        );
        if let Some(listener) = &self.inner.on_rate_limit {
            listener(req.stream, reset_ms, wait);
        }
    }

    /// Intercom's time now (ms), as far as its `Date` headers tell; ours before any.
    fn intercom_now_ms(&self) -> i64 {
        chrono::Utc::now()
            .timestamp_millis()
            .saturating_add(self.clock_offset_ms().unwrap_or(0))
    }

    /// Send a request (with rate limiting and retries) and return its JSON answer, which
    /// meets the request's [`Expect`]. The answer may be at most [`VALUE_BODY_CAP`]
    /// bytes: a JSON tree costs many times its text.
    pub async fn json(&self, req: &ApiRequest) -> Result<Value> {
        let expect = req.expect;
        self.fetch_with(req, Body::Tree, |a| decode(&a.bytes()?, expect))
            .await
    }

    /// Send a request and return its list of records at `path`, kept as raw bytes, with
    /// `want` read of each record (a record without it is a bad body, retried).
    pub async fn page(&self, req: &ApiRequest, path: &[&str], want: &Want) -> Result<Page> {
        self.fetch(req, |body| Page::parse(body, path, want)).await
    }

    /// Send a request (with rate limiting and retries) and `decode` its successful
    /// answer, which is kept as text (not decoded into a JSON tree). A body `decode`
    /// refuses is a failed attempt, retried like a 5xx.
    pub async fn fetch<T>(
        &self,
        req: &ApiRequest,
        decode: impl Fn(bytes::Bytes) -> std::result::Result<T, String>,
    ) -> Result<T> {
        self.fetch_with(req, Body::Text, |a| decode(a.bytes()?))
            .await
    }

    /// Send a request (with rate limiting and retries, as [`Client::fetch`]) and hand
    /// over its successful answer with the body unread, for the caller to read as it
    /// arrives (`chunk()`, each wait bounded by the caller). The whole answer may take
    /// up to an hour; the request's slot is given back once the headers are in.
    pub async fn open(&self, req: &ApiRequest) -> Result<reqwest::Response> {
        self.fetch_with(req, Body::Stream, |a| match a {
            Answer::Open(r) => Ok(r),
            Answer::Read(_) => Err("the answer was read whole".into()),
        })
        .await
    }

    async fn fetch_with<T>(
        &self,
        req: &ApiRequest,
        kind: Body,
        decode: impl Fn(Answer) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let url = self.url_for(req);
        let policy = match req.error_retries {
            None => self.inner.retry.clone(),
            Some(n) => RetryPolicy {
                max_error_retries: n.min(self.inner.retry.max_error_retries),
                ..self.inner.retry.clone()
            },
        };
        let stats = req.stream.map(|s| self.stats(s));
        let started = Instant::now();
        let mut attempts = Attempts::default();
        let mut last: Option<Error> = None;
        loop {
            let (outcome, result) = {
                // A request in flight holds a slot from its turn at the budget until its
                // answer is parsed; backoff waits hold none.
                let _slot = self.inner.in_flight.acquire().await;
                let left = policy.max_elapsed.saturating_sub(started.elapsed());
                let turn = self
                    .inner
                    .budget
                    .acquire(
                        || self.intercom_now_ms(),
                        left,
                        |wait, reset| self.notify_rate_limit(req, wait, Some(reset)),
                    )
                    .await;
                if let Err(wait) = turn {
                    return Err(Error::OverBudget {
                        endpoint: req.describe(),
                        why: "for Intercom's rate limit".into(),
                        wait_secs: wait.as_secs_f64(),
                        budget_secs: policy.max_elapsed.as_secs(),
                        last: last.map(Box::new),
                    });
                }
                if let Some(s) = &stats {
                    s.requests
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                let sent = Instant::now();
                let Attempted {
                    mut outcome,
                    result,
                    turn,
                } = self.attempt(req, &url, kind).await;
                if matches!(outcome, Outcome::Status { .. }) {
                    self.inner
                        .in_flight
                        .answered(sent.elapsed(), self.inner.budget.per_second());
                } else {
                    self.inner.budget.settled();
                }
                let result = match result {
                    Ok(body) => {
                        // Trees are parsed one at a time, in the large-answer turn.
                        let _turn = match (turn, kind) {
                            (Some(t), _) => Some(t),
                            (None, Body::Tree) => Some(self.inner.large.clone().lock_owned().await),
                            (None, Body::Text | Body::Stream) => None,
                        };
                        decode(body).map_err(|message| {
                            outcome = Outcome::BadBody;
                            Error::Decode {
                                endpoint: req.describe(),
                                message,
                            }
                        })
                    }
                    Err(e) => Err(e),
                };
                (outcome, result)
            };
            attempts.elapsed = started.elapsed();
            let now_ms = self.intercom_now_ms();
            match classify(&outcome, attempts, &policy, now_ms, fastrand::f64()) {
                Decision::Done => return result,
                Decision::Fail => {
                    let e = result.err().unwrap_or_else(|| {
                        Error::Internal(format!("{} failed without an error", req.describe()))
                    });
                    let tried = attempts.errors + attempts.rate_limited + 1;
                    return Err(if tried > 1 {
                        Error::GaveUp {
                            attempts: tried,
                            elapsed_secs: attempts.elapsed.as_secs(),
                            source: Box::new(e),
                        }
                    } else {
                        e
                    });
                }
                Decision::OverBudget(wait) => {
                    return Err(Error::OverBudget {
                        endpoint: req.describe(),
                        why: why_wait(&outcome),
                        wait_secs: wait.as_secs_f64(),
                        budget_secs: policy.max_elapsed.as_secs(),
                        last: result.err().map(Box::new),
                    });
                }
                Decision::RetryAfter(wait) => {
                    let e = result.err();
                    if matches!(outcome, Outcome::Status { status: 429, .. }) {
                        attempts.rate_limited += 1;
                        self.notify_rate_limit(req, wait, None);
                    } else {
                        let scheduled = is_scheduled(&outcome, &policy);
                        let (n, of) = if scheduled {
                            attempts.rate_limited += 1;
                            (attempts.rate_limited, policy.max_rate_limited_retries)
                        } else {
                            attempts.errors += 1;
                            (attempts.errors, policy.max_error_retries)
                        };
                        let why = e.as_ref().map(|e| e.to_string()).unwrap_or_default();
                        tracing::warn!(
                            "{why}; retry {n} of {of} in {} ms{}",
                            wait.as_millis(),
                            if scheduled {
                                " (as its Retry-After asks)"
                            } else {
                                ""
                            }
                        );
                    }
                    last = e;
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Say once per stream that an answer's `X-RateLimit-Reset` was ignored.
    fn tell_bogus_reset(&self, req: &ApiRequest, rate: RateInfo, now_ms: i64) {
        let first = match req.stream {
            Some(s) => !self
                .stats(s)
                .bogus_reset_told
                .swap(true, std::sync::atomic::Ordering::Relaxed),
            None => !self
                .inner
                .bogus_reset_told
                .swap(true, std::sync::atomic::Ordering::Relaxed),
        };
        if !first {
            return;
        }
        let reset = rate.reset_epoch.unwrap_or_default();
        let when = match reset.checked_mul(1000).and_then(|r| r.checked_sub(now_ms)) {
            Some(ms) if ms > 0 => format!("{:.0} s ahead", ms as f64 / 1000.0),
            Some(ms) => format!("{:.0} s in the past", -(ms as f64) / 1000.0),
            None => "out of range".into(),
        };
        tracing::warn!(
            "{}: Intercom's X-RateLimit-Reset ({reset}) is {when}, which no 10-second rate-limit window can be, so it was ignored (this is said once per stream)",
            req.describe()
        );
    }

    /// One attempt: send, read and check the answer.
    async fn attempt(&self, req: &ApiRequest, url: &Url, kind: Body) -> Attempted {
        let endpoint = || req.describe();
        let transport = |message: String| Attempted {
            outcome: Outcome::Transport,
            result: Err(Error::Transport {
                endpoint: endpoint(),
                message,
            }),
            turn: None,
        };
        let mut builder = self
            .inner
            .http
            .request(req.method.clone(), url.clone())
            .header(AUTHORIZATION, self.inner.authorization.clone())
            .header("Intercom-Version", req.version);
        if let Some(accept) = req.accept {
            builder = builder.header(ACCEPT, accept);
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        if kind == Body::Stream {
            builder = builder.timeout(OPEN_BODY_TIMEOUT);
        }
        let resp = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                if let Some(refused) = guard::refusal(&e) {
                    return Attempted {
                        outcome: Outcome::Final,
                        result: Err(refused),
                        turn: None,
                    };
                }
                return transport(transport_message(&e));
            }
        };
        let status = resp.status();
        self.observe_date(resp.headers());
        let now_ms = self.intercom_now_ms();
        let rate = rate_info(resp.headers());
        if !self.inner.budget.observe(rate, now_ms) {
            self.tell_bogus_reset(req, rate, now_ms);
        }
        let retry_after = retry_after(resp.headers(), now_ms);
        let location = resp
            .headers()
            .get(LOCATION)
            .map(|v| location_origin(&String::from_utf8_lossy(v.as_bytes())));
        let outcome = Outcome::Status {
            status: status.as_u16(),
            rate,
            retry_after,
        };
        if !status.is_success() {
            // An error body larger than the cap still says something: use what arrived.
            // One that broke off (the connection reset mid-way) may have lost what it
            // was: see below.
            let (body, broken) =
                match read_capped(resp, ERROR_BODY_CAP as u64, u64::MAX, None).await {
                    Ok((b, _)) | Err(ReadError::TooLarge(b)) => (b, false),
                    Err(ReadError::Broken(_)) => (Vec::new(), true),
                };
            let result = Err(if status.is_redirection() {
                Error::Redirect {
                    endpoint: endpoint(),
                    status: status.as_u16(),
                    location: location.flatten(),
                }
            } else {
                status_error(req, status.as_u16(), &body)
            });
            // An error answer cut off mid-way (JSON that ends early) can't say what it
            // was (a `scroll_exists`, a `token_unauthorized`): it is asked again, like a
            // cut-off success.
            if !status.is_redirection() && (broken || cut_off_json(&body)) {
                return Attempted {
                    outcome: Outcome::BadBody,
                    result: Err(Error::Decode {
                        endpoint: endpoint(),
                        message: format!(
                            "an HTTP {} answer broke off before it said why",
                            status.as_u16()
                        ),
                    }),
                    turn: None,
                };
            }
            return Attempted {
                outcome,
                result,
                turn: None,
            };
        }
        if let Some(encoding) = unsupported_encoding(resp.headers()) {
            return Attempted {
                outcome: Outcome::Final,
                result: Err(Error::Decode {
                    endpoint: endpoint(),
                    message: format!(
                        "the answer is encoded as `{encoding}`, which this connector does not read (it asks for gzip or none); a proxy in `base_url` may be re-encoding answers"
                    ),
                }),
                turn: None,
            };
        }
        if kind == Body::Stream {
            return if status == StatusCode::NO_CONTENT {
                Attempted {
                    outcome: Outcome::BadBody,
                    result: Err(Error::Decode {
                        endpoint: endpoint(),
                        message: "the answer had no body".into(),
                    }),
                    turn: None,
                }
            } else {
                Attempted {
                    outcome,
                    result: Ok(Answer::Open(resp)),
                    turn: None,
                }
            };
        }
        let cap = match kind {
            Body::Tree => self.inner.max_body_bytes.min(VALUE_BODY_CAP),
            Body::Text | Body::Stream => self.inner.max_body_bytes,
        };
        let body = match read_capped(resp, cap, self.inner.share, Some(&self.inner.large)).await {
            Ok(b) => b,
            Err(ReadError::Broken(e)) => {
                return transport(format!("the answer broke off ({})", transport_message(&e)))
            }
            Err(ReadError::TooLarge(_)) => {
                return Attempted {
                    // Sending it again brings the same answer.
                    outcome,
                    result: Err(Error::BodyTooLarge {
                        endpoint: endpoint(),
                        limit_mib: cap.div_ceil(1024 * 1024),
                        tree: kind == Body::Tree,
                    }),
                    turn: None,
                };
            }
        };
        if status == StatusCode::NO_CONTENT {
            return Attempted {
                outcome: Outcome::BadBody,
                result: Err(Error::Decode {
                    endpoint: endpoint(),
                    message: "the answer had no body".into(),
                }),
                turn: None,
            };
        }
        let (body, turn) = body;
        Attempted {
            outcome,
            result: Ok(Answer::Read(bytes::Bytes::from(body))),
            turn,
        }
    }
}

/// Whether `body` is JSON that breaks off before its end (an answer cut short).
fn cut_off_json(body: &[u8]) -> bool {
    let text = body.trim_ascii_start();
    text.first() == Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(text).is_err_and(|e| e.is_eof())
}

/// How an answer is used once read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// Kept as text, records cut out of it ([`Page`], children).
    Text,
    /// Decoded into a JSON tree ([`Value`]).
    Tree,
    /// Handed over unread ([`Client::open`]).
    Stream,
}

/// What a wait that would pass the budget was for, in words.
fn why_wait(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Status {
            status,
            retry_after: Some(_),
            ..
        } => format!("HTTP {status} with Retry-After"),
        Outcome::Status { status: 429, .. } => "HTTP 429, for the rate limit's reset".into(),
        Outcome::Status { status, .. } => format!("backoff after HTTP {status}"),
        Outcome::BadBody => "backoff after an unusable answer".into(),
        Outcome::Transport => "backoff after a network failure".into(),
        Outcome::Final => "nothing".into(),
    }
}

/// `Retry-After` as a wait: seconds, or an HTTP date (taken relative to the answer's
/// own `Date` when it has one, so both are on Intercom's clock; else to `now_ms`, our
/// estimate of that clock). A date in the past is no wait.
fn retry_after(headers: &HeaderMap, now_ms: i64) -> Option<Duration> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = http_date_ms(text)?;
    let now = headers
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|d| http_date_ms(d.trim()))
        .unwrap_or(now_ms);
    Some(Duration::from_millis(
        u64::try_from(at.saturating_sub(now)).unwrap_or(0),
    ))
}

/// An HTTP date (IMF-fixdate, or the obsolete RFC 850 and asctime forms) as epoch ms.
fn http_date_ms(text: &str) -> Option<i64> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc2822(text) {
        return Some(d.timestamp_millis());
    }
    for form in ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(text, form) {
            return Some(d.and_utc().timestamp_millis());
        }
    }
    None
}

/// A `Content-Encoding` left on an answer (reqwest removes the gzip it decoded), other
/// than `identity`: the body is in a form this client can't read.
fn unsupported_encoding(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(reqwest::header::CONTENT_ENCODING)?;
    let text = String::from_utf8_lossy(v.as_bytes());
    let encodings: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"))
        .collect();
    (!encodings.is_empty()).then(|| redact::server_text(&encodings.join(", "), 40))
}

/// Parse and check a successful answer; say what is wrong with it otherwise.
pub(crate) fn decode(body: &[u8], expect: Expect) -> std::result::Result<Value, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| not_json(&String::from_utf8_lossy(body), &e))?;
    expect.check(&v)?;
    Ok(v)
}

enum ReadError {
    /// The body broke off (reset, timeout, bad chunking or compression).
    Broken(reqwest::Error),
    /// More than the cap arrived; the bytes read so far.
    TooLarge(Vec<u8>),
}

/// Read a body chunk by chunk (decompressed), stopping past `cap` bytes. Past `share`
/// bytes the body takes the large-answer turn `large` (waiting for it: the bytes
/// already read stay within the share), and hands it back with the body; with no
/// `large`, `share` is not checked.
async fn read_capped(
    mut resp: reqwest::Response,
    cap: u64,
    share: u64,
    large: Option<&Arc<tokio::sync::Mutex<()>>>,
) -> std::result::Result<(Vec<u8>, Option<tokio::sync::OwnedMutexGuard<()>>), ReadError> {
    let hint = resp
        .content_length()
        .unwrap_or(0)
        .min(cap)
        .min(share)
        .min(16 << 20) as usize;
    let mut buf = Vec::with_capacity(hint);
    let mut turn = None;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let total = buf.len() as u64 + chunk.len() as u64;
                if total > cap {
                    let room = (cap as usize).saturating_sub(buf.len());
                    buf.extend_from_slice(&chunk[..room.min(chunk.len())]);
                    return Err(ReadError::TooLarge(buf));
                }
                if total > share && turn.is_none() {
                    if let Some(large) = large {
                        turn = Some(large.clone().lock_owned().await);
                    }
                }
                if total > buf.capacity() as u64 {
                    // Grow to what is needed, doubling, never past the cap (the default
                    // doubling could take twice the cap).
                    let want = (buf.capacity() as u64)
                        .saturating_mul(2)
                        .max(total)
                        .min(cap);
                    buf.reserve_exact(want as usize - buf.len());
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok((buf, turn)),
            Err(e) => return Err(ReadError::Broken(e)),
        }
    }
}

/// Scheme and host of a `Location` header (server text: the path and query, which could
/// hold anything, are left out).
fn location_origin(location: &str) -> Option<String> {
    let u = Url::parse(location.trim()).ok()?;
    let host = u.host_str()?;
    Some(redact::server_text(
        &format!("{}://{}", u.scheme(), host),
        120,
    ))
}

/// `Date − arrived` in ms, from an answer's `Date` header (an HTTP date, RFC 7231 IMF
/// form), if it has a sensible one (a year from 2000 to 9999).
fn date_offset_ms(headers: &HeaderMap, arrived_ms: i64) -> Option<i64> {
    let text = headers.get(reqwest::header::DATE)?.to_str().ok()?;
    let date = chrono::DateTime::parse_from_rfc2822(text.trim()).ok()?;
    let ms = date.timestamp_millis();
    (946_684_800_000..=crate::cursor::MAX_EPOCH_SECONDS * 1000)
        .contains(&ms)
        .then(|| ms.saturating_sub(arrived_ms))
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
    redact::server_text(&msg, 300)
}

/// Map a non-success answer to an error, with Intercom's error codes and messages
/// (server text: cleaned, bounded, credentials masked).
pub(crate) fn status_error(req: &ApiRequest, status: u16, body: &[u8]) -> Error {
    let parsed = ApiErrorBody::parse(body);
    let mut detail = parsed.summary();
    if detail.is_empty() && !body.is_empty() {
        detail = redact::server_text(&String::from_utf8_lossy(body), 200);
    }
    let endpoint = req.describe();
    match status {
        401 if parsed.code() == Some("token_unauthorized") => Error::NotPermitted {
            endpoint,
            status,
            detail,
            needs: None,
        },
        401 => Error::Unauthorized { endpoint, detail },
        403 => Error::NotPermitted {
            endpoint,
            status,
            detail,
            needs: None,
        },
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
            "access_token": "tok-1234", "start_date": "2020-01-01T00:00:00Z", "base_url": base
        }))
        .unwrap();
        Client::new(&cfg, HttpSettings::default()).unwrap()
    }

    #[test]
    fn urls_keep_base_path_and_follow_next_links_on_our_host() {
        let c = client("http://127.0.0.1:1/proxy");
        let u = c.url_for(&ApiRequest::get("/articles").query("per_page", "150"));
        assert_eq!(u.as_str(), "http://127.0.0.1:1/proxy/articles?per_page=150");
        let u = c.url_for(&ApiRequest::get("/articles?page=2&per_page=150"));
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:1/proxy/articles?page=2&per_page=150"
        );
    }

    #[test]
    fn ids_stay_one_path_segment() {
        let c = client("http://127.0.0.1:1/proxy");
        for (id, want) in [
            ("123", "/proxy/conversations/123"),
            ("5f1e-ab_c", "/proxy/conversations/5f1e-ab_c"),
            ("../../x", "/proxy/conversations/%2E%2E%2F%2E%2E%2Fx"),
            ("a/b?c#d", "/proxy/conversations/a%2Fb%3Fc%23d"),
            ("%2e%2e", "/proxy/conversations/%252e%252e"),
        ] {
            let seg = path_segment(id).unwrap();
            let u = c.url_for(&ApiRequest::get(format!("/conversations/{seg}")));
            assert_eq!(u.path(), want, "{id}");
            assert!(u.query().is_none() && u.fragment().is_none(), "{id}");
        }
        for bad in ["", ".", ".."] {
            assert!(path_segment(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn status_errors_carry_intercom_codes_and_mask_credentials() {
        let req = ApiRequest::get("/admins");
        let e = status_error(&req, 403, br#"{"type":"error.list","errors":[{"code":"api_plan_restricted","message":"Active subscription needed."}]}"#);
        let s = e.to_string();
        assert!(
            s.contains("GET /admins") && s.contains("api_plan_restricted"),
            "{s}"
        );
        let e = status_error(&req, 500, b"oops");
        assert!(e.to_string().contains("HTTP 500 on GET /admins: oops"));
        let e = status_error(
            &req,
            400,
            br#"{"errors":[{"code":"bad","message":"you sent Authorization: Bearer abc123"}]}"#,
        );
        assert!(!e.to_string().contains("abc123"), "{e}");
        let e = status_error(&req, 502, "<html>\n\n<h1>Bad\tGateway</h1>".as_bytes());
        assert!(
            e.to_string().ends_with("<html> <h1>Bad Gateway</h1>"),
            "{e}"
        );
    }

    #[test]
    fn bodies_are_checked_against_what_the_endpoint_always_has() {
        let list = Expect::List(&["data"]);
        assert!(decode(br#"{"data":[1]}"#, list).is_ok());
        assert!(decode(br#"{"data":null}"#, list).is_ok());
        let cases: [(&[u8], &str); 6] = [
            (b"", "no body"),
            (br#"{"data":[1,"#, "cut off"),
            (b"<html><body>502 Bad Gateway</body></html>", "HTML page"),
            (br#"{"type":"list"}"#, "no `data` list"),
            (br#"{"data":{}}"#, "should be a list"),
            (b"[1,2]", "not a JSON object"),
        ];
        for (body, want) in cases {
            let e = decode(body, list).unwrap_err();
            assert!(e.contains(want), "{:?}: {e}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn date_headers_give_the_clock_offset() {
        let mut h = HeaderMap::new();
        assert_eq!(date_offset_ms(&h, 0), None);
        h.insert(
            reqwest::header::DATE,
            HeaderValue::from_static("Sun, 06 Dec 2026 15:42:58 GMT"),
        );
        let at = 1_796_571_778_000; // that instant
        assert_eq!(date_offset_ms(&h, at), Some(0));
        assert_eq!(date_offset_ms(&h, at + 600_500), Some(-600_500));
        h.insert(reqwest::header::DATE, HeaderValue::from_static("yesterday"));
        assert_eq!(date_offset_ms(&h, at), None);
        h.insert(
            reqwest::header::DATE,
            HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"),
        );
        assert_eq!(date_offset_ms(&h, at), None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_an_http_date() {
        let at = 1_796_571_778_000; // Sun, 06 Dec 2026 15:42:58 GMT
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, at), None);
        let mut with = |v: &'static str| {
            h.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static(v));
            retry_after(&h, at)
        };
        assert_eq!(with("25"), Some(Duration::from_secs(25)));
        assert_eq!(with(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            with("Sun, 06 Dec 2026 15:43:23 GMT"),
            Some(Duration::from_secs(25))
        );
        assert_eq!(
            with("Sunday, 06-Dec-26 15:43:23 GMT"),
            Some(Duration::from_secs(25))
        );
        assert_eq!(
            with("Sun Dec  6 15:43:23 2026"),
            Some(Duration::from_secs(25))
        );
        // In the past: no wait. Not a date: not a Retry-After.
        assert_eq!(with("Sun, 06 Dec 2026 15:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(with("-5"), None);
        assert_eq!(with("soon"), None);
        // A date is read against the answer's own Date (Intercom's clock), when it has one.
        let mut h = HeaderMap::new();
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Dec 2026 15:33:23 GMT"),
        );
        h.insert(
            reqwest::header::DATE,
            HeaderValue::from_static("Sun, 06 Dec 2026 15:32:58 GMT"),
        );
        assert_eq!(retry_after(&h, at), Some(Duration::from_secs(25)));
    }

    #[test]
    fn error_answers_cut_short_are_told_apart() {
        assert!(cut_off_json(
            br#"{"type":"error.list","errors":[{"code":"scroll_ex"#
        ));
        assert!(!cut_off_json(br#"{"type":"error.list","errors":[]}"#));
        assert!(!cut_off_json(b"<html>Bad Gateway</html>"));
        assert!(!cut_off_json(b""));
        assert!(!cut_off_json(b"{not json}"));
    }

    #[test]
    fn encodings_other_than_gzip_are_named() {
        let mut h = HeaderMap::new();
        assert_eq!(unsupported_encoding(&h), None);
        h.insert(
            reqwest::header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        assert_eq!(unsupported_encoding(&h), None);
        h.insert(
            reqwest::header::CONTENT_ENCODING,
            HeaderValue::from_static("br"),
        );
        assert_eq!(unsupported_encoding(&h).as_deref(), Some("br"));
    }

    #[test]
    fn the_memory_budget_sizes_shares_and_the_body_cap() {
        // 128 MiB for up to 64 in flight: 1 MiB each, 64 MiB for the large-answer turn.
        let s = HttpSettings::default();
        assert_eq!(s.share(), 1024 * 1024);
        assert_eq!(s.body_cap(), 32 * 1024 * 1024);
        let tight = HttpSettings {
            memory_bytes: 16 * 1024 * 1024,
            max_in_flight: 128,
            ..HttpSettings::default()
        };
        assert_eq!(tight.share(), 64 * 1024);
        assert_eq!(tight.body_cap(), 8 * 1024 * 1024 + 64 * 1024);
    }

    #[test]
    fn redirect_locations_show_only_their_origin() {
        assert_eq!(
            location_origin("http://169.254.169.254/latest/meta-data/?x=Bearer%20t"),
            Some("http://169.254.169.254".into())
        );
        assert_eq!(location_origin("/relative"), None);
    }
}
