//! Roots read from GET endpoints ([`Source::Pages`](crate::streams::Source::Pages)): each
//! endpoint in turn, every page of it. Their records come in no useful order, so
//! their streams keep their highest cursor only once every page is read and the walk
//! adds up ([`crate::walk`]).

use super::group::GroupRun;
use crate::error::{Error, Result};
use crate::http::client::Expect;
use crate::http::ApiRequest;
use crate::streams::{Endpoint, Extract};
use crate::walk::{Pages, Paging};

/// The watermark unit of an unsorted read (there is only one).
const UNIT: i64 = i64::MIN;

pub async fn read(run: &GroupRun, endpoints: &[Endpoint]) -> Result<()> {
    run.with_watermark(|w| w.add(UNIT, None));
    let stream = run.request_stream();
    // A resumable full refresh of a page-numbered list continues after the pages its
    // attempt before emitted.
    let resume = match endpoints {
        [_] => run.group.consumers.iter().filter_map(|c| c.resume).min(),
        _ => None,
    };
    for ep in endpoints {
        let mut first = ApiRequest::get(ep.path)
            .version(ep.version)
            .for_stream(stream);
        for (k, v) in ep.query {
            first = first.query(k, *v);
        }
        let endpoint = first.describe();
        match ep.extract {
            Extract::List(path) => {
                let skipped = match (resume, ep.paging) {
                    (Some(done), Paging::PageNumber { per_page }) if done > 0 => {
                        tracing::info!(
                            "stream {stream}: resuming the full refresh after page {done}"
                        );
                        first = first.query("page", (done + 1).to_string());
                        Some((done, per_page))
                    }
                    _ => None,
                };
                let mut pages =
                    Pages::new(run.ctx.client.clone(), first, ep.paging, path, run.want());
                if let Some((done, per_page)) = skipped {
                    pages = pages.resumed_after(done as u64, per_page);
                }
                let before = skipped.map_or(0, |(done, _)| done);
                while let Some(page) = pages.next_raw().await? {
                    if pages.pages_read() == 1 && endpoints.len() == 1 && skipped.is_none() {
                        if let Some(total) = page.total_count {
                            run.estimate(total)?;
                        }
                    }
                    let taken = run.take(page.records(), None)?;
                    run.page_done(UNIT, taken.max);
                    if matches!(ep.paging, Paging::PageNumber { .. }) {
                        run.pages_done(before + pages.pages_read() as i64)?;
                    }
                }
            }
            Extract::Rows(hook) => {
                first = first.expect(Expect::Rows(hook));
                let mut pages = Pages::new(
                    run.ctx.client.clone(),
                    first,
                    ep.paging,
                    &[],
                    Default::default(),
                );
                while let Some(body) = pages.next_page().await? {
                    let rows = hook(&body).map_err(|message| Error::Decode {
                        endpoint: endpoint.clone(),
                        message,
                    })?;
                    run.take_values(rows)?;
                }
            }
        }
    }
    run.unit_done(UNIT);
    Ok(())
}
