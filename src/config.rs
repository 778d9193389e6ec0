//! The connector config: the raw JSON object the platform passes, validated into
//! [`Config`]. Field names match Airbyte's official Intercom source so saved configs
//! keep working; unknown keys are allowed. Every error names the field at fault.
//! The access token lives in a [`Secret`], which never prints.

use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};
use url::Url;

use crate::error::{Error, Result};
use crate::http::guard;

/// A string that must never appear in output: `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret value, for the one place that needs it (the Authorization header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `Bearer <secret>` as a header value. The config has checked that it is one.
    pub fn header_value(&self) -> Result<reqwest::header::HeaderValue> {
        reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.0))
            .map_err(|_| Error::Config("`access_token` can't be sent as an HTTP header".into()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where the workspace is hosted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Us,
    Eu,
    Au,
}

impl Region {
    /// The regional API host's base URL.
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Us => "https://api.intercom.io",
            Region::Eu => "https://api.eu.intercom.io",
            Region::Au => "https://api.au.intercom.io",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Us => "us",
            Region::Eu => "eu",
            Region::Au => "au",
        }
    }
}

/// An integer config field. The spec's `minimum`, `maximum` and `default` and the
/// config's checks both come from here (see [`crate::commands::spec`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntField {
    pub key: &'static str,
    pub min: i64,
    pub max: i64,
    /// The value when the field is absent; `None`: the field is optional, and its
    /// absence means something of its own (see the field).
    pub default: Option<i64>,
}

/// `lookback_window`: days re-read before a saved cursor.
pub const LOOKBACK_WINDOW: IntField = IntField {
    key: "lookback_window",
    min: 0,
    max: 36_500,
    default: Some(0),
};

/// `activity_logs_time_step`: days per activity-log request window.
pub const ACTIVITY_LOGS_TIME_STEP: IntField = IntField {
    key: "activity_logs_time_step",
    min: 1,
    max: 91,
    default: Some(30),
};

/// `rate_limit_share`: the percentage of the app's rate limit (10,000 requests a minute)
/// this connector may use, leaving the rest to the workspace's other apps.
pub const RATE_LIMIT_SHARE: IntField = IntField {
    key: "rate_limit_share",
    min: 1,
    max: 100,
    default: Some(90),
};

/// `max_concurrency`: the most requests in flight at once, across all streams. Absent,
/// the connector sizes them from the answers' latency and the rate limit, up to
/// [`crate::http::slots::AUTO_MAX`]; set, it sizes them up to this.
pub const MAX_CONCURRENCY: IntField = IntField {
    key: "max_concurrency",
    min: 1,
    max: 128,
    default: None,
};

/// `num_workers`: the newer official connector's name for `max_concurrency`.
pub const NUM_WORKERS: IntField = IntField {
    key: "num_workers",
    ..MAX_CONCURRENCY
};

/// `api_rate_limit`: a ceiling in requests per minute, honoured even when Intercom
/// would allow more (the newer official connector's field). Absent: what Intercom
/// reports, times `rate_limit_share`.
pub const API_RATE_LIMIT: IntField = IntField {
    key: "api_rate_limit",
    min: 6,
    max: 10_000_000,
    default: None,
};

/// `search_index_lag_minutes`: how far behind the sync's start the saved position of a
/// searched stream (contacts, conversations, tickets) stays. Intercom's search index
/// trails writes ("a few minutes" for new contacts, its docs say; users report the same
/// for conversations): a record updated just before a sync may not be searchable yet,
/// while later ones are. Staying behind by more than the lag means the next sync reads
/// it; the cost is re-reading the records of the last `lag` minutes.
pub const SEARCH_INDEX_LAG: IntField = IntField {
    key: "search_index_lag_minutes",
    min: 0,
    max: 1440,
    default: Some(30),
};

/// Every integer field, for the spec.
pub const INT_FIELDS: &[IntField] = &[
    LOOKBACK_WINDOW,
    ACTIVITY_LOGS_TIME_STEP,
    RATE_LIMIT_SHARE,
    API_RATE_LIMIT,
    MAX_CONCURRENCY,
    NUM_WORKERS,
    SEARCH_INDEX_LAG,
];

