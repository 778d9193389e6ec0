//! Contacts: each one made from its own random stream (so large workspaces
//! are generated on several threads and the result does not depend on the
//! thread count), then fixed up in order: long lists for a few users
//! (`long_lists`), unique e-mails, company user counts, segment
//! memberships, and sorted by creation time.

mod contact;
mod long_lists;

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use crate::gen::contacts::contact::{ContactInputs, ContactOut};
use crate::gen::context::{AdminRef, ContactRef, Gen};
use crate::gen::util::json_str;
use crate::rng::Rng;
use crate::workspace::ContactLists;

/// What contacts refer to, generated before them.
pub(in crate::gen) struct Sources<'a> {
    pub(in crate::gen) company_domains: &'a [String],
    pub(in crate::gen) tags: &'a [Value],
    pub(in crate::gen) segments: &'a [Value],
    pub(in crate::gen) subscription_types: &'a [Value],
    pub(in crate::gen) admins: &'a [AdminRef],
}

/// The generated contacts.
pub(in crate::gen) struct Contacts {
    /// Full contact objects, sorted by `created_at`.
    pub(in crate::gen) contacts: Vec<Value>,
    /// What later generators need of each contact, in the same order.
    pub(in crate::gen) refs: Vec<ContactRef>,
    /// `(contact id, person segment id)` memberships.
    pub(in crate::gen) memberships: Vec<(String, String)>,
    /// The complete lists of the contacts with long ones.
    pub(in crate::gen) long_lists: BTreeMap<String, ContactLists>,
}

impl Gen<'_> {
    /// Contacts, their references, and segment memberships; also fills in
    /// each company's `user_count`.
    pub(in crate::gen) fn contacts(
        &self,
        seed: u64,
        companies: &mut [Value],
        from: &Sources<'_>,
    ) -> Contacts {
        let mut rng = Rng::derive(seed, "contacts");
        let admin_ids: Vec<i64> = from.admins.iter().map(|a| a.id).collect();
        let inp = ContactInputs {
            seed: rng.next_u64(),
            note_base: 20_000_000 + rng.range(0, 999_999),
            tag_ids: from.tags.iter().map(|t| json_str(t, "id")).collect(),
            company_ids: companies.iter().map(|c| json_str(c, "id")).collect(),
            company_domains: from.company_domains,
            seg_info: from
                .segments
                .iter()
                .map(|s| {
                    (
                        json_str(s, "id"),
                        s.get("person_type").and_then(Value::as_str) == Some("user"),
                        0.15 + rng.unit() * 0.5,
                    )
                })
                .collect(),
            subs: from
                .subscription_types
                .iter()
                .map(|s| {
                    (
                        json_str(s, "id"),
                        s.get("consent_type").and_then(Value::as_str) == Some("opt_in"),
                    )
                })
                .collect(),
            admin_ids: &admin_ids,
        };
        let mut outs = self.each_contact(&inp);
        let long_lists =
            long_lists::lengthen(self.cfg.contacts_with_long_lists, seed, &mut outs, &inp);
        let memberships = fix_up(&mut outs, companies, &inp);
        // Sort by creation time, like Intercom's default listing order.
        outs.sort_by(|a, b| {
            (a.reference.created_at, &a.reference.id)
                .cmp(&(b.reference.created_at, &b.reference.id))
        });
        let mut contacts = Vec::with_capacity(outs.len());
        let mut refs = Vec::with_capacity(outs.len());
        for out in outs {
            contacts.push(out.value);
            refs.push(out.reference);
        }
        Contacts {
            contacts,
            refs,
            memberships,
            long_lists,
        }
    }

    /// Every contact in index order, on several threads when there are many.
    fn each_contact(&self, inp: &ContactInputs<'_>) -> Vec<ContactOut> {
        let n = self.cfg.contacts;
        let threads = if let Some(t) = self.threads {
            t.max(1)
        } else if n < 4_000 {
            1
        } else {
            std::thread::available_parallelism()
                .map(|p| p.get())
                .unwrap_or(1)
                .clamp(1, 8)
        };
        let mut outs: Vec<ContactOut> = Vec::with_capacity(n);
        if threads <= 1 {
            outs.extend((0..n).map(|i| self.contact(inp, i)));
            return outs;
        }
        let chunk = n.div_ceil(threads);
        let parts: Vec<Vec<ContactOut>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let lo = (t * chunk).min(n);
                    let hi = ((t + 1) * chunk).min(n);
                    scope.spawn(move || (lo..hi).map(|i| self.contact(inp, i)).collect())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        for p in parts {
            outs.extend(p);
        }
        outs
    }
}

/// The sequential fix-ups, in index order: company user counts, unique
/// e-mails (a numeric suffix on repeats); returns the segment memberships.
fn fix_up(
    outs: &mut [ContactOut],
    companies: &mut [Value],
    inp: &ContactInputs<'_>,
) -> Vec<(String, String)> {
    let mut user_counts = vec![0u64; companies.len()];
    let mut email_seen: HashMap<(String, String), u32> = HashMap::with_capacity(outs.len());
    let mut memberships = Vec::new();
    for out in outs.iter_mut() {
        for &c in &out.companies {
            user_counts[c] += 1;
        }
        if let Some(key) = out.email_parts.take() {
            let count = email_seen.entry(key).or_insert(0);
            *count += 1;
            if *count > 1 {
                let email = out
                    .reference
                    .email
                    .as_deref()
                    .and_then(|e| e.split_once('@'))
                    .map(|(l, d)| format!("{l}{}@{d}", *count));
                if let Some(email) = email {
                    out.value["email"] = json!(email);
                    out.reference.email = Some(email);
                }
            }
        }
        for &s in &out.segments {
            memberships.push((out.reference.id.clone(), inp.seg_info[s].0.clone()));
        }
    }
    for (c, count) in companies.iter_mut().zip(user_counts) {
        c["user_count"] = json!(count);
    }
    memberships
}
