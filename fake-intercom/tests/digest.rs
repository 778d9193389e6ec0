//! Pins the generated workspace byte for byte: a digest of every collection
//! of `Workspace::generate` (and of the objects the `add_*` methods make next)
//! for a few seeds and sizes. A change here means every fixture, snapshot and
//! benchmark built on a seed silently changes too, so it must be deliberate.

use fake_intercom::{FakeConfig, FakeIntercom, Workspace};
use serde::Serialize;
use serde_json::{json, Value};

/// FNV-1a, 64 bits: stable forever, unlike `DefaultHasher`.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

fn digest_of(value: &impl Serialize) -> u64 {
    let mut h = Fnv::new();
    h.write(&serde_json::to_vec(value).expect("serializes"));
    h.0
}

/// `(collection, digest)` for every collection of `w`, in a fixed order.
fn collection_digests(w: &Workspace) -> Vec<(&'static str, u64)> {
    vec![
        ("app", digest_of(&w.app)),
        ("timezone_offset_secs", digest_of(&w.timezone_offset_secs)),
        ("admins", digest_of(&w.admins)),
        ("teams", digest_of(&w.teams)),
        ("tags", digest_of(&w.tags)),
        ("segments", digest_of(&w.segments)),
        ("company_segments", digest_of(&w.company_segments)),
        ("company_attributes", digest_of(&w.company_attributes)),
        ("contact_attributes", digest_of(&w.contact_attributes)),
        (
            "conversation_attributes",
            digest_of(&w.conversation_attributes),
        ),
        ("subscription_types", digest_of(&w.subscription_types)),
        ("help_centers", digest_of(&w.help_centers)),
        ("collections", digest_of(&w.collections)),
        ("articles", digest_of(&w.articles)),
        ("contacts", digest_of(&w.contacts)),
        ("long_contact_lists", digest_of(&w.long_contact_lists)),
        ("contact_segments", digest_of(&w.contact_segments)),
        ("companies", digest_of(&w.companies)),
        ("conversations", digest_of(&w.conversations)),
        ("tickets", digest_of(&w.tickets)),
        ("activity_logs", digest_of(&w.activity_logs)),
        ("deleted_conversations", digest_of(&w.deleted_conversations)),
    ]
}

