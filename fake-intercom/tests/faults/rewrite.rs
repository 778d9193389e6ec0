//! `Patch` and `Replace`: real answers changed on purpose, whole, over
//! real HTTP (a module of `tests/faults.rs`).

use fake_intercom::{FakeConfig, FakeIntercom, Fault, FaultKind};
use serde_json::{json, Value};

use super::{fault, get, get_json, request};

async fn post(fake: &FakeIntercom, path: &str, body: &Value) -> reqwest::Response {
    request(fake, "POST", path)
        .json(body)
        .send()
        .await
        .expect("request")
}

/// The status and body of an answer, checking its `Content-Length`.
async fn whole(r: reqwest::Response) -> (u16, Vec<u8>) {
    let status = r.status().as_u16();
    let length = r.content_length();
    let body = r.bytes().await.expect("a complete answer").to_vec();
    assert_eq!(length, Some(body.len() as u64), "Content-Length");
    (status, body)
}

fn patch(ops: &[(&str, Option<Value>)]) -> FaultKind {
    FaultKind::Patch(
        ops.iter()
            .map(|(p, v)| (p.to_string(), v.clone()))
            .collect(),
    )
}

#[tokio::test]
async fn patches_change_search_pages_in_place() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let search = json!({"query": {"operator": "AND", "value": []},
                        "pagination": {"per_page": 5}});
    let kind = patch(&[
        ("/conversations", Some(json!([]))),
        ("/pages/total_pages", Some(json!(1))),
        ("/total_count", Some(json!(99999))),
    ]);
    fake.inject_fault(fault("POST", "/conversations/search", kind));
    let (status, body) = whole(post(&fake, "/conversations/search", &search).await).await;
    assert_eq!(status, 200);
    let page: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(page["type"], "conversation.list");
    assert_eq!(page["conversations"], json!([]), "an empty page...");
    assert!(
        page["pages"]["next"]["starting_after"].is_string(),
        "...with a next page"
    );
    assert_eq!(page["pages"]["total_pages"], 1);
    assert_eq!(page["total_count"], 99999);

    fake.inject_fault(fault(
        "POST",
        "/contacts/search",
        patch(&[("/pages/next", None), ("/data/0/role", Some(json!(5)))]),
    ));
    let (_, body) = whole(post(&fake, "/contacts/search", &search).await).await;
    let page: Value = serde_json::from_slice(&body).unwrap();
    assert!(page["pages"].get("next").is_none(), "the walk ends early");
    assert_eq!(page["pages"]["page"], 1);
    assert_eq!(page["data"][0]["role"], 5);
    assert_eq!(page["data"].as_array().unwrap().len(), 5);
    assert_eq!(page["total_count"], 120);

    // Pointers that do not resolve are skipped; `status` is kept.
    let real = get_json(&fake, "/admins").await;
    fake.inject_fault(Fault {
        status: 503,
        ..fault(
            "GET",
            "/admins",
            patch(&[("/nope/x", Some(json!(1))), ("/admins/999", None)]),
        )
    });
    let (status, body) = whole(get(&fake, "/admins").await).await;
    assert_eq!(status, 503);
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), real);
    // The answer after the fault is the real one again.
    let page: Value = post(&fake, "/contacts/search", &search)
        .await
        .json()
        .await
        .unwrap();
    assert!(page["pages"]["next"].is_object());
    assert_eq!(fake.stats().faults.get("patch"), Some(&3));
}

#[tokio::test]
async fn replacements_put_raw_bytes_into_answers() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let real = get(&fake, "/admins").await.bytes().await.unwrap().to_vec();
    assert!(real.contains(&b'a'));
    // A lone Latin-1 byte for every `a`: the answer is no longer UTF-8.
    fake.inject_fault(fault(
        "GET",
        "/admins",
        FaultKind::Replace {
            find: b"a".to_vec(),
            with: vec![0xE9],
        },
    ));
    let (status, body) = whole(get(&fake, "/admins").await).await;
    assert_eq!(status, 200);
    let expected: Vec<u8> = real
        .iter()
        .map(|b| if *b == b'a' { 0xE9 } else { *b })
        .collect();
    assert_eq!(body, expected);
    assert!(std::str::from_utf8(&body).is_err());
    assert!(serde_json::from_slice::<Value>(&body).is_err());

    // 100 000 nested arrays where the count was.
    let depth = 100_000;
    let mut deep = b"\"total_count\":".to_vec();
    deep.extend(vec![b'['; depth]);
    deep.extend(vec![b']'; depth]);
    deep.extend(b",\"was\":");
    fake.inject_fault(fault(
        "POST",
        "/contacts/search",
        FaultKind::Replace {
            find: b"\"total_count\":".to_vec(),
            with: deep,
        },
    ));
    let search = json!({"query": {"operator": "AND", "value": []}});
    let (status, body) = whole(post(&fake, "/contacts/search", &search).await).await;
    assert_eq!(status, 200);
    assert!(body.len() > 2 * depth);
    let e = serde_json::from_slice::<Value>(&body).expect_err("too deep for serde_json");
    assert!(e.to_string().contains("recursion limit"), "{e}");
    assert_eq!(fake.stats().faults.get("replace"), Some(&2));
}

#[tokio::test]
async fn patch_and_replace_have_text_forms() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let f: Fault = "GET /teams patch:/teams=[];/type=\"x\" status=202"
        .parse()
        .unwrap();
    fake.inject_fault(f);
    let r = get(&fake, "/teams").await;
    assert_eq!(r.status(), 202);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"type": "x", "teams": []})
    );
    let f: Fault = r"GET /tags replace:\x22type\x22=\x22kind\x22"
        .parse()
        .unwrap();
    assert_eq!(
        f.kind,
        FaultKind::Replace {
            find: b"\"type\"".to_vec(),
            with: b"\"kind\"".to_vec()
        }
    );
    fake.inject_fault(f);
    let tags: Value = get(&fake, "/tags").await.json().await.unwrap();
    assert_eq!(tags["kind"], "list");
    assert!(tags.get("type").is_none());
}

/// A field of the wrong type in every answer needs no fault: tests edit
/// the workspace (here a conversation statistic given as a string).
#[tokio::test]
async fn workspace_edits_reach_every_answer() {
    let fake = FakeIntercom::start(FakeConfig::default()).await.unwrap();
    let id = fake.with_workspace(|w| {
        let c = &mut w.conversations[0];
        c["statistics"]["time_to_admin_reply"] = json!("12");
        c["id"].as_str().unwrap().to_string()
    });
    let c = get_json(&fake, &format!("/conversations/{id}")).await;
    assert_eq!(c["statistics"]["time_to_admin_reply"], "12");
}
