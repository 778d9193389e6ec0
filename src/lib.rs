//! source-intercom: an Airbyte source connector for Intercom.
//!
//! # Layout
//! - [`cli`]: the clap command line (spec, check, discover, read).
//! - [`commands`]: one module per command, dispatched from [`commands::run`].
//! - [`protocol`]: Airbyte message types (one serde-tagged enum) and the configured catalog.
//! - [`output`]: the only owner of stdout: whole lines, secrets masked, flushed at checkpoints.
//! - [`redact`]: what keeps the token and credential-shaped server text out of every output.
//! - [`logging`]: a tracing layer that renders events as Airbyte LOG messages.
//! - [`config`]: raw config JSON to a validated [`config::Config`]; the token is a [`config::Secret`].
//! - [`error`]: the one error enum with `failure_type()` and `is_retriable()`.
//! - [`http`]: the Intercom client (auth, version header, region), rate budget, retry decision.
//! - [`paginate`]: pagination kinds and the page walker.
//! - [`cursor`]: incremental positions: saved-state shapes, inclusive lower bounds, checkpoint values.
//! - [`state`]: input state in all the forms orchestrators send.
//! - [`streams`]: the stream table: one declaration per stream, parents named.
//! - [`read`]: the read pipeline: the plan, concurrent groups in one budget, one reader per
//!   root kind (endpoints, searches, the scroll, windows) and child fan-out.
//!
//! [`run`] is what `main` calls: it turns a command's outcome into protocol messages
//! and an exit code.

pub mod cli;
pub mod commands;
pub mod config;
pub mod cursor;
pub mod error;
pub mod http;
pub mod logging;
pub mod output;
pub mod paginate;
#[cfg(test)]
mod properties;
pub mod protocol;
pub mod read;
pub mod redact;
pub mod state;
pub mod streams;

use commands::Ended;
use error::Error;
use output::Output;
use protocol::{ErrorTrace, Message};

/// Exit code for success, and for a broken pipe (the reader left; nothing to report).
pub const EXIT_OK: i32 = 0;
/// Exit code for any failure reported with an ERROR trace.
pub const EXIT_FAILURE: i32 = 1;

/// Exit code after SIGINT or SIGTERM: 128 + the signal number, as shells report it.
fn exit_for_signal(signal: &str) -> i32 {
    match signal {
        "SIGINT" => 130,
        _ => 143,
    }
}

/// Resolves when the process is asked to stop (SIGTERM or SIGINT), with the signal's name.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            // No signal handling: never resolve, the default action applies.
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// Install the panic hook: a panic anywhere becomes one `system_error` TRACE on stdout
/// (written only if no other line is being written, so no line is ever cut) and exit
/// code [`EXIT_FAILURE`]. The message goes to stderr too, with secrets masked.
pub fn install_panic_hook(output: Output) {
    std::panic::set_hook(Box::new(move |info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let what = redact::server_text(&what, 500);
        let trace = Message::error_trace(ErrorTrace {
            message: format!(
                "The connector crashed on an internal error (a bug, please report it): {what}"
            ),
            internal_message: Some(format!("panic at {place}: {what}")),
            failure_type: protocol::FailureType::SystemError,
            stream_descriptor: None,
        });
        output.try_emit_now(&trace);
        eprintln!("source-intercom: panic at {place}: {what}");
        std::process::exit(EXIT_FAILURE);
    }));
}

/// Run a parsed command; return the process exit code. Every failure has been
/// reported with exactly one ERROR trace by the time this returns.
pub fn run(command: cli::Command, output: &Output) -> i32 {
    // A few workers are plenty: the work is waiting on the network and writing stdout,
    // and every worker thread costs memory.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return report(
                output,
                &Error::Internal(format!("could not start the async runtime: {e}")),
            )
        }
    };
    let result = runtime.block_on(async {
        tokio::select! {
            r = commands::run(command, output) => r,
            // Dropping the command stops it at its next await: every line already
            // written is whole, and nothing more is written but the trace below.
            signal = stop_signal() => Err(Error::Interrupted { signal }),
        }
    });
    let code = match result {
        Ok(Ended::Ok) => EXIT_OK,
        Ok(Ended::StreamsFailed(n)) => {
            tracing::error!("{n} stream(s) failed; see the ERROR traces above");
            EXIT_FAILURE
        }
        Err(e @ Error::Interrupted { signal }) => {
            // Streams spawned by the read may still be writing: the trace is the last
            // line, and no line can start after it (see `Output::emit_last`).
            let _ = output.emit_last(&error_trace(&e));
            exit_for_signal(signal)
        }
        Err(e) => report(output, &e),
    };
    // Stop background tasks (e.g. idle HTTP connections) without waiting on them.
    runtime.shutdown_background();
    match output.flush() {
        Err(Error::BrokenPipe) | Ok(()) => code,
        Err(_) => EXIT_FAILURE,
    }
}

/// A run-wide failure as an ERROR trace.
fn error_trace(e: &Error) -> Message {
    Message::error_trace(ErrorTrace {
        message: e.to_string(),
        internal_message: Some(format!("{e:?}")),
        failure_type: e.failure_type(),
        stream_descriptor: None,
    })
}

/// Report a failure as one ERROR trace; return the exit code.
pub fn report(output: &Output, e: &Error) -> i32 {
    if matches!(e, Error::BrokenPipe) {
        return EXIT_OK;
    }
    match output.emit(&error_trace(e)) {
        Err(Error::BrokenPipe) => EXIT_OK,
        _ => EXIT_FAILURE,
    }
}
