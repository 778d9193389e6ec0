//! Intercom's reporting datasets as streams (`report_<dataset id>`), read through the
//! Reporting Data Export endpoints (Intercom-Version 2.14, the version that has them).
//!
//! - `discover` lists one stream per dataset of `GET /export/reporting_data/get_datasets`
//!   ([`catalog_entries`]): one column per attribute, strings but for the dataset's
//!   time attribute (epoch seconds), which is the cursor. A dataset with one row per
//!   object has that object's id as primary key ([`KEYS`]: `conversation_id`,
//!   `ticket_id`); the others (`conversation_actions`: several rows per conversation,
//!   and any dataset Intercom adds) have none.
//! - `read` asks for the datasets again, then reads each window of
//!   `SOURCE_INTERCOM_REPORT_WINDOW_DAYS` from the saved position (else `start_date`)
//!   to the sync's start, one after the other: `POST /export/reporting_data/enqueue`
//!   (a 429, Intercom's limit of pending export jobs, is waited out by the client's
//!   rate-limit retries), `GET /export/reporting_data/{job}` with a doubling pause
//!   until the job is `complete` (a `failed` job is enqueued again once), then
//!   `GET /download/reporting_data/{job}`: a CSV, gzip-compressed or not, whose
//!   header row names the attributes. Rows are emitted as they are parsed, empty
//!   cells as null.
//! - An incremental stream saves `{<time attribute>: <end of the last window read>}`
//!   after each window; windows are `[start, end)`, so the next sync starts where the
//!   last window ended and reads no row twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Map, Value};

use super::emit::Emitter;
use super::{keep_max, report_stream_failure, Ctx, Running};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::http::client::{path_segment, Expect};
use crate::http::{ApiRequest, Client};
use crate::protocol::{
    AirbyteStream, ConfiguredStream, FailureType, Message, StreamStatus, SyncMode,
};
use crate::state::InputState;

/// The API version the reporting endpoints were released in.
pub const VERSION: &str = "2.14";

/// Report streams are named `report_<dataset id>`.
pub const PREFIX: &str = "report_";

/// The permissions a report stream needs, as the Developer Hub names them: the first
/// for `get_datasets`, the second for the export jobs (for the test that holds the
/// documentation to them).
#[cfg(test)]
pub const PERMISSIONS: [&str; 2] = ["Read reporting datasets", "Export reporting data"];

/// The two permissions as error messages quote a permission (`needs the "…" permission`).
const PERMISSION: &str = "Read reporting datasets\" and \"Export reporting data";

const DATASETS: &str = "/export/reporting_data/get_datasets";
const ENQUEUE: &str = "/export/reporting_data/enqueue";
const OCTET_STREAM: &str = "application/octet-stream";

/// The datasets with one row per object, and the attribute that is that object's id:
/// their primary key, when the dataset lists the attribute.
pub const KEYS: [(&str, &str); 2] = [("conversation", "conversation_id"), ("ticket", "ticket_id")];

/// Whether a stream name is a report stream's.
pub fn is_report(name: &str) -> bool {
    name.starts_with(PREFIX)
}

/// One dataset of `get_datasets`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub id: String,
    /// `default_time_attribute_id`: the attribute windows select rows by.
    pub time: String,
    pub attributes: Vec<Attribute>,
    /// The attribute unique per row ([`KEYS`]), if the dataset has it.
    pub key: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub id: String,
    /// `prefix.id`, which `enqueue` wants when the simple id is ambiguous.
    pub qualified_id: Option<String>,
}

impl Attribute {
    /// The id sent in `attribute_ids`.
    fn asked(&self) -> &str {
        self.qualified_id.as_deref().unwrap_or(&self.id)
    }

    /// Whether the dataset says the attribute is a time (its qualified id is in the
    /// `timestamp` namespace: `timestamp.conversation_started_at`), which the file holds
    /// as epoch seconds.
    fn is_time(&self) -> bool {
        self.qualified_id
            .as_deref()
            .is_some_and(|q| q.starts_with("timestamp."))
    }
}

impl Dataset {
    /// Whether an attribute's cells are epoch seconds (integers): the time attribute,
    /// and any attribute the dataset says is a time.
    fn integer(&self, a: &Attribute) -> bool {
        a.id == self.time || a.is_time()
    }

