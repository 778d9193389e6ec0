//! Search index lag: which records a search cannot see yet. Intercom
//! indexes a record some time after it changes, so a search leaves it out
//! (of its results and of `total_count`) for a while: the contact index
//! delay ([`FakeConfig::search_index_delay_secs`], the same for every
//! contact) and the per-record jitter
//! ([`FakeConfig::search_index_jitter_secs`], for every search), both
//! measured on the fake's clock. This module says what the cutoff of a
//! search is now; `eval` applies it to a record, `index` narrows its
//! sorted ranges by it.
//!
//! [`FakeConfig::search_index_delay_secs`]: crate::FakeConfig::search_index_delay_secs
//! [`FakeConfig::search_index_jitter_secs`]: crate::FakeConfig::search_index_jitter_secs

use crate::endpoints::context::Store;
use crate::endpoints::search::eval::{CREATED_AT_SLOT, UPDATED_AT_SLOT};
use crate::endpoints::search::parse::Collection;
use crate::rng::mix64;

/// The records not indexed yet. A record is indexed when its timestamp at
/// path slot `field_slot` ([`UPDATED_AT_SLOT`] or [`CREATED_AT_SLOT`])
/// plus its jitter lag is at most `max`, and, with a jitter, its
/// `updated_at` plus that lag is at most the jitter's `now` (a missing
/// timestamp counts as 0).
#[derive(Clone, Copy, Debug)]
pub(crate) struct IndexCutoff {
    pub field_slot: usize,
    pub max: i64,
    pub jitter: Option<Jitter>,
}

/// A lag of 0..=`secs` seconds per record version, drawn from `seed`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Jitter {
    pub seed: u64,
    /// The largest lag (more than 0).
    pub secs: i64,
    /// The fake's clock when the search runs.
    pub now: i64,
}

impl Jitter {
    /// The lag of the record `id` as of `updated_at`: 0..=`secs`, the same
    /// for the same arguments, independent between records and versions.
    pub(crate) fn lag(&self, id: &str, updated_at: i64) -> i64 {
        // FNV-1a over the id, then mixed with the seed and the timestamp.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in id.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        let h = mix64(h ^ mix64(self.seed ^ 0x1A6_1A6) ^ mix64(updated_at as u64));
        let span = (self.secs.max(0) as u64).saturating_add(1);
        (h % span) as i64
    }
}

/// The cutoff of a search of `coll` now, if anything is lagging: the
/// contact index delay (contacts only) and the jitter, on the fake's clock.
pub(crate) fn cutoff_now(s: &Store, coll: Collection) -> Option<IndexCutoff> {
    let now = s.now_secs();
    let delay = match coll {
        Collection::Contacts => s.index_delay_secs().max(0),
        Collection::Conversations | Collection::Tickets => 0,
    };
    let jitter = s.index_jitter_secs();
    let jitter = (jitter > 0).then_some(Jitter {
        seed: s.config.seed,
        secs: jitter,
        now,
    });
    if delay == 0 && jitter.is_none() {
        return None;
    }
    let field_slot = if delay > 0 && s.config.search_index_delay_create_only {
        CREATED_AT_SLOT
    } else {
        UPDATED_AT_SLOT
    };
    Some(IndexCutoff {
        field_slot,
        max: now.saturating_sub(delay),
        jitter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lags_spread_and_repeat() {
        let j = Jitter {
            seed: 42,
            secs: 60,
            now: 0,
        };
        let lags: Vec<i64> = (0..200).map(|i| j.lag(&format!("c{i}"), 1_000)).collect();
        assert!(lags.iter().all(|l| (0..=60).contains(l)));
        let distinct: std::collections::HashSet<_> = lags.iter().collect();
        assert!(distinct.len() > 40, "{distinct:?}");
        assert_eq!(j.lag("c7", 1_000), lags[7]);
        let versions: std::collections::HashSet<_> = (0..50).map(|t| j.lag("c7", t)).collect();
        assert!(versions.len() > 10, "an update draws a new lag");
        let other_seed = Jitter { seed: 43, ..j };
        let moved = (0..200)
            .filter(|i| other_seed.lag(&format!("c{i}"), 1_000) != lags[*i as usize])
            .count();
        assert!(moved > 150);
        let one = Jitter { secs: 1, ..j };
        assert!((0..100).all(|t| one.lag("x", t) <= 1));
    }
}
