//! A list endpoint walked to its end: the pagination kinds ([`Paging`]), and [`Pages`],
//! which walks one endpoint page by page (each answer a [`Page`]) and checks that the
//! walk added up.
//!
//! A page is fetched only when the previous one has been handed on, so memory stays
//! at one page whatever the stream's size.
//!
//! # When a walk has ended
//!
//! A walk ends only when Intercom says so **and the numbers add up**:
//! - the end is a page with no next page (no `pages.next`, or page-number
//!   `page >= total_pages` with no link onward). An empty page that still links onward
//!   is not an end: the link is followed. A link onward beats a `total_pages` that is
//!   too low. An empty page past `total_pages` ends the walk whatever it links to.
//! - then the walk is checked against what its first page reported: every record of
//!   `total_count` (counted by distinct `id`; page-number lists without one: a full
//!   page for every page before the last), every page of `total_pages`. A walk that
//!   ended short is **re-checked**: its first page is asked for again. If the records
//!   read cover the count Intercom reports now, the difference was records that left
//!   the list during the walk (an update moved them to a later range, where they are
//!   read; a deletion removed them), and the walk is complete. Otherwise it is walked
//!   again from the start, once (its records are emitted again: at least once, never
//!   lost); a second walk that still ends short is an [`Error::Pagination`].
//!
//! Pagination cannot lie either: a next link or search cursor that repeats one already
//! followed, a next link to another endpoint, a page number past `total_pages` that
//! holds records, or more pages than the reported total can fill is an
//! [`Error::Pagination`] for the stream (which then saves no position past the walk),
//! never a quiet stop: a quiet stop would be a silent gap.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::client::Expect;
use crate::http::page::{Keys, Page, Want};
use crate::http::{ApiRequest, Client};

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

/// What a walk's first page said about the whole list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Reported {
    /// Records: `total_count`, or, for page numbers without one, at least a full page
    /// for every page before the last.
    count: Option<u64>,
    pages: Option<u64>,
}

impl Reported {
    fn of(page: &Page, paging: Paging) -> Reported {
        let info = page.pages.as_ref().map(pages_object);
        let pages = info
            .and_then(|p| p.get("total_pages"))
            .and_then(Value::as_u64);
        let at_least = match paging {
            Paging::PageNumber { per_page } => pages.map(|p| {
                let size = info
                    .and_then(|v| v.get("per_page"))
                    .and_then(Value::as_u64)
                    .unwrap_or(u64::from(per_page));
                p.saturating_sub(1).saturating_mul(size)
            }),
            _ => None,
        };
        Reported {
            count: page.total_count.or(at_least),
            pages,
        }
    }
}

/// What a walk has read so far.
/// The distinct records read, by `id` (records without one each count).
#[derive(Debug, Default)]
pub struct Distinct {
    /// Hashes of the distinct ids read.
    ids: HashSet<u64>,
    /// Records without an id.
    anonymous: u64,
}

impl Distinct {
    pub fn add(&mut self, keys: &Keys) {
        match &keys.id {
            Some(id) => {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                id.hash(&mut h);
                self.ids.insert(h.finish());
            }
            None => self.anonymous += 1,
        }
    }

    pub fn count(&self) -> u64 {
        self.ids.len() as u64 + self.anonymous
    }
}

#[derive(Debug, Default)]
struct Seen {
    records: Distinct,
    pages: u64,
}

impl Seen {
    /// What a walk counts before its first page: the pages (and records) skipped.
    fn from_skipped((pages, records): (u64, u64)) -> Seen {
        Seen {
            pages,
            records: Distinct {
                anonymous: records,
                ..Distinct::default()
            },
        }
    }

    fn add(&mut self, page: &Page) {
        self.pages += 1;
        for (_, k) in page.records() {
            self.records.add(k);
        }
    }

    fn records(&self) -> u64 {
        self.records.count()
    }

    /// How this walk falls short of `reported`, in words, if it does.
    fn short_of(&self, reported: Reported) -> Option<String> {
        let records = self.records();
        if let Some(count) = reported.count.filter(|c| records < *c) {
            return Some(format!("{records} of the {count} records it reported"));
        }
        if let Some(pages) = reported.pages.filter(|p| self.pages < *p) {
            return Some(format!("{} of the {pages} pages it reported", self.pages));
        }
        None
    }
}

/// Walks the pages of one endpoint.
pub struct Pages {
    client: Client,
    paging: Paging,
    records_path: &'static [&'static str],
    want: Want,
    /// The first request, for a re-check and a second walk.
    first: ApiRequest,
    next: Option<ApiRequest>,
    requested: HashSet<String>,
    pages: usize,
    /// The most pages this walk can take, once the first page has said how many records there are.
    max_pages: usize,
    /// What this walk's first page reported.
    reported: Reported,
    /// What its latest page reported.
    latest: Reported,
    seen: Seen,
    /// 1 for the first walk, 2 for the walk again after a short one.
    pass: u8,
    finished: bool,
    /// Pages (and their records) before `first`, read by an earlier attempt.
    skipped: (u64, u64),
}

