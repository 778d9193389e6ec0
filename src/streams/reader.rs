//! Reading one stream: walk its source page by page and hand each record to the
//! stream's [`Emitter`] as soon as its page arrives (one page in memory at a time, plus
//! bounded fan-out), checkpointing as the source allows:
//! - searches sorted by `updated_at` ascending (contacts, conversations, tickets and the
//!   parent search of conversation parts): a STATE after every page;
//! - activity logs: a STATE after every `created_at` window;
//! - everything else (client-side filtered lists, the companies scroll): the highest
//!   cursor seen, saved once the stream has been read in full.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::{Endpoint, Extract, Search, Source, StreamDef};
use crate::config::Config;
use crate::cursor::{parse_timestamp, state_blob, Cursor};
use crate::error::{Error, Result};
use crate::http::client::{path_segment, Expect};
use crate::http::{ApiRequest, Client};
use crate::output::Output;
use crate::paginate::{take_records, Pages, Paging};
use crate::protocol::{now_ms, Message, Record};

/// Tunables of a read. Defaults suit the real API; tests shorten waits through the
/// `SOURCE_INTERCOM_*` environment variables read by [`ReadSettings::from_env`].
#[derive(Debug, Clone)]
pub struct ReadSettings {
    /// Child requests (conversations, company segments) in flight at once.
    pub concurrency: usize,
    /// Seconds the contacts cursor stays behind the sync's start (search index delay).
    pub contact_index_lag_secs: i64,
    /// Wait between attempts to open a scroll while another client holds the workspace's one scroll.
    pub scroll_busy_wait: Duration,
    /// Give up opening a scroll after waiting this long in all.
    pub scroll_busy_max: Duration,
    /// Scroll restarts (after expiry or a 500) before giving up.
    pub scroll_max_restarts: u32,
}

impl Default for ReadSettings {
    fn default() -> Self {
        ReadSettings {
            concurrency: 8,
            contact_index_lag_secs: 3600,
            scroll_busy_wait: Duration::from_secs(60),
            scroll_busy_max: Duration::from_secs(600),
            scroll_max_restarts: 5,
        }
    }
}

impl ReadSettings {
    /// Defaults, overridden by `SOURCE_INTERCOM_CONCURRENCY`,
    /// `SOURCE_INTERCOM_CONTACT_INDEX_LAG_SECS`, `SOURCE_INTERCOM_SCROLL_BUSY_WAIT_MS`,
    /// `SOURCE_INTERCOM_SCROLL_BUSY_MAX_MS` where set to a number.
    pub fn from_env() -> ReadSettings {
        let mut s = ReadSettings::default();
        let num = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if let Some(v) = num("SOURCE_INTERCOM_CONCURRENCY") {
            s.concurrency = v.clamp(1, 64) as usize;
        }
        if let Some(v) = num("SOURCE_INTERCOM_CONTACT_INDEX_LAG_SECS") {
            s.contact_index_lag_secs = v.min(86_400 * 7) as i64;
        }
        if let Some(v) = num("SOURCE_INTERCOM_SCROLL_BUSY_WAIT_MS") {
            s.scroll_busy_wait = Duration::from_millis(v);
        }
        if let Some(v) = num("SOURCE_INTERCOM_SCROLL_BUSY_MAX_MS") {
            s.scroll_busy_max = Duration::from_millis(v);
        }
        s
    }
}

/// A company as the scroll returned it: what company_segments needs.
#[derive(Debug, Clone)]
pub struct CompanyRef {
    pub id: String,
    pub updated_at: Option<i64>,
}

/// What every stream of one read shares.
pub struct ReadContext {
    pub client: Client,
    pub config: Config,
    pub settings: ReadSettings,
    /// The sync's start, epoch seconds.
    pub now: i64,
    /// Every company of this sync's scroll, once one has been read in full.
    companies: Mutex<Option<Arc<Vec<CompanyRef>>>>,
}

impl ReadContext {
    pub fn new(client: Client, config: Config, settings: ReadSettings) -> ReadContext {
        ReadContext {
            client,
            config,
            settings,
            now: chrono::Utc::now().timestamp(),
            companies: Mutex::new(None),
        }
    }

