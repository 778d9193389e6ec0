//! Pagination kinds, and [`Pages`], which walks one endpoint page by page.
//!
//! A page is fetched only when the previous one has been handed on, so memory stays
//! at one page whatever the stream's size. Walking ends when Intercom gives no next
//! page, or when a page holds no records.
//!
//! Pagination cannot lie: a next link or search cursor that repeats one already
//! followed, a next link to another endpoint, a page number past `total_pages`, or
//! more pages than the reported total can fill is an [`Error::Pagination`] for the
//! stream (which then saves no final state), never a quiet stop: a quiet stop would
//! be a silent gap.

use std::collections::HashSet;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::client::Expect;
use crate::http::{ApiRequest, Client};
use crate::read::page::Page;

/// Upper bound on pages for one endpoint walk: far above any real workspace
/// (15 million records at 150 per page), low enough to stop a runaway loop.
pub const MAX_PAGES: usize = 100_000;

/// Records move between pages while a search is walked (an update moves a record to
/// the end), so a walk may take more pages than `total_count` suggests, but not twice
/// as many plus this slack.
const PAGE_SLACK: usize = 10;

/// How an endpoint pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// One answer holds everything.
    None,
    /// `page`/`per_page` query parameters; follow `pages.next` (a URL, or an object
    /// with `page`) until it is absent or `page >= total_pages`.
    PageNumber { per_page: u32 },
    /// Search (POST) pagination: the body's `pagination.starting_after` takes the
    /// answer's `pages.next.starting_after` until there is no `pages.next`.
    SearchCursor { per_page: u32 },
}

/// Walks the pages of one endpoint.
pub struct Pages {
    client: Client,
    paging: Paging,
    records_path: &'static [&'static str],
    next: Option<ApiRequest>,
    requested: HashSet<String>,
    pages: usize,
    /// The most pages this walk can take, once the first page has said how many records there are.
    max_pages: usize,
}

impl Pages {
    /// Start at `first`; `records_path` is where a page holds its records (used to stop on an empty page).
    pub fn new(
        client: Client,
        mut first: ApiRequest,
        paging: Paging,
        records_path: &'static [&'static str],
    ) -> Pages {
        if !records_path.is_empty() {
            first = first.expect(Expect::List(records_path));
        }
        match paging {
            Paging::None => {}
            Paging::PageNumber { per_page } => {
                first = first.query("per_page", per_page.to_string())
            }
            Paging::SearchCursor { per_page } => {
                if let Some(body) = first.body.as_mut() {
                    body["pagination"] = serde_json::json!({ "per_page": per_page });
                }
            }
        }
        Pages {
            client,
            paging,
            records_path,
            next: Some(first),
            requested: HashSet::new(),
            pages: 0,
            max_pages: MAX_PAGES,
        }
    }

    /// The next page's body, or `None` when the walk is over.
    pub async fn next_page(&mut self) -> Result<Option<Value>> {
        let Some(req) = self.take_next()? else {
            return Ok(None);
        };
        let body = self.client.json(&req).await?;
        let empty = records_at(&body, self.records_path).is_some_and(|r| r.is_empty());
        self.advance(&req, &body, empty)?;
        Ok(Some(body))
    }

    /// The next page as raw records ([`Page`]), or `None` when the walk is over.
    pub async fn next_raw(&mut self) -> Result<Option<Page>> {
        let Some(req) = self.take_next()? else {
            return Ok(None);
        };
        let page = self.client.page(&req, self.records_path).await?;
        let meta = serde_json::json!({"pages": page.pages, "total_count": page.total_count});
        self.advance(&req, &meta, page.is_empty())?;
        Ok(Some(page))
    }

    /// Pages read so far.
    pub fn pages_read(&self) -> usize {
        self.pages
    }

    fn take_next(&mut self) -> Result<Option<ApiRequest>> {
        let Some(req) = self.next.take() else {
            return Ok(None);
        };
        if self.pages >= self.max_pages {
            return Err(Error::Pagination {
                endpoint: req.describe(),
                message: format!(
                    "it went on for more than {} pages, more than the records it reported can fill",
                    self.max_pages
                ),
            });
        }
        self.requested.insert(page_key(&req));
        Ok(Some(req))
    }

    /// After a page: the request for the next one, refused if it repeats one already read.
    fn advance(&mut self, req: &ApiRequest, meta: &Value, empty: bool) -> Result<()> {
        self.pages += 1;
        if self.pages == 1 {
            self.max_pages = page_limit(meta, self.paging);
        }
        if !empty {
            self.next = self.following(req, meta)?;
        }
        if let Some(n) = &self.next {
            let key = page_key(n);
            if self.requested.contains(&key) {
                return Err(Error::Pagination {
                    endpoint: req.describe(),
                    message: format!(
                        "its next page is one already read ({}), so later pages can't be reached",
                        crate::redact::server_text(&key, 200)
                    ),
                });
            }
        }
        Ok(())
    }

    fn following(&self, req: &ApiRequest, body: &Value) -> Result<Option<ApiRequest>> {
        match self.paging {
            Paging::None => Ok(None),
            Paging::PageNumber { per_page } => next_page_number(req, body, per_page),
            Paging::SearchCursor { .. } => next_search_page(req, body),
        }
    }
}

