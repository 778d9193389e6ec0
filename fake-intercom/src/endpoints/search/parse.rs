//! Search requests: the body of `POST /contacts/search`,
//! `/conversations/search` and `/tickets/search` parsed and validated into a
//! [`SearchRequest`], with every field access resolved once.
//!
//! Semantics follow Intercom (see `intercom-api.md` §3, §7):
//! * a query is one filter `{field, operator, value}` or a group
//!   `{operator: AND|OR, value: [...]}`; groups nest at most 2 levels deep and
//!   hold at most 15 entries;
//! * contact date fields are **day-granular** in the workspace time zone
//!   (`=` whole day, `>` from the start of the next day, `<` before the start
//!   of the day; `!=`, `>=`, `<=`, `IN`, `NIN` are 422 errors);
//! * conversation and ticket dates compare to the second, and `>`/`<` are
//!   inclusive ("greater (or equal)"); tickets also take `>=`/`<=`;
//! * results are sorted by the sort field, then by id; the cursor is
//!   base64 of the JSON `[sort_value, id]` of the last record returned, and the
//!   next page is everything that sorts after it, evaluated again at that time.

use axum::http::StatusCode;
use serde_json::Value;

use crate::api::error::ApiError;
use crate::endpoints::search::cursor::{decode_cursor, Key};
use crate::time::{day_start, DAY};

/// Largest `pagination.per_page` a search accepts.
pub(crate) const MAX_SEARCH_PER_PAGE: usize = 150;
/// Most entries one AND/OR group may hold.
pub(crate) const MAX_GROUP_SIZE: usize = 15;
/// Deepest allowed nesting of AND/OR groups.
pub(crate) const MAX_NESTING: usize = 2;

/// Which objects a search runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Collection {
    Contacts,
    Conversations,
    Tickets,
}

impl Collection {
    /// Default `pagination.per_page`.
    pub(crate) fn default_per_page(self) -> usize {
        match self {
            Collection::Contacts => 50,
            Collection::Conversations | Collection::Tickets => 20,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    In,
    Nin,
    Gt,
    Lt,
    Ge,
    Le,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
}

impl Op {
    pub(super) fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "=" => Op::Eq,
            "!=" => Op::Ne,
            "IN" => Op::In,
            "NIN" => Op::Nin,
            ">" => Op::Gt,
            "<" => Op::Lt,
            ">=" => Op::Ge,
            "<=" => Op::Le,
            "~" => Op::Contains,
            "!~" => Op::NotContains,
            "^" => Op::StartsWith,
            "$" => Op::EndsWith,
            _ => return None,
        })
    }

    pub(super) fn is_string_op(self) -> bool {
        matches!(
            self,
            Op::Contains | Op::NotContains | Op::StartsWith | Op::EndsWith
        )
    }

    pub(super) fn is_order_op(self) -> bool {
        matches!(self, Op::Gt | Op::Lt | Op::Ge | Op::Le)
    }
}

