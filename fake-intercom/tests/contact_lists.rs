//! HTTP tests of the contacts with more than 10 tags, companies and notes:
//! what a contact embeds (10, `has_more`, the full `total_count`), the
//! full lists (`GET /contacts/{id}/tags`, `/companies`, `/notes`,
//! `/subscriptions`), and the counts and searches that read them.

use std::collections::{BTreeMap, HashSet};

use fake_intercom::{ContactLists, FakeConfig, FakeIntercom};
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get_url(fake: &FakeIntercom, url: &str) -> (u16, Value) {
    let r = client()
        .get(url)
        .bearer_auth(fake.token())
        .header("Intercom-Version", "2.11")
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON body"))
}

async fn get(fake: &FakeIntercom, path: &str) -> (u16, Value) {
    get_url(fake, &format!("{}{}", fake.base_url(), path)).await
}

async fn search_contacts(fake: &FakeIntercom, query: Value) -> Value {
    let r = client()
        .post(format!("{}/contacts/search", fake.base_url()))
        .bearer_auth(fake.token())
        .header("Intercom-Version", "2.11")
        .json(&json!({"query": query, "pagination": {"per_page": 150}}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    r.json().await.expect("JSON body")
}

/// The contacts with long lists, by id.
fn long_lists(fake: &FakeIntercom) -> BTreeMap<String, ContactLists> {
    fake.with_workspace(|w| w.long_contact_lists.clone())
}

/// Every page of a paged contact list, following `pages.next`.
async fn all_pages(fake: &FakeIntercom, first: &str) -> (Vec<Value>, usize) {
    let mut url = format!("{}{}", fake.base_url(), first);
    let mut items = Vec::new();
    let mut pages = 0;
    loop {
        let (status, body) = get_url(fake, &url).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        assert_eq!(body["type"], "list");
        assert_eq!(body["pages"]["type"], "pages");
        assert_eq!(body["pages"]["page"], json!(pages));
        items.extend(body["data"].as_array().unwrap().iter().cloned());
        assert!(body["total_count"].as_u64().unwrap() as usize >= items.len());
        match body["pages"]["next"].as_str() {
            Some(next) => url = next.to_string(),
            None => {
                assert!(
                    body["pages"]["next"].is_null(),
                    "next is null on the last page"
                );
                assert_eq!(body["pages"]["total_pages"], json!(pages));
                assert_eq!(body["total_count"], json!(items.len()));
                return (items, pages);
            }
        }
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn long_lists_are_embedded_ten_at_a_time() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let long = long_lists(&fake);
    assert_eq!(long.len(), 3);
    let all = search_contacts(
        &fake,
        json!({"field": "created_at", "operator": ">", "value": 0}),
    )
    .await;
    let contacts = all["data"].as_array().unwrap();
    assert_eq!(contacts.len(), 120);
    let mut short = 0;
    for c in contacts {
        let id = c["id"].as_str().unwrap();
        let lists = fake.with_workspace(|w| w.contact_lists(id)).unwrap();
        for (key, full) in [
            ("tags", &lists.tags),
            ("companies", &lists.companies),
            ("notes", &lists.notes),
            (
                "opted_in_subscription_types",
                &lists.opted_in_subscription_types,
            ),
        ] {
            let embedded = c[key]["data"].as_array().unwrap();
            assert_eq!(embedded.len(), full.len().min(10), "{id} {key}");
            assert_eq!(ids(embedded)[..], full[..embedded.len()], "{id} {key}");
            assert_eq!(c[key]["total_count"], json!(full.len()));
            assert_eq!(c[key]["has_more"], json!(full.len() > 10));
        }
        if long.contains_key(id) {
            for key in ["tags", "companies", "notes"] {
                assert_eq!(c[key]["has_more"], true, "{id} {key}");
                assert!(c[key]["total_count"].as_u64().unwrap() > 10);
            }
        } else {
            short += 1;
        }
    }
    assert_eq!(short, 117);
}

#[tokio::test]
async fn the_full_lists_are_served() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let (tags, subscription_types) = fake.with_workspace(|w| {
        let tags: BTreeMap<String, String> = w
            .tags
            .iter()
            .map(|t| {
                let s = |k: &str| t[k].as_str().unwrap().to_string();
                (s("id"), s("name"))
            })
            .collect();
        (tags, w.subscription_types.clone())
    });
    let admins: HashSet<String> = fake.with_workspace(|w| {
        w.admins
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    });
    for (id, lists) in long_lists(&fake) {
        let (status, body) = get(&fake, &format!("/contacts/{id}/tags")).await;
        assert_eq!(status, 200);
        assert_eq!(body["type"], "list");
        let served = body["data"].as_array().unwrap();
        assert_eq!(ids(served), lists.tags);
        for t in served {
            assert_eq!(t["type"], "tag");
            assert_eq!(
                t["name"].as_str(),
                tags.get(t["id"].as_str().unwrap()).map(String::as_str)
            );
            assert!(t["applied_at"].is_i64());
            assert_eq!(t["applied_by"]["type"], "admin");
            assert!(admins.contains(t["applied_by"]["id"].as_str().unwrap()));
        }

        let (companies, pages) =
            all_pages(&fake, &format!("/contacts/{id}/companies?per_page=4")).await;
        assert_eq!(ids(&companies), lists.companies);
        assert_eq!(pages, lists.companies.len().div_ceil(4));
        assert!(companies
            .iter()
            .all(|c| c["type"] == "company" && c["user_count"].is_u64()));
        let (one_page, pages) = all_pages(&fake, &format!("/contacts/{id}/companies")).await;
        assert_eq!(
            (one_page.len(), pages),
            (lists.companies.len(), 1),
            "50 a page"
        );

        let (notes, _) = all_pages(&fake, &format!("/contacts/{id}/notes?per_page=7")).await;
        let mut note_ids = ids(&notes);
        note_ids.reverse();
        assert_eq!(note_ids, lists.notes, "newest first");
        let times: Vec<i64> = notes
            .iter()
            .map(|n| n["created_at"].as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|p| p[0] >= p[1]));
        for n in &notes {
            assert_eq!(n["type"], "note");
            assert_eq!(n["contact"], json!({"type": "contact", "id": id}));
            assert_eq!(n["author"]["type"], "admin");
            assert!(n["body"].as_str().unwrap().starts_with("<p>"));
        }
        assert_eq!(
            notes,
            fake.with_workspace(|w| w.contact_notes(&id)).unwrap(),
            "the same notes on every request"
        );

        let (status, body) = get(&fake, &format!("/contacts/{id}/subscriptions")).await;
        assert_eq!(status, 200);
        let want: Vec<&Value> = lists
            .opted_out_subscription_types
            .iter()
            .chain(&lists.opted_in_subscription_types)
            .map(|s| {
                subscription_types
                    .iter()
                    .find(|t| t["id"] == json!(s))
                    .unwrap()
            })
            .collect();
        assert_eq!(body, json!({"type": "list", "data": want}));
    }
}

#[tokio::test]
async fn short_lists_and_unknown_contacts() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let (id, lists) = fake.with_workspace(|w| {
        let c = w
            .contacts
            .iter()
            .find(|c| {
                let n = |k: &str| c[k]["total_count"].as_u64().unwrap();
                (2..=10).contains(&n("notes")) && (1..=10).contains(&n("tags"))
            })
            .unwrap();
        let id = c["id"].as_str().unwrap().to_string();
        let lists = w.contact_lists(&id).unwrap();
        (id, lists)
    });
    assert!(!lists.is_long());
    let (_, tags) = get(&fake, &format!("/contacts/{id}/tags")).await;
    assert_eq!(ids(tags["data"].as_array().unwrap()), lists.tags);
    let (notes, pages) = all_pages(&fake, &format!("/contacts/{id}/notes")).await;
    assert_eq!((notes.len(), pages), (lists.notes.len(), 1));
    for what in ["tags", "companies", "notes", "subscriptions"] {
        let (status, body) = get(&fake, &format!("/contacts/nosuchcontact/{what}")).await;
        assert_eq!(status, 404, "{what}");
        assert_eq!(
            body["errors"],
            json!([{"code": "not_found", "message": "User Not Found"}])
        );
    }
    let (status, body) = get(&fake, &format!("/contacts/{id}/notes?per_page=151")).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn counts_and_search_see_every_tag() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let long = long_lists(&fake);
    // Tag counts count each contact's whole list.
    let (_, counts) = get(&fake, "/counts?type=user&count=tag").await;
    let by_tag = fake.with_workspace(|w| {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for c in &w.contacts {
            for t in w.contact_lists(c["id"].as_str().unwrap()).unwrap().tags {
                let name = w.tags.iter().find(|x| x["id"] == json!(t)).unwrap()["name"].clone();
                *m.entry(name.as_str().unwrap().to_string()).or_default() += 1;
            }
        }
        m
    });
    for entry in counts["user"]["tag"].as_array().unwrap() {
        let (name, n) = entry.as_object().unwrap().iter().next().unwrap();
        assert_eq!(
            n.as_u64().unwrap(),
            by_tag.get(name).copied().unwrap_or(0),
            "{name}"
        );
    }
    // Company user counts count each user's whole list.
    let (_, companies) = get(&fake, "/counts?type=company&count=user&per_page=150").await;
    let sum: u64 = companies["company"]["user"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e.as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| *k != "remote_company_id")
                .unwrap()
                .1
                .as_u64()
                .unwrap()
        })
        .sum();
    let linked: usize = fake.with_workspace(|w| {
        w.contacts
            .iter()
            .map(|c| {
                w.contact_lists(c["id"].as_str().unwrap())
                    .unwrap()
                    .companies
                    .len()
            })
            .sum()
    });
    assert_eq!(sum as usize, linked);
    // A search by tag finds a contact whose tag is past its first 10.
    let (id, lists) = long.iter().next().unwrap();
    let hidden = &lists.tags[10];
    let found = search_contacts(
        &fake,
        json!({"field": "tag_id", "operator": "=", "value": hidden}),
    )
    .await;
    assert!(ids(found["data"].as_array().unwrap()).contains(id));
    let not = search_contacts(
        &fake,
        json!({"operator": "AND", "value": [
            {"field": "id", "operator": "=", "value": id},
            {"field": "tag_id", "operator": "!=", "value": hidden}]}),
    )
    .await;
    assert_eq!(not["total_count"], 0);
}
