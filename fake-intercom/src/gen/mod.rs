//! Deterministic generation of a whole [`Workspace`] from a seed, in
//! Intercom API version 2.11 shapes, one file per kind of object.
//!
//! Every kind has its own random stream derived from the seed and a label,
//! so the number of one kind never changes the objects of another. Nothing
//! here reads the wall clock: all timestamps lie in
//! [`GENERATION_START`]..[`GENERATION_END`](crate::GENERATION_END),
//! so one seed always gives byte-identical objects.

mod activity_logs;
mod admins;
mod attributes;
mod catalog;
mod companies;
mod contacts;
mod context;
mod conversations;
mod fixups;
mod help_center;
#[cfg(test)]
mod tests;
mod tickets;
mod util;

use serde_json::{json, Value};

use crate::config::FakeConfig;
use crate::gen::attributes::{
    COMPANY_CUSTOM, COMPANY_STANDARD, CONTACT_CUSTOM, CONTACT_STANDARD, CONVERSATION_CUSTOM,
    CONVERSATION_STANDARD,
};
use crate::gen::context::{Earlier, Gen};
use crate::gen::util::letters;
use crate::rng::{mix64, Rng};
use crate::time::{GENERATION_START, HOUR};
use crate::words::{COMPANY_CORES, COMPANY_PREFIXES};
use crate::workspace::Workspace;

impl Workspace {
    /// Generate the whole workspace for `config` (deterministic in `config.seed`
    /// and the sizes; independent of the clock).
    pub fn generate(config: &FakeConfig) -> Workspace {
        Workspace::generate_with_threads(config, None)
    }

    /// The same, with a fixed number of contact generator threads (`None`:
    /// automatic); the result does not depend on it.
    fn generate_with_threads(config: &FakeConfig, threads: Option<usize>) -> Workspace {
        let seed = config.seed;
        let (app, g) = app(config, threads);
        let staff = g.staff(seed);
        let tags = g.tags(seed);
        let (segments, company_segments) = g.segments(seed);
        let first_admin = staff.refs.first().map(|a| a.id);
        let attributes = |model, standard, custom, id_base| {
            g.attributes(seed, model, standard, custom, id_base, first_admin)
        };
        let contact_attributes = attributes("contact", CONTACT_STANDARD, CONTACT_CUSTOM, 100);
        let company_attributes = attributes("company", COMPANY_STANDARD, COMPANY_CUSTOM, 200);
        let conversation_attributes = attributes(
            "conversation",
            CONVERSATION_STANDARD,
            CONVERSATION_CUSTOM,
            300,
        );
        let subscription_types = g.subscription_types(seed);
        let help_centers = g.help_centers(seed);
        let collections = g.collections(seed, &help_centers);
        let articles = g.articles(seed, &collections, &staff.refs);
        let (mut companies, company_domains) = g.companies(seed, &tags, &company_segments);
        let people = g.contacts(
            seed,
            &mut companies,
            &contacts::Sources {
                company_domains: &company_domains,
                tags: &tags,
                segments: &segments,
                subscription_types: &subscription_types,
                admins: &staff.refs,
            },
        );
        let mut conversations = g.conversations(
            seed,
            &conversations::Sources {
                contacts: &people.refs,
                admins: &staff.refs,
                teams: &staff.teams,
                tags: &tags,
                articles: &articles,
            },
        );
        let timezone_offset_secs = -5 * HOUR;
        let mut contacts = people.contacts;
        fixups::contacts_near_day_boundaries(seed, &mut contacts, timezone_offset_secs);
        fixups::add_updated_ties(seed, "contact-ties", &mut contacts);
        fixups::add_updated_ties(seed, "conversation-ties", &mut conversations);
        let earlier = Earlier {
            seed,
            cfg: config,
            app_code: &g.app_code,
            admins: &staff.refs,
            contacts: &people.refs,
            teams: &staff.teams,
        };
        let tickets = earlier.tickets();
        let activity_logs = earlier.activity_logs();
        let deleted_conversations = earlier.deleted_conversations(&conversations);
        let next_part_id = fixups::max_part_id(&conversations) + 1;

        Workspace {
            app,
            timezone_offset_secs,
            admins: staff.admins,
            teams: staff.teams,
            tags,
            segments,
            company_segments,
            company_attributes,
            contact_attributes,
            conversation_attributes,
            subscription_types,
            help_centers,
            collections,
            articles,
            contacts,
            long_contact_lists: people.long_lists,
            contact_segments: people.memberships,
            companies,
            conversations,
            tickets,
            activity_logs,
            deleted_conversations,
            contact_positions: Default::default(),
            id_seed: mix64(seed ^ 0xADD_0B1EC7),
            serial: 0,
            next_part_id,
        }
    }
}

/// The `app` object and the generation settings derived with it.
fn app(config: &FakeConfig, threads: Option<usize>) -> (Value, Gen<'_>) {
    let mut rng = Rng::derive(config.seed, "app");
    let app_code = rng.alnum(8);
    let app_name = format!("{} {}", rng.word(COMPANY_PREFIXES), rng.word(COMPANY_CORES));
    let domain = format!("{}.com", letters(&app_name));
    let app = json!({
        "type": "app",
        "id_code": app_code,
        "name": app_name,
        "region": "US",
        "timezone": "America/New_York",
        "created_at": GENERATION_START,
        "secure": true,
        "identity_verification": false,
    });
    let g = Gen {
        cfg: config,
        app_code,
        domain,
        threads,
    };
    (app, g)
}
