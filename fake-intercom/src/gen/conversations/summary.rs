//! Everything about a conversation decided after its parts: assignees, the
//! source message, rating, tags, SLA, AI agent, statistics, and the final
//! conversation object.

use serde_json::{json, Value};

use crate::gen::attributes::{custom_attributes, CONVERSATION_CUSTOM};
use crate::gen::conversations::cast::{Builder, Plan, Who};
use crate::gen::conversations::parts::{Stats, Thread};
use crate::gen::util::{between, html_paragraphs};
use crate::rng::Rng;
use crate::time::{DAY, HOUR};
use crate::words::*;

/// The conversation's rating, tags, SLA and AI agent.
struct Extras {
    rating: Value,
    tags: Vec<Value>,
    sla: Value,
    ai: bool,
    ai_agent: Value,
}

impl Builder<'_> {
    /// The conversation object of `plan` and its parts (its id is still
    /// empty).
    pub(super) fn finish(
        &self,
        rng: &mut Rng,
        plan: &Plan,
        mut th: Thread,
        source_id: &mut i64,
    ) -> Value {
        let (admin_assignee, team_assignee) = self.assignees(rng, plan, &th);
        let source = self.source(rng, plan, source_id);
        let contacts_json: Vec<Value> = plan
            .people
            .iter()
            .map(|&p| {
                let c = &self.contacts[p];
                json!({"type": "contact", "id": c.id, "external_id": c.external_id})
            })
            .collect();
        let mut updated = th.last_t;
        let extras = self.extras(rng, plan, &th, admin_assignee, &mut updated);
        let first_contact_reply: Value = match th.stats.first_contact_reply_at {
            Some(at) => json!({"created_at": at, "type": "conversation", "url": null}),
            None => Value::Null,
        };
        let state = plan.state;
        let snoozed_until: Value = if state == "snoozed" {
            json!(th.last_t + rng.range(HOUR, 7 * DAY))
        } else {
            Value::Null
        };
        let waiting: Value = if state == "open" {
            json!(th.waiting_since)
        } else {
            Value::Null
        };
        th.reply_delays.sort_unstable();
        let median = th.reply_delays.get(th.reply_delays.len() / 2).copied();
        let statistics = statistics(&th.stats, plan, median);
        let custom = custom_attributes(rng, CONVERSATION_CUSTOM, 0.5, false, plan.created);
        let title: Value = if rng.chance(0.2) {
            json!(rng.word(CONVERSATION_TITLES))
        } else {
            Value::Null
        };
        let read = state == "closed" || rng.chance(0.7);
        let priority = if rng.chance(0.15) {
            "priority"
        } else {
            "not_priority"
        };
        let teammates_json: Vec<Value> = th
            .teammates
            .iter()
            .map(|id| json!({"type": "admin", "id": id.to_string()}))
            .collect();
        let total_parts = th.parts.len();
        json!({
            "type": "conversation",
            "id": "",
            "title": title,
            "created_at": plan.created,
            "updated_at": updated,
            "waiting_since": waiting,
            "snoozed_until": snoozed_until,
            "source": source,
            "contacts": {"type": "contact.list", "contacts": contacts_json},
            "first_contact_reply": first_contact_reply,
            "admin_assignee_id": admin_assignee,
            "team_assignee_id": team_assignee,
            "open": state != "closed",
            "state": state,
            "read": read,
            "tags": {"type": "tag.list", "tags": extras.tags},
            "priority": priority,
            "sla_applied": extras.sla,
            "statistics": statistics,
            "conversation_rating": extras.rating,
            "teammates": {"type": "admin.list", "admins": teammates_json},
            "custom_attributes": custom,
            "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
            "ai_agent_participated": extras.ai,
            "ai_agent": extras.ai_agent,
            "conversation_parts": {
                "type": "conversation_part.list",
                "conversation_parts": th.parts,
                "total_count": total_parts,
            },
        })
    }

    /// The admin and team the conversation is assigned to at the end.
    fn assignees(&self, rng: &mut Rng, plan: &Plan, th: &Thread) -> (Option<i64>, Option<i64>) {
        let lead_admin: Option<i64> = plan.cast.first().map(|&i| self.admins[i].id);
        let admin_assignee: Option<i64> = if plan.state == "closed" {
            th.last_assigned_admin
                .or(th.stats.last_closed_by)
                .or(lead_admin)
        } else if th.last_assigned_admin.is_some() {
            th.last_assigned_admin
        } else if rng.chance(0.6) {
            lead_admin
        } else {
            None
        };
        let team_assignee: Option<i64> = if th.last_assigned_team.is_some() {
            th.last_assigned_team
        } else if rng.chance(0.5) {
            rng.pick(self.team_ids).copied()
        } else {
            None
        };
        (admin_assignee, team_assignee)
    }

    /// The message that started the conversation.
    fn source(&self, rng: &mut Rng, plan: &Plan, source_id: &mut i64) -> Value {
        let contact_initiated = plan.contact_initiated;
        let source_type = if contact_initiated {
            "conversation"
        } else if rng.chance(0.5) {
            "email"
        } else {
            "conversation"
        };
        let subject = if source_type == "email" {
            rng.word(CONVERSATION_TITLES).to_string()
        } else {
            String::new()
        };
        let source_body = if contact_initiated {
            html_paragraphs(rng, CUSTOMER_LINES, 1)
        } else {
            html_paragraphs(rng, ADMIN_LINES, 1)
        };
        let delivered_as = match plan.source_author {
            Who::Contact(_) => "customer_initiated",
            Who::Admin(_) => "admin_initiated",
            Who::Bot => "automated",
        };
        *source_id += rng.range(1, 99);
        json!({
            "type": source_type,
            "id": source_id.to_string(),
            "delivered_as": delivered_as,
            "subject": subject,
            "body": source_body,
            "author": self.author(plan.source_author),
            "attachments": [],
            "url": if contact_initiated && rng.chance(0.5) {
                json!(format!("https://www.{}/{}", self.g.domain, rng.word(&["pricing", "docs", "account", "billing", ""])))
            } else {
                Value::Null
            },
            "redacted": false,
        })
    }

    /// Rating (closed conversations only; it may move `updated` later),
    /// tags, SLA and AI agent, in that order.
    fn extras(
        &self,
        rng: &mut Rng,
        plan: &Plan,
        th: &Thread,
        admin_assignee: Option<i64>,
        updated: &mut i64,
    ) -> Extras {
        let rating: Value = match (plan.state, plan.people.first()) {
            ("closed", Some(&p)) if rng.chance(0.35) => {
                let at = th.last_t + rng.range(60, HOUR);
                *updated = (*updated).max(at);
                let score = [1, 2, 3, 4, 4, 5, 5, 5][rng.index(8)];
                let c = &self.contacts[p];
                json!({
                    "rating": score,
                    "remark": rng.word(RATING_REMARKS),
                    "created_at": at,
                    "contact": {"type": "contact", "id": c.id, "external_id": c.external_id},
                    "teammate": admin_assignee.map(|a| json!({"type": "admin", "id": a.to_string()})),
                })
            }
            _ => Value::Null,
        };
        let tags = self.applied_tags(rng, plan.created, *updated);
        let sla = sla(rng, plan.state);
        let ai = rng.chance(0.2);
        let ai_agent = if ai {
            self.ai_agent(rng, plan.created)
        } else {
            Value::Null
        };
        Extras {
            rating,
            tags,
            sla,
            ai,
            ai_agent,
        }
    }

    /// A few tags applied between `created` and `updated`, on a quarter of
    /// the conversations.
    fn applied_tags(&self, rng: &mut Rng, created: i64, updated: i64) -> Vec<Value> {
        if !rng.chance(0.25) {
            return Vec::new();
        }
        let k = 1 + rng.index(2);
        rng.sample_indices(self.tags.len(), k)
            .into_iter()
            .map(|i| {
                let at = between(rng, created, updated);
                json!({
                    "type": "tag",
                    "id": self.tags[i]["id"],
                    "name": self.tags[i]["name"],
                    "applied_at": at,
                    "applied_by": rng.pick(self.admins).map(|a| json!({"type": "admin", "id": a.id.to_string()})),
                })
            })
            .collect()
    }

    /// Fin's part in the conversation (triggered by its workflow when the conversation
    /// starts), citing an article.
    fn ai_agent(&self, rng: &mut Rng, triggered_at: i64) -> Value {
        let article = rng.pick(self.articles);
        let sources: Vec<Value> = article
            .map(|a| {
                vec![json!({
                    "content_type": "article",
                    "url": a.get("url").cloned().unwrap_or(Value::Null),
                    "title": a.get("title").cloned().unwrap_or(Value::Null),
                    "locale": "en",
                })]
            })
            .unwrap_or_default();
        json!({
            "source_type": "workflow",
            "source_id": FIN_WORKFLOW_ID,
            "triggered_at": triggered_at,
            "source_title": "Fin answers first",
            "last_answer_type": rng.word(&["ai_answer", "custom_answer"]),
            "resolution_state": rng.word(&["assumed_resolution", "confirmed_resolution", "routed_to_team", "abandoned"]),
            "rating": if rng.chance(0.3) { json!(rng.range(1, 5)) } else { Value::Null },
            "rating_remark": null,
            "content_sources": {
                "type": "content_source.list",
                "total_count": sources.len(),
                "content_sources": sources,
            },
        })
    }
}

