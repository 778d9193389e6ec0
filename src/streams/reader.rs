//! Reading one stream: walk its endpoints page by page and hand each record to the
//! stream's [`Emitter`] as soon as its page arrives (one page in memory at a time).

use serde_json::Value;

use super::{Endpoint, Extract, Source, StreamDef};
use crate::error::{Error, Result};
use crate::http::{ApiRequest, Client};
use crate::output::Output;
use crate::paginate::{take_records, Pages};
use crate::protocol::{now_ms, Message, Record};

/// Emits one stream's RECORD and STATE messages and counts records between states.
pub struct Emitter {
    output: Output,
    stream: &'static str,
    since_state: u64,
    total: u64,
}

impl Emitter {
    pub fn new(output: Output, stream: &'static str) -> Emitter {
        Emitter {
            output,
            stream,
            since_state: 0,
            total: 0,
        }
    }

    /// Emit one record.
    pub fn record(&mut self, data: Value) -> Result<()> {
        self.output.emit(&Message::Record {
            record: Record {
                stream: self.stream.to_string(),
                data,
                emitted_at: now_ms(),
            },
        })?;
        self.since_state += 1;
        self.total += 1;
        Ok(())
    }

    /// Emit a STATE covering every record emitted so far.
    pub fn state(&mut self, stream_state: Value) -> Result<()> {
        self.output
            .emit(&Message::state(self.stream, stream_state, self.since_state))?;
        self.since_state = 0;
        Ok(())
    }

    /// Records emitted in this run.
    pub fn total(&self) -> u64 {
        self.total
    }
}

/// Read every record of a stream (full refresh).
pub async fn read_all(client: &Client, def: &StreamDef, out: &mut Emitter) -> Result<()> {
    match &def.source {
        Source::Get(endpoints) => {
            for ep in endpoints.iter() {
                read_endpoint(client, ep, out).await?;
            }
        }
    }
    Ok(())
}

async fn read_endpoint(client: &Client, ep: &Endpoint, out: &mut Emitter) -> Result<()> {
    let mut first = ApiRequest::get(ep.path).version(ep.version);
    for (k, v) in ep.query {
        first = first.query(k, *v);
    }
    let endpoint = first.describe();
    let mut pages = Pages::new(client.clone(), first, ep.paging, ep.extract.list_path());
    while let Some(mut body) = pages.next_page().await? {
        let records = match ep.extract {
            Extract::List(path) => take_records(&mut body, path, &endpoint)?,
            Extract::Rows(hook) => hook(&body).map_err(|message| Error::Decode {
                endpoint: endpoint.clone(),
                message,
            })?,
        };
        for r in records {
            if !r.is_object() {
                return Err(Error::Decode {
                    endpoint: endpoint.clone(),
                    message: format!(
                        "a record is {}, not an object",
                        crate::config::json_kind(&r)
                    ),
                });
            }
            out.record(r)?;
        }
    }
    Ok(())
}
