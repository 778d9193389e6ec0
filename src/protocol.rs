//! Airbyte protocol messages: the types this source writes to stdout and the
//! lenient forms of the catalog it reads.
//!
//! Output messages are one serde-tagged enum, [`Message`], so that a line on stdout
//! can only ever be one of the protocol's envelopes. Inputs (configured catalog)
//! are parsed leniently: unknown keys are ignored, optional keys may be `null`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One Airbyte message: `{"type": "...", "<payload key>": {...}}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum Message {
    #[serde(rename = "SPEC")]
    Spec { spec: Value },
    #[serde(rename = "CONNECTION_STATUS")]
    ConnectionStatus {
        #[serde(rename = "connectionStatus")]
        connection_status: ConnectionStatus,
    },
    #[serde(rename = "CATALOG")]
    Catalog { catalog: Catalog },
    #[serde(rename = "STATE")]
    State { state: StateMessage },
    #[serde(rename = "LOG")]
    Log { log: Log },
    #[serde(rename = "TRACE")]
    Trace { trace: Trace },
}

/// Result of `check`.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionStatus {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Succeeded,
    Failed,
}

/// The discovered catalog.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    pub streams: Vec<AirbyteStream>,
}

/// One stream of the discovered catalog.
#[derive(Debug, Clone, Serialize)]
pub struct AirbyteStream {
    pub name: String,
    pub json_schema: Value,
    pub supported_sync_modes: Vec<SyncMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_defined_cursor: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_cursor_field: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_defined_primary_key: Option<Vec<Vec<String>>>,
    pub is_resumable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    FullRefresh,
    Incremental,
}

/// A STATE payload. This source only emits per-stream (`STREAM`) state.
#[derive(Debug, Clone, Serialize)]
pub struct StateMessage {
    #[serde(rename = "type")]
    pub state_type: &'static str,
    pub stream: StreamState,
    #[serde(rename = "sourceStats")]
    pub source_stats: SourceStats,
}

#[derive(Debug, Clone, Serialize)]
pub struct StreamState {
    pub stream_descriptor: StreamDescriptor,
    pub stream_state: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceStats {
    /// Records of this stream emitted since its previous STATE (a number, sent as a float).
    #[serde(rename = "recordCount")]
    pub record_count: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamDescriptor {
    pub name: String,
}

impl StreamDescriptor {
    pub fn new(name: &str) -> Self {
        StreamDescriptor {
            name: name.to_string(),
        }
    }
}

/// A LOG payload.
#[derive(Debug, Clone, Serialize)]
pub struct Log {
    pub level: LogLevel,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// A TRACE payload: an error or a stream status.
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    #[serde(rename = "type")]
    pub trace_type: TraceType,
    /// Epoch milliseconds, as a number.
    pub emitted_at: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorTrace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_status: Option<StreamStatusTrace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Estimate>,
}

/// An ESTIMATE payload: how many records a stream will emit in this sync.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub name: String,
    #[serde(rename = "type")]
    pub estimate_type: &'static str,
    pub row_estimate: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TraceType {
    Error,
    Estimate,
    StreamStatus,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorTrace {
    /// What the user reads.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_message: Option<String>,
    pub failure_type: FailureType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_descriptor: Option<StreamDescriptor>,
}

/// Who has to act on a failure: the user (config), nobody but a retry (transient), or us (system).
// The variants are named as the protocol writes them (`config_error`, ...).
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureType {
    ConfigError,
    SystemError,
    TransientError,
}

#[derive(Debug, Clone, Serialize)]
pub struct StreamStatusTrace {
    pub stream_descriptor: StreamDescriptor,
    pub status: StreamStatus,
    /// Why the stream is in this status (only `RATE_LIMITED` exists in the protocol).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<StreamStatusReason>,
}

/// A reason attached to a stream status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamStatusReason {
    #[serde(rename = "type")]
    pub reason_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limited: Option<RateLimitedReason>,
}

/// The `rate_limited` detail of a `RATE_LIMITED` reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateLimitedReason {
    /// Epoch milliseconds when the API quota resets.
    pub quota_reset: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamStatus {
    Started,
    Running,
    Complete,
    Incomplete,
}

/// The longest text of a LOG message or a TRACE error's messages, in characters. Server
/// text in them is bounded where it goes in ([`crate::redact::server_text`]); this is the
/// net under everything else, so that no line of the kind can be long.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// `text` cut to [`MAX_MESSAGE_CHARS`] (with `…`), secrets masked before the cut so
/// that no cut can leave a piece of one unrecognised.
pub fn bounded_text(text: String) -> String {
    if text.len() <= MAX_MESSAGE_CHARS {
        return text;
    }
    let masked = crate::redact::text(&text);
    match masked.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((at, _)) => format!("{}…", &masked[..at]),
        None => masked,
    }
}

/// Current time in epoch milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Message {
    pub fn log(level: LogLevel, message: impl Into<String>) -> Message {
        Message::Log {
            log: Log {
                level,
                message: bounded_text(message.into()),
            },
        }
    }

    /// A TRACE of `trace_type` with one payload set.
    fn trace(trace_type: TraceType, fill: impl FnOnce(&mut Trace)) -> Message {
        let mut trace = Trace {
            trace_type,
            emitted_at: now_ms() as f64,
            error: None,
            stream_status: None,
            estimate: None,
        };
        fill(&mut trace);
        Message::Trace { trace }
    }

    fn status_with(
        stream: &str,
        status: StreamStatus,
        reasons: Vec<StreamStatusReason>,
    ) -> Message {
        Message::trace(TraceType::StreamStatus, |t| {
            t.stream_status = Some(StreamStatusTrace {
                stream_descriptor: StreamDescriptor::new(stream),
                status,
                reasons,
            })
        })
    }

