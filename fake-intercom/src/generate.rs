//! Deterministic generation of a whole fake Intercom workspace from a seed.
//!
//! Owns the [`Workspace`] type (the data every endpoint serves) and builds every
//! object in Intercom API version 2.11 shapes. Nothing here reads the wall
//! clock: all timestamps are drawn from [`GENERATION_START`]..[`GENERATION_END`],
//! so one seed always gives byte-identical objects.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value};

use crate::rng::Rng;
use crate::words::*;
use crate::FakeConfig;

/// 2023-01-01T00:00:00Z: the earliest timestamp of generated data.
pub const GENERATION_START: i64 = 1_672_531_200;
/// 2026-06-01T00:00:00Z: the "present" of the generated workspace; no generated
/// `created_at`/`updated_at` is later than this.
pub const GENERATION_END: i64 = 1_780_272_000;

pub(crate) const DAY: i64 = 86_400;
pub(crate) const HOUR: i64 = 3_600;

/// A whole Intercom workspace: every object the fake server can return.
///
/// All objects are stored as the JSON the API returns (Intercom 2.11 shapes), so
/// tests can read or modify them freely through [`crate::FakeIntercom::with_workspace`].
#[derive(Clone, Debug)]
pub struct Workspace {
    /// `{"type":"app","id_code":..,"name":..,"region":"US","timezone":..,"created_at":..}`
    pub app: Value,
    /// Fixed UTC offset of the workspace time zone, in seconds.
    pub timezone_offset_secs: i64,
    pub admins: Vec<Value>,
    pub teams: Vec<Value>,
    pub tags: Vec<Value>,
    /// Person segments (no `count` stored; it is computed for `include_count=true`).
    pub segments: Vec<Value>,
    /// Company segments (only visible via companies and `/counts`).
    pub company_segments: Vec<Value>,
    pub company_attributes: Vec<Value>,
    pub contact_attributes: Vec<Value>,
    pub conversation_attributes: Vec<Value>,
    pub subscription_types: Vec<Value>,
    pub help_centers: Vec<Value>,
    pub collections: Vec<Value>,
    pub articles: Vec<Value>,
    /// Full contact objects (users and leads), sorted by `created_at`.
    pub contacts: Vec<Value>,
    /// `(contact id, person segment id)` memberships.
    pub contact_segments: Vec<(String, String)>,
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
    /// Seed of ids made by `add_*` methods.
    pub(crate) id_seed: u64,
    /// How many objects the `add_*` methods made so far.
    pub(crate) serial: u64,
    /// The next conversation part id for `add_conversation_part`.
    pub(crate) next_part_id: i64,
}

/// What later generation steps need to know about an admin.
#[derive(Clone)]
pub(crate) struct AdminRef {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) email: String,
}

/// What later generation steps need to know about a contact.
#[derive(Clone)]
pub(crate) struct ContactRef {
    pub(crate) id: String,
    pub(crate) external_id: Option<String>,
    pub(crate) role: &'static str,
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) created_at: i64,
}

/// Base name number `i` of a list, made unique by a numeric suffix once the list
/// is exhausted; `start` rotates the list so different seeds differ.
fn unique_from_list(list: &[&str], start: usize, i: usize) -> String {
    if list.is_empty() {
        return format!("Item {}", i + 1);
    }
    let base = list[(start + i) % list.len()];
    let round = i / list.len();
    if round == 0 {
        base.to_string()
    } else {
        format!("{} {}", base, round + 1)
    }
}

fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dash = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Lowercase ASCII letters only (for e-mail local parts and domains).
fn letters(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn between(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    rng.range(lo, hi.max(lo))
}

fn maybe_between(rng: &mut Rng, p: f64, lo: i64, hi: i64) -> Value {
    if rng.chance(p) {
        json!(between(rng, lo, hi))
    } else {
        Value::Null
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A few sentences as HTML paragraphs (a few hundred characters).
fn html_paragraphs(rng: &mut Rng, lines: &[&'static str], paragraphs: usize) -> String {
    let mut out = String::new();
    let mut previous = usize::MAX;
    for _ in 0..paragraphs {
        out.push_str("<p>");
        let n = 1 + rng.index(3);
        for k in 0..n {
            if k > 0 {
                out.push(' ');
            }
            // Never the same sentence twice in a row.
            let mut i = rng.index(lines.len());
            if i == previous && lines.len() > 1 {
                i = (i + 1 + rng.index(lines.len() - 1)) % lines.len();
            }
            previous = i;
            out.push_str(lines.get(i).copied().unwrap_or_default());
        }
        out.push_str("</p>");
    }
    out
}

pub(crate) fn addressable_list(
    kind: &str,
    url_prefix: &str,
    ids: &[String],
    list_url: String,
) -> Value {
    let shown: Vec<Value> = ids
        .iter()
        .take(10)
        .map(|id| json!({"type": kind, "id": id, "url": format!("{url_prefix}/{id}")}))
        .collect();
    json!({
        "type": "list",
        "data": shown,
        "url": list_url,
        "total_count": ids.len(),
        "has_more": ids.len() > 10,
    })
}

/// Spec of a data attribute: (name, full_name, label, description, data_type, options, archived).
type AttrSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    bool,
);

#[rustfmt::skip]
const CONTACT_STANDARD: &[AttrSpec] = &[
    ("name", "name", "Name", "A person's full name", "string", &[], false),
    ("email", "email", "Email", "A person's email address", "string", &[], false),
    ("phone", "phone", "Phone", "A person's phone number", "string", &[], false),
    ("external_id", "external_id", "User ID", "A number identifying a user", "string", &[], false),
    ("role", "role", "Role", "The role of the contact: user or lead", "string", &[], false),
    ("created_at", "created_at", "Signed up", "The time the contact was added to Intercom", "date", &[], false),
    ("signed_up_at", "signed_up_at", "Signed up at", "The time the user signed up", "date", &[], false),
    ("last_seen_at", "last_seen_at", "Last seen", "The last time the contact was seen", "date", &[], false),
    ("owner_id", "owner_id", "Owner", "The teammate who owns the contact", "integer", &[], false),
    ("unsubscribed_from_emails", "unsubscribed_from_emails", "Unsubscribed from emails", "Whether the contact is unsubscribed from emails", "boolean", &[], false),
    ("city", "location.city", "City", "The city the contact is in", "string", &[], false),
    ("country", "location.country", "Country", "The country the contact is in", "string", &[], false),
    ("browser", "browser", "Browser", "The browser the contact last used", "string", &[], false),
    ("os", "os", "OS", "The operating system the contact last used", "string", &[], false),
];

#[rustfmt::skip]
const CONTACT_CUSTOM: &[AttrSpec] = &[
    ("plan_tier", "custom_attributes.plan_tier", "Plan tier", "The plan tier the person is on", "string", &["free", "starter", "pro", "enterprise"], false),
    ("seats", "custom_attributes.seats", "Seats", "Number of seats in use", "integer", &[], false),
    ("lifetime_value", "custom_attributes.lifetime_value", "Lifetime value", "Revenue from this person so far", "float", &[], false),
    ("newsletter_opt_in", "custom_attributes.newsletter_opt_in", "Newsletter opt-in", "Signed up for the newsletter", "boolean", &[], false),
    ("trial_ends_at", "custom_attributes.trial_ends_at", "Trial ends at", "When the trial ends", "date", &[], false),
    ("lead_source", "custom_attributes.lead_source", "Lead source", "Where the person came from", "string", CONTACT_SOURCES, false),
    ("legacy_score", "custom_attributes.legacy_score", "Legacy score", "Score from the old scoring system", "integer", &[], true),
];

#[rustfmt::skip]
const COMPANY_STANDARD: &[AttrSpec] = &[
    ("name", "name", "Company name", "The name of a company", "string", &[], false),
    ("company_id", "company_id", "Company ID", "A number identifying a company", "string", &[], false),
    ("last_request_at", "last_request_at", "Company last seen", "The last day anyone from a company visited your site or app", "date", &[], false),
    ("remote_created_at", "remote_created_at", "Company created at", "The day a company was added to Intercom", "date", &[], false),
    ("user_count", "user_count", "People", "The number of people in a company", "integer", &[], false),
    ("session_count", "session_count", "Company web sessions", "All visits from anyone in a company to your product's site or app", "integer", &[], false),
    ("name", "plan.name", "Plan", "A specific plan or level within your product that companies have signed up to", "string", &[], false),
    ("monthly_spend", "monthly_spend", "Monthly Spend", "The monthly revenue you receive from a company", "float", &[], false),
    ("size", "size", "Company size", "The number of people employed in this company, expressed as a single number", "integer", &[], false),
    ("industry", "industry", "Company industry", "The category or domain this company belongs to e.g. 'ecommerce' or 'SaaS'", "string", &[], false),
    ("website", "website", "Company website", "The web address for the company's primary marketing site", "string", &[], false),
    ("id", "id", "ID", "The Intercom defined id representing the company", "string", &[], false),
    ("created_at", "created_at", "Created at", "The time the company was added to Intercom", "date", &[], false),
    ("updated_at", "updated_at", "Updated at", "The last time the company was updated", "date", &[], false),
    ("id", "plan.id", "Plan ID", "The Intercom defined id of the plan", "string", &[], false),
    ("app_id", "app_id", "App ID", "The Intercom defined id of the workspace", "string", &[], false),
];

#[rustfmt::skip]
const COMPANY_CUSTOM: &[AttrSpec] = &[
    ("account_tier", "custom_attributes.account_tier", "Account tier", "Commercial tier of the account", "string", ACCOUNT_TIERS, false),
    ("renewal_date", "custom_attributes.renewal_date", "Renewal date", "When the contract renews", "date", &[], false),
    ("health_score", "custom_attributes.health_score", "Health score", "Account health from 0 to 100", "float", &[], false),
    ("is_strategic", "custom_attributes.is_strategic", "Strategic", "Whether this is a strategic account", "boolean", &[], false),
    ("crm_account_id", "custom_attributes.crm_account_id", "CRM account ID", "The id of the account in the CRM", "string", &[], false),
    ("old_crm_id", "custom_attributes.old_crm_id", "Old CRM ID", "The id in the previous CRM", "string", &[], true),
];

#[rustfmt::skip]
const CONVERSATION_STANDARD: &[AttrSpec] = &[
    ("title", "title", "Title", "The title of the conversation", "string", &[], false),
    ("state", "state", "State", "Open, closed or snoozed", "string", &[], false),
    ("priority", "priority", "Priority", "Whether the conversation is prioritised", "string", &[], false),
    ("created_at", "created_at", "Created at", "The time the conversation was created", "date", &[], false),
    ("updated_at", "updated_at", "Updated at", "The last time the conversation was updated", "date", &[], false),
];

#[rustfmt::skip]
const CONVERSATION_CUSTOM: &[AttrSpec] = &[
    ("Issue type", "custom_attributes.Issue type", "Issue type", "What the conversation is about", "string", ISSUE_TYPES, false),
    ("Order number", "custom_attributes.Order number", "Order number", "The customer's order reference", "string", &[], false),
    ("Escalated", "custom_attributes.Escalated", "Escalated", "Escalated to engineering", "boolean", &[], false),
    ("Refund amount", "custom_attributes.Refund amount", "Refund amount", "Amount refunded in USD", "float", &[], false),
    ("Follow-up date", "custom_attributes.Follow-up date", "Follow-up date", "When to follow up", "date", &[], false),
    ("Legacy category", "custom_attributes.Legacy category", "Legacy category", "Category from the old inbox", "string", &[], true),
];

/// A random value of a custom attribute's data type.
fn custom_value(rng: &mut Rng, spec: &AttrSpec, base_ts: i64) -> Value {
    let (name, data_type, options) = (spec.0, spec.4, spec.5);
    match data_type {
        "integer" => json!(rng.range(1, 250)),
        "float" if name.contains("score") => json!(round2(rng.unit() * 100.0)),
        "float" => json!(round2(rng.unit() * 5000.0)),
        "boolean" => json!(rng.chance(0.5)),
        "date" => json!(between(rng, base_ts, base_ts + 365 * DAY)),
        _ => {
            if options.is_empty() {
                json!(format!(
                    "{}-{}",
                    rng.alnum(3).to_uppercase(),
                    rng.range(10_000, 99_999)
                ))
            } else {
                json!(rng.word(options))
            }
        }
    }
}

/// Custom attribute values for an object, keyed by attribute name.
/// Archived attributes are skipped; each other one is set with probability `p`
/// (unset ones are present as `null` when `keep_nulls`).
fn custom_attributes(
    rng: &mut Rng,
    specs: &[AttrSpec],
    p: f64,
    keep_nulls: bool,
    base_ts: i64,
) -> Value {
    let mut m = Map::new();
    for spec in specs {
        if spec.6 {
            continue;
        }
        if rng.chance(p) {
            m.insert(spec.0.to_string(), custom_value(rng, spec, base_ts));
        } else if keep_nulls {
            m.insert(spec.0.to_string(), Value::Null);
        }
    }
    Value::Object(m)
}

struct Gen<'a> {
    cfg: &'a FakeConfig,
    app_code: String,
    domain: String,
    /// Fixed number of contact generator threads (tests); `None` = automatic.
    threads: Option<usize>,
}

impl Workspace {
    /// Generate the whole workspace for `config` (deterministic in `config.seed`
    /// and the sizes; independent of the clock).
    pub fn generate(config: &FakeConfig) -> Workspace {
        Workspace::generate_with_threads(config, None)
    }

    fn generate_with_threads(config: &FakeConfig, threads: Option<usize>) -> Workspace {
        let seed = config.seed;
        let mut rng = Rng::derive(seed, "app");
        let app_code = rng.alnum(8);
        let app_name = format!("{} {}", rng.word(COMPANY_PREFIXES), rng.word(COMPANY_CORES));
        let domain = format!("{}.com", letters(&app_name));
        let app = json!({
            "type": "app",
            "id_code": app_code,
            "name": app_name,
            "region": "US",
            "timezone": "America/New_York",
            "created_at": GENERATION_START,
            "secure": true,
            "identity_verification": false,
        });
        let g = Gen {
            cfg: config,
            app_code,
            domain,
            threads,
        };

        let mut admin_refs = g.admins_base(seed);
        let (teams, admin_teams) = g.teams(seed, &admin_refs);
        let admins = g.admins(seed, &mut admin_refs, &admin_teams);
        let tags = g.tags(seed);
        let (segments, company_segments) = g.segments(seed);
        let first_admin = admin_refs.first().map(|a| a.id);
        let contact_attributes = g.attributes(
            seed,
            "contact",
            CONTACT_STANDARD,
            CONTACT_CUSTOM,
            100,
            first_admin,
        );
        let company_attributes = g.attributes(
            seed,
            "company",
            COMPANY_STANDARD,
            COMPANY_CUSTOM,
            200,
            first_admin,
        );
        let conversation_attributes = g.attributes(
            seed,
            "conversation",
            CONVERSATION_STANDARD,
            CONVERSATION_CUSTOM,
            300,
            first_admin,
        );
        let subscription_types = g.subscription_types(seed);
        let help_centers = g.help_centers(seed);
        let collections = g.collections(seed, &help_centers);
        let articles = g.articles(seed, &collections, &admin_refs);
        let (mut companies, company_domains) = g.companies(seed, &tags, &company_segments);
        let (contacts, contact_refs, contact_segments) = g.contacts(
            seed,
            &mut companies,
            &company_domains,
            &tags,
            &segments,
            &subscription_types,
            &admin_refs,
        );
        let mut conversations =
            g.conversations(seed, &contact_refs, &admin_refs, &teams, &tags, &articles);
        let timezone_offset_secs = -5 * HOUR;
        let mut contacts = contacts;
        crate::generate_more::contacts_near_day_boundaries(
            seed,
            &mut contacts,
            timezone_offset_secs,
        );
        crate::generate_more::add_updated_ties(seed, "contact-ties", &mut contacts);
        crate::generate_more::add_updated_ties(seed, "conversation-ties", &mut conversations);
        let more = crate::generate_more::More {
            seed,
            cfg: config,
            app_code: &g.app_code,
            admins: &admin_refs,
            contacts: &contact_refs,
            teams: &teams,
        };
        let tickets = more.tickets();
        let activity_logs = more.activity_logs();
        let deleted_conversations = more.deleted_conversations(&conversations);
        let next_part_id = crate::generate_more::max_part_id(&conversations) + 1;

        Workspace {
            app,
            timezone_offset_secs,
            admins,
            teams,
            tags,
            segments,
            company_segments,
            company_attributes,
            contact_attributes,
            conversation_attributes,
            subscription_types,
            help_centers,
            collections,
            articles,
            contacts,
            contact_segments,
            companies,
            conversations,
            tickets,
            activity_logs,
            deleted_conversations,
            id_seed: crate::rng::mix64(seed ^ 0xADD_0B1EC7),
            serial: 0,
            next_part_id,
        }
    }

    /// The workspace's notion of "now": [`GENERATION_END`]. Generated
    /// timestamps never exceed it (except `snoozed_until`, which is in the future).
    pub fn now() -> i64 {
        GENERATION_END
    }

    /// The workspace id (`app.id_code`).
    pub fn workspace_id(&self) -> String {
        self.app
            .get("id_code")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// The contact with this id, mutably.
    pub fn contact_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.contacts
            .iter_mut()
            .find(|c| crate::mutate::has_id(c, id))
    }

    /// The conversation with this id, mutably.
    pub fn conversation_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.conversations
            .iter_mut()
            .find(|c| crate::mutate::has_id(c, id))
    }

    /// The company with this (Intercom) id, mutably.
    pub fn company_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.companies
            .iter_mut()
            .find(|c| crate::mutate::has_id(c, id))
    }

    /// Set a contact's `updated_at`; false if there is no such contact.
    pub fn touch_contact(&mut self, id: &str, updated_at: i64) -> bool {
        crate::mutate::touch_in(&mut self.contacts, id, updated_at)
    }

    /// Set a conversation's `updated_at`; false if there is no such conversation.
    pub fn touch_conversation(&mut self, id: &str, updated_at: i64) -> bool {
        crate::mutate::touch_in(&mut self.conversations, id, updated_at)
    }

    /// Set a company's `updated_at`; false if there is no such company.
    pub fn touch_company(&mut self, id: &str, updated_at: i64) -> bool {
        crate::mutate::touch_in(&mut self.companies, id, updated_at)
    }
}

