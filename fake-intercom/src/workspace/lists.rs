//! A contact's complete tag, company, note and subscription lists.
//!
//! A contact embeds at most 10 entries of each list (`has_more: true` and
//! the full `total_count` beyond that). The few contacts with longer lists
//! keep them whole in [`Workspace::long_contact_lists`]; every other
//! contact's embedded lists are complete. `GET /contacts/{id}/tags`,
//! `/companies`, `/notes` and `/subscriptions` serve what this module
//! computes. Note objects (and when a tag was applied, and by whom) are not
//! stored: they are drawn from the workspace seed and the contact's id on
//! request, so they are the same on every request.

use serde::Serialize;
use serde_json::{json, Value};

use crate::rng::Rng;
use crate::time::GENERATION_END;
use crate::words::NOTE_LINES;
use crate::workspace::{has_id, Workspace};

/// How many entries of each list a contact embeds.
pub const EMBEDDED_LIST_LIMIT: usize = 10;

/// The complete lists of one contact, as ids, in the order the contact
/// embeds them (its embedded lists are the first 10 of these).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContactLists {
    /// Tag ids (of [`Workspace::tags`]).
    pub tags: Vec<String>,
    /// Company ids (of [`Workspace::companies`]).
    pub companies: Vec<String>,
    /// Note ids (notes are served by `GET /contacts/{id}/notes`, see
    /// [`Workspace::contact_notes`]).
    pub notes: Vec<String>,
    /// Subscription type ids the contact opted in to.
    pub opted_in_subscription_types: Vec<String>,
    /// Subscription type ids the contact opted out of.
    pub opted_out_subscription_types: Vec<String>,
}