    fn cached_companies(&self) -> Option<Arc<Vec<CompanyRef>>> {
        self.companies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn cache_companies(&self, refs: Vec<CompanyRef>) -> Arc<Vec<CompanyRef>> {
        let refs = Arc::new(refs);
        *self.companies.lock().unwrap_or_else(|p| p.into_inner()) = Some(refs.clone());
        refs
    }
}

/// Emits one stream's RECORD and STATE messages and counts records between states.
pub struct Emitter {
    output: Output,
    stream: &'static str,
    since_state: u64,
    total: u64,
    last_state: Option<Value>,
}

impl Emitter {
    pub fn new(output: Output, stream: &'static str) -> Emitter {
        Emitter {
            output,
            stream,
            since_state: 0,
            total: 0,
            last_state: None,
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

    /// Emit a STATE covering every record emitted so far, unless it would repeat the
    /// previous STATE with no record in between (the platform rejects that).
    pub fn checkpoint(&mut self, stream_state: Value) -> Result<()> {
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

    /// Records emitted in this run.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The stream this emitter writes for.
    pub fn stream(&self) -> &'static str {
        self.stream
    }
}

/// How many children of one parent page may answer 404 and still count as deleted
/// between the list and the fetch: a few, or a small share of the page. More than
/// that means the requests go somewhere wrong (region, proxy), not that objects were
/// deleted, and the stream fails rather than "completing" without them.
fn missing_children_allowed(asked: usize) -> usize {
    (asked / 10).max(2)
}

/// Fail if too many children of one page were missing (see [`missing_children_allowed`]).
fn check_missing(what: &str, missing: usize, asked: usize) -> Result<()> {
    if missing > missing_children_allowed(asked) {
        return Err(Error::ChildrenMissing {
            what: what.to_string(),
            missing,
            asked,
        });
    }
    Ok(())
}

/// The request path for one child object: `prefix/{id}suffix`, with the id encoded as
/// one path segment; an id that can't be one is a bad answer from `listed_by`.
fn child_path(prefix: &str, id: &str, suffix: &str, listed_by: &str) -> Result<String> {
    let seg = path_segment(id).map_err(|message| Error::Decode {
        endpoint: listed_by.to_string(),
        message,
    })?;
    Ok(format!("{prefix}/{seg}{suffix}"))
}

/// One stream's read position, when it reads incrementally.
struct Position {
    cursor: Cursor,
    /// The records' cursor field.
    field: &'static str,
    /// The key the state blob saves the position under.
    state_key: &'static str,
    parent: Option<&'static str>,
}

impl Position {
    fn blob(&self) -> Value {
        state_blob(self.state_key, self.parent, self.cursor.position())
    }
}

/// A record's value at `field`, as epoch seconds.
pub fn cursor_value(record: &Value, field: &str) -> Option<i64> {
    record.get(field).and_then(parse_timestamp)
}

/// Read a stream. `cursor` is the stream's cursor state for this read (None for a
/// full refresh without cursor); the final STATE is emitted here.
pub async fn read_stream(
    ctx: &ReadContext,
    def: &'static StreamDef,
    cursor: Option<Cursor>,
    out: &mut Emitter,
) -> Result<()> {
    let mut pos = match (cursor, def.cursor) {
        (Some(cursor), Some(field)) => Some(Position {
            cursor,
            field,
            state_key: def.state_key().unwrap_or(field),
            parent: def.state_parent(),
        }),
        _ => None,
    };
    match &def.source {
        Source::Get(endpoints) => {
            for ep in endpoints.iter() {
                read_endpoint(&ctx.client, ep, pos.as_mut(), out).await?;
            }
        }
        Source::Search(search) => read_search(ctx, search, pos.as_mut(), out).await?,
        Source::CompaniesScroll => read_companies(ctx, pos.as_mut(), out).await?,
        Source::CompanySegments => read_company_segments(ctx, pos.as_mut(), out).await?,
        Source::ConversationParts(search) => {
            read_conversation_parts(ctx, search, pos.as_mut(), out).await?
        }
        Source::ActivityLogs => read_activity_logs(ctx, pos.as_mut(), out).await?,
    }
    let final_state = match &pos {
        Some(p) => p.blob(),
        None => crate::state::no_cursor_state(),
    };
    out.checkpoint(final_state)
}

/// Emit a record if it is at or past the cursor's lower bound; note its cursor value.
fn emit_filtered(record: Value, pos: Option<&mut Position>, out: &mut Emitter) -> Result<()> {
    if let Some(p) = pos {
        if let Some(v) = cursor_value(&record, p.field) {
            if !p.cursor.accepts(v) {
                return Ok(());
            }
            p.cursor.observe(v);
        }
    }
    out.record(record)
}

fn check_object(record: &Value, endpoint: &str) -> Result<()> {
    if record.is_object() {
        Ok(())
    } else {
        Err(Error::Decode {
            endpoint: endpoint.to_string(),
            message: format!(
                "a record is {}, not an object",
                crate::config::json_kind(record)
            ),
        })
    }
}

async fn read_endpoint(
    client: &Client,
    ep: &Endpoint,
    mut pos: Option<&mut Position>,
    out: &mut Emitter,
) -> Result<()> {
    let mut first = ApiRequest::get(ep.path)
        .version(ep.version)
        .for_stream(out.stream());
    if let Extract::Rows(hook) = ep.extract {
        first = first.expect(Expect::Rows(hook));
    }
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
            check_object(&r, &endpoint)?;
            emit_filtered(r, pos.as_deref_mut(), out)?;
        }
    }
    Ok(())
}

/// The search body: `updated_at` from the lower bound, ascending.
fn search_body(search: &Search, lower: i64) -> Value {
    // Contact search matches dates by whole days in the workspace's time zone, and `>`
    // means "from the start of the next day": asking for `> lower - 1 day` returns every
    // record of lower's day and after, in any time zone. Conversation and ticket search
    // compare to the second, where `>` is documented as "greater (or equal)"; `> lower - 1`
    // is right under either reading. Records before `lower` are filtered out client-side.
    let from = if search.day_granular {
        lower.saturating_sub(86_400)
    } else {
        lower.saturating_sub(1)
    };
    let updated = json!({"field": "updated_at", "operator": ">", "value": from});
    let query = match search.role {
        Some(role) => json!({"operator": "AND", "value": [
            {"field": "role", "operator": "=", "value": role},
            updated,
        ]}),
        None => updated,
    };
    json!({"query": query, "sort": {"field": "updated_at", "order": "ascending"}})
}

/// Where a read starts: the cursor's lower bound, or `start_date` for a full refresh.
fn lower_bound(ctx: &ReadContext, pos: Option<&Position>) -> i64 {
    pos.map_or(ctx.config.start_date, |p| p.cursor.lower())
}

/// The pages of a search from `lower`, 150 per page, and its description for errors.
fn search_pages(
    ctx: &ReadContext,
    search: &Search,
    lower: i64,
    stream: &'static str,
) -> (Pages, String) {
    let req = ApiRequest::post(search.path, search_body(search, lower)).for_stream(stream);
    let endpoint = req.describe();
    let pages = Pages::new(
        ctx.client.clone(),
        req,
        Paging::SearchCursor { per_page: 150 },
        search.records,
    );
    (pages, endpoint)
}

async fn read_search(
    ctx: &ReadContext,
    search: &Search,
    mut pos: Option<&mut Position>,
    out: &mut Emitter,
) -> Result<()> {
    let lower = lower_bound(ctx, pos.as_deref());
    let (mut pages, endpoint) = search_pages(ctx, search, lower, out.stream());
    while let Some(mut body) = pages.next_page().await? {
        for r in take_records(&mut body, search.records, &endpoint)? {
            check_object(&r, &endpoint)?;
            if pos.is_none() && cursor_value(&r, "updated_at").is_some_and(|v| v < lower) {
                continue;
            }
            emit_filtered(r, pos.as_deref_mut(), out)?;
        }
        // Pages come sorted by updated_at ascending: everything below the highest value
        // seen has been emitted, so the position can be saved now.
        if let Some(p) = pos.as_deref() {
            out.checkpoint(p.blob())?;
        }
    }
    Ok(())
}

async fn read_conversation_parts(
    ctx: &ReadContext,
    search: &Search,
    mut pos: Option<&mut Position>,
    out: &mut Emitter,
) -> Result<()> {
    let lower = lower_bound(ctx, pos.as_deref());
    let mut truncated = 0usize;
    let mut missing = 0usize;
    let concurrency = ctx.settings.concurrency;
    let client = ctx.client.clone();
    let stream_name = out.stream();
    let (mut pages, endpoint) = search_pages(ctx, search, lower, stream_name);
    while let Some(mut body) = pages.next_page().await? {
        let conversations = take_records(&mut body, search.records, &endpoint)?;
        let mut wanted: Vec<(String, String, Option<i64>)> = Vec::new();
        for c in &conversations {
            check_object(c, &endpoint)?;
            let Some(id) = c.get("id").and_then(id_string) else {
                return Err(Error::Decode {
                    endpoint: endpoint.clone(),
                    message: "a conversation has no `id`".into(),
                });
            };
            let updated = cursor_value(c, "updated_at");
            if updated.is_some_and(|u| u < lower) {
                continue;
            }
            let path = child_path("/conversations", &id, "", &endpoint)?;
            wanted.push((id, path, updated));
        }
        let asked = wanted.len();
        let mut missing_here = 0usize;
        let mut fetched = stream::iter(wanted.into_iter().map(|(id, path, updated)| {
            let client = client.clone();
            async move {
                let req = ApiRequest::get(path).for_stream(stream_name);
                let res = client.json(&req).await;
                (id, updated, res)
            }
        }))
        .buffered(concurrency);
        while let Some((id, updated, res)) = fetched.next().await {
            let conversation = match res {
                Ok(c) => c,
                Err(e) if e.is_not_found() => {
                    tracing::warn!("conversation {id} was deleted after the search returned it (404); skipping its parts");
                    missing_here += 1;
                    check_missing(
                        "conversations the search had just listed",
                        missing_here,
                        asked,
                    )?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let (parts, was_truncated) = parts_of(conversation, &id)?;
            if was_truncated {
                truncated += 1;
            }
            // Every part of a changed conversation: filtering parts by their own updated_at
            // would lose those of a conversation a killed sync never reached.
            for part in parts {
                out.record(part)?;
            }
            if let (Some(p), Some(u)) = (pos.as_deref_mut(), updated) {
                p.cursor.observe(u);
            }
        }
        missing += missing_here;
        if let Some(p) = pos.as_deref() {
            out.checkpoint(p.blob())?;
        }
    }
    if missing > 0 {
        tracing::warn!("conversation_parts: {missing} conversation(s) were deleted during the sync and skipped");
    }
    if truncated > 0 {
        tracing::warn!(
            "conversation_parts: {truncated} conversation(s) have more than {PARTS_CAP} parts; Intercom returns only the newest {PARTS_CAP} of each, so their older parts were not read"
        );
    }
    Ok(())
}

/// Intercom's cap on parts returned by `GET /conversations/{id}`.
const PARTS_CAP: usize = 500;

/// The parts of a fetched conversation, each with its conversation's id, timestamps and part
/// count; and whether Intercom truncated the list.
fn parts_of(mut conversation: Value, id: &str) -> Result<(Vec<Value>, bool)> {
    let endpoint = format!("GET /conversations/{id}");
    let parts = match conversation.pointer_mut("/conversation_parts/conversation_parts") {
        Some(v) => match v.take() {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            other => {
                return Err(Error::Decode {
                    endpoint,
                    message: format!(
                        "`conversation_parts.conversation_parts` is {}, not a list",
                        crate::config::json_kind(&other)
                    ),
                })
            }
        },
        None => Vec::new(),
    };
    // Intercom's count includes the opening message (the `source`), which is not a part.
    let reported = conversation
        .pointer("/statistics/count_conversation_parts")
        .and_then(Value::as_i64)
        .map(|n| (n - 1).max(0) as usize);
    let total = reported.unwrap_or(parts.len()).max(parts.len());
    let was_truncated = total > parts.len();
    if was_truncated {
        tracing::warn!(
            "conversation {id} has {total} parts but Intercom returned only the newest {}; the older {} are not available through the API",
            parts.len(),
            total - parts.len()
        );
    }
    let created = conversation
        .get("created_at")
        .cloned()
        .unwrap_or(Value::Null);
    let updated = conversation
        .get("updated_at")
        .cloned()
        .unwrap_or(Value::Null);
    let mut out = Vec::with_capacity(parts.len());
    for mut p in parts {
        let Some(obj) = p.as_object_mut() else {
            return Err(Error::Decode {
                endpoint,
                message: "a conversation part is not an object".into(),
            });
        };
        obj.insert("conversation_id".into(), Value::String(id.to_string()));
        obj.insert("conversation_created_at".into(), created.clone());
        obj.insert("conversation_updated_at".into(), updated.clone());
        obj.insert("conversation_total_parts".into(), json!(total));
        out.push(p);
    }
    Ok((out, was_truncated))
}

/// An id as a string (Intercom sends most ids as strings, some as numbers).
fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Why a scroll attempt ended.
enum ScrollEnd {
    /// The scroll reached its end (an empty page).
    Done,
    /// The scroll broke off mid-way (expired, a 5xx, an answer lost or cut off): it
    /// must start again from the beginning, since a scroll can't be resumed and
    /// repeating a call could skip the page the server already moved past.
    Broken(Error),
}

/// Read the whole companies scroll, calling `on_company` once per company (even across
/// scroll restarts), and return every company's id and `updated_at`.
async fn scroll_companies(
    ctx: &ReadContext,
    stream: &'static str,
    mut on_company: impl FnMut(Value) -> Result<()>,
) -> Result<Vec<CompanyRef>> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut refs: Vec<CompanyRef> = Vec::new();
    let mut restarts = 0u32;
    loop {
        let end = scroll_once(ctx, stream, &mut |c: Value, id: String| {
            if !seen.insert(id.clone()) {
                return Ok(());
            }
            refs.push(CompanyRef {
                id,
                updated_at: cursor_value(&c, "updated_at"),
            });
            on_company(c)
        })
        .await?;
        match end {
            ScrollEnd::Done => return Ok(refs),
            ScrollEnd::Broken(e) => {
                restarts += 1;
                if restarts > ctx.settings.scroll_max_restarts {
                    return Err(e);
                }
                tracing::warn!(
                    "the companies scroll broke off ({e}); restarting it ({restarts} of {}); companies already read are not emitted again",
                    ctx.settings.scroll_max_restarts
                );
            }
        }
    }
}

/// Open the scroll, waiting while another client holds the workspace's one scroll.
async fn open_scroll(ctx: &ReadContext, stream: &'static str) -> Result<(Value, String)> {
    let mut busy_waited = Duration::ZERO;
    loop {
        let req = ApiRequest::get("/companies/scroll")
            .query("per_page", "150")
            .for_stream(stream)
            .expect(Expect::List(&["data"]));
        match ctx.client.json(&req).await {
            Ok(body) => return Ok((body, req.describe())),
            Err(e) if e.api_code() == Some("scroll_exists") => {
                if busy_waited >= ctx.settings.scroll_busy_max {
                    return Err(Error::Api {
                        endpoint: req.describe(),
                        status: 400,
                        code: Some("scroll_exists".into()),
                        detail: format!(
                            "scroll_exists: another client holds this workspace's one companies scroll, and it was still open after {:.1} s of waiting. Stop other tools that export companies from this workspace (or wait a few minutes), then retry",
                            busy_waited.as_secs_f64()
                        ),
                    });
                }
                let wait = ctx
                    .settings
                    .scroll_busy_wait
                    .min(ctx.settings.scroll_busy_max.saturating_sub(busy_waited))
                    .max(Duration::from_millis(1));
                tracing::warn!(
                    "another client is scrolling this workspace's companies (scroll_exists); waiting {} ms for its scroll to expire",
                    wait.as_millis()
                );
                tokio::time::sleep(wait).await;
                busy_waited += wait;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One pass over the scroll, from opening it to its empty last page, handing each
/// company and its id to `on_company`. A page with no company this pass hasn't seen is
/// a scroll going round in circles: an error, not an end.
async fn scroll_once(
    ctx: &ReadContext,
    stream: &'static str,
    on_company: &mut impl FnMut(Value, String) -> Result<()>,
) -> Result<ScrollEnd> {
    let (mut body, mut endpoint) = open_scroll(ctx, stream).await?;
    let mut this_pass: HashSet<String> = HashSet::new();
    loop {
        let companies = take_records(&mut body, &["data"], &endpoint)?;
        if companies.is_empty() {
            return Ok(ScrollEnd::Done);
        }
        // The scroll hands back the same scroll_param on every page: never a stop signal.
        let param = match body.get("scroll_param").and_then(Value::as_str) {
            Some(p) if !p.is_empty() => p.to_string(),
            _ => {
                return Err(Error::Decode {
                    endpoint,
                    message: "a page of companies came without a `scroll_param`".into(),
                })
            }
        };
        let mut new = 0usize;
        for c in companies {
            check_object(&c, &endpoint)?;
            let Some(id) = c.get("id").and_then(id_string) else {
                return Err(Error::Decode {
                    endpoint,
                    message: "a company has no `id`".into(),
                });
            };
            if this_pass.insert(id.clone()) {
                new += 1;
                on_company(c, id)?;
            }
        }
        if new == 0 {
            return Err(Error::Pagination {
                endpoint,
                message: "a page of the companies scroll holds only companies this scroll already returned, so it would never end".into(),
            });
        }
        // Mid-scroll, a failure means "restart the scroll": repeating the call won't help.
        let req = ApiRequest::get("/companies/scroll")
            .query("per_page", "150")
            .query("scroll_param", param)
            .for_stream(stream)
            .expect(Expect::List(&["data"]))
            .no_error_retries();
        endpoint = req.describe();
        body = match ctx.client.json(&req).await {
            Ok(b) => b,
            Err(e) if e.is_not_found() || e.root().is_retriable() => {
                return Ok(ScrollEnd::Broken(e))
            }
            Err(e) => return Err(e),
        };
    }
}

async fn read_companies(
    ctx: &ReadContext,
    mut pos: Option<&mut Position>,
    out: &mut Emitter,
) -> Result<()> {
    let stream = out.stream();
    let refs = scroll_companies(ctx, stream, |c| emit_filtered(c, pos.as_deref_mut(), out)).await?;
    ctx.cache_companies(refs);
    Ok(())
}

async fn read_company_segments(
    ctx: &ReadContext,
    mut pos: Option<&mut Position>,
    out: &mut Emitter,
) -> Result<()> {
    // The scroll is read in full before any segment request: a scroll left idle expires.
    let refs = match ctx.cached_companies() {
        Some(r) => r,
        None => ctx.cache_companies(scroll_companies(ctx, out.stream(), |_| Ok(())).await?),
    };
    let wanted: Vec<CompanyRef> = refs
        .iter()
        .filter(|c| match (&pos, c.updated_at) {
            (Some(p), Some(u)) => p.cursor.accepts(u),
            _ => true,
        })
        .cloned()
        .collect();
    let client = ctx.client.clone();
    let stream_name = out.stream();
    let mut requests = Vec::with_capacity(wanted.len());
    for c in wanted {
        let path = child_path("/companies", &c.id, "/segments", "GET /companies/scroll")?;
        requests.push((c, path));
    }
    let asked = requests.len();
    let mut missing = 0usize;
    let mut fetched = stream::iter(requests.into_iter().map(|(c, path)| {
        let client = client.clone();
        async move {
            let req = ApiRequest::get(path)
                .for_stream(stream_name)
                .expect(Expect::List(&["data"]));
            let res = client.json(&req).await;
            (c, req.describe(), res)
        }
    }))
    .buffered(ctx.settings.concurrency);
    while let Some((company, endpoint, res)) = fetched.next().await {
        let mut body = match res {
            Ok(b) => b,
            Err(e) if e.is_not_found() => {
                tracing::warn!(
                    "company {} was deleted during the sync (404); skipping its segments",
                    company.id
                );
                missing += 1;
                check_missing("companies the scroll had just listed", missing, asked)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        for mut seg in take_records(&mut body, &["data"], &endpoint)? {
            check_object(&seg, &endpoint)?;
            seg["company_id"] = Value::String(company.id.clone());
            seg["company_updated_at"] = company.updated_at.map_or(Value::Null, Value::from);
            out.record(seg)?;
        }
        if let (Some(p), Some(u)) = (pos.as_deref_mut(), company.updated_at) {
            p.cursor.observe(u);
        }
    }
    Ok(())
}

async fn read_activity_logs(
    ctx: &ReadContext,
    mut pos: Option<&mut Position>,
    out: &mut Emitter,
) -> Result<()> {
    let lower = lower_bound(ctx, pos.as_deref());
    let step = i64::from(ctx.config.activity_logs_time_step_days) * 86_400;
    let mut from = lower;
    while from <= ctx.now {
        // Both ends are inclusive.
        let to = from.saturating_add(step - 1).min(ctx.now);
        let req = ApiRequest::get("/admins/activity_logs")
            .for_stream(out.stream())
            .query("created_at_after", from.to_string())
            .query("created_at_before", to.to_string());
        let endpoint = req.describe();
        let mut pages = Pages::new(
            ctx.client.clone(),
            req,
            Paging::PageNumber { per_page: 150 },
            &["activity_logs"],
        );
        while let Some(mut body) = pages.next_page().await? {
            for r in take_records(&mut body, &["activity_logs"], &endpoint)? {
                check_object(&r, &endpoint)?;
                if cursor_value(&r, "created_at").is_some_and(|v| v < lower) {
                    continue;
                }
                emit_filtered(r, pos.as_deref_mut(), out)?;
            }
        }
        // A window is complete: nothing before its end is left to read.
        if let Some(p) = pos.as_deref() {
            out.checkpoint(p.blob())?;
        }
        from = to.saturating_add(1);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_bodies() {
        let contacts = Search {
            path: "/contacts/search",
            records: &["data"],
            role: Some("lead"),
            day_granular: true,
            index_lag: true,
        };
        let b = search_body(&contacts, 1_700_000_000);
        assert_eq!(b["query"]["operator"], "AND");
        assert_eq!(
            b["query"]["value"][0],
            json!({"field": "role", "operator": "=", "value": "lead"})
        );
        assert_eq!(
            b["query"]["value"][1],
            json!({"field": "updated_at", "operator": ">", "value": 1_700_000_000 - 86_400})
        );
        assert_eq!(
            b["sort"],
            json!({"field": "updated_at", "order": "ascending"})
        );
        let conv = Search {
            role: None,
            day_granular: false,
            ..contacts
        };
        assert_eq!(
            search_body(&conv, 100)["query"],
            json!({"field": "updated_at", "operator": ">", "value": 99})
        );
    }

    #[test]
    fn parts_get_their_conversation_and_truncation_is_detected() {
        let conv = json!({"id": "7", "created_at": 1, "updated_at": 9,
            "statistics": {"count_conversation_parts": 3},
            "conversation_parts": {"conversation_parts": [{"id": "a"}, {"id": "b"}], "total_count": 2}});
        let (parts, truncated) = parts_of(conv, "7").unwrap();
        assert!(!truncated, "count includes the source message");
        assert_eq!(parts[0]["conversation_id"], "7");
        assert_eq!(parts[1]["conversation_updated_at"], 9);
        assert_eq!(parts[1]["conversation_total_parts"], 2);
        let big = json!({"id": "8", "statistics": {"count_conversation_parts": 601},
            "conversation_parts": {"conversation_parts": [{"id": "a"}], "total_count": 1}});
        let (_, truncated) = parts_of(big, "8").unwrap();
        assert!(truncated);
        assert!(parts_of(
            json!({"conversation_parts": {"conversation_parts": 5}}),
            "9"
        )
        .is_err());
    }

    #[test]
    fn checkpoints_never_repeat() {
        let cap = crate::output::Captured::default();
        let mut e = Emitter::new(Output::to_writer(cap.clone()), "s");
        e.checkpoint(json!({"updated_at": 1})).unwrap();
        e.checkpoint(json!({"updated_at": 1})).unwrap();
        e.record(json!({"id": 1})).unwrap();
        e.checkpoint(json!({"updated_at": 1})).unwrap();
        e.checkpoint(json!({"updated_at": 2})).unwrap();
        let states: Vec<_> = cap
            .messages()
            .into_iter()
            .filter(|m| m["type"] == "STATE")
            .collect();
        assert_eq!(states.len(), 3);
        assert_eq!(states[1]["state"]["sourceStats"]["recordCount"], 1.0);
        assert_eq!(states[2]["state"]["sourceStats"]["recordCount"], 0.0);
    }
}