impl Gen<'_> {
    fn admins_base(&self, seed: u64) -> Vec<AdminRef> {
        let mut rng = Rng::derive(seed, "admins");
        let mut id = 4_000_000 + rng.range(0, 999_999);
        let mut seen = HashSet::new();
        (0..self.cfg.admins)
            .map(|i| {
                id += rng.range(1, 40);
                let first = rng.word(FIRST_NAMES);
                let last = rng.word(LAST_NAMES);
                let mut name = format!("{first} {last}");
                if !seen.insert(name.clone()) {
                    name = format!("{first} {last} {}", i + 1);
                    seen.insert(name.clone());
                }
                let email = format!(
                    "{}.{}{}@{}",
                    letters(first),
                    letters(last),
                    if name.ends_with(char::is_numeric) {
                        (i + 1).to_string()
                    } else {
                        String::new()
                    },
                    self.domain
                );
                AdminRef { id, name, email }
            })
            .collect()
    }

    /// Teams, and for each admin the (team id, primary?) memberships.
    fn teams(&self, seed: u64, admins: &[AdminRef]) -> (Vec<Value>, Vec<Vec<(i64, bool)>>) {
        let mut rng = Rng::derive(seed, "teams");
        let mut id = 8_000_000 + rng.range(0, 99_999);
        let start = rng.index(TEAM_NAMES.len());
        let mut admin_teams: Vec<Vec<(i64, bool)>> = vec![Vec::new(); admins.len()];
        let mut teams = Vec::with_capacity(self.cfg.teams);
        for i in 0..self.cfg.teams {
            id += rng.range(1, 25);
            let name = unique_from_list(TEAM_NAMES, start, i);
            let mut members: Vec<usize> = Vec::new();
            for (a, _) in admins.iter().enumerate() {
                if rng.chance(0.45) {
                    members.push(a);
                }
            }
            if members.is_empty() && !admins.is_empty() {
                members.push(rng.index(admins.len()));
            }
            let mut primary = Vec::new();
            let mut secondary = Vec::new();
            for (k, &a) in members.iter().enumerate() {
                let is_primary = k % 2 == 0;
                if is_primary {
                    primary.push(admins[a].id);
                } else {
                    secondary.push(admins[a].id);
                }
                admin_teams[a].push((id, is_primary));
            }
            let admin_ids: Vec<i64> = members.iter().map(|&a| admins[a].id).collect();
            teams.push(json!({
                "type": "team",
                "id": id.to_string(),
                "name": name,
                "admin_ids": admin_ids,
                "admin_priority_level": {
                    "primary_admin_ids": primary,
                    "secondary_admin_ids": secondary,
                },
            }));
        }
        (teams, admin_teams)
    }

    fn admins(
        &self,
        seed: u64,
        admins: &mut [AdminRef],
        admin_teams: &[Vec<(i64, bool)>],
    ) -> Vec<Value> {
        let mut rng = Rng::derive(seed, "admin-details");
        admins
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let teams = admin_teams.get(i).cloned().unwrap_or_default();
                let team_ids: Vec<i64> = teams.iter().map(|t| t.0).collect();
                let primary: Vec<i64> = teams.iter().filter(|t| t.1).map(|t| t.0).collect();
                let secondary: Vec<i64> = teams.iter().filter(|t| !t.1).map(|t| t.0).collect();
                let away = i > 0 && rng.chance(0.12);
                let reassign = away && rng.chance(0.5);
                let image_url = if rng.chance(0.75) {
                    json!(format!(
                        "https://static.intercomassets.com/avatars/{}/square_128/{}.jpg",
                        a.id,
                        slug(&a.name)
                    ))
                } else {
                    Value::Null
                };
                json!({
                    "type": "admin",
                    "id": a.id.to_string(),
                    "name": a.name,
                    "email": a.email,
                    "job_title": rng.word(JOB_TITLES),
                    "away_mode_enabled": away,
                    "away_mode_reassign": reassign,
                    "has_inbox_seat": i == 0 || rng.chance(0.85),
                    "team_ids": team_ids,
                    "avatar": {"type": "avatar", "image_url": image_url},
                    "team_priority_level": {
                        "primary_team_ids": primary,
                        "secondary_team_ids": secondary,
                    },
                })
            })
            .collect()
    }

    fn tags(&self, seed: u64) -> Vec<Value> {
        let mut rng = Rng::derive(seed, "tags");
        let start = rng.index(TAG_NAMES.len());
        let mut id = 9_000_000 + rng.range(0, 99_999);
        (0..self.cfg.tags)
            .map(|i| {
                id += rng.range(1, 30);
                json!({"type": "tag", "id": id.to_string(), "name": unique_from_list(TAG_NAMES, start, i)})
            })
            .collect()
    }

    fn segments(&self, seed: u64) -> (Vec<Value>, Vec<Value>) {
        let mut rng = Rng::derive(seed, "segments");
        let names: Vec<&str> = SEGMENT_NAMES.iter().map(|s| s.0).collect();
        let person: Vec<Value> = (0..self.cfg.segments)
            .map(|i| {
                let created = between(&mut rng, GENERATION_START, GENERATION_START + 200 * DAY);
                let updated = between(&mut rng, created, GENERATION_END);
                let person_type = SEGMENT_NAMES[i % SEGMENT_NAMES.len()].1;
                json!({
                    "type": "segment",
                    "id": rng.object_id(created),
                    "name": unique_from_list(&names, 0, i),
                    "created_at": created,
                    "updated_at": updated,
                    "person_type": person_type,
                })
            })
            .collect();
        let company: Vec<Value> = (0..self.cfg.company_segments)
            .map(|i| {
                let created = between(&mut rng, GENERATION_START, GENERATION_START + 200 * DAY);
                let updated = between(&mut rng, created, GENERATION_END);
                json!({
                    "type": "segment",
                    "id": rng.object_id(created),
                    "name": unique_from_list(COMPANY_SEGMENT_NAMES, 0, i),
                    "created_at": created,
                    "updated_at": updated,
                    "person_type": "user",
                })
            })
            .collect();
        (person, company)
    }

    fn attributes(
        &self,
        seed: u64,
        model: &str,
        standard: &[AttrSpec],
        custom: &[AttrSpec],
        id_base: i64,
        admin_id: Option<i64>,
    ) -> Vec<Value> {
        let mut rng = Rng::derive(seed, &format!("attributes-{model}"));
        let mut out = Vec::with_capacity(standard.len() + custom.len());
        for s in standard {
            let mut v = json!({
                "type": "data_attribute",
                "name": s.0,
                "full_name": s.1,
                "label": s.2,
                "description": s.3,
                "data_type": s.4,
                "api_writable": !matches!(s.0, "id" | "app_id" | "user_count" | "session_count" | "created_at" | "updated_at"),
                "ui_writable": false,
                "messenger_writable": true,
                "custom": false,
                "archived": false,
                "model": model,
            });
            if !s.5.is_empty() {
                v["options"] = json!(s.5);
            }
            out.push(v);
        }
        let mut id = id_base + rng.range(0, 50);
        for s in custom {
            id += rng.range(1, 9);
            let created = between(&mut rng, GENERATION_START, GENERATION_START + 300 * DAY);
            let updated = between(&mut rng, created, GENERATION_END - 30 * DAY);
            let mut v = json!({
                "type": "data_attribute",
                "id": id,
                "name": s.0,
                "full_name": s.1,
                "label": s.2,
                "description": s.3,
                "data_type": s.4,
                "api_writable": true,
                "ui_writable": true,
                "messenger_writable": rng.chance(0.3),
                "custom": true,
                "archived": s.6,
                "admin_id": admin_id.map(|a| a.to_string()),
                "created_at": created,
                "updated_at": updated,
                "model": model,
            });
            if !s.5.is_empty() {
                v["options"] = json!(s.5);
            }
            out.push(v);
        }
        out
    }

    fn subscription_types(&self, seed: u64) -> Vec<Value> {
        let mut rng = Rng::derive(seed, "subscription-types");
        let mut id = 100 + rng.range(0, 900);
        let n = self.cfg.subscription_types;
        (0..n)
            .map(|i| {
                id += rng.range(1, 7);
                let (base, description) = SUBSCRIPTION_NAMES[i % SUBSCRIPTION_NAMES.len()];
                let name = if i < SUBSCRIPTION_NAMES.len() {
                    base.to_string()
                } else {
                    format!("{base} {}", i / SUBSCRIPTION_NAMES.len() + 1)
                };
                let state = if i == 0 {
                    "live"
                } else {
                    let r = rng.unit();
                    if r < 0.8 {
                        "live"
                    } else if r < 0.9 {
                        "draft"
                    } else {
                        "archived"
                    }
                };
                let consent = if i % 3 == 2 { "opt_in" } else { "opt_out" };
                let content = if n > 1 && i == n - 1 {
                    "sms_message"
                } else {
                    "email"
                };
                let translation = json!({"name": name, "description": description, "locale": "en"});
                json!({
                    "type": "subscription",
                    "id": id.to_string(),
                    "state": state,
                    "consent_type": consent,
                    "default_translation": translation.clone(),
                    "translations": [translation],
                    "content_types": [content],
                })
            })
            .collect()
    }

    fn help_centers(&self, seed: u64) -> Vec<Value> {
        let mut rng = Rng::derive(seed, "help-centers");
        let mut id = 100 + rng.range(0, 200);
        (0..self.cfg.help_centers)
            .map(|i| {
                id += rng.range(1, 5);
                let name = unique_from_list(HELP_CENTER_NAMES, 0, i);
                let created = between(&mut rng, GENERATION_START, GENERATION_START + 120 * DAY);
                let updated = between(&mut rng, created, GENERATION_END);
                json!({
                    "id": id.to_string(),
                    "workspace_id": self.app_code,
                    "created_at": created,
                    "updated_at": updated,
                    "identifier": slug(&name),
                    "website_turned_on": i == 0 || rng.chance(0.6),
                    "display_name": name,
                })
            })
            .collect()
    }

    fn collections(&self, seed: u64, help_centers: &[Value]) -> Vec<Value> {
        let mut rng = Rng::derive(seed, "collections");
        let mut id = 1_000 + rng.range(0, 5_000);
        let start = rng.index(COLLECTION_NAMES.len());
        // (collection id, help center index) of top-level collections so far.
        let mut tops: Vec<(i64, Option<usize>)> = Vec::new();
        let mut out = Vec::with_capacity(self.cfg.collections);
        for i in 0..self.cfg.collections {
            id += rng.range(1, 12);
            let name = unique_from_list(COLLECTION_NAMES, start, i);
            let is_section = !tops.is_empty() && rng.chance(0.25);
            let (parent, hc) = if is_section {
                let (pid, hc) = tops[rng.index(tops.len())];
                (Some(pid), hc)
            } else {
                let hc = if help_centers.is_empty() {
                    None
                } else {
                    Some(i % help_centers.len())
                };
                tops.push((id, hc));
                (None, hc)
            };
            let hc_id: Value = hc
                .and_then(|h| help_centers.get(h))
                .and_then(|h| h.get("id"))
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<i64>().ok())
                .map(Value::from)
                .unwrap_or(Value::Null);
            let created = between(&mut rng, GENERATION_START, GENERATION_END - 200 * DAY);
            let updated = between(&mut rng, created, GENERATION_END);
            let description = if rng.chance(0.8) {
                json!(format!("Everything about {}", name.to_lowercase()))
            } else {
                Value::Null
            };
            out.push(json!({
                "id": id.to_string(),
                "workspace_id": self.app_code,
                "name": name,
                "url": format!("https://help.{}/en/collections/{}-{}", self.domain, id, slug(&name)),
                "order": i + 1,
                "created_at": created,
                "updated_at": updated,
                "description": description,
                "icon": rng.word(COLLECTION_ICONS),
                "parent_id": parent.map(|p| p.to_string()),
                "help_center_id": hc_id,
            }));
        }
        out
    }

    fn articles(&self, seed: u64, collections: &[Value], admins: &[AdminRef]) -> Vec<Value> {
        let mut rng = Rng::derive(seed, "articles");
        let mut id = 6_000_000 + rng.range(0, 900_000);
        (0..self.cfg.articles)
            .map(|_| {
                id += rng.range(1, 20);
                let title = format!("{} {}", rng.word(ARTICLE_VERBS), rng.word(TOPICS));
                let description = rng.word(SENTENCES).to_string();
                let paragraphs = 2 + rng.index(3);
                let body = format!(
                    "<h2>{}</h2>{}",
                    title,
                    html_paragraphs(&mut rng, SENTENCES, paragraphs)
                );
                let author_id: Value = rng.pick(admins).map(|a| json!(a.id)).unwrap_or(Value::Null);
                let state = if rng.chance(0.8) {
                    "published"
                } else {
                    "draft"
                };
                let created = between(&mut rng, GENERATION_START, GENERATION_END - 10 * DAY);
                let updated = between(&mut rng, created, GENERATION_END);
                let url: Value = if state == "published" {
                    json!(format!(
                        "https://help.{}/en/articles/{}-{}",
                        self.domain,
                        id,
                        slug(&title)
                    ))
                } else {
                    Value::Null
                };
                let parent: Option<i64> = if rng.chance(0.85) {
                    rng.pick(collections)
                        .and_then(|c| c.get("id"))
                        .and_then(Value::as_str)
                        .and_then(|s| s.parse::<i64>().ok())
                } else {
                    None
                };
                let content = json!({
                    "type": "article_content",
                    "title": title,
                    "description": description,
                    "body": body,
                    "author_id": author_id,
                    "state": state,
                    "created_at": created,
                    "updated_at": updated,
                    "url": url,
                });
                json!({
                    "type": "article",
                    "id": id.to_string(),
                    "workspace_id": self.app_code,
                    "title": title,
                    "description": description,
                    "body": body,
                    "author_id": author_id,
                    "state": state,
                    "created_at": created,
                    "updated_at": updated,
                    "url": url,
                    "parent_id": parent,
                    "parent_ids": parent.map(|p| vec![p]).unwrap_or_default(),
                    "parent_type": parent.map(|_| "collection"),
                    "default_locale": "en",
                    "translated_content": {"type": "article_translated_content", "en": content},
                })
            })
            .collect()
    }

    /// Companies (with `user_count` still 0) and each company's e-mail domain.
    fn companies(
        &self,
        seed: u64,
        tags: &[Value],
        company_segments: &[Value],
    ) -> (Vec<Value>, Vec<String>) {
        let mut rng = Rng::derive(seed, "companies");
        let n = self.cfg.companies;
        let mut names: HashSet<String> = HashSet::with_capacity(n);
        let mut domains = Vec::with_capacity(n);
        let seg_p: Vec<f64> = company_segments
            .iter()
            .map(|_| 0.1 + rng.unit() * 0.4)
            .collect();
        let plan_ids: Vec<i64> = PLANS.iter().map(|_| rng.range(100_000, 999_999)).collect();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let prefix = rng.word(COMPANY_PREFIXES);
            let core = rng.word(COMPANY_CORES);
            let suffix = rng.word(COMPANY_SUFFIXES);
            let mut name = format!("{prefix}{} {suffix}", core.to_lowercase());
            if !names.insert(name.clone()) {
                name = format!("{prefix}{} {suffix} {}", core.to_lowercase(), i + 1);
                names.insert(name.clone());
            }
            let tld = rng.word(TLDS);
            let domain = if name.ends_with(char::is_numeric) {
                format!("{}{}{}.{}", letters(prefix), letters(core), i + 1, tld)
            } else {
                format!("{}{}.{}", letters(prefix), letters(core), tld)
            };
            let created = between(&mut rng, GENERATION_START, GENERATION_END - 30 * DAY);
            let updated = between(&mut rng, created, GENERATION_END);
            let remote_created = between(&mut rng, GENERATION_START, created);
            let last_request = between(&mut rng, created, updated);
            let plan = if rng.chance(0.85) {
                let p = rng.index(PLANS.len());
                json!({"type": "plan", "id": plan_ids[p].to_string(), "name": PLANS[p]})
            } else {
                json!({})
            };
            let company_tags: Vec<Value> = {
                let k = if rng.chance(0.5) { 0 } else { 1 + rng.index(3) };
                rng.sample_indices(tags.len(), k)
                    .into_iter()
                    .map(|t| json!({"type": "tag", "id": tags[t]["id"], "name": tags[t]["name"]}))
                    .collect()
            };
            let segs: Vec<Value> = company_segments
                .iter()
                .zip(seg_p.iter())
                .filter_map(|(s, &p)| if rng.chance(p) { Some(s.clone()) } else { None })
                .collect();
            let size = match rng.index(4) {
                0 => rng.range(1, 10),
                1 => rng.range(11, 50),
                2 => rng.range(51, 500),
                _ => rng.range(501, 20_000),
            };
            let spend = round2(rng.unit() * 20_000.0 + 9.0);
            let custom = custom_attributes(&mut rng, COMPANY_CUSTOM, 0.75, false, created);
            out.push(json!({
                "type": "company",
                "id": rng.object_id(created),
                "name": name,
                "app_id": self.app_code,
                "company_id": (10_000 + i).to_string(),
                "remote_created_at": remote_created,
                "created_at": created,
                "updated_at": updated,
                "last_request_at": last_request,
                "plan": plan,
                "size": size,
                "website": format!("https://www.{domain}"),
                "industry": rng.word(INDUSTRIES),
                "monthly_spend": spend,
                "session_count": rng.range(0, 5_000),
                "user_count": 0,
                "custom_attributes": custom,
                "tags": {"type": "tag.list", "tags": company_tags},
                "segments": {"type": "segment.list", "segments": segs},
            }));
            domains.push(domain);
        }
        (out, domains)
    }

    /// Contacts (sorted by `created_at`), their references, and segment
    /// memberships; also fills in each company's `user_count`.
    ///
    /// Every contact has its own random stream (derived from the seed and its
    /// index), so large workspaces are generated on several threads and the
    /// result does not depend on the thread count.
    #[allow(clippy::too_many_arguments)]
    fn contacts(
        &self,
        seed: u64,
        companies: &mut [Value],
        company_domains: &[String],
        tags: &[Value],
        segments: &[Value],
        subscription_types: &[Value],
        admins: &[AdminRef],
    ) -> (Vec<Value>, Vec<ContactRef>, Vec<(String, String)>) {
        let mut rng = Rng::derive(seed, "contacts");
        let n = self.cfg.contacts;
        let admin_ids: Vec<i64> = admins.iter().map(|a| a.id).collect();
        let inp = ContactInputs {
            seed: rng.next_u64(),
            note_base: 20_000_000 + rng.range(0, 999_999),
            tag_ids: tags.iter().map(|t| json_str(t, "id")).collect(),
            company_ids: companies.iter().map(|c| json_str(c, "id")).collect(),
            company_domains,
            seg_info: segments
                .iter()
                .map(|s| {
                    (
                        json_str(s, "id"),
                        s.get("person_type").and_then(Value::as_str) == Some("user"),
                        0.15 + rng.unit() * 0.5,
                    )
                })
                .collect(),
            subs: subscription_types
                .iter()
                .map(|s| {
                    (
                        json_str(s, "id"),
                        s.get("consent_type").and_then(Value::as_str) == Some("opt_in"),
                    )
                })
                .collect(),
            admin_ids: &admin_ids,
        };

        let threads = if let Some(t) = self.threads {
            t.max(1)
        } else if n < 4_000 {
            1
        } else {
            std::thread::available_parallelism()
                .map(|p| p.get())
                .unwrap_or(1)
                .clamp(1, 8)
        };
        let mut outs: Vec<ContactOut> = Vec::with_capacity(n);
        if threads <= 1 {
            outs.extend((0..n).map(|i| self.contact(&inp, i)));
        } else {
            let chunk = n.div_ceil(threads);
            let parts: Vec<Vec<ContactOut>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let inp = &inp;
                        let lo = (t * chunk).min(n);
                        let hi = ((t + 1) * chunk).min(n);
                        scope.spawn(move || (lo..hi).map(|i| self.contact(inp, i)).collect())
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            });
            for p in parts {
                outs.extend(p);
            }
        }

        // Sequential fix-ups: company user counts, unique e-mails, memberships.
        let mut user_counts = vec![0u64; companies.len()];
        let mut email_seen: HashMap<(String, String), u32> = HashMap::with_capacity(n);
        let mut memberships = Vec::new();
        for out in outs.iter_mut() {
            for &c in &out.companies {
                user_counts[c] += 1;
            }
            if let Some(key) = out.email_parts.take() {
                let count = email_seen.entry(key).or_insert(0);
                *count += 1;
                if *count > 1 {
                    let email = out
                        .reference
                        .email
                        .as_deref()
                        .and_then(|e| e.split_once('@'))
                        .map(|(l, d)| format!("{l}{}@{d}", *count));
                    if let Some(email) = email {
                        out.value["email"] = json!(email);
                        out.reference.email = Some(email);
                    }
                }
            }
            for &s in &out.segments {
                memberships.push((out.reference.id.clone(), inp.seg_info[s].0.clone()));
            }
        }
        for (c, count) in companies.iter_mut().zip(user_counts) {
            c["user_count"] = json!(count);
        }
        // Sort by creation time, like Intercom's default listing order.
        outs.sort_by(|a, b| {
            (a.reference.created_at, &a.reference.id)
                .cmp(&(b.reference.created_at, &b.reference.id))
        });
        let mut contacts = Vec::with_capacity(n);
        let mut refs = Vec::with_capacity(n);
        for out in outs {
            contacts.push(out.value);
            refs.push(out.reference);
        }
        (contacts, refs, memberships)
    }

    /// Contact number `i` (before e-mail de-duplication).
    fn contact(&self, inp: &ContactInputs<'_>, i: usize) -> ContactOut {
        let mut rng = Rng::new(crate::rng::mix64(
            inp.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ));
        let is_user = rng.chance(0.7);
        let role = if is_user { "user" } else { "lead" };
        let created = between(&mut rng, GENERATION_START, GENERATION_END - HOUR);
        let updated = between(&mut rng, created, GENERATION_END);
        let id = rng.object_id(created);
        let first = rng.word(FIRST_NAMES);
        let last = rng.word(LAST_NAMES);
        let has_name = is_user || rng.chance(0.6);
        let name = if has_name {
            Some(format!("{first} {last}"))
        } else {
            None
        };

        // Companies (users only).
        let mut my_companies: Vec<usize> = Vec::new();
        if is_user && !inp.company_ids.is_empty() {
            let r = rng.unit();
            let k = if r < 0.8 {
                1
            } else if r < 0.9 {
                2
            } else {
                0
            };
            my_companies = rng.sample_indices(inp.company_ids.len(), k);
            if k == 2 && rng.chance(0.5) {
                my_companies.reverse();
            }
        }
        let has_email = is_user || rng.chance(0.85);
        let email_parts = if has_email {
            let domain = match my_companies.first() {
                Some(&c) => inp.company_domains[c].clone(),
                None => rng.word(FREE_MAIL).to_string(),
            };
            let local = format!("{}.{}", letters(first), letters(last));
            Some((local, domain))
        } else {
            None
        };
        let email: Option<String> = email_parts.as_ref().map(|(l, d)| format!("{l}@{d}"));
        let external_id = if is_user {
            Some(format!("{}", 500_000 + i))
        } else {
            None
        };
        let (phone, formatted_phone) = if rng.chance(0.4) {
            let a = rng.range(201, 989);
            let b = rng.range(200, 999);
            let c = rng.range(1000, 9999);
            (
                json!(format!("+1 {a}-{b}-{c}")),
                json!(format!("+1{a}{b}{c}")),
            )
        } else {
            (Value::Null, Value::Null)
        };
        let owner_id: Value = if rng.chance(0.4) {
            rng.pick(inp.admin_ids)
                .map(|a| json!(a))
                .unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        let signed_up_at: Value = if is_user {
            json!(between(&mut rng, created, (created + DAY).min(updated)))
        } else {
            Value::Null
        };
        let last_seen = maybe_between(&mut rng, 0.85, created, updated);
        let last_replied = maybe_between(&mut rng, 0.4, created, updated);
        let last_contacted = maybe_between(&mut rng, 0.5, created, updated);
        let opened = if has_email && rng.chance(0.45) {
            Some(between(&mut rng, created, updated))
        } else {
            None
        };
        let clicked: Value = match opened {
            Some(o) if rng.chance(0.5) => json!(between(&mut rng, created, o)),
            _ => Value::Null,
        };
        let (browser, browser_version, browser_language, os) = if rng.chance(0.85) {
            let (b, v) = BROWSERS[rng.index(BROWSERS.len())];
            (
                json!(b),
                json!(v),
                json!(rng.word(LANGUAGES)),
                json!(rng.word(OSES)),
            )
        } else {
            (Value::Null, Value::Null, Value::Null, Value::Null)
        };
        let location = if rng.chance(0.9) {
            let (city, region, country, cc, cont) = LOCATIONS[rng.index(LOCATIONS.len())];
            json!({"type": "location", "country": country, "region": region, "city": city,
                   "country_code": cc, "continent_code": cont})
        } else {
            json!({"type": "location", "country": null, "region": null, "city": null,
                   "country_code": null, "continent_code": null})
        };
        let android = rng.chance(0.15);
        let ios = rng.chance(0.2);
        let android_seen = if android {
            json!(between(&mut rng, created, updated))
        } else {
            Value::Null
        };
        let ios_seen = if ios {
            json!(between(&mut rng, created, updated))
        } else {
            Value::Null
        };
        let opt = |on: bool, v: Value| if on { v } else { Value::Null };
        let avatar = if rng.chance(0.3) {
            json!(format!(
                "https://static.intercomassets.com/avatars/{}/square_128/photo.jpg",
                rng.range(1_000_000, 9_999_999)
            ))
        } else {
            Value::Null
        };

        let tag_k = if rng.chance(0.5) { 0 } else { 1 + rng.index(3) };
        let my_tags: Vec<String> = rng
            .sample_indices(inp.tag_ids.len(), tag_k)
            .into_iter()
            .map(|t| inp.tag_ids[t].clone())
            .collect();
        let note_k = if rng.chance(0.7) { 0 } else { 1 + rng.index(3) };
        let mut note_k_seen = 0;
        let my_notes: Vec<String> = (0..note_k)
            .map(|_| {
                note_k_seen += 1;
                (inp.note_base + i as i64 * 4 + note_k_seen).to_string()
            })
            .collect();
        let my_company_ids: Vec<String> = my_companies
            .iter()
            .map(|&c| inp.company_ids[c].clone())
            .collect();
        let mut opted_in = Vec::new();
        let mut opted_out = Vec::new();
        for (sid, opt_in) in &inp.subs {
            if *opt_in {
                if rng.chance(0.3) {
                    opted_in.push(sid.clone());
                }
            } else if rng.chance(0.1) {
                opted_out.push(sid.clone());
            }
        }
        let utm = rng.chance(0.3);
        let (utm_campaign, utm_content, utm_medium, utm_source, utm_term, referrer) = if utm {
            (
                json!(rng.word(UTM_CAMPAIGNS)),
                json!(format!("ad_{}", rng.range(1, 40))),
                json!(rng.word(UTM_MEDIUMS)),
                json!(rng.word(UTM_SOURCES)),
                json!(rng.word(TOPICS)),
                json!(format!(
                    "https://www.{}/?ref={}",
                    rng.word(&[
                        "google.com",
                        "bing.com",
                        "producthunt.com",
                        "news.ycombinator.com"
                    ]),
                    rng.alnum(6)
                )),
            )
        } else {
            (
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            )
        };
        let socials: Vec<Value> = if rng.chance(0.2) {
            let (net, base) = SOCIAL[rng.index(SOCIAL.len())];
            vec![
                json!({"type": "social_profile", "name": net, "url": format!("{base}{}{}", letters(first), letters(last))}),
            ]
        } else {
            Vec::new()
        };
        let custom = custom_attributes(&mut rng, CONTACT_CUSTOM, 0.6, true, created);

        let mut segments = Vec::new();
        for (s, (_, for_users, p)) in inp.seg_info.iter().enumerate() {
            if *for_users == is_user && rng.chance(*p) {
                segments.push(s);
            }
        }

        let mut m = Fields::with_capacity(72);
        m.insert("type".into(), json!("contact"));
        m.insert("id".into(), json!(id));
        m.insert("workspace_id".into(), json!(self.app_code));
        m.insert("external_id".into(), json!(external_id));
        m.insert("role".into(), json!(role));
        m.insert("email".into(), json!(email));
        m.insert("phone".into(), phone);
        m.insert("formatted_phone".into(), formatted_phone);
        m.insert("name".into(), json!(name));
        m.insert("avatar".into(), avatar);
        m.insert("owner_id".into(), owner_id);
        m.insert(
            "social_profiles".into(),
            json!({"type": "list", "data": socials}),
        );
        m.insert(
            "has_hard_bounced".into(),
            json!(has_email && rng.chance(0.02)),
        );
        m.insert(
            "marked_email_as_spam".into(),
            json!(has_email && rng.chance(0.01)),
        );
        m.insert("unsubscribed_from_emails".into(), json!(rng.chance(0.08)));
        m.insert("unsubscribed_from_sms".into(), json!(rng.chance(0.03)));
        m.insert("sms_consent".into(), json!(rng.chance(0.1)));
        m.insert("created_at".into(), json!(created));
        m.insert("updated_at".into(), json!(updated));
        m.insert("signed_up_at".into(), signed_up_at);
        m.insert("last_seen_at".into(), last_seen);
        m.insert("last_replied_at".into(), last_replied);
        m.insert("last_contacted_at".into(), last_contacted);
        m.insert("last_email_opened_at".into(), json!(opened));
        m.insert("last_email_clicked_at".into(), clicked);
        m.insert(
            "language_override".into(),
            if rng.chance(0.1) {
                json!(rng.word(LANGUAGES))
            } else {
                Value::Null
            },
        );
        m.insert("browser".into(), browser);
        m.insert("browser_version".into(), browser_version);
        m.insert("browser_language".into(), browser_language);
        m.insert("os".into(), os);
        m.insert("location".into(), location);
        m.insert(
            "android_app_name".into(),
            opt(android, json!(format!("{} Android", self.app_name()))),
        );
        m.insert(
            "android_app_version".into(),
            opt(
                android,
                json!(format!("5.{}.{}", rng.range(0, 9), rng.range(0, 20))),
            ),
        );
        m.insert(
            "android_device".into(),
            opt(android, json!(rng.word(ANDROID_DEVICES))),
        );
        m.insert(
            "android_os_version".into(),
            opt(android, json!(rng.range(11, 14).to_string())),
        );
        m.insert(
            "android_sdk_version".into(),
            opt(android, json!(rng.range(30, 34).to_string())),
        );
        m.insert("android_last_seen_at".into(), android_seen);
        m.insert(
            "ios_app_name".into(),
            opt(ios, json!(format!("{} iOS", self.app_name()))),
        );
        m.insert(
            "ios_app_version".into(),
            opt(
                ios,
                json!(format!("4.{}.{}", rng.range(0, 9), rng.range(0, 20))),
            ),
        );
        m.insert("ios_device".into(), opt(ios, json!(rng.word(IOS_DEVICES))));
        m.insert(
            "ios_os_version".into(),
            opt(ios, json!(format!("17.{}", rng.range(0, 5)))),
        );
        m.insert(
            "ios_sdk_version".into(),
            opt(
                ios,
                json!(format!("16.{}.{}", rng.range(0, 6), rng.range(0, 3))),
            ),
        );
        m.insert("ios_last_seen_at".into(), ios_seen);
        m.insert("custom_attributes".into(), custom);
        m.insert(
            "tags".into(),
            addressable_list("tag", "/tags", &my_tags, format!("/contacts/{id}/tags")),
        );
        m.insert(
            "notes".into(),
            addressable_list("note", "/notes", &my_notes, format!("/contacts/{id}/notes")),
        );
        m.insert(
            "companies".into(),
            addressable_list(
                "company",
                "/companies",
                &my_company_ids,
                format!("/contacts/{id}/companies"),
            ),
        );
        m.insert(
            "opted_out_subscription_types".into(),
            addressable_list(
                "subscription",
                "/subscriptions",
                &opted_out,
                format!("/contacts/{id}/subscriptions"),
            ),
        );
        m.insert(
            "opted_in_subscription_types".into(),
            addressable_list(
                "subscription",
                "/subscriptions",
                &opted_in,
                format!("/contacts/{id}/subscriptions"),
            ),
        );
        m.insert("utm_campaign".into(), utm_campaign);
        m.insert("utm_content".into(), utm_content);
        m.insert("utm_medium".into(), utm_medium);
        m.insert("utm_source".into(), utm_source);
        m.insert("utm_term".into(), utm_term);
        m.insert("referrer".into(), referrer);
        ContactOut {
            value: m.into_value(),
            reference: ContactRef {
                id,
                external_id,
                role,
                name,
                email,
                created_at: created,
            },
            companies: my_companies,
            segments,
            email_parts,
        }
    }

    fn app_name(&self) -> String {
        self.domain.trim_end_matches(".com").to_string()
    }

    fn conversations(
        &self,
        seed: u64,
        contacts: &[ContactRef],
        admins: &[AdminRef],
        teams: &[Value],
        tags: &[Value],
        articles: &[Value],
    ) -> Vec<Value> {
        let mut rng = Rng::derive(seed, "conversations");
        let team_ids: Vec<i64> = teams
            .iter()
            .filter_map(|t| {
                t.get("id")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse().ok())
            })
            .collect();
        let mut part_id: i64 = 30_000_000 + rng.range(0, 999_999);
        let mut source_id: i64 = 400_000_000 + rng.range(0, 9_999_999);
        let bot = AdminRef {
            id: 3_999_999,
            name: "Operator".into(),
            email: format!("operator+{}@intercom.io", self.app_code),
        };
        let mut out: Vec<(i64, Value)> = Vec::with_capacity(self.cfg.conversations);
        for _ in 0..self.cfg.conversations {
            let c = ConversationBuilder {
                g: self,
                contacts,
                admins,
                bot: &bot,
                team_ids: &team_ids,
                tags,
                articles,
            }
            .build(&mut rng, &mut part_id, &mut source_id);
            out.push(c);
        }
        out.sort_by_key(|(created, _)| *created);
        let mut conv_id: i64 = 1_000 + rng.range(0, 9_000);
        out.into_iter()
            .map(|(_, mut v)| {
                conv_id += rng.range(1, 4);
                v["id"] = json!(conv_id.to_string());
                v
            })
            .collect()
    }
}

