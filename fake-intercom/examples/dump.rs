//! Prints generated objects as pretty JSON, e.g.
//! `cargo run -p fake-intercom --example dump -- contacts 2` (kind, count; seed 42).

use fake_intercom::{FakeConfig, Workspace};
use serde_json::Value;

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "contacts".to_string());
    let count: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let ws = Workspace::generate(&FakeConfig::default());
    let list: &[Value] = match kind.as_str() {
        "admins" => &ws.admins,
        "teams" => &ws.teams,
        "tags" => &ws.tags,
        "segments" => &ws.segments,
        "company_segments" => &ws.company_segments,
        "company_attributes" => &ws.company_attributes,
        "contact_attributes" => &ws.contact_attributes,
        "conversation_attributes" => &ws.conversation_attributes,
        "subscription_types" => &ws.subscription_types,
        "help_centers" => &ws.help_centers,
        "collections" => &ws.collections,
        "articles" => &ws.articles,
        "contacts" => &ws.contacts,
        "companies" => &ws.companies,
        "conversations" => &ws.conversations,
        "tickets" => &ws.tickets,
        "activity_logs" => &ws.activity_logs,
        "deleted_conversations" => &ws.deleted_conversations,
        "app" => std::slice::from_ref(&ws.app),
        other => {
            eprintln!("unknown kind {other}");
            std::process::exit(2);
        }
    };
    for v in list.iter().take(count) {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    }
}
