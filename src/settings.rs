//! One home for the connector's tunables: every `SOURCE_INTERCOM_*` environment variable
//! is declared once here, a [`Tunable`] each, with the setting it fills, its bounds, its
//! default and what it is for. The HTTP client's settings ([`crate::http::HttpSettings`], with
//! its [`crate::http::retry::RetryPolicy`]) and the read's
//! ([`crate::read::ReadSettings`]) are filled from this table and nothing else reads a
//! tunable from the environment; a unit test holds the README's list ("Config") to it.
//!
//! Defaults suit the real API; tests shorten the waits through these variables. A
//! variable set to anything but a whole number is ignored (its default applies); a
//! number outside its bounds is taken to the nearest bound. Each variable is in the unit
//! its name ends with: `_MS` milliseconds, `_SECS` seconds, `_MB` MiB, `_DAYS` days.
//! (`SOURCE_INTERCOM_DEBUG_PANIC`, which makes `read` panic for the tests of the panic
//! hook, is no tunable.)
//!
//! # Concurrency
//!
//! Every bound on what runs at once, and where it applies:
//! - **requests in flight** ([`crate::http::slots`]): every attempt of every request
//!   holds one of the client's request slots while it waits for the rate budget and for
//!   its answer (never while it backs off): at most `max_concurrency` (or `num_workers`,
//!   1 to 128), else [`AUTO_MAX`](crate::http::slots::AUTO_MAX) (64); below that cap,
//!   sized from the answers (8 before the first, never fewer than 4, both within the
//!   cap). Every bound below also waits for these slots;
//! - **groups** ([`crate::read::run`]): 8 read at once
//!   ([`ReadSettings::max_groups`](crate::read::ReadSettings::max_groups)), a group being
//!   a root source with the streams it feeds, or one report stream;
//! - **search ranges** ([`crate::read::search`]): a search's `updated_at` ranges are
//!   walked by as many walkers as the request slots are sized to; a sixteenth of that
//!   (at least 1) when its pages fan out to child requests; at most four times the cap
//!   on requests in flight (at least 8) ranges per search
//!   ([`max_ranges`](crate::read::search::max_ranges));
//! - **child requests** ([`crate::read::children`]): up to the cap on requests in flight
//!   at once per batch of parents (a page of a search, or the whole companies scroll);
//! - **embedded lists** ([`crate::read::relations`]): the lists of 8 records of a page
//!   are read at once;
//! - **activity-log windows** ([`crate::read::windows`]): 4 at once;
//! - **report export jobs** ([`crate::read::reports`]): 5 pending at once, across every
//!   report stream of the sync (Intercom's limit of pending jobs per workspace);
//! - **the companies scroll**: one at a time (Intercom allows one per workspace);
//! - **large answers** ([`crate::http::client`]): one at a time takes the large-answer
//!   turn of the memory budget (`SOURCE_INTERCOM_MEMORY_MB`);
//! - **runtime workers** ([`crate::run`]): the machine's parallelism, from 1 to 4 threads.

/// One environment variable and the setting it fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tunable {
    /// The variable's name.
    pub(crate) name: &'static str,
    /// The setting it fills, as `Struct.field`.
    // This and `doc` document the table; the tests read them.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) field: &'static str,
    /// The smallest value taken, in the variable's unit.
    pub(crate) min: u64,
    /// The largest value taken, in the variable's unit.
    pub(crate) max: u64,
    /// The setting when the variable is not set.
    pub(crate) unset: Unset,
    /// What it sets.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) doc: &'static str,
}

/// A setting whose variable is not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unset {
    /// This value, in the variable's unit.
    Is(u64),
    /// What the config's field of this name says (the variable overrides it).
    Config(&'static str),
}

/// Where values come from: [`env()`], or [`defaults`] (nothing set), or a test's lookup.
pub(crate) type Lookup<'a> = &'a dyn Fn(&Tunable) -> Option<u64>;