/// Read-only inputs shared by the contact generator threads.
struct ContactInputs<'a> {
    seed: u64,
    note_base: i64,
    tag_ids: Vec<String>,
    company_ids: Vec<String>,
    company_domains: &'a [String],
    /// (segment id, for users (else leads), membership probability)
    seg_info: Vec<(String, bool, f64)>,
    /// (subscription type id, opt-in?)
    subs: Vec<(String, bool)>,
    admin_ids: &'a [i64],
}

/// One generated contact plus what the sequential fix-ups need.
struct ContactOut {
    value: Value,
    reference: ContactRef,
    companies: Vec<usize>,
    segments: Vec<usize>,
    email_parts: Option<(String, String)>,
}

/// Object fields collected first and turned into a map in one go: building a
/// `BTreeMap` from a whole list packs its nodes (less memory, fewer
/// comparisons) compared with inserting keys one at a time.
struct Fields(Vec<(String, Value)>);

impl Fields {
    fn with_capacity(n: usize) -> Fields {
        Fields(Vec::with_capacity(n))
    }

    fn insert(&mut self, key: String, value: Value) {
        self.0.push((key, value));
    }

    fn into_value(self) -> Value {
        Value::Object(self.0.into_iter().collect())
    }
}

fn json_str(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Who wrote a conversation part.
#[derive(Clone, Copy, PartialEq)]
enum Who {
    Contact(usize),
    Admin(usize),
    Bot,
}

struct ConversationBuilder<'a> {
    g: &'a Gen<'a>,
    contacts: &'a [ContactRef],
    admins: &'a [AdminRef],
    bot: &'a AdminRef,
    team_ids: &'a [i64],
    tags: &'a [Value],
    articles: &'a [Value],
}