impl ContactLists {
    /// The lists a contact embeds (complete unless one has `has_more`).
    pub(crate) fn embedded(contact: &Value) -> ContactLists {
        let ids = |key: &str| -> Vec<String> {
            contact
                .pointer(&format!("/{key}/data"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("id").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        };
        ContactLists {
            tags: ids("tags"),
            companies: ids("companies"),
            notes: ids("notes"),
            opted_in_subscription_types: ids("opted_in_subscription_types"),
            opted_out_subscription_types: ids("opted_out_subscription_types"),
        }
    }

    /// Whether a list is longer than a contact embeds.
    pub fn is_long(&self) -> bool {
        [
            &self.tags,
            &self.companies,
            &self.notes,
            &self.opted_in_subscription_types,
            &self.opted_out_subscription_types,
        ]
        .iter()
        .any(|l| l.len() > EMBEDDED_LIST_LIMIT)
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn int_of(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// `n` ascending times in `lo..=hi`, drawn from `rng`.
fn sorted_times(rng: &mut Rng, n: usize, lo: i64, hi: i64) -> Vec<i64> {
    let hi = hi.max(lo);
    let mut times: Vec<i64> = (0..n).map(|_| rng.range(lo, hi)).collect();
    times.sort_unstable();
    times
}

impl Workspace {
    fn contact(&self, contact_id: &str) -> Option<&Value> {
        let positions = self.contact_positions.get_or_init(|| {
            self.contacts
                .iter()
                .enumerate()
                .map(|(i, c)| (str_of(c, "id").to_string(), i))
                .collect()
        });
        positions
            .get(contact_id)
            .and_then(|&i| self.contacts.get(i))
            .filter(|c| has_id(c, contact_id))
            .or_else(|| self.contacts.iter().find(|c| has_id(c, contact_id)))
    }

    /// The complete tag, company, note and subscription lists of a contact
    /// (`None`: no such contact): from [`long_contact_lists`](Workspace::long_contact_lists)
    /// for the contacts with more than 10 of one, else its embedded lists.
    pub fn contact_lists(&self, contact_id: &str) -> Option<ContactLists> {
        let contact = self.contact(contact_id)?;
        Some(self.lists_of(contact))
    }

    /// [`contact_lists`](Workspace::contact_lists) of a contact object.
    pub(crate) fn lists_of(&self, contact: &Value) -> ContactLists {
        match self.long_contact_lists.get(str_of(contact, "id")) {
            Some(l) => l.clone(),
            None => ContactLists::embedded(contact),
        }
    }

    /// The ids of every tag of a contact object (not only the embedded ones).
    pub(crate) fn tag_ids_of<'a>(&'a self, contact: &'a Value) -> Vec<&'a str> {
        match self.long_contact_lists.get(str_of(contact, "id")) {
            Some(l) => l.tags.iter().map(String::as_str).collect(),
            None => contact
                .pointer("/tags/data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("id").and_then(Value::as_str))
                .collect(),
        }
    }

    /// When a contact's lists were made: from its creation to its last
    /// update (at most the end of generated time), a window that does not
    /// move when a test touches the contact later.
    fn list_window(contact: &Value) -> (i64, i64) {
        let created = int_of(contact, "created_at");
        let updated = int_of(contact, "updated_at").min(GENERATION_END);
        (created, updated.max(created))
    }

    /// The tags of a contact as `GET /contacts/{id}/tags` lists them:
    /// `{"type":"tag","id","name","applied_at","applied_by":{"type":"admin","id"}}`,
    /// in the order applied (`None`: no such contact). A tag id that is no
    /// longer in [`Workspace::tags`] is left out.
    pub fn contact_tags(&self, contact_id: &str) -> Option<Vec<Value>> {
        let contact = self.contact(contact_id)?;
        let ids = self.tag_ids_of(contact);
        let mut rng = Rng::derive(self.id_seed, &format!("contact-tags:{contact_id}"));
        let (lo, hi) = Workspace::list_window(contact);
        let times = sorted_times(&mut rng, ids.len(), lo, hi);
        let tags = ids
            .iter()
            .zip(times)
            .filter_map(|(id, applied_at)| {
                let tag = self.tags.iter().find(|t| has_id(t, id))?;
                let by = rng.pick(&self.admins).map(|a| str_of(a, "id").to_string());
                Some(json!({
                    "type": "tag",
                    "id": id,
                    "name": str_of(tag, "name"),
                    "applied_at": applied_at,
                    "applied_by": by.map(|id| json!({"type": "admin", "id": id})),
                }))
            })
            .collect();
        Some(tags)
    }

    /// The companies of a contact, whole company objects in the contact's
    /// order (`None`: no such contact); ids no longer in
    /// [`Workspace::companies`] are left out.
    pub fn contact_companies(&self, contact_id: &str) -> Option<Vec<&Value>> {
        let lists = self.contact_lists(contact_id)?;
        Some(
            lists
                .companies
                .iter()
                .filter_map(|id| self.companies.iter().find(|c| has_id(c, id)))
                .collect(),
        )
    }

    /// The notes of a contact as `GET /contacts/{id}/notes` lists them,
    /// newest first: `{"type":"note","id","created_at","contact":{"type",
    /// "id"},"author":{admin},"body"}` (`None`: no such contact). Later
    /// note ids were written later.
    pub fn contact_notes(&self, contact_id: &str) -> Option<Vec<Value>> {
        let contact = self.contact(contact_id)?;
        let ids = self.lists_of(contact).notes;
        let mut rng = Rng::derive(self.id_seed, &format!("contact-notes:{contact_id}"));
        let (lo, hi) = Workspace::list_window(contact);
        let times = sorted_times(&mut rng, ids.len(), lo, hi);
        let mut notes: Vec<Value> = ids
            .iter()
            .zip(times)
            .map(|(id, created_at)| {
                let author = rng.pick(&self.admins).map(|a| {
                    json!({
                        "type": "admin",
                        "id": str_of(a, "id"),
                        "name": str_of(a, "name"),
                        "email": str_of(a, "email"),
                        "away_mode_enabled": a.get("away_mode_enabled").cloned().unwrap_or(json!(false)),
                        "away_mode_reassign": a.get("away_mode_reassign").cloned().unwrap_or(json!(false)),
                    })
                });
                let line = NOTE_LINES[rng.index(NOTE_LINES.len())];
                json!({
                    "type": "note",
                    "id": id,
                    "created_at": created_at,
                    "contact": {"type": "contact", "id": contact_id},
                    "author": author,
                    "body": format!("<p>{line}</p>"),
                })
            })
            .collect();
        notes.reverse();
        Some(notes)
    }

    /// The subscription types a contact opted out of, then those it opted
    /// in to, as `GET /contacts/{id}/subscriptions` lists them (`None`: no
    /// such contact).
    pub fn contact_subscriptions(&self, contact_id: &str) -> Option<Vec<&Value>> {
        let lists = self.contact_lists(contact_id)?;
        Some(
            lists
                .opted_out_subscription_types
                .iter()
                .chain(&lists.opted_in_subscription_types)
                .filter_map(|id| self.subscription_types.iter().find(|s| has_id(s, id)))
                .collect(),
        )
    }
}
