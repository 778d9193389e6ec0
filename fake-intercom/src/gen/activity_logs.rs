//! Admin activity logs (`GET /admins/activity_logs`): logins, logouts, away
//! mode changes, message and app setting changes, sorted by `created_at`
//! with some sharing a second.

use serde_json::{json, Value};

use crate::gen::context::Earlier;
use crate::gen::util::between;
use crate::rng::Rng;
use crate::time::{GENERATION_END, GENERATION_START};
use crate::words::*;

/// (activity_type, weight in percent)
const ACTIVITY_TYPES: &[(&str, usize)] = &[
    ("admin_login_success", 40),
    ("admin_logout", 15),
    ("admin_away_mode_change", 15),
    ("message_state_change", 10),
    ("bulk_export", 10),
    ("app_name_change", 5),
    ("app_timezone_change", 5),
];

const AWAY_REASONS: &[&str] = &[
    "😌 On a break",
    "🍔 At lunch",
    "🏠 Done for the day",
    "🤒 Out sick",
];
const TIMEZONES: &[&str] = &[
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "America/Los_Angeles",
];

/// The admin who acted.
struct Actor {
    id: String,
    name: String,
}

impl Earlier<'_> {
    /// Admin activity logs sorted by `created_at` (some share a second).
    pub(in crate::gen) fn activity_logs(&self) -> Vec<Value> {
        let mut rng = Rng::derive(self.seed, "activity-logs");
        let n = self.cfg.activity_logs;
        let mut times: Vec<i64> = (0..n)
            .map(|_| between(&mut rng, GENERATION_START, GENERATION_END))
            .collect();
        // Ties: some logs share their second with another one.
        if n >= 4 {
            for _ in 0..(n / 20).max(2) {
                let (i, j) = (rng.index(n), rng.index(n));
                times[i] = times[j];
            }
        }
        times.sort_unstable();
        let mut message_id = 1_000 + rng.range(0, 9_000);
        times
            .into_iter()
            .map(|created| {
                let id = rng.uuid();
                let (admin_id, admin_name, admin_email) = match rng.pick(self.admins) {
                    Some(a) => (a.id.to_string(), a.name.clone(), a.email.clone()),
                    None => (
                        "0".to_string(),
                        "Operator".to_string(),
                        format!("operator+{}@intercom.io", self.app_code),
                    ),
                };
                // Documentation address ranges (RFC 5737).
                let ip = format!(
                    "{}.{}",
                    ["192.0.2", "198.51.100", "203.0.113"][rng.index(3)],
                    rng.range(1, 254)
                );
                let mut r = rng.index(100);
                let mut activity_type = "admin_login_success";
                for (ty, w) in ACTIVITY_TYPES {
                    if r < *w {
                        activity_type = ty;
                        break;
                    }
                    r -= w;
                }
                let actor = Actor {
                    id: admin_id,
                    name: admin_name,
                };
                let (metadata, description) =
                    details(&mut rng, activity_type, &actor, &mut message_id);
                json!({
                    "id": id,
                    "performed_by": {"type": "admin", "id": actor.id, "email": admin_email, "ip": ip},
                    "metadata": metadata,
                    "created_at": created,
                    "activity_type": activity_type,
                    "activity_description": description,
                })
            })
            .collect()
    }
}

/// The `metadata` and `activity_description` of an activity of this type.
fn details(
    rng: &mut Rng,
    activity_type: &str,
    actor: &Actor,
    message_id: &mut i64,
) -> (Value, String) {
    let admin_name = &actor.name;
    let admin_id = &actor.id;
    match activity_type {
        "admin_login_success" => {
            let method = rng.word(&["email_password", "google_sso", "saml"]);
            (
                json!({"sign_in_method": method}),
                format!("{admin_name} successfully logged in."),
            )
        }
        "admin_logout" => (json!({}), format!("{admin_name} logged out.")),
        "admin_away_mode_change" => {
            let away = rng.chance(0.6);
            let reason: Value = if away {
                json!(rng.word(AWAY_REASONS))
            } else {
                Value::Null
            };
            (
                json!({
                    "away_mode": away,
                    "away_status_reason": reason,
                    "reassign_conversations": away && rng.chance(0.5),
                    "source": format!("admin update from web - Admin id: {admin_id}"),
                    "auto_changed": "false",
                    "update_by": admin_id.parse::<i64>().unwrap_or(0),
                    "update_by_name": admin_name,
                }),
                format!(
                    "{admin_name} changed their away mode to {}.",
                    if away { "away" } else { "available" }
                ),
            )
        }
        "message_state_change" => {
            *message_id += rng.range(1, 30);
            let title = format!("{} {}", rng.word(ARTICLE_VERBS), rng.word(TOPICS));
            let (before, after) = if rng.chance(0.6) {
                ("draft", "live")
            } else {
                ("live", "paused")
            };
            (
                json!({"message": {"id": *message_id, "title": title},
                           "before": before, "after": after}),
                format!("{admin_name} changed your {title} message from {before} to {after}."),
            )
        }
        "bulk_export" => (
            json!({}),
            format!("{admin_name} exported conversations to CSV."),
        ),
        "app_name_change" => {
            let before = format!("{} {}", rng.word(COMPANY_PREFIXES), rng.word(COMPANY_CORES));
            let after = format!("{} {}", rng.word(COMPANY_PREFIXES), rng.word(COMPANY_CORES));
            (
                json!({"before": before, "after": after}),
                format!("{admin_name} changed your app name from {before} to {after}."),
            )
        }
        _ => {
            let before = rng.word(TIMEZONES);
            let after = rng.word(TIMEZONES);
            (
                json!({"before": before, "after": after}),
                format!("{admin_name} changed your app timezone from {before} to {after}."),
            )
        }
    }
}
