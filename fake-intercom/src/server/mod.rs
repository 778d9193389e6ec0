//! The HTTP server: the route table (below), the gate in front of every
//! route (`gate`), the state it shares (`shared`), how injected faults look
//! on the wire (`answers`, `bodies`, `rewrite`), chaos decisions (`chaos`), the
//! answers remembered for `Repeat` (`memory`), the request log (`log`) and
//! the counters (`stats`).

pub(crate) mod answers;
pub(crate) mod bodies;
pub(crate) mod chaos;
pub(crate) mod gate;
pub(crate) mod log;
pub(crate) mod memory;
pub(crate) mod rewrite;
pub(crate) mod shared;
pub(crate) mod stats;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::endpoints::{
    activity_logs, companies, conversations, counts, help_center, lists, search,
};
use crate::server::gate::gate;
use crate::server::shared::Shared;

/// The router with every endpoint and the gate in front.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/me", get(lists::me))
        .route("/admins", get(lists::admins))
        .route("/teams", get(lists::teams))
        .route("/tags", get(lists::tags))
        .route("/segments", get(lists::segments))
        .route("/data_attributes", get(lists::data_attributes))
        .route("/subscription_types", get(lists::subscription_types))
        .route("/help_center/help_centers", get(help_center::help_centers))
        .route("/help_center/collections", get(help_center::collections))
        .route("/articles", get(help_center::articles))
        .route("/counts", get(counts::counts))
        .route("/contacts/search", post(search::contacts_search))
        .route("/conversations/search", post(search::conversations_search))
        .route("/tickets/search", post(search::tickets_search))
        .route("/companies/scroll", get(companies::companies_scroll))
        .route("/companies/{id}/segments", get(companies::company_segments))
        .route(
            "/conversations/deleted",
            get(conversations::deleted_conversations),
        )
        .route("/conversations/{id}", get(conversations::conversation))
        .route("/admins/activity_logs", get(activity_logs::activity_logs))
        .fallback(lists::not_found)
        .method_not_allowed_fallback(lists::not_found)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared.store.clone())
}