/// A compiled date condition on a timestamp.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum DatePred {
    /// `lo <= t < hi`, either bound open when `None`.
    Within(Option<i64>, Option<i64>),
    /// `t` is one of these (negated: is none of these; a null date is none).
    OneOf(Vec<i64>, bool),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum FilterKind {
    Date(DatePred),
    Plain(Op, Value),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Filter {
    pub(super) field: String,
    pub(super) access: Accessor,
    pub(super) kind: FilterKind,
}

/// How to read a field from a record, resolved once per request.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Accessor {
    /// Walk these object keys; a final array yields each element. `slot`
    /// is the path's index in [`SearchRequest::paths`].
    Path { parts: Vec<String>, slot: usize },
    /// The `id`s of the objects in the array at this JSON pointer.
    IdsAt(&'static str),
    /// Contact person segment ids (from the workspace memberships).
    SegmentIds,
    /// Every tag id of a contact (its long list, or its embedded tags).
    ContactTagIds,
    /// The part of a contact's e-mail after the `@`.
    EmailDomain,
    /// A ticket's category as search names it (request / task / tracker).
    TicketCategory,
}

/// The slot of `parts` in the request's path list (added if new).
fn register(reg: &mut Vec<Vec<String>>, parts: Vec<String>) -> Accessor {
    let slot = match reg.iter().position(|p| *p == parts) {
        Some(i) => i,
        None => {
            reg.push(parts.clone());
            reg.len() - 1
        }
    };
    Accessor::Path { parts, slot }
}

impl Accessor {
    pub(super) fn new(coll: Collection, field: &str, reg: &mut Vec<Vec<String>>) -> Accessor {
        let mut path =
            |parts: &[&str]| register(reg, parts.iter().map(|p| p.to_string()).collect());
        match (coll, field) {
            (Collection::Contacts, "tag_id") => return Accessor::ContactTagIds,
            (Collection::Contacts, "segment_id") => return Accessor::SegmentIds,
            (Collection::Contacts, "email_domain") => return Accessor::EmailDomain,
            (Collection::Conversations | Collection::Tickets, "contact_ids") => {
                return Accessor::IdsAt("/contacts/contacts")
            }
            (Collection::Conversations, "teammate_ids") => {
                return Accessor::IdsAt("/teammates/admins")
            }
            (Collection::Conversations, "tag_ids") => return Accessor::IdsAt("/tags/tags"),
            (Collection::Conversations, "conversation_rating.score") => {
                return path(&["conversation_rating", "rating"])
            }
            (Collection::Tickets, "title") => {
                return path(&["ticket_attributes", "_default_title_"])
            }
            (Collection::Tickets, "description") => {
                return path(&["ticket_attributes", "_default_description_"])
            }
            (Collection::Tickets, "ticket_type_id") => return path(&["ticket_type", "id"]),
            (Collection::Tickets, "state") => return path(&["ticket_state"]),
            (Collection::Tickets, "category") => return Accessor::TicketCategory,
            _ => {}
        }
        if let Some(name) = field.strip_prefix("custom_attributes.") {
            return path(&["custom_attributes", name]);
        }
        if let Some(name) = field.strip_prefix("ticket_attribute.") {
            return path(&["ticket_attributes", name]);
        }
        let parts: Vec<&str> = field.split('.').collect();
        path(&parts)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Node {
    Filter(Filter),
    All(Vec<Node>),
    Any(Vec<Node>),
}

/// A validated search request.
#[derive(Clone, Debug)]
pub(crate) struct SearchRequest {
    pub(super) query: Node,
    pub per_page: usize,
    pub(super) cursor: Option<Key<'static>>,
    pub(super) sort_access: Accessor,
    /// Every object path the request reads; `["id"]`, `["updated_at"]` and
    /// `["created_at"]` come first. Columns passed to the evaluation follow
    /// this order.
    pub(super) paths: Vec<Vec<String>>,
    pub ascending: bool,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::parameter_invalid(message)
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "parameter_invalid",
        message,
    )
}

/// Whether `field` holds a date (unix timestamp) in search.
pub(crate) fn is_date_field(field: &str) -> bool {
    let last = field.rsplit('.').next().unwrap_or(field);
    last.ends_with("_at") || last == "snoozed_until" || last == "waiting_since"
}

/// Largest timestamp magnitude accepted (about the year 33 658): keeps all
/// day arithmetic far from overflow.
const MAX_TIMESTAMP: i64 = 1_000_000_000_000;

/// A unix timestamp given as a JSON number or a string of digits.
pub(super) fn timestamp(v: &Value) -> Option<i64> {
    let t = match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 1.0e15)
                .map(|f| f.floor() as i64)
        }),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && f.abs() < 1.0e15)
                    .map(|f| f.floor() as i64)
            })
        }
        _ => None,
    }?;
    (t.unsigned_abs() <= MAX_TIMESTAMP as u64).then_some(t)
}

