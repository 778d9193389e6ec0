//! Companies, with plans, tags, segments and custom attributes (their
//! `user_count` is filled in once the contacts exist).

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::gen::attributes::{custom_attributes, COMPANY_CUSTOM};
use crate::gen::context::Gen;
use crate::gen::util::{between, letters, round2};
use crate::rng::Rng;
use crate::time::{DAY, GENERATION_END, GENERATION_START};
use crate::words::*;

impl Gen<'_> {
    /// Companies (with `user_count` still 0) and each company's e-mail domain.
    pub(super) fn companies(
        &self,
        seed: u64,
        tags: &[Value],
        company_segments: &[Value],
    ) -> (Vec<Value>, Vec<String>) {
        let mut rng = Rng::derive(seed, "companies");
        let n = self.cfg.companies;
        let mut names: HashSet<String> = HashSet::with_capacity(n);
        let mut domains = Vec::with_capacity(n);
        let seg_p: Vec<f64> = company_segments
            .iter()
            .map(|_| 0.1 + rng.unit() * 0.4)
            .collect();
        let plan_ids: Vec<i64> = PLANS.iter().map(|_| rng.range(100_000, 999_999)).collect();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let prefix = rng.word(COMPANY_PREFIXES);
            let core = rng.word(COMPANY_CORES);
            let suffix = rng.word(COMPANY_SUFFIXES);
            let mut name = format!("{prefix}{} {suffix}", core.to_lowercase());
            if !names.insert(name.clone()) {
                name = format!("{prefix}{} {suffix} {}", core.to_lowercase(), i + 1);
                names.insert(name.clone());
            }
            let tld = rng.word(TLDS);
            let domain = if name.ends_with(char::is_numeric) {
                format!("{}{}{}.{}", letters(prefix), letters(core), i + 1, tld)
            } else {
                format!("{}{}.{}", letters(prefix), letters(core), tld)
            };
            let created = between(&mut rng, GENERATION_START, GENERATION_END - 30 * DAY);
            let updated = between(&mut rng, created, GENERATION_END);
            let remote_created = between(&mut rng, GENERATION_START, created);
            let last_request = between(&mut rng, created, updated);
            let plan = if rng.chance(0.85) {
                let p = rng.index(PLANS.len());
                json!({"type": "plan", "id": plan_ids[p].to_string(), "name": PLANS[p]})
            } else {
                json!({})
            };
            let company_tags: Vec<Value> = {
                let k = if rng.chance(0.5) { 0 } else { 1 + rng.index(3) };
                rng.sample_indices(tags.len(), k)
                    .into_iter()
                    .map(|t| json!({"type": "tag", "id": tags[t]["id"], "name": tags[t]["name"]}))
                    .collect()
            };
            let segs: Vec<Value> = company_segments
                .iter()
                .zip(seg_p.iter())
                .filter_map(|(s, &p)| if rng.chance(p) { Some(s.clone()) } else { None })
                .collect();
            let size = match rng.index(4) {
                0 => rng.range(1, 10),
                1 => rng.range(11, 50),
                2 => rng.range(51, 500),
                _ => rng.range(501, 20_000),
            };
            let spend = round2(rng.unit() * 20_000.0 + 9.0);
            let custom = custom_attributes(&mut rng, COMPANY_CUSTOM, 0.75, false, created);
            out.push(json!({
                "type": "company",
                "id": rng.object_id(created),
                "name": name,
                "app_id": self.app_code,
                "company_id": (10_000 + i).to_string(),
                "remote_created_at": remote_created,
                "created_at": created,
                "updated_at": updated,
                "last_request_at": last_request,
                "plan": plan,
                "size": size,
                "website": format!("https://www.{domain}"),
                "industry": rng.word(INDUSTRIES),
                "monthly_spend": spend,
                "session_count": rng.range(0, 5_000),
                "user_count": 0,
                "custom_attributes": custom,
                "tags": {"type": "tag.list", "tags": company_tags},
                "segments": {"type": "segment.list", "segments": segs},
            }));
            domains.push(domain);
        }
        (out, domains)
    }
}
