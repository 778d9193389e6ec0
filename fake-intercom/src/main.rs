//! The `fake-intercom` binary: serves a generated workspace on 127.0.0.1 for
//! demos and benchmarks. Prints the base URL as the first (and only) line on
//! stdout, then serves until SIGINT or SIGTERM, when it prints its stats to
//! stderr as one JSON line and exits 0.

use std::io::Write;
use std::net::SocketAddr;

use clap::Parser;
use fake_intercom::{Chaos, ChaosKind, FakeConfig, FakeIntercom, Fault, RetryAfter};

/// A fake Intercom REST API server with deterministic generated data.
#[derive(Parser, Debug)]
#[command(
    name = "fake-intercom",
    version,
    after_help = "FAULTS (--fault 'METHOD PATH KIND[:arg] [times=N] [after=N] [status=N] [body=JSON] [header=NAME:VALUE]'):\n  \
        status              status (default 500) with body=JSON (default null); with header=Location:URL, a redirect\n  \
        truncated[:KEEP]    the real answer cut to KEEP bytes (default half), status 200\n  \
        html                an HTML error page, status 200 unless status=N\n  \
        reset[:BYTES]       the real answer aborted after BYTES body bytes (default half)\n  \
        slow:MS             the real answer after MS milliseconds\n  \
        echo                400 whose message echoes the request headers, Authorization included\n  \
        huge:BYTES          a 200 JSON body of BYTES bytes\n  \
        huge-gzip:BYTES     the same, gzip-compressed (a gzip bomb)\n  \
        repeat              the previous 2xx answer to the same method and path\n  \
        patch:PTR=JSON;...  the real answer with JSON pointer PTR set to JSON (PTR=- removes), status 200\n  \
        replace:FIND=WITH   the real answer with every FIND replaced by WITH (\\xHH: a raw byte), status 200\n\
        PATH (without --base-path) may end in * to match a prefix; METHOD may be *. times defaults\n\
        to 1. JSON and header values hold no spaces. Headers are sent unchanged (they win over the X-RateLimit-* headers).\n\
        Example: --fault 'GET /companies/scroll reset after=2' --fault 'POST /contacts/search repeat after=1'\n         \
        --fault 'POST /conversations/search patch:/conversations=[]' --fault 'GET /admins replace:a=\\xe9'\n\n\
        CHAOS: --chaos-rate 0.05 --chaos-seed 7 [--chaos-kinds rate-limit-burst,server-error,reset,truncated,slow,html200]\n\n\
        MAINTENANCE: --maintenance-ms 30000 [--maintenance-retry-after secs|date|none]: 503 with Retry-After\n\
        (time left, rounded up to whole seconds) to every authenticated request for 30 s from the start\n\n\
        SHARED RATE LIMIT: --requests-per-minute 6000 --reported-limit-per-window 1667 --other-clients-per-window 300:\n\
        X-RateLimit-Limit says 1667, 1000 a window are enforced, and other clients spend 300 of them, spread\n\
        over the window; X-RateLimit-Remaining shows what is really left\n\n\
        REPORTING EXPORT (POST /export/reporting_data/enqueue, GET /export/reporting_data/JOB,\n\
        GET /download/reporting_data/JOB with Accept: application/octet-stream): --report-job-polls 2\n\
        answers pending, then in_progress, then complete on the 3rd poll; at most 5 jobs pending (429);\n\
        --report-job-failure-rate 0.2 fails a fifth of the jobs; --report-download-plain sends plain CSV\n\
        instead of gzip-compressed CSV\n\n\
        LONG CONTACT LISTS: --contacts-with-long-lists 0.02 gives 2% of the contacts (at least 3 from 60\n\
        contacts on) more than 10 tags, companies and notes; they embed 10 (has_more: true) and\n\
        GET /contacts/ID/tags, /companies, /notes serve them all"
)]
struct Args {
    /// Port to bind on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of the generated workspace.
    #[arg(long)]
    seed: Option<u64>,
    /// Bearer token to accept.
    #[arg(long)]
    token: Option<String>,
    /// Number of contacts.
    #[arg(long)]
    contacts: Option<usize>,
    /// Number of companies.
    #[arg(long)]
    companies: Option<usize>,
    /// Number of conversations.
    #[arg(long)]
    conversations: Option<usize>,
    /// Average number of parts per conversation.
    #[arg(long)]
    parts_per_conversation: Option<usize>,
    /// Number of articles.
    #[arg(long)]
    articles: Option<usize>,
    /// Delay added to every request, in milliseconds.
    #[arg(long)]
    latency_ms: Option<u64>,
    /// Rate limit per minute.
    #[arg(long)]
    requests_per_minute: Option<u32>,
    /// Rate-limit window length in milliseconds.
    #[arg(long)]
    window_ms: Option<u64>,
    /// Requests of phantom other clients (other apps of the workspace) in
    /// every rate-limit window, spread evenly over it, spending the same
    /// limit (default 0).
    #[arg(long, value_name = "N")]
    other_clients_per_window: Option<u32>,
    /// The per-window limit X-RateLimit-Limit and the 429 message report,
    /// while the one of --requests-per-minute is enforced (default: that one).
    #[arg(long, value_name = "N")]
    reported_limit_per_window: Option<u32>,
    /// Number of tickets.
    #[arg(long)]
    tickets: Option<usize>,
    /// Number of admin activity logs.
    #[arg(long)]
    activity_logs: Option<usize>,
    /// Seconds after its updated_at before a contact shows in contact search.
    #[arg(long, allow_negative_numbers = true)]
    search_index_delay_secs: Option<i64>,
    /// Up to this many more seconds, drawn per record version, before an
    /// object shows in any search (0: off).
    #[arg(long, allow_negative_numbers = true)]
    search_index_jitter_secs: Option<i64>,
    /// The fake's clock minus the machine's, in seconds (negative: behind);
    /// the Date and X-RateLimit-Reset headers and search index lag follow it.
    #[arg(long, allow_negative_numbers = true)]
    clock_offset_secs: Option<i64>,
    /// Milliseconds after which an idle companies scroll expires.
    #[arg(long)]
    scroll_expiry_ms: Option<u64>,
    /// Queue a fault: 'METHOD PATH KIND[:arg] [times=N] [after=N] [status=N]
    /// [body=JSON] [header=NAME:VALUE]' (repeatable; kinds below).
    #[arg(long = "fault", value_name = "SPEC", value_parser = parse_fault)]
    faults: Vec<Fault>,
    /// Share of authenticated requests (0 to 1) that get a random fault.
    #[arg(long, value_name = "F", value_parser = parse_rate)]
    chaos_rate: Option<f64>,
    /// Seed of the random faults (default 0).
    #[arg(long, value_name = "N")]
    chaos_seed: Option<u64>,
    /// The random fault kinds to choose from, comma-separated (default all):
    /// rate-limit-burst, server-error, reset, truncated, slow, html200.
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    chaos_kinds: Vec<ChaosKind>,
    /// Delay of a slow random fault, in milliseconds (default 2000).
    #[arg(long, value_name = "MS")]
    chaos_slow_ms: Option<u64>,
    /// A maintenance window from the start: for MS milliseconds every
    /// authenticated request gets 503 service_unavailable.
    #[arg(long, value_name = "MS")]
    maintenance_ms: Option<u64>,
    /// The Retry-After header of the maintenance 503s: secs (delay
    /// seconds, the default), date (an HTTP date) or none.
    #[arg(long, value_name = "FORM")]
    maintenance_retry_after: Option<RetryAfter>,
    /// Serve every endpoint under this path prefix, as a proxy does (e.g.
    /// /intercom); the printed base URL includes it.
    #[arg(long, value_name = "PATH")]
    base_path: Option<String>,
    /// Share of contacts (0 to 1) with more than 10 tags, companies and
    /// notes (default 0.02; at least 3 once there are 60 contacts; 0: none).
    #[arg(long, value_name = "F", value_parser = parse_rate)]
    contacts_with_long_lists: Option<f64>,
    /// Status polls of a reporting export job that answer pending or
    /// in_progress before it is complete (default 2).
    #[arg(long, value_name = "N")]
    report_job_polls: Option<u32>,
    /// Days of reporting data the workspace keeps: an export that starts
    /// earlier is refused (default 730).
    #[arg(long, value_name = "DAYS")]
    report_retention_days: Option<u32>,
    /// Share of reporting export jobs (0 to 1) that end failed (default 0).
    #[arg(long, value_name = "F", value_parser = parse_rate)]
    report_job_failure_rate: Option<f64>,
    /// Send reporting export downloads as plain CSV instead of
    /// gzip-compressed CSV.
    #[arg(long)]
    report_download_plain: bool,
}

