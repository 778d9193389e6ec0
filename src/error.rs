//! The connector's one error type. Each variant knows its Airbyte `failure_type`,
//! whether retrying the same request could help, and renders a message that says
//! what to fix. No variant ever holds the access token.

use std::path::PathBuf;

use serde::Deserialize;

use crate::http::retry::retriable_status;
use crate::protocol::FailureType;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Intercom's error body: `{"type":"error.list","errors":[{"code":..,"message":..}]}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiErrorBody {
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub errors: Vec<ApiErrorItem>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiErrorItem {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl ApiErrorBody {
    /// Parse an error body; anything that isn't Intercom's envelope gives an empty body.
    pub fn parse(bytes: &[u8]) -> ApiErrorBody {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    /// The first error's code, if any.
    pub fn code(&self) -> Option<&str> {
        self.errors.first().and_then(|e| e.code.as_deref())
    }

    /// "code: message; code: message", or "" when the body said nothing. Server text:
    /// cleaned, bounded and with credentials masked ([`crate::redact::server_text`]).
    pub fn summary(&self) -> String {
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

    /// Intercom answered 401.
    #[error("Intercom rejected the access token (HTTP 401 on {endpoint}{}). Check `access_token`, and that `region` matches the workspace's region (the token works only on its own region's API host).", detail_suffix(detail))]
    Unauthorized { endpoint: String, detail: String },

    /// Intercom answered 403.
    #[error("Intercom refused access to {endpoint} (HTTP 403{}). The access token's app lacks the permission this stream needs: enable it in the Intercom Developer Hub (Configure > Authentication) or deselect the stream.", detail_suffix(detail))]
    Forbidden { endpoint: String, detail: String },

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
    #[error("the answer to {endpoint} is larger than {limit_mib} MiB (after decompression), the limit set by SOURCE_INTERCOM_MAX_BODY_MB; raise it if this workspace really has objects this large")]
    BodyTooLarge { endpoint: String, limit_mib: u64 },

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

fn location_suffix(location: &Option<String>) -> String {
    match location {
        Some(l) => format!(" to {l}"),
        None => String::new(),
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
    pub fn failure_type(&self) -> FailureType {
        match self {
            Error::InputFile { .. }
            | Error::InputInvalid { .. }
            | Error::Config(_)
            | Error::Catalog(_)
            | Error::State(_)
            | Error::Unauthorized { .. }
            | Error::Forbidden { .. }
            | Error::Redirect { .. }
            | Error::ChildrenMissing { .. } => FailureType::ConfigError,
            Error::Api { status, .. } if retriable_status(*status) => FailureType::TransientError,
            // A 4xx other than the above means we sent something Intercom doesn't accept: our bug,
            // or a workspace feature the user has to enable. Both need a human, not a retry.
            Error::Api { .. } => FailureType::SystemError,
            Error::Transport { .. } | Error::Interrupted { .. } | Error::ScrollBusy { .. } => {
                FailureType::TransientError
            }
            Error::GaveUp { source, .. } => source.failure_type(),
            Error::Relayed { failure_type, .. } => *failure_type,
            Error::Decode { .. }
            | Error::BodyTooLarge { .. }
            | Error::Pagination { .. }
            | Error::Output(_)
            | Error::BrokenPipe
            | Error::Internal(_) => FailureType::SystemError,
        }
    }

    /// Whether sending the same request again could succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Api { status, .. } => retriable_status(*status),
            Error::Transport { .. } | Error::Decode { .. } => true,
            _ => false,
        }
    }

    /// The error under any [`Error::GaveUp`] wrapping.
    pub fn root(&self) -> &Error {
        match self {
            Error::GaveUp { source, .. } => source.root(),
            other => other,
        }
    }

    /// Whether Intercom answered 404 (the object is gone, or the path is wrong).
    pub fn is_not_found(&self) -> bool {
        matches!(self.root(), Error::Api { status: 404, .. })
    }

    /// Intercom's error code (`errors[0].code`), for answers that carried one.
    pub fn api_code(&self) -> Option<&str> {
        match self.root() {
            Error::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Whether Intercom said another client holds the workspace's one companies scroll.
    pub fn is_scroll_busy(&self) -> bool {
        self.api_code() == Some("scroll_exists")
    }

    /// Whether this error makes every other stream fail too, so the sync should stop.
    pub fn is_fatal_for_sync(&self) -> bool {
        matches!(
            self,
            Error::Unauthorized { .. }
                | Error::Output(_)
                | Error::BrokenPipe
                | Error::Interrupted { .. }
        )
    }

    /// Map a stdout write error: a closed pipe is not a failure worth reporting.
    pub fn from_output(e: std::io::Error) -> Error {
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
