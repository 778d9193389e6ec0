//! What can go wrong on purpose, as plain data: a queued [`Fault`] with its
//! [`FaultKind`], and seeded random faults ([`Chaos`], [`ChaosKind`]). Their
//! text forms, used by the binary's `--fault` and `--chaos-kinds` flags, are
//! in `text`. How each one is answered lives in the server.

mod text;

/// A queued failure: of the requests matching `method` + `path` (counted
/// after auth and rate limiting), the first `after` are answered normally and
/// the next `times` get the fault, answered as its [`kind`](Fault::kind)
/// says (by default [`FaultKind::Status`]: `status`, `body` and `headers`);
/// then the fault is gone.
///
/// Faults are checked in the order queued. A request a fault skips (while
/// its `after` count runs down) may still be answered by a later fault; a
/// request a fault answers is not seen by the faults after it.
///
/// An injected 404 or 5xx answer on a `GET /companies/scroll` page whose
/// `scroll_param` is the active scroll's ends that scroll (like an expired
/// or failed scroll), so a client can start a new one at once.
///
/// ```
/// # use fake_intercom::{Fault, FaultKind};
/// // The 3rd and 4th conversation fetches fail with a 500.
/// let f = Fault {
///     method: "GET".into(),
///     path: "/conversations/*".into(),
///     status: 500,
///     after: 2,
///     times: 2,
///     ..Fault::default()
/// };
/// // The next contact search answer is cut after 100 bytes.
/// let g: Fault = "POST /contacts/search truncated:100".parse().unwrap();
/// assert_eq!(g.kind, FaultKind::Truncated { keep: 100 });
/// # let _ = f;
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fault {
    /// `"GET"`, `"POST"`, ... (any case); `""` or `"*"` for any method.
    pub method: String,
    /// Exact path, e.g. `"/admins"`, or a prefix ending in `*`, e.g.
    /// `"/conversations/*"` (`"*"` alone matches every path).
    pub path: String,
    /// The status to answer; 0 (or an invalid one) means the kind's default:
    /// 500 for `Status`, 200 for `Html`, `Truncated`, `Huge`, `Patch` and
    /// `Replace`, 400 for `Echo`. `Reset`, `Slow` and `Repeat` keep the real
    /// answer's status.
    pub status: u16,
    /// The JSON body of a `Status` fault; for `Html`, a JSON string replaces
    /// the default error page.
    pub body: serde_json::Value,
    /// Headers added to the answer, unchanged (they win over the
    /// `X-RateLimit-*` and `Date` headers the server computes), e.g.
    /// `Location`, `Retry-After`, an odd `X-RateLimit-Reset` or `Date`.
    pub headers: Vec<(String, String)>,
    /// How many matching requests get the fault.
    pub times: usize,
    /// How many matching requests to let through first.
    pub after: usize,
    /// How the fault is answered (default [`FaultKind::Status`]).
    pub kind: FaultKind,
}

impl Fault {
    /// Whether this fault applies to `method` `path`.
    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self.method.is_empty()
            || self.method == "*"
            || self.method.eq_ignore_ascii_case(method);
        method_ok && path_matches(&self.path, path)
    }
}

/// Whether `path` is `pattern`, or starts with it when it ends in `*`.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => pattern == path,
    }
}

/// Why a workspace refuses a path to this app (see
/// [`FakeIntercom::deny`](crate::FakeIntercom::deny)), as Intercom answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    /// 401 `token_unauthorized` "Not authorized to access resource": the app
    /// lacks the permission (e.g. "Read tickets"). The token itself is fine.
    TokenUnauthorized,
    /// 403 `api_plan_restricted` "Active subscription needed.": the
    /// workspace's plan doesn't include the feature.
    PlanRestricted,
}

