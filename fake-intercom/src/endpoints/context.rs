//! What every handler gets: the [`Store`] it answers from (the workspace,
//! the search cache, the companies scroll, the reporting export jobs), its request as a [`Ctx`],
//! [`reply`] to turn a result into an answer, and [`blocking`] to compute
//! a costly one off the server's async workers.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::api::error::{json_response, ApiError};
use crate::api::query::{percent_decode, QueryParams};
use crate::config::FakeConfig;
use crate::endpoints::scroll::ScrollState;
use crate::endpoints::search::cache::SearchCache;
use crate::reporting::jobs::ReportJobs;
use crate::rng::mix64;
use crate::time::now_secs;
use crate::workspace::Workspace;

/// The state the endpoints answer from.
pub(crate) struct Store {
    pub(crate) config: FakeConfig,
    /// `http://127.0.0.1:PORT` and the base path, for `next` links when a
    /// request has no `Host`.
    pub(crate) base_url: String,
    workspace: RwLock<Workspace>,
    /// Bumped after every mutable access to the workspace (keys the cache).
    pub(crate) ws_version: AtomicU64,
    pub(crate) search_cache: SearchCache,
    /// The current contact search index delay in seconds.
    index_delay: AtomicI64,
    /// The current search index jitter in seconds (see
    /// [`FakeConfig::search_index_jitter_secs`]).
    index_jitter: AtomicI64,
    /// The fake's clock minus the machine's, in seconds.
    clock_offset: AtomicI64,
    scroll: Mutex<ScrollState>,
    /// The reporting export jobs.
    pub(crate) reports: ReportJobs,
}

impl Store {
    /// Generate the workspace of `config`, served at `addr` (its base path
    /// normalized).
    pub(crate) fn new(mut config: FakeConfig, addr: SocketAddr) -> Store {
        config.base_path = config.normalized_base_path();
        Store {
            base_url: format!("http://{addr}{}", config.base_path),
            workspace: RwLock::new(Workspace::generate(&config)),
            ws_version: AtomicU64::new(1),
            search_cache: SearchCache::default(),
            index_delay: AtomicI64::new(config.search_index_delay_secs),
            index_jitter: AtomicI64::new(config.search_index_jitter_secs),
            clock_offset: AtomicI64::new(config.clock_offset_secs),
            scroll: Mutex::new(ScrollState::new(mix64(config.seed ^ 0x5C_4011))),
            reports: ReportJobs::new(&config),
            config,
        }
    }

    /// Run `f` with the workspace write-locked; the search cache is
    /// invalidated afterwards.
    pub(crate) fn write_ws<R>(&self, f: impl FnOnce(&mut Workspace) -> R) -> R {
        let mut ws = self.workspace.write().unwrap_or_else(|e| e.into_inner());
        let r = f(&mut ws);
        self.ws_version.fetch_add(1, Ordering::SeqCst);
        r
    }

    pub(crate) fn read_ws(&self) -> RwLockReadGuard<'_, Workspace> {
        self.workspace.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn index_delay_secs(&self) -> i64 {
        self.index_delay.load(Ordering::SeqCst)
    }

    pub(crate) fn set_index_delay_secs(&self, secs: i64) {
        self.index_delay.store(secs, Ordering::SeqCst);
    }

    pub(crate) fn index_jitter_secs(&self) -> i64 {
        self.index_jitter.load(Ordering::SeqCst)
    }

    pub(crate) fn set_index_jitter_secs(&self, secs: i64) {
        self.index_jitter.store(secs, Ordering::SeqCst);
    }

    pub(crate) fn clock_offset_secs(&self) -> i64 {
        self.clock_offset.load(Ordering::SeqCst)
    }

    pub(crate) fn set_clock_offset_secs(&self, secs: i64) {
        self.clock_offset.store(secs, Ordering::SeqCst);
    }

    /// The fake's clock: the machine's unix seconds plus the clock offset.
    pub(crate) fn now_secs(&self) -> i64 {
        now_secs().saturating_add(self.clock_offset_secs())
    }

    pub(crate) fn scroll_state(&self) -> MutexGuard<'_, ScrollState> {
        self.scroll.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The handlers' state extractor.
pub(crate) type S = State<Arc<Store>>;

/// The raw request body, handed from the gate to the handlers.
#[derive(Clone)]
pub(crate) struct RawBody(pub(crate) Bytes);

/// Set by the gate when the answer will not reach the client whole (a
/// reset or truncated answer): the handler must compute it without moving
/// any state on (the companies scroll).
#[derive(Clone, Copy)]
pub(crate) struct Peek;

/// What a handler needs to know about its request.
pub(crate) struct Ctx {
    pub(crate) query: QueryParams,
    /// `http://host:port` as the client addressed us (for absolute `next`
    /// URLs, with the base path).
    base: Option<String>,
    /// The path without the base path.
    pub(crate) path: String,
    pub(crate) version: Option<String>,
    /// The `Accept` header.
    pub(crate) accept: Option<String>,
    /// See [`Peek`].
    pub(crate) peek: bool,
}

impl Ctx {
    /// Where absolute links of the answer start: `http://host:port` as
    /// the client addressed us, and the base path.
    pub(crate) fn base_url(&self, store: &Store) -> String {
        match &self.base {
            Some(host) => format!("{host}{}", store.config.base_path),
            None => store.base_url.clone(),
        }
    }
}

impl<T: Send + Sync> FromRequestParts<T> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &T) -> Result<Ctx, Infallible> {
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
            accept: header_string(&parts.headers, "accept"),
            peek: parts.extensions.get::<Peek>().is_some(),
        })
    }
}

/// A header's value as text (invalid UTF-8 replaced).
pub(crate) fn header_string(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// 200 with the JSON answer, or the error.
pub(crate) fn reply<T: Serialize>(result: Result<T, ApiError>) -> Response {
    match result {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

/// The answer `f` computes, on the blocking thread pool: a CPU-heavy
/// answer then holds up no other request (a panic in `f` is re-raised).
pub(crate) async fn blocking(f: impl FnOnce() -> Response + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(resp) => resp,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the answer was cancelled",
        )
        .into_response(),
    }
}

/// The percent-decoded path segment between `prefix` and `suffix`.
pub(crate) fn path_id(path: &str, prefix: &str, suffix: &str) -> Option<String> {
    let id = path.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if id.is_empty() || id.contains('/') {
        return None;
    }
    Some(percent_decode(id))
}

/// An integer field of an object (0 when missing).
pub(crate) fn int_of(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}