impl Pages {
    /// Start at `first`; `records_path` is where a page holds its records, and `want`
    /// what is read of each record ([`Want`]).
    pub fn new(
        client: Client,
        mut first: ApiRequest,
        paging: Paging,
        records_path: &'static [&'static str],
        want: Want,
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
            want,
            next: Some(first.clone()),
            first,
            requested: HashSet::new(),
            pages: 0,
            max_pages: MAX_PAGES,
            reported: Reported::default(),
            latest: Reported::default(),
            seen: Seen::default(),
            pass: 1,
            finished: false,
            skipped: (0, 0),
        }
    }

    /// A walk that starts after `pages` full pages of `per_page` records, which an
    /// earlier attempt read: they count towards the totals the walk is checked against.
    pub fn resumed_after(mut self, pages: u64, per_page: u32) -> Pages {
        self.skipped = (pages, pages.saturating_mul(u64::from(per_page)));
        self.seen = Seen::from_skipped(self.skipped);
        self
    }

    /// The next page's body, or `None` when the walk is over. (Answers read as values,
    /// the count tables: they are not lists of records, and are not counted.)
    pub async fn next_page(&mut self) -> Result<Option<Value>> {
        let Some(req) = self.take_next()? else {
            return Ok(None);
        };
        let body = self.client.json(&req).await?;
        let empty = records_at(&body, self.records_path).is_some_and(|r| r.is_empty());
        self.advance(&req, &body, empty)?;
        Ok(Some(body))
    }

    /// The next page as raw records ([`Page`]), or `None` when the walk is over and
    /// adds up (see the module docs): a walk that ends short is re-checked and, if
    /// still short, walked again from its first page, which this returns next.
    pub async fn next_raw(&mut self) -> Result<Option<Page>> {
        if let Some(req) = self.take_next()? {
            let page = self
                .client
                .page(&req, self.records_path, &self.want)
                .await?;
            self.took(&req, &page)?;
            return Ok(Some(page));
        }
        if self.finished || self.paging == Paging::None {
            self.finished = true;
            return Ok(None);
        }
        let Some(short) = self.seen.short_of(self.reported) else {
            self.finished = true;
            return Ok(None);
        };
        // Ask again: what does the list hold now?
        let again = self
            .client
            .page(&self.first, self.records_path, &self.want)
            .await?;
        let now = Reported::of(&again, self.paging);
        let endpoint = self.first.describe();
        if self.seen.short_of(now).is_none() {
            tracing::info!(
                "{endpoint}: the walk ended after {short}; Intercom now reports no more than were read (records left the list during the walk), so it is complete"
            );
            self.finished = true;
            return Ok(None);
        }
        if self.pass >= 2 {
            return Err(Error::Pagination {
                endpoint,
                message: format!(
                    "the list ended early twice: the second walk ended after {short}, and Intercom still reports {}",
                    describe(now)
                ),
            });
        }
        tracing::warn!(
            "{endpoint}: the walk ended after {short}, and Intercom still reports {}; reading it again from the start (records already emitted are emitted again)",
            describe(now)
        );
        self.pass += 1;
        self.requested.clear();
        self.pages = 0;
        self.seen = Seen::from_skipped(self.skipped);
        self.next = None;
        let first = self.first.clone();
        self.requested.insert(page_key(&first));
        self.took(&first, &again)?;
        Ok(Some(again))
    }

    /// Pages read so far (in this walk).
    pub fn pages_read(&self) -> usize {
        self.pages
    }

    fn take_next(&mut self) -> Result<Option<ApiRequest>> {
        let Some(req) = self.next.take() else {
            return Ok(None);
        };
        if self.pages >= self.max_pages {
            let saw = if self.max_pages == MAX_PAGES {
                format!("more than {MAX_PAGES} pages, the most any walk may take")
            } else {
                format!(
                    "more than {} pages, while its first page reported {} and its latest {} (a walk may take twice the pages of the largest total it reports, plus {PAGE_SLACK})",
                    self.max_pages,
                    describe(self.reported),
                    describe(self.latest)
                )
            };
            return Err(Error::Pagination {
                endpoint: req.describe(),
                message: format!("it went on for {saw}"),
            });
        }
        self.requested.insert(page_key(&req));
        Ok(Some(req))
    }

    /// A page of records was read: count it, and find the next.
    fn took(&mut self, req: &ApiRequest, page: &Page) -> Result<()> {
        let reported = Reported::of(page, self.paging);
        self.latest = reported;
        if self.pages == 0 {
            self.reported = reported;
        } else if let Some(p) = reported.pages {
            // A later page may know of more pages than the first said.
            self.reported.pages = Some(self.reported.pages.map_or(p, |q| q.max(p)));
        }
        self.seen.add(page);
        let meta = serde_json::json!({"pages": page.pages, "total_count": page.total_count});
        self.advance(req, &meta, page.is_empty())
    }

    /// After a page: the request for the next one, refused if it repeats one already read.
    fn advance(&mut self, req: &ApiRequest, meta: &Value, empty: bool) -> Result<()> {
        self.pages += 1;
        let limit = page_limit(meta, self.paging);
        if self.pages == 1 {
            self.max_pages = limit;
        } else if limit != MAX_PAGES {
            self.max_pages = self.max_pages.max(limit);
        }
        self.next = self.following(req, meta, empty)?;
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

    fn following(&self, req: &ApiRequest, body: &Value, empty: bool) -> Result<Option<ApiRequest>> {
        match self.paging {
            Paging::None => Ok(None),
            Paging::PageNumber { per_page } => {
                follow_page_number(req, body, per_page, empty, self.client.base_url().path())
            }
            Paging::SearchCursor { .. } => next_search_page(req, body),
        }
    }
}

