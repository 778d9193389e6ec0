//! Incremental cursors: reading a stream's saved position from the state blobs
//! orchestrators pass (ours and the official connector's shapes), the inclusive lower
//! bound a sync reads from, and the position it may save.
//!
//! Rules (see README "State"):
//! - resume is inclusive: a sync reads records with cursor `>= lower`, so a record at the
//!   saved position is read again rather than missed (at-least-once);
//! - `lookback_window` days are subtracted from the saved position once;
//! - `start_date` is the floor;
//! - the saved position never moves backwards, never past the sync's start (clock skew),
//!   and for streams whose source lags behind writes (contact search) not past
//!   `start − lag`, so records that become visible late are read by the next sync.

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// The last second of year 9999: no epoch-seconds cursor can be later.
pub const MAX_EPOCH_SECONDS: i64 = 253_402_300_799;

/// Why a value is not an epoch-seconds timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadTimestamp {
    /// Not a number, numeric string or RFC 3339 date-time.
    NotATime,
    /// NaN or infinite.
    NotFinite,
    /// Has a fractional part.
    NotWhole,
    /// After year 9999; `millis` when it would be a plausible time in milliseconds.
    TooLate { millis: bool },
}

impl BadTimestamp {
    /// The explanation, for an error message.
    pub fn explain(&self) -> &'static str {
        match self {
            BadTimestamp::NotATime => "not a timestamp (epoch seconds or an RFC 3339 date-time)",
            BadTimestamp::NotFinite => "not a finite number",
            BadTimestamp::NotWhole => "not a whole number of seconds",
            BadTimestamp::TooLate { millis: true } => {
                "after the year 9999 in epoch seconds; it looks like milliseconds (divide by 1000)"
            }
            BadTimestamp::TooLate { millis: false } => "after the year 9999 in epoch seconds",
        }
    }
}

fn check_range(secs: i64) -> Result<i64, BadTimestamp> {
    if secs > MAX_EPOCH_SECONDS {
        let millis = secs / 1000 <= MAX_EPOCH_SECONDS;
        return Err(BadTimestamp::TooLate { millis });
    }
    Ok(secs)
}

fn from_f64(f: f64) -> Result<i64, BadTimestamp> {
    if !f.is_finite() {
        return Err(BadTimestamp::NotFinite);
    }
    if f.fract() != 0.0 {
        return Err(BadTimestamp::NotWhole);
    }
    if f > MAX_EPOCH_SECONDS as f64 {
        let millis = f / 1000.0 <= MAX_EPOCH_SECONDS as f64;
        return Err(BadTimestamp::TooLate { millis });
    }
    // Whole and at most MAX: the cast is exact (very negative values saturate, and
    // negative positions are clamped to start_date by the cursor anyway).
    Ok(f as i64)
}

/// A timestamp as epoch seconds, from an integer, a float with no fraction, a numeric
/// string or an RFC 3339 string; anything else says why not.
pub fn epoch_seconds(v: &Value) -> Result<i64, BadTimestamp> {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => check_range(i),
            // u64 beyond i64, or a float.
            None => from_f64(n.as_f64().ok_or(BadTimestamp::NotATime)?),
        },
        Value::String(s) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i64>() {
                return check_range(i);
            }
            if let Ok(f) = s.parse::<f64>() {
                return from_f64(f);
            }
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|d| d.timestamp())
                .map_err(|_| BadTimestamp::NotATime)
                .and_then(check_range)
        }
        _ => Err(BadTimestamp::NotATime),
    }
}

