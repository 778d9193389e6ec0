//! Generation of the objects added after the first version of the workspace:
//! tickets, admin activity logs and deleted conversations, plus the fix-ups
//! that make timestamps interesting for incremental syncs (records sharing an
//! `updated_at` second, contacts updated just around a day boundary).
//!
//! Every step has its own random stream derived from the seed, so adding one
//! never changes the objects of another. Nothing here reads the clock.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::generate::{AdminRef, ContactRef, DAY, GENERATION_END, GENERATION_START, HOUR};
use crate::rng::Rng;
use crate::words::*;
use crate::FakeConfig;

fn between(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    rng.range(lo, hi.max(lo))
}

fn updated_at(v: &Value) -> i64 {
    v.get("updated_at").and_then(Value::as_i64).unwrap_or(0)
}

/// Start (unix seconds) of the calendar day containing `t` in a time zone
/// `tz_offset_secs` east of UTC.
pub fn day_start(t: i64, tz_offset_secs: i64) -> i64 {
    t.saturating_sub(t.saturating_add(tz_offset_secs).rem_euclid(DAY))
}

/// Move the `updated_at` of a few contacts (about 3%, at least 3) to within an
/// hour of a local midnight. Only ever moves it later, so every other
/// timestamp of the contact stays `<= updated_at`.
pub(crate) fn contacts_near_day_boundaries(seed: u64, contacts: &mut [Value], tz: i64) {
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
pub(crate) fn add_updated_ties(seed: u64, label: &str, items: &mut [Value]) {
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
pub(crate) fn max_part_id(conversations: &[Value]) -> i64 {
    conversations
        .iter()
        .filter_map(|c| c["conversation_parts"]["conversation_parts"].as_array())
        .flatten()
        .filter_map(|p| p.get("id").and_then(Value::as_str))
        .filter_map(|s| s.parse::<i64>().ok())
        .max()
        .unwrap_or(30_000_000)
}

/// A UUID-shaped id from the stream.
pub(crate) fn uuid(rng: &mut Rng) -> String {
    let h = rng.hex(32);
    let variant = ["8", "9", "a", "b"][rng.index(4)];
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..15],
        variant,
        &h[15..18],
        &h[18..30]
    )
}

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
const TICKET_STATES: &[(&str, &str, &str)] = &[
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

/// (activity_type, weight in percent)
const ACTIVITY_TYPES: &[(&str, usize)] = &[
    ("admin_login_success", 40),
    ("admin_logout", 15),
    ("admin_away_mode_change", 15),
    ("message_state_change", 10),
    ("bulk_export", 10),
    ("app_name_change", 5),
    ("app_timezone_change", 5),
];

const AWAY_REASONS: &[&str] = &[
    "😌 On a break",
    "🍔 At lunch",
    "🏠 Done for the day",
    "🤒 Out sick",
];
const TIMEZONES: &[&str] = &[
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "America/Los_Angeles",
];

/// Inputs of the extra generators.
pub(crate) struct More<'a> {
    pub seed: u64,
    pub cfg: &'a FakeConfig,
    pub app_code: &'a str,
    pub admins: &'a [AdminRef],
    pub contacts: &'a [ContactRef],
    pub teams: &'a [Value],
}