/// The id of the workflow that hands conversations to Fin (`ai_agent.source_id`).
const FIN_WORKFLOW_ID: &str = "38211";

/// The SLA applied to a fifth of the conversations.
fn sla(rng: &mut Rng, state: &str) -> Value {
    if !rng.chance(0.2) {
        return Value::Null;
    }
    let status = if state == "closed" {
        if rng.chance(0.75) {
            "hit"
        } else {
            "missed"
        }
    } else if rng.chance(0.8) {
        "active"
    } else {
        "missed"
    };
    json!({"type": "conversation_sla_summary", "sla_name": rng.word(SLA_NAMES), "sla_status": status})
}

/// The `statistics` object (no random draws).
fn statistics(stats: &Stats, plan: &Plan, median: Option<i64>) -> Value {
    let created = plan.created;
    let diff = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(a), Some(b)) => json!(a - b),
        _ => Value::Null,
    };
    json!({
        "type": "conversation_statistics",
        "time_to_assignment": diff(stats.first_assignment_at, Some(created)),
        "time_to_admin_reply": diff(stats.first_admin_reply_at, stats.first_contact_reply_at),
        "time_to_first_close": diff(stats.first_close_at, Some(created)),
        "time_to_last_close": diff(stats.last_close_at, Some(created)),
        "median_time_to_reply": median,
        "first_contact_reply_at": stats.first_contact_reply_at,
        "first_assignment_at": stats.first_assignment_at,
        "first_admin_reply_at": stats.first_admin_reply_at,
        "first_close_at": stats.first_close_at,
        "last_assignment_at": stats.last_assignment_at,
        "last_assignment_admin_reply_at": stats.last_assignment_admin_reply_at,
        "last_contact_reply_at": stats.last_contact_reply_at,
        "last_admin_reply_at": stats.last_admin_reply_at,
        "last_close_at": stats.last_close_at,
        "last_closed_by_id": stats.last_closed_by.map(|a| a.to_string()),
        "count_reopens": stats.count_reopens,
        "count_assignments": stats.count_assignments,
        // Intercom counts the source message as a part too.
        "count_conversation_parts": plan.n_parts + 1,
    })
}