/// The environment's value of a variable, if it is set to a whole number.
pub(crate) fn env(t: &Tunable) -> Option<u64> {
    std::env::var(t.name)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// No value for any variable: every setting its default.
pub(crate) fn defaults(_: &Tunable) -> Option<u64> {
    None
}

impl Tunable {
    /// The value `lookup` gives, within the bounds; `None` when it gives none (a variable
    /// that overrides a config field is read this way).
    pub(crate) fn given(&self, lookup: Lookup<'_>) -> Option<u64> {
        lookup(self).map(|v| v.clamp(self.min, self.max))
    }

    /// The value `lookup` gives, within the bounds, else the default.
    pub(crate) fn value(&self, lookup: Lookup<'_>) -> u64 {
        let unset = match self.unset {
            Unset::Is(v) => v,
            Unset::Config(_) => self.min,
        };
        self.given(lookup).unwrap_or(unset)
    }
}

const NONE: u64 = u64::MAX;

pub(crate) const REQUESTS_PER_MINUTE: Tunable = Tunable {
    name: "SOURCE_INTERCOM_REQUESTS_PER_MINUTE",
    field: "HttpSettings.requests_per_minute",
    min: 1,
    max: u32::MAX as u64,
    unset: Unset::Is(10_000),
    doc: "the app's limit assumed until Intercom's answers report it",
};

pub(crate) const MAX_RETRIES: Tunable = Tunable {
    name: "SOURCE_INTERCOM_MAX_RETRIES",
    field: "RetryPolicy.max_error_retries",
    min: 0,
    max: 100,
    unset: Unset::Is(5),
    doc: "retriable errors tolerated per request before it fails",
};

pub(crate) const BACKOFF_BASE_MS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_BACKOFF_BASE_MS",
    field: "RetryPolicy.backoff_base",
    min: 0,
    max: NONE,
    unset: Unset::Is(1_000),
    doc: "the backoff ceiling of the first retry, doubled for each retry after it",
};

pub(crate) const BACKOFF_MAX_MS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_BACKOFF_MAX_MS",
    field: "RetryPolicy.backoff_max",
    min: 0,
    max: NONE,
    unset: Unset::Is(60_000),
    doc: "the largest backoff ceiling",
};

pub(crate) const TIMEOUT_MS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_TIMEOUT_MS",
    field: "HttpSettings.timeout",
    min: 1,
    max: NONE,
    unset: Unset::Is(120_000),
    doc: "one attempt of a request, its whole answer included",
};

pub(crate) const MAX_REQUEST_SECS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_MAX_REQUEST_SECS",
    field: "RetryPolicy.max_elapsed",
    min: 1,
    max: NONE,
    unset: Unset::Is(1_800),
    doc: "one request with all its retries and waits",
};

pub(crate) const MAX_BODY_MB: Tunable = Tunable {
    name: "SOURCE_INTERCOM_MAX_BODY_MB",
    field: "HttpSettings.max_body_bytes",
    min: 1,
    max: 64 * 1024,
    unset: Unset::Is(32),
    doc: "the largest answer accepted, after decompression",
};

pub(crate) const MEMORY_MB: Tunable = Tunable {
    name: "SOURCE_INTERCOM_MEMORY_MB",
    field: "HttpSettings.memory_bytes",
    min: 8,
    max: 64 * 1024,
    unset: Unset::Is(128),
    doc: "the byte budget of all answers being read and parsed at once",
};

pub(crate) const SEARCH_INDEX_LAG_SECS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_SEARCH_INDEX_LAG_SECS",
    field: "ReadSettings.search_index_lag_secs",
    min: 0,
    max: 7 * 86_400,
    unset: Unset::Config("search_index_lag_minutes"),
    doc: "how far behind the sync's start a searched stream's position stays",
};

pub(crate) const CHILD_404_PAUSE_MS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_CHILD_404_PAUSE_MS",
    field: "ReadSettings.child_404_pause",
    min: 0,
    max: 600_000,
    unset: Unset::Is(2_000),
    doc: "the pause before a child that answered 404 is asked again",
};

pub(crate) const SCROLL_BUSY_WAIT_MS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_SCROLL_BUSY_WAIT_MS",
    field: "ReadSettings.scroll_busy_wait",
    min: 0,
    max: NONE,
    unset: Unset::Is(60_000),
    doc: "the wait between attempts to open the companies scroll while another client holds it",
};

pub(crate) const SCROLL_BUSY_MAX_MS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_SCROLL_BUSY_MAX_MS",
    field: "ReadSettings.scroll_busy_max",
    min: 0,
    max: NONE,
    unset: Unset::Is(600_000),
    doc: "the longest wait in all for the companies scroll",
};

pub(crate) const SERIAL_PAGES: Tunable = Tunable {
    name: "SOURCE_INTERCOM_SERIAL_PAGES",
    field: "ReadSettings.serial_pages",
    min: 0,
    max: NONE,
    unset: Unset::Is(4),
    doc: "a search of at most this many pages is one chain",
};

pub(crate) const PAGES_PER_PARTITION: Tunable = Tunable {
    name: "SOURCE_INTERCOM_PAGES_PER_PARTITION",
    field: "ReadSettings.pages_per_partition",
    min: 1,
    max: NONE,
    unset: Unset::Is(8),
    doc: "the pages a search range aims at",
};

