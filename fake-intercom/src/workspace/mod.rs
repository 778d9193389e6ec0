//! The [`Workspace`]: every object the fake serves, as the JSON Intercom
//! returns, and the read-only views computed from it (app totals, segment
//! sizes, a contact's complete lists in `lists`). It is made by [`generate`](Workspace::generate) (in `gen`) and
//! changed only by the methods in `mutate`.

pub(crate) mod lists;
mod mutate;
pub(crate) mod shapes;

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

pub use lists::{ContactLists, EMBEDDED_LIST_LIMIT};

/// A whole Intercom workspace: every object the fake server can return.
///
/// All objects are stored as the JSON the API returns (Intercom 2.11 shapes), so
/// tests can read or modify them freely through [`FakeIntercom::with_workspace`](crate::FakeIntercom::with_workspace).
#[derive(Clone, Debug)]
pub struct Workspace {
    /// `{"type":"app","id_code":..,"name":..,"region":"US","timezone":..,"created_at":..}`
    pub app: Value,
    /// Fixed UTC offset of the workspace time zone, in seconds.
    pub timezone_offset_secs: i64,
    /// Admins (`GET /admins`); the first one owns the token (`GET /me`).
    pub admins: Vec<Value>,
    /// Teams (`GET /teams`).
    pub teams: Vec<Value>,
    /// Tags (`GET /tags`).
    pub tags: Vec<Value>,
    /// Person segments (no `count` stored; it is computed for `include_count=true`).
    pub segments: Vec<Value>,
    /// Company segments (only visible via companies and `/counts`).
    pub company_segments: Vec<Value>,
    /// Company data attributes (`GET /data_attributes?model=company`).
    pub company_attributes: Vec<Value>,
    /// Contact data attributes (`GET /data_attributes?model=contact`).
    pub contact_attributes: Vec<Value>,
    /// Conversation data attributes (before 2.16 also in `GET /data_attributes`).
    pub conversation_attributes: Vec<Value>,
    /// Subscription types (`GET /subscription_types`).
    pub subscription_types: Vec<Value>,
    /// Help centers (`GET /help_center/help_centers`).
    pub help_centers: Vec<Value>,
    /// Help center collections and sections (`GET /help_center/collections`).
    pub collections: Vec<Value>,
    /// Articles (`GET /articles`).
    pub articles: Vec<Value>,
    /// Full contact objects (users and leads), sorted by `created_at`.
    pub contacts: Vec<Value>,
    /// The complete lists of the contacts with more than 10 tags,
    /// companies or notes, by contact id (see
    /// [`FakeConfig::contacts_with_long_lists`](crate::FakeConfig::contacts_with_long_lists)):
    /// such a contact embeds the first 10 of each (`has_more: true`). Every
    /// other contact's embedded lists are complete. Read any contact's
    /// lists with [`contact_lists`](Workspace::contact_lists); the tag
    /// counts, contact search by `tag_id` and the contact list endpoints
    /// read them from here, so a test changing a long list changes it here.
    pub long_contact_lists: BTreeMap<String, ContactLists>,
    /// `(contact id, person segment id)` memberships.
    pub contact_segments: Vec<(String, String)>,
    /// Companies, in the order the companies scroll serves them.
    pub companies: Vec<Value>,
    /// Full conversations, each with all its parts under `conversation_parts`
    /// (`GET /conversations/{id}` returns at most the most recent
    /// `max_parts_returned` of them).
    pub conversations: Vec<Value>,
    /// Tickets (2.11 shape: `ticket_state` is a string), sorted by `created_at`.
    pub tickets: Vec<Value>,
    /// Admin activity logs, sorted by `created_at` (served newest first).
    pub activity_logs: Vec<Value>,
    /// Deleted conversations as `GET /conversations/deleted` lists them:
    /// `{"type":"conversation","id":..,"deleted_at":..,"metrics_retained":..}`.
    pub deleted_conversations: Vec<Value>,
    /// Where each contact id was in `contacts` when first looked up (a hint: checked
    /// on use, the list is searched when a test has moved or added contacts since).
    pub(crate) contact_positions: std::sync::OnceLock<std::collections::HashMap<String, usize>>,
    /// Seed of ids made by `add_*` methods.
    pub(crate) id_seed: u64,
    /// How many objects the `add_*` methods made so far.
    pub(crate) serial: u64,
    /// The next conversation part id for `add_conversation_part`.
    pub(crate) next_part_id: i64,
}

/// Whether `v` is the object with this `id`.
pub(crate) fn has_id(v: &Value, id: &str) -> bool {
    v.get("id").and_then(Value::as_str) == Some(id)
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

impl Workspace {
    /// The workspace id (`app.id_code`).
    pub(crate) fn workspace_id(&self) -> String {
        str_of(&self.app, "id_code").to_string()
    }

    /// The app-totals answer of `GET /counts` (`type` `count.hash`).
    pub fn counts(&self) -> Value {
        let users = self
            .contacts
            .iter()
            .filter(|c| str_of(c, "role") == "user")
            .count();
        let leads = self
            .contacts
            .iter()
            .filter(|c| str_of(c, "role") == "lead")
            .count();
        json!({
            "type": "count.hash",
            "company": {"count": self.companies.len()},
            "user": {"count": users},
            "lead": {"count": leads},
            "tag": {"count": self.tags.len()},
            "segment": {"count": self.segments.len() + self.company_segments.len()},
        })
    }

    /// Number of contacts in each person segment, by segment id.
    pub(crate) fn segment_member_counts(&self) -> HashMap<String, usize> {
        let mut m: HashMap<String, usize> = HashMap::new();
        for (_, seg) in &self.contact_segments {
            *m.entry(seg.clone()).or_insert(0) += 1;
        }
        m
    }
}
