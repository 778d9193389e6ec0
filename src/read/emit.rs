//! One stream's RECORD and STATE messages. Records are written as the bytes Intercom
//! sent, wrapped in the RECORD envelope, a page at a time: each page's lines are built
//! in one buffer and handed to [`Output`] whole, which writes them under one lock (so
//! lines never interleave) and blocks while stdout is full (backpressure). Records are
//! never masked: whatever the config's secrets are, a record's bytes are Intercom's.
//! When the catalog selects some of the stream's columns ([`Selection::Only`]), each
//! record is written with those fields only, each field's bytes as Intercom sent them
//! ([`select`]); with every column selected, the bytes are passed through whole.
//!
//! A STATE is written after the records it covers, by the same emitter, so it can
//! never cover a record that has not been written.

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value;

use super::select::{self, Names, Selection};
use crate::error::{Error, Result};
use crate::output::Output;
use crate::protocol::{now_ms, Message};

/// Records written per stream, readable while the stream runs (for progress logs).
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Writes one stream's records and states.
pub struct Emitter {
    output: Output,
    stream: &'static str,
    /// `{"type":"RECORD","record":{"stream":"<name>","data":`
    prefix: Vec<u8>,
    buf: Vec<u8>,
    buffered: u64,
    since_state: u64,
    total: Arc<Counter>,
    last_state: Option<Value>,
    /// The top-level fields records are written with; `None`: every field, the bytes
    /// passed through whole.
    columns: Option<Names>,
}

/// Flush the page buffer past this size even inside a page.
const BUFFER_LIMIT: usize = 256 * 1024;

