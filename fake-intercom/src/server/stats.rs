//! Counting what happened: the live [`Counters`] the gate updates, and
//! [`FakeStats`], a snapshot of them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// What the server did so far (see [`FakeIntercom::stats`](crate::FakeIntercom::stats)).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FakeStats {
    /// Requests received, rejected ones included.
    pub requests: u64,
    /// Requests answered 401 (no or a wrong bearer token).
    pub unauthorized: u64,
    /// Requests the rate limiter answered 429 (injected 429s not included).
    pub limiter_rejections: u64,
    /// Of the `limiter_rejections`, those the limiter would have let
    /// through without the other clients'
    /// ([`FakeConfig::other_clients_per_window`](crate::FakeConfig::other_clients_per_window))
    /// requests: our own in the window were within the enforced limit.
    pub other_clients_rejections: u64,
    /// Queued [`Fault`](crate::Fault)s answered, by
    /// [`FaultKind::name`](crate::FaultKind::name).
    pub faults: BTreeMap<String, u64>,
    /// Chaos faults injected, by [`ChaosKind::name`](crate::ChaosKind::name)
    /// (the follow-up 429s of a burst included).
    pub chaos: BTreeMap<String, u64>,
    /// Requests answered 503 by a maintenance window (see
    /// [`FakeIntercom::maintenance`](crate::FakeIntercom::maintenance)).
    pub maintenance_503s: u64,
    /// Requests in flight now: received, and their answer not yet sent whole.
    pub in_flight: u64,
    /// The most requests in flight at once so far.
    pub max_in_flight: u64,
    /// Reporting export jobs enqueued (`POST /export/reporting_data/enqueue`
    /// answered 200).
    pub report_jobs_enqueued: u64,
    /// Status polls of existing reporting export jobs
    /// (`GET /export/reporting_data/{job}` answered 200).
    pub report_job_polls: u64,
    /// Reporting export files downloaded (`GET
    /// /download/reporting_data/{job}` answered 200).
    pub report_downloads: u64,
    /// Enqueues answered 429 because
    /// [`REPORT_PENDING_JOBS_LIMIT`](crate::reporting::REPORT_PENDING_JOBS_LIMIT)
    /// jobs were pending.
    pub report_pending_limit_429s: u64,
}

impl FakeStats {
    /// Every injected fault: queued, chaos and maintenance 503s.
    pub fn injected(&self) -> u64 {
        let faults: u64 = self.faults.values().chain(self.chaos.values()).sum();
        faults + self.maintenance_503s
    }
}

/// The live counters behind [`FakeStats`].
#[derive(Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    unauthorized: AtomicU64,
    limiter_rejections: AtomicU64,
    other_clients_rejections: AtomicU64,
    maintenance_503s: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    faults: Mutex<BTreeMap<&'static str, u64>>,
    chaos: Mutex<BTreeMap<&'static str, u64>>,
}

/// One request in flight; dropping it ends it.
pub(crate) struct InFlight(Arc<Counters>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Counters {
    /// Count a request arriving; it is in flight until the guard is dropped.
    pub(crate) fn arrive(self: &Arc<Self>) -> InFlight {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(self.clone())
    }

    pub(crate) fn unauthorized(&self) {
        self.unauthorized.fetch_add(1, Ordering::SeqCst);
    }

    /// Count a 429 of the rate limiter, `by_other_clients` or not.
    pub(crate) fn limiter_rejection(&self, by_other_clients: bool) {
        self.limiter_rejections.fetch_add(1, Ordering::SeqCst);
        if by_other_clients {
            self.other_clients_rejections.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub(crate) fn maintenance_503(&self) {
        self.maintenance_503s.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn fault(&self, kind: &'static str) {
        bump(&self.faults, kind);
    }

    pub(crate) fn chaos(&self, kind: &'static str) {
        bump(&self.chaos, kind);
    }

    pub(crate) fn snapshot(&self) -> FakeStats {
        let names = |m: &Mutex<BTreeMap<&'static str, u64>>| {
            let m = m.lock().unwrap_or_else(|e| e.into_inner());
            m.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        FakeStats {
            requests: self.requests.load(Ordering::SeqCst),
            unauthorized: self.unauthorized.load(Ordering::SeqCst),
            limiter_rejections: self.limiter_rejections.load(Ordering::SeqCst),
            other_clients_rejections: self.other_clients_rejections.load(Ordering::SeqCst),
            faults: names(&self.faults),
            chaos: names(&self.chaos),
            maintenance_503s: self.maintenance_503s.load(Ordering::SeqCst),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            max_in_flight: self.max_in_flight.load(Ordering::SeqCst),
            ..FakeStats::default()
        }
    }
}

fn bump(map: &Mutex<BTreeMap<&'static str, u64>>, kind: &'static str) {
    let mut m = map.lock().unwrap_or_else(|e| e.into_inner());
    *m.entry(kind).or_insert(0) += 1;
}
