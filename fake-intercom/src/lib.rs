//! `fake-intercom`: a deterministic fake of Intercom's REST API (version 2.11
//! object shapes) for testing and benchmarking the `source-intercom` connector.
//!
//! This module owns the public API: [`FakeConfig`], the running server handle
//! [`FakeIntercom`], the request log entries [`RecordedRequest`], injected
//! [`Fault`]s and the request hook. The workspace data lives in [`generate`]
//! (changed by the [`Workspace`] `add_*`/`touch_*`/`delete_*` methods), HTTP
//! behaviour in `server`, search semantics in [`search`], the companies scroll
//! in [`scroll`].
//!
//! Endpoints (every error is `{"type":"error.list","request_id":..,"errors":[{"code","message"}]}`):
//!
//! | endpoint | answer | errors |
//! | --- | --- | --- |
//! | `GET /me`, `/admins`, `/teams`, `/tags`, `/segments`, `/data_attributes`, `/subscription_types` | lists | 400 `parameter_invalid` |
//! | `GET /help_center/help_centers`, `/help_center/collections`, `/articles`, `/counts` | page-number lists | 400 `parameter_invalid` |
//! | `POST /contacts/search` | `{"type":"list","data","total_count","pages"}` | see [`search`] |
//! | `POST /conversations/search` | `{"type":"conversation.list","conversations" (no parts),"total_count","pages"}` | see [`search`] |
//! | `POST /tickets/search` | `{"type":"ticket.list","tickets","total_count","pages"}` | see [`search`] |
//! | `GET /companies/scroll[?scroll_param=&per_page=]` | `{"type":"list","data","pages":null,"total_count":null,"scroll_param"}` | 400 `scroll_exists`, 404 `not_found` |
//! | `GET /companies/{id}/segments` | `{"type":"list","data":[segments]}` | 404 `company_not_found` |
//! | `GET /conversations/{id}` | the conversation with its `max_parts_returned` most recent parts | 404 `not_found` |
//! | `GET /conversations/deleted` (2.16+) | `{"type":"conversations.list","conversations","total_count","pages"}` | 404 `not_found` before 2.16, 400 `parameter_invalid` |
//! | `GET /admins/activity_logs?created_at_after=` | `{"type":"activity_log.list","activity_logs","pages"}` | 400 `parameter_not_found` / `parameter_invalid` |
//!
//! Any request: 401 `unauthorized` without the token, 429 `rate_limit_exceeded`
//! over the rate limit, 404 `not_found` for unknown paths.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let fake = fake_intercom::FakeIntercom::start(fake_intercom::FakeConfig::default()).await?;
//! println!("{} (token {})", fake.base_url(), fake.token());
//! # Ok(()) }
//! ```

pub mod counts;
pub mod error;
pub mod generate;
mod generate_more;
mod mutate;
pub mod pagination;
pub mod query;
pub mod ratelimit;
pub mod rng;
pub mod scroll;
pub mod search;
mod server;
mod words;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

pub use generate::{Workspace, GENERATION_END, GENERATION_START};
pub use generate_more::day_start;
pub use server::{
    version_at_least, ACTIVITY_LOGS_MAX_PER_PAGE, ACTIVITY_LOGS_PER_PAGE, ARTICLES_PER_PAGE,
    COLLECTIONS_PER_PAGE, DELETED_CONVERSATIONS_MAX_PER_PAGE, DELETED_CONVERSATIONS_PER_PAGE,
    HELP_CENTERS_PER_PAGE,
};

/// A request hook (see [`FakeIntercom::set_request_hook`]).
pub type RequestHook = dyn Fn(&RecordedRequest, &mut Workspace) + Send + Sync + 'static;

