//! What every generator shares: the settings ([`Gen`]), and the small
//! references to admins and contacts that later objects point at.

use serde_json::Value;

use crate::config::FakeConfig;

/// The generation settings and the app's identity.
pub(super) struct Gen<'a> {
    pub(super) cfg: &'a FakeConfig,
    pub(super) app_code: String,
    pub(super) domain: String,
    /// Fixed number of contact generator threads (tests); `None` = automatic.
    pub(super) threads: Option<usize>,
}

impl Gen<'_> {
    /// The app's short name (its domain without `.com`).
    pub(super) fn app_name(&self) -> String {
        self.domain.trim_end_matches(".com").to_string()
    }
}

/// What later generation steps need to know about an admin.
#[derive(Clone)]
pub(super) struct AdminRef {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) email: String,
}

/// What later generation steps need to know about a contact.
#[derive(Clone)]
pub(super) struct ContactRef {
    pub(super) id: String,
    pub(super) external_id: Option<String>,
    pub(super) role: &'static str,
    pub(super) name: Option<String>,
    pub(super) email: Option<String>,
    pub(super) created_at: i64,
}

/// The objects generated first that tickets, activity logs and deleted
/// conversations refer to.
pub(super) struct Earlier<'a> {
    pub(super) seed: u64,
    pub(super) cfg: &'a FakeConfig,
    pub(super) app_code: &'a str,
    pub(super) admins: &'a [AdminRef],
    pub(super) contacts: &'a [ContactRef],
    pub(super) teams: &'a [Value],
}