pub(crate) const PROGRESS_SECS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_PROGRESS_SECS",
    field: "ReadSettings.progress_every",
    min: 1,
    max: NONE,
    unset: Unset::Is(60),
    doc: "how often each running stream logs its progress",
};

pub(crate) const REPORT_WINDOW_DAYS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_REPORT_WINDOW_DAYS",
    field: "ReadSettings.report_window_days",
    min: 1,
    max: 366,
    unset: Unset::Is(30),
    doc: "the days one reporting export job covers",
};

pub(crate) const REPORT_RETENTION_DAYS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_REPORT_RETENTION_DAYS",
    field: "ReadSettings.report_retention_days",
    min: 2,
    max: 3_660,
    unset: Unset::Is(730),
    doc: "the days of reporting data the workspace keeps: exports start no earlier",
};

pub(crate) const REPORT_POLL_MS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_REPORT_POLL_MS",
    field: "ReadSettings.report_poll_first",
    min: 1,
    max: 600_000,
    unset: Unset::Is(1_000),
    doc: "the pause after an export job's first status poll (sent at once); it doubles",
};

pub(crate) const REPORT_POLL_MAX_MS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_REPORT_POLL_MAX_MS",
    field: "ReadSettings.report_poll_max",
    min: 1,
    max: 3_600_000,
    unset: Unset::Is(30_000),
    doc: "the longest pause between an export job's polls",
};

pub(crate) const REPORT_JOB_MAX_SECS: Tunable = Tunable {
    name: "SOURCE_INTERCOM_REPORT_JOB_MAX_SECS",
    field: "ReadSettings.report_job_max_wait",
    min: 1,
    max: 86_400,
    unset: Unset::Is(3_600),
    doc: "the longest one export job is waited for",
};

