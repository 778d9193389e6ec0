//! HTTP access to Intercom.
//!
//! The layers of one request, in the order they run for **each attempt**
//! (see [`client::Client::send`]):
//! 1. [`ratelimit::RateBudget::acquire`]: the shared budget (every attempt counts);
//! 2. send with the client's timeout (auth, `Intercom-Version`, `Accept`, `User-Agent` headers);
//! 3. [`ratelimit::RateBudget::observe`] the `X-RateLimit-*` headers;
//! 4. [`retry::classify`] the outcome: done, wait and retry, or fail.

pub mod client;
pub mod ratelimit;
pub mod retry;

pub use client::{ApiRequest, Client, HttpSettings};