fn parse_fault(s: &str) -> Result<Fault, String> {
    s.parse()
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("'{s}' is not a share between 0 and 1")),
    }
}

impl Args {
    fn config(&self) -> FakeConfig {
        let d = FakeConfig::default();
        FakeConfig {
            seed: self.seed.unwrap_or(d.seed),
            token: self.token.clone().unwrap_or(d.token),
            contacts: self.contacts.unwrap_or(d.contacts),
            companies: self.companies.unwrap_or(d.companies),
            conversations: self.conversations.unwrap_or(d.conversations),
            parts_per_conversation: self
                .parts_per_conversation
                .unwrap_or(d.parts_per_conversation),
            articles: self.articles.unwrap_or(d.articles),
            latency_ms: self.latency_ms.unwrap_or(d.latency_ms),
            requests_per_minute: self.requests_per_minute.unwrap_or(d.requests_per_minute),
            window_ms: self.window_ms.unwrap_or(d.window_ms),
            other_clients_per_window: self
                .other_clients_per_window
                .unwrap_or(d.other_clients_per_window),
            reported_limit_per_window: self
                .reported_limit_per_window
                .or(d.reported_limit_per_window),
            tickets: self.tickets.unwrap_or(d.tickets),
            activity_logs: self.activity_logs.unwrap_or(d.activity_logs),
            search_index_delay_secs: self
                .search_index_delay_secs
                .unwrap_or(d.search_index_delay_secs),
            search_index_jitter_secs: self
                .search_index_jitter_secs
                .unwrap_or(d.search_index_jitter_secs),
            clock_offset_secs: self.clock_offset_secs.unwrap_or(d.clock_offset_secs),
            scroll_expiry_ms: self.scroll_expiry_ms.unwrap_or(d.scroll_expiry_ms),
            chaos: self.chaos(),
            maintenance_ms: self.maintenance_ms.unwrap_or(d.maintenance_ms),
            maintenance_retry_after: self
                .maintenance_retry_after
                .unwrap_or(d.maintenance_retry_after),
            base_path: self.base_path.clone().unwrap_or(d.base_path),
            contacts_with_long_lists: self
                .contacts_with_long_lists
                .unwrap_or(d.contacts_with_long_lists),
            report_job_polls: self.report_job_polls.unwrap_or(d.report_job_polls),
            report_job_failure_rate: self
                .report_job_failure_rate
                .unwrap_or(d.report_job_failure_rate),
            report_download_gzip: d.report_download_gzip && !self.report_download_plain,
            report_retention_days: self
                .report_retention_days
                .unwrap_or(d.report_retention_days),
            ..d
        }
    }

