//! What every endpoint shares, after the HTTP layer and before the data:
//! Intercom's error envelope, query-string parsing, page-number pagination,
//! the rate limiter, and the `Intercom-Version` header.

pub(crate) mod error;
pub(crate) mod pagination;
pub(crate) mod query;
pub(crate) mod ratelimit;
pub(crate) mod version;