/// A validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// `access_token`: the workspace access token or OAuth token, sent as `Authorization: Bearer`.
    pub access_token: Secret,
    /// `start_date`: nothing older than this (epoch seconds) is replicated by incremental streams.
    pub start_date: i64,
    /// `lookback_window`: days re-read before a saved cursor.
    pub lookback_window_days: u32,
    /// `activity_logs_time_step`: days per activity-log request window (1..=91).
    pub activity_logs_time_step_days: u32,
    /// `rate_limit_share`: percent of the app's rate limit to use (1..=100).
    pub rate_limit_share_percent: u32,
    /// `max_concurrency` (or `num_workers`): the most requests in flight at once
    /// (1..=128); `None`: sized automatically (see [`Config::max_in_flight`]).
    pub max_concurrency: Option<u32>,
    /// `api_rate_limit`: requests per minute never to pass.
    pub api_rate_limit: Option<u32>,
    /// `search_index_lag_minutes`: how far behind the sync's start searched streams' positions stay.
    pub search_index_lag_minutes: u32,
    /// `region`: picks the API host.
    pub region: Region,
    /// The API base URL: `base_url` if set, else the region's host.
    pub base_url: Url,
}

impl Config {
    /// The most requests in flight: `max_concurrency` (or `num_workers`) when set, else
    /// [`crate::http::slots::AUTO_MAX`].
    pub fn max_in_flight(&self) -> usize {
        self.max_concurrency
            .map_or(crate::http::slots::AUTO_MAX, |v| v.max(1) as usize)
    }

    /// Read and validate a config file.
    pub fn from_file(path: &Path) -> Result<Config> {
        let value = read_json_file("config", path)?;
        Config::from_value(&value)
    }

    /// Validate a config object.
    pub fn from_value(value: &Value) -> Result<Config> {
        let obj = value.as_object().ok_or_else(|| {
            Error::Config(format!(
                "the config must be a JSON object, got {}",
                json_kind(value)
            ))
        })?;

        let access_token = match opt_string(obj, "access_token")? {
            Some(t) if !t.trim().is_empty() => Secret::new(check_token(t.trim())?),
            Some(_) => return Err(Error::Config("`access_token` is empty".into())),
            None => {
                return Err(Error::Config(
                    "`access_token` is required: the Intercom access token of your workspace"
                        .into(),
                ))
            }
        };
        crate::redact::register_secret(access_token.expose());

        let start_date = match opt_string(obj, "start_date")? {
            Some(s) => parse_start_date(&s)?,
            None => {
                return Err(Error::Config(
                    "`start_date` is required, in the format YYYY-MM-DDTHH:MM:SSZ (e.g. 2020-11-16T00:00:00Z)"
                        .into(),
                ))
            }
        };

        let int = |field: IntField| -> Result<u32> {
            Ok(opt_int(obj, field)?.unwrap_or_default() as u32)
        };
        let lookback_window_days = int(LOOKBACK_WINDOW)?;
        let activity_logs_time_step_days = int(ACTIVITY_LOGS_TIME_STEP)?;
        let rate_limit_share_percent = int(RATE_LIMIT_SHARE)?;
        let search_index_lag_minutes = int(SEARCH_INDEX_LAG)?;
        let api_rate_limit = opt_int(obj, API_RATE_LIMIT)?.map(|v| v as u32);
        let max_concurrency = match (
            opt_int(obj, MAX_CONCURRENCY)?,
            opt_int(obj, NUM_WORKERS)?,
        ) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::Config(format!(
                    "`max_concurrency` ({a}) and `num_workers` ({b}) are two names of one setting, the most requests in flight at once; give one of them, or the same value to both"
                )))
            }
            (a, b) => a.or(b).map(|v| v as u32),
        };

        let region = match opt_string(obj, "region")?.as_deref().map(str::trim) {
            None | Some("") => Region::Us,
            Some(r) => match r.to_ascii_lowercase().as_str() {
                "us" => Region::Us,
                "eu" => Region::Eu,
                "au" => Region::Au,
                _ => {
                    return Err(Error::Config(format!(
                        "`region` must be one of us, eu, au; got {r:?}"
                    )))
                }
            },
        };

        let base_url = match opt_string(obj, "base_url")?.as_deref().map(str::trim) {
            None | Some("") => Url::parse(region.base_url())
                .map_err(|e| Error::Internal(format!("bad built-in host: {e}")))?,
            Some(u) => check_base_url(u)?,
        };

        // `client_id` and `client_secret` are OAuth bookkeeping: checked to be strings,
        // not kept. The client id is not a secret (it is in every OAuth URL): it is never
        // masked. The client secret is, like the token (from 16 characters: see `redact`).
        opt_string(obj, "client_id")?;
        if let Some(s) = opt_string(obj, "client_secret")? {
            crate::redact::register_secret(&s);
        }

        Ok(Config {
            access_token,
            start_date,
            lookback_window_days,
            activity_logs_time_step_days,
            rate_limit_share_percent,
            max_concurrency,
            api_rate_limit,
            search_index_lag_minutes,
            region,
            base_url,
        })
    }
}

