//! Per-stream state passed in by the orchestrator, parsed leniently into one cursor
//! blob per stream name.
//!
//! Accepted forms: no file, an empty file, `null`, `[]`; an array of state messages
//! of type `STREAM`, `GLOBAL` or `LEGACY` (explicit nulls and unknown keys allowed, as
//! PyAirbyte sends them); a single state message; and the legacy dict of
//! `{stream: state}` that Airbyte's official connector saved.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::config::{json_kind, read_json_file};
use crate::error::{Error, Result};

/// The input state: stream name to its saved `stream_state` blob.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputState {
    pub streams: HashMap<String, Value>,
}

impl InputState {
    /// Read the `--state` file.
    pub fn from_file(path: &Path) -> Result<InputState> {
        let bytes = std::fs::read(path).map_err(|source| Error::InputFile {
            what: "state",
            path: path.to_path_buf(),
            source,
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(InputState::default());
        }
        let value = read_json_file("state", path)?;
        InputState::from_value(&value).map_err(|e| match e {
            Error::State(message) => Error::InputInvalid {
                what: "state",
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })
    }

    /// Interpret a parsed state document.
    pub fn from_value(value: &Value) -> Result<InputState> {
        let mut state = InputState::default();
        match value {
            Value::Null => {}
            Value::Array(messages) => {
                for (i, m) in messages.iter().enumerate() {
                    match m {
                        Value::Null => {}
                        Value::Object(obj) => state.add_message(obj, &format!("entry {i}"))?,
                        other => {
                            return Err(Error::State(format!(
                                "entry {i} of the state array is {}, not a state message",
                                json_kind(other)
                            )))
                        }
                    }
                }
            }
            Value::Object(obj) if is_message(obj) => state.add_message(obj, "the state message")?,
            // The legacy dict: {"contacts": {"updated_at": ...}, ...}
            Value::Object(obj) => state.add_legacy(obj, "the legacy state")?,
            other => {
                return Err(Error::State(format!(
                    "the state must be an array of state messages or an object, got {}",
                    json_kind(other)
                )))
            }
        }
        Ok(state)
    }

    /// The saved state of a stream, if any (a null blob counts as none: a reset).
    pub fn get(&self, stream: &str) -> Option<&Value> {
        self.streams.get(stream).filter(|v| !v.is_null())
    }

    fn add_message(&mut self, obj: &Map<String, Value>, what: &str) -> Result<()> {
        let kind = obj
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_ascii_uppercase);
        match kind.as_deref() {
            Some("STREAM") => {
                let stream = obj
                    .get("stream")
                    .and_then(Value::as_object)
                    .ok_or_else(|| Error::State(format!("{what} has type STREAM but no `stream` object")))?;
                self.add_stream_state(stream, what)
            }
            Some("GLOBAL") => {
                let global = obj
                    .get("global")
                    .and_then(Value::as_object)
                    .ok_or_else(|| Error::State(format!("{what} has type GLOBAL but no `global` object")))?;
                match global.get("stream_states") {
                    None | Some(Value::Null) => Ok(()),
                    Some(Value::Array(list)) => {
                        for (i, s) in list.iter().enumerate() {
                            let s = s.as_object().ok_or_else(|| {
                                Error::State(format!("{what}: global.stream_states[{i}] is not an object"))
                            })?;
                            self.add_stream_state(s, &format!("{what}: global.stream_states[{i}]"))?;
                        }
                        Ok(())
                    }
                    Some(other) => Err(Error::State(format!(
                        "{what}: global.stream_states is {}, not a list",
                        json_kind(other)
                    ))),
                }
            }
            Some("LEGACY") | None => match obj.get("data") {
                Some(Value::Object(data)) => self.add_legacy(data, &format!("{what} (LEGACY data)")),
                None | Some(Value::Null) if kind.is_some() => Ok(()),
                None | Some(Value::Null) => Err(Error::State(format!(
                    "{what} has no `type` and no `data`; expected a state message like {{\"type\":\"STREAM\",\"stream\":{{...}}}}"
                ))),
                Some(other) => Err(Error::State(format!(
                    "{what}: `data` is {}, not an object",
                    json_kind(other)
                ))),
            },
            Some(other) => Err(Error::State(format!(
                "{what} has unknown type {other:?} (expected STREAM, GLOBAL or LEGACY)"
            ))),
        }
    }

    fn add_stream_state(&mut self, s: &Map<String, Value>, what: &str) -> Result<()> {
        let name = s
            .get("stream_descriptor")
            .and_then(|d| d.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| Error::State(format!("{what} has no stream_descriptor.name")))?;
        let blob = s.get("stream_state").cloned().unwrap_or(Value::Null);
        if !(blob.is_object() || blob.is_null()) {
            return Err(Error::State(format!(
                "{what}: stream_state of `{name}` is {}, not an object",
                json_kind(&blob)
            )));
        }
        self.streams.insert(name.to_string(), blob);
        Ok(())
    }

    fn add_legacy(&mut self, obj: &Map<String, Value>, what: &str) -> Result<()> {
        for (name, blob) in obj {
            if !(blob.is_object() || blob.is_null()) {
                return Err(Error::State(format!(
                    "{what}: the state of `{name}` is {}, not an object",
                    json_kind(blob)
                )));
            }
            self.streams.insert(name.clone(), blob.clone());
        }
        Ok(())
    }
}

fn is_message(obj: &Map<String, Value>) -> bool {
    matches!(obj.get("type"), Some(Value::String(_)))
        && (obj.contains_key("stream") || obj.contains_key("global") || obj.contains_key("data"))
}

/// The state of a full-refresh stream that can't resume: unique, non-null, and says
/// there is no cursor.
pub fn no_cursor_state() -> Value {
    serde_json::json!({"__ab_no_cursor_state_message": true})
}

/// The key of a resumable full refresh's position while it runs: the watermark of a
/// search or of activity-log windows (epoch seconds), or the pages of a page-numbered
/// list already emitted.
pub const FULL_REFRESH_POSITION: &str = "__ab_full_refresh_position";

/// A resumable full refresh in progress, at `position`.
pub fn full_refresh_position(position: i64) -> Value {
    serde_json::json!({ FULL_REFRESH_POSITION: position })
}

/// The state of a resumable full refresh that finished (Airbyte's convention): the next
/// read given it starts over.
pub fn full_refresh_complete() -> Value {
    serde_json::json!({"__ab_full_refresh_sync_complete": true})
}

/// Where a resumable full refresh of `stream` left off, from its state: `None` to start
/// from the beginning (no state, a finished one, or one of another shape, such as an
/// incremental position). A position that isn't a whole number is a config error.
pub fn saved_full_refresh_position(stream: &str, blob: Option<&Value>) -> Result<Option<i64>> {
    let Some(v) = blob.and_then(|b| b.get(FULL_REFRESH_POSITION)) else {
        return Ok(None);
    };
    match v.as_i64() {
        Some(p) if p >= 0 => Ok(Some(p)),
        _ => Err(Error::State(format!(
            "the state of stream `{stream}` has `{FULL_REFRESH_POSITION}` = {}, which is not a position (a whole number of seconds or pages); reset the stream to read it from the start",
            crate::redact::server_text(&v.to_string(), 60)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepted_forms() {
        assert!(InputState::from_value(&json!(null))
            .unwrap()
            .streams
            .is_empty());
        assert!(InputState::from_value(&json!([]))
            .unwrap()
            .streams
            .is_empty());
        let s = InputState::from_value(&json!([
            {"type":"STREAM","stream":{"stream_descriptor":{"name":"contacts","namespace":null},"stream_state":{"updated_at":1700000500}},
             "global_":null,"data":null,"sourceStats":{"recordCount":1.0,"rejectedRecordCount":null},"destinationStats":null},
            null,
            {"type":"STREAM","stream":{"stream_descriptor":{"name":"tickets"},"stream_state":null}}
        ]))
        .unwrap();
        assert_eq!(s.get("contacts"), Some(&json!({"updated_at":1700000500})));
        assert_eq!(s.get("tickets"), None);

        let g = InputState::from_value(
            &json!([{"type":"GLOBAL","global":{"shared_state":{},"stream_states":[
            {"stream_descriptor":{"name":"companies"},"stream_state":{"updated_at":5}}]}}]),
        )
        .unwrap();
        assert_eq!(g.get("companies"), Some(&json!({"updated_at":5})));

        let legacy = InputState::from_value(
            &json!({"companies":{"updated_at":7626086649u64},"contacts":{"updated_at":1}}),
        )
        .unwrap();
        assert_eq!(legacy.streams.len(), 2);
        let legacy_msg = InputState::from_value(
            &json!([{"type":"LEGACY","data":{"contacts":{"updated_at":1}}}]),
        )
        .unwrap();
        assert_eq!(legacy_msg.get("contacts"), Some(&json!({"updated_at":1})));
        let single = InputState::from_value(&json!({"type":"STREAM","stream":{"stream_descriptor":{"name":"x"},"stream_state":{"a":1}}})).unwrap();
        assert_eq!(single.get("x"), Some(&json!({"a":1})));
    }

    #[test]
    fn malformed_states_say_what_is_wrong() {
        let cases = [
            (json!(5), "must be an array"),
            (json!([1]), "entry 0 of the state array is a number"),
            (json!([{"type":"STREAM"}]), "no `stream` object"),
            (
                json!([{"type":"STREAM","stream":{"stream_state":{}}}]),
                "no stream_descriptor.name",
            ),
            (
                json!([{"type":"STREAM","stream":{"stream_descriptor":{"name":"x"},"stream_state":5}}]),
                "stream_state of `x` is a number",
            ),
            (
                json!([{"type":"WEIRD","stream":{}}]),
                "unknown type \"WEIRD\"",
            ),
            (
                json!({"contacts": 5}),
                "the state of `contacts` is a number",
            ),
        ];
        for (v, want) in cases {
            let e = InputState::from_value(&v).unwrap_err().to_string();
            assert!(e.contains(want), "{v}: {e}");
        }
    }
}
