//! What an HTTP status means for a retry, decided once: the error type
//! ([`crate::error::Error::is_retriable`], the failure type it reports) and the retry
//! decision ([`crate::http::retry`]) both ask [`retriable_status`]. It imports nothing
//! from the crate, so both can use it without one importing the other.

/// The statuses worth sending again: 408, 429 and every 5xx.
pub fn retriable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retriable_statuses() {
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert!(retriable_status(s), "{s}");
        }
        for s in [200, 301, 302, 400, 401, 403, 404, 410, 422, 600] {
            assert!(!retriable_status(s), "{s}");
        }
    }
}
