//! Contacts embed only the first 10 of their tags, companies and notes: a contact whose
//! list has more comes out with the whole list, read from the list's endpoint.

use std::collections::BTreeMap;

use fake_intercom::FakeConfig;
use serde_json::{json, Value};

use crate::support::*;

/// The ids of a list object's entries.
fn entry_ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .map(|a| a.iter().map(|e| id_of(&e["id"])).collect())
        .unwrap_or_default()
}

fn long_lists(env: &Env) -> BTreeMap<String, fake_intercom::ContactLists> {
    env.fake.with_workspace(|w| w.long_contact_lists.clone())
}

#[test]
fn contacts_with_more_than_ten_tags_companies_or_notes_come_out_with_all_of_them() {
    let env = Env::with(FakeConfig {
        contacts: 400,
        contacts_with_long_lists: 0.05,
        ..FakeConfig::default()
    });
    let long = long_lists(&env);
    assert!(long.len() >= 5, "the fake gives some contacts long lists");
    let run = env.read_streams(&["contacts", "users"], "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    for stream in ["contacts", "users"] {
        let records = run.records(stream);
        let mut seen = 0;
        for r in &records {
            let id = id_of(&r["id"]);
            for field in ["tags", "companies", "notes"] {
                assert_eq!(r[field]["has_more"], json!(false), "{stream} {id} {field}");
                assert_eq!(
                    r[field]["total_count"].as_u64(),
                    Some(entry_ids(&r[field]).len() as u64),
                    "{stream} {id} {field}"
                );
            }
            let Some(lists) = long.get(&id) else { continue };
            seen += 1;
            // Every entry once, in the order the list's endpoint gives them.
            for (field, want) in [
                ("tags", &lists.tags),
                ("companies", &lists.companies),
                ("notes", &lists.notes),
            ] {
                let mut got = entry_ids(&r[field]);
                got.sort();
                let mut want = want.clone();
                want.sort();
                assert_eq!(got, want, "{stream} {id} {field}");
            }
            // In the shape the contact embeds them.
            let tag = &r["tags"]["data"][10];
            assert_eq!(tag["type"], "tag");
            assert_eq!(tag["url"], format!("/tags/{}", id_of(&tag["id"])));
        }
        if stream == "contacts" {
            assert_eq!(seen, long.len(), "every contact with long lists was read");
        }
        // Schema-valid.
        let validator = schema_validator(stream);
        for r in &records {
            assert!(validator.is_valid(r), "{stream} record fits its schema");
        }
    }
    // One read of each list per contact that has more (contacts and users share one
    // search), none for the others.
    let tag_reads = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/contacts/") && r.path.ends_with("/tags"))
        .count();
    let with_more_tags = long.values().filter(|l| l.tags.len() > 10).count();
    assert_eq!(tag_reads, with_more_tags);
}

#[test]
fn a_contact_whose_list_answers_404_twice_is_emitted_as_the_search_sent_it() {
    let env = Env::with(FakeConfig {
        contacts: 200,
        contacts_with_long_lists: 0.05,
        ..FakeConfig::default()
    });
    let long = long_lists(&env);
    let (gone, lists) = long
        .iter()
        .find(|(_, l)| l.tags.len() > 10)
        .map(|(id, l)| (id.clone(), l.clone()))
        .expect("a contact with more than 10 tags");
    let path = format!("/contacts/{gone}/tags");
    env.fake
        .inject_fault(error_fault(&path, 404, "not_found", "User Not Found", 2));
    let run = env.read_full_refresh(
        &["contacts"],
        json!({}),
        &[("SOURCE_INTERCOM_CHILD_404_PAUSE_MS", "10")],
    );
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let record = run
        .records("contacts")
        .into_iter()
        .find(|r| id_of(&r["id"]) == gone)
        .expect("the contact is emitted");
    assert_eq!(record["tags"]["has_more"], json!(true));
    assert_eq!(entry_ids(&record["tags"]), lists.tags[..10].to_vec());
    assert!(
        run.logs()
            .iter()
            .any(|l| l.contains(&gone) && l.contains("404, twice")),
        "{:?}",
        run.logs()
    );
}

#[test]
fn a_list_that_fails_fails_the_stream_never_a_short_list() {
    let env = Env::with(FakeConfig {
        contacts: 200,
        contacts_with_long_lists: 0.05,
        ..FakeConfig::default()
    });
    let long = long_lists(&env);
    let id = long
        .iter()
        .find(|(_, l)| l.companies.len() > 10)
        .map(|(id, _)| id.clone())
        .expect("a contact with more than 10 companies");
    let path = format!("/contacts/{id}/companies");
    env.fake
        .inject_fault(error_fault(&path, 403, "forbidden", "Forbidden", 100));
    let run = env.read_full_refresh(&["contacts"], json!({}), &[]);
    assert_ne!(run.code, 0);
    let errors = run.error_traces();
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().unwrap_or("").contains("/companies")),
        "{errors:?}"
    );
    assert!(
        !run.records("contacts")
            .iter()
            .any(|r| id_of(&r["id"]) == id && r["companies"]["has_more"] == json!(true)),
        "no contact with a short list"
    );
}