/// The `Retry-After` header of a maintenance window's 503 answers (see
/// [`FakeIntercom::maintenance`](crate::FakeIntercom::maintenance)): the
/// time left of the window, rounded up to whole seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RetryAfter {
    /// Delay seconds, e.g. `Retry-After: 25`.
    #[default]
    Seconds,
    /// An IMF-fixdate on the fake's clock (the clock of its `Date` header,
    /// [`FakeConfig::clock_offset_secs`](crate::FakeConfig::clock_offset_secs)
    /// included), e.g. `Retry-After: Sun, 06 Nov 1994 08:49:37 GMT`: the
    /// window's end rounded up to the next whole second.
    HttpDate,
    /// No `Retry-After` header.
    None,
}

impl RetryAfter {
    /// The name, as `--maintenance-retry-after` takes it: `secs`, `date`
    /// or `none`.
    pub fn name(self) -> &'static str {
        match self {
            RetryAfter::Seconds => "secs",
            RetryAfter::HttpDate => "date",
            RetryAfter::None => "none",
        }
    }
}

/// How a [`Fault`] is answered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FaultKind {
    /// `status` (0 → 500) with the JSON `body` and `headers`: errors, 429
    /// bursts with odd rate-limit headers, redirects, crafted 200 bodies.
    #[default]
    Status,
    /// The real answer computed, then sent as a complete HTTP response
    /// (status 0 → 200, correct `Content-Length`) holding only its first
    /// `keep` bytes (0: half): JSON cut short.
    Truncated {
        /// Bytes of the real body kept (0: half of it).
        keep: usize,
    },
    /// `status` (0 → 200) with `Content-Type: text/html` and a load
    /// balancer's HTML error page.
    Html,
    /// The real answer's status and headers with its full `Content-Length`,
    /// then `after_bytes` bytes of the body (0: half) and the connection is
    /// aborted: the client sees a body error mid-way.
    Reset {
        /// Body bytes sent before the abort (0: half of the body).
        after_bytes: usize,
    },
    /// Wait `delay_ms` (without holding anything), then answer normally:
    /// long enough to exceed a client's timeout.
    Slow {
        /// The delay in milliseconds.
        delay_ms: u64,
    },
    /// `status` (0 → 400) with an Intercom error body whose message echoes
    /// every request header verbatim, `Authorization: Bearer <token>`
    /// included: a hostile server echoing secrets.
    Echo,
    /// `status` (0 → 200) with a body of `bytes` bytes once decompressed, a
    /// JSON object `{"type":"list","data":[],"pad":"AAAA…"}`, streamed
    /// without holding it in memory; with `gzip`, sent gzip-compressed with
    /// `Content-Encoding: gzip` (a gzip bomb).
    Huge {
        /// The size of the (decompressed) body.
        bytes: u64,
        /// Send it gzip-compressed.
        gzip: bool,
    },
    /// Exactly the body of the previous 2xx answer the server computed for
    /// the same method and path (query and request body ignored); answered
    /// normally if there is none. A search page 2 gets page 1 again, a
    /// page-number list an earlier page, the companies scroll the same
    /// companies.
    Repeat,
    /// The real answer parsed as JSON and changed by each `(JSON pointer,
    /// value)` in order, then sent whole (status 0 → 200, a correct
    /// `Content-Length`): `Some(v)` sets the value at the pointer (adding
    /// the last key to an existing object, `-` appending to an array),
    /// `None` removes the key or array element; a pointer that does not
    /// resolve is skipped, and a real answer that is not JSON is sent
    /// unchanged. Answers Intercom gets subtly wrong: `("/conversations",
    /// Some([]))` an empty search page that still has `pages.next`,
    /// `("/pages/next", None)` a walk that ends early, `("/total_count",
    /// Some(99999))` a count that lies, `("/data/0/role", Some(5))` a field
    /// of the wrong type.
    Patch(Vec<(String, Option<serde_json::Value>)>),
    /// The real answer with every occurrence of the bytes `find` replaced
    /// by `with`, sent whole (status 0 → 200, a correct `Content-Length`).
    /// Raw bytes, so an answer can hold what JSON cannot: a lone Latin-1
    /// byte (invalid UTF-8), a 100 000-deep `[[[…]]]`. An empty `find`
    /// changes nothing.
    Replace {
        /// The bytes to replace.
        find: Vec<u8>,
        /// What replaces each occurrence.
        with: Vec<u8>,
    },
}