fn describe(r: Reported) -> String {
    match (r.count, r.pages) {
        (Some(c), _) => format!("{c} records"),
        (None, Some(p)) => format!("{p} pages"),
        (None, None) => "no total".into(),
    }
}

/// An answer's `pages` object, where some legacy answers nest it again (`pages.pages`).
fn pages_object(pages: &Value) -> &Value {
    match pages.get("pages") {
        Some(inner) if inner.is_object() => inner,
        _ => pages,
    }
}

/// The most pages a walk may take, from what its first page says about the total:
/// `total_pages` for page numbers, `total_count` for searches; [`MAX_PAGES`] otherwise.
pub(crate) fn page_limit(first: &Value, paging: Paging) -> usize {
    let (expected, per_page) = match paging {
        Paging::None => return 1,
        Paging::PageNumber { .. } => (
            first
                .get("pages")
                .map(pages_object)
                .and_then(|p| p.get("total_pages"))
                .and_then(Value::as_u64),
            1,
        ),
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
        Some(c) => format!("{} starting_after={c}", req.identity()),
        None => req.identity(),
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
                message: format!(
                    "`pages.next.starting_after` should be a string, got {}",
                    crate::config::json_kind(other)
                ),
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

/// The next page's request, from an answer's `pages`, for a client without a base path.
#[cfg(test)]
pub(crate) fn next_page_number(
    req: &ApiRequest,
    body: &Value,
    per_page: u32,
    empty: bool,
) -> Result<Option<ApiRequest>> {
    follow_page_number(req, body, per_page, empty, "")
}

/// The next page's request, from an answer's `pages`. A link's path may start with the
/// client's `base_path` (a proxy's address, `https://proxy/intercom/...`), which is
/// taken off: the client puts it back. Intercom's own links have none.
pub(crate) fn follow_page_number(
    req: &ApiRequest,
    body: &Value,
    per_page: u32,
    empty: bool,
    base_path: &str,
) -> Result<Option<ApiRequest>> {
    let Some(pages) = body.get("pages").map(pages_object) else {
        return Ok(None);
    };
    let page = pages.get("page").and_then(Value::as_u64);
    let total = pages.get("total_pages").and_then(Value::as_u64);
    if let (Some(page), Some(total)) = (page, total) {
        if page >= total && empty {
            // Nothing here, and nothing should be beyond: the end, whatever it links to.
            return Ok(None);
        }
        if page > total && total > 0 {
            return Err(Error::Pagination {
                endpoint: req.describe(),
                message: format!("the answer says it is page {page} of {total}"),
            });
        }
        // At the last page by `total_pages`: the end, unless it links onward (a link
        // beats a `total_pages` that is too low).
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
                        message: format!(
                            "`pages.next` is not a URL ({e}): {}",
                            crate::redact::server_text(link, 100)
                        ),
                    })
                }
            };
            let base = base_path.trim_end_matches('/');
            let path_and_query = match path_and_query.strip_prefix(base) {
                Some(rest)
                    if !base.is_empty() && (rest.starts_with('/') || rest.starts_with('?')) =>
                {
                    rest.to_string()
                }
                _ => path_and_query,
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
            // One past the total is a link beating a `total_pages` that is too low; more
            // would skip pages.
            Some(p) if total.is_some_and(|t| p > t.saturating_add(1)) => Err(Error::Pagination {
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
            message: format!(
                "`pages.next` should be a link, got {}",
                crate::config::json_kind(other)
            ),
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
        let n = next_page_number(&req, &body, 150, false).unwrap().unwrap();
        assert_eq!(n.describe(), "GET /articles?page=2&per_page=150");

        // A link onward beats `total_pages`, unless the page is empty.
        let last =
            json!({"pages": {"page": 3, "total_pages": 3, "next": "https://x/articles?page=4"}});
        assert!(next_page_number(&req, &last, 150, false).unwrap().is_some());
        assert!(next_page_number(&req, &last, 150, true).unwrap().is_none());
        let none = json!({"pages": {"page": 1, "total_pages": 1}});
        assert!(next_page_number(&req, &none, 150, false).unwrap().is_none());
        // An empty page before the last is not an end.
        let gap =
            json!({"pages": {"page": 2, "total_pages": 3, "next": "https://x/articles?page=3"}});
        assert!(next_page_number(&req, &gap, 150, true).unwrap().is_some());
        let nested = json!({"pages": {"pages": {"page": 1, "total_pages": 2, "next": "https://x/counts?type=company&count=user&page=2"}}});
        let counts = ApiRequest::get("/counts").query("type", "company");
        assert_eq!(
            next_page_number(&counts, &nested, 150, false)
                .unwrap()
                .unwrap()
                .describe(),
            "GET /counts?type=company&count=user&page=2"
        );
        let obj = json!({"pages": {"page": 1, "total_pages": 2, "next": {"page": 2}}});
        assert_eq!(
            next_page_number(&req, &obj, 150, false)
                .unwrap()
                .unwrap()
                .describe(),
            "GET /articles?page=2&per_page=150"
        );
        assert!(next_page_number(&req, &json!({"pages": {"next": 5}}), 150, false).is_err());
    }

    #[test]
    fn links_through_a_proxy_with_a_base_path() {
        let req = ApiRequest::get("/articles").query("per_page", "150");
        for link in [
            "https://proxy.example/intercom/articles?page=2&per_page=150",
            "https://api.intercom.io/articles?page=2&per_page=150",
            "/intercom/articles?page=2&per_page=150",
        ] {
            let body = json!({"pages": {"page": 1, "total_pages": 3, "next": link}});
            let n = follow_page_number(&req, &body, 150, false, "/intercom/")
                .unwrap()
                .unwrap();
            assert_eq!(n.describe(), "GET /articles?page=2&per_page=150", "{link}");
        }
        // Only a whole leading segment is the base path.
        let body = json!({"pages": {"page": 1, "total_pages": 3, "next": "https://p/intercomx/articles?page=2"}});
        assert!(follow_page_number(&req, &body, 150, false, "/intercom").is_err());
    }

    #[test]
    fn server_text_in_pagination_errors_is_bounded() {
        let req = ApiRequest::get("/articles").query("per_page", "150");
        let long = format!("https://x/articles?page=2&q={}", "a".repeat(2_000_000));
        let body = json!({"pages": {"page": 1, "total_pages": 3, "next": long}});
        let n = next_page_number(&req, &body, 150, false).unwrap().unwrap();
        assert!(n.describe().chars().count() <= crate::http::request::DESCRIBE_CHARS + 1);
        assert!(n.identity().len() > 2_000_000);
        let elsewhere = json!({"pages": {"page": 1, "total_pages": 3, "next": format!("https://x/{}", "b".repeat(2_000_000))}});
        let e = next_page_number(&req, &elsewhere, 150, false).unwrap_err();
        assert!(e.to_string().len() < 1000, "{}", e.to_string().len());
        let post = ApiRequest::post("/contacts/search", json!({"pagination": {"per_page": 150}}));
        let cursor = json!({"pages": {"next": {"starting_after": vec![0; 100_000]}}});
        let e = next_search_page(&post, &cursor).unwrap_err();
        assert!(e.to_string().len() < 1000, "{}", e.to_string().len());
    }

    #[test]
    fn page_numbers_cannot_lie() {
        let req = ApiRequest::get("/articles").query("per_page", "150");
        let past =
            json!({"pages": {"page": 4, "total_pages": 3, "next": "https://x/articles?page=5"}});
        let e = next_page_number(&req, &past, 150, false).unwrap_err();
        assert!(e.to_string().contains("page 4 of 3"), "{e}");
        assert!(next_page_number(&req, &past, 150, true).unwrap().is_none());
        let beyond = json!({"pages": {"page": 1, "total_pages": 2, "next": {"page": 7}}});
        assert!(next_page_number(&req, &beyond, 150, false).is_err());
        let one_past = json!({"pages": {"page": 2, "total_pages": 2, "next": {"page": 3}}});
        assert!(next_page_number(&req, &one_past, 150, false)
            .unwrap()
            .is_some());
        let elsewhere = json!({"pages": {"page": 1, "total_pages": 2, "next": "https://x/admins/../me?page=2"}});
        let e = next_page_number(&req, &elsewhere, 150, false).unwrap_err();
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
}
