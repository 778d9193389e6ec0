//! Query-string parsing that never fails: raw pairs are kept (for rebuilding
//! `next` URLs byte-for-byte) next to their percent-decoded forms, and typed
//! getters turn bad values into Intercom `parameter_invalid` errors.

use crate::api::error::ApiError;

#[derive(Clone, Debug)]
struct Pair {
    raw: String,
    key: String,
    value: String,
}

/// A parsed query string.
#[derive(Clone, Debug, Default)]
pub struct QueryParams {
    pairs: Vec<Pair>,
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space); invalid
/// escapes are kept literally and invalid UTF-8 is replaced.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encode a query value (unreserved characters pass through).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl QueryParams {
    /// Parse a raw query string (without the leading `?`).
    pub fn parse(raw: &str) -> QueryParams {
        let pairs = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                Pair {
                    raw: p.to_string(),
                    key: percent_decode(k),
                    value: percent_decode(v),
                }
            })
            .collect();
        QueryParams { pairs }
    }

    /// The first decoded value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }

    /// A boolean parameter (`true`/`false`/`1`/`0`, case-insensitive).
    pub fn get_bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(ApiError::parameter_invalid(format!(
                    "{key} must be true or false"
                ))),
            },
        }
    }

    /// A positive integer parameter within `1..=max`.
    pub fn get_positive(&self, key: &str, max: u64) -> Result<Option<u64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::parameter_invalid(format!(
                    "{key} must be an integer between 1 and {max}"
                ))),
            },
        }
    }

    /// The raw query string with `key` set to `value` (first occurrence
    /// replaced in place, later ones dropped; appended if absent).
    pub fn with(&self, key: &str, value: &str) -> String {
        let mut out: Vec<String> = Vec::with_capacity(self.pairs.len() + 1);
        let mut done = false;
        let replacement = format!("{}={}", percent_encode(key), percent_encode(value));
        for p in &self.pairs {
            if p.key == key {
                if !done {
                    out.push(replacement.clone());
                    done = true;
                }
            } else {
                out.push(p.raw.clone());
            }
        }
        if !done {
            out.push(replacement);
        }
        out.join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_decodes() {
        let q = QueryParams::parse("a=1&b=hello+world&c=%2Fx%2F&d&e=%zz&a=2");
        assert_eq!(q.get("a"), Some("1"));
        assert_eq!(q.get("b"), Some("hello world"));
        assert_eq!(q.get("c"), Some("/x/"));
        assert_eq!(q.get("d"), Some(""));
        assert_eq!(q.get("e"), Some("%zz"));
        assert_eq!(q.get("zz"), None);
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("ab%4"), "ab%4");
        assert_eq!(percent_decode("%41"), "A");
    }

    #[test]
    fn typed_getters_validate() {
        let q = QueryParams::parse("per_page=10&x=abc&big=151&t=TRUE&f=0&z=0");
        assert_eq!(q.get_positive("per_page", 150), Ok(Some(10)));
        assert!(q.get_positive("x", 150).is_err());
        assert!(q.get_positive("big", 150).is_err());
        assert!(q.get_positive("z", 150).is_err());
        assert_eq!(q.get_positive("none", 150), Ok(None));
        assert_eq!(q.get_bool("t"), Ok(Some(true)));
        assert_eq!(q.get_bool("f"), Ok(Some(false)));
        assert!(q.get_bool("x").is_err());
    }

    #[test]
    fn with_replaces_or_appends() {
        let q = QueryParams::parse("per_page=2&page=1&order=desc");
        assert_eq!(q.with("page", "2"), "per_page=2&page=2&order=desc");
        let q = QueryParams::parse("per_page=2");
        assert_eq!(q.with("page", "3"), "per_page=2&page=3");
        let q = QueryParams::parse("");
        assert_eq!(q.with("page", "2"), "page=2");
    }
}
