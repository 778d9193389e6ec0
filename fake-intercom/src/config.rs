//! [`FakeConfig`]: the sizes and seed of the generated workspace and how
//! the server behaves (token, latency, rate limit and the variances of a
//! shared one, search index delay and
//! jitter, the fake's clock, scroll expiry, chaos, a maintenance window, the
//! base path, reporting export jobs).

use crate::faults::{Chaos, RetryAfter};

/// Sizes, seed and server behaviour of a fake workspace.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// Seed of all generated data (default 42).
    pub seed: u64,
    /// The bearer token the server accepts (default `"fake-token"`).
    pub token: String,
    /// Contacts, about 70% role `user` and 30% `lead` (default 120).
    pub contacts: usize,
    /// Companies (default 40).
    pub companies: usize,
    /// Conversations (default 60).
    pub conversations: usize,
    /// Average parts per conversation; each has `0..=2*avg` (default 5).
    pub parts_per_conversation: usize,
    /// Admins (default 8); the first one owns the token (`GET /me`).
    pub admins: usize,
    /// Teams (default 3).
    pub teams: usize,
    /// Tags (default 12).
    pub tags: usize,
    /// Person segments, listed by `GET /segments` (default 6).
    pub segments: usize,
    /// Company segments (default 4).
    pub company_segments: usize,
    /// Subscription types (default 3).
    pub subscription_types: usize,
    /// Help centers (default 2).
    pub help_centers: usize,
    /// Help center collections (default 8).
    pub collections: usize,
    /// Articles (default 45).
    pub articles: usize,
    /// Delay added to every request, in milliseconds (default 0).
    pub latency_ms: u64,
    /// Rate limit per minute, spread over windows of `window_ms` (default 10 000).
    pub requests_per_minute: u32,
    /// Rate-limit window length in milliseconds (default 10 000).
    pub window_ms: u64,
    /// Requests of other clients (other apps of the workspace, other users
    /// of the token) in every rate-limit window, spending the same
    /// per-window limit as ours (default 0: none). They are spread evenly
    /// over the window: `t` ms into it, `floor(n * t / window_ms)` of them
    /// have been counted. `X-RateLimit-Remaining` is the limit minus ours
    /// minus theirs so far, and our request is refused (429) when ours,
    /// it included, plus theirs so far exceed the limit, so a client sees
    /// `Remaining` fall faster than its own requests explain and may get a
    /// 429 before sending `X-RateLimit-Limit` requests. They are not
    /// requests: not in [`FakeIntercom::requests`](crate::FakeIntercom::requests)
    /// nor counted in [`FakeStats`](crate::FakeStats), whose
    /// `other_clients_rejections` counts our 429s they caused. Can be
    /// changed while running with
    /// [`FakeIntercom::set_other_clients_per_window`](crate::FakeIntercom::set_other_clients_per_window).
    pub other_clients_per_window: u32,
    /// The per-window limit `X-RateLimit-Limit` and the 429 message
    /// (`Exceeded rate limit of N in 10_seconds`) report, instead of the
    /// one enforced, which stays that of `requests_per_minute` (default
    /// `None`: the enforced one), e.g. `Some(1667)` with 6 000 requests a
    /// minute: an app whose own figure is 1667 a window while its
    /// workspace, shared with other apps, only lets it have 1000.
    /// `X-RateLimit-Remaining` stays truthful: the smaller of this figure
    /// and the enforced limit (less the other clients' requests so far)
    /// minus our requests in the window, so it never exceeds `Limit` and
    /// is 0 by the time a request would be refused. A client pacing itself
    /// on `Limit` alone overshoots and gets 429s; one watching `Remaining`
    /// (and backing off on 429) does not. Can be changed while running with
    /// [`FakeIntercom::set_reported_limit_per_window`](crate::FakeIntercom::set_reported_limit_per_window).
    pub reported_limit_per_window: Option<u32>,
    /// Tickets, served by `POST /tickets/search` (default 30).
    pub tickets: usize,
    /// Admin activity logs, served by `GET /admins/activity_logs` (default 200).
    pub activity_logs: usize,
    /// Deleted conversations, served by `GET /conversations/deleted` (default 5).
    pub deleted_conversations: usize,
    /// A contact is left out of `POST /contacts/search` (its results and
    /// `total_count`) until the fake's clock (see `clock_offset_secs`)
    /// reaches its `updated_at` plus this many seconds, like Intercom's
    /// search indexing delay. `0` or less disables the delay (default 0).
    /// Can be changed while running with
    /// [`FakeIntercom::set_search_index_delay_secs`](crate::FakeIntercom::set_search_index_delay_secs).
    pub search_index_delay_secs: i64,
    /// Apply the index delay to new contacts only: hide a contact until the
    /// fake's clock reaches its `created_at` (instead of `updated_at`) plus
    /// `search_index_delay_secs`, so that updates to older contacts are
    /// searchable at once (Intercom documents a "contact creation delay").
    /// Default false.
    pub search_index_delay_create_only: bool,
    /// Search index lag per record, for all three searches (contacts,
    /// conversations, tickets): an object is left out of the results and
    /// `total_count` until the fake's clock reaches its `updated_at` plus a
    /// lag of 0..=this many seconds. The lag is drawn from a hash of the
    /// seed, the object's id and its `updated_at`, so records become
    /// searchable one by one, the same record version always after the
    /// same lag, and an update draws a new one. For contacts it adds to
    /// `search_index_delay_secs` (counted from `created_at` with
    /// `search_index_delay_create_only`, when an update still waits for its
    /// own lag). `0` or less: off (default 0). Can be changed while running
    /// with [`FakeIntercom::set_search_index_jitter_secs`](crate::FakeIntercom::set_search_index_jitter_secs).
    pub search_index_jitter_secs: i64,
    /// The fake's clock minus the machine's, in seconds (negative:
    /// Intercom's clock is behind the machine's; default 0). The fake's
    /// clock decides the search index cutoffs and is what the API shows:
    /// every answer's `Date` header and the `X-RateLimit-Reset` epochs
    /// (rate-limit windows still run on the machine's clock). Read it with
    /// [`FakeIntercom::now_secs`](crate::FakeIntercom::now_secs); change it
    /// while running with
    /// [`FakeIntercom::set_clock_offset_secs`](crate::FakeIntercom::set_clock_offset_secs).
    pub clock_offset_secs: i64,
    /// An idle companies scroll expires after this many milliseconds
    /// (default 60 000, Intercom's one minute).
    pub scroll_expiry_ms: u64,
    /// `GET /conversations/{id}` returns at most this many parts, the most
    /// recent ones (default 500, Intercom's hard limit).
    pub max_parts_returned: usize,
    /// Seeded random faults on a share of the requests (default none); see
    /// [`Chaos`].
    pub chaos: Option<Chaos>,
    /// A maintenance window from the server's start: for this many
    /// milliseconds every authenticated request is answered 503
    /// `service_unavailable` (default 0: none). See
    /// [`FakeIntercom::maintenance`](crate::FakeIntercom::maintenance),
    /// which starts one while running.
    pub maintenance_ms: u64,
    /// The `Retry-After` header of the 503s of a `maintenance_ms` window
    /// (default [`RetryAfter::Seconds`]).
    pub maintenance_retry_after: RetryAfter,
    /// A path prefix every endpoint is served under, as by a proxy in front
    /// of Intercom, e.g. `"/intercom"`: `GET /intercom/admins` (default
    /// `""`: none). A request outside it gets 404 `not_found` before auth,
    /// and every absolute link in an answer (`pages.next`) carries it, as
    /// does [`FakeIntercom::base_url`](crate::FakeIntercom::base_url).
    /// Faults, [`deny`](crate::FakeIntercom::deny) rules and the request
    /// log see paths without it. A missing leading `/` is added and
    /// trailing ones are dropped (`"intercom/"` is `"/intercom"`, `"/"` is
    /// none).
    pub base_path: String,
    /// Share of contacts (0 to 1) with more than 10 tags, companies and
    /// notes (default 0.02), chosen among the users by the seed: the
    /// contact embeds the first 10 of each list (`has_more: true`,
    /// `total_count` the full count) and `GET /contacts/{id}/tags`,
    /// `/companies` and `/notes` serve them all. At least 3 are chosen once
    /// there are 60 contacts (`max(round(share * contacts), min(3,
    /// contacts / 20))`, at most the number of users); `0` chooses none.
    /// Tags and companies overflow only when the workspace has more than
    /// 10 of them (a contact's tags and companies are distinct existing
    /// ones); notes always do. See
    /// [`Workspace::contact_lists`](crate::Workspace::contact_lists).
    pub contacts_with_long_lists: f64,
    /// How many status polls (`GET /export/reporting_data/{job}`) of a
    /// reporting export job answer before it is done (default 2): the
    /// first answers `pending`, later ones `in_progress`, and poll number
    /// `report_job_polls + 1` answers `complete` (or `failed`). `0`: the
    /// first poll answers `complete`. Jobs move on only when polled.
    pub report_job_polls: u32,
    /// Share of reporting export jobs (0 to 1) that end `failed` instead of
    /// `complete`, drawn from the seed and the job's number (default 0).
    /// [`FakeIntercom::fail_next_report_jobs`](crate::FakeIntercom::fail_next_report_jobs)
    /// fails chosen ones.
    pub report_job_failure_rate: f64,
    /// Whether `GET /download/reporting_data/{job}` sends the CSV
    /// gzip-compressed (default true, as Intercom does; the body is a
    /// `.csv.gz` file, not `Content-Encoding: gzip`); false sends plain CSV.
    pub report_download_gzip: bool,
    /// Days of reporting data the workspace keeps (default 730, Intercom's
    /// two years; 1,095 with extended retention): `enqueue` answers 400
    /// `parameter_invalid` for a `start_time` older than that on the
    /// fake's clock.
    pub report_retention_days: u32,
}