/// Sizes, seed and server behaviour of a fake workspace.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// Seed of all generated data (default 42).
    pub seed: u64,
    /// The bearer token the server accepts (default `"fake-token"`).
    pub token: String,
    /// Contacts, about 70% role `user` and 30% `lead` (default 120).
    pub contacts: usize,
    /// Companies (default 40).
    pub companies: usize,
    /// Conversations (default 60).
    pub conversations: usize,
    /// Average parts per conversation; each has `0..=2*avg` (default 5).
    pub parts_per_conversation: usize,
    /// Admins (default 8); the first one owns the token (`GET /me`).
    pub admins: usize,
    /// Teams (default 3).
    pub teams: usize,
    /// Tags (default 12).
    pub tags: usize,
    /// Person segments, listed by `GET /segments` (default 6).
    pub segments: usize,
    /// Company segments (default 4).
    pub company_segments: usize,
    /// Subscription types (default 3).
    pub subscription_types: usize,
    /// Help centers (default 2).
    pub help_centers: usize,
    /// Help center collections (default 8).
    pub collections: usize,
    /// Articles (default 45).
    pub articles: usize,
    /// Delay added to every request, in milliseconds (default 0).
    pub latency_ms: u64,
    /// Rate limit per minute, spread over windows of `window_ms` (default 10 000).
    pub requests_per_minute: u32,
    /// Rate-limit window length in milliseconds (default 10 000).
    pub window_ms: u64,
    /// Tickets, served by `POST /tickets/search` (default 30).
    pub tickets: usize,
    /// Admin activity logs, served by `GET /admins/activity_logs` (default 200).
    pub activity_logs: usize,
    /// Deleted conversations, served by `GET /conversations/deleted` (default 5).
    pub deleted_conversations: usize,
    /// A contact is left out of `POST /contacts/search` until the wall clock
    /// reaches its `updated_at` plus this many seconds, like Intercom's
    /// search indexing delay. `0` or less disables the delay (default 0).
    /// Can be changed while running with
    /// [`FakeIntercom::set_search_index_delay_secs`].
    pub search_index_delay_secs: i64,
    /// Apply the index delay to new contacts only: hide a contact until the
    /// wall clock reaches its `created_at` (instead of `updated_at`) plus
    /// `search_index_delay_secs`, so that updates to older contacts are
    /// searchable at once (Intercom documents a "contact creation delay").
    /// Default false.
    pub search_index_delay_create_only: bool,
    /// An idle companies scroll expires after this many milliseconds
    /// (default 60 000, Intercom's one minute).
    pub scroll_expiry_ms: u64,
    /// `GET /conversations/{id}` returns at most this many parts, the most
    /// recent ones (default 500, Intercom's hard limit).
    pub max_parts_returned: usize,
}

impl Default for FakeConfig {
    fn default() -> FakeConfig {
        FakeConfig {
            seed: 42,
            token: "fake-token".to_string(),
            contacts: 120,
            companies: 40,
            conversations: 60,
            parts_per_conversation: 5,
            admins: 8,
            teams: 3,
            tags: 12,
            segments: 6,
            company_segments: 4,
            subscription_types: 3,
            help_centers: 2,
            collections: 8,
            articles: 45,
            latency_ms: 0,
            requests_per_minute: 10_000,
            window_ms: 10_000,
            tickets: 30,
            activity_logs: 200,
            deleted_conversations: 5,
            search_index_delay_secs: 0,
            search_index_delay_create_only: false,
            scroll_expiry_ms: 60_000,
            max_parts_returned: 500,
        }
    }
}

/// One request the server received (including rejected ones).
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Raw query string, `""` if none.
    pub query: String,
    pub intercom_version: Option<String>,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
    pub accept: Option<String>,
    /// The JSON body (a JSON string holding the text if it was not JSON).
    pub body: Option<serde_json::Value>,
    /// The status answered (0 while the request is still in progress).
    pub status: u16,
}

/// A queued failure: of the requests matching `method` + `path` (counted
/// after auth and rate limiting), the first `after` are answered normally and
/// the next `times` get `status`, `body` and `headers`; then the fault is gone.
///
/// Faults are checked in the order queued. A request a fault skips (while
/// its `after` count runs down) may still be answered by a later fault; a
/// request a fault answers is not seen by the faults after it.
///
/// A 404 or 5xx fault on a `GET /companies/scroll` page whose `scroll_param`
/// is the active scroll's ends that scroll (like an expired or failed scroll),
/// so a client can start a new one at once.
///
/// ```
/// # use fake_intercom::Fault;
/// // The 3rd and 4th conversation fetches fail with a 500.
/// let f = Fault {
///     method: "GET".into(),
///     path: "/conversations/*".into(),
///     status: 500,
///     after: 2,
///     times: 2,
///     ..Fault::default()
/// };
/// # let _ = f;
/// ```
#[derive(Clone, Debug, Default)]
pub struct Fault {
    /// `"GET"`, `"POST"`, ... (any case); `""` or `"*"` for any method.
    pub method: String,
    /// Exact path, e.g. `"/admins"`, or a prefix ending in `*`, e.g.
    /// `"/conversations/*"` (`"*"` alone matches every path).
    pub path: String,
    /// The status to answer (an invalid one such as 0 answers 500).
    pub status: u16,
    pub body: serde_json::Value,
    pub headers: Vec<(String, String)>,
    /// How many matching requests get the fault.
    pub times: usize,
    /// How many matching requests to let through first.
    pub after: usize,
}

impl Fault {
    /// Whether this fault applies to `method` `path`.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self.method.is_empty()
            || self.method == "*"
            || self.method.eq_ignore_ascii_case(method);
        let path_ok = match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => self.path == path,
        };
        method_ok && path_ok
    }
}