/// The most pages a walk may take, from what its first page says about the total:
/// `total_pages` for page numbers, `total_count` for searches; [`MAX_PAGES`] otherwise.
pub(crate) fn page_limit(first: &Value, paging: Paging) -> usize {
    let (expected, per_page) = match paging {
        Paging::None => return 1,
        Paging::PageNumber { .. } => {
            let pages = first.get("pages").map(|p| match p.get("pages") {
                Some(inner) if inner.is_object() => inner,
                _ => p,
            });
            (
                pages
                    .and_then(|p| p.get("total_pages"))
                    .and_then(Value::as_u64),
                1,
            )
        }
        Paging::SearchCursor { per_page } => (
            first.get("total_count").and_then(Value::as_u64),
            u64::from(per_page.max(1)),
        ),
    };
    match expected {
        Some(n) => {
            let pages = n.div_ceil(per_page).min(MAX_PAGES as u64) as usize;
            pages
                .saturating_mul(2)
                .saturating_add(PAGE_SLACK)
                .min(MAX_PAGES)
        }
        None => MAX_PAGES,
    }
}

/// What identifies a page request: its URL, plus the search cursor for POSTs.
fn page_key(req: &ApiRequest) -> String {
    match req
        .body
        .as_ref()
        .and_then(|b| b.pointer("/pagination/starting_after"))
    {
        Some(c) => format!("{} starting_after={c}", req.describe()),
        None => req.describe(),
    }
}

pub(crate) fn next_search_page(req: &ApiRequest, body: &Value) -> Result<Option<ApiRequest>> {
    let next = match body.pointer("/pages/next") {
        None | Some(Value::Null) => return Ok(None),
        Some(n) => n,
    };
    let cursor = match next.get("starting_after") {
        Some(Value::String(c)) if !c.is_empty() => c.clone(),
        None | Some(Value::Null) => return Ok(None),
        Some(other) => {
            return Err(Error::Decode {
                endpoint: req.describe(),
                message: format!("`pages.next.starting_after` should be a string, got {other}"),
            })
        }
    };
    let mut next_req = req.clone();
    if let Some(b) = next_req.body.as_mut() {
        b["pagination"]["starting_after"] = Value::String(cursor);
    }
    Ok(Some(next_req))
}

/// The records array of a page at `path`, if present.
pub fn records_at<'a>(body: &'a Value, path: &[&str]) -> Option<&'a Vec<Value>> {
    let mut v = body;
    for key in path {
        v = v.get(key)?;
    }
    v.as_array()
}

