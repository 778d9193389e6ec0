//! [`FakeIntercom`]: starting and stopping the server, and everything a
//! test does to it while it runs (workspace changes, faults, the request
//! hook, the request log, the scroll, stats).

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::config::FakeConfig;
use crate::faults::{Denial, Fault, RetryAfter};
use crate::server::log::RecordedRequest;
use crate::server::router;
use crate::server::shared::Shared;
use crate::server::stats::FakeStats;
use crate::time::now_ms;
use crate::workspace::Workspace;

/// A running fake Intercom server. Dropping it stops the server.
pub struct FakeIntercom {
    shared: Arc<Shared>,
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
        let shared = Arc::new(Shared::new(config, local));
        let app = router(shared.clone());
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
        type Ready = std::io::Result<(Arc<Shared>, SocketAddr)>;
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
                    let shared = Arc::new(Shared::new(config, local));
                    let app = router(shared.clone());
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

    /// `http://127.0.0.1:PORT` and the [`FakeConfig::base_path`], e.g.
    /// `http://127.0.0.1:PORT/intercom`: where a client's API base URL points.
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, self.shared.config().base_path)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bearer token the server accepts.
    pub fn token(&self) -> String {
        self.shared.config().token.clone()
    }

    /// The configuration the server was started with (with the current
    /// search index delay and jitter, clock offset, other clients and
    /// reported rate limit).
    pub fn config(&self) -> FakeConfig {
        let store = &self.shared.store;
        let mut c = self.shared.config().clone();
        c.search_index_delay_secs = store.index_delay_secs();
        c.search_index_jitter_secs = store.index_jitter_secs();
        c.clock_offset_secs = store.clock_offset_secs();
        c.other_clients_per_window = self.shared.limiter.other_clients();
        c.reported_limit_per_window = self.shared.limiter.reported_limit();
        c
    }

    /// Change [`FakeConfig::search_index_delay_secs`] from now on (e.g. `0`:
    /// the search index has caught up).
    pub fn set_search_index_delay_secs(&self, secs: i64) {
        self.shared.store.set_index_delay_secs(secs);
    }

    /// Change [`FakeConfig::search_index_jitter_secs`] from now on (e.g.
    /// `0`: the search index has caught up).
    pub fn set_search_index_jitter_secs(&self, secs: i64) {
        self.shared.store.set_index_jitter_secs(secs);
    }

    /// Change [`FakeConfig::clock_offset_secs`] from now on: the fake's
    /// clock jumps (or its drift grows) to `secs` away from the machine's.
    pub fn set_clock_offset_secs(&self, secs: i64) {
        self.shared.store.set_clock_offset_secs(secs);
    }

    /// Change [`FakeConfig::other_clients_per_window`] from the next
    /// request on, the current window included (how many of theirs have
    /// been counted depends only on the time into the window): e.g. `n` as
    /// another app of the workspace starts a sync, `0` when it ends.
    pub fn set_other_clients_per_window(&self, n: u32) {
        self.shared.limiter.set_other_clients(n);
    }

    /// Change [`FakeConfig::reported_limit_per_window`] from the next
    /// request on: `Some(n)` reports `n` in `X-RateLimit-Limit` (and the
    /// 429 message) while enforcing the limit of
    /// [`FakeConfig::requests_per_minute`]; `None` reports the enforced one.
    pub fn set_reported_limit_per_window(&self, limit: Option<u32>) {
        self.shared.limiter.set_reported_limit(limit);
    }

    /// The fake's clock in unix seconds: the machine's plus
    /// [`FakeConfig::clock_offset_secs`]. What "now" is at Intercom, for a
    /// test that changes objects at Intercom's time (e.g.
    /// `w.touch_contact(id, fake.now_secs())`).
    pub fn now_secs(&self) -> i64 {
        self.shared.store.now_secs()
    }

    /// Run `f` with mutable access to the workspace.
    pub fn with_workspace<R>(&self, f: impl FnOnce(&mut Workspace) -> R) -> R {
        self.shared.store.write_ws(f)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.list()
    }

    /// Forget the requests received so far.
    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// What the server did so far: requests, rate-limiter rejections,
    /// injected faults by kind, requests in flight, reporting export jobs.
    pub fn stats(&self) -> FakeStats {
        let mut stats = self.shared.stats.snapshot();
        self.shared.store.reports.fill_stats(&mut stats);
        stats
    }

    /// Make the next `n` reporting export jobs enqueued end `failed` (their
    /// last status poll answers `failed` instead of `complete`), replacing
    /// any count set before; `0` fails none but those
    /// [`FakeConfig::report_job_failure_rate`] draws.
    pub fn fail_next_report_jobs(&self, n: u64) {
        self.shared.store.reports.fail_next(n);
    }

    /// Queue a fault (see [`Fault`]). Faults are matched in the order queued.
    pub fn inject_fault(&self, fault: Fault) {
        if fault.times == 0 {
            return;
        }
        let mut faults = self.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        faults.push(fault);
    }

    /// Refuse `path` (exact, or a prefix ending in `*`) to this app from now
    /// on, as Intercom refuses an app that lacks a permission (401
    /// `token_unauthorized`) or a workspace whose plan lacks the feature (403
    /// `api_plan_restricted`). Rules are checked in the order added.
    pub fn deny(&self, path: &str, denial: Denial) {
        let mut denied = self.shared.denied.lock().unwrap_or_else(|e| e.into_inner());
        denied.push((path.to_string(), denial));
    }

    /// Grant every permission again.
    pub fn allow_all(&self) {
        let mut denied = self.shared.denied.lock().unwrap_or_else(|e| e.into_inner());
        denied.clear();
    }

    /// Start a maintenance window of `for_ms` milliseconds from now (on
    /// the machine's monotonic clock), replacing any running one; `0` ends
    /// it. Until it ends, every authenticated request (after the request
    /// hook, before the rate limiter, which does not count it, and before
    /// [`deny`](Self::deny) rules and faults) is answered 503
    /// `service_unavailable` with Intercom's error body and, as
    /// `retry_after` says, a `Retry-After` of the time left rounded up to
    /// whole seconds: `Retry-After: 25`, or an HTTP date on the fake's
    /// clock (that of its `Date` header). No `X-RateLimit-*` headers; an
    /// open companies scroll is not ended (it may still expire while idle).
    /// Counted in [`FakeStats::maintenance_503s`].
    pub fn maintenance(&self, for_ms: u64, retry_after: RetryAfter) {
        self.shared.maintenance.start(for_ms, retry_after);
    }

    /// Drop every queued fault.
    pub fn clear_faults(&self) {
        let mut faults = self.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        faults.clear();
    }

    /// Call `hook` for every authenticated request (valid bearer token), once,
    /// before a maintenance window, rate limiting, faults and the endpoint
    /// compute the answer. It gets the request as recorded (status 0) and
    /// the workspace, write-locked, so it can change objects while a sync
    /// runs, e.g. update a contact when the 2nd contact search arrives.
    /// Replaces any previous hook.
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
        self.shared.store.scroll_state().expire();
    }

    /// Simulate another client holding the workspace's one companies scroll
    /// for `for_ms` milliseconds from now: until then a scroll request without
    /// `scroll_param` gets 400 `scroll_exists`. A scroll this client already
    /// has open keeps working.
    pub fn occupy_scroll(&self, for_ms: u64) {
        let until = now_ms().saturating_add(for_ms);
        self.shared.store.scroll_state().occupy_until(until);
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