impl Emitter {
    pub fn new(output: Output, stream: &'static str) -> Emitter {
        let mut prefix = br#"{"type":"RECORD","record":{"stream":"#.to_vec();
        // Stream names are ours (ASCII identifiers); serialising keeps that a fact.
        prefix.extend_from_slice(
            serde_json::to_string(stream)
                .unwrap_or_else(|_| "\"\"".into())
                .as_bytes(),
        );
        prefix.extend_from_slice(br#","data":"#);
        Emitter {
            output,
            stream,
            prefix,
            buf: Vec::with_capacity(64 * 1024),
            buffered: 0,
            since_state: 0,
            total: Arc::new(Counter::default()),
            last_state: None,
            columns: None,
        }
    }

    /// Write records with these columns only ([`Selection::All`] by default).
    pub fn with_columns(mut self, columns: Selection) -> Emitter {
        self.columns = columns.names();
        self
    }

    /// The live count of records written (for progress logs).
    pub fn counter(&self) -> Arc<Counter> {
        self.total.clone()
    }

    /// Records emitted in this run, including any still buffered.
    pub fn total(&self) -> u64 {
        self.total.get() + self.buffered
    }

    fn open(&mut self) {
        self.buf.extend_from_slice(&self.prefix);
    }

    fn close(&mut self) -> Result<()> {
        self.buf.extend_from_slice(br#","emitted_at":"#);
        let _ = write!(self.buf, "{}", now_ms());
        self.buf.extend_from_slice(b"}}\n");
        self.buffered += 1;
        if self.buf.len() >= BUFFER_LIMIT {
            self.flush()?;
        }
        Ok(())
    }

    /// One record, as the raw JSON object text Intercom sent (its selected fields).
    pub fn raw(&mut self, record: &str) -> Result<()> {
        self.raw_with(record, &[])
    }

    /// One record, a raw JSON object with `extra` fields appended (a child row with its
    /// parent's id and cursor). The fields are ours; they replace nothing in `record`.
    pub fn raw_with(&mut self, record: &str, extra: &[(&str, &Value)]) -> Result<()> {
        let line_start = self.buf.len();
        self.open();
        if let Some(keep) = &self.columns {
            self.buf.push(b'{');
            match select::write_fields(&mut self.buf, record, keep) {
                Ok(mut written) => {
                    for (k, v) in extra.iter().filter(|(k, _)| keep.contains(k)) {
                        if written > 0 {
                            self.buf.push(b',');
                        }
                        let _ = serde_json::to_writer(&mut self.buf, k);
                        self.buf.push(b':');
                        let _ = serde_json::to_writer(&mut self.buf, v);
                        written += 1;
                    }
                }
                Err(e) => {
                    self.buf.truncate(line_start);
                    return Err(Error::Internal(format!(
                        "stream `{}`: a record could not be cut to the columns the catalog selects ({e})",
                        self.stream
                    )));
                }
            }
            self.buf.push(b'}');
            return self.close();
        }
        if extra.is_empty() {
            self.buf.extend_from_slice(record.as_bytes());
            return self.close();
        }
        let body = record.trim_end();
        let inner = body.strip_suffix('}').unwrap_or(body);
        self.buf.extend_from_slice(inner.as_bytes());
        let empty = inner.trim_end().ends_with('{');
        for (i, (k, v)) in extra.iter().enumerate() {
            if i > 0 || !empty {
                self.buf.push(b',');
            }
            let _ = serde_json::to_writer(&mut self.buf, k);
            self.buf.push(b':');
            let _ = serde_json::to_writer(&mut self.buf, v);
        }
        self.buf.push(b'}');
        self.close()
    }

    /// One record built by the connector (count tables), with its selected fields.
    pub fn value(&mut self, record: &Value) -> Result<()> {
        self.open();
        match (&self.columns, record) {
            (Some(keep), Value::Object(fields)) => {
                self.buf.push(b'{');
                let kept = fields.iter().filter(|(k, _)| keep.contains(k));
                for (i, (k, v)) in kept.enumerate() {
                    if i > 0 {
                        self.buf.push(b',');
                    }
                    let _ = serde_json::to_writer(&mut self.buf, k);
                    self.buf.push(b':');
                    let _ = serde_json::to_writer(&mut self.buf, v);
                }
                self.buf.push(b'}');
            }
            _ => {
                let _ = serde_json::to_writer(&mut self.buf, record);
            }
        }
        self.close()
    }

    /// Write the buffered records.
    pub fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let res = self.output.write_lines(&self.buf);
        self.buf.clear();
        self.total.0.fetch_add(self.buffered, Ordering::Relaxed);
        self.since_state += self.buffered;
        self.buffered = 0;
        res
    }

    /// Emit a STATE covering every record emitted so far, unless it would repeat the
    /// previous STATE with no record in between (the platform rejects that).
    pub fn checkpoint(&mut self, stream_state: Value) -> Result<()> {
        self.flush()?;
        if self.since_state == 0 && self.last_state.as_ref() == Some(&stream_state) {
            return Ok(());
        }
        self.output.emit(&Message::state(
            self.stream,
            stream_state.clone(),
            self.since_state,
        ))?;
        self.since_state = 0;
        self.last_state = Some(stream_state);
        Ok(())
    }

    /// Emit a STATE only if the position moved since the previous one (records since
    /// then are counted by the next STATE). For checkpoints during a read.
    pub fn checkpoint_if_moved(&mut self, stream_state: Value) -> Result<()> {
        if self.last_state.as_ref() == Some(&stream_state) {
            return self.flush();
        }
        self.checkpoint(stream_state)
    }

    /// Emit any other message for this stream after its buffered records.
    pub fn message(&mut self, m: &Message) -> Result<()> {
        self.flush()?;
        self.output.emit(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Captured;
    use serde_json::json;

    #[test]
    fn records_keep_their_bytes_and_states_follow_them() {
        let cap = Captured::default();
        let mut e = Emitter::new(Output::to_writer(cap.clone()), "s");
        e.checkpoint(json!({"updated_at": 1})).unwrap();
        e.checkpoint(json!({"updated_at": 1})).unwrap();
        e.raw(r#"{"id":1,"big":12345678901234567890,"f":1.50}"#)
            .unwrap();
        e.raw_with(
            r#"{"id":"p"}"#,
            &[("parent_id", &json!("7")), ("n", &json!(2))],
        )
        .unwrap();
        e.raw_with("{ }", &[("parent_id", &json!("7"))]).unwrap();
        e.checkpoint(json!({"updated_at": 1})).unwrap();
        e.raw("{}").unwrap();
        e.checkpoint_if_moved(json!({"updated_at": 1})).unwrap();
        e.checkpoint(json!({"updated_at": 2})).unwrap();
        assert_eq!(e.total(), 4);
        let msgs = cap.messages();
        let types: Vec<&str> = msgs.iter().map(|m| m["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            ["STATE", "RECORD", "RECORD", "RECORD", "STATE", "RECORD", "STATE"]
        );
        assert_eq!(msgs[4]["state"]["sourceStats"]["recordCount"], 3.0);
        // The unmoved checkpoint was skipped; its record is counted by the next state.
        assert_eq!(msgs[6]["state"]["sourceStats"]["recordCount"], 1.0);
        assert_eq!(
            msgs[2]["record"]["data"],
            json!({"id": "p", "parent_id": "7", "n": 2})
        );
        assert_eq!(msgs[3]["record"]["data"], json!({"parent_id": "7"}));
        let raw = cap.text();
        assert!(
            raw.contains(r#""data":{"id":1,"big":12345678901234567890,"f":1.50},"emitted_at":"#)
        );
    }

    #[test]
    fn selected_columns_are_cut_from_the_bytes_that_arrived() {
        let cap = Captured::default();
        let keep = |names: &[&str]| Selection::Only(names.iter().map(|s| s.to_string()).collect());
        let mut e = Emitter::new(Output::to_writer(cap.clone()), "s").with_columns(keep(&[
            "id",
            "n",
            "parent_id",
        ]));
        e.raw(r#"{"x":[1,{"id":9}], "n" : 1.50,"id":"1","big":12345678901234567890}"#)
            .unwrap();
        e.raw_with(
            r#"{"id":"p","x":1}"#,
            &[("parent_id", &json!("7")), ("other", &json!(2))],
        )
        .unwrap();
        e.raw_with(r#"{"x":1}"#, &[("parent_id", &json!("7"))])
            .unwrap();
        e.value(&json!({"id": 3, "count": 4, "n": "five"})).unwrap();
        let err = e.raw(r#"{"id":1"#).unwrap_err().to_string();
        assert!(err.contains("stream `s`"), "{err}");
        e.raw("{}").unwrap();
        e.flush().unwrap();
        let raw = cap.text();
        let data: Vec<&str> = raw
            .lines()
            .map(|l| {
                let rest = l.split_once(r#""data":"#).unwrap().1;
                rest.rsplit_once(r#","emitted_at":"#).unwrap().0
            })
            .collect();
        assert_eq!(
            data,
            [
                r#"{"n":1.50,"id":"1"}"#,
                r#"{"id":"p","parent_id":"7"}"#,
                r#"{"parent_id":"7"}"#,
                r#"{"id":3,"n":"five"}"#,
                "{}",
            ],
            "the failed record left nothing behind"
        );
        assert_eq!(e.total(), 5);
    }

    #[test]
    fn records_are_never_masked() {
        let secret = "emit-test-secret-77c0d1e2";
        crate::redact::register_secret(secret);
        let cap = Captured::default();
        let mut e = Emitter::new(Output::to_writer(cap.clone()), "s");
        let record = format!(
            r#"{{"id":"1","{secret}":"{secret}","auth":"Authorization: Bearer x","n":null}}"#
        );
        e.raw(&record).unwrap();
        e.raw_with(&record, &[("parent_id", &json!(secret))])
            .unwrap();
        e.flush().unwrap();
        let raw = cap.text();
        let lines: Vec<&str> = raw.lines().collect();
        assert!(lines[0].contains(&format!(r#""data":{record},"emitted_at":"#)));
        let with = format!(r#""parent_id":"{secret}"}},"emitted_at":"#);
        assert!(lines[1].contains(&with), "{}", lines[1]);
    }
}
