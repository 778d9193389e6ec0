//! The search engine behind `POST /contacts/search`, `/conversations/search`
//! and `/tickets/search`: query parsing and validation, filter evaluation,
//! sorting, and position cursors.
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

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::generate_more::day_start;

/// Largest `pagination.per_page` a search accepts.
pub const MAX_SEARCH_PER_PAGE: usize = 150;
/// Most entries one AND/OR group may hold.
pub const MAX_GROUP_SIZE: usize = 15;
/// Deepest allowed nesting of AND/OR groups.
pub const MAX_NESTING: usize = 2;

const DAY: i64 = 86_400;

/// Which objects a search runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Collection {
    Contacts,
    Conversations,
    Tickets,
}

impl Collection {
    /// Default `pagination.per_page`.
    pub fn default_per_page(self) -> usize {
        match self {
            Collection::Contacts => 50,
            Collection::Conversations | Collection::Tickets => 20,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
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
    fn parse(s: &str) -> Option<Op> {
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

    fn is_string_op(self) -> bool {
        matches!(
            self,
            Op::Contains | Op::NotContains | Op::StartsWith | Op::EndsWith
        )
    }

    fn is_order_op(self) -> bool {
        matches!(self, Op::Gt | Op::Lt | Op::Ge | Op::Le)
    }
}

/// A compiled date condition on a timestamp.
#[derive(Clone, Debug, PartialEq)]
enum DatePred {
    /// `lo <= t < hi`, either bound open when `None`.
    Within(Option<i64>, Option<i64>),
    /// `t` is one of these (negated: is none of these; a null date is none).
    OneOf(Vec<i64>, bool),
}

#[derive(Clone, Debug, PartialEq)]
enum FilterKind {
    Date(DatePred),
    Plain(Op, Value),
}

#[derive(Clone, Debug, PartialEq)]
struct Filter {
    field: String,
    access: Accessor,
    kind: FilterKind,
}

/// How to read a field from a record, resolved once per request.
#[derive(Clone, Debug, PartialEq)]
enum Accessor {
    /// Walk these object keys; a final array yields each element. `slot`
    /// is the path's index in [`SearchRequest::paths`].
    Path { parts: Vec<String>, slot: usize },
    /// The `id`s of the objects in the array at this JSON pointer.
    IdsAt(&'static str),
    /// Contact person segment ids (from the workspace memberships).
    SegmentIds,
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
    fn new(coll: Collection, field: &str, reg: &mut Vec<Vec<String>>) -> Accessor {
        let mut path =
            |parts: &[&str]| register(reg, parts.iter().map(|p| p.to_string()).collect());
        match (coll, field) {
            (Collection::Contacts, "tag_id") => return Accessor::IdsAt("/tags/data"),
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
enum Node {
    Filter(Filter),
    All(Vec<Node>),
    Any(Vec<Node>),
}

/// A sort value: nulls first, then booleans, numbers, strings.
#[derive(Clone, Debug)]
pub enum SortKey<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
}

impl<'a> SortKey<'a> {
    fn from_value(v: Option<&'a Value>) -> Option<SortKey<'a>> {
        Some(match v {
            None | Some(Value::Null) => SortKey::Null,
            Some(Value::Bool(b)) => SortKey::Bool(*b),
            Some(Value::Number(n)) => SortKey::Num(n.as_f64()?),
            Some(Value::String(s)) => SortKey::Str(Cow::Borrowed(s)),
            Some(_) => return None,
        })
    }

    fn into_owned(self) -> SortKey<'static> {
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
pub enum IdKey<'a> {
    Num(u64),
    Str(Cow<'a, str>),
}

impl<'a> IdKey<'a> {
    fn new(id: &'a str) -> IdKey<'a> {
        let numeric = !id.is_empty()
            && id.len() <= 19
            && id.bytes().all(|b| b.is_ascii_digit())
            && (!id.starts_with('0') || id == "0");
        match id.parse::<u64>() {
            Ok(n) if numeric => IdKey::Num(n),
            _ => IdKey::Str(Cow::Borrowed(id)),
        }
    }

    fn into_owned(self) -> IdKey<'static> {
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
type Key<'a> = (SortKey<'a>, IdKey<'a>);

/// A validated search request.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    query: Node,
    pub per_page: usize,
    cursor: Option<Key<'static>>,
    pub sort_field: String,
    sort_access: Accessor,
    /// Every object path the request reads; `["id"]`, `["updated_at"]` and
    /// `["created_at"]` come first. Columns passed to [`run`] follow this order.
    paths: Vec<Vec<String>>,
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
pub fn is_date_field(field: &str) -> bool {
    let last = field.rsplit('.').next().unwrap_or(field);
    last.ends_with("_at") || last == "snoozed_until" || last == "waiting_since"
}

/// Largest timestamp magnitude accepted (about the year 33 658): keeps all
/// day arithmetic far from overflow.
const MAX_TIMESTAMP: i64 = 1_000_000_000_000;

/// A unix timestamp given as a JSON number or a string of digits.
fn timestamp(v: &Value) -> Option<i64> {
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

fn number(v: &Value) -> Option<f64> {
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

/// Base64 (standard alphabet, padded).
pub fn base64_encode(bytes: &[u8]) -> String {
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
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
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
pub fn encode_cursor(sort: &SortKey<'_>, id: &IdKey<'_>) -> String {
    let text = json!([sort.to_json(), id.as_string()]).to_string();
    base64_encode(text.as_bytes())
}

fn decode_cursor(cursor: &str) -> Option<Key<'static>> {
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
pub fn parse_request(coll: Collection, tz: i64, body: &Value) -> Result<SearchRequest, ApiError> {
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
        sort_field,
        ascending,
        paths: reg,
    })
}

fn uses_field(node: &Node, field: &str) -> bool {
    match node {
        Node::Filter(f) => f.field == field,
        Node::All(c) | Node::Any(c) => c.iter().any(|n| uses_field(n, field)),
    }
}

/// Per-request lookups some virtual fields need.
#[derive(Default)]
pub struct Lookup<'a> {
    /// Contact id → person segment ids (only built when a query uses `segment_id`).
    segments: Option<HashMap<&'a str, Vec<&'a str>>>,
}

impl<'a> Lookup<'a> {
    /// Build what `req` needs from the contact segment memberships.
    pub fn new(req: &SearchRequest, contact_segments: &'a [(String, String)]) -> Lookup<'a> {
        let segments = if uses_field(&req.query, "segment_id") {
            let mut m: HashMap<&str, Vec<&str>> = HashMap::new();
            for (c, s) in contact_segments {
                m.entry(c.as_str()).or_default().push(s.as_str());
            }
            Some(m)
        } else {
            None
        };
        Lookup { segments }
    }
}

/// The values of a field on one record: none (null or missing), one, or
/// several (list fields).
enum Vals<'a> {
    Empty,
    One(&'a Value),
    Many(Vec<Cow<'a, Value>>),
}

impl<'a> Vals<'a> {
    fn of(v: Option<&'a Value>) -> Vals<'a> {
        match v {
            None | Some(Value::Null) => Vals::Empty,
            Some(Value::Array(a)) => Vals::Many(
                a.iter()
                    .filter(|x| !x.is_null())
                    .map(Cow::Borrowed)
                    .collect(),
            ),
            Some(x) => Vals::One(x),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Value> + '_ {
        let (one, many): (Option<&Value>, &[Cow<'a, Value>]) = match self {
            Vals::Empty => (None, &[]),
            Vals::One(v) => (Some(*v), &[]),
            Vals::Many(l) => (None, l.as_slice()),
        };
        one.into_iter().chain(many.iter().map(|c| c.as_ref()))
    }

    fn first(&self) -> Option<&Value> {
        match self {
            Vals::Empty => None,
            Vals::One(v) => Some(v),
            Vals::Many(l) => l.first().map(|c| c.as_ref()),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Vals::Empty => true,
            Vals::One(_) => false,
            Vals::Many(l) => l.is_empty(),
        }
    }
}

fn walk<'a>(rec: &'a Value, parts: &[String]) -> Option<&'a Value> {
    let mut cur = Some(rec);
    for part in parts {
        cur = cur.and_then(|v| v.get(part.as_str()));
    }
    cur
}

/// What evaluating one record needs besides the record.
struct Eval<'r> {
    coll: Collection,
    lookup: &'r Lookup<'r>,
    /// Precomputed values of the request's paths, one per record (see
    /// [`SearchCache`]); `None` reads the records themselves.
    cols: Option<&'r [Arc<Vec<Value>>]>,
}

fn values<'r>(access: &Accessor, ev: &Eval<'r>, idx: usize, rec: &'r Value) -> Vals<'r> {
    let lookup = ev.lookup;
    match access {
        Accessor::Path { parts, slot } => match ev.cols {
            Some(cols) => Vals::of(cols.get(*slot).and_then(|c| c.get(idx))),
            None => Vals::of(walk(rec, parts)),
        },
        Accessor::IdsAt(pointer) => Vals::Many(
            rec.pointer(pointer)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|x| x.get("id"))
                .map(Cow::Borrowed)
                .collect(),
        ),
        Accessor::SegmentIds => {
            let id = rec.get("id").and_then(Value::as_str).unwrap_or_default();
            Vals::Many(
                lookup
                    .segments
                    .as_ref()
                    .and_then(|m| m.get(id))
                    .into_iter()
                    .flatten()
                    .map(|s| Cow::Owned(json!(s)))
                    .collect(),
            )
        }
        Accessor::EmailDomain => match rec
            .get("email")
            .and_then(Value::as_str)
            .and_then(|e| e.rsplit_once('@'))
        {
            Some((_, d)) => Vals::Many(vec![Cow::Owned(json!(d))]),
            None => Vals::Empty,
        },
        Accessor::TicketCategory => {
            let term = match rec.get("category").and_then(Value::as_str) {
                Some("Customer") => "request",
                Some("Back-office") => "task",
                Some("Tracker") => "tracker",
                _ => return Vals::Empty,
            };
            Vals::Many(vec![Cow::Owned(json!(term))])
        }
    }
}

fn loose_eq(x: &Value, q: &Value) -> bool {
    match (x, q) {
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            s.trim().parse::<f64>().ok() == n.as_f64()
        }
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Bool(b), Value::String(s)) | (Value::String(s), Value::Bool(b)) => {
            s.eq_ignore_ascii_case(if *b { "true" } else { "false" })
        }
        _ => x == q,
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn plain_match(coll: Collection, op: Op, q: &Value, vals: &Vals<'_>) -> bool {
    let eq = |q: &Value| {
        if q.is_null() {
            vals.is_empty()
        } else {
            vals.iter().any(|x| loose_eq(x, q))
        }
    };
    let inclusive = coll != Collection::Contacts;
    let cmp = |f: &dyn Fn(f64, f64) -> bool| {
        let Some(qn) = number(q) else { return false };
        vals.iter().filter_map(number).any(|x| f(x, qn))
    };
    let text = |f: &dyn Fn(&str, &str) -> bool| {
        let Some(qs) = q.as_str().map(str::to_lowercase) else {
            return false;
        };
        vals.iter().filter_map(text_of).any(|x| f(&x, &qs))
    };
    match op {
        Op::Eq => eq(q),
        Op::Ne => !eq(q),
        Op::In => q.as_array().is_some_and(|l| l.iter().any(eq)),
        Op::Nin => !q.as_array().is_some_and(|l| l.iter().any(eq)),
        Op::Gt if inclusive => cmp(&|x, y| x >= y),
        Op::Lt if inclusive => cmp(&|x, y| x <= y),
        Op::Gt => cmp(&|x, y| x > y),
        Op::Lt => cmp(&|x, y| x < y),
        Op::Ge => cmp(&|x, y| x >= y),
        Op::Le => cmp(&|x, y| x <= y),
        Op::Contains => text(&|x, y| x.contains(y)),
        Op::NotContains => !text(&|x, y| x.contains(y)),
        Op::StartsWith => text(&|x, y| x.starts_with(y)),
        Op::EndsWith => text(&|x, y| x.ends_with(y)),
    }
}

fn date_match(pred: &DatePred, vals: &Vals<'_>) -> bool {
    let t = vals.first().and_then(timestamp);
    match (pred, t) {
        (DatePred::Within(lo, hi), Some(t)) => {
            lo.map_or(true, |lo| t >= lo) && hi.map_or(true, |hi| t < hi)
        }
        (DatePred::Within(..), None) => false,
        (DatePred::OneOf(set, negated), t) => {
            let hit = t.is_some_and(|t| set.contains(&t));
            hit != *negated
        }
    }
}

fn node_matches<'r>(ev: &Eval<'r>, node: &Node, idx: usize, rec: &'r Value) -> bool {
    match node {
        Node::All(c) => c.iter().all(|n| node_matches(ev, n, idx, rec)),
        Node::Any(c) => c.iter().any(|n| node_matches(ev, n, idx, rec)),
        Node::Filter(f) => {
            let vals = values(&f.access, ev, idx, rec);
            match &f.kind {
                FilterKind::Date(p) => date_match(p, &vals),
                FilterKind::Plain(op, q) => plain_match(ev.coll, *op, q, &vals),
            }
        }
    }
}

/// Per-field columns of the searched records, reused across requests while
/// the workspace does not change: a field read from 100 000 JSON objects
/// costs tens of milliseconds, from a column well under one.
#[derive(Debug, Default)]
pub struct SearchCache {
    version: u64,
    columns: HashMap<(Collection, Vec<String>), Arc<Vec<Value>>>,
}

impl SearchCache {
    /// The columns of `req`'s paths over `records`, in [`SearchRequest`]
    /// path order. `version` identifies the workspace state: a different
    /// one drops every cached column.
    pub fn columns(
        &mut self,
        version: u64,
        coll: Collection,
        records: &[Value],
        req: &SearchRequest,
    ) -> Vec<Arc<Vec<Value>>> {
        if version != self.version {
            self.columns.clear();
            self.version = version;
        }
        req.paths
            .iter()
            .map(|p| {
                let key = (coll, p.clone());
                if let Some(c) = self.columns.get(&key) {
                    if c.len() == records.len() {
                        return c.clone();
                    }
                }
                let col: Arc<Vec<Value>> = Arc::new(
                    records
                        .iter()
                        .map(|r| walk(r, p).cloned().unwrap_or(Value::Null))
                        .collect(),
                );
                self.columns.insert(key, col.clone());
                col
            })
            .collect()
    }
}

/// One page of search results.
#[derive(Debug)]
pub struct SearchPage<'a> {
    pub items: Vec<&'a Value>,
    /// Records matching the query now (all pages).
    pub total: usize,
    /// 1-based page number: records sorting before this page / per_page + 1.
    pub page: usize,
    pub per_page: usize,
    pub total_pages: usize,
    /// Cursor of the last item, when more records sort after it.
    pub next_cursor: Option<String>,
}

impl SearchPage<'_> {
    /// The `pages` object of the response.
    pub fn pages_json(&self) -> Value {
        let mut pages = json!({
            "type": "pages",
            "page": self.page,
            "per_page": self.per_page,
            "total_pages": self.total_pages,
        });
        if let Some(c) = &self.next_cursor {
            pages["next"] = json!({"page": self.page + 1, "starting_after": c});
        }
        pages
    }
}

/// Path slot of `updated_at` in every request.
pub const UPDATED_AT_SLOT: usize = 1;
/// Path slot of `created_at` in every request.
pub const CREATED_AT_SLOT: usize = 2;

/// Records not yet in the search index: those whose timestamp at path slot
/// `field_slot` ([`UPDATED_AT_SLOT`] or [`CREATED_AT_SLOT`]) is after `max`.
#[derive(Clone, Copy, Debug)]
pub struct IndexCutoff {
    pub field_slot: usize,
    pub max: i64,
}

/// Run `req` over `records`, leaving out those past `cutoff` (not indexed
/// yet). `cols`, when given, are the columns [`SearchCache::columns`] made
/// for `req` over these `records`.
pub fn run<'a>(
    coll: Collection,
    records: &'a [Value],
    lookup: &Lookup<'_>,
    req: &SearchRequest,
    cols: Option<&[Arc<Vec<Value>>]>,
    cutoff: Option<IndexCutoff>,
) -> SearchPage<'a> {
    let cols = cols
        .filter(|c| c.len() == req.paths.len() && c.iter().all(|col| col.len() == records.len()));
    let ev = Eval { coll, lookup, cols };
    let id_access = Accessor::Path {
        parts: vec!["id".into()],
        slot: 0,
    };
    let cutoff_access = cutoff.and_then(|c| {
        req.paths.get(c.field_slot).map(|parts| {
            (
                Accessor::Path {
                    parts: parts.clone(),
                    slot: c.field_slot,
                },
                c.max,
            )
        })
    });
    let directed = |a: &Key<'_>, b: &Key<'_>| {
        if req.ascending {
            a.cmp(b)
        } else {
            b.cmp(a)
        }
    };
    let mut total = 0usize;
    let mut after = Vec::new();
    for (idx, rec) in records.iter().enumerate() {
        if let Some((access, max)) = &cutoff_access {
            let t = values(access, &ev, idx, rec)
                .first()
                .and_then(timestamp)
                .unwrap_or(0);
            if t > *max {
                continue;
            }
        }
        if !node_matches(&ev, &req.query, idx, rec) {
            continue;
        }
        total += 1;
        let sort = match values(&req.sort_access, &ev, idx, rec) {
            Vals::Empty => SortKey::Null,
            Vals::One(v) => SortKey::from_value(Some(v)).unwrap_or(SortKey::Null),
            Vals::Many(l) => l
                .first()
                .and_then(|v| SortKey::from_value(Some(v)).map(SortKey::into_owned))
                .unwrap_or(SortKey::Null),
        };
        let id = match values(&id_access, &ev, idx, rec) {
            Vals::One(Value::String(s)) => IdKey::new(s),
            _ => IdKey::Str(Cow::Borrowed("")),
        };
        let key: Key<'_> = (sort, id);
        if let Some(c) = &req.cursor {
            if directed(&key, c) != Ordering::Greater {
                continue;
            }
        }
        after.push((key, rec));
    }
    let before = total - after.len();
    let per_page = req.per_page.max(1);
    let has_more = after.len() > per_page;
    if has_more {
        after.select_nth_unstable_by(per_page, |a, b| directed(&a.0, &b.0));
        after.truncate(per_page);
    }
    after.sort_by(|a, b| directed(&a.0, &b.0));
    let next_cursor = if has_more {
        after.last().map(|(k, _)| encode_cursor(&k.0, &k.1))
    } else {
        None
    };
    SearchPage {
        items: after.into_iter().map(|(_, v)| v).collect(),
        total,
        page: before / per_page + 1,
        per_page,
        total_pages: total.div_ceil(per_page),
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TZ: i64 = -5 * 3_600;

    fn parse(coll: Collection, body: Value) -> Result<SearchRequest, ApiError> {
        parse_request(coll, TZ, &body)
    }

    fn recs() -> Vec<Value> {
        (0..10)
            .map(|i| {
                json!({
                    "id": format!("{}", 100 + i),
                    "role": if i % 2 == 0 { "user" } else { "lead" },
                    "email": format!("p{i}@ex{}.com", i % 3),
                    "updated_at": 1_000_000 + (i / 2) * 10,
                    "n": i,
                    "tags": {"data": [{"id": format!("t{}", i % 4)}]},
                })
            })
            .collect()
    }

    fn ids(page: &SearchPage<'_>) -> Vec<String> {
        page.items
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect()
    }

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

    #[test]
    fn day_granular_contact_dates() {
        // 2026-03-09 12:00 at UTC-5 = 17:00Z.
        let v = 1_773_075_600;
        let day = day_start(v, TZ); // 2026-03-09 00:00 local = 05:00Z
        assert_eq!(day, 1_773_032_400);
        let q = |op: &str| {
            parse(
                Collection::Contacts,
                json!({"query": {"field": "updated_at", "operator": op, "value": v}}),
            )
            .unwrap()
        };
        let rec = |t: i64| vec![json!({"id": "1", "updated_at": t})];
        let hit = |req: &SearchRequest, t: i64| {
            let r = rec(t);
            run(
                Collection::Contacts,
                &r,
                &Lookup::default(),
                req,
                None,
                None,
            )
            .total
                == 1
        };
        let gt = q(">");
        assert!(!hit(&gt, v + 1));
        assert!(!hit(&gt, day + DAY - 1));
        assert!(hit(&gt, day + DAY));
        let lt = q("<");
        assert!(hit(&lt, day - 1));
        assert!(!hit(&lt, day));
        let eq = q("=");
        assert!(hit(&eq, day));
        assert!(hit(&eq, day + DAY - 1));
        assert!(!hit(&eq, day + DAY));
        assert!(!hit(&eq, day - 1));
    }

    #[test]
    fn second_precision_inclusive_for_conversations() {
        let q = |op: &str| {
            parse(
                Collection::Conversations,
                json!({"query": {"field": "updated_at", "operator": op, "value": "500"}}),
            )
            .unwrap()
        };
        let hit = |req: &SearchRequest, t: i64| {
            let r = vec![json!({"id": "1", "updated_at": t})];
            run(
                Collection::Conversations,
                &r,
                &Lookup::default(),
                req,
                None,
                None,
            )
            .total
                == 1
        };
        assert!(hit(&q(">"), 500));
        assert!(!hit(&q(">"), 499));
        assert!(hit(&q("<"), 500));
        assert!(!hit(&q("<"), 501));
        assert!(hit(&q("="), 500));
        assert!(!hit(&q("="), 501));
        assert!(hit(&q("!="), 501));
    }

    #[test]
    fn plain_operators() {
        let r = recs();
        let count = |query: Value| {
            let req = parse(Collection::Contacts, json!({"query": query})).unwrap();
            run(
                Collection::Contacts,
                &r,
                &Lookup::default(),
                &req,
                None,
                None,
            )
            .total
        };
        assert_eq!(
            count(json!({"field": "role", "operator": "=", "value": "user"})),
            5
        );
        assert_eq!(
            count(json!({"field": "role", "operator": "!=", "value": "user"})),
            5
        );
        assert_eq!(
            count(json!({"field": "id", "operator": "IN", "value": ["100", "101", "x"]})),
            2
        );
        assert_eq!(
            count(json!({"field": "id", "operator": "NIN", "value": ["100"]})),
            9
        );
        assert_eq!(count(json!({"field": "n", "operator": ">", "value": 7})), 2);
        assert_eq!(
            count(json!({"field": "n", "operator": ">=", "value": 7})),
            3
        );
        assert_eq!(
            count(json!({"field": "email", "operator": "~", "value": "EX1"})),
            3
        );
        assert_eq!(
            count(json!({"field": "email", "operator": "!~", "value": "ex1"})),
            7
        );
        assert_eq!(
            count(json!({"field": "email", "operator": "^", "value": "p1"})),
            1
        );
        assert_eq!(
            count(json!({"field": "email", "operator": "$", "value": "0.com"})),
            4
        );
        assert_eq!(
            count(json!({"field": "email_domain", "operator": "=", "value": "ex2.com"})),
            3
        );
        assert_eq!(
            count(json!({"field": "tag_id", "operator": "=", "value": "t1"})),
            3
        );
        assert_eq!(
            count(json!({"field": "name", "operator": "=", "value": null})),
            10
        );
        assert_eq!(
            count(json!({"operator": "AND", "value": [
                {"field": "role", "operator": "=", "value": "user"},
                {"operator": "OR", "value": [
                    {"field": "n", "operator": "=", "value": 0},
                    {"field": "n", "operator": "=", "value": "8"}]}]})),
            2
        );
        assert_eq!(count(json!({"operator": "OR", "value": []})), 0);
        assert_eq!(count(json!({"operator": "AND", "value": []})), 10);
    }

    #[test]
    fn cached_columns_give_the_same_pages() {
        let r = recs();
        let mut cache = SearchCache::default();
        let mut cursor: Option<String> = None;
        loop {
            let req = parse(
                Collection::Contacts,
                json!({"query": {"operator": "OR", "value": [
                        {"field": "role", "operator": "=", "value": "user"},
                        {"field": "email", "operator": "~", "value": "ex1"}]},
                       "sort": {"field": "email", "order": "ascending"},
                       "pagination": {"per_page": 2, "starting_after": cursor}}),
            )
            .unwrap();
            let cols = cache.columns(7, Collection::Contacts, &r, &req);
            let cutoff = Some(IndexCutoff {
                field_slot: UPDATED_AT_SLOT,
                max: 1_000_030,
            });
            let plain = run(
                Collection::Contacts,
                &r,
                &Lookup::default(),
                &req,
                None,
                cutoff,
            );
            let cached = run(
                Collection::Contacts,
                &r,
                &Lookup::default(),
                &req,
                Some(&cols),
                cutoff,
            );
            assert_eq!(ids(&plain), ids(&cached));
            assert_eq!(plain.total, cached.total);
            assert_eq!(plain.next_cursor, cached.next_cursor);
            assert!(plain.total < 10, "the updated_at bound applies");
            cursor = plain.next_cursor.clone();
            if cursor.is_none() {
                break;
            }
        }
        // A new workspace version drops the columns.
        let req = parse(
            Collection::Contacts,
            json!({"query": {"field": "n", "operator": ">", "value": 5}}),
        )
        .unwrap();
        let mut changed = r.clone();
        changed[0]["n"] = json!(100);
        let stale = cache.columns(7, Collection::Contacts, &r, &req);
        let fresh = cache.columns(8, Collection::Contacts, &changed, &req);
        let run_with = |cols: &[Arc<Vec<Value>>]| {
            run(
                Collection::Contacts,
                &changed,
                &Lookup::default(),
                &req,
                Some(cols),
                None,
            )
            .total
        };
        assert_eq!(run_with(&stale), 4);
        assert_eq!(run_with(&fresh), 5);
    }

    #[test]
    fn cursor_walk_is_positional() {
        let mut r = recs();
        let body = |cursor: Option<&str>| {
            json!({
                "query": {"field": "n", "operator": ">", "value": -1},
                "sort": {"field": "updated_at", "order": "ascending"},
                "pagination": {"per_page": 3, "starting_after": cursor},
            })
        };
        let req = parse(Collection::Contacts, body(None)).unwrap();
        let p1 = run(
            Collection::Contacts,
            &r,
            &Lookup::default(),
            &req,
            None,
            None,
        );
        assert_eq!(ids(&p1), ["100", "101", "102"]);
        assert_eq!((p1.page, p1.total, p1.total_pages), (1, 10, 4));
        let c1 = p1.next_cursor.clone().unwrap();
        let first = ids(&p1);
        // Record 100 is updated: it moves to the end and comes back later.
        r[0]["updated_at"] = json!(2_000_000);
        let req = parse(Collection::Contacts, body(Some(&c1))).unwrap();
        let p2 = run(
            Collection::Contacts,
            &r,
            &Lookup::default(),
            &req,
            None,
            None,
        );
        assert_eq!(ids(&p2), ["103", "104", "105"]);
        assert_eq!(p2.page, 1, "two records now sort before the cursor");
        let mut seen = first;
        seen.extend(ids(&p2));
        let mut cursor = p2.next_cursor.clone();
        while let Some(c) = cursor {
            let req = parse(Collection::Contacts, body(Some(&c))).unwrap();
            let p = run(
                Collection::Contacts,
                &r,
                &Lookup::default(),
                &req,
                None,
                None,
            );
            seen.extend(ids(&p));
            cursor = p.next_cursor.clone();
        }
        assert_eq!(seen.len(), 11);
        assert_eq!(seen.last().map(String::as_str), Some("100"));

        // Descending is the default.
        let req = parse(
            Collection::Contacts,
            json!({"query": {"field": "n", "operator": ">", "value": -1},
                   "pagination": {"per_page": 2}}),
        )
        .unwrap();
        let p = run(
            Collection::Contacts,
            &r,
            &Lookup::default(),
            &req,
            None,
            None,
        );
        assert_eq!(ids(&p), ["100", "109"]);
    }
}
