//! Every change to a workspace after generation (tests make them while a
//! sync runs): new contacts, conversation parts and activity logs,
//! deletions, and `updated_at` bumps of every kind of object.
//!
//! New ids are deterministic: they derive from the workspace seed and a
//! counter of objects added so far, never from the clock.

use serde_json::{json, Map, Value};

use crate::rng::{mix64, Rng};
use crate::workspace::shapes::addressable_list;
use crate::workspace::{has_id, Workspace};

/// Set `updated_at` of the object with this id in `list`.
fn touch_in(list: &mut [Value], id: &str, updated_at: i64) -> bool {
    match list.iter_mut().find(|v| has_id(v, id)) {
        Some(v) => {
            v["updated_at"] = json!(updated_at);
            true
        }
        None => false,
    }
}

impl Workspace {
    fn next_rng(&mut self) -> (u64, Rng) {
        self.serial += 1;
        let n = self.serial;
        (
            n,
            Rng::new(mix64(self.id_seed ^ n.wrapping_mul(0x9E37_79B9))),
        )
    }

    /// Add a contact with `role` (`"user"` or `"lead"`) created and updated
    /// at `updated_at`; returns its new id. It has the same fields as a
    /// generated contact (most of them null or empty).
    pub fn add_contact(&mut self, role: &str, updated_at: i64) -> String {
        let (n, mut rng) = self.next_rng();
        let id = rng.object_id(updated_at);
        let is_user = role == "user";
        let workspace_id = self.workspace_id();
        let custom: Map<String, Value> = self
            .contact_attributes
            .iter()
            .filter(|a| a.get("custom") == Some(&json!(true)))
            .filter(|a| a.get("archived") != Some(&json!(true)))
            .filter_map(|a| a.get("name").and_then(Value::as_str))
            .map(|name| (name.to_string(), Value::Null))
            .collect();
        let list = |kind: &str, prefix: &str, what: &str| {
            addressable_list(kind, prefix, &[], format!("/contacts/{id}/{what}"))
        };
        let contact = json!({
            "type": "contact",
            "id": id,
            "workspace_id": workspace_id,
            "external_id": if is_user { json!(format!("new-{n}")) } else { Value::Null },
            "role": role,
            "email": format!("new.contact{n}@example.com"),
            "phone": null,
            "formatted_phone": null,
            "name": format!("New Contact {n}"),
            "avatar": null,
            "owner_id": null,
            "social_profiles": {"type": "list", "data": []},
            "has_hard_bounced": false,
            "marked_email_as_spam": false,
            "unsubscribed_from_emails": false,
            "unsubscribed_from_sms": false,
            "sms_consent": false,
            "created_at": updated_at,
            "updated_at": updated_at,
            "signed_up_at": if is_user { json!(updated_at) } else { Value::Null },
            "last_seen_at": null,
            "last_replied_at": null,
            "last_contacted_at": null,
            "last_email_opened_at": null,
            "last_email_clicked_at": null,
            "language_override": null,
        });
        let rest = json!({
            "browser": null,
            "browser_version": null,
            "browser_language": null,
            "os": null,
            "location": {"type": "location", "country": null, "region": null, "city": null,
                         "country_code": null, "continent_code": null},
            "android_app_name": null,
            "android_app_version": null,
            "android_device": null,
            "android_os_version": null,
            "android_sdk_version": null,
            "android_last_seen_at": null,
            "ios_app_name": null,
            "ios_app_version": null,
            "ios_device": null,
            "ios_os_version": null,
            "ios_sdk_version": null,
            "ios_last_seen_at": null,
            "custom_attributes": custom,
            "tags": list("tag", "/tags", "tags"),
            "notes": list("note", "/notes", "notes"),
            "companies": list("company", "/companies", "companies"),
            "opted_out_subscription_types": list("subscription", "/subscriptions", "subscriptions"),
            "opted_in_subscription_types": list("subscription", "/subscriptions", "subscriptions"),
            "utm_campaign": null,
            "utm_content": null,
            "utm_medium": null,
            "utm_source": null,
            "utm_term": null,
            "referrer": null,
        });
        let mut contact = contact;
        if let (Some(c), Value::Object(r)) = (contact.as_object_mut(), rest) {
            c.extend(r);
        }
        // Keep `contacts` sorted by `created_at`.
        let at = self.contacts.partition_point(|c| {
            c.get("created_at").and_then(Value::as_i64).unwrap_or(0) <= updated_at
        });
        self.contacts.insert(at, contact);
        id
    }

    /// Delete a conversation: it leaves `conversations` (so search and
    /// `GET /conversations/{id}` no longer find it) and is listed by
    /// `GET /conversations/deleted`. False if there is no such conversation.
    pub fn delete_conversation(&mut self, id: &str, deleted_at: i64) -> bool {
        let Some(i) = self.conversations.iter().position(|c| has_id(c, id)) else {
            return false;
        };
        self.conversations.remove(i);
        self.deleted_conversations.push(json!({
            "type": "conversation",
            "id": id,
            "deleted_at": deleted_at,
            "metrics_retained": false,
        }));
        true
    }