impl FaultKind {
    /// The kind's name, as in [`FakeStats`](crate::FakeStats) and `--fault`.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Status => "status",
            FaultKind::Truncated { .. } => "truncated",
            FaultKind::Html => "html",
            FaultKind::Reset { .. } => "reset",
            FaultKind::Slow { .. } => "slow",
            FaultKind::Echo => "echo",
            FaultKind::Huge { gzip: false, .. } => "huge",
            FaultKind::Huge { gzip: true, .. } => "huge-gzip",
            FaultKind::Repeat => "repeat",
            FaultKind::Patch(_) => "patch",
            FaultKind::Replace { .. } => "replace",
        }
    }
}

/// Seeded random faults: a share `rate` of the authenticated requests (that
/// the rate limiter lets through and no queued [`Fault`] answers) get a
/// fault of one of `kinds`. Which requests, and which kind, follow from
/// `seed` and a per-request counter, so a run is reproducible up to the
/// order in which concurrent requests arrive.
///
/// A chaos fault models the network failure it names and never changes the
/// workspace: a `Reset` or `Truncated` companies-scroll page does not move
/// the scroll on, a `Slow` one moves it only if the client waits for it,
/// and a 5xx one ends the scroll (as Intercom's failed scrolls do).
#[derive(Clone, Debug, PartialEq)]
pub struct Chaos {
    /// Seed of the decisions.
    pub seed: u64,
    /// Share of requests that get a fault, from 0.0 (none) to 1.0 (all).
    pub rate: f64,
    /// The kinds to choose from, evenly; empty means all of them.
    pub kinds: Vec<ChaosKind>,
    /// The delay of a [`ChaosKind::Slow`] answer in milliseconds (default 2000).
    pub slow_ms: u64,
}

impl Default for Chaos {
    fn default() -> Chaos {
        Chaos {
            seed: 0,
            rate: 0.0,
            kinds: ChaosKind::ALL.to_vec(),
            slow_ms: 2_000,
        }
    }
}

/// One kind of random fault (see [`Chaos`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChaosKind {
    /// A 429 `rate_limit_exceeded` with `X-RateLimit-Remaining: 0` and a
    /// reset 1–2 s ahead; half of the time the next 1–2 requests for the
    /// same path get one too.
    RateLimitBurst,
    /// A 500, 502 or 503 with Intercom's error body, or an empty body for
    /// some 502 and 503 answers.
    ServerError,
    /// The real answer, aborted mid-body ([`FaultKind::Reset`], half).
    Reset,
    /// The real answer cut short ([`FaultKind::Truncated`], half).
    Truncated,
    /// The real answer after [`Chaos::slow_ms`].
    Slow,
    /// A load balancer's HTML page with status 200.
    Html200,
}

impl ChaosKind {
    /// Every kind, in a fixed order.
    pub const ALL: [ChaosKind; 6] = [
        ChaosKind::RateLimitBurst,
        ChaosKind::ServerError,
        ChaosKind::Reset,
        ChaosKind::Truncated,
        ChaosKind::Slow,
        ChaosKind::Html200,
    ];

    /// The kind's name, as in [`FakeStats`](crate::FakeStats) and `--chaos-kinds`.
    pub fn name(self) -> &'static str {
        match self {
            ChaosKind::RateLimitBurst => "rate-limit-burst",
            ChaosKind::ServerError => "server-error",
            ChaosKind::Reset => "reset",
            ChaosKind::Truncated => "truncated",
            ChaosKind::Slow => "slow",
            ChaosKind::Html200 => "html200",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_matching() {
        let f = Fault {
            method: "get".into(),
            path: "/conversations/*".into(),
            ..Fault::default()
        };
        assert!(f.matches("GET", "/conversations/12"));
        assert!(!f.matches("POST", "/conversations/12"));
        assert!(!f.matches("GET", "/conversation"));
        let any = Fault {
            path: "*".into(),
            ..Fault::default()
        };
        assert!(any.matches("DELETE", "/x"));
        assert_eq!(Fault::default().kind, FaultKind::Status);
    }
}
