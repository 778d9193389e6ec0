//! Admins (teammates) and teams, with their memberships both ways.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::gen::context::{AdminRef, Gen};
use crate::gen::util::{letters, slug, unique_from_list};
use crate::rng::Rng;
use crate::words::*;

impl Gen<'_> {
    fn admins_base(&self, seed: u64) -> Vec<AdminRef> {
        let mut rng = Rng::derive(seed, "admins");
        let mut id = 4_000_000 + rng.range(0, 999_999);
        let mut seen = HashSet::new();
        (0..self.cfg.admins)
            .map(|i| {
                id += rng.range(1, 40);
                let first = rng.word(FIRST_NAMES);
                let last = rng.word(LAST_NAMES);
                let mut name = format!("{first} {last}");
                if !seen.insert(name.clone()) {
                    name = format!("{first} {last} {}", i + 1);
                    seen.insert(name.clone());
                }
                let email = format!(
                    "{}.{}{}@{}",
                    letters(first),
                    letters(last),
                    if name.ends_with(char::is_numeric) {
                        (i + 1).to_string()
                    } else {
                        String::new()
                    },
                    self.domain
                );
                AdminRef { id, name, email }
            })
            .collect()
    }

    /// Teams, and for each admin the (team id, primary?) memberships.
    fn teams(&self, seed: u64, admins: &[AdminRef]) -> (Vec<Value>, Vec<Vec<(i64, bool)>>) {
        let mut rng = Rng::derive(seed, "teams");
        let mut id = 8_000_000 + rng.range(0, 99_999);
        let start = rng.index(TEAM_NAMES.len());
        let mut admin_teams: Vec<Vec<(i64, bool)>> = vec![Vec::new(); admins.len()];
        let mut teams = Vec::with_capacity(self.cfg.teams);
        for i in 0..self.cfg.teams {
            id += rng.range(1, 25);
            let name = unique_from_list(TEAM_NAMES, start, i);
            let mut members: Vec<usize> = Vec::new();
            for (a, _) in admins.iter().enumerate() {
                if rng.chance(0.45) {
                    members.push(a);
                }
            }
            if members.is_empty() && !admins.is_empty() {
                members.push(rng.index(admins.len()));
            }
            let mut primary = Vec::new();
            let mut secondary = Vec::new();
            for (k, &a) in members.iter().enumerate() {
                let is_primary = k % 2 == 0;
                if is_primary {
                    primary.push(admins[a].id);
                } else {
                    secondary.push(admins[a].id);
                }
                admin_teams[a].push((id, is_primary));
            }
            let admin_ids: Vec<i64> = members.iter().map(|&a| admins[a].id).collect();
            teams.push(json!({
                "type": "team",
                "id": id.to_string(),
                "name": name,
                "admin_ids": admin_ids,
                "admin_priority_level": {
                    "primary_admin_ids": primary,
                    "secondary_admin_ids": secondary,
                },
            }));
        }
        (teams, admin_teams)
    }

    fn admins(
        &self,
        seed: u64,
        admins: &mut [AdminRef],
        admin_teams: &[Vec<(i64, bool)>],
    ) -> Vec<Value> {
        let mut rng = Rng::derive(seed, "admin-details");
        admins
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let teams = admin_teams.get(i).cloned().unwrap_or_default();
                let team_ids: Vec<i64> = teams.iter().map(|t| t.0).collect();
                let primary: Vec<i64> = teams.iter().filter(|t| t.1).map(|t| t.0).collect();
                let secondary: Vec<i64> = teams.iter().filter(|t| !t.1).map(|t| t.0).collect();
                let away = i > 0 && rng.chance(0.12);
                let reassign = away && rng.chance(0.5);
                let image_url = if rng.chance(0.75) {
                    json!(format!(
                        "https://static.intercomassets.com/avatars/{}/square_128/{}.jpg",
                        a.id,
                        slug(&a.name)
                    ))
                } else {
                    Value::Null
                };
                json!({
                    "type": "admin",
                    "id": a.id.to_string(),
                    "name": a.name,
                    "email": a.email,
                    "job_title": rng.word(JOB_TITLES),
                    "away_mode_enabled": away,
                    "away_mode_reassign": reassign,
                    "has_inbox_seat": i == 0 || rng.chance(0.85),
                    "team_ids": team_ids,
                    "avatar": {"type": "avatar", "image_url": image_url},
                    "team_priority_level": {
                        "primary_team_ids": primary,
                        "secondary_team_ids": secondary,
                    },
                })
            })
            .collect()
    }
}

/// Admins and teams.
pub(super) struct Staff {
    pub(super) admins: Vec<Value>,
    pub(super) teams: Vec<Value>,
    /// What later generators need of each admin, in the same order.
    pub(super) refs: Vec<AdminRef>,
}

impl Gen<'_> {
    /// The admins and teams of the workspace.
    pub(super) fn staff(&self, seed: u64) -> Staff {
        let mut refs = self.admins_base(seed);
        let (teams, admin_teams) = self.teams(seed, &refs);
        let admins = self.admins(seed, &mut refs, &admin_teams);
        Staff {
            admins,
            teams,
            refs,
        }
    }
}