    /// The stream's JSON schema: a column per attribute, integers for times, strings
    /// otherwise (the API says no other type).
    fn schema(&self) -> Value {
        let mut props = Map::new();
        for a in &self.attributes {
            let kind = if self.integer(a) { "integer" } else { "string" };
            props.insert(a.id.clone(), json!({"type": ["null", kind]}));
        }
        json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": true,
            "properties": props,
        })
    }

    /// Whether an attribute is always exported: the time attribute and the key.
    fn always(&self, id: &str) -> bool {
        id == self.time || self.key.as_deref() == Some(id)
    }

    /// The attributes an export asks for: those of `columns` the dataset has (the time
    /// attribute and the key always), or all of them when `columns` names none of them.
    fn selected(&self, stream: &str, columns: Option<&[String]>) -> Vec<&Attribute> {
        let Some(columns) = columns.filter(|c| !c.is_empty()) else {
            return self.attributes.iter().collect();
        };
        let unknown: Vec<&str> = columns
            .iter()
            .filter(|c| !self.attributes.iter().any(|a| &a.id == *c))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            tracing::warn!(
                "stream {stream}: the catalog selects columns the dataset `{}` does not have, which are left out: {}",
                self.id,
                crate::redact::server_text(&unknown.join(", "), 300)
            );
        }
        let picked: Vec<&Attribute> = self
            .attributes
            .iter()
            .filter(|a| self.always(&a.id) || columns.contains(&a.id))
            .collect();
        if picked.iter().all(|a| self.always(&a.id)) && unknown.len() == columns.len() {
            return self.attributes.iter().collect();
        }
        picked
    }
}