impl Default for FakeConfig {
    fn default() -> FakeConfig {
        FakeConfig {
            seed: 42,
            token: "fake-token".to_string(),
            contacts: 120,
            companies: 40,
            conversations: 60,
            parts_per_conversation: 5,
            admins: 8,
            teams: 3,
            tags: 12,
            segments: 6,
            company_segments: 4,
            subscription_types: 3,
            help_centers: 2,
            collections: 8,
            articles: 45,
            latency_ms: 0,
            requests_per_minute: 10_000,
            window_ms: 10_000,
            other_clients_per_window: 0,
            reported_limit_per_window: None,
            tickets: 30,
            activity_logs: 200,
            deleted_conversations: 5,
            search_index_delay_secs: 0,
            search_index_delay_create_only: false,
            search_index_jitter_secs: 0,
            clock_offset_secs: 0,
            scroll_expiry_ms: 60_000,
            max_parts_returned: 500,
            chaos: None,
            maintenance_ms: 0,
            maintenance_retry_after: RetryAfter::Seconds,
            base_path: String::new(),
            contacts_with_long_lists: 0.02,
            report_job_polls: 2,
            report_job_failure_rate: 0.0,
            report_download_gzip: true,
            report_retention_days: 730,
        }
    }
}

impl FakeConfig {
    /// [`base_path`](FakeConfig::base_path) as served: `""`, or `/` and a
    /// path without a trailing `/`.
    pub(crate) fn normalized_base_path(&self) -> String {
        let trimmed = self.base_path.trim().trim_matches('/');
        if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_path_normalized() {
        let with = |p: &str| FakeConfig {
            base_path: p.to_string(),
            ..FakeConfig::default()
        };
        assert_eq!(with("").normalized_base_path(), "");
        assert_eq!(with("/").normalized_base_path(), "");
        assert_eq!(with("intercom/").normalized_base_path(), "/intercom");
        assert_eq!(with("/a/b").normalized_base_path(), "/a/b");
    }
}
