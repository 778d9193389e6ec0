//! Roots read in `created_at` windows ([`Source::Windows`](crate::streams::Source::Windows),
//! activity logs): `activity_logs_time_step` days each, both ends inclusive, several
//! at once. A window's pages come in no useful order, so the position advances
//! window by window: past every window finished with all the windows before it.

use futures::stream::{FuturesUnordered, StreamExt};

use super::group::GroupRun;
use crate::error::Result;
use crate::http::ApiRequest;
use crate::streams::Windowed;
use crate::walk::{Pages, Paging};

/// Windows read at once.
const WINDOWS_IN_FLIGHT: usize = 4;

/// The windows `[from, to]` (inclusive) covering `[lower, now]`.
pub fn windows(lower: i64, now: i64, step_days: u32) -> Vec<(i64, i64)> {
    let step = i64::from(step_days.max(1)).saturating_mul(86_400);
    let mut out = Vec::new();
    let mut from = lower;
    while from <= now {
        let to = from.saturating_add(step - 1).min(now);
        out.push((from, to));
        if to >= now {
            break;
        }
        from = to + 1;
    }
    out
}

pub async fn read(run: &GroupRun, w: &Windowed) -> Result<()> {
    let ctx = &run.ctx;
    let lower = run.group.read_lower().unwrap_or(ctx.config.start_date);
    let all = windows(lower, ctx.now, ctx.config.activity_logs_time_step_days);
    let last = all.len().saturating_sub(1);
    run.with_watermark(|m| {
        for (i, (from, to)) in all.iter().enumerate() {
            // The last window ends at the sync's start: its position is the newest record.
            m.add(*from, (i != last).then(|| to.saturating_add(1)));
        }
    });
    let mut pending = all.into_iter();
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < WINDOWS_IN_FLIGHT {
            match pending.next() {
                Some((from, to)) => running.push(read_window(run, w, from, to)),
                None => break,
            }
        }
        match running.next().await {
            Some(Ok(from)) => {
                run.unit_done(from);
                run.checkpoint()?;
            }
            Some(Err(e)) => return Err(e),
            None => return Ok(()),
        }
    }
}

async fn read_window(run: &GroupRun, w: &Windowed, from: i64, to: i64) -> Result<i64> {
    let req = ApiRequest::get(w.path)
        .for_stream(run.request_stream())
        .query(w.after_param, from.to_string())
        .query(w.before_param, to.to_string());
    let mut pages = Pages::new(
        run.ctx.client.clone(),
        req,
        Paging::PageNumber {
            per_page: w.per_page,
        },
        w.records,
        run.want(),
    );
    while let Some(page) = pages.next_raw().await? {
        let taken = run.take(page.records(), Some((from, Some(to.saturating_add(1)))))?;
        run.page_done(from, taken.max);
    }
    Ok(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_range_without_overlap() {
        assert_eq!(
            windows(0, 200_000, 1),
            vec![(0, 86_399), (86_400, 172_799), (172_800, 200_000)]
        );
        assert_eq!(windows(10, 5, 30), vec![]);
        assert_eq!(
            windows(i64::MAX - 5, i64::MAX, 30),
            vec![(i64::MAX - 5, i64::MAX)]
        );
    }
}
