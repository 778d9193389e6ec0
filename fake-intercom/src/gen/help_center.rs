//! The help center: help centers, their collections (and sections), and
//! articles.

use serde_json::{json, Value};

use crate::gen::context::{AdminRef, Gen};
use crate::gen::util::{between, html_paragraphs, slug, unique_from_list};
use crate::rng::Rng;
use crate::time::{DAY, GENERATION_END, GENERATION_START};
use crate::words::*;

impl Gen<'_> {
    pub(super) fn help_centers(&self, seed: u64) -> Vec<Value> {
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

    pub(super) fn collections(&self, seed: u64, help_centers: &[Value]) -> Vec<Value> {
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

    pub(super) fn articles(
        &self,
        seed: u64,
        collections: &[Value],
        admins: &[AdminRef],
    ) -> Vec<Value> {
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
}
