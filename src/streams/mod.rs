//! The stream table: every stream this connector has, declared once as data.
//!
//! `discover` maps over [`STREAMS`]; `read` looks streams up by name with [`find`] and
//! plans them with [`crate::read`]. A declaration names its schema file, primary key,
//! cursor, and how its records are read ([`Read`]): a **root** has a [`Source`] of its
//! own (endpoints with a paging kind, a search, the companies scroll, time windows); a
//! **derived** stream is read from another stream, its **parent**, which is a root
//! ([`Derived`]): a subset of the parent's records ([`Derived::Subset`], leads and users
//! of contacts) or one request per parent record ([`Derived::Children`], conversation
//! parts and company segments). A parent is read once for all the streams it feeds.

pub mod counts;

use serde_json::Value;

use crate::http::client::DEFAULT_VERSION;
use crate::protocol::{AirbyteStream, SyncMode};
use crate::walk::Paging;

/// One stream.
#[derive(Debug)]
pub struct StreamDef {
    pub name: &'static str,
    /// The JSON schema (text of `schemas/<file>.json`).
    pub schema: &'static str,
    /// Top-level fields that together identify a record.
    pub primary_key: &'static [&'static str],
    /// The cursor field, for streams that support incremental sync.
    pub cursor: Option<&'static str>,
    /// The permission (Intercom Developer Hub > your app > Configure > Authentication)
    /// the access token's app needs to read this stream ([`permission`]).
    pub permission: &'static str,
    pub read: Read,
}

/// The Intercom app permissions streams need, as the Developer Hub names them.
pub mod permission {
    pub const ADMINS: &str = "Read admins";
    pub const USERS_AND_COMPANIES: &str = "Read and list users and companies";
    pub const CONVERSATIONS: &str = "Read conversations";
    pub const TICKETS: &str = "Read tickets";
    pub const TAGS: &str = "Read tags";
    pub const COUNTS: &str = "Read counts";
    pub const ARTICLES: &str = "Read and list articles";
    pub const ACTIVITY_LOGS: &str = "Read admin activity logs";

    /// Every permission a stream needs (for the tests that hold the docs and `check`'s
    /// probes to the declarations).
    #[cfg(test)]
    pub const ALL: &[&str] = &[
        ADMINS,
        USERS_AND_COMPANIES,
        CONVERSATIONS,
        TICKETS,
        TAGS,
        COUNTS,
        ARTICLES,
        ACTIVITY_LOGS,
    ];
}

/// How a stream's records are read.
#[derive(Debug)]
pub enum Read {
    /// A root: from a source of its own.
    Root(Source),
    /// From the records of its parent, a root.
    Derived(Derived),
}

/// A root's source of records.
#[derive(Debug)]
pub enum Source {
    /// GET each endpoint in turn, every page of each. With a cursor, incremental reads
    /// filter client-side and save the highest cursor once the stream is read in full.
    Pages(&'static [Endpoint]),
    /// A search sorted by `updated_at` ascending: split into `updated_at` ranges read
    /// concurrently when large, checkpointed as ranges complete.
    Search(Search),
    /// `GET /companies/scroll`: read in full (one scroll per workspace, never two at
    /// once), filtered client-side.
    Scroll,
    /// An endpoint read in windows of `activity_logs_time_step` days of `created_at`.
    Windows(Windowed),
}

/// A stream read from the records of its parent.
#[derive(Debug)]
pub enum Derived {
    /// The records of `parent` whose `field` is `value`. Read from the parent's source
    /// (with the filter sent to Intercom when the parent itself isn't selected).
    Subset {
        parent: &'static str,
        field: &'static str,
        value: &'static str,
    },
    /// One request per record of `parent`; each answer's rows become records.
    Children(Child),
}

/// A search endpoint (`POST .../search`).
#[derive(Debug)]
pub struct Search {
    pub path: &'static str,
    /// Where a page holds its records.
    pub records: &'static [&'static str],
    /// Date filters match whole days in the workspace's time zone (contact search):
    /// ranges are whole days, and the first is asked from a day earlier.
    pub day_granular: bool,
    /// The search index trails writes (every Intercom search does): the saved cursor
    /// stays `search_index_lag_minutes` behind the sync's start.
    pub index_lag: bool,
    /// Lists a record embeds only the first entries of, read whole when they have more.
    pub relations: &'static [Relation],
}

