//! Intercom's Reporting Data Export, as the fake serves it: the datasets
//! (`datasets`), an export request checked as `POST
//! /export/reporting_data/enqueue` checks it (`ReportRequest`), the rows
//! an export holds ([`ReportTable`], computed from the workspace's
//! conversations, parts and tickets) and the export jobs (`jobs`).
//!
//! Datasets (`GET /export/reporting_data/get_datasets`), each with the
//! attribute its window selects rows by:
//!
//! | dataset | one row per | time attribute |
//! | --- | --- | --- |
//! | `conversation` | conversation | `conversation_started_at` (`created_at`) |
//! | `conversation_actions` | conversation part | `action_time` (the part's `created_at`) |
//! | `ticket` | ticket | `ticket_created_at` (`created_at`) |
//!
//! A row is in an export when its time attribute is in `[start_time,
//! end_time)`; rows are sorted by it, then by id. For the `conversation`
//! dataset, an export enqueued with `Intercom-Version` below 2.16 (or
//! none: the app's 2.11) holds only the conversations a contact replied
//! to (`statistics.first_contact_reply_at` set); 2.16 and later (and
//! `Unstable`/`Preview`) hold every conversation, as Intercom's 2.16
//! reference says. The other datasets do not depend on the version.
//!
//! Attribute ids are accepted in both forms `get_datasets` lists: the
//! simple `id` (`conversation_id`) and the `qualified_id`
//! (`standard.conversation_id`); the CSV header names the simple ids, in
//! the order asked for. Cells: text as is, numbers as written in JSON,
//! timestamps in epoch seconds, empty for null; a cell with a comma, a
//! quote or a line break is quoted (RFC 4180); lines end in `\n`.

mod datasets;
pub(crate) mod jobs;

use serde_json::{json, Value};

use crate::api::version::version_at_least;
use crate::reporting::datasets::{Attribute, Dataset, Rows, DATASETS};
use crate::workspace::Workspace;

/// Jobs not yet complete or failed that a workspace may have at once
/// (Intercom's limit; the next enqueue is answered 429).
pub const REPORT_PENDING_JOBS_LIMIT: usize = 5;

/// The rows of one export: a header naming the attributes and the cells,
/// as the downloaded CSV holds them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportTable {
    /// The simple attribute ids, in the order asked for.
    pub header: Vec<String>,
    /// One row per object, its cells in `header` order.
    pub rows: Vec<Vec<String>>,
}

impl ReportTable {
    /// The CSV text: the header line, then a line per row.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        for line in std::iter::once(&self.header).chain(&self.rows) {
            let cells: Vec<String> = line.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    /// The cells of column `attribute_id` (simple id), one per row.
    pub fn column(&self, attribute_id: &str) -> Option<Vec<&str>> {
        let i = self.header.iter().position(|h| h == attribute_id)?;
        Some(self.rows.iter().map(|r| r[i].as_str()).collect())
    }
}

/// A CSV cell, quoted when it must be.
fn csv_cell(c: &str) -> String {
    if c.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_string()
    }
}

/// A checked export request.
#[derive(Clone)]
pub(crate) struct ReportRequest {
    dataset: &'static Dataset,
    attributes: Vec<&'static Attribute>,
    start_time: i64,
    end_time: i64,
}

/// A `bad_request` message, as Intercom words it.
pub(crate) type BadRequest = String;

impl ReportRequest {
    /// Check an enqueue body, as Intercom does, in this order: `dataset_id`
    /// present and known, `attribute_ids` present, an array, not empty,
    /// every one known to the dataset (the message lists the unknown
    /// ones), `start_time` and `end_time` present integers, `end_time`
    /// after `start_time`.
    pub(crate) fn from_body(body: &Value) -> Result<ReportRequest, BadRequest> {
        let dataset_id = match body.get("dataset_id") {
            None | Some(Value::Null) => return Err("'dataset_id' is a required parameter".into()),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        let dataset = DATASETS
            .iter()
            .find(|d| d.id == dataset_id)
            .ok_or_else(|| format!("{dataset_id} is not a valid dataset_id"))?;
        let ids = match body.get("attribute_ids") {
            None | Some(Value::Null) => {
                return Err("'attribute_ids' is a required parameter".into())
            }
            Some(Value::Array(a)) => a,
            Some(_) => return Err("'attribute_ids' not an array must be of type Array".into()),
        };
        if ids.is_empty() {
            return Err("attribute_ids must contain at least one attribute_id".into());
        }
        let texts: Vec<String> = ids
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let attributes = resolve(dataset, &refs)?;
        let time = |key: &str| match body.get(key) {
            None | Some(Value::Null) => Err(format!("'{key}' is a required parameter")),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| format!("'{key}' must be an integer (epoch seconds)")),
        };
        let (start_time, end_time) = (time("start_time")?, time("end_time")?);
        ReportRequest::new(dataset, attributes, start_time, end_time)
    }

