//! The HTTP server: the route table (below), the gate in front of every
//! route (`gate`), the state it shares (`shared`), how injected faults look
//! on the wire (`answers`, `bodies`, `rewrite`), chaos decisions (`chaos`), the
//! answers remembered for `Repeat` (`memory`), maintenance windows
//! (`maintenance`), the request log (`log`) and the counters (`stats`).
//!
//! Every route is served under [`FakeConfig::base_path`](crate::FakeConfig::base_path);
//! the gate strips it from the request before anything else looks at the path.

pub(crate) mod answers;
pub(crate) mod bodies;
pub(crate) mod chaos;
pub(crate) mod gate;
pub(crate) mod log;
pub(crate) mod maintenance;
pub(crate) mod memory;
pub(crate) mod rewrite;
pub(crate) mod shared;
pub(crate) mod stats;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::endpoints::{
    activity_logs, companies, contact_lists, conversations, counts, help_center, lists, reporting,
    search,
};
use crate::server::gate::gate;
use crate::server::shared::Shared;

/// The router with every endpoint (under the base path) and the gate in front.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let base = shared.config().base_path.clone();
    let at = |path: &str| format!("{base}{path}");
    Router::new()
        .route(&at("/me"), get(lists::me))
        .route(&at("/admins"), get(lists::admins))
        .route(&at("/teams"), get(lists::teams))
        .route(&at("/tags"), get(lists::tags))
        .route(&at("/segments"), get(lists::segments))
        .route(&at("/data_attributes"), get(lists::data_attributes))
        .route(&at("/subscription_types"), get(lists::subscription_types))
        .route(
            &at("/help_center/help_centers"),
            get(help_center::help_centers),
        )
        .route(
            &at("/help_center/collections"),
            get(help_center::collections),
        )
        .route(&at("/articles"), get(help_center::articles))
        .route(&at("/counts"), get(counts::counts))
        .route(&at("/contacts/search"), post(search::contacts_search))
        .route(
            &at("/conversations/search"),
            post(search::conversations_search),
        )
        .route(&at("/tickets/search"), post(search::tickets_search))
        .route(&at("/contacts/{id}/tags"), get(contact_lists::contact_tags))
        .route(
            &at("/contacts/{id}/companies"),
            get(contact_lists::contact_companies),
        )
        .route(
            &at("/contacts/{id}/notes"),
            get(contact_lists::contact_notes),
        )
        .route(
            &at("/contacts/{id}/subscriptions"),
            get(contact_lists::contact_subscriptions),
        )
        .route(&at("/companies/scroll"), get(companies::companies_scroll))
        .route(
            &at("/companies/{id}/segments"),
            get(companies::company_segments),
        )
        .route(
            &at("/conversations/deleted"),
            get(conversations::deleted_conversations),
        )
        .route(&at("/conversations/{id}"), get(conversations::conversation))
        .route(
            &at("/admins/activity_logs"),
            get(activity_logs::activity_logs),
        )
        .route(
            &at("/export/reporting_data/get_datasets"),
            get(reporting::datasets),
        )
        .route(
            &at("/export/reporting_data/enqueue"),
            post(reporting::enqueue),
        )
        .route(
            &at("/export/reporting_data/{job}"),
            get(reporting::job_status),
        )
        .route(
            &at("/download/reporting_data/{job}"),
            get(reporting::download),
        )
        .fallback(lists::not_found)
        .method_not_allowed_fallback(lists::not_found)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared.store.clone())
}