/// A running fake Intercom server. Dropping it stops the server.
pub struct FakeIntercom {
    shared: Arc<server::Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeIntercom {
    /// Start on the current tokio runtime, bound to 127.0.0.1:0 (random port).
    pub async fn start(config: FakeConfig) -> std::io::Result<FakeIntercom> {
        FakeIntercom::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Start on the current tokio runtime, bound to `addr`.
    pub async fn start_on(config: FakeConfig, addr: SocketAddr) -> std::io::Result<FakeIntercom> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let shared = Arc::new(server::Shared::new(config, local));
        let app = server::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                eprintln!("fake-intercom: server error: {e}");
            }
        });
        Ok(FakeIntercom {
            shared,
            addr: local,
            stop: Some(stop),
            thread: None,
        })
    }

    /// Start on a background thread with its own tokio runtime (for plain
    /// `#[test]` functions). The server stops when the handle is dropped.
    pub fn spawn(config: FakeConfig) -> std::io::Result<FakeIntercom> {
        type Ready = std::io::Result<(Arc<server::Shared>, SocketAddr)>;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Ready>();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("fake-intercom".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener =
                        match tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                            .await
                        {
                            Ok(l) => l,
                            Err(e) => {
                                let _ = ready_tx.send(Err(e));
                                return;
                            }
                        };
                    let local = match listener.local_addr() {
                        Ok(a) => a,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let shared = Arc::new(server::Shared::new(config, local));
                    let app = server::router(shared.clone());
                    let _ = ready_tx.send(Ok((shared, local)));
                    tokio::select! {
                        r = axum::serve(listener, app) => {
                            if let Err(e) = r {
                                eprintln!("fake-intercom: server error: {e}");
                            }
                        }
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime cancels every connection task.
                drop(rt);
            })?;
        let (shared, addr) = ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("fake-intercom server thread exited"))??;
        Ok(FakeIntercom {
            shared,
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bearer token the server accepts.
    pub fn token(&self) -> String {
        self.shared.config.token.clone()
    }

    /// The configuration the server was started with (with the current
    /// search index delay).
    pub fn config(&self) -> FakeConfig {
        let mut c = self.shared.config.clone();
        c.search_index_delay_secs = self.shared.index_delay_secs();
        c
    }

    /// Change [`FakeConfig::search_index_delay_secs`] from now on (e.g. `0`:
    /// the search index has caught up).
    pub fn set_search_index_delay_secs(&self, secs: i64) {
        self.shared
            .index_delay
            .store(secs, std::sync::atomic::Ordering::SeqCst);
    }

    /// Run `f` with mutable access to the workspace.
    pub fn with_workspace<R>(&self, f: impl FnOnce(&mut Workspace) -> R) -> R {
        self.shared.write_ws(f)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let log = self.shared.log.lock().unwrap_or_else(|e| e.into_inner());
        log.1.iter().map(|(_, r)| r.clone()).collect()
    }

    /// Forget the requests received so far.
    pub fn clear_requests(&self) {
        let mut log = self.shared.log.lock().unwrap_or_else(|e| e.into_inner());
        log.1.clear();
    }

    /// Queue a fault (see [`Fault`]). Faults are matched in the order queued.
    pub fn inject_fault(&self, fault: Fault) {
        if fault.times == 0 {
            return;
        }
        let mut faults = self.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        faults.push(fault);
    }

    /// Drop every queued fault.
    pub fn clear_faults(&self) {
        let mut faults = self.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        faults.clear();
    }

    /// Call `hook` for every authenticated request (valid bearer token), once,
    /// before rate limiting, faults and the endpoint compute the answer. It
    /// gets the request as recorded (status 0) and the workspace, write-locked,
    /// so it can change objects while a sync runs, e.g. update a contact when
    /// the 2nd contact search arrives. Replaces any previous hook.
    ///
    /// The hook runs on a server thread and must not call back into this
    /// [`FakeIntercom`] (its workspace lock is held).
    pub fn set_request_hook(
        &self,
        hook: impl Fn(&RecordedRequest, &mut Workspace) + Send + Sync + 'static,
    ) {
        let mut h = self.shared.hook.write().unwrap_or_else(|e| e.into_inner());
        *h = Some(Arc::new(hook));
    }

    /// Remove the request hook.
    pub fn clear_request_hook(&self) {
        let mut h = self.shared.hook.write().unwrap_or_else(|e| e.into_inner());
        *h = None;
    }

    /// The active companies scroll expires now: its `scroll_param` answers
    /// 404 and a new scroll may start at once (this also ends an
    /// [`occupy_scroll`](Self::occupy_scroll)).
    pub fn expire_scroll(&self) {
        self.shared.scroll_state().expire();
    }

    /// Simulate another client holding the workspace's one companies scroll
    /// for `for_ms` milliseconds from now: until then a scroll request without
    /// `scroll_param` gets 400 `scroll_exists`. A scroll this client already
    /// has open keeps working.
    pub fn occupy_scroll(&self, for_ms: u64) {
        let until = server::now_ms().saturating_add(for_ms);
        self.shared.scroll_state().occupy_until(until);
    }
}

impl Drop for FakeIntercom {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
