//! What can go wrong on purpose, as plain data: a queued [`Fault`] with its
//! [`FaultKind`], and seeded random faults ([`Chaos`], [`ChaosKind`]). Also
//! their text forms, used by the binary's `--fault` and `--chaos-kinds` flags.
//! How each one is answered lives in the server.

use std::fmt;
use std::str::FromStr;

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
    /// 500 for `Status`, 200 for `Html`, `Truncated` and `Huge`, 400 for
    /// `Echo`. `Reset`, `Slow` and `Repeat` keep the real answer's status.
    pub status: u16,
    /// The JSON body of a `Status` fault; for `Html`, a JSON string replaces
    /// the default error page.
    pub body: serde_json::Value,
    /// Headers added to the answer, unchanged (they win over the
    /// `X-RateLimit-*` headers the server computes), e.g. `Location`,
    /// `Retry-After` or an odd `X-RateLimit-Reset`.
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
        let path_ok = match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => self.path == path,
        };
        method_ok && path_ok
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
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Truncated { keep } => write!(f, "truncated:{keep}"),
            FaultKind::Reset { after_bytes } => write!(f, "reset:{after_bytes}"),
            FaultKind::Slow { delay_ms } => write!(f, "slow:{delay_ms}"),
            FaultKind::Huge { bytes, .. } => write!(f, "{}:{bytes}", self.name()),
            other => f.write_str(other.name()),
        }
    }
}

fn number<T: FromStr>(what: &str, text: Option<&str>) -> Result<T, String> {
    let text = text.ok_or_else(|| format!("{what} needs a number, e.g. {what}:1000"))?;
    text.parse()
        .map_err(|_| format!("{what}: '{text}' is not a number"))
}

/// `status`, `truncated[:KEEP]`, `html`, `reset[:AFTER_BYTES]`, `slow:MS`,
/// `echo`, `huge:BYTES`, `huge-gzip:BYTES` or `repeat`.
impl FromStr for FaultKind {
    type Err = String;

    fn from_str(s: &str) -> Result<FaultKind, String> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let kind = match name.to_ascii_lowercase().as_str() {
            "status" => FaultKind::Status,
            "truncated" => FaultKind::Truncated {
                keep: arg.map_or(Ok(0), |a| number(name, Some(a)))?,
            },
            "html" => FaultKind::Html,
            "reset" => FaultKind::Reset {
                after_bytes: arg.map_or(Ok(0), |a| number(name, Some(a)))?,
            },
            "slow" => FaultKind::Slow {
                delay_ms: number(name, arg)?,
            },
            "echo" => FaultKind::Echo,
            "huge" => FaultKind::Huge {
                bytes: number(name, arg)?,
                gzip: false,
            },
            "huge-gzip" => FaultKind::Huge {
                bytes: number(name, arg)?,
                gzip: true,
            },
            "repeat" => FaultKind::Repeat,
            other => {
                return Err(format!(
                    "unknown fault kind '{other}'; one of status, truncated[:KEEP], html, \
                     reset[:AFTER_BYTES], slow:MS, echo, huge:BYTES, huge-gzip:BYTES, repeat"
                ))
            }
        };
        let takes_arg = matches!(
            kind,
            FaultKind::Truncated { .. }
                | FaultKind::Reset { .. }
                | FaultKind::Slow { .. }
                | FaultKind::Huge { .. }
        );
        if arg.is_some() && !takes_arg {
            return Err(format!("fault kind '{name}' takes no argument"));
        }
        Ok(kind)
    }
}

