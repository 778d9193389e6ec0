//! Data attributes (`GET /data_attributes`): the standard and custom
//! attributes of contacts, companies and conversations, and random values
//! of the custom ones for generated objects.

use serde_json::{json, Map, Value};

use crate::gen::context::Gen;
use crate::gen::util::{between, round2};
use crate::rng::Rng;
use crate::time::{DAY, GENERATION_END, GENERATION_START};
use crate::words::*;

/// Spec of a data attribute: (name, full_name, label, description, data_type, options, archived).
pub(super) type AttrSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    bool,
);

#[rustfmt::skip]
pub(super) const CONTACT_STANDARD: &[AttrSpec] = &[
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
pub(super) const CONTACT_CUSTOM: &[AttrSpec] = &[
    ("plan_tier", "custom_attributes.plan_tier", "Plan tier", "The plan tier the person is on", "string", &["free", "starter", "pro", "enterprise"], false),
    ("seats", "custom_attributes.seats", "Seats", "Number of seats in use", "integer", &[], false),
    ("lifetime_value", "custom_attributes.lifetime_value", "Lifetime value", "Revenue from this person so far", "float", &[], false),
    ("newsletter_opt_in", "custom_attributes.newsletter_opt_in", "Newsletter opt-in", "Signed up for the newsletter", "boolean", &[], false),
    ("trial_ends_at", "custom_attributes.trial_ends_at", "Trial ends at", "When the trial ends", "date", &[], false),
    ("lead_source", "custom_attributes.lead_source", "Lead source", "Where the person came from", "string", CONTACT_SOURCES, false),
    ("legacy_score", "custom_attributes.legacy_score", "Legacy score", "Score from the old scoring system", "integer", &[], true),
    // Shares its name with the standard `phone` (as `plan.name` does `name` for companies):
    // only `full_name` tells them apart.
    ("phone", "custom_attributes.phone", "Phone (old CRM)", "The phone number imported from the old CRM", "string", &[], true),
];

#[rustfmt::skip]
pub(super) const COMPANY_STANDARD: &[AttrSpec] = &[
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
pub(super) const COMPANY_CUSTOM: &[AttrSpec] = &[
    ("account_tier", "custom_attributes.account_tier", "Account tier", "Commercial tier of the account", "string", ACCOUNT_TIERS, false),
    ("renewal_date", "custom_attributes.renewal_date", "Renewal date", "When the contract renews", "date", &[], false),
    ("health_score", "custom_attributes.health_score", "Health score", "Account health from 0 to 100", "float", &[], false),
    ("is_strategic", "custom_attributes.is_strategic", "Strategic", "Whether this is a strategic account", "boolean", &[], false),
    ("crm_account_id", "custom_attributes.crm_account_id", "CRM account ID", "The id of the account in the CRM", "string", &[], false),
    ("old_crm_id", "custom_attributes.old_crm_id", "Old CRM ID", "The id in the previous CRM", "string", &[], true),
];

#[rustfmt::skip]
pub(super) const CONVERSATION_STANDARD: &[AttrSpec] = &[
    ("title", "title", "Title", "The title of the conversation", "string", &[], false),
    ("state", "state", "State", "Open, closed or snoozed", "string", &[], false),
    ("priority", "priority", "Priority", "Whether the conversation is prioritised", "string", &[], false),
    ("created_at", "created_at", "Created at", "The time the conversation was created", "date", &[], false),
    ("updated_at", "updated_at", "Updated at", "The last time the conversation was updated", "date", &[], false),
];

#[rustfmt::skip]
pub(super) const CONVERSATION_CUSTOM: &[AttrSpec] = &[
    ("Issue type", "custom_attributes.Issue type", "Issue type", "What the conversation is about", "string", ISSUE_TYPES, false),
    ("Order number", "custom_attributes.Order number", "Order number", "The customer's order reference", "string", &[], false),
    ("Escalated", "custom_attributes.Escalated", "Escalated", "Escalated to engineering", "boolean", &[], false),
    ("Refund amount", "custom_attributes.Refund amount", "Refund amount", "Amount refunded in USD", "float", &[], false),
    ("Follow-up date", "custom_attributes.Follow-up date", "Follow-up date", "When to follow up", "date", &[], false),
    ("Legacy category", "custom_attributes.Legacy category", "Legacy category", "Category from the old inbox", "string", &[], true),
    // The old inbox's priority, archived when Intercom's own came: the same name as the
    // standard `priority`, another `full_name`.
    ("priority", "custom_attributes.priority", "Priority (old inbox)", "Priority from the old inbox", "string", &["low", "normal", "high"], true),
];

/// A random value of a custom attribute's data type.
pub(super) fn custom_value(rng: &mut Rng, spec: &AttrSpec, base_ts: i64) -> Value {
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
pub(super) fn custom_attributes(
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

impl Gen<'_> {
    pub(super) fn attributes(
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
}
