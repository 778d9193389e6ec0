//! `fake-intercom`: a deterministic fake of Intercom's REST API (version 2.11
//! object shapes) for testing and benchmarking the `source-intercom` connector.
//!
//! The public API: [`FakeConfig`] (sizes, seed, server behaviour),
//! [`FakeIntercom`] (the running server and everything a test does to it),
//! the generated [`Workspace`] and its mutations, the request log
//! ([`RecordedRequest`]), injected faults ([`Fault`], [`FaultKind`],
//! [`Chaos`], [`ChaosKind`]), maintenance windows ([`RetryAfter`]),
//! [`FakeStats`], a contact's complete lists ([`ContactLists`]) and the
//! reporting export's rows ([`reporting::ReportTable`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let fake = fake_intercom::FakeIntercom::start(fake_intercom::FakeConfig::default()).await?;
//! println!("{} (token {})", fake.base_url(), fake.token());
//! # Ok(()) }
//! ```
//!
//! # Endpoints
//!
//! Every error is `{"type":"error.list","request_id":..,"errors":[{"code","message"}]}`.
//!
//! | endpoint | answer | errors |
//! | --- | --- | --- |
//! | `GET /me`, `/admins`, `/teams`, `/tags`, `/segments`, `/data_attributes`, `/subscription_types` | lists | 400 `parameter_invalid` |
//! | `GET /help_center/help_centers`, `/help_center/collections`, `/articles`, `/counts` | page-number lists | 400 `parameter_invalid` |
//! | `POST /contacts/search` | `{"type":"list","data","total_count","pages"}` | 400 `parameter_invalid`/`parameter_not_found`/`invalid_sort_order`, 422 |
//! | `POST /conversations/search` | `{"type":"conversation.list","conversations" (no parts),"total_count","pages"}` | as above |
//! | `POST /tickets/search` | `{"type":"ticket.list","tickets","total_count","pages"}` | as above |
//! | `GET /companies/scroll[?scroll_param=&per_page=]` | `{"type":"list","data","pages":null,"total_count":null,"scroll_param"}` | 400 `scroll_exists`, 404 `not_found` |
//! | `GET /companies/{id}/segments` | `{"type":"list","data":[segments]}` | 404 `company_not_found` |
//! | `GET /conversations/{id}` | the conversation with its `max_parts_returned` most recent parts | 404 `not_found` |
//! | `GET /conversations/deleted` (2.16+) | `{"type":"conversations.list","conversations","total_count","pages"}` | 404 `not_found` before 2.16, 400 `parameter_invalid` |
//! | `GET /admins/activity_logs?created_at_after=` | `{"type":"activity_log.list","activity_logs","pages"}` | 400 `parameter_not_found` / `parameter_invalid` |
//! | `GET /contacts/{id}/tags`, `/subscriptions` | `{"type":"list","data"}`: every tag (with `applied_at`, `applied_by`), every subscription type opted out of then in to | 404 `not_found` "User Not Found" |
//! | `GET /contacts/{id}/companies`, `/notes` (`page`, `per_page` 50) | `{"type":"list","data","total_count","pages"}` (`pages.next` a URL or null); notes newest first | as above, 400 `parameter_invalid` |
//! | `GET /export/reporting_data/get_datasets` | `{"type":"list","data":[{"id","name","description","default_time_attribute_id","attributes":[{"id","qualified_id","name"}]}]}` | |
//! | `POST /export/reporting_data/enqueue` | `{"job_identifier","status":"pending","download_url":"","download_expires_at":""}` | 400 `bad_request`, 429 `rate_limit_exceeded` (5 pending jobs) |
//! | `GET /export/reporting_data/{job}` | the job: `pending`, `in_progress`, then `complete` (with `download_url`) or `failed` | 404 `not_found` |
//! | `GET /download/reporting_data/{job}` (`Accept: application/octet-stream`) | the rows as a gzip-compressed CSV file | 406 `not_acceptable`, 404 `not_found`, 400 `bad_request` (not complete) |
//!
//! # Long contact lists
//!
//! A contact embeds at most 10 of its tags, companies, notes and
//! subscriptions (`has_more: true` and the full `total_count` beyond).
//! [`FakeConfig::contacts_with_long_lists`] (`--contacts-with-long-lists`,
//! default 2%, at least 3 users from 60 contacts on) gives a few users
//! more than 10 tags, companies and notes; [`Workspace::contact_lists`]
//! returns any contact's complete lists (kept in
//! [`Workspace::long_contact_lists`] for those), and the counts
//! (`type=user&count=tag`, company `user_count`) and contact search by
//! `tag_id` agree with them.
//!
//! # Reporting Data Export
//!
//! Intercom documents these endpoints from `Intercom-Version` 2.14 (and in
//! `Unstable` before); the fake answers them on any version and records
//! the header. A job moves on only when polled:
//! [`FakeConfig::report_job_polls`] polls (default 2) answer `pending`,
//! then `in_progress`, and the next one `complete` or `failed`
//! ([`FakeIntercom::fail_next_report_jobs`],
//! [`FakeConfig::report_job_failure_rate`]); at most
//! [`REPORT_PENDING_JOBS_LIMIT`](reporting::REPORT_PENDING_JOBS_LIMIT)
//! jobs may be pending or in progress. The download is gzip-compressed CSV
//! (plain with [`FakeConfig::report_download_gzip`] false); what it holds
//! is in [`reporting`] and [`Workspace::report_rows`] computes it. Times
//! are in the `timestamp` namespace of qualified ids
//! (`timestamp.conversation_started_at`), as in Intercom's reference. An
//! export that starts before [`FakeConfig::report_retention_days`] (730, two
//! years, on the fake's clock) is refused with 400 `parameter_invalid`.
//! [`FakeStats`] counts jobs enqueued, polls, downloads and pending-limit
//! 429s.
//!
//! A path denied with [`FakeIntercom::deny`] answers 401 `token_unauthorized`
//! (the app lacks a permission) or 403 `api_plan_restricted` (the plan lacks
//! the feature), after auth and the rate limiter, before any fault.
//!
//! Any request: 404 `not_found` outside [`FakeConfig::base_path`] (before
//! auth), 401 `unauthorized` without the token, 503 `service_unavailable`
//! during a maintenance window (see below), 429 `rate_limit_exceeded`
//! over the rate limit ([`FakeConfig::requests_per_minute`] spread over
//! windows of [`FakeConfig::window_ms`], reported in `X-RateLimit-*`; see
//! [Shared rate limits](#shared-rate-limits)),
//! 404 `not_found` for unknown paths. Every answer, errors and faults
//! included, has a `Date` header (IMF-fixdate) of the fake's clock.
//!
//! # Shared rate limits
//!
//! Intercom allows an app 10 000 calls a minute (`X-RateLimit-Limit:
//! 1667` a 10 s window) but a workspace 25 000 across all its apps, so
//! other apps (or other clients of the same app) spend part of the same
//! allowance. Two settings, both off by default, model this:
//!
//! * [`FakeConfig::other_clients_per_window`] (`--other-clients-per-window`,
//!   [`FakeIntercom::set_other_clients_per_window`]): `n` phantom requests
//!   a window, spread evenly over it (`floor(n * t / window_ms)` counted
//!   `t` ms into it), spend the window's limit with ours:
//!   `X-RateLimit-Remaining` falls faster than our own requests explain,
//!   and a 429 may come before `X-RateLimit-Limit` of ours. They are not
//!   logged; [`FakeStats::other_clients_rejections`] counts the 429s they
//!   caused.
//! * [`FakeConfig::reported_limit_per_window`] (`--reported-limit-per-window`,
//!   [`FakeIntercom::set_reported_limit_per_window`]): `X-RateLimit-Limit`
//!   and the 429 message show this figure while the limit of
//!   [`FakeConfig::requests_per_minute`] is enforced.
//!
//! `X-RateLimit-Remaining` is always the smaller of what the reported
//! figure and the enforced limit (less the other clients' requests so far)
//! leave after ours: never above `Limit`, and 0 by the time a request
//! would be refused. A client pacing itself on `Limit` alone overshoots
//! and gets 429s; one watching `Remaining` and 429s adapts.
//!
//! # Time and the search index
//!
//! The fake has its own clock, the machine's plus
//! [`FakeConfig::clock_offset_secs`] ([`FakeIntercom::now_secs`],
//! [`FakeIntercom::set_clock_offset_secs`]); it is what the API shows and
//! decides by:
//!
//! | what | on the fake's clock |
//! | --- | --- |
//! | `Date` | every answer (a fault's own `Date` header wins) |
//! | `X-RateLimit-Reset` | the end of the limiter's window (windows count on the machine's clock), and a chaos 429's reset |
//! | `Retry-After` (HTTP date form) | the end of a maintenance window (which runs on the machine's monotonic clock) |
//! | contact index delay | [`FakeConfig::search_index_delay_secs`]: a contact is not searchable until `updated_at` (or `created_at`) + the delay |
//! | search index jitter | [`FakeConfig::search_index_jitter_secs`]: any searched object is not searchable until `updated_at` + a lag of 0..=N s drawn per record version (plus the contact delay) |
//!
//! A record the index has not caught up with is left out of the results
//! and of `total_count`.
//!
//! # Faults
//!
//! A queued [`Fault`] ([`FakeIntercom::inject_fault`], or `--fault` on the
//! command line) answers matching requests, after auth and the rate limiter,
//! in one of these ways ([`FaultKind`]):
//!
//! | kind | answer |
//! | --- | --- |
//! | `Status` (default) | `status` (0 → 500) with the JSON `body`: errors, 429 bursts with odd `X-RateLimit-*`/`Retry-After` headers, redirects (`Location`), crafted 200 bodies |
//! | `Truncated { keep }` | the real answer cut to its first `keep` bytes (0: half), status 200, a correct `Content-Length`: JSON cut short |
//! | `Html` | `status` (0 → 200), `Content-Type: text/html`, a load balancer's error page |
//! | `Reset { after_bytes }` | the real status and headers, the full `Content-Length`, `after_bytes` bytes (0: half), then the connection is aborted |
//! | `Slow { delay_ms }` | the real answer after `delay_ms` (to exceed a client timeout) |
//! | `Echo` | `status` (0 → 400), an error whose message echoes every request header, `Authorization` included |
//! | `Huge { bytes, gzip }` | a 200 JSON body of `bytes` bytes (decompressed), streamed; with `gzip`, a gzip bomb with `Content-Encoding: gzip` |
//! | `Repeat` | the body of the previous 2xx answer to the same method and path (a repeated search page, page-number page or scroll page) |
//! | `Patch(ops)` | the real answer with JSON pointer edits (set, add a key, remove), status 200, whole: an empty page with a next page, a lying count, a field of the wrong type |
//! | `Replace { find, with }` | the real answer with every `find` replaced by `with` (raw bytes: invalid UTF-8, deep nesting), status 200, whole |
//!
//! A fault's `headers` are sent unchanged and win over the computed
//! `X-RateLimit-*` and `Date` headers. An injected 404 or 5xx on a page of the active
//! companies scroll ends that scroll; a truncated or reset scroll page does
//! not move the scroll on.
//!
//! # Chaos
//!
//! With [`FakeConfig::chaos`] (or `--chaos-rate` and `--chaos-seed`), a
//! seeded share of the authenticated requests that no queued fault answers
//! gets a random fault ([`ChaosKind`]): a burst of 429s, a 500/502/503
//! (sometimes with an empty body), a reset or truncated answer, a slow
//! answer, or an HTML page with status 200. Chaos models network failures
//! and never changes the workspace; the request hook still runs once per
//! request. [`FakeIntercom::stats`] counts what was injected.
//!
//! # Maintenance windows
//!
//! [`FakeIntercom::maintenance`] (or [`FakeConfig::maintenance_ms`], or
//! `--maintenance-ms` on the command line) starts a window of some
//! milliseconds on the machine's monotonic clock. Until it ends, every
//! authenticated request, once the request hook has run, is answered 503
//! `service_unavailable` in front of everything else: the rate limiter
//! does not count it and sends no `X-RateLimit-*` headers, and no deny
//! rule, fault or chaos sees it. Its `Retry-After` holds the time left,
//! rounded up to whole seconds, in the form [`RetryAfter`] says: `25`, an
//! HTTP date on the fake's clock, or no header. [`FakeStats::maintenance_503s`]
//! counts these answers.
//!
//! # Base path
//!
//! With [`FakeConfig::base_path`] (or `--base-path`), e.g. `"/intercom"`,
//! the fake answers as a proxy in front of Intercom that serves it under
//! that prefix: `GET /intercom/admins`, and any other path answers 404
//! `not_found` (logged with its full path, before auth). Absolute links
//! in answers (`pages.next` of page-number lists) and
//! [`FakeIntercom::base_url`] carry the prefix; the relative `url`s
//! Intercom puts in objects do not. The gate strips the prefix once, at
//! the entry: faults, deny rules, the request log and the endpoints see
//! the path without it, so a test written for the fake without a prefix
//! works unchanged with one.
//!
//! # Layout
//!
//! Dependencies point one way, from the top of this list down:
//!
//! * `handle`: [`FakeIntercom`], starting the server and the test API.
//! * `server`: the route table and the gate every request passes (auth,
//!   base path, hook, maintenance, rate limit, faults, chaos), fault
//!   answers, request log, stats.
//! * `endpoints`: one file per endpoint family; search split into parse,
//!   evaluate, index lag, sorted indexes and their per-version cache.
//! * `api`: the error envelope, query parsing, pagination, rate limiter,
//!   `Intercom-Version`.
//! * [`reporting`]: the reporting datasets, their rows and the export jobs.
//! * `gen`: workspace generation, one file per kind of object.
//! * `workspace`: the [`Workspace`] data and every mutation of it.
//! * `config`, `faults`, `time`, `rng`, `words`: settings, fault
//!   descriptions and their text forms, the calendar and the clocks (and
//!   HTTP dates), randomness, vocabularies.

mod api;
mod config;
mod endpoints;
mod faults;
mod gen;
mod handle;
pub mod reporting;
mod rng;
mod server;
mod time;
mod words;
mod workspace;

pub use config::FakeConfig;
pub use faults::{Chaos, ChaosKind, Denial, Fault, FaultKind, RetryAfter};
pub use handle::FakeIntercom;
pub use server::log::RecordedRequest;
pub use server::stats::FakeStats;
pub use time::{day_start, GENERATION_END, GENERATION_START};
pub use workspace::{ContactLists, Workspace, EMBEDDED_LIST_LIMIT};