/// Parse a `get_datasets` answer. A dataset without an id, a time attribute or
/// attributes is left out with a warning.
pub fn parse_datasets(v: &Value) -> Vec<Dataset> {
    let mut out = Vec::new();
    for d in v
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = d.get("id").and_then(Value::as_str).unwrap_or_default();
        let time = d
            .get("default_time_attribute_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let valid_id = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid_id || time.is_empty() {
            tracing::warn!(
                "{DATASETS}: a dataset without a usable id or default_time_attribute_id is left out (id {:?})",
                crate::redact::server_text(id, 60)
            );
            continue;
        }
        let mut attributes: Vec<Attribute> = Vec::new();
        for a in d
            .get("attributes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(aid) = a
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            else {
                continue;
            };
            if attributes.iter().any(|x| x.id == aid) {
                continue;
            }
            attributes.push(Attribute {
                id: aid.to_string(),
                qualified_id: a
                    .get("qualified_id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            });
        }
        if !attributes.iter().any(|a| a.id == time) {
            attributes.push(Attribute {
                id: time.to_string(),
                qualified_id: None,
            });
        }
        let key = KEYS
            .iter()
            .find(|(d, k)| *d == id && attributes.iter().any(|a| a.id == *k))
            .map(|(_, k)| k.to_string());
        out.push(Dataset {
            id: id.to_string(),
            time: time.to_string(),
            attributes,
            key,
        });
    }
    out
}

/// `GET /export/reporting_data/get_datasets`: for a stream's read with the client's
/// retries; for discover (no stream), which lists the other streams without it, with
/// one retry of an error, so that an unreachable or failing API delays it by one
/// backoff at most.
pub async fn datasets(client: &Client, stream: Option<&'static str>) -> Result<Vec<Dataset>> {
    let mut req = ApiRequest::get(DATASETS)
        .version(VERSION)
        .expect(Expect::List(&["data"]));
    req = match stream {
        Some(s) => req.for_stream(s),
        None => req.error_retries(1),
    };
    Ok(parse_datasets(&client.json(&req).await?))
}

/// The catalog entries of the datasets.
pub fn catalog_entries(datasets: &[Dataset]) -> Vec<AirbyteStream> {
    datasets
        .iter()
        .map(|d| AirbyteStream {
            name: format!("{PREFIX}{}", d.id),
            json_schema: d.schema(),
            supported_sync_modes: vec![SyncMode::FullRefresh, SyncMode::Incremental],
            source_defined_cursor: Some(true),
            default_cursor_field: Some(vec![d.time.clone()]),
            source_defined_primary_key: Some(d.key.iter().map(|k| vec![k.clone()]).collect()),
            is_resumable: false,
        })
        .collect()
}

/// The report streams `discover` lists: none, with a warning saying why, when the
/// datasets can't be had.
pub async fn discover(client: &Client) -> Vec<AirbyteStream> {
    match datasets(client, None).await {
        Ok(d) => catalog_entries(&d),
        Err(e) => {
            let why = match e.root() {
                Error::NotPermitted { .. } | Error::Unauthorized { .. } => format!(
                    "the access token's app lacks the permissions \"{PERMISSION}\" (Developer Hub > your app > Configure > Authentication) or the workspace's plan lacks reporting exports"
                ),
                _ => "the request failed; refresh the source schema once Intercom answers to list them".to_string(),
            };
            tracing::warn!(
                "no report_* streams are listed: {why} ({e}); the other streams are listed as usual"
            );
            Vec::new()
        }
    }
}

/// A report stream the configured catalog selects.
#[derive(Debug, Clone)]
pub struct ReportStream {
    pub name: &'static str,
    pub dataset: String,
    pub mode: SyncMode,
    /// The columns the catalog's `json_schema.properties` lists, if any.
    pub columns: Option<Vec<String>>,
    /// The stream's saved state, read once the time attribute is known.
    pub state: Option<Value>,
}

/// Check the report streams of a configured catalog.
pub fn plan(streams: &[&ConfiguredStream], state: &InputState) -> Result<Vec<ReportStream>> {
    let mut out: Vec<ReportStream> = Vec::new();
    for cs in streams {
        let name = cs.stream.name.as_str();
        if out.iter().any(|r| r.name == name) {
            return Err(Error::Catalog(format!(
                "stream `{}` appears twice in the catalog",
                crate::redact::server_text(name, 80)
            )));
        }
        let dataset = &name[PREFIX.len()..];
        let mode = match cs.sync_mode.as_str() {
            "full_refresh" => SyncMode::FullRefresh,
            "incremental" => SyncMode::Incremental,
            other => {
                return Err(Error::Catalog(format!(
                    "stream `{}` has sync_mode {:?}; use \"full_refresh\" or \"incremental\"",
                    crate::redact::server_text(name, 80),
                    crate::redact::server_text(other, 40)
                )))
            }
        };
        let columns = cs
            .stream
            .json_schema
            .as_ref()
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect::<Vec<_>>());
        out.push(ReportStream {
            // A handful per sync, named for its whole length.
            name: Box::leak(name.to_string().into_boxed_str()),
            dataset: dataset.to_string(),
            mode,
            columns,
            state: state.get(name).cloned(),
        });
    }
    Ok(out)
}

/// Read one report stream to its end: STARTED, RUNNING, records and states, then
/// COMPLETE, or INCOMPLETE and its ERROR trace. Returns how many streams failed (0 or
/// 1); an error that dooms the sync is returned.
pub async fn run(ctx: Arc<Ctx>, r: ReportStream) -> Result<usize> {
    ctx.output
        .emit(&Message::stream_status(r.name, StreamStatus::Started))?;
    ctx.output
        .emit(&Message::stream_status(r.name, StreamStatus::Running))?;
    let mut emitter = Emitter::new(ctx.output.clone(), r.name);
    ctx.running().push(Running {
        stream: r.name,
        started: Instant::now(),
        records: emitter.counter(),
    });
    let result = read(&ctx, &r, &mut emitter).await;
    ctx.running().retain(|x| x.stream != r.name);
    match result {
        Ok(()) => {
            ctx.output
                .emit(&Message::stream_status(r.name, StreamStatus::Complete))?;
            Ok(0)
        }
        Err(e) if e.is_fatal_for_sync() => Err(e),
        Err(e) => {
            emitter.flush()?;
            let e = e.needing(r.name, PERMISSION);
            tracing::warn!("stream {} failed: {e}", r.name);
            report_stream_failure(&ctx.output, r.name, &e)?;
            Ok(1)
        }
    }
}

/// The oldest start Intercom accepts for an export: `retention_days` before `end` on
/// its clock, less a day's margin for the time until the last job is enqueued.
/// `lower` when it is later; else that start, with an INFO when `start_date` is older
/// (Intercom keeps no older reporting data), a WARN when a saved position is (the
/// rows between it and that start are gone from Intercom).
pub fn within_retention(
    stream: &str,
    lower: i64,
    saved: Option<i64>,
    end: i64,
    retention_days: u32,
) -> i64 {
    let oldest = end.saturating_sub(i64::from(retention_days.saturating_sub(1)) * 86_400);
    if lower >= oldest {
        return lower;
    }
    let date = rfc3339(oldest);
    match saved {
        Some(s) if s < oldest => tracing::warn!(
            "stream {stream}: the saved position ({}) is older than Intercom keeps reporting data ({retention_days} days, SOURCE_INTERCOM_REPORT_RETENTION_DAYS): exporting from {date}; rows between the two can no longer be exported",
            rfc3339(s)
        ),
        _ => tracing::info!(
            "stream {stream}: start_date is older than Intercom keeps reporting data ({retention_days} days, SOURCE_INTERCOM_REPORT_RETENTION_DAYS): exporting from {date}"
        ),
    }
    oldest
}

/// Epoch seconds as `2024-01-01T00:00:00Z`, for logs.
fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

/// The windows `[from, to)` covering `[lower, end)`, `days` long.
pub fn windows(lower: i64, end: i64, days: u32) -> Vec<(i64, i64)> {
    let step = i64::from(days.max(1)).saturating_mul(86_400);
    let mut out = Vec::new();
    let mut from = lower;
    while from < end {
        let to = from.saturating_add(step).min(end);
        out.push((from, to));
        from = to;
    }
    out
}

async fn read(ctx: &Arc<Ctx>, r: &ReportStream, em: &mut Emitter) -> Result<()> {
    let all = datasets(&ctx.client, Some(r.name)).await?;
    let Some(d) = all.iter().find(|d| d.id == r.dataset) else {
        let known: Vec<&str> = all.iter().map(|d| d.id.as_str()).collect();
        return Err(Error::Config(format!(
            "stream `{}`: Intercom no longer lists the reporting dataset `{}` ({DATASETS} lists: {}); refresh the source schema and deselect the stream",
            r.name,
            crate::redact::server_text(&r.dataset, 80),
            known.join(", ")
        )));
    };
    let attrs: Arc<[Attribute]> = d
        .selected(r.name, r.columns.as_deref())
        .into_iter()
        .cloned()
        .collect();
    let saved = match r.mode {
        SyncMode::Incremental => {
            crate::cursor::saved_position(r.name, r.state.as_ref(), &d.time, None)?
        }
        SyncMode::FullRefresh => None,
    };
    let app_id: Option<Arc<str>> = app_id(ctx, r.name).await.map(Arc::from);
    let cfg = &ctx.config;
    // The lower bound every incremental stream reads from (start_date, lookback).
    let lower = Cursor::new(saved, cfg.start_date, cfg.lookback_window_days, ctx.now, 0).lower();
    if let Some(s) = saved {
        tracing::info!("stream {}: resuming from {} = {s}", r.name, d.time);
    }
    // Nothing Intercom writes after the sync's start (on its clock) is claimed.
    let end = ctx.start_on_intercom_clock();
    let lower = within_retention(
        r.name,
        lower,
        saved,
        end,
        ctx.settings.report_retention_days,
    );
    let all_windows = windows(lower, end, ctx.settings.report_window_days);
    tracing::info!(
        "stream {}: {} export window(s) of up to {} days, {} attributes",
        r.name,
        all_windows.len(),
        ctx.settings.report_window_days,
        attrs.len()
    );
    let mut position = saved;
    let dataset = Arc::new(d.clone());
    let jobs: Vec<Job> = all_windows
        .into_iter()
        .map(|(from, to)| Job {
            ctx: ctx.clone(),
            stream: r.name,
            dataset: dataset.clone(),
            attrs: attrs.clone(),
            from,
            to,
            app_id: app_id.clone(),
        })
        .collect();
    // Up to Intercom's limit of pending jobs are exported at once (shared by every
    // report stream of the sync, `Ctx::report_jobs`); their files are emitted in the
    // windows' order. Each job runs on a task of its own: its polls go on, and free the
    // request slots they hold, while this stream writes another job's file.
    let mut ready =
        futures::stream::iter(jobs.iter().cloned().map(Spawned::of)).buffered(PENDING_JOBS);
    let mut order = jobs.iter();
    while let (Some(id), Some(job)) = (ready.next().await, order.next()) {
        job.download(&id?, em).await?;
        if r.mode == SyncMode::Incremental {
            keep_max(&mut position, job.to);
            em.checkpoint_if_moved(json!({ d.time.as_str(): position }))?;
        }
    }
    match (r.mode, position) {
        (SyncMode::Incremental, Some(p)) => em.checkpoint(json!({ d.time.as_str(): p })),
        (SyncMode::Incremental, None) => em.flush(),
        (SyncMode::FullRefresh, _) => em.checkpoint(json!({"__ab_no_cursor_state_message": true})),
    }
}

/// The workspace's `app_id` (`/me`'s `app.id_code`), which Intercom's reference asks
/// for on status polls and downloads; `None` when `/me` doesn't say.
async fn app_id(ctx: &Ctx, stream: &'static str) -> Option<String> {
    match ctx
        .client
        .json(&ApiRequest::get("/me").for_stream(stream))
        .await
    {
        Ok(me) => me
            .pointer("/app/id_code")
            .and_then(Value::as_str)
            .map(str::to_string),
        Err(e) => {
            tracing::debug!(
                "stream {stream}: /me did not give the app id ({e}); polls are sent without app_id"
            );
            None
        }
    }
}

/// Intercom's limit on a workspace's pending reporting export jobs: a job holds one of
/// [`Ctx::report_jobs`] from its enqueueing until it is complete (or has failed twice).
pub(crate) const PENDING_JOBS: usize = 5;

/// One export window.
#[derive(Clone)]
struct Job {
    ctx: Arc<Ctx>,
    stream: &'static str,
    dataset: Arc<Dataset>,
    attrs: Arc<[Attribute]>,
    from: i64,
    to: i64,
    app_id: Option<Arc<str>>,
}

/// A job's [`Job::ready`] on a task of its own, aborted when dropped (a stream that
/// stops leaves none running).
struct Spawned(tokio::task::JoinHandle<Result<String>>);

impl Spawned {
    fn of(job: Job) -> Spawned {
        Spawned(tokio::spawn(async move { job.ready().await }))
    }
}

impl std::future::Future for Spawned {
    type Output = Result<String>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<String>> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|e| {
                Err(Error::Internal(format!(
                    "an export job's task stopped: {e}"
                )))
            })
        })
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A status poll's answer must say the status.
fn has_status(v: &Value) -> std::result::Result<Vec<Value>, String> {
    match v.get("status") {
        Some(Value::String(_)) => Ok(Vec::new()),
        _ => Err("the answer has no `status` string".into()),
    }
}

