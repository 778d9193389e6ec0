//! Small helpers of the generators: unique names, slugs, bounded random
//! timestamps, HTML paragraphs, and building JSON objects in one go.

use serde_json::{json, Value};

use crate::rng::Rng;

/// Base name number `i` of a list, made unique by a numeric suffix once the list
/// is exhausted; `start` rotates the list so different seeds differ.
pub(super) fn unique_from_list(list: &[&str], start: usize, i: usize) -> String {
    if list.is_empty() {
        return format!("Item {}", i + 1);
    }
    let base = list[(start + i) % list.len()];
    let round = i / list.len();
    if round == 0 {
        base.to_string()
    } else {
        format!("{} {}", base, round + 1)
    }
}

pub(super) fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dash = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Lowercase ASCII letters only (for e-mail local parts and domains).
pub(super) fn letters(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

pub(super) fn between(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    rng.range(lo, hi.max(lo))
}

pub(super) fn maybe_between(rng: &mut Rng, p: f64, lo: i64, hi: i64) -> Value {
    if rng.chance(p) {
        json!(between(rng, lo, hi))
    } else {
        Value::Null
    }
}

pub(super) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A few sentences as HTML paragraphs (a few hundred characters).
pub(super) fn html_paragraphs(rng: &mut Rng, lines: &[&'static str], paragraphs: usize) -> String {
    let mut out = String::new();
    let mut previous = usize::MAX;
    for _ in 0..paragraphs {
        out.push_str("<p>");
        let n = 1 + rng.index(3);
        for k in 0..n {
            if k > 0 {
                out.push(' ');
            }
            // Never the same sentence twice in a row.
            let mut i = rng.index(lines.len());
            if i == previous && lines.len() > 1 {
                i = (i + 1 + rng.index(lines.len() - 1)) % lines.len();
            }
            previous = i;
            out.push_str(lines.get(i).copied().unwrap_or_default());
        }
        out.push_str("</p>");
    }
    out
}

/// Object fields collected first and turned into a map in one go: building a
/// `BTreeMap` from a whole list packs its nodes (less memory, fewer
/// comparisons) compared with inserting keys one at a time.
pub(super) struct Fields(Vec<(String, Value)>);

impl Fields {
    pub(super) fn with_capacity(n: usize) -> Fields {
        Fields(Vec::with_capacity(n))
    }

    pub(super) fn insert(&mut self, key: String, value: Value) {
        self.0.push((key, value));
    }

    pub(super) fn into_value(self) -> Value {
        Value::Object(self.0.into_iter().collect())
    }
}

pub(super) fn json_str(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub(super) fn updated_at(v: &Value) -> i64 {
    v.get("updated_at").and_then(Value::as_i64).unwrap_or(0)
}
