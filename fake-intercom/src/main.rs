//! The `fake-intercom` binary: serves a generated workspace on 127.0.0.1 for
//! demos and benchmarks. Prints the base URL as the first (and only) line on
//! stdout, then serves until killed.

use std::io::Write;
use std::net::SocketAddr;

use clap::Parser;
use fake_intercom::{FakeConfig, FakeIntercom};

/// A fake Intercom REST API server with deterministic generated data.
#[derive(Parser, Debug)]
#[command(name = "fake-intercom", version)]
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
    /// Number of tickets.
    #[arg(long)]
    tickets: Option<usize>,
    /// Number of admin activity logs.
    #[arg(long)]
    activity_logs: Option<usize>,
    /// Seconds after its updated_at before a contact shows in contact search.
    #[arg(long, allow_negative_numbers = true)]
    search_index_delay_secs: Option<i64>,
    /// Milliseconds after which an idle companies scroll expires.
    #[arg(long)]
    scroll_expiry_ms: Option<u64>,
}

impl Args {
    fn config(&self) -> FakeConfig {
        let mut c = FakeConfig::default();
        if let Some(v) = self.seed {
            c.seed = v;
        }
        if let Some(v) = &self.token {
            c.token = v.clone();
        }
        if let Some(v) = self.contacts {
            c.contacts = v;
        }
        if let Some(v) = self.companies {
            c.companies = v;
        }
        if let Some(v) = self.conversations {
            c.conversations = v;
        }
        if let Some(v) = self.parts_per_conversation {
            c.parts_per_conversation = v;
        }
        if let Some(v) = self.articles {
            c.articles = v;
        }
        if let Some(v) = self.latency_ms {
            c.latency_ms = v;
        }
        if let Some(v) = self.requests_per_minute {
            c.requests_per_minute = v;
        }
        if let Some(v) = self.window_ms {
            c.window_ms = v;
        }
        if let Some(v) = self.tickets {
            c.tickets = v;
        }
        if let Some(v) = self.activity_logs {
            c.activity_logs = v;
        }
        if let Some(v) = self.search_index_delay_secs {
            c.search_index_delay_secs = v;
        }
        if let Some(v) = self.scroll_expiry_ms {
            c.scroll_expiry_ms = v;
        }
        c
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
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", server.base_url());
    let _ = out.flush();
    drop(out);
    eprintln!(
        "fake-intercom: serving on {} (token {})",
        server.base_url(),
        server.token()
    );
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handling available: serve until killed.
        std::future::pending::<()>().await;
    }
    eprintln!("fake-intercom: interrupted, exiting");
    // Exit without freeing a possibly huge workspace piece by piece.
    std::mem::forget(server);
    std::process::exit(0);
}
