//! The request log: every request received (rejected ones too), in arrival
//! order, with the status it was answered.

use std::sync::Mutex;

/// One request the server received (including rejected ones).
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Raw query string, `""` if none.
    pub query: String,
    /// The `Intercom-Version` header.
    pub intercom_version: Option<String>,
    /// The `Authorization` header, verbatim.
    pub authorization: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The `Accept` header.
    pub accept: Option<String>,
    /// The JSON body (a JSON string holding the text if it was not JSON).
    pub body: Option<serde_json::Value>,
    /// The status answered (0 while the request is still in progress).
    pub status: u16,
    /// When it arrived: milliseconds since the epoch on the wall clock the rate
    /// limiter's windows are aligned to.
    pub at_ms: u64,
}

/// `(sequence number, request)` entries: the sequence lets a finished
/// request update its own entry even after [`RequestLog::clear`].
#[derive(Default)]
pub(crate) struct RequestLog {
    entries: Mutex<(u64, Vec<(u64, RecordedRequest)>)>,
}

impl RequestLog {
    /// Log a request; returns its sequence number.
    pub(crate) fn record(&self, req: RecordedRequest) -> u64 {
        let mut log = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        log.0 += 1;
        let seq = log.0;
        log.1.push((seq, req));
        seq
    }

    /// Note the status the request `seq` was answered.
    pub(crate) fn set_status(&self, seq: u64, status: u16) {
        let mut log = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(i) = log.1.binary_search_by_key(&seq, |(s, _)| *s) {
            log.1[i].1.status = status;
        }
    }

    /// Every request logged since the last [`clear`](Self::clear).
    pub(crate) fn list(&self) -> Vec<RecordedRequest> {
        let log = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        log.1.iter().map(|(_, r)| r.clone()).collect()
    }

    pub(crate) fn clear(&self) {
        let mut log = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        log.1.clear();
    }
}
