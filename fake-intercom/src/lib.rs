//! `fake-intercom`: a deterministic fake of Intercom's REST API (version 2.11
//! object shapes) for testing and benchmarking the `source-intercom` connector.
//!
//! This module owns the public API: [`FakeConfig`], the running server handle
//! [`FakeIntercom`], the request log entries [`RecordedRequest`] and injected
//! [`Fault`]s. The workspace data lives in [`generate`], HTTP behaviour in
//! `server`.
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
pub mod pagination;
pub mod query;
pub mod ratelimit;
pub mod rng;
mod server;
mod words;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

pub use generate::{Workspace, GENERATION_END, GENERATION_START};
pub use server::{
    version_at_least, ARTICLES_PER_PAGE, COLLECTIONS_PER_PAGE, HELP_CENTERS_PER_PAGE,
};

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

/// A queued failure: the next `times` requests matching `method` + `path`
/// (after auth and rate limiting) get `status`, `body` and `headers`.
#[derive(Clone, Debug)]
pub struct Fault {
    /// `"GET"`, `"POST"`, ... or `"*"` for any method.
    pub method: String,
    /// Exact path, e.g. `"/admins"`.
    pub path: String,
    pub status: u16,
    pub body: serde_json::Value,
    pub headers: Vec<(String, String)>,
    pub times: usize,
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

    /// The configuration the server was started with.
    pub fn config(&self) -> FakeConfig {
        self.shared.config.clone()
    }

    /// Run `f` with mutable access to the workspace.
    pub fn with_workspace<R>(&self, f: impl FnOnce(&mut Workspace) -> R) -> R {
        let mut ws = self
            .shared
            .workspace
            .write()
            .unwrap_or_else(|e| e.into_inner());
        f(&mut ws)
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
