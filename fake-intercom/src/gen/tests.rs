//! Tests of workspace generation: determinism, sizes, ranges, uniqueness
//! and consistency between objects.

use std::collections::HashSet;

use serde_json::json;

use crate::config::FakeConfig;
use crate::gen::tickets::TICKET_STATES;
use crate::time::{day_start, DAY, GENERATION_END, GENERATION_START, HOUR};
use crate::workspace::Workspace;

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
                let lists = w.contact_lists(c["id"].as_str().unwrap()).unwrap();
                lists.companies.iter().any(|c| c == id)
            })
            .count();
        assert_eq!(co["user_count"], json!(n));
    }
}

/// The ids of the embedded list `key` of a contact.
fn embedded_ids(contact: &serde_json::Value, key: &str) -> Vec<String> {
    contact[key]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_few_users_have_long_lists_embedded_ten_at_a_time() {
    let w = ws(42);
    assert_eq!(w.long_contact_lists.len(), 3, "at least 3 in 120 contacts");
    let tag_ids: HashSet<&str> = w.tags.iter().map(|t| t["id"].as_str().unwrap()).collect();
    let company_ids: HashSet<&str> = w
        .companies
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let mut all_notes = HashSet::new();
    for c in &w.contacts {
        let id = c["id"].as_str().unwrap();
        let lists = w.contact_lists(id).unwrap();
        for n in &lists.notes {
            assert!(all_notes.insert(n.clone()), "note {n} twice");
        }
        let long = w.long_contact_lists.get(id);
        assert_eq!(long.is_some(), lists.is_long(), "{id}");
        if let Some(long) = long {
            assert_eq!(c["role"], "user");
            assert!(long.tags.len() > 10 && long.companies.len() > 10 && long.notes.len() > 10);
            let distinct = |l: &[String]| l.iter().collect::<HashSet<_>>().len() == l.len();
            assert!(distinct(&long.tags) && distinct(&long.companies) && distinct(&long.notes));
            assert!(long.tags.iter().all(|t| tag_ids.contains(t.as_str())));
            assert!(long
                .companies
                .iter()
                .all(|t| company_ids.contains(t.as_str())));
        }
        for (key, full) in [
            ("tags", &lists.tags),
            ("companies", &lists.companies),
            ("notes", &lists.notes),
        ] {
            let embedded = embedded_ids(c, key);
            assert_eq!(
                embedded.as_slice(),
                &full[..full.len().min(10)],
                "{id} {key}"
            );
            assert_eq!(c[key]["total_count"], json!(full.len()), "{id} {key}");
            assert_eq!(c[key]["has_more"], json!(full.len() > 10), "{id} {key}");
            assert_eq!(c[key]["url"], json!(format!("/contacts/{id}/{key}")));
        }
    }
    let big = Workspace::generate(&FakeConfig {
        contacts: 2_000,
        ..FakeConfig::default()
    });
    assert_eq!(big.long_contact_lists.len(), 40, "2% of 2000");
    let tiny = Workspace::generate(&FakeConfig {
        contacts: 5,
        ..FakeConfig::default()
    });
    assert!(tiny.long_contact_lists.is_empty());
}

#[test]
fn long_lists_change_only_the_chosen_contacts() {
    let with = ws(42);
    let without = Workspace::generate(&FakeConfig {
        contacts_with_long_lists: 0.0,
        ..FakeConfig::default()
    });
    assert!(without.long_contact_lists.is_empty());
    assert_eq!(with.contacts.len(), without.contacts.len());
    for (a, b) in with.contacts.iter().zip(&without.contacts) {
        let id = a["id"].as_str().unwrap();
        assert_eq!(
            id,
            b["id"].as_str().unwrap(),
            "same contacts in the same order"
        );
        if !with.long_contact_lists.contains_key(id) {
            assert_eq!(a, b, "{id} unchanged");
            continue;
        }
        let mut a = a.clone();
        let mut b = b.clone();
        for key in ["tags", "companies", "notes"] {
            // What the contact had is where its long list starts.
            let before = embedded_ids(&b, key);
            assert_eq!(
                embedded_ids(&a, key)[..before.len()],
                before[..],
                "{id} {key}"
            );
            a.as_object_mut().unwrap().remove(key);
            b.as_object_mut().unwrap().remove(key);
        }
        assert_eq!(a, b, "{id}: only its lists changed");
    }
    for (a, b) in with.companies.iter().zip(&without.companies) {
        let mut a = a.clone();
        let mut b = b.clone();
        assert!(a["user_count"].as_u64() >= b["user_count"].as_u64());
        a["user_count"] = json!(0);
        b["user_count"] = json!(0);
        assert_eq!(a, b, "only user counts change");
    }
    assert_eq!(with.conversations, without.conversations);
    assert_eq!(with.tickets, without.tickets);
    assert_eq!(with.contact_segments, without.contact_segments);
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
    assert!(w
        .activity_logs
        .iter()
        .all(|l| l["performed_by"]["type"] == "admin" && l["id"].as_str().unwrap().len() == 36));
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

/// As in Intercom, an attribute's `name` is not unique within its model (a nested or custom
/// attribute can share its leaf name with a top-level one), its `full_name` is: every model
/// has at least one such pair.
#[test]
fn attribute_names_repeat_full_names_do_not() {
    let w = ws(1);
    for (model, attributes) in [
        ("company", &w.company_attributes),
        ("contact", &w.contact_attributes),
        ("conversation", &w.conversation_attributes),
    ] {
        let field = |f: &str| -> Vec<&str> {
            attributes
                .iter()
                .map(|a| {
                    a[f].as_str()
                        .unwrap_or_else(|| panic!("{model}: no {f} in {a}"))
                })
                .collect()
        };
        let names: HashSet<&str> = field("name").into_iter().collect();
        let full_names: HashSet<&str> = field("full_name").into_iter().collect();
        assert_eq!(
            full_names.len(),
            attributes.len(),
            "{model}: full_name repeats"
        );
        assert!(
            names.len() < attributes.len(),
            "{model}: every name is unique, so nothing tells full_name from name"
        );
        for a in attributes.iter() {
            assert_eq!(a["model"], model);
            let (name, full_name) = (a["name"].as_str(), a["full_name"].as_str());
            assert!(
                full_name.is_some_and(|f| Some(f.rsplit('.').next().unwrap_or(f)) == name),
                "{model}: full_name {full_name:?} does not end in name {name:?}"
            );
        }
    }
}