/// A list a record embeds only the first entries of (Intercom embeds 10 of a contact's
/// tags, companies and notes: `{type: list, data, url, total_count, has_more}`): when
/// `has_more` is true, the whole list is read from its endpoint and the record is
/// emitted with all of it (see [`crate::read::relations`]).
#[derive(Debug)]
pub struct Relation {
    /// The record's field holding the list.
    pub field: &'static str,
    /// The whole list's endpoint, `{id}` the record's id; its entries under `data`.
    pub path: &'static str,
    /// `Some(per_page)`: paged (`page`, `per_page`, `pages.next`); `None`: one answer.
    pub per_page: Option<u32>,
    /// Each entry as the record embeds it: `{"type": kind, "id", "url": "url_prefix/id"}`.
    pub kind: &'static str,
    pub url_prefix: &'static str,
}

/// The lists a contact embeds 10 of. Its subscription types are not among them:
/// `GET /contacts/{id}/subscriptions` lists opted-in and opted-out types in one list,
/// and a workspace has few subscription types (a contact's lists of them are whole).
pub const CONTACT_RELATIONS: &[Relation] = &[
    Relation {
        field: "tags",
        path: "/contacts/{id}/tags",
        per_page: None,
        kind: "tag",
        url_prefix: "/tags",
    },
    Relation {
        field: "companies",
        path: "/contacts/{id}/companies",
        per_page: Some(50),
        kind: "company",
        url_prefix: "/companies",
    },
    Relation {
        field: "notes",
        path: "/contacts/{id}/notes",
        per_page: Some(50),
        kind: "note",
        url_prefix: "/notes",
    },
];

/// An endpoint read in `created_at` windows (both ends inclusive).
#[derive(Debug)]
pub struct Windowed {
    pub path: &'static str,
    pub records: &'static [&'static str],
    pub after_param: &'static str,
    pub before_param: &'static str,
    pub per_page: u32,
}

/// Intercom's cap on the parts `GET /conversations/{id}` returns (the newest ones).
pub const PARTS_CAP: usize = 500;

/// A stream with one request per parent record.
#[derive(Debug)]
pub struct Child {
    pub parent: &'static str,
    /// The request path: `prefix` + the parent's id (one path segment) + `suffix`.
    pub path: (&'static str, &'static str),
    /// Where the answer holds the rows.
    pub rows: &'static [&'static str],
    /// The fields of the stream's primary key each row carries itself (the rest are
    /// copied from the parent or the answer); a row without them fails its answer.
    pub row_key: &'static [&'static str],
    /// Fields added to every row: (row field, parent record field), from the parent as
    /// the list returned it.
    pub from_parent: &'static [(&'static str, &'static str)],
    /// Fields added to every row: (row field, answer field), from the fetched answer.
    pub from_answer: &'static [(&'static str, &'static str)],
    /// The answer is a whole conversation: count its parts and report truncation.
    pub counts_parts: bool,
    /// What the parent records are, for messages ("conversations").
    pub what: &'static str,
}

const CONTACT_SEARCH: Search = Search {
    path: "/contacts/search",
    records: &["data"],
    day_granular: true,
    index_lag: true,
    relations: CONTACT_RELATIONS,
};

const CONVERSATION_SEARCH: Search = Search {
    path: "/conversations/search",
    records: &["conversations"],
    day_granular: false,
    index_lag: true,
    relations: &[],
};

/// One GET endpoint.
#[derive(Debug)]
pub struct Endpoint {
    pub path: &'static str,
    pub query: &'static [(&'static str, &'static str)],
    /// `Intercom-Version` to send.
    pub version: &'static str,
    pub paging: Paging,
    pub extract: Extract,
}

/// How a page becomes records.
#[derive(Debug, Clone, Copy)]
pub enum Extract {
    /// The records are the list at this key path.
    List(&'static [&'static str]),
    /// A hook turns the whole answer into rows (an `Err` names what was wrong with it).
    Rows(fn(&Value) -> Result<Vec<Value>, String>),
}

