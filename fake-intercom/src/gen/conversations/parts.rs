//! The parts of one conversation, drawn one after the other (comments,
//! notes, assignments, closes, reopens, snoozes), and the statistics
//! Intercom keeps about them as they go by.

use serde_json::{json, Value};

use crate::gen::conversations::cast::{Builder, Plan, Who};
use crate::gen::util::html_paragraphs;
use crate::rng::Rng;
use crate::words::*;

/// The `statistics` timestamps and counters of a conversation.
#[derive(Default)]
pub(super) struct Stats {
    pub(super) first_contact_reply_at: Option<i64>,
    pub(super) first_assignment_at: Option<i64>,
    pub(super) first_admin_reply_at: Option<i64>,
    pub(super) first_close_at: Option<i64>,
    pub(super) last_assignment_at: Option<i64>,
    pub(super) last_assignment_admin_reply_at: Option<i64>,
    pub(super) last_contact_reply_at: Option<i64>,
    pub(super) last_admin_reply_at: Option<i64>,
    pub(super) last_close_at: Option<i64>,
    pub(super) last_closed_by: Option<i64>,
    pub(super) count_reopens: u32,
    pub(super) count_assignments: u32,
}

/// A conversation's parts and what walking through them left behind.
pub(super) struct Thread {
    pub(super) parts: Vec<Value>,
    pub(super) stats: Stats,
    /// Admin ids of every admin who wrote a part, in order of appearance.
    pub(super) teammates: Vec<i64>,
    pub(super) last_assigned_admin: Option<i64>,
    pub(super) last_assigned_team: Option<i64>,
    /// Since when the contact's last message waits for an answer.
    pub(super) waiting_since: Option<i64>,
    /// Seconds from a contact's message to the next admin reply.
    pub(super) reply_delays: Vec<i64>,
    /// The time of the last part (the creation time if there is none).
    pub(super) last_t: i64,
    is_closed: bool,
    /// The contact's first message not answered yet.
    last_contact_msg: Option<i64>,
}

/// `(part_type, author, body, assigned_to)` of a part.
type Content = (&'static str, Who, Value, Value);

impl Builder<'_> {
    /// Draw every part of the conversation planned in `plan`.
    pub(super) fn walk(&self, rng: &mut Rng, plan: &Plan, part_id: &mut i64) -> Thread {
        let mut th = Thread::start(plan);
        for (j, gap) in plan.gaps.iter().enumerate() {
            th.last_t += gap;
            let t = th.last_t;
            let last = j + 1 == plan.n_parts;
            let kind = th.next_kind(rng, plan, last);
            let (part_type, who, body, assigned_to) = self.content(rng, plan, kind, &mut th);
            th.record(self, part_type, who, t);
            if let Some(id) = self.admin_id_of(who) {
                if !th.teammates.contains(&id) {
                    th.teammates.push(id);
                }
            }
            let attachments = attachments(rng, part_type);
            *part_id += rng.range(1, 9);
            th.parts.push(json!({
                "type": "conversation_part",
                "id": part_id.to_string(),
                "part_type": part_type,
                "body": body,
                "created_at": t,
                "updated_at": t,
                "notified_at": t,
                "assigned_to": assigned_to,
                "author": self.author(who),
                "attachments": attachments,
                "external_id": null,
                "redacted": false,
            }));
        }
        th
    }

    /// The part type, author, body and assignee of a part of `kind`.
    fn content(&self, rng: &mut Rng, plan: &Plan, kind: &str, th: &mut Thread) -> Content {
        let cast = &plan.cast;
        match kind {
            "contact_comment" => {
                let who = Who::Contact(plan.people[rng.index(plan.people.len())]);
                let n = 1 + rng.index(3);
                let body = html_paragraphs(rng, CUSTOMER_LINES, n);
                ("comment", who, json!(body), Value::Null)
            }
            "admin_comment" => {
                let who = if rng.chance(0.1) {
                    Who::Bot
                } else {
                    self.some_admin(rng, cast)
                };
                let n = 1 + rng.index(3);
                let body = html_paragraphs(rng, ADMIN_LINES, n);
                ("comment", who, json!(body), Value::Null)
            }
            "note" => {
                let who = self.some_admin(rng, cast);
                let n = 1 + rng.index(2);
                let body = html_paragraphs(rng, NOTE_LINES, n);
                ("note", who, json!(body), Value::Null)
            }
            "assignment" => {
                let who = if rng.chance(0.4) {
                    Who::Bot
                } else {
                    self.some_admin(rng, cast)
                };
                let target = if !self.team_ids.is_empty() && rng.chance(0.3) {
                    rng.pick(self.team_ids).map(|&id| {
                        th.last_assigned_team = Some(id);
                        json!({"type": "team", "id": id.to_string()})
                    })
                } else {
                    self.admin_id_of(self.some_admin(rng, cast)).map(|id| {
                        th.last_assigned_admin = Some(id);
                        json!({"type": "admin", "id": id.to_string()})
                    })
                };
                let target = target.unwrap_or(Value::Null);
                ("assignment", who, Value::Null, target)
            }
            "close" | "open" | "snoozed" => {
                let part_type = match kind {
                    "close" => "close",
                    "open" => "open",
                    _ => "snoozed",
                };
                let who = self.some_admin(rng, cast);
                (part_type, who, Value::Null, Value::Null)
            }
            _ => {
                let who = self.some_admin(rng, cast);
                let part_type = "conversation_attribute_updated_by_admin";
                (part_type, who, Value::Null, Value::Null)
            }
        }
    }
}