impl Job {
    fn window(&self) -> String {
        format!("the window [{}, {})", self.from, self.to)
    }

    fn fail(&self, message: String, failure_type: FailureType) -> Error {
        Error::Report {
            message: format!("stream `{}`: {message}", self.stream),
            failure_type,
        }
    }

    /// Enqueue and wait until the job is complete: its id. A failed job is enqueued
    /// again once. Holds one of the workspace's pending jobs meanwhile.
    async fn ready(&self) -> Result<String> {
        let _pending = self.ctx.report_jobs.acquire().await.map_err(|_| {
            self.fail(
                "the limit on pending export jobs was closed".into(),
                FailureType::SystemError,
            )
        })?;
        let first = self.enqueue().await?;
        if self.wait(&first).await? {
            return Ok(first);
        }
        tracing::warn!(
            "stream {}: the export job {first} for {} failed at Intercom; enqueueing it again",
            self.stream,
            self.window()
        );
        let second = self.enqueue().await?;
        if self.wait(&second).await? {
            return Ok(second);
        }
        Err(self.fail(
            format!(
                "the export jobs {first} and {second} for {} of dataset `{}` both failed at Intercom; the next sync tries the window again",
                self.window(),
                self.dataset.id
            ),
            FailureType::TransientError,
        ))
    }