pub(super) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_node(
    coll: Collection,
    tz: i64,
    reg: &mut Vec<Vec<String>>,
    v: &Value,
    depth: usize,
    path: &str,
) -> Result<Node, ApiError> {
    let Some(obj) = v.as_object() else {
        return Err(bad(format!(
            "{path} must be an object: {{field, operator, value}} or {{operator: AND|OR, value: [...]}}"
        )));
    };
    if obj.contains_key("field") {
        return parse_filter(coll, tz, reg, obj, path).map(Node::Filter);
    }
    let op = obj.get("operator").and_then(Value::as_str);
    let Some(list) = obj.get("value").and_then(Value::as_array) else {
        return Err(bad(format!(
            "{path} must be a filter {{field, operator, value}} or a group {{operator: AND|OR, value: [...]}}"
        )));
    };
    let any = match op {
        Some("AND") => false,
        Some("OR") => true,
        other => {
            return Err(bad(format!(
                "{path}.operator must be AND or OR for a group of filters, got {}",
                other
                    .map(str::to_string)
                    .unwrap_or_else(|| "nothing".into())
            )))
        }
    };
    if depth >= MAX_NESTING {
        return Err(bad(format!(
            "Search query too deep at {path}: at most {MAX_NESTING} levels of nested AND/OR groups are allowed"
        )));
    }
    if list.len() > MAX_GROUP_SIZE {
        return Err(bad(format!(
            "Too many filters in {path}: {} given, at most {MAX_GROUP_SIZE} per AND/OR group",
            list.len()
        )));
    }
    let mut children = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        children.push(parse_node(
            coll,
            tz,
            reg,
            c,
            depth + 1,
            &format!("{path}.value[{i}]"),
        )?);
    }
    Ok(if any {
        Node::Any(children)
    } else {
        Node::All(children)
    })
}

fn parse_filter(
    coll: Collection,
    tz: i64,
    reg: &mut Vec<Vec<String>>,
    obj: &serde_json::Map<String, Value>,
    path: &str,
) -> Result<Filter, ApiError> {
    let Some(field) = obj.get("field").and_then(Value::as_str) else {
        return Err(bad(format!("{path}.field must be a string")));
    };
    let Some(op_text) = obj.get("operator").and_then(Value::as_str) else {
        return Err(bad(format!("{path}.operator must be a string")));
    };
    let Some(op) = Op::parse(op_text) else {
        return Err(bad(format!(
            "Operator '{op_text}' is not valid; use one of =, !=, IN, NIN, >, <, >=, <=, ~, !~, ^, $"
        )));
    };
    let value = obj.get("value").cloned().unwrap_or(Value::Null);
    let field = field.to_string();

    if is_date_field(&field) {
        let kind = date_filter(coll, tz, &field, op, op_text, &value)?;
        return Ok(Filter {
            access: Accessor::new(coll, &field, reg),
            field,
            kind: FilterKind::Date(kind),
        });
    }

    if coll == Collection::Contacts && field == "tag_id" && !matches!(op, Op::Eq | Op::Ne) {
        return Err(bad(format!(
            "Operator '{op_text}' is not supported for tag_id; use = or !="
        )));
    }
    if coll == Collection::Conversations && matches!(op, Op::Ge | Op::Le) {
        return Err(bad(format!(
            "Operator '{op_text}' is not supported by conversation search; use > or < (they include the value)"
        )));
    }
    match op {
        Op::In | Op::Nin => {
            let Some(list) = value.as_array() else {
                return Err(bad(format!(
                    "Operator '{op_text}' needs an array value for field '{field}'"
                )));
            };
            if list.iter().any(|v| v.is_array() || v.is_object()) {
                return Err(bad(format!(
                    "The values of '{op_text}' for field '{field}' must be strings, numbers or booleans"
                )));
            }
        }
        _ if op.is_order_op() => {
            if number(&value).is_none() {
                return Err(bad(format!(
                    "Operator '{op_text}' needs a numeric value for field '{field}'"
                )));
            }
        }
        _ if op.is_string_op() => {
            if !value.is_string() {
                return Err(bad(format!(
                    "Operator '{op_text}' needs a string value for field '{field}'"
                )));
            }
        }
        _ => {
            if value.is_array() || value.is_object() {
                return Err(bad(format!(
                    "Operator '{op_text}' needs a single value for field '{field}'; use IN or NIN for a list"
                )));
            }
        }
    }
    Ok(Filter {
        access: Accessor::new(coll, &field, reg),
        field,
        kind: FilterKind::Plain(op, value),
    })
}