/// Read a stream's saved cursor from its state blob.
///
/// Looks, in order, at `blob[parent][field]` (child streams keep their parent's cursor
/// there), `blob[field]`, and the newer official shapes `blob.state[field]` and
/// `blob.parent_state[parent][field]`. A key that is present but not a timestamp is an error.
pub fn saved_position(
    stream: &str,
    blob: Option<&Value>,
    field: &str,
    parent: Option<&str>,
) -> Result<Option<i64>> {
    let Some(blob) = blob else { return Ok(None) };
    let mut candidates: Vec<(&Value, String)> = Vec::new();
    if let Some(p) = parent {
        if let Some(v) = blob.get(p).and_then(|o| o.get(field)) {
            candidates.push((v, format!("{p}.{field}")));
        }
        if let Some(v) = blob.pointer(&format!("/parent_state/{p}/{field}")) {
            candidates.push((v, format!("parent_state.{p}.{field}")));
        }
    }
    if let Some(v) = blob.get(field) {
        candidates.push((v, field.to_string()));
    }
    if let Some(v) = blob.get("state").and_then(|s| s.get(field)) {
        candidates.push((v, format!("state.{field}")));
    }
    for (v, path) in candidates {
        if v.is_null() {
            continue;
        }
        return match epoch_seconds(v) {
            Ok(t) => Ok(Some(t)),
            Err(why) => Err(Error::State(format!(
                "the state of stream `{stream}` has `{path}` = {}, which is {}. Fix or remove this stream's state (reset the stream) to continue",
                crate::redact::server_text(&v.to_string(), 60),
                why.explain()
            ))),
        };
    }
    Ok(None)
}

/// One stream's cursor during one sync.
#[derive(Debug, Clone)]
pub struct Cursor {
    /// Inclusive lower bound of this read.
    lower: i64,
    /// Where the state may not go below (the saved position, or start_date).
    floor: i64,
    /// Where the state may not go beyond.
    ceiling: i64,
    /// Seconds the state stays behind the sync's start.
    lag: i64,
}

impl Cursor {
    /// `saved`: the position from the input state; `now`: the sync's start (epoch s);
    /// `lag`: seconds behind `now` the saved position must stay.
    pub fn new(
        saved: Option<i64>,
        start_date: i64,
        lookback_days: u32,
        now: i64,
        lag: i64,
    ) -> Cursor {
        // Saturating everywhere: a saved position far in the past (or negative) plus a
        // lookback must not wrap around.
        let lower = match saved {
            Some(s) => s
                .saturating_sub(i64::from(lookback_days).saturating_mul(86_400))
                .max(start_date),
            None => start_date,
        };
        // A position before start_date (negative, say) is clamped to it.
        let floor = saved.map_or(start_date, |s| s.max(start_date));
        Cursor {
            lower,
            floor,
            ceiling: now.saturating_sub(lag.max(0)),
            lag: lag.max(0),
        }
    }

    /// The inclusive lower bound to read from.
    pub fn lower(&self) -> i64 {
        self.lower
    }

    /// The position to save when every record below `watermark` has been emitted:
    /// never below the saved position (or start_date), never past the ceiling.
    pub fn position_at(&self, watermark: i64) -> i64 {
        watermark.min(self.ceiling).max(self.floor)
    }

    /// [`Cursor::position_at`], also never past `start` (the sync's start on Intercom's
    /// clock, when it is behind this machine's) less the lag.
    pub fn position_by_clock(&self, watermark: i64, start: i64) -> i64 {
        self.position_at(watermark.min(start.saturating_sub(self.lag)))
    }
}

