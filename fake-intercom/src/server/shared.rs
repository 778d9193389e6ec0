//! What the gate shares between requests ([`Shared`]): the endpoints'
//! [`Store`], the request log, queued faults, the rate limiter, the request
//! hook, counters, the answers remembered for `Repeat`, chaos, and the
//! maintenance window.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::http::StatusCode;

use crate::api::query::QueryParams;
use crate::api::ratelimit::RateLimiter;
use crate::config::FakeConfig;
use crate::endpoints::context::Store;
use crate::endpoints::search;
use crate::faults::{path_matches, Denial, Fault};
use crate::server::chaos::ChaosState;
use crate::server::log::{RecordedRequest, RequestLog};
use crate::server::maintenance::Maintenance;
use crate::server::memory::AnswerMemory;
use crate::server::stats::Counters;
use crate::workspace::Workspace;

/// A request hook (see [`FakeIntercom::set_request_hook`](crate::FakeIntercom::set_request_hook)).
pub(crate) type RequestHook = dyn Fn(&RecordedRequest, &mut Workspace) + Send + Sync + 'static;

/// Everything the gate shares between requests.
pub(crate) struct Shared {
    pub(crate) store: Arc<Store>,
    pub(crate) log: RequestLog,
    pub(crate) faults: Mutex<Vec<Fault>>,
    /// Paths this app may not read, and how they are refused.
    pub(crate) denied: Mutex<Vec<(String, Denial)>>,
    pub(crate) limiter: RateLimiter,
    pub(crate) hook: RwLock<Option<Arc<RequestHook>>>,
    pub(crate) stats: Arc<Counters>,
    pub(crate) memory: AnswerMemory,
    pub(crate) chaos: Option<ChaosState>,
    pub(crate) maintenance: Maintenance,
}

impl Shared {
    /// Generate the workspace of `config` and the server state around it
    /// (with the search cache warm).
    pub(crate) fn new(config: FakeConfig, addr: SocketAddr) -> Shared {
        let store = Arc::new(Store::new(config, addr));
        search::warm(&store);
        let maintenance = Maintenance::default();
        maintenance.start(
            store.config.maintenance_ms,
            store.config.maintenance_retry_after,
        );
        let limiter = RateLimiter::new(store.config.requests_per_minute, store.config.window_ms);
        limiter.set_other_clients(store.config.other_clients_per_window);
        limiter.set_reported_limit(store.config.reported_limit_per_window);
        Shared {
            maintenance,
            limiter,
            chaos: store.config.chaos.clone().map(ChaosState::new),
            store,
            log: RequestLog::default(),
            faults: Mutex::new(Vec::new()),
            denied: Mutex::new(Vec::new()),
            hook: RwLock::new(None),
            stats: Arc::new(Counters::default()),
            memory: AnswerMemory::default(),
        }
    }

    pub(crate) fn config(&self) -> &FakeConfig {
        &self.store.config
    }

    /// Run the request hook, if any, with the workspace write-locked.
    pub(crate) fn run_hook(&self, req: &RecordedRequest) {
        let hook = self.hook.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(hook) = hook {
            self.store.write_ws(|ws| hook(req, ws));
        }
    }

    /// How `path` is refused, if it is denied.
    pub(crate) fn denial(&self, path: &str) -> Option<Denial> {
        let denied = self.denied.lock().unwrap_or_else(|e| e.into_inner());
        denied
            .iter()
            .find(|(pattern, _)| path_matches(pattern, path))
            .map(|(_, d)| *d)
    }

    /// Count this request against the queued faults and take one use of
    /// the first one that applies to it (see [`Fault`]).
    pub(crate) fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
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

    /// An injected 404 or 5xx answer to a page of the active companies
    /// scroll ends that scroll, as an expired or failed scroll does at
    /// Intercom.
    pub(crate) fn injected_answer_sent(&self, status: StatusCode, path: &str, raw_query: &str) {
        let ends = status == StatusCode::NOT_FOUND || status.is_server_error();
        if path != "/companies/scroll" || !ends {
            return;
        }
        if let Some(param) = QueryParams::parse(raw_query).get("scroll_param") {
            self.store.scroll_state().abort(param);
        }
    }
}