fn date_filter(
    coll: Collection,
    tz: i64,
    field: &str,
    op: Op,
    op_text: &str,
    value: &Value,
) -> Result<DatePred, ApiError> {
    if op.is_string_op() {
        return Err(bad(format!(
            "Operator '{op_text}' is not supported on date field '{field}'"
        )));
    }
    match coll {
        Collection::Contacts if !matches!(op, Op::Eq | Op::Gt | Op::Lt) => {
            return Err(unprocessable(format!(
                "Operator '{op_text}' is not supported on date field '{field}': date fields are matched by calendar day and support only =, > and <"
            )));
        }
        Collection::Conversations if matches!(op, Op::Ge | Op::Le) => {
            return Err(bad(format!(
                "Operator '{op_text}' is not supported on date field '{field}'; use > or < (they include the value)"
            )));
        }
        _ => {}
    }
    let stamp = |v: &Value| {
        timestamp(v).ok_or_else(|| {
            bad(format!(
                "The value for date field '{field}' must be a UNIX timestamp, got {v}"
            ))
        })
    };
    if matches!(op, Op::In | Op::Nin) {
        let Some(list) = value.as_array() else {
            return Err(bad(format!(
                "Operator '{op_text}' needs an array value for field '{field}'"
            )));
        };
        let stamps = list.iter().map(stamp).collect::<Result<Vec<i64>, _>>()?;
        return Ok(DatePred::OneOf(stamps, op == Op::Nin));
    }
    let t = stamp(value)?;
    Ok(if coll == Collection::Contacts {
        let day = day_start(t, tz);
        match op {
            Op::Eq => DatePred::Within(Some(day), Some(day + DAY)),
            Op::Gt => DatePred::Within(Some(day + DAY), None),
            _ => DatePred::Within(None, Some(day)),
        }
    } else {
        match op {
            Op::Eq => DatePred::Within(Some(t), Some(t.saturating_add(1))),
            Op::Ne => DatePred::OneOf(vec![t], true),
            Op::Gt | Op::Ge => DatePred::Within(Some(t), None),
            _ => DatePred::Within(None, Some(t.saturating_add(1))),
        }
    })
}

fn per_page_value(v: &Value) -> Option<usize> {
    let n = match v {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse::<u64>().ok()?,
        _ => return None,
    };
    usize::try_from(n).ok()
}

/// Validate a search body. `tz` is the workspace's UTC offset in seconds
/// (used by contact date filters).
pub(crate) fn parse_request(
    coll: Collection,
    tz: i64,
    body: &Value,
) -> Result<SearchRequest, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(bad("The request body must be a JSON object with a query"));
    };
    let (sort_field, ascending) = match obj.get("sort") {
        None | Some(Value::Null) => ("updated_at".to_string(), false),
        Some(Value::Object(sort)) => {
            let field = match sort.get("field") {
                None | Some(Value::Null) => "updated_at".to_string(),
                Some(Value::String(f)) => f.clone(),
                Some(other) => {
                    return Err(bad(format!("sort.field must be a string, got {other}")))
                }
            };
            let ascending = match sort.get("order") {
                None | Some(Value::Null) => false,
                Some(Value::String(o)) if o == "ascending" => true,
                Some(Value::String(o)) if o == "descending" => false,
                Some(other) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_sort_order",
                        format!(
                            "Invalid sort order '{}'. Must be one of: ascending, descending",
                            value_text(other)
                        ),
                    ))
                }
            };
            (field, ascending)
        }
        Some(other) => return Err(bad(format!("sort must be an object, got {other}"))),
    };
    let (per_page, cursor) = match obj.get("pagination") {
        None | Some(Value::Null) => (coll.default_per_page(), None),
        Some(Value::Object(p)) => {
            let per_page = match p.get("per_page") {
                None | Some(Value::Null) => coll.default_per_page(),
                Some(v) => match per_page_value(v) {
                    Some(n) if (1..=MAX_SEARCH_PER_PAGE).contains(&n) => n,
                    _ => {
                        return Err(bad(format!(
                        "per_page must be an integer between 1 and {MAX_SEARCH_PER_PAGE}, got {v}"
                    )))
                    }
                },
            };
            let cursor =
                match p.get("starting_after") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if s.is_empty() => None,
                    Some(Value::String(s)) => Some(decode_cursor(s).ok_or_else(|| {
                        bad(format!("starting_after '{s}' is not a valid cursor"))
                    })?),
                    Some(other) => {
                        return Err(bad(format!(
                            "starting_after must be a cursor string, got {other}"
                        )))
                    }
                };
            (per_page, cursor)
        }
        Some(other) => return Err(bad(format!("pagination must be an object, got {other}"))),
    };
    let mut reg: Vec<Vec<String>> = vec![
        vec!["id".into()],
        vec!["updated_at".into()],
        vec!["created_at".into()],
    ];
    let query = match obj.get("query") {
        None | Some(Value::Null) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "parameter_not_found",
                "query is required",
            ))
        }
        Some(q) => parse_node(coll, tz, &mut reg, q, 0, "query")?,
    };
    Ok(SearchRequest {
        query,
        per_page,
        cursor,
        sort_access: Accessor::new(coll, &sort_field, &mut reg),
        ascending,
        paths: reg,
    })
}

