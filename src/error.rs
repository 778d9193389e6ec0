//! The connector's one error type. Each variant knows its Airbyte `failure_type`,
//! whether retrying the same request could help, and renders a message that says
//! what to fix. No variant ever holds the access token.

use std::path::PathBuf;

use serde::Deserialize;

use crate::protocol::FailureType;
use crate::status::retriable_status;

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// Intercom's error body: `{"type":"error.list","errors":[{"code":..,"message":..}]}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ApiErrorBody {
    #[serde(default)]
    pub(crate) errors: Vec<ApiErrorItem>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ApiErrorItem {
    #[serde(default)]
    pub(crate) code: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
}

impl ApiErrorBody {
    /// Parse an error body; anything that isn't Intercom's envelope gives an empty body.
    pub(crate) fn parse(bytes: &[u8]) -> ApiErrorBody {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    /// The first error's code, if any.
    pub(crate) fn code(&self) -> Option<&str> {
        self.errors.first().and_then(|e| e.code.as_deref())
    }

    /// "code: message; code: message", or "" when the body said nothing. Server text:
    /// cleaned, bounded and with credentials masked ([`crate::redact::server_text`]).
    pub(crate) fn summary(&self) -> String {
        let joined = self
            .errors
            .iter()
            .take(5)
            .map(|e| match (&e.code, &e.message) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.clone(),
                (None, Some(m)) => m.clone(),
                (None, None) => String::new(),
            })
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        crate::redact::server_text(&joined, 300)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file named on the command line could not be read.
    #[error("could not read the {what} file {}: {source}", path.display())]
    InputFile {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file named on the command line is not what the protocol expects.
    #[error("the {what} file {} is not valid: {message}", path.display())]
    InputInvalid {
        what: &'static str,
        path: PathBuf,
        message: String,
    },

    /// The config parsed but a field is wrong.
    #[error("invalid config: {0}")]
    Config(String),

    /// The configured catalog asks for something this connector doesn't have.
    #[error("invalid catalog: {0}")]
    Catalog(String),

    /// The state passed in can't be used.
    #[error("invalid state: {0}")]
    State(String),

    /// Intercom answered 401 `unauthorized` (or a 401 without `token_unauthorized`):
    /// the token itself is invalid or revoked, so every stream would fail.
    #[error("Intercom rejected the access token (HTTP 401 on {endpoint}{}). Check `access_token`, and that `region` matches the workspace's region (the token works only on its own region's API host).", detail_suffix(detail))]
    Unauthorized { endpoint: String, detail: String },

    /// Intercom refused one endpoint to a valid token: 401 `token_unauthorized` (the
    /// token's app lacks a permission) or 403 (a permission, or the workspace's plan:
    /// `api_plan_restricted`). It fails the streams that read the endpoint, not the sync.
    #[error("Intercom refused {endpoint} (HTTP {status}{}): {}", detail_suffix(detail), permission_advice(*needs))]
    NotPermitted {
        endpoint: String,
        status: u16,
        detail: String,
        /// The stream that needs the endpoint, and the permission it needs, once known.
        needs: Option<(&'static str, &'static str)>,
    },

    /// Any other non-success answer from Intercom.
    #[error(
        "Intercom answered HTTP {status} on {endpoint}{}",
        detail_suffix(detail)
    )]
    Api {
        endpoint: String,
        status: u16,
        code: Option<String>,
        detail: String,
    },

    /// Intercom (or something in between) answered with a redirect, which is not followed:
    /// a redirect could send the token to another host.
    #[error("{endpoint} answered HTTP {status}, a redirect{}; redirects are not followed. Check `region` and `base_url`: the connector must talk to the Intercom API host directly (or a proxy that forwards, not redirects).", location_suffix(location))]
    Redirect {
        endpoint: String,
        status: u16,
        /// Scheme and host of the `Location`, if any.
        location: Option<String>,
    },

    /// The request never got a whole HTTP answer (DNS, connect, TLS, timeout, reset,
    /// a body that broke off).
    #[error("could not reach Intercom at {endpoint}: {message}")]
    Transport { endpoint: String, message: String },

    /// Intercom answered 2xx with a body this connector can't use.
    #[error("unexpected response from Intercom on {endpoint}: {message}")]
    Decode { endpoint: String, message: String },

    /// An answer was larger than the configured cap.
    #[error("the answer to {endpoint} is larger than {limit_mib} MiB (after decompression), {}", body_cap_advice(*tree))]
    BodyTooLarge {
        endpoint: String,
        limit_mib: u64,
        /// Whether the answer is one decoded whole into a JSON tree (its cap is fixed).
        tree: bool,
    },