const fn get(path: &'static str, records: &'static [&'static str]) -> Endpoint {
    Endpoint {
        path,
        query: &[],
        version: DEFAULT_VERSION,
        paging: Paging::None,
        extract: Extract::List(records),
    }
}

/// Page-number endpoints: the largest page Intercom allows.
const PAGE_150: Paging = Paging::PageNumber { per_page: 150 };

/// `GET /counts` is documented up to API 2.6 only; send the newest version that documents it.
pub const COUNTS_VERSION: &str = "2.6";

const fn counts(
    query: &'static [(&'static str, &'static str)],
    hook: fn(&Value) -> Result<Vec<Value>, String>,
) -> Endpoint {
    Endpoint {
        path: "/counts",
        query,
        version: COUNTS_VERSION,
        paging: Paging::None,
        extract: Extract::Rows(hook),
    }
}

macro_rules! schema {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schemas/",
            $file,
            ".json"
        ))
    };
}

/// The key of a model's data attributes: `full_name`, unique within a model. Not `name` (the
/// official connector's key), a leaf name that a nested or custom attribute can share with a
/// top-level one (`plan.name` and `name` of companies): keyed by it, a deduplicating
/// destination keeps one of the two.
const ATTRIBUTE_KEY: &[&str] = &["full_name"];

/// Archived attributes included: their `archived` flag tells them apart.
const DATA_ATTRIBUTES_BY_MODEL: &[Endpoint] = &[
    Endpoint {
        query: &[("model", "contact"), ("include_archived", "true")],
        ..get("/data_attributes", &["data"])
    },
    Endpoint {
        query: &[("model", "company"), ("include_archived", "true")],
        ..get("/data_attributes", &["data"])
    },
    Endpoint {
        query: &[("model", "conversation"), ("include_archived", "true")],
        ..get("/data_attributes", &["data"])
    },
];