    /// Append an admin reply created at `created_at` to a conversation; its
    /// `updated_at` becomes at least `created_at` and its statistics count the
    /// part. False if there is no such conversation.
    pub fn add_conversation_part(&mut self, conversation_id: &str, created_at: i64) -> bool {
        let part_id = self.next_part_id;
        let admins = &self.admins;
        let Some(conv) = self
            .conversations
            .iter_mut()
            .find(|c| has_id(c, conversation_id))
        else {
            return false;
        };
        self.next_part_id += 1;
        let assignee = match conv.get("admin_assignee_id") {
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let admin = assignee
            .and_then(|a| admins.iter().find(|x| has_id(x, &a)))
            .or_else(|| admins.first());
        let author = match admin {
            Some(a) => {
                json!({"type": "admin", "id": a["id"], "name": a["name"], "email": a["email"]})
            }
            None => json!({"type": "bot", "id": "3999999", "name": "Operator", "email": null}),
        };
        let part = json!({
            "type": "conversation_part",
            "id": part_id.to_string(),
            "part_type": "comment",
            "body": "<p>Following up on this conversation.</p>",
            "created_at": created_at,
            "updated_at": created_at,
            "notified_at": created_at,
            "assigned_to": null,
            "author": author,
            "attachments": [],
            "external_id": null,
            "redacted": false,
        });
        let Some(obj) = conv.as_object_mut() else {
            return false;
        };
        let list = obj.entry("conversation_parts").or_insert_with(|| {
            json!({"type": "conversation_part.list", "conversation_parts": [], "total_count": 0})
        });
        if !list["conversation_parts"].is_array() {
            list["conversation_parts"] = json!([]);
        }
        let mut count = 0;
        if let Some(parts) = list["conversation_parts"].as_array_mut() {
            parts.push(part);
            count = parts.len();
        }
        list["total_count"] = json!(count);
        let updated = obj
            .get("updated_at")
            .and_then(Value::as_i64)
            .unwrap_or(created_at)
            .max(created_at);
        obj.insert("updated_at".into(), json!(updated));
        let stats = obj
            .entry("statistics")
            .or_insert_with(|| json!({"type": "conversation_statistics"}));
        if stats.is_object() {
            stats["count_conversation_parts"] = json!(count + 1);
            stats["last_admin_reply_at"] = json!(created_at);
        }
        true
    }

    /// Set a contact's `updated_at`; false if there is no such contact.
    pub fn touch_contact(&mut self, id: &str, updated_at: i64) -> bool {
        touch_in(&mut self.contacts, id, updated_at)
    }

    /// Set a conversation's `updated_at`; false if there is no such conversation.
    pub fn touch_conversation(&mut self, id: &str, updated_at: i64) -> bool {
        touch_in(&mut self.conversations, id, updated_at)
    }

    /// Set a company's `updated_at`; false if there is no such company.
    pub fn touch_company(&mut self, id: &str, updated_at: i64) -> bool {
        touch_in(&mut self.companies, id, updated_at)
    }

    /// Set a ticket's `updated_at`; false if there is no such ticket.
    pub fn touch_ticket(&mut self, id: &str, updated_at: i64) -> bool {
        touch_in(&mut self.tickets, id, updated_at)
    }

    /// Set an article's `updated_at`; false if there is no such article.
    pub fn touch_article(&mut self, id: &str, updated_at: i64) -> bool {
        touch_in(&mut self.articles, id, updated_at)
    }

    /// Set a help center collection's `updated_at`; false if there is none.
    pub fn touch_collection(&mut self, id: &str, updated_at: i64) -> bool {
        touch_in(&mut self.collections, id, updated_at)
    }

    /// Set a segment's `updated_at` (person or company segment; the copies
    /// embedded in companies follow). False if there is no such segment.
    pub fn touch_segment(&mut self, id: &str, updated_at: i64) -> bool {
        if touch_in(&mut self.segments, id, updated_at) {
            return true;
        }
        if !touch_in(&mut self.company_segments, id, updated_at) {
            return false;
        }
        for company in &mut self.companies {
            if let Some(list) = company
                .pointer_mut("/segments/segments")
                .and_then(Value::as_array_mut)
            {
                for seg in list.iter_mut().filter(|s| has_id(s, id)) {
                    seg["updated_at"] = json!(updated_at);
                }
            }
        }
        true
    }

    /// Add an admin activity log (an `admin_login_success` by the first
    /// admin) created at `created_at`; returns its id.
    pub fn add_activity_log(&mut self, created_at: i64) -> String {
        let (_, mut rng) = self.next_rng();
        let id = rng.uuid();
        let (admin_id, name, email) = match self.admins.first() {
            Some(a) => (a["id"].clone(), a["name"].clone(), a["email"].clone()),
            None => (json!("0"), json!("Operator"), Value::Null),
        };
        let log = json!({
            "id": id,
            "performed_by": {"type": "admin", "id": admin_id, "email": email, "ip": "127.0.0.1"},
            "metadata": {"sign_in_method": "email_password"},
            "created_at": created_at,
            "activity_type": "admin_login_success",
            "activity_description": format!("{} successfully logged in.", name.as_str().unwrap_or("Operator")),
        });
        let at = self.activity_logs.partition_point(|l| {
            l.get("created_at").and_then(Value::as_i64).unwrap_or(0) <= created_at
        });
        self.activity_logs.insert(at, log);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FakeConfig;
    use std::collections::BTreeSet;

    fn keys(v: &Value) -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn added_contact_has_generated_shape_and_new_id() {
        let mut w = Workspace::generate(&FakeConfig::default());
        let n = w.contacts.len();
        let id = w.add_contact("lead", 1_780_000_000);
        let id2 = w.add_contact("user", 1_780_000_001);
        assert_ne!(id, id2);
        assert_eq!(w.contacts.len(), n + 2);
        let c = w.contacts.iter().find(|c| c["id"] == id.as_str()).unwrap();
        assert_eq!(keys(c), keys(&w.contacts[0]));
        assert_eq!(
            keys(&c["custom_attributes"]),
            keys(&w.contacts[0]["custom_attributes"])
        );
        assert_eq!(c["role"], "lead");
        assert_eq!(c["updated_at"], 1_780_000_000);
        assert!(id.starts_with(&format!("{:08x}", 1_780_000_000)));
        // Deterministic.
        let mut again = Workspace::generate(&FakeConfig::default());
        assert_eq!(again.add_contact("lead", 1_780_000_000), id);
    }

    #[test]
    fn parts_deletions_and_touches() {
        let mut w = Workspace::generate(&FakeConfig::default());
        let id = w.conversations[0]["id"].as_str().unwrap().to_string();
        let before = w.conversations[0]["conversation_parts"]["conversation_parts"]
            .as_array()
            .unwrap()
            .len();
        assert!(w.add_conversation_part(&id, 1_790_000_000));
        let c = &w.conversations[0];
        let parts = c["conversation_parts"]["conversation_parts"]
            .as_array()
            .unwrap();
        assert_eq!(parts.len(), before + 1);
        assert_eq!(c["conversation_parts"]["total_count"], before + 1);
        assert_eq!(c["statistics"]["count_conversation_parts"], before + 2);
        assert_eq!(c["updated_at"], 1_790_000_000);
        let new_id = parts.last().unwrap()["id"].as_str().unwrap().to_string();
        let all_ids: BTreeSet<&str> = w
            .conversations
            .iter()
            .flat_map(|c| {
                c["conversation_parts"]["conversation_parts"]
                    .as_array()
                    .unwrap()
            })
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert!(all_ids.contains(new_id.as_str()));
        assert!(!w.add_conversation_part("missing", 1));

        let deleted = w.deleted_conversations.len();
        assert!(w.delete_conversation(&id, 1_790_000_100));
        assert!(!w.delete_conversation(&id, 1_790_000_100));
        assert_eq!(w.deleted_conversations.len(), deleted + 1);
        assert!(w.conversations.iter().all(|c| c["id"] != id.as_str()));

        let t = w.tickets[0]["id"].as_str().unwrap().to_string();
        assert!(w.touch_ticket(&t, 5));
        assert_eq!(w.tickets[0]["updated_at"], 5);
        let a = w.articles[0]["id"].as_str().unwrap().to_string();
        assert!(w.touch_article(&a, 6));
        let col = w.collections[0]["id"].as_str().unwrap().to_string();
        assert!(w.touch_collection(&col, 7));
        let s = w.segments[0]["id"].as_str().unwrap().to_string();
        assert!(w.touch_segment(&s, 8));
        assert_eq!(w.segments[0]["updated_at"], 8);
        let cs = w.company_segments[0]["id"].as_str().unwrap().to_string();
        assert!(w.touch_segment(&cs, 9));
        for co in &w.companies {
            for seg in co["segments"]["segments"].as_array().unwrap() {
                if seg["id"] == cs.as_str() {
                    assert_eq!(seg["updated_at"], 9);
                }
            }
        }
        assert!(!w.touch_segment("missing", 1));
        assert!(!w.touch_ticket("missing", 1));

        let n = w.activity_logs.len();
        let log = w.add_activity_log(1_700_000_000);
        assert_eq!(w.activity_logs.len(), n + 1);
        let times: Vec<i64> = w
            .activity_logs
            .iter()
            .map(|l| l["created_at"].as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|p| p[0] <= p[1]));
        assert!(w.activity_logs.iter().any(|l| l["id"] == log.as_str()));
    }
}
