//! Times workspace generation for a large configuration
//! (`cargo run --release -p fake-intercom --example gen_timing -- [contacts]`).

use std::time::Instant;

use fake_intercom::{FakeConfig, Workspace};

fn main() {
    let contacts: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let config = FakeConfig {
        contacts,
        ..FakeConfig::default()
    };
    let t = Instant::now();
    let ws = Workspace::generate(&config);
    let elapsed = t.elapsed();
    println!(
        "{} contacts generated in {:.3}s",
        ws.contacts.len(),
        elapsed.as_secs_f64()
    );
    if std::env::args().any(|a| a == "--size") {
        let bytes: usize = ws.contacts.iter().map(|c| c.to_string().len()).sum();
        println!("{} MB of contact JSON", bytes / 1_000_000);
    }
    // Skip freeing the workspace: the process is about to exit anyway.
    std::mem::forget(ws);
}