    /// A wait (for the rate limit, a `Retry-After`, a backoff) would take a request past
    /// its time budget, so it was not started.
    #[error("{}{endpoint} would have to wait {wait_secs:.1} s more ({why}), past the {budget_secs} s one request may take in all (SOURCE_INTERCOM_MAX_REQUEST_SECS); the stream stops here without saving its position past what was read, so the next sync goes on from there", last_suffix(last))]
    OverBudget {
        endpoint: String,
        why: String,
        wait_secs: f64,
        budget_secs: u64,
        /// The last failed attempt's error, if any.
        last: Option<Box<Error>>,
    },

    /// Pagination that would skip or repeat records: a repeated `next` link or cursor,
    /// a page past the last, a scroll page with nothing new, more pages than can exist.
    #[error("pagination of {endpoint} went wrong: {message}. The stream stops here without saving its position, so the next sync reads it again")]
    Pagination { endpoint: String, message: String },

    /// Too many children of a parent page answered 404 for it to be deletions.
    #[error("{missing} of {asked} requests for {what} answered 404 (not found). A few deletions during a sync are normal; this many means the requests go to the wrong place. Check `region` (the token's workspace must be on that region's host), any proxy in `base_url`, and that the token belongs to this workspace")]
    ChildrenMissing {
        what: String,
        missing: usize,
        asked: usize,
    },

    /// A request kept failing with retriable errors until its retry budget was spent.
    #[error("{source} (gave up after {attempts} attempts in {elapsed_secs} s)")]
    GaveUp {
        attempts: u32,
        elapsed_secs: u64,
        #[source]
        source: Box<Error>,
    },

    /// Another client held the workspace's one companies scroll for longer than the
    /// connector waits.
    #[error("{endpoint}: scroll_exists: another client holds this workspace's one companies scroll, and it was still open after {waited_secs:.1} s of waiting. Stop other tools that export companies from this workspace (or wait a few minutes), then retry")]
    ScrollBusy { endpoint: String, waited_secs: f64 },

    /// A reporting export that could not be had: a job that failed twice, a job or the
    /// pending-jobs limit that outlasted the wait, a file that can't be read, a dataset
    /// gone. The message names the stream, the job and the window.
    #[error("{message}")]
    Report {
        message: String,
        failure_type: FailureType,
    },

    /// Another stream's error, reported again for a stream that shared its read.
    #[error("{message}")]
    Relayed {
        message: String,
        failure_type: FailureType,
    },

    /// The process was asked to stop (SIGTERM, SIGINT).
    #[error("the sync was interrupted by {signal} before it finished; streams not marked COMPLETE resume from their last saved state next time")]
    Interrupted { signal: &'static str },

    /// Writing to stdout failed (other than a broken pipe, which ends the run quietly).
    #[error("could not write to stdout: {0}")]
    Output(std::io::Error),

    /// The reader of stdout went away.
    #[error("stdout was closed by the reader")]
    BrokenPipe,

    /// A bug or an impossible state in the connector itself.
    #[error("internal error: {0}")]
    Internal(String),
}

fn body_cap_advice(tree: bool) -> &'static str {
    if tree {
        "the limit for answers read whole (Intercom's are a few tens of KB): the answer is not what this endpoint sends"
    } else {
        "the limit set by SOURCE_INTERCOM_MAX_BODY_MB within SOURCE_INTERCOM_MEMORY_MB (one answer may use about half of that); raise them if this workspace really has objects this large"
    }
}

fn last_suffix(last: &Option<Box<Error>>) -> String {
    match last {
        Some(e) => format!("{e}; "),
        None => String::new(),
    }
}

fn location_suffix(location: &Option<String>) -> String {
    match location {
        Some(l) => format!(" to {l}"),
        None => String::new(),
    }
}

