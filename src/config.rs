//! The connector config: the raw JSON object the platform passes, validated into
//! [`Config`]. Field names match Airbyte's official Intercom source so saved configs
//! keep working; unknown keys are allowed. Every error names the field at fault.
//! The access token lives in a [`Secret`], which never prints.

use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};
use url::Url;

use crate::error::{Error, Result};

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

/// A validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// `access_token`: the workspace access token or OAuth token, sent as `Authorization: Bearer`.
    pub access_token: Secret,
    /// `start_date`: nothing older than this (epoch seconds) is replicated by incremental streams.
    pub start_date: i64,
    /// `client_id`: OAuth bookkeeping only.
    pub client_id: Option<Secret>,
    /// `client_secret`: OAuth bookkeeping only.
    pub client_secret: Option<Secret>,
    /// `lookback_window`: days re-read before a saved cursor.
    pub lookback_window_days: u32,
    /// `activity_logs_time_step`: days per activity-log request window (1..=91).
    pub activity_logs_time_step_days: u32,
    /// `region`: picks the API host.
    pub region: Region,
    /// The API base URL: `base_url` if set, else the region's host.
    pub base_url: Url,
}

impl Config {
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
            Some(t) if !t.trim().is_empty() => Secret::new(t.trim()),
            Some(_) => return Err(Error::Config("`access_token` is empty".into())),
            None => {
                return Err(Error::Config(
                    "`access_token` is required: the Intercom access token of your workspace"
                        .into(),
                ))
            }
        };

        let start_date = match opt_string(obj, "start_date")? {
            Some(s) => parse_start_date(&s)?,
            None => {
                return Err(Error::Config(
                    "`start_date` is required, in the format YYYY-MM-DDTHH:MM:SSZ (e.g. 2020-11-16T00:00:00Z)"
                        .into(),
                ))
            }
        };

        let lookback_window_days = opt_int(obj, "lookback_window", 0, 0, 36_500)? as u32;
        let activity_logs_time_step_days =
            opt_int(obj, "activity_logs_time_step", 30, 1, 91)? as u32;

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
            Some(u) => {
                let url = Url::parse(u).map_err(|e| {
                    Error::Config(format!("`base_url` is not a valid URL ({e}): {u:?}"))
                })?;
                if url.scheme() != "http" && url.scheme() != "https" {
                    return Err(Error::Config(format!(
                        "`base_url` must start with http:// or https://, got {u:?}"
                    )));
                }
                url
            }
        };

        Ok(Config {
            access_token,
            start_date,
            client_id: opt_string(obj, "client_id")?.map(Secret::new),
            client_secret: opt_string(obj, "client_secret")?.map(Secret::new),
            lookback_window_days,
            activity_logs_time_step_days,
            region,
            base_url,
        })
    }
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

fn opt_int(obj: &Map<String, Value>, key: &str, default: i64, min: i64, max: i64) -> Result<i64> {
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
        Some(n) if (min..=max).contains(&n) => Ok(n),
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
        json!({"access_token": "tok-123", "start_date": "2020-11-16T00:00:00Z"})
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = Config::from_value(&base()).unwrap();
        assert_eq!(c.start_date, 1605484800);
        assert_eq!(c.lookback_window_days, 0);
        assert_eq!(c.activity_logs_time_step_days, 30);
        assert_eq!(c.region, Region::Us);
        assert_eq!(c.base_url.as_str(), "https://api.intercom.io/");
        assert!(!format!("{c:?}").contains("tok-123"));
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
            (json!({"access_token": "t"}), "`start_date` is required"),
            (
                json!({"access_token": "t", "start_date": "2020-11-16"}),
                "`start_date` must be",
            ),
            (
                json!({"access_token": "t", "start_date": "2020-13-16T00:00:00Z"}),
                "`start_date` must be",
            ),
            (
                json!({"access_token": 5, "start_date": "2020-11-16T00:00:00Z"}),
                "`access_token` must be a string",
            ),
            (
                json!({"access_token": "t", "start_date": "2020-11-16T00:00:00Z", "lookback_window": -1}),
                "`lookback_window` must be between",
            ),
            (
                json!({"access_token": "t", "start_date": "2020-11-16T00:00:00Z", "activity_logs_time_step": 92}),
                "`activity_logs_time_step` must be between",
            ),
            (
                json!({"access_token": "t", "start_date": "2020-11-16T00:00:00Z", "activity_logs_time_step": "ten"}),
                "`activity_logs_time_step` must be an integer",
            ),
            (
                json!({"access_token": "t", "start_date": "2020-11-16T00:00:00Z", "base_url": "ftp://x"}),
                "`base_url` must start",
            ),
            (json!([1]), "must be a JSON object"),
        ];
        for (v, want) in cases {
            let e = Config::from_value(&v).unwrap_err().to_string();
            assert!(e.contains(want), "{v}: {e}");
        }
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