/// Every stream, in the order a full catalog reads them.
pub static STREAMS: &[StreamDef] = &[
    StreamDef {
        name: "admins",
        schema: schema!("admins"),
        primary_key: &["id"],
        cursor: None,
        permission: permission::ADMINS,
        read: Read::Root(Source::Pages(&[get("/admins", &["admins"])])),
    },
    StreamDef {
        name: "teams",
        schema: schema!("teams"),
        // Airbyte's official connector keys teams and tags by name; kept for drop-in compatibility.
        primary_key: &["name"],
        cursor: None,
        permission: permission::ADMINS,
        read: Read::Root(Source::Pages(&[get("/teams", &["teams"])])),
    },
    StreamDef {
        name: "tags",
        schema: schema!("tags"),
        primary_key: &["name"],
        cursor: None,
        permission: permission::TAGS,
        read: Read::Root(Source::Pages(&[get("/tags", &["data"])])),
    },
    StreamDef {
        name: "segments",
        schema: schema!("segments"),
        primary_key: &["id"],
        cursor: Some("updated_at"),
        permission: permission::USERS_AND_COMPANIES,
        read: Read::Root(Source::Pages(&[Endpoint {
            query: &[("include_count", "true")],
            ..get("/segments", &["segments"])
        }])),
    },
    StreamDef {
        name: "company_attributes",
        schema: schema!("company_attributes"),
        primary_key: ATTRIBUTE_KEY,
        cursor: None,
        permission: permission::USERS_AND_COMPANIES,
        read: Read::Root(Source::Pages(std::slice::from_ref(
            &DATA_ATTRIBUTES_BY_MODEL[1],
        ))),
    },
    StreamDef {
        name: "contact_attributes",
        schema: schema!("contact_attributes"),
        primary_key: ATTRIBUTE_KEY,
        cursor: None,
        permission: permission::USERS_AND_COMPANIES,
        read: Read::Root(Source::Pages(std::slice::from_ref(
            &DATA_ATTRIBUTES_BY_MODEL[0],
        ))),
    },
    StreamDef {
        name: "conversation_attributes",
        schema: schema!("conversation_attributes"),
        primary_key: ATTRIBUTE_KEY,
        cursor: None,
        permission: permission::CONVERSATIONS,
        read: Read::Root(Source::Pages(std::slice::from_ref(
            &DATA_ATTRIBUTES_BY_MODEL[2],
        ))),
    },
    StreamDef {
        name: "data_attributes",
        schema: schema!("data_attributes"),
        // Full names are unique within a model, not across models.
        primary_key: &["model", "full_name"],
        cursor: None,
        permission: permission::USERS_AND_COMPANIES,
        read: Read::Root(Source::Pages(DATA_ATTRIBUTES_BY_MODEL)),
    },
    StreamDef {
        name: "subscription_types",
        schema: schema!("subscription_types"),
        primary_key: &["id"],
        cursor: None,
        permission: permission::USERS_AND_COMPANIES,
        read: Read::Root(Source::Pages(&[get("/subscription_types", &["data"])])),
    },
    StreamDef {
        name: "help_centers",
        schema: schema!("help_centers"),
        primary_key: &["id"],
        cursor: None,
        permission: permission::ARTICLES,
        read: Read::Root(Source::Pages(&[Endpoint {
            paging: PAGE_150,
            ..get("/help_center/help_centers", &["data"])
        }])),
    },
    StreamDef {
        name: "help_center_collections",
        schema: schema!("help_center_collections"),
        primary_key: &["id"],
        cursor: Some("updated_at"),
        permission: permission::ARTICLES,
        read: Read::Root(Source::Pages(&[Endpoint {
            paging: PAGE_150,
            ..get("/help_center/collections", &["data"])
        }])),
    },
    StreamDef {
        name: "articles",
        schema: schema!("articles"),
        primary_key: &["id"],
        cursor: Some("updated_at"),
        permission: permission::ARTICLES,
        read: Read::Root(Source::Pages(&[Endpoint {
            paging: PAGE_150,
            ..get("/articles", &["data"])
        }])),
    },
    StreamDef {
        name: "contacts",
        schema: schema!("contacts"),
        primary_key: &["id"],
        cursor: Some("updated_at"),
        permission: permission::USERS_AND_COMPANIES,
        read: Read::Root(Source::Search(CONTACT_SEARCH)),
    },
    StreamDef {
        name: "leads",
        schema: schema!("leads"),
        primary_key: &["id"],
        cursor: Some("updated_at"),
        permission: permission::USERS_AND_COMPANIES,
        read: Read::Derived(Derived::Subset {
            parent: "contacts",
            field: "role",
            value: "lead",
        }),
    },
    StreamDef {
        name: "users",
        schema: schema!("users"),
        primary_key: &["id"],
        cursor: Some("updated_at"),
        permission: permission::USERS_AND_COMPANIES,
        read: Read::Derived(Derived::Subset {
            parent: "contacts",
            field: "role",
            value: "user",
        }),
    },
    StreamDef {
        name: "companies",
        schema: schema!("companies"),
        primary_key: &["id"],
        cursor: Some("updated_at"),
        permission: permission::USERS_AND_COMPANIES,
        read: Read::Root(Source::Scroll),
    },
    StreamDef {
        name: "company_segments",
        schema: schema!("company_segments"),
        // One row per (company, segment): the official connector keyed by segment id alone,
        // which collapses every company's membership of a segment into one row.
        primary_key: &["company_id", "id"],
        // The position is the parent company's updated_at, which every row carries.
        cursor: Some("company_updated_at"),
        permission: permission::USERS_AND_COMPANIES,
        read: Read::Derived(Derived::Children(Child {
            parent: "companies",
            path: ("/companies", "/segments"),
            rows: &["data"],
            row_key: &["id"],
            from_parent: &[("company_id", "id"), ("company_updated_at", "updated_at")],
            from_answer: &[],
            counts_parts: false,
            what: "companies",
        })),
    },
    StreamDef {
        name: "conversations",
        schema: schema!("conversations"),
        primary_key: &["id"],
        cursor: Some("updated_at"),
        permission: permission::CONVERSATIONS,
        read: Read::Root(Source::Search(CONVERSATION_SEARCH)),
    },
    StreamDef {
        name: "conversation_parts",
        schema: schema!("conversation_parts"),
        primary_key: &["id"],
        // The position is the parent conversation's updated_at, which every part carries:
        // a changed conversation's parts are all read again.
        cursor: Some("conversation_updated_at"),
        permission: permission::CONVERSATIONS,
        read: Read::Derived(Derived::Children(Child {
            parent: "conversations",
            path: ("/conversations", ""),
            rows: &["conversation_parts", "conversation_parts"],
            row_key: &["id"],
            from_parent: &[],
            from_answer: &[
                ("conversation_id", "id"),
                ("conversation_created_at", "created_at"),
                ("conversation_updated_at", "updated_at"),
            ],
            counts_parts: true,
            what: "conversations",
        })),
    },
    StreamDef {
        name: "tickets",
        schema: schema!("tickets"),
        primary_key: &["id"],
        cursor: Some("updated_at"),
        permission: permission::TICKETS,
        read: Read::Root(Source::Search(Search {
            path: "/tickets/search",
            records: &["tickets"],
            ..CONVERSATION_SEARCH
        })),
    },
    StreamDef {
        name: "activity_logs",
        schema: schema!("activity_logs"),
        primary_key: &["id"],
        cursor: Some("created_at"),
        permission: permission::ACTIVITY_LOGS,
        read: Read::Root(Source::Windows(Windowed {
            path: "/admins/activity_logs",
            records: &["activity_logs"],
            after_param: "created_at_after",
            before_param: "created_at_before",
            per_page: 150,
        })),
    },
    StreamDef {
        name: "deleted_conversations",
        schema: schema!("deleted_conversations"),
        primary_key: &["id"],
        cursor: Some("deleted_at"),
        permission: permission::CONVERSATIONS,
        // New in API 2.16; at most 60 per page.
        read: Read::Root(Source::Pages(&[Endpoint {
            query: &[("order", "asc")],
            version: "2.16",
            paging: Paging::PageNumber { per_page: 60 },
            ..get("/conversations/deleted", &["conversations"])
        }])),
    },
    StreamDef {
        name: "counts",
        schema: schema!("counts"),
        primary_key: &["name"],
        cursor: None,
        permission: permission::COUNTS,
        read: Read::Root(Source::Pages(&[counts(&[], counts::app_totals)])),
    },
    StreamDef {
        name: "conversation_counts",
        schema: schema!("conversation_counts"),
        primary_key: &["name"],
        cursor: None,
        permission: permission::COUNTS,
        read: Read::Root(Source::Pages(&[counts(
            &[("type", "conversation")],
            counts::conversation_totals,
        )])),
    },
    StreamDef {
        name: "admin_conversation_counts",
        schema: schema!("admin_conversation_counts"),
        primary_key: &["id"],
        cursor: None,
        permission: permission::COUNTS,
        read: Read::Root(Source::Pages(&[counts(
            &[("type", "conversation"), ("count", "admin")],
            counts::admin_conversations,
        )])),
    },
    StreamDef {
        name: "user_segment_tag_counts",
        schema: schema!("user_segment_tag_counts"),
        primary_key: &["count_type", "name"],
        cursor: None,
        permission: permission::COUNTS,
        read: Read::Root(Source::Pages(&[
            counts(
                &[("type", "user"), ("count", "segment")],
                counts::user_segments_tags,
            ),
            counts(
                &[("type", "user"), ("count", "tag")],
                counts::user_segments_tags,
            ),
        ])),
    },
    StreamDef {
        name: "company_user_segment_tag_counts",
        schema: schema!("company_user_segment_tag_counts"),
        primary_key: &["count_type", "key"],
        cursor: None,
        permission: permission::COUNTS,
        read: Read::Root(Source::Pages(&[
            Endpoint {
                paging: PAGE_150,
                ..counts(
                    &[("type", "company"), ("count", "user")],
                    counts::company_users_segments_tags,
                )
            },
            counts(
                &[("type", "company"), ("count", "segment")],
                counts::company_users_segments_tags,
            ),
            counts(
                &[("type", "company"), ("count", "tag")],
                counts::company_users_segments_tags,
            ),
        ])),
    },
];