/// The state blob for a stream: `{field: position}`, and for child streams the parent's
/// cursor nested as the official connector saves it: `{field: p, parent: {field: p}}`.
pub fn state_blob(field: &str, parent: Option<&str>, position: i64) -> Value {
    let mut blob = json!({ field: position });
    if let Some(p) = parent {
        blob[p] = json!({ field: position });
    }
    blob
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_saved_form() {
        let parse = |v: Value| epoch_seconds(&v).ok();
        assert_eq!(parse(json!(1676462031)), Some(1676462031));
        assert_eq!(parse(json!(1676462031.0)), Some(1676462031));
        assert_eq!(parse(json!("1676286387")), Some(1676286387));
        assert_eq!(parse(json!(" 1676286387.0 ")), Some(1676286387));
        assert_eq!(parse(json!("2023-02-13T10:00:00Z")), Some(1676282400));
        assert_eq!(parse(json!(-5)), Some(-5));
        assert_eq!(parse(json!(MAX_EPOCH_SECONDS)), Some(MAX_EPOCH_SECONDS));
        assert_eq!(parse(json!("soon")), None);
    }

    #[test]
    fn impossible_timestamps_say_why() {
        use BadTimestamp::*;
        let cases = [
            (json!(1_676_462_031_000i64), TooLate { millis: true }),
            (json!("1676462031000"), TooLate { millis: true }),
            (json!(1.676462031e12), TooLate { millis: true }),
            (json!(1e30), TooLate { millis: false }),
            (json!(u64::MAX), TooLate { millis: false }),
            (json!("1e30"), TooLate { millis: false }),
            (json!("inf"), NotFinite),
            (json!("NaN"), NotFinite),
            (json!(1676462031.5), NotWhole),
            (json!("10000-01-01T00:00:00Z"), NotATime),
            (json!(true), NotATime),
            (json!({"a": 1}), NotATime),
        ];
        for (v, want) in cases {
            assert_eq!(epoch_seconds(&v), Err(want.clone()), "{v}");
        }
        let e = saved_position(
            "contacts",
            Some(&json!({"updated_at": 1_676_462_031_000i64})),
            "updated_at",
            None,
        )
        .unwrap_err();
        assert_eq!(e.failure_type(), crate::protocol::FailureType::ConfigError);
        let s = e.to_string();
        assert!(
            s.contains("contacts") && s.contains("1676462031000") && s.contains("milliseconds"),
            "{s}"
        );
    }

    #[test]
    fn saved_positions_from_official_shapes() {
        let f =
            |blob: Value, parent| saved_position("s", Some(&blob), "updated_at", parent).unwrap();
        assert_eq!(f(json!({"updated_at": 5}), None), Some(5));
        assert_eq!(
            f(
                json!({"updated_at": 5, "prior_state": {"updated_at": 4}}),
                None
            ),
            Some(5)
        );
        assert_eq!(
            f(
                json!({"updated_at": 9, "conversations": {"updated_at": 7}}),
                Some("conversations")
            ),
            Some(7)
        );
        assert_eq!(f(json!({"updated_at": 9}), Some("conversations")), Some(9));
        assert_eq!(
            f(
                json!({"use_global_cursor": true, "state": {"updated_at": 3}, "parent_state": {"conversations": {"updated_at": 2}}}),
                Some("conversations")
            ),
            Some(2)
        );
        assert_eq!(f(json!({"state": {"updated_at": "3"}}), None), Some(3));
        assert_eq!(f(json!({"__ab_no_cursor_state_message": true}), None), None);
        assert_eq!(f(json!({"updated_at": null}), None), None);
        let e = saved_position(
            "contacts",
            Some(&json!({"updated_at": "yesterday"})),
            "updated_at",
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("contacts") && e.to_string().contains("yesterday"));
    }

    #[test]
    fn bounds_and_positions() {
        let now = 2_000_000_000;
        // First sync: from start_date, and nothing read yet saves start_date.
        let c = Cursor::new(None, 1000, 0, now, 0);
        assert_eq!(c.lower(), 1000);
        assert_eq!(c.position_at(i64::MIN), 1000);
        // Lookback applies once, not below start_date.
        let c = Cursor::new(Some(1_000_000), 0, 2, now, 0);
        assert_eq!(c.lower(), 1_000_000 - 2 * 86_400);
        assert_eq!(
            Cursor::new(Some(100_000), 50_000, 2, now, 0).lower(),
            50_000
        );
        // Never backwards, never past now - lag.
        let c = Cursor::new(Some(5000), 0, 1, now, 3600);
        assert_eq!(c.position_at(4000), 5000);
        assert_eq!(c.position_at(now - 10), now - 3600);
        // Negative and huge lookbacks saturate; a negative position clamps to start_date.
        let c = Cursor::new(Some(i64::MIN + 5), 1000, 36_500, now, 0);
        assert_eq!(c.lower(), 1000);
        assert_eq!(c.position_at(i64::MIN), 1000);
        let c = Cursor::new(Some(-86_400 * 365), 1000, 1, i64::MIN, i64::MAX);
        assert_eq!(c.position_at(i64::MIN), 1000);
        // A future saved state is kept, and nothing older is read.
        let c = Cursor::new(Some(7_626_086_649), 0, 0, now, 0);
        assert_eq!(c.position_at(now), 7_626_086_649);
        assert!(now < c.lower());
    }

    #[test]
    fn blobs() {
        assert_eq!(state_blob("created_at", None, 5), json!({"created_at": 5}));
        assert_eq!(
            state_blob("updated_at", Some("conversations"), 5),
            json!({"updated_at": 5, "conversations": {"updated_at": 5}})
        );
    }
}