    /// `POST /export/reporting_data/enqueue`: the job's id.
    async fn enqueue(&self) -> Result<String> {
        let ids: Vec<&str> = self.attrs.iter().map(|a| a.asked()).collect();
        let req = ApiRequest::post(
            ENQUEUE,
            json!({
                "dataset_id": self.dataset.id,
                "attribute_ids": ids,
                "start_time": self.from,
                "end_time": self.to,
            }),
        )
        .version(VERSION)
        .for_stream(self.stream);
        let answer = self.ctx.client.json(&req).await.map_err(|e| {
            if matches!(e.root(), Error::Api { status: 429, .. }) {
                self.fail(
                    format!(
                        "Intercom's limit of pending reporting export jobs per workspace ({PENDING_JOBS}) stayed reached while {} waited to enqueue {}; other exports of this workspace may be running ({e})",
                        ENQUEUE,
                        self.window()
                    ),
                    FailureType::TransientError,
                )
            } else if let Error::Api {
                status: 400,
                detail,
                ..
            } = e.root()
            {
                self.fail(
                    format!(
                        "Intercom refused to export {} of dataset `{}`: {detail}. If it speaks of the retention period: the workspace keeps less reporting data than SOURCE_INTERCOM_REPORT_RETENTION_DAYS ({} days) says; set it to the workspace's retention (730 days by default, 1,095 with extended retention), or set start_date later",
                        self.window(),
                        self.dataset.id,
                        self.ctx.settings.report_retention_days
                    ),
                    FailureType::ConfigError,
                )
            } else {
                e
            }
        })?;
        match answer.get("job_identifier").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => Ok(id.to_string()),
            _ => Err(Error::Decode {
                endpoint: req.describe(),
                message: "the answer has no `job_identifier`".into(),
            }),
        }
    }

    fn job_request(&self, prefix: &str, job: &str) -> Result<ApiRequest> {
        let seg = path_segment(job).map_err(|message| Error::Decode {
            endpoint: ENQUEUE.into(),
            message,
        })?;
        let mut req = ApiRequest::get(format!("{prefix}{seg}"))
            .version(VERSION)
            .for_stream(self.stream);
        if let Some(app) = &self.app_id {
            req = req.query("app_id", app.as_ref());
        }
        Ok(req.query("job_identifier", job))
    }

    /// Poll the job until it is `complete` (true) or `failed` (false): at once (a small
    /// export is often ready by then), then after `report_poll_first`, doubling up to
    /// `report_poll_max`, for at most `report_job_max_wait` in all.
    async fn wait(&self, job: &str) -> Result<bool> {
        let s = &self.ctx.settings;
        let req = self
            .job_request("/export/reporting_data/", job)?
            .expect(Expect::Rows(has_status));
        let started = Instant::now();
        let mut pause = Duration::ZERO;
        loop {
            tokio::time::sleep(pause).await;
            let v = self.ctx.client.json(&req).await?;
            let status = v.get("status").and_then(Value::as_str).unwrap_or_default();
            match status {
                "complete" => return Ok(true),
                "failed" => return Ok(false),
                _ => {}
            }
            pause = (pause * 2).clamp(s.report_poll_first, s.report_poll_max);
            if started.elapsed() + pause > s.report_job_max_wait {
                return Err(self.fail(
                    format!(
                        "the export job {job} for {} was still `{}` after {:.0} s (SOURCE_INTERCOM_REPORT_JOB_MAX_SECS); the next sync tries the window again",
                        self.window(),
                        crate::redact::server_text(status, 40),
                        started.elapsed().as_secs_f64()
                    ),
                    FailureType::TransientError,
                ));
            }
        }
    }

    /// `GET /download/reporting_data/{job}`, its rows emitted as they arrive. A file
    /// that breaks off or can't be read is downloaded again (up to
    /// [`DOWNLOAD_RESTARTS`] times) and its rows emitted already are skipped: a
    /// complete job's file is the same each time.
    async fn download(&self, job: &str, em: &mut Emitter) -> Result<()> {
        let req = self
            .job_request("/download/reporting_data/", job)?
            .accept(OCTET_STREAM);
        let mut emitted = 0u64;
        let mut restarts = 0u32;
        loop {
            let resp = self.ctx.client.open(&req).await?;
            let file = read_file(resp, &self.dataset, &self.attrs, emitted, em).await;
            let e = match file {
                Ok(rows) => {
                    tracing::debug!("stream {}: {rows} rows in {}", self.stream, self.window());
                    return Ok(());
                }
                Err((FileError::Emit(e), _)) => return Err(e),
                Err((e, rows)) => {
                    emitted = emitted.max(rows);
                    e
                }
            };
            if restarts < DOWNLOAD_RESTARTS {
                restarts += 1;
                tracing::warn!(
                    "stream {}: the export file of job {job} for {}: {}; downloading it again ({restarts} of {DOWNLOAD_RESTARTS}), skipping its {emitted} rows emitted already",
                    self.stream,
                    self.window(),
                    e.describe()
                );
                continue;
            }
            return Err(match e {
                FileError::Cell { row, column, value } => self.fail(
                    format!(
                        "row {row} of the export file of job {job} ({}) has {value:?} in column `{column}`, which should be an integer (epoch seconds), in each of {} downloads",
                        self.window(),
                        DOWNLOAD_RESTARTS + 1
                    ),
                    FailureType::SystemError,
                ),
                other => Error::Decode {
                    endpoint: req.describe(),
                    message: format!(
                        "the export file of job {job} for {}: {} (downloaded {} times)",
                        self.window(),
                        other.describe(),
                        DOWNLOAD_RESTARTS + 1
                    ),
                },
            });
        }
    }
}

