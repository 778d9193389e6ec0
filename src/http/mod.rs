//! HTTP access to Intercom.
//!
//! - [`request`]: one call before it is sent, what its answer must hold ([`request::Expect`]),
//!   and ids from answers as path segments;
//! - [`client`]: the shared client that sends it; [`ratelimit`]: the one rate budget,
//!   spent per Intercom window; [`slots`]: the requests in flight, sized from the
//!   answers; [`retry`]: the one retry decision.
//!
//! The layers of one request, in the order they run for **each attempt**
//! (see [`client::Client::fetch`]):
//! 1. a slot of the requests in flight ([`slots`], across all streams);
//! 2. [`ratelimit::RateBudget::acquire`]: the shared budget (every attempt counts);
//! 3. send with the client's timeout (auth, `Intercom-Version`, `Accept`, `User-Agent`
//!    headers; redirects never followed);
//! 4. [`ratelimit::RateBudget::observe`] the `X-RateLimit-*` headers;
//! 5. read the body up to its size cap and decode it; a body that doesn't decode is a
//!    failed attempt;
//! 6. [`retry::classify`] the outcome: done, wait and retry, or fail.

pub mod client;
pub mod ratelimit;
pub mod request;
pub mod retry;
pub mod slots;

pub use client::{ApiRequest, Client, HttpSettings};
