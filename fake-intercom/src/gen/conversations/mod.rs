//! Conversations: each one planned, its parts drawn, then summed up (see
//! `cast`, `parts`, `summary`); ids are given in creation order. Also the
//! deleted conversations (`deleted`).

mod cast;
mod deleted;
mod parts;
mod summary;

use serde_json::{json, Value};

use crate::gen::context::{AdminRef, ContactRef, Gen};
use crate::gen::conversations::cast::Builder;
use crate::rng::Rng;

/// What conversations refer to, generated before them.
pub(in crate::gen) struct Sources<'a> {
    pub(in crate::gen) contacts: &'a [ContactRef],
    pub(in crate::gen) admins: &'a [AdminRef],
    pub(in crate::gen) teams: &'a [Value],
    pub(in crate::gen) tags: &'a [Value],
    pub(in crate::gen) articles: &'a [Value],
}

impl Gen<'_> {
    /// Every conversation, sorted by `created_at` (ids ascend with it).
    pub(in crate::gen) fn conversations(&self, seed: u64, from: &Sources<'_>) -> Vec<Value> {
        let mut rng = Rng::derive(seed, "conversations");
        let team_ids: Vec<i64> = from
            .teams
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
        let builder = Builder {
            g: self,
            contacts: from.contacts,
            admins: from.admins,
            bot: &bot,
            team_ids: &team_ids,
            tags: from.tags,
            articles: from.articles,
        };
        let mut out: Vec<(i64, Value)> = Vec::with_capacity(self.cfg.conversations);
        for _ in 0..self.cfg.conversations {
            let plan = builder.plan(&mut rng);
            let thread = builder.walk(&mut rng, &plan, &mut part_id);
            let conversation = builder.finish(&mut rng, &plan, thread, &mut source_id);
            out.push((plan.created, conversation));
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