fn permission_advice(needs: Option<(&'static str, &'static str)>) -> String {
    match needs {
        Some((stream, permission)) => format!(
            "stream `{stream}` needs the \"{permission}\" permission, which the access token's app does not have (or, for `api_plan_restricted`, the workspace's plan does not include this data). Grant it in the Intercom Developer Hub (your app > Configure > Authentication, then re-authorize the app), or deselect `{stream}`; the other streams are read as usual"
        ),
        None => "the access token's app lacks a permission this stream needs: grant it in the Intercom Developer Hub (your app > Configure > Authentication), or deselect the stream".to_string(),
    }
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl Error {
    /// The Airbyte failure type of this error.
    pub(crate) fn failure_type(&self) -> FailureType {
        match self {
            Error::InputFile { .. }
            | Error::InputInvalid { .. }
            | Error::Config(_)
            | Error::Catalog(_)
            | Error::State(_)
            | Error::Unauthorized { .. }
            | Error::NotPermitted { .. }
            | Error::Redirect { .. }
            | Error::ChildrenMissing { .. } => FailureType::ConfigError,
            Error::Api { status, .. } if retriable_status(*status) => FailureType::TransientError,
            // A 4xx other than the above means we sent something Intercom doesn't accept: our bug,
            // or a workspace feature the user has to enable. Both need a human, not a retry.
            Error::Api { .. } => FailureType::SystemError,
            Error::Transport { .. }
            | Error::Interrupted { .. }
            | Error::ScrollBusy { .. }
            | Error::OverBudget { .. } => FailureType::TransientError,
            Error::GaveUp { source, .. } => source.failure_type(),
            Error::Relayed { failure_type, .. } | Error::Report { failure_type, .. } => {
                *failure_type
            }
            Error::Decode { .. }
            | Error::BodyTooLarge { .. }
            | Error::Pagination { .. }
            | Error::Output(_)
            | Error::BrokenPipe
            | Error::Internal(_) => FailureType::SystemError,
        }
    }

    /// Whether sending the same request again could succeed.
    pub(crate) fn is_retriable(&self) -> bool {
        match self {
            Error::Api { status, .. } => retriable_status(*status),
            Error::Transport { .. } | Error::Decode { .. } => true,
            _ => false,
        }
    }

    /// The error under any [`Error::GaveUp`] wrapping.
    pub(crate) fn root(&self) -> &Error {
        match self {
            Error::GaveUp { source, .. } => source.root(),
            other => other,
        }
    }

    /// Whether Intercom answered 404 (the object is gone, or the path is wrong).
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self.root(), Error::Api { status: 404, .. })
    }

    /// Intercom's error code (`errors[0].code`), for answers that carried one.
    pub(crate) fn api_code(&self) -> Option<&str> {
        match self.root() {
            Error::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Whether Intercom said another client holds the workspace's one companies scroll.
    pub(crate) fn is_scroll_busy(&self) -> bool {
        self.api_code() == Some("scroll_exists")
    }

    /// Whether this error makes every other stream fail too, so the sync should stop.
    pub(crate) fn is_fatal_for_sync(&self) -> bool {
        matches!(
            self,
            Error::Unauthorized { .. }
                | Error::Output(_)
                | Error::BrokenPipe
                | Error::Interrupted { .. }
        )
    }

    /// This error, if Intercom refused an endpoint for want of a permission, saying which
    /// stream needs it and which permission that is (the first stream to say wins).
    pub(crate) fn needing(self, stream: &'static str, permission: &'static str) -> Error {
        match self {
            Error::NotPermitted {
                endpoint,
                status,
                detail,
                needs: None,
            } => Error::NotPermitted {
                endpoint,
                status,
                detail,
                needs: Some((stream, permission)),
            },
            Error::GaveUp {
                attempts,
                elapsed_secs,
                source,
            } => Error::GaveUp {
                attempts,
                elapsed_secs,
                source: Box::new(source.needing(stream, permission)),
            },
            other => other,
        }
    }

    /// Whether Intercom refused an endpoint for want of a permission (or plan).
    pub(crate) fn is_not_permitted(&self) -> bool {
        matches!(self.root(), Error::NotPermitted { .. })
    }

    /// Map a stdout write error: a closed pipe is not a failure worth reporting.
    pub(crate) fn from_output(e: std::io::Error) -> Error {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Error::BrokenPipe
        } else {
            Error::Output(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_types() {
        let api = |status| Error::Api {
            endpoint: "/x".into(),
            status,
            code: None,
            detail: String::new(),
        };
        assert_eq!(api(500).failure_type(), FailureType::TransientError);
        assert_eq!(api(429).failure_type(), FailureType::TransientError);
        assert_eq!(api(400).failure_type(), FailureType::SystemError);
        assert!(api(503).is_retriable());
        assert!(!api(404).is_retriable());
        let e = Error::Unauthorized {
            endpoint: "/me".into(),
            detail: "unauthorized: Access Token Invalid".into(),
        };
        assert_eq!(e.failure_type(), FailureType::ConfigError);
        assert!(e
            .to_string()
            .contains("HTTP 401 on /me: unauthorized: Access Token Invalid"));
        assert!(e.is_fatal_for_sync());
        let e = Error::NotPermitted {
            endpoint: "POST /tickets/search".into(),
            status: 401,
            detail: "token_unauthorized: Not authorized to access resource".into(),
            needs: None,
        };
        assert!(!e.is_fatal_for_sync());
        assert_eq!(e.failure_type(), FailureType::ConfigError);
        let s = e.needing("tickets", "Read tickets").to_string();
        assert!(
            s.contains("POST /tickets/search (HTTP 401: token_unauthorized")
                && s.contains("stream `tickets` needs the \"Read tickets\" permission")
                && s.contains("Developer Hub")
                && !s.contains("rejected the access token"),
            "{s}"
        );
    }

    #[test]
    fn error_body_summary() {
        let b = ApiErrorBody::parse(
            br#"{"type":"error.list","request_id":"r1","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}"#,
        );
        assert_eq!(b.code(), Some("unauthorized"));
        assert_eq!(b.summary(), "unauthorized: Access Token Invalid");
        assert_eq!(ApiErrorBody::parse(b"<html>").summary(), "");
    }
}