/// One digest of the generated workspace plus what the id-making mutations
/// add to it (they depend on hidden seeds and counters).
fn workspace_digest(config: &FakeConfig) -> (u64, Vec<(&'static str, u64)>) {
    let mut w = Workspace::generate(config);
    let mut parts = collection_digests(&w);
    let contact = w.add_contact("user", 1_780_000_000);
    let lead = w.add_contact("lead", 1_780_000_001);
    let log = w.add_activity_log(1_700_000_000);
    let conversation = w
        .conversations
        .first()
        .and_then(|c| c["id"].as_str())
        .map(str::to_string);
    if let Some(id) = &conversation {
        w.add_conversation_part(id, 1_790_000_000);
    }
    parts.push(("added_ids", digest_of(&(contact, lead, log))));
    parts.push(("after_mutations", digest_of(&collection_digests(&w))));
    let mut h = Fnv::new();
    for (name, d) in &parts {
        h.write(name.as_bytes());
        h.write(&d.to_le_bytes());
    }
    (h.0, parts)
}

/// Compare one configuration's digest; a mismatch is reported with the
/// digest of each collection, so the one that changed can be found.
fn check(failures: &mut Vec<String>, name: &str, config: FakeConfig, expected: u64) {
    let (got, parts) = workspace_digest(&config);
    if got != expected {
        failures.push(format!(
            "{name}: digest {got:#018x}, pinned {expected:#018x}; per collection: {parts:#x?}"
        ));
    }
}

#[test]
fn generated_workspaces_match_pinned_digests() {
    let mut failures = Vec::new();
    let f = &mut failures;
    check(f, "default", FakeConfig::default(), 0xba36_e808_3ccf_80df);
    check(
        f,
        "seed 7",
        FakeConfig {
            seed: 7,
            ..FakeConfig::default()
        },
        0x2580_141e_bdb8_698a,
    );
    check(
        f,
        "bigger",
        FakeConfig {
            seed: 1234,
            contacts: 2_000,
            companies: 300,
            conversations: 300,
            ..FakeConfig::default()
        },
        0x52db_02be_1a65_a1bd,
    );
    check(
        f,
        "threaded contacts and long conversations",
        FakeConfig {
            seed: 99,
            contacts: 4_500,
            companies: 50,
            conversations: 12,
            parts_per_conversation: 120,
            tickets: 80,
            activity_logs: 500,
            deleted_conversations: 9,
            ..FakeConfig::default()
        },
        0x9597_a58b_8ad9_5cfb,
    );
    check(
        f,
        "nearly empty",
        FakeConfig {
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
        },
        0x4759_9020_d9fa_497d,
    );
    assert!(
        failures.is_empty(),
        "the generated workspace changed:\n{}",
        failures.join("\n")
    );
}

/// `(method, path and query, body)` of the answers pinned below: every
/// endpoint family, first and later pages, and error answers (whose
/// `request_id` is left out, being unique per request).
fn served_requests(
    conversation: &str,
    company: &str,
    long_contact: &str,
) -> Vec<(&'static str, String, Option<Value>)> {
    let search = |query: Value, extra: Value| {
        let mut body = json!({"query": query});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        Some(body)
    };
    let all = json!({"field": "created_at", "operator": ">", "value": 0});
    let mut out: Vec<(&'static str, String, Option<Value>)> = [
        "/me",
        "/admins",
        "/teams",
        "/tags",
        "/segments",
        "/segments?include_count=true",
        "/data_attributes",
        "/data_attributes?model=contact",
        "/data_attributes?model=company&include_archived=true",
        "/data_attributes?model=nope",
        "/subscription_types",
        "/help_center/help_centers",
        "/help_center/collections?per_page=3&page=2",
        "/articles",
        "/articles?per_page=7&page=3",
        "/articles?per_page=151",
        "/counts",
        "/counts?type=conversation",
        "/counts?type=conversation&count=admin",
        "/counts?type=user&count=segment",
        "/counts?type=user&count=tag",
        "/counts?type=company&count=user&per_page=9&page=2",
        "/counts?type=company&count=segment",
        "/counts?type=company&count=tag",
        "/counts?type=nope",
        "/companies/scroll?per_page=7",
        "/admins/activity_logs?created_at_after=0&per_page=30&page=2",
        "/admins/activity_logs",
        "/conversations/deleted?per_page=2&page=2",
        "/nope",
    ]
    .iter()
    .map(|p| ("GET", p.to_string(), None))
    .collect();
    out.push(("GET", format!("/conversations/{conversation}"), None));
    out.push(("GET", "/conversations/1".to_string(), None));
    out.push(("GET", format!("/companies/{company}/segments"), None));
    out.push((
        "POST",
        "/contacts/search".into(),
        search(all.clone(), json!({})),
    ));
    out.push((
        "POST",
        "/contacts/search".into(),
        search(
            json!({"operator": "OR", "value": [
                {"field": "role", "operator": "=", "value": "lead"},
                {"field": "email", "operator": "~", "value": "a"}]}),
            json!({"sort": {"field": "email", "order": "ascending"},
                   "pagination": {"per_page": 13}}),
        ),
    ));
    out.push((
        "POST",
        "/conversations/search".into(),
        search(all.clone(), json!({"pagination": {"per_page": 7}})),
    ));
    out.push(("POST", "/tickets/search".into(), search(all, json!({}))));
    out.push(("POST", "/tickets/search".into(), Some(json!({"sort": 1}))));
    for what in [
        "tags",
        "companies?per_page=5&page=2",
        "notes",
        "subscriptions",
    ] {
        out.push(("GET", format!("/contacts/{long_contact}/{what}"), None));
    }
    out.push(("GET", "/contacts/nope/tags".into(), None));
    out.push(("GET", "/export/reporting_data/get_datasets".into(), None));
    let job = |dataset: &str, attributes: Value| {
        Some(json!({"dataset_id": dataset, "attribute_ids": attributes,
                    "start_time": 1_700_000_000, "end_time": 1_710_000_000}))
    };
    let enqueue = "/export/reporting_data/enqueue".to_string();
    out.push((
        "POST",
        enqueue.clone(),
        job("conversation", json!(["conversation_id"])),
    ));
    out.push(("POST", enqueue, job("conversation", json!(["nope"]))));
    out.push(("GET", "/export/reporting_data/nosuchjob".into(), None));
    out
}

/// The answers of a default workspace to [`served_requests`], as text with
/// the server's own address and the error request ids blanked.
async fn served_answers() -> String {
    // The export asked for is in 2023: a retention long enough that the answer does
    // not depend on today's date.
    let fake = FakeIntercom::start(FakeConfig {
        report_retention_days: 100_000,
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts");
    let (conversation, company, long_contact) = fake.with_workspace(|w| {
        let id = |v: &Value| v["id"].as_str().unwrap_or_default().to_string();
        let long = w.long_contact_lists.keys().next().cloned();
        (
            id(&w.conversations[4]),
            id(&w.companies[2]),
            long.unwrap_or_default(),
        )
    });
    let client = reqwest::Client::new();
    let mut text = String::new();
    let requests = served_requests(&conversation, &company, &long_contact);
    for (method, path, body) in requests {
        let url = format!("{}{}", fake.base_url(), path);
        let mut req = match method {
            "POST" => client.post(&url),
            _ => client.get(&url),
        };
        let version = if path.starts_with("/conversations/deleted") {
            "2.16"
        } else {
            "2.11"
        };
        req = req
            .bearer_auth(fake.token())
            .header("Intercom-Version", version);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let mut v: Value = resp.json().await.expect("JSON answer");
        if let Some(m) = v.as_object_mut() {
            m.remove("request_id");
        }
        let answer = v.to_string().replace(&fake.base_url(), "http://FAKE");
        text.push_str(&format!("{method} {path} {status} {answer}\n"));
    }
    text
}

#[tokio::test]
async fn served_answers_match_pinned_digest() {
    let text = served_answers().await;
    let mut h = Fnv::new();
    h.write(text.as_bytes());
    assert_eq!(
        h.0, 0x6239_5ceb_2492_0b2d,
        "the served answers changed:\n{text}"
    );
}