/// Times an export file that broke off or could not be read is downloaded again.
const DOWNLOAD_RESTARTS: u32 = 3;

/// The longest a download waits for its next bytes.
const CHUNK_WAIT: Duration = Duration::from_secs(120);

/// Chunks of the body on their way to the parser, and rows on their way back: what
/// a download holds in memory, with the parser's buffers.
const CHUNKS_QUEUED: usize = 8;
const ROWS_QUEUED: usize = 256;

/// Why an export file could not be emitted.
#[derive(Debug)]
enum FileError {
    /// The body broke off or stalled.
    Broken(String),
    /// Not gzip or CSV as it should be (cut off, not UTF-8, rows of the wrong width).
    Read(String),
    /// A cell of an integer column that is not an integer.
    Cell {
        row: u64,
        column: String,
        value: String,
    },
    Emit(Error),
}

impl FileError {
    fn describe(&self) -> String {
        match self {
            FileError::Broken(m) => format!("the download broke off ({m})"),
            FileError::Read(m) => m.clone(),
            FileError::Cell { row, column, value } => {
                format!("row {row} has {value:?} in the integer column `{column}`")
            }
            FileError::Emit(e) => e.to_string(),
        }
    }
}

/// Read a download as it arrives: the body's chunks go to a parser on a blocking
/// thread ([`parse_rows`]), whose rows come back to be emitted here, both through
/// short queues, so no more than a few chunks and rows are held at once. The file's
/// first `skip` rows are parsed but not emitted. Returns the file's rows; on failure,
/// the error and how many of the file's rows are emitted by now (`skip` included).
async fn read_file(
    mut resp: reqwest::Response,
    d: &Arc<Dataset>,
    attrs: &Arc<[Attribute]>,
    skip: u64,
    em: &mut Emitter,
) -> std::result::Result<u64, (FileError, u64)> {
    let (chunk_tx, chunk_rx) =
        tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(CHUNKS_QUEUED);
    let (row_tx, mut row_rx) = tokio::sync::mpsc::channel::<Value>(ROWS_QUEUED);
    let (dataset, attributes) = (d.clone(), attrs.clone());
    let parser = tokio::task::spawn_blocking(move || {
        let input = ChunkReader {
            rx: chunk_rx,
            at: bytes::Bytes::new(),
        };
        parse_rows(input, &dataset, &attributes, |row, v| {
            if row > skip && row_tx.blocking_send(v).is_err() {
                // The reader stopped (it failed to emit): stop too.
                return Err(FileError::Read("the rows were not taken".into()));
            }
            Ok(())
        })
    });
    let feed = async move {
        loop {
            let broken = match tokio::time::timeout(CHUNK_WAIT, resp.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    if chunk_tx.send(Ok(chunk)).await.is_err() {
                        return Ok(()); // the parser ended early; it says why
                    }
                    continue;
                }
                Ok(Ok(None)) => return Ok(()),
                Ok(Err(e)) => crate::redact::server_text(&e.to_string(), 200),
                Err(_) => format!("no bytes came for {} s", CHUNK_WAIT.as_secs()),
            };
            let _ = chunk_tx
                .send(Err(std::io::Error::other(broken.clone())))
                .await;
            return Err(broken);
        }
    };
    let mut emitted = 0u64;
    let take = async {
        while let Some(v) = row_rx.recv().await {
            em.value(&v)?;
            emitted += 1;
        }
        Ok::<(), Error>(())
    };
    let (fed, taken) = tokio::join!(feed, take);
    let parsed = parser.await;
    let done = skip + emitted;
    if let Err(e) = taken {
        return Err((FileError::Emit(e), done));
    }
    if let Err(m) = fed {
        return Err((FileError::Broken(m), done));
    }
    match parsed {
        Ok(Ok(rows)) => Ok(rows),
        Ok(Err(e)) => Err((e, done)),
        Err(e) => Err((
            FileError::Emit(Error::Internal(format!(
                "the export file's parser stopped: {e}"
            ))),
            done,
        )),
    }
}

