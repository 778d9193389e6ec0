//! JSON shapes shared by generated objects and objects added later, so an
//! added contact looks exactly like a generated one.

use serde_json::{json, Value};

/// The `{"type":"list","data":[..10 refs],"url","total_count","has_more"}`
/// list a contact embeds for its tags, notes, companies and subscriptions.
pub(crate) fn addressable_list(
    kind: &str,
    url_prefix: &str,
    ids: &[String],
    list_url: String,
) -> Value {
    let shown: Vec<Value> = ids
        .iter()
        .take(10)
        .map(|id| json!({"type": kind, "id": id, "url": format!("{url_prefix}/{id}")}))
        .collect();
    json!({
        "type": "list",
        "data": shown,
        "url": list_url,
        "total_count": ids.len(),
        "has_more": ids.len() > 10,
    })
}
