//! HTTP access to Intercom.
//!
//! - [`request`]: one call before it is sent, what its answer must hold ([`request::Expect`]),
//!   and ids from answers as path segments;
//! - [`page`]: one answer of a list endpoint ([`page::Page`]), checked whole and kept as
//!   the text Intercom sent, with what the pipeline reads of each record;
//! - [`client`]: the shared client that sends it, and the layers each attempt goes
//!   through, in order (see its module docs); [`ratelimit`]: the one rate budget, spent
//!   per Intercom window; [`slots`]: the requests in flight, sized from the answers;
//!   [`retry`]: the one retry decision; [`guard`]: the network policy, the hosts and
//!   addresses the token may be sent to.

pub mod client;
pub mod guard;
pub mod page;
pub mod ratelimit;
pub mod request;
pub mod retry;
pub mod slots;

pub use client::{ApiRequest, Client, HttpSettings};