/// The stream with this name.
pub fn find(name: &str) -> Option<&'static StreamDef> {
    STREAMS.iter().find(|s| s.name == name)
}

/// A root stream, and its source.
#[derive(Debug, Clone, Copy)]
pub struct Root {
    pub def: &'static StreamDef,
    pub source: &'static Source,
}

impl Source {
    /// The request that lists the records, for messages.
    pub fn list_endpoint(&self) -> String {
        match self {
            Source::Pages(eps) => eps
                .first()
                .map_or_else(String::new, |e| format!("GET {}", e.path)),
            Source::Search(s) => format!("POST {}", s.path),
            Source::Scroll => "GET /companies/scroll".to_string(),
            Source::Windows(w) => format!("GET {}", w.path),
        }
    }
}

impl Derived {
    /// The stream this one is read from.
    pub fn parent(&self) -> &'static str {
        match self {
            Derived::Subset { parent, .. } => parent,
            Derived::Children(c) => c.parent,
        }
    }
}

impl StreamDef {
    /// The stream this one is read from, if any.
    pub fn parent(&self) -> Option<&'static str> {
        match &self.read {
            Read::Root(_) => None,
            Read::Derived(d) => Some(d.parent()),
        }
    }

    /// The root this stream is read from, with its source: itself, or its parent. `None`
    /// only for a stream whose parent is missing from the table, or is not a root (the
    /// table's test rules both out).
    pub fn root(&'static self) -> Option<Root> {
        match &self.read {
            Read::Root(source) => Some(Root { def: self, source }),
            Read::Derived(d) => {
                let parent = find(d.parent())?;
                match &parent.read {
                    Read::Root(source) => Some(Root {
                        def: parent,
                        source,
                    }),
                    Read::Derived(_) => None,
                }
            }
        }
    }

    /// The child declaration, if this is a child stream.
    pub fn child(&self) -> Option<&Child> {
        match &self.read {
            Read::Derived(Derived::Children(c)) => Some(c),
            _ => None,
        }
    }

    /// The parent whose cursor a child stream's state nests (official shape).
    pub fn state_parent(&self) -> Option<&'static str> {
        self.child().map(|c| c.parent)
    }

    /// The key a saved state holds the position under: the cursor field, except for child
    /// streams, which save their parent's `updated_at` as the official connector does.
    pub fn state_key(&self) -> Option<&'static str> {
        match self.state_parent() {
            Some(_) => Some("updated_at"),
            None => self.cursor,
        }
    }

    /// Whether Intercom filters by the cursor (so `start_date` bounds even a full refresh).
    pub fn server_filtered(&self) -> bool {
        match &self.read {
            Read::Root(Source::Search(_) | Source::Windows(_)) => true,
            Read::Derived(d) => find(d.parent()).is_some_and(|p| p.server_filtered()),
            Read::Root(Source::Pages(_) | Source::Scroll) => false,
        }
    }

    /// Whether a full refresh of this stream can continue where a failed attempt left
    /// off: searches and activity-log windows (by their watermark), a single
    /// page-numbered list (by its pages), and streams read from one of those. The
    /// companies scroll can't be resumed, and unpaged lists have nothing to resume.
    pub fn resumable_full_refresh(&self) -> bool {
        match &self.read {
            Read::Root(Source::Search(_) | Source::Windows(_)) => true,
            Read::Root(Source::Pages(eps)) => matches!(
                eps,
                [Endpoint {
                    paging: Paging::PageNumber { .. },
                    extract: Extract::List(_),
                    ..
                }]
            ),
            Read::Root(Source::Scroll) => false,
            Read::Derived(d) => find(d.parent()).is_some_and(|p| p.resumable_full_refresh()),
        }
    }

    /// The fields written whatever columns the catalog selects: the primary key, the
    /// cursor, and for a child stream what identifies its rows (the row's own key and
    /// the parent's id it carries, [`Child::from_parent`] / [`Child::from_answer`]).
    pub fn always_selected(&self) -> Vec<&'static str> {
        let mut fields: Vec<&'static str> = self.primary_key.to_vec();
        fields.extend(self.cursor);
        if let Some(c) = self.child() {
            fields.extend(c.row_key);
            fields.extend(
                c.from_parent
                    .iter()
                    .chain(c.from_answer)
                    .filter(|(_, from)| *from == "id")
                    .map(|(row, _)| *row),
            );
        }
        fields.sort_unstable();
        fields.dedup();
        fields
    }

    pub fn supports(&self, mode: SyncMode) -> bool {
        match mode {
            SyncMode::FullRefresh => true,
            SyncMode::Incremental => self.cursor.is_some(),
        }
    }

    /// The parsed JSON schema.
    pub fn json_schema(&self) -> Result<Value, String> {
        serde_json::from_str(self.schema)
            .map_err(|e| format!("schema of {} is not JSON: {e}", self.name))
    }

    /// This stream's entry in the discovered catalog.
    pub fn catalog_entry(&self) -> Result<AirbyteStream, String> {
        let mut modes = vec![SyncMode::FullRefresh];
        if self.cursor.is_some() {
            modes.push(SyncMode::Incremental);
        }
        Ok(AirbyteStream {
            name: self.name.to_string(),
            json_schema: self.json_schema()?,
            supported_sync_modes: modes,
            source_defined_cursor: self.cursor.map(|_| true),
            default_cursor_field: self.cursor.map(|c| vec![c.to_string()]),
            source_defined_primary_key: (!self.primary_key.is_empty()).then(|| {
                self.primary_key
                    .iter()
                    .map(|k| vec![k.to_string()])
                    .collect()
            }),
            is_resumable: self.resumable_full_refresh(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn root(s: &'static StreamDef) -> Root {
        s.root()
            .unwrap_or_else(|| panic!("{}: no root source", s.name))
    }

    const FORBIDDEN: &[&str] = &[
        "$ref",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "patternProperties",
    ];

    fn walk(v: &Value, path: &str, problems: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, inner) in m {
                    // `properties` maps field names, which may be anything.
                    if FORBIDDEN.contains(&k.as_str()) && !path.ends_with("/properties") {
                        problems.push(format!("{path}/{k} uses a forbidden keyword"));
                    }
                    if k == "additionalProperties" && inner == &Value::Bool(false) {
                        problems.push(format!("{path}: additionalProperties false"));
                    }
                    walk(inner, &format!("{path}/{k}"), problems);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, path, problems)),
            _ => {}
        }
    }

    #[test]
    fn the_table_is_consistent() {
        let mut names = HashSet::new();
        for s in STREAMS {
            assert!(names.insert(s.name), "duplicate stream {}", s.name);
            let schema = s.json_schema().unwrap();
            assert_eq!(schema["type"], "object", "{}", s.name);
            let props = schema["properties"].as_object().unwrap();
            for k in s.primary_key {
                assert!(
                    props.contains_key(*k),
                    "{}: primary key {k} not in schema",
                    s.name
                );
            }
            if let Some(c) = s.cursor {
                assert!(
                    props.contains_key(c),
                    "{}: cursor {c} not in schema",
                    s.name
                );
            }
            let mut problems = vec![];
            walk(&schema, s.name, &mut problems);
            assert!(problems.is_empty(), "{problems:?}");
            if let Read::Root(Source::Pages(eps)) = &s.read {
                assert!(!eps.is_empty(), "{} reads nothing", s.name);
            }
            if s.state_parent().is_some() || s.server_filtered() {
                assert!(s.cursor.is_some(), "{} needs a cursor", s.name);
            }
            // Every declared parent exists, is not itself derived, and shares the cursor
            // semantics its children rely on.
            if let Some(p) = s.parent() {
                let parent = find(p).unwrap_or_else(|| panic!("{}: no parent stream {p}", s.name));
                assert!(
                    parent.parent().is_none(),
                    "{}: parent {p} is itself derived",
                    s.name
                );
                assert_eq!(
                    parent.cursor,
                    Some("updated_at"),
                    "{}: parent {p} cursor",
                    s.name
                );
                assert!(std::ptr::eq(root(s).def, parent), "{}", s.name);
            } else {
                assert!(std::ptr::eq(root(s).def, s), "{}", s.name);
            }
            if let Some(c) = s.child() {
                let from: Vec<&str> = c
                    .from_parent
                    .iter()
                    .chain(c.from_answer.iter())
                    .map(|(row, _)| *row)
                    .collect();
                for f in &from {
                    assert!(
                        props.contains_key(*f),
                        "{}: added field {f} not in schema",
                        s.name
                    );
                }
                assert!(
                    s.cursor.is_some_and(|c| from.contains(&c)),
                    "{}: the cursor must be a field copied from the parent",
                    s.name
                );
            }
            for f in s.always_selected() {
                assert!(
                    props.contains_key(f),
                    "{}: always-selected field {f} not in schema",
                    s.name
                );
            }
            let entry = s.catalog_entry().unwrap();
            assert_eq!(
                serde_json::to_value(&entry).unwrap()["json_schema"],
                schema,
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn the_readme_permission_table_is_the_code_s() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("### Permissions")
            .nth(1)
            .expect("README has a Permissions section");
        let mut documented: Vec<(String, String)> = Vec::new();
        for line in section.lines().take_while(|l| !l.starts_with("## ")) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            if cells.len() != 2 || !permission::ALL.contains(&cells[0]) {
                continue;
            }
            for s in cells[1].split(',') {
                documented.push((s.trim().trim_matches('`').to_string(), cells[0].to_string()));
            }
        }
        documented.sort();
        let mut code: Vec<(String, String)> = STREAMS
            .iter()
            .map(|s| (s.name.to_string(), s.permission.to_string()))
            .collect();
        code.sort();
        assert_eq!(documented, code);
        for p in permission::ALL {
            assert!(
                STREAMS.iter().any(|s| s.permission == *p),
                "{p} is needed by no stream"
            );
        }
        for s in STREAMS {
            assert!(permission::ALL.contains(&s.permission), "{}", s.name);
            // A child stream needs what its parent needs.
            if let Some(parent) = s.parent().and_then(find) {
                assert_eq!(s.permission, parent.permission, "{}", s.name);
            }
        }
    }

    /// Where the permission table of `docs/intercom.md` (under "Prerequisites": `| Stream |
    /// Permission |`) differs from the streams' declared permissions.
    fn page_permission_errors(md: &str, declared: &[(&str, &str)]) -> Vec<String> {
        let section = md
            .split("\n## Prerequisites")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap_or_default();
        let mut rows = section
            .lines()
            .skip_while(|l| {
                let cells: Vec<String> = cells(l).iter().map(|c| c.to_lowercase()).collect();
                cells != ["stream", "permission"]
            })
            .skip(2)
            .take_while(|l| l.trim_start().starts_with('|'))
            .peekable();
        if rows.peek().is_none() {
            return vec!["no table | Stream | Permission | under `Prerequisites`".into()];
        }
        let mut errors = vec![];
        let mut documented: std::collections::BTreeMap<String, String> = Default::default();
        for row in rows {
            let row = cells(row);
            let [stream, permission] = row.as_slice() else {
                errors.push(format!("permission table: {row:?} is not two cells"));
                continue;
            };
            if documented
                .insert(stream.replace('`', ""), permission.clone())
                .is_some()
            {
                errors.push(format!("permission table: {stream} twice"));
            }
        }
        for (stream, permission) in declared {
            match documented.remove(*stream) {
                None => errors.push(format!("permission table: `{stream}` is missing")),
                Some(p) if p != *permission => errors.push(format!(
                    "permission table: `{stream}` needs \"{permission}\", the page says \"{p}\""
                )),
                Some(_) => {}
            }
        }
        for stream in documented.keys() {
            errors.push(format!(
                "permission table: `{stream}` is not a declared stream"
            ));
        }
        errors
    }

    /// A markdown table row's cells, trimmed.
    fn cells(line: &str) -> Vec<String> {
        let inner = line.trim();
        let inner = inner.strip_prefix('|').unwrap_or(inner);
        let inner = inner.strip_suffix('|').unwrap_or(inner);
        inner.split('|').map(|c| c.trim().to_string()).collect()
    }

    /// The permission table of the connector's page is the stream declarations'
    /// `permission`, one row per stream, and the report streams' row.
    #[test]
    fn the_page_permission_table_is_the_stream_declarations() {
        const REPORTS_ROW: &str = "report_<dataset>";
        let md = include_str!("../../docs/intercom.md");
        let mut declared: Vec<(&str, &str)> =
            STREAMS.iter().map(|s| (s.name, s.permission)).collect();
        let reports = crate::read::reports::PERMISSIONS.join(" and ");
        let errors = page_permission_errors(md, &[(REPORTS_ROW, reports.as_str())]);
        assert_eq!(
            errors.len(),
            declared.len(),
            "only the reports row is right: {errors:#?}"
        );
        declared.push((REPORTS_ROW, reports.as_str()));
        let errors = page_permission_errors(md, &declared);
        assert!(errors.is_empty(), "docs/intercom.md: {errors:#?}");
        for (_, p) in &declared[..declared.len() - 1] {
            assert!(permission::ALL.contains(p), "{p}");
        }

        // The check fails when the code says something else.
        let mut changed = declared.clone();
        changed[0].1 = permission::TICKETS;
        changed.remove(changed.len() - 2);
        changed.push(("notes", permission::USERS_AND_COMPANIES));
        let errors = page_permission_errors(md, &changed);
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(errors[0].contains(&format!("`{}` needs \"Read tickets\"", declared[0].0)));
        assert_eq!(page_permission_errors("# no table\n", &declared).len(), 1);
    }

    #[test]
    fn official_stream_names_exist() {
        // The full-refresh streams Airbyte's official connector has, under the same names.
        for n in [
            "admins",
            "tags",
            "teams",
            "segments",
            "company_attributes",
            "contact_attributes",
        ] {
            assert!(find(n).is_some(), "{n}");
        }
        assert_eq!(find("tags").unwrap().primary_key, &["name"]);
        assert_eq!(find("teams").unwrap().primary_key, &["name"]);
        assert!(find("nope").is_none());
    }
}