/// A token must be something an `Authorization` header can carry: visible ASCII with no
/// spaces. (A newline would otherwise fail every request as a "network error".) The
/// message never repeats the token.
fn check_token(t: &str) -> Result<&str> {
    if let Some((i, c)) = t.char_indices().find(|(_, c)| !c.is_ascii_graphic()) {
        let what = match c {
            ' ' | '\t' => "a space",
            c if c.is_control() => "a control character (such as a line break)",
            _ => "a character outside printable ASCII",
        };
        return Err(Error::Config(format!(
            "`access_token` contains {what} at position {}; paste the token alone, as Intercom shows it",
            i + 1
        )));
    }
    if t.len() < 8 {
        return Err(Error::Config(format!(
            "`access_token` is only {} characters long; Intercom tokens are much longer",
            t.len()
        )));
    }
    Ok(t)
}

/// Validate `base_url`: http(s) without user info; https unless the host is loopback
/// (a local proxy or test server); never a link-local or cloud metadata address (the
/// network policy, [`crate::http::guard`]). The messages never print the URL's user info.
pub fn check_base_url(u: &str) -> Result<Url> {
    let url = Url::parse(u).map_err(|e| {
        Error::Config(format!(
            "`base_url` is not a valid URL ({e}); expected e.g. https://api.intercom.io"
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(
            "`base_url` must not contain a user name or password (user:pass@host); the connector authenticates with `access_token` only".into(),
        ));
    }
    let shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(Error::Config(format!(
            "`base_url` must start with https://, got {shown}"
        )));
    }
    let host = url
        .host()
        .ok_or_else(|| Error::Config("`base_url` has no host".into()))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "`base_url` must not have a query or fragment: {shown}"
        )));
    }
    if let Some(why) = guard::forbidden_host(&host) {
        return Err(Error::Config(format!(
            "`base_url` points at {shown}, {why}; the access token must only go to Intercom (or your own proxy)"
        )));
    }
    if url.scheme() == "http" && !guard::is_loopback(&host) {
        return Err(Error::Config(format!(
            "`base_url` must use https:// ({shown} would send the access token unencrypted); plain http is allowed only for loopback hosts"
        )));
    }
    Ok(url)
}

/// Parse `YYYY-MM-DDTHH:MM:SSZ` into epoch seconds.
pub fn parse_start_date(s: &str) -> Result<i64> {
    let shape_ok = s.len() == 20
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    let bad = || {
        Error::Config(format!(
            "`start_date` must be a UTC date-time in the format YYYY-MM-DDTHH:MM:SSZ (e.g. 2020-11-16T00:00:00Z); got {s:?}"
        ))
    };
    if !shape_ok {
        return Err(bad());
    }
    chrono::NaiveDateTime::parse_from_str(&s[..19], "%Y-%m-%dT%H:%M:%S")
        .map(|dt| dt.and_utc().timestamp())
        .map_err(|_| bad())
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Error::Config(format!(
            "`{key}` must be a string, got {}",
            json_kind(other)
        ))),
    }
}

