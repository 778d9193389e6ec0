//! One module per protocol command, dispatched from [`run`].

pub mod check;
pub mod discover;
pub mod read;
pub mod spec;

use crate::cli::Command;
use crate::error::Result;
use crate::output::Output;

/// How a command that did not fail outright ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Everything asked for was done.
    Ok,
    /// Some streams failed; each was already reported with an ERROR trace.
    StreamsFailed(usize),
}

/// Run one command to the end.
pub async fn run(command: Command, output: &Output) -> Result<Ended> {
    match command {
        Command::Spec => spec::run(output).map(|_| Ended::Ok),
        Command::Check { config } => check::run(&config, output).await.map(|_| Ended::Ok),
        Command::Discover { config } => discover::run(&config, output).await.map(|_| Ended::Ok),
        Command::Read {
            config,
            catalog,
            state,
        } => read::run(&config, &catalog, state.as_deref(), output).await,
    }
}
