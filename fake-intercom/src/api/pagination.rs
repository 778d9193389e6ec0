//! Page-number pagination as Intercom does it for help centers, collections,
//! articles and the paged `/counts` answers: `page`/`per_page` query
//! parameters, a `pages` object, and `pages.next` as an absolute URL.

use std::ops::Range;

use serde_json::{json, Value};

use crate::api::error::ApiError;
use crate::api::query::QueryParams;

/// The largest `per_page` any Intercom list accepts.
pub const MAX_PER_PAGE: u64 = 150;

/// A validated page request (`page` is 1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub page: usize,
    pub per_page: usize,
}

impl PageRequest {
    /// Read `page` (default 1) and `per_page` (default `default_per_page`, max 150).
    pub fn from_query(q: &QueryParams, default_per_page: usize) -> Result<PageRequest, ApiError> {
        PageRequest::from_query_with_max(q, default_per_page, MAX_PER_PAGE)
    }

    /// The same, for endpoints whose `per_page` cap differs from 150.
    pub fn from_query_with_max(
        q: &QueryParams,
        default_per_page: usize,
        max_per_page: u64,
    ) -> Result<PageRequest, ApiError> {
        let per_page = q
            .get_positive("per_page", max_per_page)?
            .map(|n| n as usize)
            .unwrap_or(default_per_page);
        let page = q
            .get_positive("page", u32::MAX as u64)?
            .map(|n| n as usize)
            .unwrap_or(1);
        Ok(PageRequest { page, per_page })
    }
}

/// Number of pages for `total` items (at least 1, even when empty).
pub fn total_pages(total: usize, per_page: usize) -> usize {
    if per_page == 0 {
        return 1;
    }
    total.div_ceil(per_page).max(1)
}

/// Index range of page `page` (1-based); empty past the end.
pub fn page_range(total: usize, page: usize, per_page: usize) -> Range<usize> {
    let start = page.saturating_sub(1).saturating_mul(per_page).min(total);
    let end = start.saturating_add(per_page).min(total);
    start..end
}

/// `http://host/path?query` with `page` set to `page`.
pub fn page_url(base: &str, path: &str, query: &QueryParams, page: usize) -> String {
    format!("{base}{path}?{}", query.with("page", &page.to_string()))
}

/// The `pages` object; `next` only when a later page exists.
pub fn pages_object(req: PageRequest, total: usize, next: Option<String>) -> Value {
    let mut v = json!({
        "type": "pages",
        "page": req.page,
        "per_page": req.per_page,
        "total_pages": total_pages(total, req.per_page),
    });
    if let Some(n) = next {
        v["next"] = json!(n);
    }
    v
}

/// The `next` URL for `req`, or `None` on the last page.
pub fn next_url(
    req: PageRequest,
    total: usize,
    base: &str,
    path: &str,
    query: &QueryParams,
) -> Option<String> {
    if req.page < total_pages(total, req.per_page) {
        Some(page_url(base, path, query, req.page + 1))
    } else {
        None
    }
}

/// A `{"type":"list","data":..,"total_count":..,"pages":..}` answer for one page of `items`.
pub fn page_list(
    items: &[&Value],
    req: PageRequest,
    base: &str,
    path: &str,
    query: &QueryParams,
) -> Value {
    let total = items.len();
    let data: Vec<Value> = items[page_range(total, req.page, req.per_page)]
        .iter()
        .map(|v| (*v).clone())
        .collect();
    json!({
        "type": "list",
        "data": data,
        "total_count": total,
        "pages": pages_object(req, total, next_url(req, total, base, path, query)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_pages_math() {
        assert_eq!(total_pages(0, 25), 1);
        assert_eq!(total_pages(1, 25), 1);
        assert_eq!(total_pages(25, 25), 1);
        assert_eq!(total_pages(26, 25), 2);
        assert_eq!(total_pages(45, 25), 2);
        assert_eq!(total_pages(150, 1), 150);
        assert_eq!(total_pages(3, 0), 1);
    }

    #[test]
    fn page_range_math() {
        assert_eq!(page_range(45, 1, 25), 0..25);
        assert_eq!(page_range(45, 2, 25), 25..45);
        assert_eq!(page_range(45, 3, 25), 45..45);
        assert_eq!(page_range(0, 1, 25), 0..0);
        assert_eq!(page_range(10, usize::MAX, usize::MAX), 10..10);
    }

    #[test]
    fn request_defaults_and_validation() {
        let q = QueryParams::parse("");
        assert_eq!(
            PageRequest::from_query(&q, 20).unwrap(),
            PageRequest {
                page: 1,
                per_page: 20
            }
        );
        let q = QueryParams::parse("page=3&per_page=150");
        assert_eq!(
            PageRequest::from_query(&q, 20).unwrap(),
            PageRequest {
                page: 3,
                per_page: 150
            }
        );
        for bad in [
            "per_page=151",
            "per_page=0",
            "page=0",
            "page=x",
            "per_page=-1",
        ] {
            let e = PageRequest::from_query(&QueryParams::parse(bad), 20).unwrap_err();
            assert_eq!(e.code, "parameter_invalid", "{bad}");
        }
    }

    #[test]
    fn pages_object_and_next() {
        let q = QueryParams::parse("per_page=2");
        let req = PageRequest {
            page: 1,
            per_page: 2,
        };
        let next = next_url(req, 5, "http://h", "/articles", &q);
        assert_eq!(next.as_deref(), Some("http://h/articles?per_page=2&page=2"));
        let p = pages_object(req, 5, next);
        assert_eq!(p["total_pages"], 3);
        assert_eq!(p["type"], "pages");
        let last = PageRequest {
            page: 3,
            per_page: 2,
        };
        assert_eq!(next_url(last, 5, "http://h", "/articles", &q), None);
        assert!(pages_object(last, 5, None).get("next").is_none());
    }

    #[test]
    fn page_list_slices() {
        let items: Vec<Value> = (0..5).map(|i| json!({ "id": i })).collect();
        let refs: Vec<&Value> = items.iter().collect();
        let q = QueryParams::parse("page=2&per_page=2");
        let v = page_list(
            &refs,
            PageRequest {
                page: 2,
                per_page: 2,
            },
            "http://h",
            "/x",
            &q,
        );
        assert_eq!(v["data"], json!([{"id": 2}, {"id": 3}]));
        assert_eq!(v["total_count"], 5);
        assert_eq!(v["pages"]["next"], "http://h/x?page=3&per_page=2");
    }
}
