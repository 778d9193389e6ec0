//! Conversation and ticket part lists as answers show them: left out of
//! conversation search results, and cut to the most recent parts.

use serde_json::{json, Value};

/// A copy of `obj` without `key`.
pub(crate) fn without(obj: &Value, key: &str) -> Value {
    match obj.as_object() {
        Some(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != key)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => obj.clone(),
    }
}

/// A copy of `obj` whose part list `key` (`{type, <key>: [...], total_count}`)
/// holds only the `max` most recent parts, oldest first, with `total_count`
/// the number kept.
pub(crate) fn with_recent_parts(obj: &Value, key: &str, max: usize) -> Value {
    let mut out = without(obj, key);
    let Some(list) = obj.get(key) else {
        return out;
    };
    let parts: &[Value] = list
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let kept = &parts[parts.len().saturating_sub(max)..];
    let list_type = list
        .get("type")
        .cloned()
        .unwrap_or_else(|| json!(format!("{}.list", key.trim_end_matches('s'))));
    if let Some(m) = out.as_object_mut() {
        let mut l = serde_json::Map::new();
        l.insert("type".into(), list_type);
        l.insert(key.into(), Value::Array(kept.to_vec()));
        l.insert("total_count".into(), json!(kept.len()));
        m.insert(key.into(), Value::Object(l));
    }
    out
}
