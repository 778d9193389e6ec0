//! Tickets in the 2.11 shape: ticket types, tickets whose parts walk the
//! ticket state towards its final one, sorted by `created_at`.

use serde_json::{json, Value};

use crate::gen::context::{ContactRef, Earlier};
use crate::gen::fixups::add_updated_ties;
use crate::gen::util::between;
use crate::rng::Rng;
use crate::time::{DAY, GENERATION_END, GENERATION_START, HOUR};
use crate::words::*;

/// (name, category, icon, description)
const TICKET_TYPES: &[(&str, &str, &str, &str)] = &[
    (
        "Bug report",
        "Customer",
        "🐞",
        "Something in the product is not working as expected",
    ),
    (
        "Billing question",
        "Customer",
        "💳",
        "Questions about invoices, charges and refunds",
    ),
    (
        "Feature request",
        "Customer",
        "💡",
        "Ideas for improving the product",
    ),
    (
        "Account review",
        "Back-office",
        "📋",
        "Internal review of a customer account",
    ),
    (
        "Service outage",
        "Tracker",
        "🚨",
        "Tracks an incident that affects many customers",
    ),
];

/// (2.11 `ticket_state`, internal label, external label)
pub(in crate::gen) const TICKET_STATES: &[(&str, &str, &str)] = &[
    ("submitted", "Submitted", "Submitted"),
    ("in_progress", "In progress", "In progress"),
    (
        "waiting_on_customer",
        "Waiting on customer",
        "Awaiting your reply",
    ),
    ("resolved", "Resolved", "Resolved"),
];

const TICKET_TITLES: &[&str] = &[
    "Export button does nothing",
    "Charged twice this month",
    "Cannot invite teammates",
    "Dashboard loads very slowly",
    "Please add dark mode",
    "Invoice shows the wrong VAT number",
    "SSO login loops back to the start",
    "Webhook deliveries are delayed",
    "Request for a refund",
    "Data import failed halfway",
    "Mobile app crashes on launch",
    "Quarterly account review",
];

/// What a ticket's parts depend on.
struct Story<'a> {
    category: &'static str,
    person: Option<&'a ContactRef>,
    /// Admin id, `"0"` when unassigned.
    admin_assignee: &'a str,
    /// Index into [`TICKET_STATES`] reached by the last part.
    final_state: usize,
}