    fn new(
        dataset: &'static Dataset,
        attributes: Vec<&'static Attribute>,
        start_time: i64,
        end_time: i64,
    ) -> Result<ReportRequest, BadRequest> {
        if end_time <= start_time {
            return Err("end_time must be after start_time".into());
        }
        Ok(ReportRequest {
            dataset,
            attributes,
            start_time,
            end_time,
        })
    }

    /// The export's rows in `ws`, for an export enqueued with `version`.
    pub(crate) fn table(&self, ws: &Workspace, version: Option<&str>) -> ReportTable {
        let header = self.attributes.iter().map(|a| a.id.to_string()).collect();
        let time_attr = self
            .dataset
            .attribute(self.dataset.time)
            .expect("a dataset's time attribute is one of its attributes");
        let window = self.start_time..self.end_time;
        let mut rows: Vec<(i64, u64, String, Vec<String>)> = Vec::new();
        let mut push = |rec: &Value, parent: Option<&Value>| {
            let t = time_attr.cell(rec, parent).parse::<i64>().ok();
            let Some(t) = t.filter(|t| window.contains(t)) else {
                return;
            };
            let id = rec.get("id").and_then(Value::as_str).unwrap_or_default();
            let cells = self
                .attributes
                .iter()
                .map(|a| a.cell(rec, parent))
                .collect();
            let n = id.parse::<u64>().unwrap_or(u64::MAX);
            rows.push((t, n, id.to_string(), cells));
        };
        match self.dataset.rows {
            Rows::Conversations => {
                let all = version_at_least(version, 2, 16);
                for c in &ws.conversations {
                    let replied = c
                        .pointer("/statistics/first_contact_reply_at")
                        .is_some_and(|v| !v.is_null());
                    if all || replied {
                        push(c, None);
                    }
                }
            }
            Rows::ConversationParts => {
                for c in &ws.conversations {
                    let parts = c
                        .pointer("/conversation_parts/conversation_parts")
                        .and_then(Value::as_array);
                    for p in parts.into_iter().flatten() {
                        push(p, Some(c));
                    }
                }
            }
            Rows::Tickets => ws.tickets.iter().for_each(|t| push(t, None)),
        }
        rows.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
        ReportTable {
            header,
            rows: rows.into_iter().map(|r| r.3).collect(),
        }
    }
}

/// The attributes of `dataset` with these (simple or qualified) ids.
fn resolve(dataset: &'static Dataset, ids: &[&str]) -> Result<Vec<&'static Attribute>, BadRequest> {
    let unknown: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| dataset.attribute(id).is_none())
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "attribute_ids invalid for {} dataset: {}",
            dataset.id,
            unknown.join(", ")
        ));
    }
    Ok(ids.iter().filter_map(|id| dataset.attribute(id)).collect())
}

impl Workspace {
    /// The answer of `GET /export/reporting_data/get_datasets`:
    /// `{"type":"list","data":[{"id","name","description",
    /// "default_time_attribute_id","attributes":[{"id","qualified_id","name"}]}]}`.
    pub fn report_datasets(&self) -> Value {
        let data: Vec<Value> = DATASETS
            .iter()
            .map(|d| {
                let attributes: Vec<Value> = d
                    .attributes
                    .iter()
                    .map(|a| json!({"id": a.id, "qualified_id": a.qualified_id(), "name": a.name}))
                    .collect();
                json!({
                    "id": d.id,
                    "name": d.name,
                    "description": d.description,
                    "default_time_attribute_id": d.time,
                    "attributes": attributes,
                })
            })
            .collect();
        json!({"type": "list", "data": data})
    }