fn opt_int(obj: &Map<String, Value>, field: IntField) -> Result<Option<i64>> {
    let IntField {
        key,
        min,
        max,
        default,
    } = field;
    let v = match obj.get(key) {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => n.as_i64().or_else(|| {
            // 30.0 is an integer too.
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        Some(_) => None,
    };
    match v {
        Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
        Some(n) => Err(Error::Config(format!(
            "`{key}` must be between {min} and {max}, got {n}"
        ))),
        None => Err(Error::Config(format!(
            "`{key}` must be an integer, got {}",
            obj.get(key).map(|v| v.to_string()).unwrap_or_default()
        ))),
    }
}

/// A short name for a JSON value's kind, for error messages.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Read a JSON file named on the command line; errors name the file and its role.
pub fn read_json_file(what: &'static str, path: &Path) -> Result<Value> {
    let bytes = std::fs::read(path).map_err(|source| Error::InputFile {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| Error::InputInvalid {
        what,
        path: path.to_path_buf(),
        message: format!("not valid JSON ({e})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({"access_token": "tok-12345", "start_date": "2020-11-16T00:00:00Z"})
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = Config::from_value(&base()).unwrap();
        assert_eq!(c.start_date, 1605484800);
        assert_eq!(c.lookback_window_days, 0);
        assert_eq!(c.activity_logs_time_step_days, 30);
        assert_eq!(c.rate_limit_share_percent, 90);
        assert_eq!(c.max_concurrency, None);
        assert_eq!(c.max_in_flight(), crate::http::slots::AUTO_MAX);
        assert_eq!(c.api_rate_limit, None);
        assert_eq!(c.region, Region::Us);
        assert_eq!(c.base_url.as_str(), "https://api.intercom.io/");
        assert!(!format!("{c:?}").contains("tok-12345"));
    }

    #[test]
    fn the_official_connector_s_newer_names_are_read() {
        let with = |extra: Value| {
            let mut v = base();
            for (k, x) in extra.as_object().unwrap() {
                v[k] = x.clone();
            }
            Config::from_value(&v)
        };
        let c = with(json!({"num_workers": 3, "api_rate_limit": 1200})).unwrap();
        assert_eq!(c.max_concurrency, Some(3));
        assert_eq!(c.max_in_flight(), 3);
        assert_eq!(c.api_rate_limit, Some(1200));
        let c = with(json!({"num_workers": 5, "max_concurrency": 5})).unwrap();
        assert_eq!(c.max_concurrency, Some(5));
        let e = with(json!({"num_workers": 3, "max_concurrency": 16}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`max_concurrency` (16) and `num_workers` (3) are two names of one setting"),
            "{e}"
        );
        for bad in [
            json!({"num_workers": 0}),
            json!({"api_rate_limit": 1}),
            json!({"num_workers": "x"}),
        ] {
            assert!(with(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn region_and_base_url() {
        let mut v = base();
        v["region"] = json!("eu");
        assert_eq!(
            Config::from_value(&v).unwrap().base_url.as_str(),
            "https://api.eu.intercom.io/"
        );
        v["base_url"] = json!("http://127.0.0.1:9999");
        assert_eq!(
            Config::from_value(&v).unwrap().base_url.as_str(),
            "http://127.0.0.1:9999/"
        );
        for ok in [
            "https://proxy.example.com/intercom",
            "http://localhost:8080",
            "http://[::1]:9",
        ] {
            v["base_url"] = json!(ok);
            assert!(Config::from_value(&v).is_ok(), "{ok}");
        }
        v["region"] = json!("mars");
        let e = Config::from_value(&v).unwrap_err().to_string();
        assert!(e.contains("`region`"), "{e}");
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                json!({"start_date": "2020-11-16T00:00:00Z"}),
                "`access_token` is required",
            ),
            (
                json!({"access_token": "tok-12345678"}),
                "`start_date` is required",
            ),
            (
                json!({"access_token": "tok-12345678", "start_date": "2020-11-16"}),
                "`start_date` must be",
            ),
            (
                json!({"access_token": "tok-12345678", "start_date": "2020-13-16T00:00:00Z"}),
                "`start_date` must be",
            ),
            (
                json!({"access_token": 5, "start_date": "2020-11-16T00:00:00Z"}),
                "`access_token` must be a string",
            ),
            (
                json!({"access_token": "tok-12345678", "start_date": "2020-11-16T00:00:00Z", "lookback_window": -1}),
                "`lookback_window` must be between",
            ),
            (
                json!({"access_token": "tok-12345678", "start_date": "2020-11-16T00:00:00Z", "activity_logs_time_step": 92}),
                "`activity_logs_time_step` must be between",
            ),
            (
                json!({"access_token": "tok-12345678", "start_date": "2020-11-16T00:00:00Z", "activity_logs_time_step": "ten"}),
                "`activity_logs_time_step` must be an integer",
            ),
            (
                json!({"access_token": "tok-12345678", "start_date": "2020-11-16T00:00:00Z", "base_url": "ftp://x"}),
                "`base_url` must start",
            ),
            (
                json!({"access_token": "tok\nen-12345", "start_date": "2020-11-16T00:00:00Z"}),
                "contains a control character (such as a line break) at position 4",
            ),
            (
                json!({"access_token": "tok en-12345", "start_date": "2020-11-16T00:00:00Z"}),
                "contains a space",
            ),
            (
                json!({"access_token": "tokén-12345", "start_date": "2020-11-16T00:00:00Z"}),
                "outside printable ASCII",
            ),
            (
                json!({"access_token": "short", "start_date": "2020-11-16T00:00:00Z"}),
                "only 5 characters",
            ),
            (json!([1]), "must be a JSON object"),
            (
                json!({"access_token": "tok-12345678", "start_date": "2020-11-16T00:00:00Z", "rate_limit_share": 0}),
                "`rate_limit_share` must be between 1 and 100",
            ),
            (
                json!({"access_token": "tok-12345678", "start_date": "2020-11-16T00:00:00Z", "max_concurrency": 500}),
                "`max_concurrency` must be between 1 and 128",
            ),
        ];
        for (v, want) in cases {
            let e = Config::from_value(&v).unwrap_err().to_string();
            assert!(e.contains(want), "{v}: {e}");
        }
    }

    #[test]
    fn base_urls_that_could_leak_the_token_are_refused() {
        let cases = [
            (
                "https://user:hunter2@api.intercom.io",
                "user name or password",
            ),
            ("https://user@api.intercom.io", "user name or password"),
            ("http://api.intercom.io", "must use https://"),
            ("http://10.0.0.5:8080", "must use https://"),
            ("https://169.254.169.254/latest", "link-local"),
            ("http://169.254.169.254", "link-local"),
            ("https://[fe80::1]/", "link-local"),
            ("https://[::ffff:169.254.169.254]/", "link-local"),
            ("https://[fd00:ec2::254]/", "metadata"),
            ("https://metadata.google.internal/", "metadata"),
            ("https://100.100.100.200/", "metadata"),
            ("https://0.0.0.0/", "not a host"),
            ("https://api.intercom.io/?x=1", "query or fragment"),
            ("not a url", "not a valid URL"),
        ];
        for (u, want) in cases {
            let mut v = base();
            v["base_url"] = json!(u);
            let e = Config::from_value(&v).unwrap_err().to_string();
            assert!(e.contains(want), "{u}: {e}");
            assert!(!e.contains("hunter2"), "{e}");
            assert!(e.contains("`base_url`"), "{e}");
        }
    }

    #[test]
    fn only_real_secrets_of_16_characters_or_more_are_masked() {
        let mut v = base();
        v["client_id"] = json!("cfg-client-id-is-not-secret");
        v["client_secret"] = json!("cfg-client-secret-f3a9c1");
        Config::from_value(&v).unwrap();
        let masked = |s: &str| crate::redact::mask_text(&format!("x {s} y"));
        assert_eq!(masked("cfg-client-id-is-not-secret"), None);
        assert_eq!(
            masked("cfg-client-secret-f3a9c1").as_deref(),
            Some("x *** y")
        );
        // Shorter secrets are accepted but not masked: they would rewrite ordinary text.
        let mut v = base();
        v["client_secret"] = json!("short-sec");
        Config::from_value(&v).unwrap();
        assert_eq!(masked("short-sec"), None);
    }

    #[test]
    fn unknown_keys_and_nulls_are_accepted() {
        let mut v = base();
        v["something_new"] = json!(true);
        v["client_id"] = Value::Null;
        v["lookback_window"] = json!(2.0);
        let c = Config::from_value(&v).unwrap();
        assert_eq!(c.lookback_window_days, 2);
    }
}
