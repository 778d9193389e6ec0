//! Row hooks for the five count tables of the legacy `GET /counts` API, which answers
//! nested maps keyed by names rather than lists of objects. Each hook turns one answer
//! into flat rows with a stable primary key.
//!
//! Answer shapes (Intercom's legacy docs):
//! - app totals: `{"type":"count.hash","company":{"count":N},"user":{"count":N},...}`
//! - `type=conversation`: `{"conversation":{"open":N,"closed":N,"unassigned":N,"assigned":N}}`
//! - `type=conversation&count=admin`: `{"conversation":{"admin":[{"id","name","open","closed"}]}}`
//! - `type=user&count=segment|tag`: `{"user":{"segment":[{"<name>":N}]}}`
//! - `type=company&count=user|segment|tag`: `{"company":{"user":[{"<name>":N,"remote_company_id":"6"}]}}`

use serde_json::{json, Map, Value};

/// A key name from an answer, fit for a message (server text: bounded and cleaned).
fn key(name: &str) -> String {
    crate::redact::server_text(name, 60)
}

/// `counts`: one row per counted object type, `{name, count}`.
pub fn app_totals(body: &Value) -> Result<Vec<Value>, String> {
    let obj = body.as_object().ok_or("the answer is not an object")?;
    let mut rows = Vec::new();
    for (name, v) in obj {
        if name == "type" {
            continue;
        }
        let count = v
            .get("count")
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("`{}.count` is not an integer", key(name)))?;
        rows.push(json!({"name": name, "count": count}));
    }
    Ok(rows)
}

/// `conversation_counts`: one row per figure (open, closed, assigned, unassigned).
pub fn conversation_totals(body: &Value) -> Result<Vec<Value>, String> {
    let obj = body
        .get("conversation")
        .and_then(Value::as_object)
        .ok_or("no `conversation` object")?;
    obj.iter()
        .map(|(name, v)| {
            v.as_i64()
                .map(|count| json!({"name": name, "count": count}))
                .ok_or_else(|| format!("`conversation.{}` is not an integer", key(name)))
        })
        .collect()
}

/// `admin_conversation_counts`: one row per admin.
pub fn admin_conversations(body: &Value) -> Result<Vec<Value>, String> {
    let list = body
        .pointer("/conversation/admin")
        .and_then(Value::as_array)
        .ok_or("no `conversation.admin` list")?;
    list.iter()
        .map(|a| {
            let id = match a.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => return Err("an admin entry has no `id`".to_string()),
            };
            Ok(json!({
                "id": id,
                "name": a.get("name").cloned().unwrap_or(Value::Null),
                "open": a.get("open").and_then(Value::as_i64),
                "closed": a.get("closed").and_then(Value::as_i64),
            }))
        })
        .collect()
}

/// `user_segment_tag_counts`: one row per segment or tag, `{count_type, name, count}`.
pub fn user_segments_tags(body: &Value) -> Result<Vec<Value>, String> {
    let (count_type, entries) = named_entries(body, "user")?;
    entries
        .into_iter()
        .map(|e| Ok(json!({"count_type": count_type, "name": e.name, "count": e.count})))
        .collect()
}

/// `company_user_segment_tag_counts`: one row per company, segment or tag,
/// `{count_type, key, name, count, remote_company_id}`. `key` is the company id for
/// user counts (names can repeat) and the name otherwise.
pub fn company_users_segments_tags(body: &Value) -> Result<Vec<Value>, String> {
    let (count_type, entries) = named_entries(body, "company")?;
    entries
        .into_iter()
        .map(|e| {
            let key = e
                .remote_company_id
                .clone()
                .unwrap_or_else(|| e.name.clone());
            Ok(json!({
                "count_type": count_type,
                "key": key,
                "name": e.name,
                "count": e.count,
                "remote_company_id": e.remote_company_id,
            }))
        })
        .collect()
}

struct NamedCount {
    name: String,
    count: i64,
    remote_company_id: Option<String>,
}

/// Read `{"<outer>": {"<count_type>": [{"<name>": N, ...}]}}`.
fn named_entries(body: &Value, outer: &str) -> Result<(String, Vec<NamedCount>), String> {
    let inner: &Map<String, Value> = body
        .get(outer)
        .and_then(Value::as_object)
        .ok_or_else(|| format!("no `{outer}` object"))?;
    let (count_type, list) = inner
        .iter()
        .find_map(|(k, v)| v.as_array().map(|a| (k.clone(), a)))
        .ok_or_else(|| format!("no list inside `{outer}`"))?;
    let mut out = Vec::with_capacity(list.len());
    for entry in list {
        let obj = entry.as_object().ok_or_else(|| {
            format!(
                "an entry of `{outer}.{}` is not an object",
                key(&count_type)
            )
        })?;
        let remote_company_id = match obj.get("remote_company_id") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let (name, count) = obj
            .iter()
            .find(|(k, _)| k.as_str() != "remote_company_id")
            .and_then(|(k, v)| v.as_i64().map(|n| (k.clone(), n)))
            .ok_or_else(|| {
                format!(
                    "an entry of `{outer}.{}` has no name with a count",
                    key(&count_type)
                )
            })?;
        out.push(NamedCount {
            name,
            count,
            remote_company_id,
        });
    }
    Ok((count_type, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_in_errors_are_bounded() {
        let long = "k".repeat(100_000);
        let e = app_totals(&json!({ long.clone(): {"count": "x"} })).unwrap_err();
        assert!(e.len() < 200, "{}", e.len());
        let e = conversation_totals(&json!({"conversation": { long.clone(): "x" }})).unwrap_err();
        assert!(e.len() < 200, "{}", e.len());
        let e = named_entries(&json!({"user": { long: [1] }}), "user")
            .err()
            .unwrap();
        assert!(e.len() < 200, "{}", e.len());
    }

    #[test]
    fn app_totals_rows() {
        let rows =
            app_totals(&json!({"type":"count.hash","company":{"count":3},"user":{"count":5}}))
                .unwrap();
        assert_eq!(
            rows,
            vec![
                json!({"name":"company","count":3}),
                json!({"name":"user","count":5})
            ]
        );
        assert!(app_totals(&json!({"user": {"count": "x"}})).is_err());
    }

    #[test]
    fn conversation_rows() {
        let rows =
            conversation_totals(&json!({"type":"count","conversation":{"open":30,"closed":17}}))
                .unwrap();
        assert_eq!(rows.len(), 2);
        let rows = admin_conversations(
            &json!({"conversation":{"admin":[{"id":"1","name":"Wash","open":0,"closed":1}]}}),
        )
        .unwrap();
        assert_eq!(
            rows,
            vec![json!({"id":"1","name":"Wash","open":0,"closed":1})]
        );
    }

    #[test]
    fn named_rows() {
        let rows = user_segments_tags(
            &json!({"type":"count","user":{"segment":[{"Active":1},{"New":2}]}}),
        )
        .unwrap();
        assert_eq!(
            rows[1],
            json!({"count_type":"segment","name":"New","count":2})
        );
        let rows = company_users_segments_tags(
            &json!({"company":{"user":[{"Acme":3,"remote_company_id":"6"}]}}),
        )
        .unwrap();
        assert_eq!(
            rows[0],
            json!({"count_type":"user","key":"6","name":"Acme","count":3,"remote_company_id":"6"})
        );
        let rows = company_users_segments_tags(&json!({"company":{"tag":[{"VIP":0}]}})).unwrap();
        assert_eq!(rows[0]["key"], "VIP");
        assert!(company_users_segments_tags(&json!({"company":{"tag":[{"VIP":"x"}]}})).is_err());
    }
}
