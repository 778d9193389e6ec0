//! The companies scroll (`GET /companies/scroll`) as Intercom runs it: one
//! scroll per workspace at a time, the same `scroll_param` on every page,
//! expiry after a period without use, and the end signalled by an empty page
//! after which the scroll is gone.
//!
//! Pure state: the caller passes the wall-clock time in, so the rules are
//! testable without sleeping. The endpoint is in `companies`.

use std::ops::Range;

use axum::http::StatusCode;

use crate::api::error::ApiError;
use crate::rng::{mix64, Rng};

/// Default `per_page` of a scroll.
pub(crate) const SCROLL_PER_PAGE: usize = 15;

#[derive(Clone, Debug)]
struct Active {
    param: String,
    /// Index (into the workspace's companies) of the next company to serve.
    position: usize,
    per_page: usize,
    last_used_ms: u64,
}

/// The workspace's scroll slot.
#[derive(Clone, Debug)]
pub(crate) struct ScrollState {
    seed: u64,
    started: u64,
    active: Option<Active>,
    /// Another client holds the workspace's scroll until then.
    occupied_until_ms: u64,
}

/// 400 `scroll_exists`.
fn scroll_exists() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "scroll_exists",
        "scroll already exists for this workspace",
    )
}

/// 404 `not_found` for an expired or unknown `scroll_param`.
fn scroll_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "scroll_param is expired or not found",
    )
}

impl ScrollState {
    pub(crate) fn new(seed: u64) -> ScrollState {
        ScrollState {
            seed,
            started: 0,
            active: None,
            occupied_until_ms: 0,
        }
    }

    fn drop_expired(&mut self, now_ms: u64, expiry_ms: u64) {
        if let Some(a) = &self.active {
            if now_ms.saturating_sub(a.last_used_ms) > expiry_ms {
                self.active = None;
            }
        }
    }

    /// Serve one scroll request over `total` companies: the index range of the
    /// page and the scroll_param to answer with.
    pub(crate) fn next_page(
        &mut self,
        param: Option<&str>,
        per_page: Option<usize>,
        total: usize,
        now_ms: u64,
        expiry_ms: u64,
    ) -> Result<(Range<usize>, String), ApiError> {
        self.drop_expired(now_ms, expiry_ms);
        match param {
            None => {
                if self.active.is_some() || self.occupied_until_ms > now_ms {
                    return Err(scroll_exists());
                }
                self.started += 1;
                let param = Rng::new(mix64(self.seed ^ self.started)).uuid();
                let per_page = per_page.unwrap_or(SCROLL_PER_PAGE).max(1);
                let range = 0..per_page.min(total);
                if !range.is_empty() {
                    self.active = Some(Active {
                        param: param.clone(),
                        position: range.end,
                        per_page,
                        last_used_ms: now_ms,
                    });
                }
                Ok((range, param))
            }
            Some(p) => match &mut self.active {
                Some(a) if a.param == p => {
                    let per_page = per_page.unwrap_or(a.per_page).max(1);
                    let start = a.position.min(total);
                    let end = start.saturating_add(per_page).min(total);
                    if start == end {
                        // The empty page ends the scroll.
                        self.active = None;
                    } else {
                        a.position = end;
                        a.last_used_ms = now_ms;
                    }
                    Ok((start..end, p.to_string()))
                }
                _ => Err(scroll_not_found()),
            },
        }
    }

    /// End the active scroll if its param is `param` (a failed page).
    pub(crate) fn abort(&mut self, param: &str) {
        if self.active.as_ref().is_some_and(|a| a.param == param) {
            self.active = None;
        }
    }

    /// The active scroll (and any simulated other client's) ends now.
    pub(crate) fn expire(&mut self) {
        self.active = None;
        self.occupied_until_ms = 0;
    }

    /// Another client holds the workspace's scroll until `until_ms`.
    pub(crate) fn occupy_until(&mut self, until_ms: u64) {
        self.occupied_until_ms = until_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_same_param_then_end() {
        let mut s = ScrollState::new(1);
        let (r, p) = s.next_page(None, Some(4), 10, 0, 60_000).unwrap();
        assert_eq!(r, 0..4);
        assert_eq!(p.len(), 36);
        assert_eq!(
            s.next_page(None, None, 10, 1, 60_000).unwrap_err().code,
            "scroll_exists"
        );
        let (r, p2) = s.next_page(Some(&p), None, 10, 2, 60_000).unwrap();
        assert_eq!((r, p2.as_str()), (4..8, p.as_str()));
        let (r, _) = s.next_page(Some(&p), None, 10, 3, 60_000).unwrap();
        assert_eq!(r, 8..10);
        let (r, _) = s.next_page(Some(&p), None, 10, 4, 60_000).unwrap();
        assert!(r.is_empty());
        let e = s.next_page(Some(&p), None, 10, 5, 60_000).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code.as_str()), (404, "not_found"));
        let (_, q) = s.next_page(None, None, 10, 6, 60_000).unwrap();
        assert_ne!(p, q, "a new scroll has a new param");
    }

    #[test]
    fn expiry_and_occupation() {
        let mut s = ScrollState::new(1);
        let (_, p) = s.next_page(None, None, 40, 1_000, 500).unwrap();
        assert!(s.next_page(Some(&p), None, 40, 1_500, 500).is_ok());
        let e = s.next_page(Some(&p), None, 40, 2_001, 500).unwrap_err();
        assert_eq!(e.status.as_u16(), 404);
        // Expired: a new scroll may start.
        let (_, q) = s.next_page(None, None, 40, 2_002, 500).unwrap();
        s.expire();
        assert_eq!(
            s.next_page(Some(&q), None, 40, 2_003, 500)
                .unwrap_err()
                .status
                .as_u16(),
            404
        );
        s.occupy_until(3_000);
        assert_eq!(
            s.next_page(None, None, 40, 2_999, 500).unwrap_err().code,
            "scroll_exists"
        );
        assert!(s.next_page(None, None, 40, 3_000, 500).is_ok());
        assert_eq!(
            s.next_page(Some("nope"), None, 40, 3_001, 500)
                .unwrap_err()
                .status
                .as_u16(),
            404
        );
    }

    #[test]
    fn abort_ends_only_the_matching_scroll() {
        let mut s = ScrollState::new(1);
        let (_, p) = s.next_page(None, None, 40, 0, 60_000).unwrap();
        s.abort("other");
        assert!(s.next_page(Some(&p), None, 40, 1, 60_000).is_ok());
        s.abort(&p);
        assert_eq!(
            s.next_page(Some(&p), None, 40, 2, 60_000)
                .unwrap_err()
                .status
                .as_u16(),
            404
        );
        assert!(s.next_page(None, None, 40, 3, 60_000).is_ok());
    }

    #[test]
    fn empty_workspace_ends_at_once() {
        let mut s = ScrollState::new(1);
        let (r, _) = s.next_page(None, None, 0, 0, 500).unwrap();
        assert!(r.is_empty());
        assert!(s.next_page(None, None, 0, 1, 500).is_ok());
    }
}
