//! The few contacts with more than 10 tags, companies and notes (see
//! [`FakeConfig::contacts_with_long_lists`](crate::FakeConfig::contacts_with_long_lists)).
//!
//! They are chosen among the users, after every contact is drawn, from a
//! stream of their own: no other contact changes, and a chosen one only
//! gains entries after those it had (so its first company, which gave its
//! e-mail domain, stays first). Each list it gains grows to 11 or more
//! distinct entries; its embedded lists then show the first 10.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::gen::contacts::contact::{ContactInputs, ContactOut};
use crate::rng::{mix64, Rng};
use crate::workspace::shapes::addressable_list;
use crate::workspace::{ContactLists, EMBEDDED_LIST_LIMIT};

/// Most tags or companies a long list gets.
const LONG_LIST_MAX: usize = 40;
/// Most notes a contact with long lists gets (fewer than the id spacing
/// of [`LONG_LIST_MAX`] between two such contacts).
const LONG_NOTES_MAX: i64 = 30;

/// How many contacts get long lists: `max(round(share * contacts),
/// min(3, contacts / 20))`, at most `users`; none for a share of 0 or less.
pub(super) fn how_many(share: f64, contacts: usize, users: usize) -> usize {
    if share.is_nan() || share <= 0.0 {
        return 0;
    }
    let by_share = (share.min(1.0) * contacts as f64).round() as usize;
    by_share.max(3.min(contacts / 20)).min(users)
}

/// Give the chosen users long lists (in `outs`, which are in index order,
/// before e-mails are de-duplicated and company user counts summed);
/// returns their complete lists by contact id.
pub(super) fn lengthen(
    share: f64,
    seed: u64,
    outs: &mut [ContactOut],
    inp: &ContactInputs<'_>,
) -> BTreeMap<String, ContactLists> {
    let users: Vec<usize> = (0..outs.len())
        .filter(|&i| outs[i].reference.role == "user")
        .collect();
    let n = how_many(share, outs.len(), users.len());
    let mut rng = Rng::derive(seed, "long-contact-lists");
    let stream = rng.next_u64();
    let chosen = rng.sample_indices(users.len(), n);
    // Extra note ids come after every generated one (`note_base + 4i + k`, k <= 3).
    let first_extra_note = inp.note_base + 4 * outs.len() as i64 + 1;
    let mut long = BTreeMap::new();
    for (rank, &u) in chosen.iter().enumerate() {
        let i = users[u];
        let mut rng = Rng::new(mix64(
            stream ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ));
        let out = &mut outs[i];
        let mut lists = ContactLists::embedded(&out.value);
        grow(&mut rng, &mut lists.tags, &inp.tag_ids);
        if grow(&mut rng, &mut lists.companies, &inp.company_ids) {
            out.companies = lists
                .companies
                .iter()
                .filter_map(|id| inp.company_ids.iter().position(|c| c == id))
                .collect();
        }
        let target = rng.range(EMBEDDED_LIST_LIMIT as i64 + 1, LONG_NOTES_MAX) as usize;
        let base = first_extra_note + rank as i64 * LONG_LIST_MAX as i64;
        let have = lists.notes.len();
        lists
            .notes
            .extend((0..target.saturating_sub(have) as i64).map(|k| (base + k).to_string()));
        embed(&mut out.value, &lists);
        long.insert(out.reference.id.clone(), lists);
    }
    long
}

/// Add distinct entries of `pool` (in random order) to `list` until it has
/// 11 to 40 of them, if `pool` has more than 10; whether it grew.
fn grow(rng: &mut Rng, list: &mut Vec<String>, pool: &[String]) -> bool {
    if pool.len() <= EMBEDDED_LIST_LIMIT {
        return false;
    }
    let most = pool.len().min(LONG_LIST_MAX);
    let target = rng.range(EMBEDDED_LIST_LIMIT as i64 + 1, most as i64) as usize;
    let mut others: Vec<&String> = pool.iter().filter(|p| !list.contains(p)).collect();
    // Fisher-Yates, then take what is missing.
    for k in (1..others.len()).rev() {
        let j = rng.index(k + 1);
        others.swap(k, j);
    }
    let missing = target.saturating_sub(list.len());
    list.extend(others.into_iter().take(missing).cloned());
    true
}

/// Rewrite a contact's embedded tags, notes and companies from `lists`.
fn embed(contact: &mut Value, lists: &ContactLists) {
    let id = contact
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let list = |kind: &str, prefix: &str, ids: &[String], what: &str| {
        addressable_list(kind, prefix, ids, format!("/contacts/{id}/{what}"))
    };
    contact["tags"] = list("tag", "/tags", &lists.tags, "tags");
    contact["notes"] = list("note", "/notes", &lists.notes, "notes");
    contact["companies"] = list("company", "/companies", &lists.companies, "companies");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_many_contacts_get_long_lists() {
        assert_eq!(how_many(0.02, 120, 80), 3, "at least 3 from 60 contacts");
        assert_eq!(how_many(0.02, 100, 70), 3);
        assert_eq!(how_many(0.02, 5, 4), 0, "a tiny workspace is left alone");
        assert_eq!(how_many(0.02, 40, 30), 2);
        assert_eq!(how_many(0.02, 2_000, 1_400), 40);
        assert_eq!(how_many(0.0, 2_000, 1_400), 0);
        assert_eq!(how_many(-1.0, 2_000, 1_400), 0);
        assert_eq!(how_many(1.0, 100, 2), 2, "users only");
        assert_eq!(how_many(f64::NAN, 100, 70), 0);
    }

    #[test]
    fn grow_keeps_the_first_entries_and_adds_distinct_ones() {
        let pool: Vec<String> = (0..30).map(|i| format!("t{i}")).collect();
        let mut rng = Rng::new(7);
        let mut list = vec!["t5".to_string(), "t2".to_string()];
        assert!(grow(&mut rng, &mut list, &pool));
        assert!((11..=30).contains(&list.len()), "{list:?}");
        assert_eq!(&list[..2], ["t5", "t2"]);
        let mut sorted = list.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), list.len());
        let small: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        let mut list = vec!["t1".to_string()];
        assert!(!grow(&mut rng, &mut list, &small));
        assert_eq!(list, ["t1"]);
    }
}