impl Earlier<'_> {
    fn ticket_types(&self, rng: &mut Rng) -> Vec<Value> {
        let mut id = 100 + rng.range(0, 800);
        let mut attr_id = 200 + rng.range(0, 800);
        TICKET_TYPES
            .iter()
            .map(|(name, category, icon, description)| {
                id += rng.range(1, 5);
                let created = between(rng, GENERATION_START, GENERATION_START + 60 * DAY);
                let updated = between(rng, created, GENERATION_START + 400 * DAY);
                let attrs: Vec<Value> = [
                    ("_default_title_", "Title", true),
                    ("_default_description_", "Description", false),
                ]
                .iter()
                .enumerate()
                .map(|(order, (attr, label, required))| {
                    attr_id += 1;
                    json!({
                        "type": "ticket_type_attribute",
                        "id": attr_id.to_string(),
                        "workspace_id": self.app_code,
                        "name": attr,
                        "description": label,
                        "data_type": "string",
                        "input_options": null,
                        "order": order,
                        "required_to_create": required,
                        "required_to_create_for_contacts": false,
                        "visible_on_create": true,
                        "visible_to_contacts": *category == "Customer",
                        "default": true,
                        "ticket_type_id": id,
                        "archived": false,
                        "created_at": created,
                        "updated_at": updated,
                    })
                })
                .collect();
                json!({
                    "type": "ticket_type",
                    "id": id.to_string(),
                    "category": category,
                    "name": name,
                    "description": description,
                    "icon": icon,
                    "workspace_id": self.app_code,
                    "archived": false,
                    "created_at": created,
                    "updated_at": updated,
                    "is_internal": *category != "Customer",
                    "ticket_type_attributes": {"type": "list", "data": attrs},
                })
            })
            .collect()
    }

    fn admin_author(&self, rng: &mut Rng) -> Value {
        match rng.pick(self.admins) {
            Some(a) => {
                json!({"type": "admin", "id": a.id.to_string(), "name": a.name, "email": a.email})
            }
            None => json!({"type": "bot", "id": "3999999", "name": "Operator",
                           "email": format!("operator+{}@intercom.io", self.app_code)}),
        }
    }

    /// Tickets in the 2.11 shape, sorted by `created_at` (ids ascend with it).
    pub(in crate::gen) fn tickets(&self) -> Vec<Value> {
        let mut rng = Rng::derive(self.seed, "tickets");
        let types = self.ticket_types(&mut rng);
        let team_ids: Vec<String> = self
            .teams
            .iter()
            .filter_map(|t| t.get("id").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        let mut part_id: i64 = 50_000_000 + rng.range(0, 999_999);
        let mut out: Vec<(i64, Value)> = Vec::with_capacity(self.cfg.tickets);
        for _ in 0..self.cfg.tickets {
            out.push(self.ticket(&mut rng, &types, &team_ids, &mut part_id));
        }
        out.sort_by_key(|(created, _)| *created);
        let mut id: i64 = 600 + rng.range(0, 4_000);
        let mut inbox_id: i64 = 1 + rng.range(0, 40);
        let mut tickets: Vec<Value> = out
            .into_iter()
            .map(|(_, mut v)| {
                id += rng.range(1, 4);
                inbox_id += 1;
                v["id"] = json!(id.to_string());
                v["ticket_id"] = json!(inbox_id.to_string());
                v
            })
            .collect();
        add_updated_ties(self.seed, "ticket-ties", &mut tickets);
        tickets
    }

    /// One ticket (without ids) and its `created_at`.
    fn ticket(
        &self,
        rng: &mut Rng,
        types: &[Value],
        team_ids: &[String],
        part_id: &mut i64,
    ) -> (i64, Value) {
        let ty = rng.index(types.len());
        let category = TICKET_TYPES[ty].1;
        let n_parts = rng.range(0, 6) as usize;
        let gaps: Vec<i64> = (0..=n_parts)
            .map(|_| {
                if rng.chance(0.8) {
                    rng.range(60, 6 * HOUR)
                } else {
                    rng.range(6 * HOUR, 3 * DAY)
                }
            })
            .collect();
        let span: i64 = gaps.iter().sum();
        let created = between(rng, GENERATION_START, GENERATION_END - span - DAY);
        let final_state = {
            let r = rng.index(100);
            match r {
                0..=19 => 0,
                20..=39 => 1,
                40..=54 => 2,
                _ => 3,
            }
        };
        let person = if self.contacts.is_empty() {
            None
        } else {
            Some(&self.contacts[rng.index(self.contacts.len())])
        };
        let admin_assignee = match rng.pick(self.admins) {
            Some(a) if final_state > 0 || rng.chance(0.3) => a.id.to_string(),
            _ => "0".to_string(),
        };
        let team_assignee = match rng.pick(team_ids) {
            Some(t) if rng.chance(0.4) => t.clone(),
            _ => "0".to_string(),
        };
        let story = Story {
            category,
            person,
            admin_assignee: &admin_assignee,
            final_state,
        };
        let (parts, state, t) = self.ticket_parts(rng, &story, &gaps, created, part_id);
        let updated = if parts.is_empty() {
            created + rng.range(0, 120)
        } else {
            t
        };
        let (state_name, internal, external) = TICKET_STATES[state];
        let snoozed_until: Value = if state_name == "waiting_on_customer" && rng.chance(0.3) {
            json!(updated + rng.range(HOUR, 5 * DAY))
        } else {
            Value::Null
        };
        let title = rng.word(TICKET_TITLES);
        let description = format!("<p>{}</p>", rng.word(CUSTOMER_LINES));
        let contacts: Vec<Value> = person
            .map(|c| json!({"type": "contact", "id": c.id, "external_id": c.external_id}))
            .into_iter()
            .collect();
        let total_parts = parts.len();
        let ticket = json!({
            "type": "ticket",
            "id": "",
            "ticket_id": "",
            "category": category,
            "ticket_attributes": {
                "_default_title_": title,
                "_default_description_": description,
            },
            "ticket_state": state_name,
            "ticket_state_internal_label": internal,
            "ticket_state_external_label": external,
            "ticket_type": types[ty],
            "contacts": {"type": "contact.list", "contacts": contacts},
            "admin_assignee_id": admin_assignee,
            "team_assignee_id": team_assignee,
            "created_at": created,
            "updated_at": updated,
            "open": state_name != "resolved",
            "snoozed_until": snoozed_until,
            "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
            "ticket_parts": {
                "type": "ticket_part.list",
                "ticket_parts": parts,
                "total_count": total_parts,
            },
            "is_shared": category == "Customer",
        });
        (created, ticket)
    }

    /// The parts of a ticket, walking its state towards `story.final_state`;
    /// also the state reached and the time of the last part.
    fn ticket_parts(
        &self,
        rng: &mut Rng,
        story: &Story<'_>,
        gaps: &[i64],
        created: i64,
        part_id: &mut i64,
    ) -> (Vec<Value>, usize, i64) {
        let n_parts = gaps.len() - 1;
        let mut parts: Vec<Value> = Vec::with_capacity(n_parts + 1);
        let mut t = created;
        let mut state = 0usize;
        for (j, gap) in gaps.iter().enumerate() {
            let last = j == n_parts;
            if last && state == story.final_state {
                break;
            }
            t += gap;
            let previous = state;
            let (part_type, author, body, assigned_to) =
                self.ticket_part_content(rng, story, last, &mut state);
            *part_id += rng.range(1, 9);
            parts.push(json!({
                "type": "ticket_part",
                "id": part_id.to_string(),
                "part_type": part_type,
                "body": body,
                "previous_ticket_state": TICKET_STATES[previous].0,
                "ticket_state": TICKET_STATES[state].0,
                "created_at": t,
                "updated_at": t,
                "assigned_to": assigned_to,
                "author": author,
                "attachments": [],
                "external_id": null,
                "redacted": false,
            }));
        }
        (parts, state, t)
    }

    /// `(part_type, author, body, assigned_to)` of the next ticket part; a
    /// state change moves `state` on.
    fn ticket_part_content(
        &self,
        rng: &mut Rng,
        story: &Story<'_>,
        last: bool,
        state: &mut usize,
    ) -> (&'static str, Value, Value, Value) {
        if last {
            *state = story.final_state;
            return (
                "ticket_state_updated_by_admin",
                self.admin_author(rng),
                Value::Null,
                Value::Null,
            );
        }
        match rng.index(4) {
            0 if story.person.is_some() && story.category == "Customer" => {
                let c = story
                    .person
                    .map(|c| json!({"type": "user", "id": c.id, "name": c.name, "email": c.email}));
                let body = format!("<p>{}</p>", rng.word(CUSTOMER_LINES));
                (
                    "comment",
                    c.unwrap_or(Value::Null),
                    json!(body),
                    Value::Null,
                )
            }
            0 | 1 => {
                let body = format!("<p>{}</p>", rng.word(ADMIN_LINES));
                ("comment", self.admin_author(rng), json!(body), Value::Null)
            }
            2 => {
                let body = format!("<p>{}</p>", rng.word(NOTE_LINES));
                ("note", self.admin_author(rng), json!(body), Value::Null)
            }
            _ if *state + 1 < story.final_state => {
                *state += 1;
                (
                    "ticket_state_updated_by_admin",
                    self.admin_author(rng),
                    Value::Null,
                    Value::Null,
                )
            }
            _ => {
                let target = if story.admin_assignee != "0" {
                    json!({"type": "admin", "id": story.admin_assignee})
                } else {
                    Value::Null
                };
                ("assignment", self.admin_author(rng), Value::Null, target)
            }
        }
    }
}