impl ConversationBuilder<'_> {
    fn author(&self, who: Who) -> Value {
        match who {
            Who::Contact(i) => {
                let c = &self.contacts[i];
                json!({"type": c.role, "id": c.id, "name": c.name, "email": c.email})
            }
            Who::Admin(i) => {
                let a = &self.admins[i];
                json!({"type": "admin", "id": a.id.to_string(), "name": a.name, "email": a.email})
            }
            Who::Bot => {
                json!({"type": "bot", "id": self.bot.id.to_string(), "name": self.bot.name, "email": self.bot.email})
            }
        }
    }

    /// An admin of this conversation's cast (mostly the lead admin), or the
    /// bot when the workspace has no admins.
    fn some_admin(&self, rng: &mut Rng, cast: &[usize]) -> Who {
        match cast {
            [] => Who::Bot,
            [lead, ..] if rng.chance(0.75) => Who::Admin(*lead),
            _ => Who::Admin(cast[rng.index(cast.len())]),
        }
    }

    fn admin_id_of(&self, who: Who) -> Option<i64> {
        match who {
            Who::Admin(i) => Some(self.admins[i].id),
            _ => None,
        }
    }

    /// Returns `(created_at, conversation)`; the caller assigns the id.
    fn build(&self, rng: &mut Rng, part_id: &mut i64, source_id: &mut i64) -> (i64, Value) {
        let avg = self.g.cfg.parts_per_conversation as i64;
        let n_parts = rng.range(0, 2 * avg) as usize;

        // Participants.
        let mut people: Vec<usize> = Vec::new();
        if !self.contacts.is_empty() {
            people.push(rng.index(self.contacts.len()));
            if self.contacts.len() > 1 && rng.chance(0.08) {
                let other = rng.index(self.contacts.len());
                if other != people[0] {
                    people.push(other);
                }
            }
        }
        // The admins who work on this conversation: one lead, sometimes a helper.
        let mut cast: Vec<usize> = Vec::new();
        if !self.admins.is_empty() {
            cast.push(rng.index(self.admins.len()));
            if self.admins.len() > 1 && rng.chance(0.3) {
                let other = rng.index(self.admins.len());
                if other != cast[0] {
                    cast.push(other);
                }
            }
        }
        let contact_initiated = !people.is_empty() && rng.chance(0.75);
        let source_author = if contact_initiated {
            Who::Contact(people[0])
        } else if rng.chance(0.85) {
            self.some_admin(rng, &cast)
        } else {
            Who::Bot
        };

        let mut state = {
            let r = rng.unit();
            if r < 0.45 {
                "open"
            } else if r < 0.9 {
                "closed"
            } else {
                "snoozed"
            }
        };
        if n_parts == 0 {
            state = "open";
        }

        // Relative part times.
        let mut gaps: Vec<i64> = (0..n_parts)
            .map(|_| {
                if rng.chance(0.8) {
                    rng.range(20, HOUR)
                } else {
                    rng.range(HOUR, 2 * DAY)
                }
            })
            .collect();
        let limit = (GENERATION_END - GENERATION_START) / 2;
        let total: i64 = gaps.iter().sum();
        if total > limit {
            for g in gaps.iter_mut() {
                *g = ((*g as i128 * limit as i128) / total as i128).max(1) as i64;
            }
        }
        let span: i64 = gaps.iter().sum();
        let created = between(rng, GENERATION_START, GENERATION_END - span - 2 * DAY);

        // Parts.
        let mut parts: Vec<Value> = Vec::with_capacity(n_parts);
        let mut t = created;
        let mut is_closed = false;
        let mut last_assigned_admin: Option<i64> = None;
        let mut last_assigned_team: Option<i64> = None;
        let mut teammates: Vec<i64> = Vec::new();
        let mut stats = Stats::default();
        if contact_initiated {
            stats.first_contact_reply_at = Some(created);
            stats.last_contact_reply_at = Some(created);
        }
        let mut last_contact_msg: Option<i64> = if contact_initiated {
            Some(created)
        } else {
            None
        };
        let mut waiting_since: Option<i64> = last_contact_msg;
        let mut reply_delays: Vec<i64> = Vec::new();
        for (j, gap) in gaps.iter().enumerate() {
            t += gap;
            let last = j + 1 == n_parts;
            let kind: &str = if last && state == "closed" {
                "close"
            } else if last && state == "snoozed" {
                "snoozed"
            } else if last && state == "open" && is_closed {
                "open"
            } else {
                let r = rng.index(100);
                match r {
                    0..=34 if !people.is_empty() => "contact_comment",
                    0..=69 => "admin_comment",
                    70..=79 => "note",
                    80..=89 => "assignment",
                    90..=94 if is_closed => "open",
                    // Closing mid-way only after someone answered.
                    90..=94 if stats.last_admin_reply_at.is_some() => "close",
                    90..=94 => "admin_comment",
                    _ => "conversation_attribute_updated_by_admin",
                }
            };
            let (part_type, who, body, assigned_to): (&str, Who, Value, Value) = match kind {
                "contact_comment" => {
                    let who = Who::Contact(people[rng.index(people.len())]);
                    let n = 1 + rng.index(3);
                    let body = html_paragraphs(rng, CUSTOMER_LINES, n);
                    ("comment", who, json!(body), Value::Null)
                }
                "admin_comment" => {
                    let who = if rng.chance(0.1) {
                        Who::Bot
                    } else {
                        self.some_admin(rng, &cast)
                    };
                    let n = 1 + rng.index(3);
                    let body = html_paragraphs(rng, ADMIN_LINES, n);
                    ("comment", who, json!(body), Value::Null)
                }
                "note" => {
                    let who = self.some_admin(rng, &cast);
                    let n = 1 + rng.index(2);
                    (
                        "note",
                        who,
                        json!(html_paragraphs(rng, NOTE_LINES, n)),
                        Value::Null,
                    )
                }
                "assignment" => {
                    let who = if rng.chance(0.4) {
                        Who::Bot
                    } else {
                        self.some_admin(rng, &cast)
                    };
                    let target = if !self.team_ids.is_empty() && rng.chance(0.3) {
                        rng.pick(self.team_ids).map(|&id| {
                            last_assigned_team = Some(id);
                            json!({"type": "team", "id": id.to_string()})
                        })
                    } else {
                        self.admin_id_of(self.some_admin(rng, &cast)).map(|id| {
                            last_assigned_admin = Some(id);
                            json!({"type": "admin", "id": id.to_string()})
                        })
                    };
                    (
                        "assignment",
                        who,
                        Value::Null,
                        target.unwrap_or(Value::Null),
                    )
                }
                "close" => (
                    "close",
                    self.some_admin(rng, &cast),
                    Value::Null,
                    Value::Null,
                ),
                "open" => (
                    "open",
                    self.some_admin(rng, &cast),
                    Value::Null,
                    Value::Null,
                ),
                "snoozed" => (
                    "snoozed",
                    self.some_admin(rng, &cast),
                    Value::Null,
                    Value::Null,
                ),
                _ => (
                    "conversation_attribute_updated_by_admin",
                    self.some_admin(rng, &cast),
                    Value::Null,
                    Value::Null,
                ),
            };
            // Statistics bookkeeping.
            match (part_type, who) {
                ("comment", Who::Contact(_)) => {
                    stats.first_contact_reply_at.get_or_insert(t);
                    stats.last_contact_reply_at = Some(t);
                    if last_contact_msg.is_none() {
                        last_contact_msg = Some(t);
                    }
                    waiting_since.get_or_insert(t);
                    if is_closed {
                        is_closed = false;
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
                    if let Some(c) = last_contact_msg.take() {
                        reply_delays.push(t - c);
                    }
                    waiting_since = None;
                }
                ("assignment", _) => {
                    stats.count_assignments += 1;
                    stats.first_assignment_at.get_or_insert(t);
                    stats.last_assignment_at = Some(t);
                    stats.last_assignment_admin_reply_at = None;
                }
                ("close", w) => {
                    is_closed = true;
                    stats.first_close_at.get_or_insert(t);
                    stats.last_close_at = Some(t);
                    stats.last_closed_by = self.admin_id_of(w);
                    waiting_since = None;
                }
                ("open", _) => {
                    if is_closed {
                        stats.count_reopens += 1;
                    }
                    is_closed = false;
                }
                _ => {}
            }
            if let Some(id) = self.admin_id_of(who) {
                if !teammates.contains(&id) {
                    teammates.push(id);
                }
            }
            let attachments: Vec<Value> = if part_type == "comment" && rng.chance(0.06) {
                let w = rng.range(320, 1920);
                let h = rng.range(240, 1080);
                vec![json!({
                    "type": "upload",
                    "name": format!("screenshot-{}.png", rng.range(1, 999)),
                    "url": format!("https://downloads.intercomcdn.com/i/o/{}/{}/screenshot.png", rng.range(100_000_000, 999_999_999), rng.hex(20)),
                    "content_type": "image/png",
                    "filesize": rng.range(20_000, 2_000_000),
                    "width": w,
                    "height": h,
                })]
            } else {
                Vec::new()
            };
            *part_id += rng.range(1, 9);
            parts.push(json!({
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
        let last_t = t;
        let mut updated = last_t;

        // Assignment.
        let lead_admin: Option<i64> = cast.first().map(|&i| self.admins[i].id);
        let admin_assignee: Option<i64> = if state == "closed" {
            last_assigned_admin.or(stats.last_closed_by).or(lead_admin)
        } else if last_assigned_admin.is_some() {
            last_assigned_admin
        } else if rng.chance(0.6) {
            lead_admin
        } else {
            None
        };
        let team_assignee: Option<i64> = if last_assigned_team.is_some() {
            last_assigned_team
        } else if rng.chance(0.5) {
            rng.pick(self.team_ids).copied()
        } else {
            None
        };

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
        let delivered_as = match source_author {
            Who::Contact(_) => "customer_initiated",
            Who::Admin(_) => "admin_initiated",
            Who::Bot => "automated",
        };
        *source_id += rng.range(1, 99);
        let source = json!({
            "type": source_type,
            "id": source_id.to_string(),
            "delivered_as": delivered_as,
            "subject": subject,
            "body": source_body,
            "author": self.author(source_author),
            "attachments": [],
            "url": if contact_initiated && rng.chance(0.5) {
                json!(format!("https://www.{}/{}", self.g.domain, rng.word(&["pricing", "docs", "account", "billing", ""])))
            } else {
                Value::Null
            },
            "redacted": false,
        });
        let contacts_json: Vec<Value> = people
            .iter()
            .map(|&p| {
                let c = &self.contacts[p];
                json!({"type": "contact", "id": c.id, "external_id": c.external_id})
            })
            .collect();

        // Rating (closed conversations only).
        let rating: Value = match (state, people.first()) {
            ("closed", Some(&p)) if rng.chance(0.35) => {
                let at = last_t + rng.range(60, HOUR);
                updated = updated.max(at);
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

        let conv_tags: Vec<Value> = if rng.chance(0.25) {
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
        } else {
            Vec::new()
        };

        let sla: Value = if rng.chance(0.2) {
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
        } else {
            Value::Null
        };

        let ai = rng.chance(0.2);
        let ai_agent: Value = if ai {
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
        } else {
            Value::Null
        };

        let first_contact_reply: Value = match stats.first_contact_reply_at {
            Some(at) => json!({"created_at": at, "type": "conversation", "url": null}),
            None => Value::Null,
        };
        let snoozed_until: Value = if state == "snoozed" {
            json!(last_t + rng.range(HOUR, 7 * DAY))
        } else {
            Value::Null
        };
        let waiting: Value = if state == "open" {
            json!(waiting_since)
        } else {
            Value::Null
        };

        reply_delays.sort_unstable();
        let median = reply_delays.get(reply_delays.len() / 2).copied();
        let diff = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => json!(a - b),
            _ => Value::Null,
        };
        let statistics = json!({
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
            "count_conversation_parts": n_parts + 1,
        });

        let custom = custom_attributes(rng, CONVERSATION_CUSTOM, 0.5, false, created);
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
        let teammates_json: Vec<Value> = teammates
            .iter()
            .map(|id| json!({"type": "admin", "id": id.to_string()}))
            .collect();
        let total_parts = parts.len();

        let conversation = json!({
            "type": "conversation",
            "id": "",
            "title": title,
            "created_at": created,
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
            "tags": {"type": "tag.list", "tags": conv_tags},
            "priority": priority,
            "sla_applied": sla,
            "statistics": statistics,
            "conversation_rating": rating,
            "teammates": {"type": "admin.list", "admins": teammates_json},
            "custom_attributes": custom,
            "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
            "ai_agent_participated": ai,
            "ai_agent": ai_agent,
            "conversation_parts": {
                "type": "conversation_part.list",
                "conversation_parts": parts,
                "total_count": total_parts,
            },
        });
        (created, conversation)
    }
}

#[derive(Default)]
struct Stats {
    first_contact_reply_at: Option<i64>,
    first_assignment_at: Option<i64>,
    first_admin_reply_at: Option<i64>,
    first_close_at: Option<i64>,
    last_assignment_at: Option<i64>,
    last_assignment_admin_reply_at: Option<i64>,
    last_contact_reply_at: Option<i64>,
    last_admin_reply_at: Option<i64>,
    last_close_at: Option<i64>,
    last_closed_by: Option<i64>,
    count_reopens: u32,
    count_assignments: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(seed: u64) -> Workspace {
        Workspace::generate(&FakeConfig {
            seed,
            ..FakeConfig::default()
        })
    }

    fn as_json(w: &Workspace) -> String {
        let v = json!({
            "app": w.app, "admins": w.admins, "teams": w.teams, "tags": w.tags,
            "segments": w.segments, "company_segments": w.company_segments,
            "company_attributes": w.company_attributes, "contact_attributes": w.contact_attributes,
            "conversation_attributes": w.conversation_attributes,
            "subscription_types": w.subscription_types, "help_centers": w.help_centers,
            "collections": w.collections, "articles": w.articles, "contacts": w.contacts,
            "contact_segments": w.contact_segments, "companies": w.companies,
            "conversations": w.conversations, "tz": w.timezone_offset_secs,
            "tickets": w.tickets, "activity_logs": w.activity_logs,
            "deleted_conversations": w.deleted_conversations,
        });
        v.to_string()
    }

    #[test]
    fn same_seed_gives_identical_workspace() {
        assert_eq!(as_json(&ws(42)), as_json(&ws(42)));
        assert_ne!(as_json(&ws(42)), as_json(&ws(43)));
    }

    #[test]
    fn contacts_do_not_depend_on_thread_count() {
        let cfg = FakeConfig {
            contacts: 3_001,
            conversations: 10,
            ..FakeConfig::default()
        };
        let one = Workspace::generate_with_threads(&cfg, Some(1));
        let three = Workspace::generate_with_threads(&cfg, Some(3));
        assert_eq!(as_json(&one), as_json(&three));
        let emails: HashSet<&str> = one
            .contacts
            .iter()
            .filter_map(|c| c["email"].as_str())
            .collect();
        let with_email = one
            .contacts
            .iter()
            .filter(|c| c["email"].is_string())
            .count();
        assert_eq!(emails.len(), with_email, "e-mails are unique");
    }

    #[test]
    fn sizes_follow_config() {
        let w = ws(1);
        let c = FakeConfig::default();
        assert_eq!(w.contacts.len(), c.contacts);
        assert_eq!(w.companies.len(), c.companies);
        assert_eq!(w.conversations.len(), c.conversations);
        assert_eq!(w.admins.len(), c.admins);
        assert_eq!(w.teams.len(), c.teams);
        assert_eq!(w.tags.len(), c.tags);
        assert_eq!(w.segments.len(), c.segments);
        assert_eq!(w.company_segments.len(), c.company_segments);
        assert_eq!(w.subscription_types.len(), c.subscription_types);
        assert_eq!(w.help_centers.len(), c.help_centers);
        assert_eq!(w.collections.len(), c.collections);
        assert_eq!(w.articles.len(), c.articles);
    }

    #[test]
    fn timestamps_are_ordered_and_in_range() {
        let w = ws(7);
        for obj in w
            .contacts
            .iter()
            .chain(&w.companies)
            .chain(&w.conversations)
            .chain(&w.articles)
        {
            let c = obj["created_at"].as_i64().unwrap();
            let u = obj["updated_at"].as_i64().unwrap();
            assert!(c <= u, "{obj}");
            assert!((GENERATION_START..=GENERATION_END).contains(&c));
            assert!(u <= GENERATION_END);
        }
        for conv in &w.conversations {
            let parts = conv["conversation_parts"]["conversation_parts"]
                .as_array()
                .unwrap();
            let mut prev = conv["created_at"].as_i64().unwrap();
            for p in parts {
                let t = p["created_at"].as_i64().unwrap();
                assert!(t >= prev);
                prev = t;
                assert!(t <= conv["updated_at"].as_i64().unwrap());
            }
            assert_eq!(
                conv["conversation_parts"]["total_count"],
                json!(parts.len())
            );
            assert_eq!(
                conv["statistics"]["count_conversation_parts"],
                json!(parts.len() + 1)
            );
        }
    }

    #[test]
    fn ids_are_unique_and_roles_mixed() {
        let w = ws(3);
        let mut ids = HashSet::new();
        for c in &w.contacts {
            assert!(ids.insert(c["id"].as_str().unwrap().to_string()));
        }
        let mut conv_ids = HashSet::new();
        let mut part_ids = HashSet::new();
        for c in &w.conversations {
            assert!(conv_ids.insert(c["id"].as_str().unwrap().to_string()));
            for p in c["conversation_parts"]["conversation_parts"]
                .as_array()
                .unwrap()
            {
                assert!(part_ids.insert(p["id"].as_str().unwrap().to_string()));
            }
        }
        let users = w.contacts.iter().filter(|c| c["role"] == "user").count();
        assert!(users > 60 && users < 110, "users {users}");
        let names: HashSet<_> = w.companies.iter().map(|c| c["name"].to_string()).collect();
        assert_eq!(names.len(), w.companies.len());
    }

    #[test]
    fn company_user_count_matches_contacts() {
        let w = ws(5);
        for co in &w.companies {
            let id = co["id"].as_str().unwrap();
            let n = w
                .contacts
                .iter()
                .filter(|c| {
                    c["companies"]["data"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|d| d["id"] == id)
                })
                .count();
            assert_eq!(co["user_count"], json!(n));
        }
    }

    #[test]
    fn large_parts_are_not_capped() {
        let w = Workspace::generate(&FakeConfig {
            conversations: 5,
            parts_per_conversation: 600,
            ..FakeConfig::default()
        });
        let max = w
            .conversations
            .iter()
            .map(|c| {
                c["conversation_parts"]["conversation_parts"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .max()
            .unwrap();
        assert!(max > 500, "max parts {max}");
    }

    #[test]
    fn empty_config_does_not_panic() {
        let w = Workspace::generate(&FakeConfig {
            contacts: 0,
            companies: 0,
            conversations: 3,
            admins: 0,
            teams: 0,
            tags: 0,
            segments: 0,
            company_segments: 0,
            subscription_types: 0,
            help_centers: 0,
            collections: 0,
            articles: 2,
            ..FakeConfig::default()
        });
        assert_eq!(w.conversations.len(), 3);
    }
}