/// Every tunable, in the README's order (for the tests that hold the README and the
/// settings structs to the table).
#[cfg(test)]
pub(crate) const TUNABLES: [&Tunable; 20] = [
    &REQUESTS_PER_MINUTE,
    &MAX_RETRIES,
    &BACKOFF_BASE_MS,
    &BACKOFF_MAX_MS,
    &TIMEOUT_MS,
    &MAX_REQUEST_SECS,
    &MAX_BODY_MB,
    &MEMORY_MB,
    &SEARCH_INDEX_LAG_SECS,
    &CHILD_404_PAUSE_MS,
    &SCROLL_BUSY_WAIT_MS,
    &SCROLL_BUSY_MAX_MS,
    &SERIAL_PAGES,
    &PAGES_PER_PARTITION,
    &PROGRESS_SECS,
    &REPORT_WINDOW_DAYS,
    &REPORT_RETENTION_DAYS,
    &REPORT_POLL_MS,
    &REPORT_POLL_MAX_MS,
    &REPORT_JOB_MAX_SECS,
];

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::Duration;

    use super::*;
    use crate::config::Config;
    use crate::http::HttpSettings;
    use crate::read::ReadSettings;

    #[test]
    fn names_are_unique_and_defaults_within_bounds() {
        let mut names: Vec<&str> = TUNABLES.iter().map(|t| t.name).collect();
        let mut fields: Vec<&str> = TUNABLES.iter().map(|t| t.field).collect();
        names.sort();
        names.dedup();
        fields.sort();
        fields.dedup();
        assert_eq!(names.len(), TUNABLES.len());
        assert_eq!(fields.len(), TUNABLES.len());
        for t in TUNABLES {
            assert!(t.name.starts_with("SOURCE_INTERCOM_"), "{}", t.name);
            assert!(
                ["HttpSettings.", "RetryPolicy.", "ReadSettings."]
                    .iter()
                    .any(|s| t.field.starts_with(s)),
                "{}",
                t.field
            );
            assert!(t.min <= t.max, "{}", t.name);
            if let Unset::Is(v) = t.unset {
                assert!((t.min..=t.max).contains(&v), "{}", t.name);
            }
            assert!(!t.doc.is_empty(), "{}", t.name);
            // Out of bounds: the nearest bound.
            assert_eq!(t.value(&|_| Some(0)), t.min, "{}", t.name);
            assert_eq!(t.value(&|_| Some(u64::MAX)), t.max, "{}", t.name);
        }
    }

    fn config(search_index_lag_minutes: u32) -> Config {
        Config::from_value(&serde_json::json!({
            "access_token": "tok-12345678", "start_date": "2020-01-01T00:00:00Z",
            "search_index_lag_minutes": search_index_lag_minutes
        }))
        .unwrap()
    }

    /// Each tunable is read once, by the settings struct its `field` names, into that
    /// field; one not set leaves the default (or the config's value).
    #[test]
    fn the_settings_structs_are_filled_from_the_table() {
        let asked: RefCell<Vec<(&str, &str)>> = RefCell::default();
        let by = |by: &'static str| {
            let asked = &asked;
            move |t: &Tunable| -> Option<u64> {
                asked.borrow_mut().push((t.name, by));
                None
            }
        };
        let http = HttpSettings::from_lookup(&by("http"));
        let read = ReadSettings::from_lookup(&config(7), &by("read"));
        let mut asked = asked.into_inner();
        asked.sort();
        let mut want: Vec<(&str, &str)> = TUNABLES
            .iter()
            .map(|t| {
                let by = if t.field.starts_with("ReadSettings.") {
                    "read"
                } else {
                    "http"
                };
                (t.name, by)
            })
            .collect();
        want.sort();
        assert_eq!(asked, want);
        // Nothing set: the defaults, and the config's index lag.
        assert_eq!(http.timeout, Duration::from_secs(120));
        assert_eq!(http.retry.max_elapsed, Duration::from_secs(1800));
        assert_eq!(http.memory_bytes, 128 * 1024 * 1024);
        assert_eq!(read.search_index_lag_secs, 7 * 60);
        assert_eq!(read.report_poll_max, Duration::from_secs(30));

        // Each set to its own value: each lands in its field, in its unit.
        let position = |t: &Tunable| TUNABLES.iter().position(|u| u.name == t.name).unwrap();
        let v = |t: &Tunable| t.min + position(t) as u64 + 1;
        let http = HttpSettings::from_lookup(&|t| Some(v(t)));
        let read = ReadSettings::from_lookup(&config(7), &|t| Some(v(t)));
        let ms = |t: &Tunable| Duration::from_millis(v(t));
        let secs = |t: &Tunable| Duration::from_secs(v(t));
        let mib = |t: &Tunable| v(t) * 1024 * 1024;
        assert_eq!(u64::from(http.requests_per_minute), v(&REQUESTS_PER_MINUTE));
        assert_eq!(u64::from(http.retry.max_error_retries), v(&MAX_RETRIES));
        assert_eq!(http.retry.backoff_base, ms(&BACKOFF_BASE_MS));
        assert_eq!(http.retry.backoff_max, ms(&BACKOFF_MAX_MS));
        assert_eq!(http.timeout, ms(&TIMEOUT_MS));
        assert_eq!(http.retry.max_elapsed, secs(&MAX_REQUEST_SECS));
        assert_eq!(http.max_body_bytes, mib(&MAX_BODY_MB));
        assert_eq!(http.memory_bytes, mib(&MEMORY_MB));
        assert_eq!(read.search_index_lag_secs as u64, v(&SEARCH_INDEX_LAG_SECS));
        assert_eq!(read.child_404_pause, ms(&CHILD_404_PAUSE_MS));
        assert_eq!(read.scroll_busy_wait, ms(&SCROLL_BUSY_WAIT_MS));
        assert_eq!(read.scroll_busy_max, ms(&SCROLL_BUSY_MAX_MS));
        assert_eq!(read.serial_pages, v(&SERIAL_PAGES));
        assert_eq!(read.pages_per_partition, v(&PAGES_PER_PARTITION));
        assert_eq!(read.progress_every, secs(&PROGRESS_SECS));
        assert_eq!(u64::from(read.report_window_days), v(&REPORT_WINDOW_DAYS));
        assert_eq!(
            u64::from(read.report_retention_days),
            v(&REPORT_RETENTION_DAYS)
        );
        assert_eq!(read.report_poll_first, ms(&REPORT_POLL_MS));
        assert_eq!(read.report_poll_max, ms(&REPORT_POLL_MAX_MS));
        assert_eq!(read.report_job_max_wait, secs(&REPORT_JOB_MAX_SECS));
    }

    /// The README's list ("Config") names every variable of the table with its default,
    /// and no other.
    #[test]
    fn the_readme_lists_every_variable_with_its_default() {
        let readme = include_str!("../README.md");
        let section = readme
            .split("\n## Config\n")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("README has a Config section");
        let text = section.split_whitespace().collect::<Vec<_>>().join(" ");
        for t in TUNABLES {
            let listed = match t.unset {
                Unset::Is(v) => [":", ",", ")"]
                    .iter()
                    .any(|end| text.contains(&format!("`{}` ({v}{end}", t.name))),
                Unset::Config(key) => text.contains(&format!("`{}` (overrides `{key}`", t.name)),
            };
            assert!(
                listed,
                "README, Config: `{}` with its default {:?}",
                t.name, t.unset
            );
        }
        for (at, _) in text.match_indices("SOURCE_INTERCOM_") {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            assert!(
                TUNABLES.iter().any(|t| t.name == name),
                "README, Config: {name} is no tunable"
            );
        }
    }
}