    /// Chaos when any chaos flag is given.
    fn chaos(&self) -> Option<Chaos> {
        let any = self.chaos_rate.is_some()
            || self.chaos_seed.is_some()
            || !self.chaos_kinds.is_empty()
            || self.chaos_slow_ms.is_some();
        if !any {
            return None;
        }
        let d = Chaos::default();
        Some(Chaos {
            seed: self.chaos_seed.unwrap_or(d.seed),
            rate: self.chaos_rate.unwrap_or(d.rate),
            kinds: if self.chaos_kinds.is_empty() {
                d.kinds
            } else {
                self.chaos_kinds.clone()
            },
            slow_ms: self.chaos_slow_ms.unwrap_or(d.slow_ms),
        })
    }
}

/// Listen for SIGINT and SIGTERM from now on (the handlers are in place when this
/// returns, so a signal sent as soon as the URL is printed is caught); the future ends
/// at the first (or never where signals are unavailable).
fn stop_signals() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            match (term, int) {
                (Some(mut term), Some(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                (Some(mut one), None) | (None, Some(mut one)) => {
                    one.recv().await;
                }
                (None, None) => std::future::pending::<()>().await,
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let server = match FakeIntercom::start_on(args.config(), addr).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fake-intercom: cannot bind {addr}: {e}");
            std::process::exit(1);
        }
    };
    for fault in &args.faults {
        server.inject_fault(fault.clone());
    }
    let stopped = stop_signals();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", server.base_url());
    let _ = out.flush();
    drop(out);
    eprintln!(
        "fake-intercom: serving on {} (token {})",
        server.base_url(),
        server.token()
    );
    stopped.await;
    let stats = serde_json::to_string(&server.stats()).unwrap_or_default();
    eprintln!("{stats}");
    // Exit without freeing a possibly huge workspace piece by piece.
    std::mem::forget(server);
    std::process::exit(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_build_the_config() {
        let args = Args::parse_from([
            "fake-intercom",
            "--contacts",
            "7",
            "--fault",
            "GET /admins status status=503 times=2",
            "--fault",
            "POST /contacts/search truncated:10",
            "--chaos-rate",
            "0.25",
            "--chaos-seed",
            "3",
            "--chaos-kinds",
            "reset,html200",
            "--fault",
            r"GET /admins replace:\x3d=\xe9",
            "--clock-offset-secs",
            "-7200",
            "--search-index-jitter-secs",
            "60",
        ]);
        let c = args.config();
        assert_eq!(c.contacts, 7);
        assert_eq!(c.companies, FakeConfig::default().companies);
        let chaos = c.chaos.expect("chaos");
        assert_eq!((chaos.seed, chaos.rate, chaos.slow_ms), (3, 0.25, 2_000));
        assert_eq!(chaos.kinds, vec![ChaosKind::Reset, ChaosKind::Html200]);
        assert_eq!(args.faults.len(), 3);
        assert_eq!(
            args.faults[2].kind,
            fake_intercom::FaultKind::Replace {
                find: b"=".to_vec(),
                with: vec![0xe9],
            }
        );
        assert_eq!(
            (c.clock_offset_secs, c.search_index_jitter_secs),
            (-7_200, 60)
        );
        assert_eq!((args.faults[0].status, args.faults[0].times), (503, 2));
        assert!(Args::try_parse_from(["fake-intercom", "--chaos-rate", "2"]).is_err());
        assert!(Args::try_parse_from(["fake-intercom", "--fault", "GET /x boom"]).is_err());
        assert!(Args::parse_from(["fake-intercom"]).config().chaos.is_none());
    }

    #[test]
    fn maintenance_and_base_path_flags() {
        let c = Args::parse_from([
            "fake-intercom",
            "--maintenance-ms",
            "30000",
            "--maintenance-retry-after",
            "date",
            "--base-path",
            "/intercom",
        ])
        .config();
        assert_eq!(c.maintenance_ms, 30_000);
        assert_eq!(c.maintenance_retry_after, RetryAfter::HttpDate);
        assert_eq!(c.base_path, "/intercom");
        let d = Args::parse_from(["fake-intercom"]).config();
        assert_eq!(
            (d.maintenance_ms, d.maintenance_retry_after, d.base_path),
            (0, RetryAfter::Seconds, String::new())
        );
        let bad = ["fake-intercom", "--maintenance-retry-after", "soon"];
        assert!(Args::try_parse_from(bad).is_err());
    }

    #[test]
    fn reporting_and_long_list_flags() {
        let c = Args::parse_from([
            "fake-intercom",
            "--report-job-polls",
            "0",
            "--report-job-failure-rate",
            "0.5",
            "--report-download-plain",
            "--contacts-with-long-lists",
            "0.1",
            "--report-retention-days",
            "1095",
        ])
        .config();
        assert_eq!(c.report_job_polls, 0);
        assert_eq!(c.report_job_failure_rate, 0.5);
        assert!(!c.report_download_gzip);
        assert_eq!(c.contacts_with_long_lists, 0.1);
        assert_eq!(c.report_retention_days, 1095);
        let d = Args::parse_from(["fake-intercom"]).config();
        assert_eq!(
            (
                d.report_job_polls,
                d.report_job_failure_rate,
                d.report_download_gzip
            ),
            (2, 0.0, true)
        );
        assert_eq!(d.contacts_with_long_lists, 0.02);
        assert_eq!(d.report_retention_days, 730);
        for bad in [
            ["fake-intercom", "--report-job-failure-rate", "1.5"],
            ["fake-intercom", "--contacts-with-long-lists", "-1"],
            ["fake-intercom", "--report-job-polls", "-1"],
        ] {
            assert!(Args::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shared_rate_limit_flags() {
        let c = Args::parse_from([
            "fake-intercom",
            "--other-clients-per-window",
            "800",
            "--reported-limit-per-window",
            "1667",
        ])
        .config();
        assert_eq!(c.other_clients_per_window, 800);
        assert_eq!(c.reported_limit_per_window, Some(1_667));
        let d = Args::parse_from(["fake-intercom"]).config();
        assert_eq!(
            (d.other_clients_per_window, d.reported_limit_per_window),
            (0, None)
        );
        let bad = ["fake-intercom", "--other-clients-per-window", "-1"];
        assert!(Args::try_parse_from(bad).is_err());
    }
}