/// Take the records array out of a page (no copy).
pub fn take_records(body: &mut Value, path: &[&str], endpoint: &str) -> Result<Vec<Value>> {
    let mut v = &mut *body;
    for key in path {
        v = match v.get_mut(*key) {
            Some(inner) => inner,
            None => {
                return Err(Error::Decode {
                    endpoint: endpoint.to_string(),
                    message: format!("the answer has no `{}` list", path.join(".")),
                })
            }
        };
    }
    match v.take() {
        Value::Array(a) => Ok(a),
        // Intercom sends null for an empty list on a few endpoints.
        Value::Null => Ok(Vec::new()),
        other => Err(Error::Decode {
            endpoint: endpoint.to_string(),
            message: format!(
                "`{}` should be a list, got {}",
                path.join("."),
                crate::config::json_kind(&other)
            ),
        }),
    }
}

pub(crate) fn next_page_number(
    req: &ApiRequest,
    body: &Value,
    per_page: u32,
) -> Result<Option<ApiRequest>> {
    // Some legacy endpoints nest it again (`pages.pages`).
    let pages = match body.get("pages") {
        Some(p) if p.get("pages").is_some_and(Value::is_object) => &p["pages"],
        Some(p) => p,
        None => return Ok(None),
    };
    let page = pages.get("page").and_then(Value::as_u64);
    let total = pages.get("total_pages").and_then(Value::as_u64);
    if let (Some(page), Some(total)) = (page, total) {
        if page > total && total > 0 {
            return Err(Error::Pagination {
                endpoint: req.describe(),
                message: format!("the answer says it is page {page} of {total}"),
            });
        }
        if page >= total {
            return Ok(None);
        }
    }
    match pages.get("next") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(link)) if link.is_empty() => Ok(None),
        Some(Value::String(link)) => {
            let path_and_query = match url::Url::parse(link) {
                Ok(u) => match u.query() {
                    Some(q) => format!("{}?{}", u.path(), q),
                    None => u.path().to_string(),
                },
                // A relative link.
                Err(_) if link.starts_with('/') => link.clone(),
                Err(e) => {
                    return Err(Error::Decode {
                        endpoint: req.describe(),
                        message: format!("`pages.next` is not a URL ({e}): {link:?}"),
                    })
                }
            };
            // A link is followed only to the same endpoint (on our own host, see the client).
            let link_path = path_and_query.split('?').next().unwrap_or_default();
            let this_path = req.path.split('?').next().unwrap_or_default();
            if link_path != this_path {
                return Err(Error::Pagination {
                    endpoint: req.describe(),
                    message: format!(
                        "`pages.next` leads to another endpoint ({})",
                        crate::redact::server_text(link_path, 100)
                    ),
                });
            }
            let mut next = req.clone();
            next.path = path_and_query;
            next.query.clear();
            Ok(Some(next))
        }
        Some(obj @ Value::Object(_)) => match obj.get("page").and_then(Value::as_u64) {
            Some(p) if total.is_some_and(|t| p > t) => Err(Error::Pagination {
                endpoint: req.describe(),
                message: format!(
                    "`pages.next` asks for page {p} of {}",
                    total.unwrap_or_default()
                ),
            }),
            Some(p) => {
                let mut next = req.clone();
                next.query.retain(|(k, _)| k != "page" && k != "per_page");
                next.query.push(("page".into(), p.to_string()));
                next.query.push(("per_page".into(), per_page.to_string()));
                Ok(Some(next))
            }
            None => Ok(None),
        },
        Some(other) => Err(Error::Decode {
            endpoint: req.describe(),
            message: format!("`pages.next` should be a link, got {other}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn page_number_links() {
        let req = ApiRequest::get("/articles").query("per_page", "150");
        let body = json!({"pages": {"page": 1, "total_pages": 3, "next": "https://api.intercom.io/articles?page=2&per_page=150"}});
        let n = next_page_number(&req, &body, 150).unwrap().unwrap();
        assert_eq!(n.describe(), "GET /articles?page=2&per_page=150");

        let last =
            json!({"pages": {"page": 3, "total_pages": 3, "next": "https://x/articles?page=4"}});
        assert!(next_page_number(&req, &last, 150).unwrap().is_none());
        let none = json!({"pages": {"page": 1, "total_pages": 1}});
        assert!(next_page_number(&req, &none, 150).unwrap().is_none());
        let nested = json!({"pages": {"pages": {"page": 1, "total_pages": 2, "next": "https://x/counts?type=company&count=user&page=2"}}});
        let counts = ApiRequest::get("/counts").query("type", "company");
        assert_eq!(
            next_page_number(&counts, &nested, 150)
                .unwrap()
                .unwrap()
                .describe(),
            "GET /counts?type=company&count=user&page=2"
        );
        let obj = json!({"pages": {"page": 1, "total_pages": 2, "next": {"page": 2}}});
        assert_eq!(
            next_page_number(&req, &obj, 150)
                .unwrap()
                .unwrap()
                .describe(),
            "GET /articles?page=2&per_page=150"
        );
        assert!(next_page_number(&req, &json!({"pages": {"next": 5}}), 150).is_err());
    }

    #[test]
    fn page_numbers_cannot_lie() {
        let req = ApiRequest::get("/articles").query("per_page", "150");
        let past =
            json!({"pages": {"page": 4, "total_pages": 3, "next": "https://x/articles?page=5"}});
        let e = next_page_number(&req, &past, 150).unwrap_err();
        assert!(e.to_string().contains("page 4 of 3"), "{e}");
        let beyond = json!({"pages": {"page": 1, "total_pages": 2, "next": {"page": 7}}});
        assert!(next_page_number(&req, &beyond, 150).is_err());
        let elsewhere = json!({"pages": {"page": 1, "total_pages": 2, "next": "https://x/admins/../me?page=2"}});
        let e = next_page_number(&req, &elsewhere, 150).unwrap_err();
        assert!(e.to_string().contains("another endpoint"), "{e}");
    }

    #[test]
    fn page_limits_follow_reported_totals() {
        let search = Paging::SearchCursor { per_page: 150 };
        assert_eq!(page_limit(&json!({"total_count": 300}), search), 2 * 2 + 10);
        assert_eq!(page_limit(&json!({"total_count": 0}), search), 10);
        assert_eq!(page_limit(&json!({}), search), MAX_PAGES);
        assert_eq!(
            page_limit(&json!({"total_count": u64::MAX}), search),
            MAX_PAGES
        );
        let pages = Paging::PageNumber { per_page: 150 };
        assert_eq!(page_limit(&json!({"pages": {"total_pages": 3}}), pages), 16);
        assert_eq!(
            page_limit(&json!({"pages": {"pages": {"total_pages": 1}}}), pages),
            12
        );
        assert_eq!(page_limit(&json!({}), Paging::None), 1);
    }

    #[test]
    fn search_cursor_goes_into_the_body() {
        let req = ApiRequest::post(
            "/contacts/search",
            json!({"query": {}, "pagination": {"per_page": 150}}),
        );
        let body = json!({"pages": {"next": {"page": 2, "starting_after": "abc"}}});
        let n = next_search_page(&req, &body).unwrap().unwrap();
        assert_eq!(
            n.body.as_ref().unwrap()["pagination"],
            json!({"per_page": 150, "starting_after": "abc"})
        );
        assert_ne!(page_key(&n), page_key(&req));
        assert!(next_search_page(&req, &json!({"pages": {"page": 3}}))
            .unwrap()
            .is_none());
        assert!(
            next_search_page(&req, &json!({"pages": {"next": {"starting_after": 5}}})).is_err()
        );
    }

    #[test]
    fn take_records_errors_name_the_path() {
        let mut body = json!({"data": [1, 2]});
        assert_eq!(
            take_records(&mut body, &["data"], "GET /x").unwrap().len(),
            2
        );
        let e = take_records(&mut json!({"x": 1}), &["data"], "GET /x").unwrap_err();
        assert!(e.to_string().contains("no `data` list"));
        let e = take_records(&mut json!({"data": {}}), &["data"], "GET /x").unwrap_err();
        assert!(e.to_string().contains("should be a list"));
        assert!(
            take_records(&mut json!({"data": null}), &["data"], "GET /x")
                .unwrap()
                .is_empty()
        );
    }
}