/// `METHOD PATH KIND[:arg] [times=N] [after=N] [status=N] [body=JSON]
/// [header=NAME:VALUE]...` (words split at whitespace, so the JSON and the
/// header value hold none), e.g. `GET /companies/scroll reset:100 after=2`
/// or `GET /admins status status=302 header=Location:http://169.254.169.254/`.
/// `times` defaults to 1.
impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Fault, String> {
        let mut words = s.split_whitespace();
        let (Some(method), Some(path), Some(kind)) = (words.next(), words.next(), words.next())
        else {
            return Err(format!(
                "fault '{s}': expected METHOD PATH KIND[:arg] [times=N] [after=N] [status=N] [body=JSON] [header=NAME:VALUE]"
            ));
        };
        let mut fault = Fault {
            method: method.to_string(),
            path: path.to_string(),
            kind: kind.parse()?,
            times: 1,
            ..Fault::default()
        };
        for word in words {
            let Some((key, value)) = word.split_once('=') else {
                return Err(format!("fault '{s}': '{word}' is not KEY=VALUE"));
            };
            match key {
                "times" => fault.times = number(key, Some(value))?,
                "after" => fault.after = number(key, Some(value))?,
                "status" => fault.status = number(key, Some(value))?,
                "body" => {
                    fault.body = serde_json::from_str(value)
                        .map_err(|e| format!("body '{value}' is not JSON: {e}"))?
                }
                "header" => {
                    let (name, v) = value
                        .split_once(':')
                        .ok_or_else(|| format!("header '{value}' is not NAME:VALUE"))?;
                    fault.headers.push((name.to_string(), v.to_string()));
                }
                other => return Err(format!("fault '{s}': unknown setting '{other}'")),
            }
        }
        Ok(fault)
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

impl fmt::Display for ChaosKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name of [`ChaosKind::name`] (`_` may stand for `-`, any case).
impl FromStr for ChaosKind {
    type Err = String;

    fn from_str(s: &str) -> Result<ChaosKind, String> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        ChaosKind::ALL
            .into_iter()
            .find(|k| k.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = ChaosKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown chaos kind '{s}'; one of {}", names.join(", "))
            })
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

    #[test]
    fn fault_kinds_parse_and_print() {
        for (text, kind) in [
            ("status", FaultKind::Status),
            ("truncated", FaultKind::Truncated { keep: 0 }),
            ("truncated:10", FaultKind::Truncated { keep: 10 }),
            ("html", FaultKind::Html),
            ("reset:5", FaultKind::Reset { after_bytes: 5 }),
            ("slow:250", FaultKind::Slow { delay_ms: 250 }),
            ("echo", FaultKind::Echo),
            (
                "huge:1024",
                FaultKind::Huge {
                    bytes: 1024,
                    gzip: false,
                },
            ),
            (
                "huge-gzip:2147483648",
                FaultKind::Huge {
                    bytes: 2_147_483_648,
                    gzip: true,
                },
            ),
            ("repeat", FaultKind::Repeat),
        ] {
            assert_eq!(text.parse::<FaultKind>(), Ok(kind.clone()), "{text}");
            assert_eq!(kind.to_string().parse::<FaultKind>(), Ok(kind));
        }
        for bad in ["slow", "huge:x", "echo:1", "boom", "reset:-1"] {
            assert!(bad.parse::<FaultKind>().is_err(), "{bad}");
        }
    }

    #[test]
    fn fault_lines_parse() {
        let f: Fault = "GET /admins status status=302 times=2 after=1 \
                        header=Location:http://169.254.169.254/latest/meta-data/"
            .parse()
            .unwrap();
        assert_eq!(
            f,
            Fault {
                method: "GET".into(),
                path: "/admins".into(),
                status: 302,
                times: 2,
                after: 1,
                headers: vec![(
                    "Location".into(),
                    "http://169.254.169.254/latest/meta-data/".into()
                )],
                ..Fault::default()
            }
        );
        let g: Fault = "POST /contacts/search repeat".parse().unwrap();
        assert_eq!((g.times, g.kind), (1, FaultKind::Repeat));
        let h: Fault = r#"GET /tags status status=200 body={"type":"list","data":{}}"#
            .parse()
            .unwrap();
        assert_eq!(h.body["data"], serde_json::json!({}));
        assert!("GET /tags status body={".parse::<Fault>().is_err());
        for bad in [
            "GET /admins",
            "GET /admins status times",
            "GET /x echo what=1",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
    }

    #[test]
    fn chaos_kinds_parse() {
        for k in ChaosKind::ALL {
            assert_eq!(k.name().parse::<ChaosKind>(), Ok(k));
        }
        assert_eq!(
            "Rate_Limit_Burst".parse::<ChaosKind>(),
            Ok(ChaosKind::RateLimitBurst)
        );
        assert!("nope".parse::<ChaosKind>().is_err());
        assert_eq!(Chaos::default().kinds.len(), 6);
    }
}