    pub fn stream_status(stream: &str, status: StreamStatus) -> Message {
        Message::status_with(stream, status, Vec::new())
    }

    /// An ESTIMATE of the records `stream` will emit in this sync.
    pub fn estimate(stream: &str, rows: u64) -> Message {
        Message::trace(TraceType::Estimate, |t| {
            t.estimate = Some(Estimate {
                name: stream.to_string(),
                estimate_type: "STREAM",
                // The platform reads it as a Java `long`.
                row_estimate: rows.min(i64::MAX as u64),
            })
        })
    }

    /// RUNNING with the `RATE_LIMITED` reason: the stream waits for Intercom's quota,
    /// which resets at `quota_reset_ms` (epoch milliseconds).
    pub fn rate_limited(stream: &str, quota_reset_ms: i64) -> Message {
        let reason = StreamStatusReason {
            reason_type: "RATE_LIMITED",
            rate_limited: Some(RateLimitedReason {
                quota_reset: quota_reset_ms,
            }),
        };
        Message::status_with(stream, StreamStatus::Running, vec![reason])
    }

    pub fn error_trace(mut error: ErrorTrace) -> Message {
        error.message = bounded_text(error.message);
        error.internal_message = error.internal_message.map(bounded_text);
        Message::trace(TraceType::Error, |t| t.error = Some(error))
    }

    pub fn state(stream: &str, stream_state: Value, record_count: u64) -> Message {
        Message::State {
            state: StateMessage {
                state_type: "STREAM",
                stream: StreamState {
                    stream_descriptor: StreamDescriptor::new(stream),
                    stream_state,
                },
                source_stats: SourceStats {
                    record_count: record_count as f64,
                },
            },
        }
    }

    /// Whether the writer should flush right after this message: checkpoints, and
    /// anything a human or the platform waits for (traces, warnings and errors).
    pub fn should_flush(&self) -> bool {
        match self {
            Message::Log { log } => matches!(log.level, LogLevel::Error | LogLevel::Warn),
            _ => true,
        }
    }
}

/// The configured catalog passed to `read`, parsed leniently.
#[derive(Debug, Clone, Deserialize)]
pub struct ConfiguredCatalog {
    pub streams: Vec<ConfiguredStream>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConfiguredStream {
    pub stream: ConfiguredStreamInfo,
    /// Kept as a raw string so that an unknown mode gets our own error message.
    pub sync_mode: String,
    #[serde(default)]
    pub cursor_field: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConfiguredStreamInfo {
    pub name: String,
    /// The stream's schema as the user configured it: its `properties` list the
    /// selected top-level columns ([`crate::read::select`]). Some tools send `{}`.
    #[serde(default)]
    pub json_schema: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_texts_are_bounded() {
        let long = "x".repeat(3 * MAX_MESSAGE_CHARS);
        let Message::Log { log } = Message::log(LogLevel::Warn, long.clone()) else {
            unreachable!()
        };
        assert_eq!(log.message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(log.message.ends_with('…'));
        let m = Message::error_trace(ErrorTrace {
            message: long.clone(),
            internal_message: Some(long),
            failure_type: FailureType::SystemError,
            stream_descriptor: None,
        });
        assert!(serde_json::to_string(&m).unwrap().len() < 3 * MAX_MESSAGE_CHARS);
        assert_eq!(bounded_text("short".into()), "short");
    }
    use serde_json::json;

    #[test]
    fn messages_use_protocol_envelopes() {
        let m = Message::state("admins", json!({"a": 1}), 3);
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["type"], "STATE");
        assert_eq!(v["state"]["type"], "STREAM");
        assert_eq!(v["state"]["stream"]["stream_descriptor"]["name"], "admins");
        assert_eq!(v["state"]["sourceStats"]["recordCount"], 3.0);

        let m = Message::ConnectionStatus {
            connection_status: ConnectionStatus {
                status: Status::Succeeded,
                message: None,
            },
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            v,
            json!({"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED"}})
        );

        let v = serde_json::to_value(Message::stream_status("x", StreamStatus::Running)).unwrap();
        assert_eq!(v["trace"]["type"], "STREAM_STATUS");
        assert_eq!(v["trace"]["stream_status"]["status"], "RUNNING");
        assert!(v["trace"]["stream_status"].get("reasons").is_none());

        let v = serde_json::to_value(Message::estimate("x", 7)).unwrap();
        assert_eq!(
            v["trace"],
            json!({"type": "ESTIMATE", "emitted_at": v["trace"]["emitted_at"], "estimate": {"name": "x", "type": "STREAM", "row_estimate": 7}})
        );

        let v = serde_json::to_value(Message::rate_limited("x", 1_700_000_001_000)).unwrap();
        assert_eq!(
            v["trace"]["stream_status"]["reasons"],
            json!([{"type": "RATE_LIMITED", "rate_limited": {"quota_reset": 1_700_000_001_000i64}}])
        );
    }

    #[test]
    fn catalog_parsing_ignores_unknown_and_null_keys() {
        let c: ConfiguredCatalog = serde_json::from_value(json!({"streams":[{
            "stream": {"name": "admins", "json_schema": {}, "supported_sync_modes": ["full_refresh"], "namespace": null},
            "sync_mode": "full_refresh", "destination_sync_mode": "overwrite", "cursor_field": null, "generation_id": 1
        }]}))
        .unwrap();
        assert_eq!(c.streams[0].stream.name, "admins");
        assert_eq!(c.streams[0].cursor_field, None);
    }
}
