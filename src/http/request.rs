//! One API call before it is sent ([`ApiRequest`]), what its answer must hold to be
//! used ([`Expect`]), and how ids from answers go into paths ([`path_segment`]).

use reqwest::Method;
use serde_json::Value;

/// The longest [`ApiRequest::describe`], in characters.
pub const DESCRIBE_CHARS: usize = 200;

/// The API version sent unless a stream pins another.
pub const DEFAULT_VERSION: &str = "2.11";

/// What a successful answer must hold to be used. An answer without it is a failed
/// attempt (retried), not an empty page.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// A JSON object.
    Object,
    /// A JSON object with a list (or `null`, Intercom's empty list on some endpoints)
    /// at this key path.
    List(&'static [&'static str]),
    /// A JSON object this row hook accepts.
    Rows(fn(&Value) -> std::result::Result<Vec<Value>, String>),
}

impl Expect {
    /// Why `body` doesn't meet the expectation, if it doesn't.
    pub fn check(&self, body: &Value) -> std::result::Result<(), String> {
        if !body.is_object() {
            return Err(format!(
                "the answer is {}, not a JSON object",
                crate::config::json_kind(body)
            ));
        }
        match self {
            Expect::Object => Ok(()),
            Expect::List(path) => {
                let mut v = body;
                for key in path.iter() {
                    v = v
                        .get(key)
                        .ok_or_else(|| format!("the answer has no `{}` list", path.join(".")))?;
                }
                match v {
                    Value::Array(_) | Value::Null => Ok(()),
                    other => Err(format!(
                        "`{}` should be a list, got {}",
                        path.join("."),
                        crate::config::json_kind(other)
                    )),
                }
            }
            Expect::Rows(hook) => hook(body).map(|_| ()),
        }
    }
}

/// One API call, before it is sent.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    /// Path (e.g. `/admins`), optionally with a query string (from a `pages.next` link).
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// `Intercom-Version` for this call.
    pub version: &'static str,
    /// At most this many retries of 5xx answers, bad bodies and transport errors, below
    /// the client's own limit (`None`: the client's). 0 where the caller must react to
    /// them itself (a companies scroll that fails mid-way has to restart, not repeat a
    /// call); 1 where the answer is optional (discover's reporting datasets).
    pub error_retries: Option<u32>,
    /// What the answer must hold.
    pub expect: Expect,
    /// The stream this request reads for (named when it waits on the rate limit).
    pub stream: Option<&'static str>,
    /// `Accept` instead of the client's `application/json` (a file download).
    pub accept: Option<&'static str>,
}

impl ApiRequest {
    pub fn get(path: impl Into<String>) -> ApiRequest {
        ApiRequest {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            version: DEFAULT_VERSION,
            error_retries: None,
            expect: Expect::Object,
            stream: None,
            accept: None,
        }
    }

    pub fn post(path: impl Into<String>, body: Value) -> ApiRequest {
        ApiRequest {
            method: Method::POST,
            body: Some(body),
            ..ApiRequest::get(path)
        }
    }

    pub fn no_error_retries(self) -> ApiRequest {
        self.error_retries(0)
    }

    /// At most `n` retries of errors (never more than the client's limit).
    pub fn error_retries(mut self, n: u32) -> ApiRequest {
        self.error_retries = Some(n);
        self
    }

    pub fn query(mut self, k: &str, v: impl Into<String>) -> ApiRequest {
        self.query.push((k.to_string(), v.into()));
        self
    }

    pub fn version(mut self, v: &'static str) -> ApiRequest {
        self.version = v;
        self
    }

    pub fn expect(mut self, expect: Expect) -> ApiRequest {
        self.expect = expect;
        self
    }

    pub fn accept(mut self, media_type: &'static str) -> ApiRequest {
        self.accept = Some(media_type);
        self
    }

    pub fn for_stream(mut self, stream: &'static str) -> ApiRequest {
        self.stream = Some(stream);
        self
    }

    /// `GET /path?query` for messages (no host, no token): at most
    /// [`DESCRIBE_CHARS`] characters, as a path from a server's link may be any length.
    pub fn describe(&self) -> String {
        crate::redact::server_text(&self.identity(), DESCRIBE_CHARS)
    }

    /// `GET /path?query` whole, to tell requests apart.
    pub fn identity(&self) -> String {
        let mut s = format!("{} {}", self.method, self.path);
        if !self.query.is_empty() {
            s.push(if self.path.contains('?') { '&' } else { '?' });
            let q: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.push_str(&q.join("&"));
        }
        s
    }
}

/// An id from Intercom as one path segment: percent-encoded so that nothing in it
/// (a `/`, `?`, `#`, `%`) can change the path. Ids that would still move the path
/// (`.`, `..`, empty) are refused.
pub fn path_segment(id: &str) -> std::result::Result<String, String> {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');
    if id.is_empty() || id.chars().all(|c| c == '.') {
        return Err(format!(
            "the id {:?} can't be used in a request path",
            crate::redact::server_text(id, 40)
        ));
    }
    Ok(utf8_percent_encode(id, SEGMENT).to_string())
}
