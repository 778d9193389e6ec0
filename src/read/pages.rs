//! Roots read from GET endpoints ([`Read::Pages`](crate::streams::Read::Pages)): each
//! endpoint in turn, every page of it. Their records come in no useful order, so
//! their streams keep their highest cursor only once every page is read and the walk
//! adds up ([`crate::paginate`]).

use super::group::GroupRun;
use crate::error::{Error, Result};
use crate::http::client::Expect;
use crate::http::ApiRequest;
use crate::paginate::Pages;
use crate::streams::{Endpoint, Extract};

/// The watermark unit of an unsorted read (there is only one).
const UNIT: i64 = i64::MIN;

pub async fn read(run: &GroupRun, endpoints: &[Endpoint]) -> Result<()> {
    run.with_watermark(|w| w.add(UNIT, None));
    let stream = run.request_stream();
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
                let mut pages =
                    Pages::new(run.ctx.client.clone(), first, ep.paging, path, run.want());
                while let Some(page) = pages.next_raw().await? {
                    if pages.pages_read() == 1 && endpoints.len() == 1 {
                        if let Some(total) = page.total_count {
                            run.estimate(total)?;
                        }
                    }
                    let taken = run.take(page.records(), None)?;
                    run.page_done(UNIT, taken.max);
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
