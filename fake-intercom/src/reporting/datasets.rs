//! The reporting datasets the fake offers, and how each attribute reads
//! its value from the workspace's objects.

use serde_json::Value;

/// What a dataset's rows are made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rows {
    /// One row per conversation.
    Conversations,
    /// One row per conversation part.
    ConversationParts,
    /// One row per ticket.
    Tickets,
}

/// One attribute of a dataset.
pub(super) struct Attribute {
    /// The simple id (the CSV column).
    pub(super) id: &'static str,
    /// The namespace of the qualified id (`prefix.id`): `timestamp` for the
    /// times (epoch seconds in the file), as Intercom's reference shows
    /// (`timestamp.conversation_started_at`), `standard`, `teammate`,
    /// `team`, `people` or `conversation` otherwise.
    pub(super) prefix: &'static str,
    pub(super) name: &'static str,
    /// How the value is read from the row's object.
    pub(super) read: Read,
}

/// How an attribute's value is read.
#[derive(Clone, Copy)]
pub(super) enum Read {
    /// The value at a JSON pointer (of the part for part rows; a pointer
    /// starting with `@` reads the conversation of a part row).
    At(&'static str),
    /// An admin or team id at a pointer: empty when unset (null or 0).
    IdAt(&'static str),
    /// The `id`s of the objects of the array at a pointer, comma-separated.
    IdsAt(&'static str),
    /// The author id at a pointer's object when its `type` is `admin`.
    AdminAuthor(&'static str),
    /// A conversation's channel, from its source type.
    Channel,
    /// The contact of a conversation: its source author if a contact,
    /// else its first contact.
    ConversationContact,
}

/// One dataset of `GET /export/reporting_data/get_datasets`.
pub(super) struct Dataset {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) description: &'static str,
    /// The attribute whose time the export window selects rows by.
    pub(super) time: &'static str,
    pub(super) rows: Rows,
    pub(super) attributes: &'static [Attribute],
}

const fn attr(id: &'static str, prefix: &'static str, name: &'static str, read: Read) -> Attribute {
    Attribute {
        id,
        prefix,
        name,
        read,
    }
}

use Read::*;

const CONVERSATION: &[Attribute] = &[
    attr("conversation_id", "standard", "Conversation ID", At("/id")),
    attr(
        "conversation_started_at",
        "timestamp",
        "Conversation started at",
        At("/created_at"),
    ),
    attr("channel", "standard", "Channel", Channel),
    attr(
        "current_conversation_state",
        "standard",
        "Current conversation state",
        At("/state"),
    ),
    attr(
        "conversation_first_teammate_reply_at",
        "timestamp",
        "Conversation first replied at",
        At("/statistics/first_admin_reply_at"),
    ),
    attr(
        "conversation_first_closed_at",
        "timestamp",
        "Conversation first closed at",
        At("/statistics/first_close_at"),
    ),
    attr(
        "conversation_last_closed_at",
        "timestamp",
        "Conversation last closed at",
        At("/statistics/last_close_at"),
    ),
    attr(
        "conversation_first_response_time",
        "standard",
        "First response time (seconds)",
        At("/statistics/time_to_admin_reply"),
    ),
    attr(
        "conversation_time_to_close",
        "standard",
        "Time to close (seconds)",
        At("/statistics/time_to_last_close"),
    ),
    attr(
        "conversation_reopens_count",
        "standard",
        "Number of reopens",
        At("/statistics/count_reopens"),
    ),
    attr(
        "conversation_tag_ids",
        "standard",
        "Conversation tag",
        IdsAt("/tags/tags"),
    ),
    attr(
        "last_teammate_rating",
        "standard",
        "Last teammate rating",
        At("/conversation_rating/rating"),
    ),
    attr(
        "currently_assigned_teammate_id",
        "teammate",
        "Teammate currently assigned",
        IdAt("/admin_assignee_id"),
    ),
    attr(
        "currently_assigned_team_id",
        "team",
        "Team currently assigned",
        IdAt("/team_assignee_id"),
    ),
    attr("user_id", "people", "User ID", ConversationContact),
];

const CONVERSATION_ACTIONS: &[Attribute] = &[
    attr("action_id", "standard", "Action ID", At("/id")),
    attr(
        "conversation_id",
        "conversation",
        "Conversation ID",
        At("@/id"),
    ),
    attr("action_type", "standard", "Action type", At("/part_type")),
    attr("action_time", "timestamp", "Action time", At("/created_at")),
    attr(
        "action_author_type",
        "standard",
        "Action author type",
        At("/author/type"),
    ),
    attr(
        "teammate_id",
        "teammate",
        "Teammate ID",
        AdminAuthor("/author"),
    ),
    attr(
        "assigned_to_id",
        "standard",
        "Assigned to",
        IdAt("/assigned_to/id"),
    ),
];

const TICKET: &[Attribute] = &[
    attr("ticket_id", "standard", "Ticket ID", At("/id")),
    attr(
        "ticket_created_at",
        "timestamp",
        "Ticket created at",
        At("/created_at"),
    ),
    attr(
        "ticket_last_updated_at",
        "timestamp",
        "Ticket last updated at",
        At("/updated_at"),
    ),
    attr(
        "ticket_type_id",
        "standard",
        "Ticket type ID",
        At("/ticket_type/id"),
    ),
    attr(
        "ticket_type_name",
        "standard",
        "Ticket type",
        At("/ticket_type/name"),
    ),
    attr(
        "ticket_category",
        "standard",
        "Ticket category",
        At("/category"),
    ),
    attr(
        "ticket_state",
        "standard",
        "Ticket state",
        At("/ticket_state"),
    ),
    attr(
        "ticket_title",
        "standard",
        "Ticket title",
        At("/ticket_attributes/_default_title_"),
    ),
    attr(
        "currently_assigned_teammate_id",
        "teammate",
        "Teammate currently assigned",
        IdAt("/admin_assignee_id"),
    ),
    attr(
        "currently_assigned_team_id",
        "team",
        "Team currently assigned",
        IdAt("/team_assignee_id"),
    ),
    attr(
        "user_id",
        "people",
        "User ID",
        At("/contacts/contacts/0/id"),
    ),
];

/// Every dataset, in the order `get_datasets` lists them.
pub(super) const DATASETS: &[Dataset] = &[
    Dataset {
        id: "conversation",
        name: "Conversation",
        description: "Conversation-level details: state, channel, assignee, response and close times, rating.",
        time: "conversation_started_at",
        rows: Rows::Conversations,
        attributes: CONVERSATION,
    },
    Dataset {
        id: "conversation_actions",
        name: "Conversation actions",
        description: "One row per action in a conversation: replies, notes, assignments, state changes.",
        time: "action_time",
        rows: Rows::ConversationParts,
        attributes: CONVERSATION_ACTIONS,
    },
    Dataset {
        id: "ticket",
        name: "Tickets",
        description: "Ticket-level details: type, category, state, assignee.",
        time: "ticket_created_at",
        rows: Rows::Tickets,
        attributes: TICKET,
    },
];

impl Attribute {
    /// `prefix.id`, the id `get_datasets` asks enqueue to be called with.
    pub(super) fn qualified_id(&self) -> String {
        format!("{}.{}", self.prefix, self.id)
    }

    /// The CSV cell of this attribute for a row made from `rec` (and, for
    /// part rows, its conversation `parent`): text as is, numbers and
    /// booleans as JSON writes them (timestamps are epoch seconds), empty
    /// for null or missing.
    pub(super) fn cell(&self, rec: &Value, parent: Option<&Value>) -> String {
        let at = |ptr: &str| -> Option<&Value> {
            match ptr.strip_prefix('@') {
                Some(rest) => parent.and_then(|p| p.pointer(rest)),
                None => rec.pointer(ptr),
            }
        };
        match self.read {
            At(ptr) => text(at(ptr)),
            IdAt(ptr) => match at(ptr) {
                Some(Value::Number(n)) if n.as_i64() == Some(0) => String::new(),
                Some(Value::String(s)) if s == "0" => String::new(),
                v => text(v),
            },
            IdsAt(ptr) => at(ptr)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|v| text(v.get("id")))
                .collect::<Vec<_>>()
                .join(","),
            AdminAuthor(ptr) => match at(ptr) {
                Some(a) if a.get("type").and_then(Value::as_str) == Some("admin") => {
                    text(a.get("id"))
                }
                _ => String::new(),
            },
            Channel => match rec.pointer("/source/type").and_then(Value::as_str) {
                Some("email") => "Email".to_string(),
                Some("phone_call") => "Phone".to_string(),
                Some("conversation") => "Chat".to_string(),
                Some(other) => other.to_string(),
                None => String::new(),
            },
            ConversationContact => {
                let author = rec.pointer("/source/author");
                let kind = author.and_then(|a| a.get("type")).and_then(Value::as_str);
                match kind {
                    Some("user" | "lead" | "contact") => text(author.and_then(|a| a.get("id"))),
                    _ => text(rec.pointer("/contacts/contacts/0/id")),
                }
            }
        }
    }
}

/// A JSON value as a CSV cell.
fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

impl Dataset {
    /// The attribute with this simple or qualified id.
    pub(super) fn attribute(&self, id: &str) -> Option<&'static Attribute> {
        self.attributes
            .iter()
            .find(|a| a.id == id || (id.len() > a.id.len() && a.qualified_id() == id))
    }
}