impl More<'_> {
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
    pub(crate) fn tickets(&self) -> Vec<Value> {
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
            let created = between(&mut rng, GENERATION_START, GENERATION_END - span - DAY);
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
            let team_assignee = match rng.pick(&team_ids) {
                Some(t) if rng.chance(0.4) => t.clone(),
                _ => "0".to_string(),
            };

            // Parts, walking the state towards `final_state`.
            let mut parts: Vec<Value> = Vec::with_capacity(n_parts + 1);
            let mut t = created;
            let mut state = 0usize;
            for (j, gap) in gaps.iter().enumerate() {
                let last = j == n_parts;
                if last && state == final_state {
                    break;
                }
                t += gap;
                let previous = state;
                let (part_type, author, body, assigned_to) = if last {
                    state = final_state;
                    (
                        "ticket_state_updated_by_admin",
                        self.admin_author(&mut rng),
                        Value::Null,
                        Value::Null,
                    )
                } else {
                    match rng.index(4) {
                        0 if person.is_some() && category == "Customer" => {
                            let c = person.map(|c| {
                                json!({"type": "user", "id": c.id, "name": c.name, "email": c.email})
                            });
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
                            (
                                "comment",
                                self.admin_author(&mut rng),
                                json!(body),
                                Value::Null,
                            )
                        }
                        2 => {
                            let body = format!("<p>{}</p>", rng.word(NOTE_LINES));
                            (
                                "note",
                                self.admin_author(&mut rng),
                                json!(body),
                                Value::Null,
                            )
                        }
                        _ if state + 1 < final_state => {
                            state += 1;
                            (
                                "ticket_state_updated_by_admin",
                                self.admin_author(&mut rng),
                                Value::Null,
                                Value::Null,
                            )
                        }
                        _ => {
                            let target = if admin_assignee != "0" {
                                json!({"type": "admin", "id": admin_assignee})
                            } else {
                                Value::Null
                            };
                            (
                                "assignment",
                                self.admin_author(&mut rng),
                                Value::Null,
                                target,
                            )
                        }
                    }
                };
                part_id += rng.range(1, 9);
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
            out.push((
                created,
                json!({
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
                }),
            ));
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

    /// Admin activity logs sorted by `created_at` (some share a second).
    pub(crate) fn activity_logs(&self) -> Vec<Value> {
        let mut rng = Rng::derive(self.seed, "activity-logs");
        let n = self.cfg.activity_logs;
        let mut times: Vec<i64> = (0..n)
            .map(|_| between(&mut rng, GENERATION_START, GENERATION_END))
            .collect();
        // Ties: some logs share their second with another one.
        if n >= 4 {
            for _ in 0..(n / 20).max(2) {
                let (i, j) = (rng.index(n), rng.index(n));
                times[i] = times[j];
            }
        }
        times.sort_unstable();
        let mut message_id = 1_000 + rng.range(0, 9_000);
        times
            .into_iter()
            .map(|created| {
                let id = uuid(&mut rng);
                let (admin_id, admin_name, admin_email) = match rng.pick(self.admins) {
                    Some(a) => (a.id.to_string(), a.name.clone(), a.email.clone()),
                    None => (
                        "0".to_string(),
                        "Operator".to_string(),
                        format!("operator+{}@intercom.io", self.app_code),
                    ),
                };
                // Documentation address ranges (RFC 5737).
                let ip = format!(
                    "{}.{}",
                    ["192.0.2", "198.51.100", "203.0.113"][rng.index(3)],
                    rng.range(1, 254)
                );
                let mut r = rng.index(100);
                let mut activity_type = "admin_login_success";
                for (ty, w) in ACTIVITY_TYPES {
                    if r < *w {
                        activity_type = ty;
                        break;
                    }
                    r -= w;
                }
                let (metadata, description) = match activity_type {
                    "admin_login_success" => {
                        let method = rng.word(&["email_password", "google_sso", "saml"]);
                        (
                            json!({"sign_in_method": method}),
                            format!("{admin_name} successfully logged in."),
                        )
                    }
                    "admin_logout" => (json!({}), format!("{admin_name} logged out.")),
                    "admin_away_mode_change" => {
                        let away = rng.chance(0.6);
                        let reason: Value = if away {
                            json!(rng.word(AWAY_REASONS))
                        } else {
                            Value::Null
                        };
                        (
                            json!({
                                "away_mode": away,
                                "away_status_reason": reason,
                                "reassign_conversations": away && rng.chance(0.5),
                                "source": format!("admin update from web - Admin id: {admin_id}"),
                                "auto_changed": "false",
                                "update_by": admin_id.parse::<i64>().unwrap_or(0),
                                "update_by_name": admin_name,
                            }),
                            format!(
                                "{admin_name} changed their away mode to {}.",
                                if away { "away" } else { "available" }
                            ),
                        )
                    }
                    "message_state_change" => {
                        message_id += rng.range(1, 30);
                        let title = format!("{} {}", rng.word(ARTICLE_VERBS), rng.word(TOPICS));
                        let (before, after) = if rng.chance(0.6) {
                            ("draft", "live")
                        } else {
                            ("live", "paused")
                        };
                        (
                            json!({"message": {"id": message_id, "title": title},
                                   "before": before, "after": after}),
                            format!(
                                "{admin_name} changed your {title} message from {before} to {after}."
                            ),
                        )
                    }
                    "bulk_export" => (
                        json!({}),
                        format!("{admin_name} exported conversations to CSV."),
                    ),
                    "app_name_change" => {
                        let before = format!("{} {}", rng.word(COMPANY_PREFIXES), rng.word(COMPANY_CORES));
                        let after = format!("{} {}", rng.word(COMPANY_PREFIXES), rng.word(COMPANY_CORES));
                        (
                            json!({"before": before, "after": after}),
                            format!("{admin_name} changed your app name from {before} to {after}."),
                        )
                    }
                    _ => {
                        let before = rng.word(TIMEZONES);
                        let after = rng.word(TIMEZONES);
                        (
                            json!({"before": before, "after": after}),
                            format!("{admin_name} changed your app timezone from {before} to {after}."),
                        )
                    }
                };
                json!({
                    "id": id,
                    "performed_by": {"type": "admin", "id": admin_id, "email": admin_email, "ip": ip},
                    "metadata": metadata,
                    "created_at": created,
                    "activity_type": activity_type,
                    "activity_description": description,
                })
            })
            .collect()
    }

    /// Deleted conversations: ids that no current conversation has (mostly
    /// gaps in the conversation id sequence), sorted by `deleted_at`.
    pub(crate) fn deleted_conversations(&self, conversations: &[Value]) -> Vec<Value> {
        let mut rng = Rng::derive(self.seed, "deleted-conversations");
        let n = self.cfg.deleted_conversations;
        let mut ids: Vec<i64> = conversations
            .iter()
            .filter_map(|c| c.get("id").and_then(Value::as_str))
            .filter_map(|s| s.parse().ok())
            .collect();
        ids.sort_unstable();
        let taken: HashSet<i64> = ids.iter().copied().collect();
        let mut gaps: Vec<i64> = Vec::new();
        for w in ids.windows(2) {
            gaps.extend((w[0] + 1..w[1]).take(8));
            if gaps.len() >= 4 * n + 16 {
                break;
            }
        }
        let mut chosen: Vec<i64> = rng
            .sample_indices(gaps.len(), n)
            .into_iter()
            .map(|i| gaps[i])
            .collect();
        let mut next = ids.last().copied().unwrap_or(1_000) + 1;
        while chosen.len() < n {
            if !taken.contains(&next) {
                chosen.push(next);
            }
            next += rng.range(1, 3);
        }
        let mut out: Vec<Value> = chosen
            .into_iter()
            .map(|id| {
                json!({
                    "type": "conversation",
                    "id": id.to_string(),
                    "deleted_at": between(&mut rng, GENERATION_START + 30 * DAY, GENERATION_END),
                    "metrics_retained": rng.chance(0.5),
                })
            })
            .collect();
        out.sort_by_key(|v| v.get("deleted_at").and_then(Value::as_i64).unwrap_or(0));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::Workspace;

    #[test]
    fn day_start_math() {
        // 2026-03-10T02:00:00Z is 2026-03-09 21:00 at UTC-5.
        let t = 1_773_108_000;
        assert_eq!(day_start(t, 0), 1_773_100_800);
        assert_eq!(day_start(t, -5 * HOUR), 1_773_032_400);
        assert_eq!(day_start(1_773_100_800, 0), 1_773_100_800);
        assert_eq!(day_start(1_773_100_799, 0), 1_773_014_400);
    }

    #[test]
    fn extra_objects_follow_config_and_are_consistent() {
        let cfg = FakeConfig::default();
        let w = Workspace::generate(&cfg);
        assert_eq!(w.tickets.len(), cfg.tickets);
        assert_eq!(w.activity_logs.len(), cfg.activity_logs);
        assert_eq!(w.deleted_conversations.len(), cfg.deleted_conversations);
        let mut ids = HashSet::new();
        for t in &w.tickets {
            assert!(ids.insert(t["id"].as_str().unwrap().to_string()));
            let c = t["created_at"].as_i64().unwrap();
            let u = t["updated_at"].as_i64().unwrap();
            assert!(c <= u && (GENERATION_START..=GENERATION_END).contains(&c));
            assert!(u <= GENERATION_END);
            let state = t["ticket_state"].as_str().unwrap();
            assert!(TICKET_STATES.iter().any(|s| s.0 == state));
            assert_eq!(t["open"], json!(state != "resolved"));
            assert!(t["admin_assignee_id"].is_string());
            assert!(t["team_assignee_id"].is_string());
            let parts = t["ticket_parts"]["ticket_parts"].as_array().unwrap();
            assert_eq!(t["ticket_parts"]["total_count"], json!(parts.len()));
            if let Some(last) = parts.last() {
                assert_eq!(last["ticket_state"], t["ticket_state"]);
                assert!(last["created_at"].as_i64().unwrap() <= u);
            }
        }
        let live: HashSet<&str> = w
            .conversations
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        let mut deleted = HashSet::new();
        for d in &w.deleted_conversations {
            let id = d["id"].as_str().unwrap();
            assert!(!live.contains(id), "{id} is both live and deleted");
            assert!(deleted.insert(id));
            assert_eq!(d["type"], "conversation");
        }
        let times: Vec<i64> = w
            .activity_logs
            .iter()
            .map(|l| l["created_at"].as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|p| p[0] <= p[1]));
        assert!(
            times.windows(2).any(|p| p[0] == p[1]),
            "some logs share a second"
        );
        assert!(
            w.activity_logs
                .iter()
                .all(|l| l["performed_by"]["type"] == "admin"
                    && l["id"].as_str().unwrap().len() == 36)
        );
    }

    #[test]
    fn ties_and_day_boundaries_exist() {
        let w = Workspace::generate(&FakeConfig::default());
        let mut seen = HashSet::new();
        let tied = w
            .contacts
            .iter()
            .filter(|c| !seen.insert(c["updated_at"].as_i64().unwrap()))
            .count();
        assert!(tied >= 2, "contacts sharing an updated_at: {tied}");
        let near = w
            .contacts
            .iter()
            .filter(|c| {
                let u = c["updated_at"].as_i64().unwrap();
                let into_day = u - day_start(u, w.timezone_offset_secs);
                !(HOUR..=DAY - HOUR).contains(&into_day)
            })
            .count();
        assert!(near >= 3, "contacts near a day boundary: {near}");
        let mut seen = HashSet::new();
        assert!(w
            .conversations
            .iter()
            .any(|c| !seen.insert(c["updated_at"].as_i64().unwrap())));
    }

    #[test]
    fn empty_inputs_do_not_panic() {
        let w = Workspace::generate(&FakeConfig {
            contacts: 0,
            admins: 0,
            teams: 0,
            conversations: 0,
            tickets: 3,
            activity_logs: 3,
            deleted_conversations: 2,
            ..FakeConfig::default()
        });
        assert_eq!(w.tickets.len(), 3);
        assert_eq!(w.activity_logs.len(), 3);
        assert_eq!(w.deleted_conversations.len(), 2);
    }
}
