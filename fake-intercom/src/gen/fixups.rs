//! Fix-ups after generation that make timestamps interesting for
//! incremental syncs: records sharing an `updated_at` second, contacts
//! updated just around a local midnight; and the next free part id.

use serde_json::{json, Value};

use crate::gen::util::updated_at;
use crate::rng::Rng;
use crate::time::{day_start, DAY, GENERATION_END, HOUR};

/// Move the `updated_at` of a few contacts (about 3%, at least 3) to within an
/// hour of a local midnight. Only ever moves it later, so every other
/// timestamp of the contact stays `<= updated_at`.
pub(super) fn contacts_near_day_boundaries(seed: u64, contacts: &mut [Value], tz: i64) {
    let n = contacts.len();
    if n == 0 {
        return;
    }
    let mut rng = Rng::derive(seed, "contact-day-boundaries");
    let count = (n * 3 / 100).max(3).min(n);
    for i in rng.sample_indices(n, count) {
        let old = updated_at(&contacts[i]);
        let boundary = day_start(old, tz) + DAY;
        let lo = (old - boundary).max(-(HOUR - 1));
        let new = boundary + rng.range(lo, HOUR - 1);
        if new >= old && new <= GENERATION_END {
            contacts[i]["updated_at"] = json!(new);
        }
    }
}

/// Make some records share the same `updated_at` second: for about 5% of
/// them (at least 2 when there are 4 or more), the earlier-updated record of
/// a random pair is moved up to the other's `updated_at`.
pub(super) fn add_updated_ties(seed: u64, label: &str, items: &mut [Value]) {
    let n = items.len();
    if n < 4 {
        return;
    }
    let mut rng = Rng::derive(seed, label);
    let count = (n / 20).max(2);
    for _ in 0..count {
        let i = rng.index(n);
        let j = rng.index(n);
        if i == j {
            continue;
        }
        let (ui, uj) = (updated_at(&items[i]), updated_at(&items[j]));
        if ui < uj {
            items[i]["updated_at"] = json!(uj);
        } else {
            items[j]["updated_at"] = json!(ui);
        }
    }
}

/// The largest numeric conversation part id (30 000 000 if there is none).
pub(super) fn max_part_id(conversations: &[Value]) -> i64 {
    conversations
        .iter()
        .filter_map(|c| c["conversation_parts"]["conversation_parts"].as_array())
        .flatten()
        .filter_map(|p| p.get("id").and_then(Value::as_str))
        .filter_map(|s| s.parse::<i64>().ok())
        .max()
        .unwrap_or(30_000_000)
}
