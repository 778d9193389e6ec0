//! The workspace's labels: tags, person and company segments, and
//! subscription types.

use serde_json::{json, Value};

use crate::gen::context::Gen;
use crate::gen::util::{between, unique_from_list};
use crate::rng::Rng;
use crate::time::{DAY, GENERATION_END, GENERATION_START};
use crate::words::*;

impl Gen<'_> {
    pub(super) fn tags(&self, seed: u64) -> Vec<Value> {
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

    pub(super) fn segments(&self, seed: u64) -> (Vec<Value>, Vec<Value>) {
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

    pub(super) fn subscription_types(&self, seed: u64) -> Vec<Value> {
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
}