    /// The rows an export of `dataset_id` with these attributes (simple or
    /// qualified ids) over `[start_time, end_time)` holds now, for a job
    /// enqueued with `Intercom-Version: version` (see the [module
    /// docs](crate::reporting)): what the fake's download of such a job
    /// completed now holds. `Err` is the `bad_request` message enqueue
    /// would answer.
    pub fn report_rows(
        &self,
        dataset_id: &str,
        attribute_ids: &[&str],
        start_time: i64,
        end_time: i64,
        version: Option<&str>,
    ) -> Result<ReportTable, String> {
        let body = json!({
            "dataset_id": dataset_id,
            "attribute_ids": attribute_ids,
            "start_time": start_time,
            "end_time": end_time,
        });
        Ok(ReportRequest::from_body(&body)?.table(self, version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FakeConfig;

    fn ws() -> Workspace {
        Workspace::generate(&FakeConfig::default())
    }

    #[test]
    fn datasets_follow_the_openapi_shape() {
        let v = ws().report_datasets();
        assert_eq!(v["type"], "list");
        let ids: Vec<&str> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["conversation", "conversation_actions", "ticket"]);
        for d in v["data"].as_array().unwrap() {
            let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
            assert_eq!(
                keys,
                [
                    "attributes",
                    "default_time_attribute_id",
                    "description",
                    "id",
                    "name"
                ]
            );
            let time = d["default_time_attribute_id"].as_str().unwrap();
            let attrs = d["attributes"].as_array().unwrap();
            assert!(attrs.iter().any(|a| a["id"] == time), "{time}");
            for a in attrs {
                let q = a["qualified_id"].as_str().unwrap();
                assert!(
                    q.ends_with(&format!(".{}", a["id"].as_str().unwrap())),
                    "{q}"
                );
                assert!(a["name"].is_string());
            }
        }
    }

    #[test]
    fn requests_are_checked_like_intercom() {
        let check = |body: Value| ReportRequest::from_body(&body).map(|_| ());
        let ok = json!({"dataset_id": "conversation", "attribute_ids": ["conversation_id"],
                        "start_time": 0, "end_time": 10});
        assert_eq!(check(ok.clone()), Ok(()));
        let with = |key: &str, v: Value| {
            let mut b = ok.clone();
            if v.is_null() {
                b.as_object_mut().unwrap().remove(key);
            } else {
                b[key] = v;
            }
            check(b).unwrap_err()
        };
        assert_eq!(
            with("dataset_id", Value::Null),
            "'dataset_id' is a required parameter"
        );
        assert_eq!(
            with("dataset_id", json!("imaginary")),
            "imaginary is not a valid dataset_id"
        );
        assert_eq!(
            with("attribute_ids", Value::Null),
            "'attribute_ids' is a required parameter"
        );
        assert_eq!(
            with("attribute_ids", json!("conversation_id")),
            "'attribute_ids' not an array must be of type Array"
        );
        assert_eq!(
            with("attribute_ids", json!([])),
            "attribute_ids must contain at least one attribute_id"
        );
        assert_eq!(
            with(
                "attribute_ids",
                json!(["conversation_id", "non_existent", "ticket_id"])
            ),
            "attribute_ids invalid for conversation dataset: non_existent, ticket_id"
        );
        assert_eq!(
            with("start_time", Value::Null),
            "'start_time' is a required parameter"
        );
        assert!(with("end_time", json!("soon")).contains("end_time"));
        assert_eq!(
            with("end_time", json!(0)),
            "end_time must be after start_time"
        );
        let qualified = json!({"dataset_id": "ticket",
            "attribute_ids": ["standard.ticket_id", "teammate.currently_assigned_teammate_id"],
            "start_time": 0, "end_time": 10});
        assert_eq!(check(qualified), Ok(()));
    }

    #[test]
    fn conversation_rows_follow_the_window_and_the_version() {
        let w = ws();
        let all = w
            .report_rows(
                "conversation",
                &[
                    "conversation_id",
                    "timestamp.conversation_started_at",
                    "user_id",
                ],
                i64::MIN,
                i64::MAX,
                Some("2.16"),
            )
            .unwrap();
        assert_eq!(
            all.header,
            ["conversation_id", "conversation_started_at", "user_id"]
        );
        assert_eq!(all.rows.len(), w.conversations.len());
        let replied = w
            .conversations
            .iter()
            .filter(|c| !c["statistics"]["first_contact_reply_at"].is_null())
            .count();
        assert!(
            replied < w.conversations.len(),
            "some have no contact reply"
        );
        for old in [Some("2.11"), Some("2.15"), None] {
            let rows = w
                .report_rows("conversation", &["conversation_id"], 0, i64::MAX, old)
                .unwrap();
            assert_eq!(rows.rows.len(), replied, "{old:?}");
        }
        // A window in the middle: [start, end) on created_at.
        let times: Vec<i64> = all
            .column("conversation_started_at")
            .unwrap()
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        assert!(times.windows(2).all(|p| p[0] <= p[1]), "sorted by time");
        let (start, end) = (times[10], times[20]);
        let part = w
            .report_rows(
                "conversation",
                &["conversation_id"],
                start,
                end,
                Some("Unstable"),
            )
            .unwrap();
        let expected = times.iter().filter(|t| (start..end).contains(*t)).count();
        assert_eq!(part.rows.len(), expected);
        assert!(expected >= 10);
    }

    #[test]
    fn action_and_ticket_rows_match_the_workspace() {
        let w = ws();
        let actions = w
            .report_rows(
                "conversation_actions",
                &["action_id", "conversation_id", "action_type", "teammate_id"],
                0,
                i64::MAX,
                None,
            )
            .unwrap();
        let parts: usize = w
            .conversations
            .iter()
            .map(|c| {
                c["conversation_parts"]["conversation_parts"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .sum();
        assert_eq!(actions.rows.len(), parts);
        let tickets = w
            .report_rows("ticket", &["ticket_id", "ticket_title"], 0, i64::MAX, None)
            .unwrap();
        assert_eq!(tickets.rows.len(), w.tickets.len());
        let csv = tickets.to_csv();
        assert!(csv.starts_with("ticket_id,ticket_title\n"));
        assert_eq!(csv.lines().count(), w.tickets.len() + 1);
    }

    #[test]
    fn csv_cells_are_quoted_when_needed() {
        let t = ReportTable {
            header: vec!["a".into(), "b".into()],
            rows: vec![
                vec!["x,y".into(), "say \"hi\"".into()],
                vec![String::new(), "1".into()],
            ],
        };
        assert_eq!(t.to_csv(), "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n,1\n");
    }
}
