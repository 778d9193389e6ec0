//! Deleted conversations (`GET /conversations/deleted`): ids that no
//! current conversation has, mostly gaps in the id sequence.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::gen::context::Earlier;
use crate::gen::util::between;
use crate::rng::Rng;
use crate::time::{DAY, GENERATION_END, GENERATION_START};

impl Earlier<'_> {
    /// Deleted conversations: ids that no current conversation has (mostly
    /// gaps in the conversation id sequence), sorted by `deleted_at`.
    pub(in crate::gen) fn deleted_conversations(&self, conversations: &[Value]) -> Vec<Value> {
        let mut rng = Rng::derive(self.seed, "deleted-conversations");
        let n = self.cfg.deleted_conversations;
        let mut ids: Vec<i64> = conversations
            .iter()
            .filter_map(|c| c.get("id").and_then(Value::as_str))
            .filter_map(|s| s.parse().ok())
            .collect();
        ids.sort_unstable();
        let taken: HashSet<i64> = ids.iter().copied().collect();
        let mut gaps: Vec<i64> = Vec::new();
        for w in ids.windows(2) {
            gaps.extend((w[0] + 1..w[1]).take(8));
            if gaps.len() >= 4 * n + 16 {
                break;
            }
        }
        let mut chosen: Vec<i64> = rng
            .sample_indices(gaps.len(), n)
            .into_iter()
            .map(|i| gaps[i])
            .collect();
        let mut next = ids.last().copied().unwrap_or(1_000) + 1;
        while chosen.len() < n {
            if !taken.contains(&next) {
                chosen.push(next);
            }
            next += rng.range(1, 3);
        }
        let mut out: Vec<Value> = chosen
            .into_iter()
            .map(|id| {
                json!({
                    "type": "conversation",
                    "id": id.to_string(),
                    "deleted_at": between(&mut rng, GENERATION_START + 30 * DAY, GENERATION_END),
                    "metrics_retained": rng.chance(0.5),
                })
            })
            .collect();
        out.sort_by_key(|v| v.get("deleted_at").and_then(Value::as_i64).unwrap_or(0));
        out
    }
}
