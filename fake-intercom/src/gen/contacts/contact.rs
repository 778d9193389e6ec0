//! One contact from its own random stream, drawn in a fixed order: who it
//! is, its companies and e-mail, its activity, devices, lists, marketing
//! source, custom attributes and segments, then a few late details.
//!
//! The order of the draws is the contract: moving one draw changes every
//! contact of every seed. Each step below takes the stream in turn.

use serde_json::{json, Value};

use crate::gen::attributes::{custom_attributes, CONTACT_CUSTOM};
use crate::gen::context::{ContactRef, Gen};
use crate::gen::util::{between, letters, maybe_between, Fields};
use crate::rng::{mix64, Rng};
use crate::time::{DAY, GENERATION_END, GENERATION_START, HOUR};
use crate::words::*;
use crate::workspace::shapes::addressable_list;

/// Read-only inputs shared by the contact generator threads.
pub(super) struct ContactInputs<'a> {
    pub(super) seed: u64,
    pub(super) note_base: i64,
    pub(super) tag_ids: Vec<String>,
    pub(super) company_ids: Vec<String>,
    pub(super) company_domains: &'a [String],
    /// (segment id, for users (else leads), membership probability)
    pub(super) seg_info: Vec<(String, bool, f64)>,
    /// (subscription type id, opt-in?)
    pub(super) subs: Vec<(String, bool)>,
    pub(super) admin_ids: &'a [i64],
}

/// One generated contact plus what the sequential fix-ups need.
pub(super) struct ContactOut {
    pub(super) value: Value,
    pub(super) reference: ContactRef,
    pub(super) companies: Vec<usize>,
    pub(super) segments: Vec<usize>,
    pub(super) email_parts: Option<(String, String)>,
}

/// Who the contact is.
struct Identity {
    index: usize,
    is_user: bool,
    role: &'static str,
    created: i64,
    updated: i64,
    id: String,
    first: &'static str,
    last: &'static str,
    name: Option<String>,
}

/// Contact details and activity timestamps.
struct Activity {
    email: Option<String>,
    external_id: Option<String>,
    phone: Value,
    formatted_phone: Value,
    owner_id: Value,
    signed_up_at: Value,
    last_seen: Value,
    last_replied: Value,
    last_contacted: Value,
    opened: Option<i64>,
    clicked: Value,
}

/// Browser, location and mobile apps.
struct Devices {
    browser: Value,
    browser_version: Value,
    browser_language: Value,
    os: Value,
    location: Value,
    android: bool,
    ios: bool,
    android_seen: Value,
    ios_seen: Value,
    avatar: Value,
}

/// The ids of the lists the contact embeds.
struct Lists {
    tags: Vec<String>,
    notes: Vec<String>,
    companies: Vec<String>,
    opted_in: Vec<String>,
    opted_out: Vec<String>,
}