impl Thread {
    fn start(plan: &Plan) -> Thread {
        let mut stats = Stats::default();
        let mut last_contact_msg = None;
        if plan.contact_initiated {
            stats.first_contact_reply_at = Some(plan.created);
            stats.last_contact_reply_at = Some(plan.created);
            last_contact_msg = Some(plan.created);
        }
        Thread {
            parts: Vec::with_capacity(plan.n_parts),
            stats,
            teammates: Vec::new(),
            last_assigned_admin: None,
            last_assigned_team: None,
            waiting_since: last_contact_msg,
            reply_delays: Vec::new(),
            last_t: plan.created,
            is_closed: false,
            last_contact_msg,
        }
    }

    /// What the next part is: the last part reaches the planned state.
    fn next_kind(&self, rng: &mut Rng, plan: &Plan, last: bool) -> &'static str {
        let state = plan.state;
        if last && state == "closed" {
            "close"
        } else if last && state == "snoozed" {
            "snoozed"
        } else if last && state == "open" && self.is_closed {
            "open"
        } else {
            let r = rng.index(100);
            match r {
                0..=34 if !plan.people.is_empty() => "contact_comment",
                0..=69 => "admin_comment",
                70..=79 => "note",
                80..=89 => "assignment",
                90..=94 if self.is_closed => "open",
                // Closing mid-way only after someone answered.
                90..=94 if self.stats.last_admin_reply_at.is_some() => "close",
                90..=94 => "admin_comment",
                _ => "conversation_attribute_updated_by_admin",
            }
        }
    }

    /// Statistics bookkeeping for a part written at `t`.
    fn record(&mut self, b: &Builder<'_>, part_type: &str, who: Who, t: i64) {
        let stats = &mut self.stats;
        match (part_type, who) {
            ("comment", Who::Contact(_)) => {
                stats.first_contact_reply_at.get_or_insert(t);
                stats.last_contact_reply_at = Some(t);
                if self.last_contact_msg.is_none() {
                    self.last_contact_msg = Some(t);
                }
                self.waiting_since.get_or_insert(t);
                if self.is_closed {
                    self.is_closed = false;
                    stats.count_reopens += 1;
                }
            }
            ("comment", _) => {
                if stats.first_contact_reply_at.is_some() {
                    stats.first_admin_reply_at.get_or_insert(t);
                }
                stats.last_admin_reply_at = Some(t);
                if stats.last_assignment_at.is_some() {
                    stats.last_assignment_admin_reply_at.get_or_insert(t);
                }
                if let Some(c) = self.last_contact_msg.take() {
                    self.reply_delays.push(t - c);
                }
                self.waiting_since = None;
            }
            ("assignment", _) => {
                stats.count_assignments += 1;
                stats.first_assignment_at.get_or_insert(t);
                stats.last_assignment_at = Some(t);
                stats.last_assignment_admin_reply_at = None;
            }
            ("close", w) => {
                self.is_closed = true;
                stats.first_close_at.get_or_insert(t);
                stats.last_close_at = Some(t);
                stats.last_closed_by = b.admin_id_of(w);
                self.waiting_since = None;
            }
            ("open", _) => {
                if self.is_closed {
                    stats.count_reopens += 1;
                }
                self.is_closed = false;
            }
            _ => {}
        }
    }
}

/// A screenshot on a few comments. Intercom sends an attachment's `width` and `height` as
/// strings, though its OpenAPI text says integers: half of them come as strings here (by the
/// file size's parity, so no extra random draw), half as integers.
fn attachments(rng: &mut Rng, part_type: &str) -> Vec<Value> {
    if part_type == "comment" && rng.chance(0.06) {
        let w = rng.range(320, 1920);
        let h = rng.range(240, 1080);
        let name = format!("screenshot-{}.png", rng.range(1, 999));
        let url = format!(
            "https://downloads.intercomcdn.com/i/o/{}/{}/screenshot.png",
            rng.range(100_000_000, 999_999_999),
            rng.hex(20)
        );
        let filesize = rng.range(20_000, 2_000_000);
        let (width, height) = if filesize % 2 == 0 {
            (json!(w.to_string()), json!(h.to_string()))
        } else {
            (json!(w), json!(h))
        };
        vec![json!({
            "type": "upload",
            "name": name,
            "url": url,
            "content_type": "image/png",
            "filesize": filesize,
            "width": width,
            "height": height,
        })]
    } else {
        Vec::new()
    }
}
