//! Search cursors: the sort position of a record ([`SortKey`], [`IdKey`])
//! and its `starting_after` text, base64 of the JSON `[sort_value, id]`.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{json, Value};

/// A sort value: nulls first, then booleans, numbers, strings.
#[derive(Clone, Debug)]
pub(crate) enum SortKey<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
}

impl<'a> SortKey<'a> {
    pub(super) fn from_value(v: Option<&'a Value>) -> Option<SortKey<'a>> {
        Some(match v {
            None | Some(Value::Null) => SortKey::Null,
            Some(Value::Bool(b)) => SortKey::Bool(*b),
            Some(Value::Number(n)) => SortKey::Num(n.as_f64()?),
            Some(Value::String(s)) => SortKey::Str(Cow::Borrowed(s)),
            Some(_) => return None,
        })
    }

    pub(super) fn into_owned(self) -> SortKey<'static> {
        match self {
            SortKey::Null => SortKey::Null,
            SortKey::Bool(b) => SortKey::Bool(b),
            SortKey::Num(n) => SortKey::Num(n),
            SortKey::Str(s) => SortKey::Str(Cow::Owned(s.into_owned())),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            SortKey::Null => Value::Null,
            SortKey::Bool(b) => json!(b),
            SortKey::Num(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => json!(*n as i64),
            SortKey::Num(n) => json!(n),
            SortKey::Str(s) => json!(s),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            SortKey::Null => 0,
            SortKey::Bool(_) => 1,
            SortKey::Num(_) => 2,
            SortKey::Str(_) => 3,
        }
    }
}

impl Ord for SortKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortKey::Bool(a), SortKey::Bool(b)) => a.cmp(b),
            (SortKey::Num(a), SortKey::Num(b)) => a.total_cmp(b),
            (SortKey::Str(a), SortKey::Str(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for SortKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SortKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SortKey<'_> {}

/// An id as a tie-breaker: numeric ids in numeric order, before other ids.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum IdKey<'a> {
    Num(u64),
    Str(Cow<'a, str>),
}

impl<'a> IdKey<'a> {
    pub(super) fn new(id: &'a str) -> IdKey<'a> {
        let numeric = !id.is_empty()
            && id.len() <= 19
            && id.bytes().all(|b| b.is_ascii_digit())
            && (!id.starts_with('0') || id == "0");
        match id.parse::<u64>() {
            Ok(n) if numeric => IdKey::Num(n),
            _ => IdKey::Str(Cow::Borrowed(id)),
        }
    }

    pub(super) fn into_owned(self) -> IdKey<'static> {
        match self {
            IdKey::Num(n) => IdKey::Num(n),
            IdKey::Str(s) => IdKey::Str(Cow::Owned(s.into_owned())),
        }
    }

    fn as_string(&self) -> String {
        match self {
            IdKey::Num(n) => n.to_string(),
            IdKey::Str(s) => s.to_string(),
        }
    }
}

/// A record's position in the sort order.
pub(super) type Key<'a> = (SortKey<'a>, IdKey<'a>);

/// Base64 (standard alphabet, padded).
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decode base64 (standard or URL-safe alphabet, padding optional).
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return None;
    }
    Some(out)
}

/// The cursor of a record: base64 of the JSON `[sort_value, id]`.
pub(crate) fn encode_cursor(sort: &SortKey<'_>, id: &IdKey<'_>) -> String {
    let text = json!([sort.to_json(), id.as_string()]).to_string();
    base64_encode(text.as_bytes())
}

pub(super) fn decode_cursor(cursor: &str) -> Option<Key<'static>> {
    let bytes = base64_decode(cursor)?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    let arr = v.as_array()?;
    if arr.len() != 2 {
        return None;
    }
    let sort = SortKey::from_value(arr.first())?.into_owned();
    let id = match arr.get(1)? {
        Value::String(s) => IdKey::new(s).into_owned(),
        Value::Number(n) => IdKey::new(&n.to_string()).into_owned(),
        _ => return None,
    };
    Some((sort, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "abcd", "[1719493757.0, \"123\"]"] {
            let e = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&e).unwrap(), s.as_bytes());
        }
        assert_eq!(
            base64_encode(b"[1719493757.0, \"123\"]"),
            "WzE3MTk0OTM3NTcuMCwgIjEyMyJd"
        );
        assert_eq!(
            decode_cursor("WzE3MTk0OTM3NTcuMCwgIjEyMyJd").unwrap(),
            (SortKey::Num(1_719_493_757.0), IdKey::Num(123))
        );
        assert!(base64_decode("a$b").is_none());
        assert!(decode_cursor("bm90IGpzb24").is_none());
    }
}