/// The body's chunks as a blocking [`std::io::Read`] (for the parser's thread).
struct ChunkReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>,
    at: bytes::Bytes,
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.at = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.at.len());
        buf[..n].copy_from_slice(&self.at[..n]);
        bytes::Buf::advance(&mut self.at, n);
        Ok(n)
    }
}

/// Parse an export file (gzip-compressed when it starts with gzip's magic bytes, else
/// plain) as CSV, a row at a time, and hand each row to `sink` with its number (from
/// 1): columns named by the header row (mapped back from qualified ids), times (the
/// time attribute, `timestamp.*` attributes) as integers, empty cells as null. Returns
/// the number of rows.
fn parse_rows(
    mut input: impl std::io::Read,
    d: &Dataset,
    attrs: &[Attribute],
    mut sink: impl FnMut(u64, Value) -> std::result::Result<(), FileError>,
) -> std::result::Result<u64, FileError> {
    use std::io::Read as _;
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < magic.len() {
        match input.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FileError::Read(format!("it can't be read ({e})"))),
        }
    }
    let head = std::io::Cursor::new(magic[..got].to_vec());
    let whole = head.chain(input);
    let reader: Box<dyn std::io::Read> = if magic[..got] == [0x1f, 0x8b] {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            whole,
        )))
    } else {
        Box::new(whole)
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let header = csv
        .headers()
        .map_err(|e| FileError::Read(format!("its header row can't be read ({e})")))?
        .clone();
    let columns: Vec<(String, bool)> = header
        .iter()
        .map(|h| {
            match attrs
                .iter()
                .find(|a| a.id == h || a.qualified_id.as_deref() == Some(h))
            {
                Some(a) => (a.id.clone(), d.integer(a)),
                None => (h.to_string(), h == d.time),
            }
        })
        .collect();
    let mut record = csv::StringRecord::new();
    let mut row = 0u64;
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(row),
            Err(e) => {
                return Err(FileError::Read(format!(
                    "row {} can't be read ({e})",
                    row + 1
                )))
            }
        }
        row += 1;
        let mut obj = Map::with_capacity(columns.len());
        for (cell, (name, integer)) in record.iter().zip(&columns) {
            let v = if cell.is_empty() {
                Value::Null
            } else if *integer {
                match cell.trim().parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => {
                        return Err(FileError::Cell {
                            row,
                            column: name.clone(),
                            value: crate::redact::server_text(cell, 40),
                        })
                    }
                }
            } else {
                Value::String(cell.to_string())
            };
            obj.insert(name.clone(), v);
        }
        sink(row, Value::Object(obj))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn dataset() -> Dataset {
        parse_datasets(&json!({"type": "list", "data": [
            {"id": "ticket", "default_time_attribute_id": "ticket_created_at", "attributes": [
                {"id": "ticket_id", "qualified_id": "standard.ticket_id"},
                {"id": "ticket_created_at", "qualified_id": "timestamp.ticket_created_at"},
                {"id": "title"},
                {"id": "ticket_last_updated_at", "qualified_id": "timestamp.ticket_last_updated_at"}
            ]},
            {"id": "../x", "default_time_attribute_id": "t", "attributes": []},
            {"id": "no_time", "attributes": []}
        ]}))
        .remove(0)
    }

    #[test]
    fn datasets_become_streams_with_the_time_attribute_as_cursor() {
        let d = dataset();
        let e = &catalog_entries(std::slice::from_ref(&d))[0];
        assert_eq!(e.name, "report_ticket");
        assert_eq!(
            e.default_cursor_field,
            Some(vec!["ticket_created_at".into()])
        );
        assert_eq!(
            e.json_schema["properties"]["ticket_created_at"]["type"],
            json!(["null", "integer"])
        );
        assert_eq!(
            e.json_schema["properties"]["title"]["type"],
            json!(["null", "string"])
        );
        assert_eq!(
            e.source_defined_primary_key,
            Some(vec![vec!["ticket_id".to_string()]])
        );
        let picked: Vec<&str> = d
            .selected("s", Some(&["title".to_string()]))
            .iter()
            .map(|a| a.asked())
            .collect();
        assert_eq!(
            picked,
            ["standard.ticket_id", "timestamp.ticket_created_at", "title"]
        );
        // Without its id attribute, a dataset has no key.
        let keyless = parse_datasets(&json!({"data": [
            {"id": "ticket", "default_time_attribute_id": "t", "attributes": [{"id": "title"}]},
            {"id": "conversation_actions", "default_time_attribute_id": "t", "attributes": [{"id": "action_id"}]}
        ]}));
        assert!(keyless.iter().all(|d| d.key.is_none()));
        assert_eq!(
            catalog_entries(&keyless)[0].source_defined_primary_key,
            Some(vec![])
        );
        assert_eq!(d.selected("s", Some(&["nope".to_string()])).len(), 4);
        assert_eq!(d.selected("s", None).len(), 4);
        // A `timestamp.` attribute is an integer too.
        assert_eq!(
            e.json_schema["properties"]["ticket_last_updated_at"]["type"],
            json!(["null", "integer"])
        );
    }

    #[test]
    fn no_stream_of_the_table_is_named_like_a_report() {
        assert!(crate::streams::STREAMS.iter().all(|s| !is_report(s.name)));
    }

    #[test]
    fn windows_are_half_open_and_cover_the_range() {
        assert_eq!(
            windows(0, 200_000, 1),
            vec![(0, 86_400), (86_400, 172_800), (172_800, 200_000)]
        );
        assert_eq!(windows(10, 10, 30), vec![]);
    }

    fn emit(body: &[u8]) -> (std::result::Result<u64, FileError>, Vec<Value>) {
        let d = dataset();
        let attrs = d.attributes.clone();
        let mut data = Vec::new();
        let r = parse_rows(body, &d, &attrs, |_, v| {
            data.push(v);
            Ok(())
        });
        (r, data)
    }

    #[test]
    fn a_file_in_chunks_of_any_size_is_parsed_as_it_arrives() {
        let mut csv = String::from("standard.ticket_id,ticket_created_at,title\n");
        for i in 0..300 {
            csv.push_str(&format!("{i},{},\"t {i}\"\n", 1000 + i));
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(csv.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let d = dataset();
        let attrs = d.attributes.clone();
        for body in [csv.as_bytes(), &gz[..]] {
            for size in [1, 7, 4096] {
                let chunks: Vec<&[u8]> = body.chunks(size).collect();
                let (tx, rx) = tokio::sync::mpsc::channel(chunks.len());
                for c in chunks {
                    tx.try_send(Ok(bytes::Bytes::copy_from_slice(c))).unwrap();
                }
                drop(tx);
                let input = ChunkReader {
                    rx,
                    at: bytes::Bytes::new(),
                };
                let mut seen = Vec::new();
                let rows = parse_rows(input, &d, &attrs, |n, v| {
                    seen.push((n, v));
                    Ok(())
                })
                .unwrap();
                assert_eq!(rows, 300);
                assert_eq!(seen[299].0, 300);
                assert_eq!(
                    seen[299].1,
                    json!({"ticket_id": "299", "ticket_created_at": 1299, "title": "t 299"})
                );
            }
        }
        // A chunk that says the body broke is a read error, with the rows before it.
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        tx.try_send(Ok(bytes::Bytes::copy_from_slice(&csv.as_bytes()[..200])))
            .unwrap();
        tx.try_send(Err(std::io::Error::other("reset"))).unwrap();
        let mut n = 0;
        let r = parse_rows(
            ChunkReader {
                rx,
                at: bytes::Bytes::new(),
            },
            &d,
            &attrs,
            |_, _| {
                n += 1;
                Ok(())
            },
        );
        assert!(matches!(r, Err(FileError::Read(m)) if m.contains("reset")));
        assert!(n > 0);
    }

    #[test]
    fn exports_start_within_the_retention() {
        let end = 1_800_000_000;
        let oldest = end - 729 * 86_400;
        assert_eq!(within_retention("s", 0, None, end, 730), oldest);
        assert_eq!(within_retention("s", 0, Some(5), end, 730), oldest);
        assert_eq!(
            within_retention("s", oldest + 1, None, end, 730),
            oldest + 1
        );
        assert_eq!(
            within_retention("s", 0, None, end, 1095),
            end - 1094 * 86_400
        );
    }

    #[test]
    fn csv_rows_are_typed_gzip_or_not() {
        let csv = "standard.ticket_id,ticket_created_at,title,timestamp.ticket_last_updated_at\n1,100,\"a, \"\"b\"\"\",150\n2,,,\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(csv.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        for body in [csv.as_bytes(), &gz[..]] {
            let (r, data) = emit(body);
            assert_eq!(r.unwrap(), 2);
            assert_eq!(
                data,
                [
                    json!({"ticket_id": "1", "ticket_created_at": 100, "title": "a, \"b\"", "ticket_last_updated_at": 150}),
                    json!({"ticket_id": "2", "ticket_created_at": null, "title": null, "ticket_last_updated_at": null}),
                ]
            );
        }
        let (r, _) = emit(b"ticket_id,ticket_created_at\n1,yesterday\n");
        match r {
            Err(FileError::Cell { row, column, value }) => {
                assert_eq!(
                    (row, column.as_str(), value.as_str()),
                    (1, "ticket_created_at", "yesterday")
                )
            }
            other => panic!("{other:?}"),
        }
        let (r, _) = emit(b"ticket_id,ticket_created_at\n1,2,3\n");
        assert!(matches!(r, Err(FileError::Read(m)) if m.contains("row 1")));
        let (r, _) = emit(&gz[..gz.len() / 2]);
        assert!(matches!(r, Err(FileError::Read(_))));
    }
}
