//! The companies scroll ([`Source::Scroll`](crate::streams::Source::Scroll)): Intercom
//! allows one scroll per workspace at a time, pages expire a minute after the last
//! call, and a scroll cannot be resumed. So the scroll is read in full, one page after
//! another, before any child request (company segments) is sent; companies it returns
//! twice (after a restart) are emitted once.

use std::collections::HashSet;
use std::time::Duration;

use super::group::{GroupRun, Parent};
use crate::error::{Error, Result};
use crate::http::page::{Keys, Page};
use crate::http::ApiRequest;

/// The watermark unit of the scroll (an unsorted read: one unit).
const UNIT: i64 = i64::MIN;

/// Why a scroll attempt ended.
enum ScrollEnd {
    /// The scroll reached its end (an empty page).
    Done,
    /// The scroll broke off mid-way (expired, a 5xx, an answer lost or cut off): it
    /// must start again from the beginning, since a scroll can't be resumed and
    /// repeating a call could skip the page the server already moved past.
    Broken(Error),
}

pub async fn read(run: &GroupRun) -> Result<()> {
    run.with_watermark(|w| w.add(UNIT, None));
    let mut seen: HashSet<String> = HashSet::new();
    let mut children: Vec<(usize, Vec<Parent>)> = Vec::new();
    let mut restarts = 0u32;
    let settings = &run.ctx.settings;
    loop {
        match scroll_once(run, &mut seen, &mut children).await? {
            ScrollEnd::Done => break,
            ScrollEnd::Broken(e) => {
                restarts += 1;
                if restarts > settings.scroll_max_restarts {
                    return Err(e);
                }
                tracing::warn!(
                    "the companies scroll broke off ({e}); restarting it ({restarts} of {}); companies already read are not emitted again",
                    settings.scroll_max_restarts
                );
            }
        }
    }
    super::children::fetch(run, children).await?;
    run.unit_done(UNIT);
    Ok(())
}

fn scroll_request(run: &GroupRun, param: Option<String>) -> ApiRequest {
    let mut req = ApiRequest::get("/companies/scroll")
        .query("per_page", "150")
        .for_stream(run.request_stream());
    if let Some(p) = param {
        // Mid-scroll, a failure means "restart the scroll": repeating the call won't help.
        req = req.query("scroll_param", p).no_error_retries();
    }
    req
}

/// Open the scroll, waiting while another client holds the workspace's one scroll.
async fn open(run: &GroupRun) -> Result<(Page, String)> {
    let settings = &run.ctx.settings;
    let mut busy_waited = Duration::ZERO;
    loop {
        let req = scroll_request(run, None);
        match run.ctx.client.page(&req, &["data"], &run.want()).await {
            Ok(page) => return Ok((page, req.describe())),
            Err(e) if e.is_scroll_busy() => {
                if busy_waited >= settings.scroll_busy_max {
                    return Err(Error::ScrollBusy {
                        endpoint: req.describe(),
                        waited_secs: busy_waited.as_secs_f64(),
                    });
                }
                let wait = settings
                    .scroll_busy_wait
                    .min(settings.scroll_busy_max.saturating_sub(busy_waited))
                    .max(Duration::from_millis(1));
                tracing::warn!(
                    "another client is scrolling this workspace's companies (scroll_exists); waiting {} ms for its scroll to expire",
                    wait.as_millis()
                );
                tokio::time::sleep(wait).await;
                busy_waited += wait;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One pass over the scroll, from opening it to its empty last page. A page with no
/// company this pass hasn't seen is a scroll going round in circles: an error.
async fn scroll_once(
    run: &GroupRun,
    seen: &mut HashSet<String>,
    children: &mut Vec<(usize, Vec<Parent>)>,
) -> Result<ScrollEnd> {
    let (mut page, mut endpoint) = open(run).await?;
    let mut this_pass: HashSet<String> = HashSet::new();
    loop {
        if page.is_empty() {
            return Ok(ScrollEnd::Done);
        }
        // The scroll hands back the same scroll_param on every page: never a stop signal.
        let param = match &page.scroll_param {
            Some(p) if !p.is_empty() => p.clone(),
            _ => {
                return Err(Error::Decode {
                    endpoint,
                    message: "a page of companies came without a `scroll_param`".into(),
                })
            }
        };
        let mut new_in_pass = 0usize;
        let mut fresh: Vec<(&str, &Keys)> = Vec::with_capacity(page.len());
        for (r, k) in page.records() {
            // Read with the page: a company without one failed it.
            let Some(id) = &k.id else {
                return Err(Error::Decode {
                    endpoint,
                    message: "a company has no `id`".into(),
                });
            };
            if this_pass.insert(id.clone()) {
                new_in_pass += 1;
                if seen.insert(id.clone()) {
                    fresh.push((r, k));
                }
            }
        }
        if new_in_pass == 0 {
            return Err(Error::Pagination {
                endpoint,
                message: "a page of the companies scroll holds only companies this scroll already returned, so it would never end".into(),
            });
        }
        let taken = run.take(fresh.into_iter(), None)?;
        run.page_done(UNIT, taken.max);
        for (i, parents) in taken.parents {
            match children.iter_mut().find(|(j, _)| *j == i) {
                Some((_, list)) => list.extend(parents),
                None => children.push((i, parents)),
            }
        }
        let req = scroll_request(run, Some(param));
        endpoint = req.describe();
        page = match run.ctx.client.page(&req, &["data"], &run.want()).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() || e.root().is_retriable() => {
                return Ok(ScrollEnd::Broken(e))
            }
            Err(e) => return Err(e),
        };
    }
}
