//! The command line: the four Airbyte source commands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Airbyte source connector for Intercom.
///
/// Writes Airbyte protocol messages to stdout, one JSON object per line.
#[derive(Debug, Parser)]
#[command(name = "source-intercom", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the connector's configuration specification.
    Spec,
    /// Validate a config and make one authenticated call to Intercom.
    Check {
        /// Path to the config JSON file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Print the catalog of streams this connector can read.
    Discover {
        /// Path to the config JSON file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Read the streams of a configured catalog.
    Read {
        /// Path to the config JSON file.
        #[arg(long)]
        config: PathBuf,
        /// Path to the configured catalog JSON file.
        #[arg(long)]
        catalog: PathBuf,
        /// Path to the state JSON file from the previous sync.
        #[arg(long)]
        state: Option<PathBuf>,
    },
}