/// Where the contact came from: `utm_*`, `referrer` and social profiles.
struct Marketing {
    /// `(field, value)` of the five `utm_*` fields and `referrer`.
    fields: [(&'static str, Value); 6],
    socials: Vec<Value>,
}

/// The details drawn last.
struct Late {
    has_hard_bounced: bool,
    marked_email_as_spam: bool,
    unsubscribed_from_emails: bool,
    unsubscribed_from_sms: bool,
    sms_consent: bool,
    language_override: Value,
    /// The `android_*`/`ios_*` app fields.
    mobile: Vec<(&'static str, Value)>,
}

impl Gen<'_> {
    /// Contact number `i` (before e-mail de-duplication).
    pub(super) fn contact(&self, inp: &ContactInputs<'_>, i: usize) -> ContactOut {
        let mut rng = Rng::new(mix64(
            inp.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ));
        let rng = &mut rng;
        let who = identity(rng, i);
        let my_companies = companies_of(rng, inp, who.is_user);
        let (has_email, email_parts) = email_parts(rng, inp, &who, &my_companies);
        let activity = activity(rng, inp, &who, has_email, &email_parts);
        let devices = devices(rng, &who);
        let lists = lists(rng, inp, i, &my_companies);
        let marketing = marketing(rng, &who);
        let custom = custom_attributes(rng, CONTACT_CUSTOM, 0.6, true, who.created);
        let segments = segments_of(rng, inp, who.is_user);
        let late = self.late(rng, has_email, &devices);
        let value = self.assemble(&who, &activity, devices, &lists, marketing, custom, late);
        ContactOut {
            value,
            reference: ContactRef {
                id: who.id,
                external_id: activity.external_id,
                role: who.role,
                name: who.name,
                email: activity.email,
                created_at: who.created,
            },
            companies: my_companies,
            segments,
            email_parts,
        }
    }

    /// The details drawn after the segments, in their order.
    fn late(&self, rng: &mut Rng, has_email: bool, d: &Devices) -> Late {
        let has_hard_bounced = has_email && rng.chance(0.02);
        let marked_email_as_spam = has_email && rng.chance(0.01);
        let unsubscribed_from_emails = rng.chance(0.08);
        let unsubscribed_from_sms = rng.chance(0.03);
        let sms_consent = rng.chance(0.1);
        let language_override = if rng.chance(0.1) {
            json!(rng.word(LANGUAGES))
        } else {
            Value::Null
        };
        // Every app field is drawn, whether or not the contact has the app.
        let opt = |on: bool, v: Value| if on { v } else { Value::Null };
        let (android, ios) = (d.android, d.ios);
        let mut mobile = Vec::with_capacity(14);
        mobile.push((
            "android_app_name",
            opt(android, json!(format!("{} Android", self.app_name()))),
        ));
        let version = json!(format!("5.{}.{}", rng.range(0, 9), rng.range(0, 20)));
        mobile.push(("android_app_version", opt(android, version)));
        let device = json!(rng.word(ANDROID_DEVICES));
        mobile.push(("android_device", opt(android, device)));
        let os = json!(rng.range(11, 14).to_string());
        mobile.push(("android_os_version", opt(android, os)));
        let sdk = json!(rng.range(30, 34).to_string());
        mobile.push(("android_sdk_version", opt(android, sdk)));
        mobile.push(("android_last_seen_at", d.android_seen.clone()));
        mobile.push((
            "ios_app_name",
            opt(ios, json!(format!("{} iOS", self.app_name()))),
        ));
        let version = json!(format!("4.{}.{}", rng.range(0, 9), rng.range(0, 20)));
        mobile.push(("ios_app_version", opt(ios, version)));
        let device = json!(rng.word(IOS_DEVICES));
        mobile.push(("ios_device", opt(ios, device)));
        let os = json!(format!("17.{}", rng.range(0, 5)));
        mobile.push(("ios_os_version", opt(ios, os)));
        let sdk = json!(format!("16.{}.{}", rng.range(0, 6), rng.range(0, 3)));
        mobile.push(("ios_sdk_version", opt(ios, sdk)));
        mobile.push(("ios_last_seen_at", d.ios_seen.clone()));
        Late {
            has_hard_bounced,
            marked_email_as_spam,
            unsubscribed_from_emails,
            unsubscribed_from_sms,
            sms_consent,
            language_override,
            mobile,
        }
    }

    /// The contact object (no random draws here).
    #[allow(clippy::too_many_arguments)]
    fn assemble(
        &self,
        who: &Identity,
        a: &Activity,
        d: Devices,
        lists: &Lists,
        marketing: Marketing,
        custom: Value,
        late: Late,
    ) -> Value {
        let id = &who.id;
        let mut m = Fields::with_capacity(72);
        m.insert("type".into(), json!("contact"));
        m.insert("id".into(), json!(id));
        m.insert("workspace_id".into(), json!(self.app_code));
        m.insert("external_id".into(), json!(a.external_id));
        m.insert("role".into(), json!(who.role));
        m.insert("email".into(), json!(a.email));
        m.insert("phone".into(), a.phone.clone());
        m.insert("formatted_phone".into(), a.formatted_phone.clone());
        m.insert("name".into(), json!(who.name));
        m.insert("avatar".into(), d.avatar);
        m.insert("owner_id".into(), a.owner_id.clone());
        m.insert(
            "social_profiles".into(),
            json!({"type": "list", "data": marketing.socials}),
        );
        m.insert("has_hard_bounced".into(), json!(late.has_hard_bounced));
        m.insert(
            "marked_email_as_spam".into(),
            json!(late.marked_email_as_spam),
        );
        m.insert(
            "unsubscribed_from_emails".into(),
            json!(late.unsubscribed_from_emails),
        );
        m.insert(
            "unsubscribed_from_sms".into(),
            json!(late.unsubscribed_from_sms),
        );
        m.insert("sms_consent".into(), json!(late.sms_consent));
        m.insert("created_at".into(), json!(who.created));
        m.insert("updated_at".into(), json!(who.updated));
        m.insert("signed_up_at".into(), a.signed_up_at.clone());
        m.insert("last_seen_at".into(), a.last_seen.clone());
        m.insert("last_replied_at".into(), a.last_replied.clone());
        m.insert("last_contacted_at".into(), a.last_contacted.clone());
        m.insert("last_email_opened_at".into(), json!(a.opened));
        m.insert("last_email_clicked_at".into(), a.clicked.clone());
        m.insert("language_override".into(), late.language_override);
        m.insert("browser".into(), d.browser);
        m.insert("browser_version".into(), d.browser_version);
        m.insert("browser_language".into(), d.browser_language);
        m.insert("os".into(), d.os);
        m.insert("location".into(), d.location);
        for (key, value) in late.mobile {
            m.insert(key.into(), value);
        }
        m.insert("custom_attributes".into(), custom);
        let list = |kind: &str, prefix: &str, ids: &[String], what: &str| {
            addressable_list(kind, prefix, ids, format!("/contacts/{id}/{what}"))
        };
        m.insert("tags".into(), list("tag", "/tags", &lists.tags, "tags"));
        m.insert(
            "notes".into(),
            list("note", "/notes", &lists.notes, "notes"),
        );
        m.insert(
            "companies".into(),
            list("company", "/companies", &lists.companies, "companies"),
        );
        m.insert(
            "opted_out_subscription_types".into(),
            list(
                "subscription",
                "/subscriptions",
                &lists.opted_out,
                "subscriptions",
            ),
        );
        m.insert(
            "opted_in_subscription_types".into(),
            list(
                "subscription",
                "/subscriptions",
                &lists.opted_in,
                "subscriptions",
            ),
        );
        for (key, value) in marketing.fields {
            m.insert(key.into(), value);
        }
        m.into_value()
    }
}

fn identity(rng: &mut Rng, index: usize) -> Identity {
    let is_user = rng.chance(0.7);
    let role = if is_user { "user" } else { "lead" };
    let created = between(rng, GENERATION_START, GENERATION_END - HOUR);
    let updated = between(rng, created, GENERATION_END);
    let id = rng.object_id(created);
    let first = rng.word(FIRST_NAMES);
    let last = rng.word(LAST_NAMES);
    let has_name = is_user || rng.chance(0.6);
    let name = if has_name {
        Some(format!("{first} {last}"))
    } else {
        None
    };
    Identity {
        index,
        is_user,
        role,
        created,
        updated,
        id,
        first,
        last,
        name,
    }
}

/// The companies of a user (indices; leads have none).
fn companies_of(rng: &mut Rng, inp: &ContactInputs<'_>, is_user: bool) -> Vec<usize> {
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
    my_companies
}

/// Whether the contact has an e-mail, and its (local part, domain).
fn email_parts(
    rng: &mut Rng,
    inp: &ContactInputs<'_>,
    who: &Identity,
    my_companies: &[usize],
) -> (bool, Option<(String, String)>) {
    let has_email = who.is_user || rng.chance(0.85);
    let parts = if has_email {
        let domain = match my_companies.first() {
            Some(&c) => inp.company_domains[c].clone(),
            None => rng.word(FREE_MAIL).to_string(),
        };
        let local = format!("{}.{}", letters(who.first), letters(who.last));
        Some((local, domain))
    } else {
        None
    };
    (has_email, parts)
}

fn activity(
    rng: &mut Rng,
    inp: &ContactInputs<'_>,
    who: &Identity,
    has_email: bool,
    email_parts: &Option<(String, String)>,
) -> Activity {
    let (created, updated) = (who.created, who.updated);
    let email: Option<String> = email_parts.as_ref().map(|(l, d)| format!("{l}@{d}"));
    let external_id = if who.is_user {
        Some(format!("{}", 500_000 + who.index))
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
    let signed_up_at: Value = if who.is_user {
        json!(between(rng, created, (created + DAY).min(updated)))
    } else {
        Value::Null
    };
    let last_seen = maybe_between(rng, 0.85, created, updated);
    let last_replied = maybe_between(rng, 0.4, created, updated);
    let last_contacted = maybe_between(rng, 0.5, created, updated);
    let opened = if has_email && rng.chance(0.45) {
        Some(between(rng, created, updated))
    } else {
        None
    };
    let clicked: Value = match opened {
        Some(o) if rng.chance(0.5) => json!(between(rng, created, o)),
        _ => Value::Null,
    };
    Activity {
        email,
        external_id,
        phone,
        formatted_phone,
        owner_id,
        signed_up_at,
        last_seen,
        last_replied,
        last_contacted,
        opened,
        clicked,
    }
}

fn devices(rng: &mut Rng, who: &Identity) -> Devices {
    let (created, updated) = (who.created, who.updated);
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
        json!(between(rng, created, updated))
    } else {
        Value::Null
    };
    let ios_seen = if ios {
        json!(between(rng, created, updated))
    } else {
        Value::Null
    };
    let avatar = if rng.chance(0.3) {
        json!(format!(
            "https://static.intercomassets.com/avatars/{}/square_128/photo.jpg",
            rng.range(1_000_000, 9_999_999)
        ))
    } else {
        Value::Null
    };
    Devices {
        browser,
        browser_version,
        browser_language,
        os,
        location,
        android,
        ios,
        android_seen,
        ios_seen,
        avatar,
    }
}

fn lists(rng: &mut Rng, inp: &ContactInputs<'_>, i: usize, my_companies: &[usize]) -> Lists {
    let tag_k = if rng.chance(0.5) { 0 } else { 1 + rng.index(3) };
    let tags: Vec<String> = rng
        .sample_indices(inp.tag_ids.len(), tag_k)
        .into_iter()
        .map(|t| inp.tag_ids[t].clone())
        .collect();
    let note_k = if rng.chance(0.7) { 0 } else { 1 + rng.index(3) };
    let notes: Vec<String> = (1..=note_k as i64)
        .map(|k| (inp.note_base + i as i64 * 4 + k).to_string())
        .collect();
    let companies: Vec<String> = my_companies
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
    Lists {
        tags,
        notes,
        companies,
        opted_in,
        opted_out,
    }
}

fn marketing(rng: &mut Rng, who: &Identity) -> Marketing {
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
        let url = format!("{base}{}{}", letters(who.first), letters(who.last));
        vec![json!({"type": "social_profile", "name": net, "url": url})]
    } else {
        Vec::new()
    };
    Marketing {
        fields: [
            ("utm_campaign", utm_campaign),
            ("utm_content", utm_content),
            ("utm_medium", utm_medium),
            ("utm_source", utm_source),
            ("utm_term", utm_term),
            ("referrer", referrer),
        ],
        socials,
    }
}

/// The person segments (indices) of a contact: each is for users or leads.
fn segments_of(rng: &mut Rng, inp: &ContactInputs<'_>, is_user: bool) -> Vec<usize> {
    let mut segments = Vec::new();
    for (s, (_, for_users, p)) in inp.seg_info.iter().enumerate() {
        if *for_users == is_user && rng.chance(*p) {
            segments.push(s);
        }
    }
    segments
}
