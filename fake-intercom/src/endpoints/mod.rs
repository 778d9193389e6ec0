//! The endpoints, one file per family, each a set of axum handlers over the
//! [`Store`](context::Store); the route table is in `server`. Handlers
//! know nothing of auth, rate limits or faults: the gate handles those.

pub(crate) mod activity_logs;
pub(crate) mod companies;
pub(crate) mod contact_lists;
pub(crate) mod context;
pub(crate) mod conversations;
pub(crate) mod counts;
pub(crate) mod help_center;
pub(crate) mod lists;
pub(crate) mod parts;
pub(crate) mod reporting;
pub(crate) mod scroll;
pub(crate) mod search;
