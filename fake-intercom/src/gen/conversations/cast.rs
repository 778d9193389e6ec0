//! The cast and plan of one conversation: who can take part (the
//! [`Builder`]), who wrote a part ([`Who`]), and the first draws of a
//! conversation ([`Plan`]): its people, admins, initiator, final state and
//! the gaps between its parts.

use serde_json::{json, Value};

use crate::gen::context::{AdminRef, ContactRef, Gen};
use crate::gen::util::between;
use crate::rng::Rng;
use crate::time::{DAY, GENERATION_END, GENERATION_START, HOUR};

/// Who wrote a conversation part.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Who {
    Contact(usize),
    Admin(usize),
    Bot,
}

/// Everything a conversation may refer to.
pub(super) struct Builder<'a> {
    pub(super) g: &'a Gen<'a>,
    pub(super) contacts: &'a [ContactRef],
    pub(super) admins: &'a [AdminRef],
    pub(super) bot: &'a AdminRef,
    pub(super) team_ids: &'a [i64],
    pub(super) tags: &'a [Value],
    pub(super) articles: &'a [Value],
}

/// The first draws of a conversation.
pub(super) struct Plan {
    pub(super) n_parts: usize,
    /// The contacts taking part (indices; the first one starts it, if any).
    pub(super) people: Vec<usize>,
    /// The admins who work on it (indices): one lead, sometimes a helper.
    pub(super) cast: Vec<usize>,
    pub(super) contact_initiated: bool,
    pub(super) source_author: Who,
    /// `open`, `closed` or `snoozed` at the end.
    pub(super) state: &'static str,
    /// Seconds between consecutive parts.
    pub(super) gaps: Vec<i64>,
    pub(super) created: i64,
}

impl Builder<'_> {
    pub(super) fn author(&self, who: Who) -> Value {
        match who {
            Who::Contact(i) => {
                let c = &self.contacts[i];
                json!({"type": c.role, "id": c.id, "name": c.name, "email": c.email})
            }
            Who::Admin(i) => {
                let a = &self.admins[i];
                json!({"type": "admin", "id": a.id.to_string(), "name": a.name, "email": a.email})
            }
            Who::Bot => {
                json!({"type": "bot", "id": self.bot.id.to_string(), "name": self.bot.name, "email": self.bot.email})
            }
        }
    }

    /// An admin of this conversation's cast (mostly the lead admin), or the
    /// bot when the workspace has no admins.
    pub(super) fn some_admin(&self, rng: &mut Rng, cast: &[usize]) -> Who {
        match cast {
            [] => Who::Bot,
            [lead, ..] if rng.chance(0.75) => Who::Admin(*lead),
            _ => Who::Admin(cast[rng.index(cast.len())]),
        }
    }

    pub(super) fn admin_id_of(&self, who: Who) -> Option<i64> {
        match who {
            Who::Admin(i) => Some(self.admins[i].id),
            _ => None,
        }
    }

    /// Draw the plan of the next conversation.
    pub(super) fn plan(&self, rng: &mut Rng) -> Plan {
        let avg = self.g.cfg.parts_per_conversation as i64;
        let n_parts = rng.range(0, 2 * avg) as usize;

        // Participants.
        let mut people: Vec<usize> = Vec::new();
        if !self.contacts.is_empty() {
            people.push(rng.index(self.contacts.len()));
            if self.contacts.len() > 1 && rng.chance(0.08) {
                let other = rng.index(self.contacts.len());
                if other != people[0] {
                    people.push(other);
                }
            }
        }
        let mut cast: Vec<usize> = Vec::new();
        if !self.admins.is_empty() {
            cast.push(rng.index(self.admins.len()));
            if self.admins.len() > 1 && rng.chance(0.3) {
                let other = rng.index(self.admins.len());
                if other != cast[0] {
                    cast.push(other);
                }
            }
        }
        let contact_initiated = !people.is_empty() && rng.chance(0.75);
        let source_author = if contact_initiated {
            Who::Contact(people[0])
        } else if rng.chance(0.85) {
            self.some_admin(rng, &cast)
        } else {
            Who::Bot
        };

        let mut state = {
            let r = rng.unit();
            if r < 0.45 {
                "open"
            } else if r < 0.9 {
                "closed"
            } else {
                "snoozed"
            }
        };
        if n_parts == 0 {
            state = "open";
        }
        let gaps = part_gaps(rng, n_parts);
        let span: i64 = gaps.iter().sum();
        let created = between(rng, GENERATION_START, GENERATION_END - span - 2 * DAY);
        Plan {
            n_parts,
            people,
            cast,
            contact_initiated,
            source_author,
            state,
            gaps,
            created,
        }
    }
}

/// Seconds between parts, scaled down so that the whole conversation fits
/// in half the generation range.
fn part_gaps(rng: &mut Rng, n_parts: usize) -> Vec<i64> {
    let mut gaps: Vec<i64> = (0..n_parts)
        .map(|_| {
            if rng.chance(0.8) {
                rng.range(20, HOUR)
            } else {
                rng.range(HOUR, 2 * DAY)
            }
        })
        .collect();
    let limit = (GENERATION_END - GENERATION_START) / 2;
    let total: i64 = gaps.iter().sum();
    if total > limit {
        for g in gaps.iter_mut() {
            *g = ((*g as i128 * limit as i128) / total as i128).max(1) as i64;
        }
    }
    gaps
}