pub(super) fn uses_field(node: &Node, field: &str) -> bool {
    match node {
        Node::Filter(f) => f.field == field,
        Node::All(c) | Node::Any(c) => c.iter().any(|n| uses_field(n, field)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TZ: i64 = -5 * 3_600;

    fn parse(coll: Collection, body: Value) -> Result<SearchRequest, ApiError> {
        parse_request(coll, TZ, &body)
    }

    #[test]
    fn validation_errors() {
        let c = Collection::Contacts;
        let err = |b: Value| parse(c, b).unwrap_err();
        assert_eq!(err(json!({})).code, "parameter_not_found");
        let e = err(
            json!({"query": {"field": "role", "operator": "=", "value": "user"},
                           "sort": {"field": "updated_at", "order": "desc"}}),
        );
        assert_eq!(e.code, "invalid_sort_order");
        assert_eq!(
            e.message,
            "Invalid sort order 'desc'. Must be one of: ascending, descending"
        );
        let e = err(json!({"query": {"field": "updated_at", "operator": ">=", "value": 1}}));
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        for op in ["!=", "<=", "IN", "NIN"] {
            let e = err(json!({"query": {"field": "created_at", "operator": op, "value": [1]}}));
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{op}");
        }
        let e = err(
            json!({"query": {"field": "role", "operator": "=", "value": "user"},
                           "pagination": {"per_page": 151}}),
        );
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = err(
            json!({"query": {"field": "role", "operator": "=", "value": "user"},
                           "pagination": {"starting_after": "!!"}}),
        );
        assert_eq!(e.code, "parameter_invalid");
        let leaf = json!({"field": "role", "operator": "=", "value": "user"});
        let deep = json!({"query": {"operator": "AND", "value": [
            {"operator": "OR", "value": [{"operator": "AND", "value": [leaf]}]}]}});
        assert_eq!(err(deep).status, StatusCode::BAD_REQUEST);
        let ok = json!({"query": {"operator": "AND", "value": [
            {"operator": "OR", "value": [leaf, leaf]}, leaf]}});
        assert!(parse(c, ok).is_ok());
        let many: Vec<Value> = (0..16).map(|_| leaf.clone()).collect();
        assert_eq!(
            err(json!({"query": {"operator": "OR", "value": many}})).status,
            StatusCode::BAD_REQUEST
        );
        assert!(err(json!({"query": {"operator": "XOR", "value": [leaf]}}))
            .message
            .contains("AND or OR"));
        assert!(
            err(json!({"query": {"field": "role", "operator": "LIKE", "value": "x"}}))
                .message
                .contains("LIKE")
        );
        assert!(parse(
            Collection::Tickets,
            json!({"query": {"field": "created_at", "operator": ">=", "value": "5"}})
        )
        .is_ok());
        assert_eq!(
            parse(
                Collection::Conversations,
                json!({"query": {"field": "created_at", "operator": ">=", "value": 5}})
            )
            .unwrap_err()
            .status,
            StatusCode::BAD_REQUEST
        );
        assert!(
            err(json!({"query": {"field": "updated_at", "operator": ">", "value": "soon"}}))
                .message
                .contains("UNIX timestamp")
        );
    }

    #[test]
    fn absurd_timestamps_are_rejected_not_overflowed() {
        for v in [
            json!(i64::MAX),
            json!(i64::MIN),
            json!("9223372036854775807"),
            json!(1e300),
        ] {
            let e = parse(
                Collection::Contacts,
                json!({"query": {"field": "updated_at", "operator": ">", "value": v}}),
            )
            .unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{v}");
        }
    }
}
