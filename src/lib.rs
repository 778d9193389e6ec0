//! source-intercom: an Airbyte source connector for Intercom.
//!
//! # Layout
//! - [`cli`]: the clap command line (spec, check, discover, read).
//! - [`commands`]: one module per command, dispatched from [`commands::run`].
//! - [`protocol`]: Airbyte message types (one serde-tagged enum) and the configured catalog.
//! - [`output`]: the only owner of stdout: whole lines, secrets masked outside records,
//!   flushed at checkpoints.
//! - [`redact`]: what keeps the token and credential-shaped server text out of every output.
//! - [`logging`]: a tracing layer that renders events as Airbyte LOG messages.
//! - [`config`]: raw config JSON to a validated [`config::Config`]; the token is a [`config::Secret`].
//! - [`error`]: the one error enum with `failure_type()` and `is_retriable()`.
//! - [`status`]: which HTTP statuses are worth sending again (for the error enum and the
//!   retry decision alike).
//! - [`http`]: the Intercom client (auth, version header, region), one answer of a list
//!   ([`http::page`]), rate budget, retry decision, network policy.
//! - [`walk`]: pagination kinds, and a list endpoint walked page by page to its end,
//!   checked to add up.
//! - [`cursor`]: incremental positions: saved-state shapes, inclusive lower bounds, checkpoint values.
//! - [`state`]: input state in all the forms orchestrators send.
//! - [`streams`]: the stream table: one declaration per stream, parents named.
//! - [`read`]: the read pipeline: the plan, concurrent groups in one budget, one reader per
//!   root kind (endpoints, searches, the scroll, windows) and child fan-out.
//! - [`settings`]: the tunables (`SOURCE_INTERCOM_*`), one table, and every bound on what
//!   runs at once.
//!
//! [`run`] is what `main` calls: it turns a command's outcome into protocol messages
//! and an exit code, and [`exit`] ends the process. SIGTERM and SIGINT are watched on a
//! thread of their own ([`watch_signals`]), so that a stop is seen and ends the process
//! within seconds even when every other thread is blocked writing to a stdout nobody
//! reads.
//!
//! # Layers
//!
//! Imports point one way, down this list: a module uses only modules of its own layer
//! and of the layers before it, never one of a later layer. A unit test (`layers`) reads
//! this list and every source file, and fails on an import that runs back up. Tests
//! (`mod tests`, `properties`) may use any layer; this file, the crate's root, sits on
//! top of them all. [`http`] spans two layers: its rules (4) come before the config,
//! which checks `base_url` against the network policy; its transport (6) after it, as
//! the client is built from the config.
//!
//! 1. `status`, `redact`, `settings`: import nothing from the crate.
//! 2. `protocol`, `error`: the Airbyte messages; the one error enum.
//! 3. `output`, `logging`: stdout, and the LOG messages written to it.
//! 4. `http::guard`, `http::slots`, `http::retry`, `http::ratelimit`: the network policy
//!    and the pacing of requests, rules that need no config.
//! 5. `config`, `cursor`, `state`: the inputs (config, positions, input state), checked.
//! 6. `http`: the transport: requests, the client, one answer's records ([`http::page`]).
//! 7. `walk`: a list endpoint walked to its end.
//! 8. `streams`: the stream table.
//! 9. `read`: the read pipeline.
//! 10. `cli`, `commands`: the command line and the commands.

// The documentation is for the crate's developers (`cargo doc --document-private-items`):
// it links to the crate's own items.
#![allow(rustdoc::private_intra_doc_links)]

// What `main` uses is public; everything else is the crate's own, so that the compiler
// reports what nothing uses.
pub mod cli;
pub(crate) mod commands;
pub(crate) mod config;
pub(crate) mod cursor;
pub mod error;
pub(crate) mod http;
#[cfg(test)]
mod layers;
pub mod logging;
pub mod output;
#[cfg(test)]
mod properties;
pub(crate) mod protocol;
pub(crate) mod read;
pub(crate) mod redact;
pub(crate) mod settings;
pub(crate) mod state;
pub(crate) mod status;
pub(crate) mod streams;
pub(crate) mod walk;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use commands::Ended;
use error::Error;
use output::Output;
use protocol::{ErrorTrace, Message};

/// Exit code for success, and for a broken pipe (the reader left; nothing to report).
const EXIT_OK: i32 = 0;
/// Exit code for any failure reported with an ERROR trace.
const EXIT_FAILURE: i32 = 1;

/// Exit code after SIGINT or SIGTERM: 128 + the signal number, as shells report it.
fn exit_for_signal(signal: &str) -> i32 {
    match signal {
        "SIGINT" => 130,
        _ => 143,
    }
}

/// How long a stop (a signal, a panic) waits for its last line to be written before the
/// process exits anyway: time for a line being written to end, and for the trace.
const LAST_LINE_WAIT: Duration = Duration::from_secs(3);

/// Set by the first thread that starts to end the process (see [`exit`]).
static EXITING: AtomicBool = AtomicBool::new(false);

/// Claim the end of the process; false if another thread already did (it exits soon).
fn claim_exit() -> bool {
    !EXITING.swap(true, Ordering::SeqCst)
}

/// A thread that lost the race to end the process waits here for the winner to exit.
fn wait_for_exit() -> ! {
    loop {
        std::thread::park();
    }
}

/// End the process with `code`, unless another thread is already ending it (a signal's
/// or a panic's last trace is being written): then its exit code wins, and this thread
/// waits for it.
pub fn exit(code: i32) -> ! {
    if !claim_exit() {
        wait_for_exit();
    }
    std::process::exit(code)
}

/// The stop signals, registered.
struct StopSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Register handlers for SIGTERM and SIGINT (inside a runtime). None if that fails:
    /// the default action (ending the process) applies.
    fn register() -> Option<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Some(StopSignals {
                term: signal(SignalKind::terminate()).ok()?,
                int: signal(SignalKind::interrupt()).ok()?,
            })
        }
        #[cfg(not(unix))]
        {
            Some(StopSignals {})
        }
    }

    /// Resolves when the process is asked to stop, with the signal's name.
    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

/// Watch for SIGTERM and SIGINT on a thread of its own, with its own small runtime: the
/// read's worker threads may all be blocked writing to stdout when the reader stops
/// reading, and a stop must be seen all the same. Returns once the handlers are in
/// place (or could not be). On a signal, [`stop`] ends the process.
fn watch_signals(output: &Output) {
    let output = output.clone();
    let (ready, registered) = std::sync::mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let signals = StopSignals::register();
                let _ = ready.send(());
                if let Some(mut signals) = signals {
                    let signal = signals.recv().await;
                    stop(&output, signal);
                }
            });
        });
    if spawned.is_ok() {
        // A dropped sender (no runtime) ends the wait too.
        let _ = registered.recv_timeout(Duration::from_secs(10));
    }
}

/// End the process after a stop signal: one ERROR trace (`transient_error`) as the last
/// line if it can be written within [`LAST_LINE_WAIT`] (no line starts after it, and a
/// line being written ends first, so none is cut), then exit 143 (SIGTERM) or 130
/// (SIGINT) at once, without waiting for the read's threads. When stdout is blocked
/// (the reader stopped reading), the trace can't get out: the process exits anyway, and
/// the line that was being written may stay cut where the blocked write stopped.
fn stop(output: &Output, signal: &'static str) -> ! {
    if !claim_exit() {
        wait_for_exit();
    }
    output.emit_last_within(&error_trace(&Error::Interrupted { signal }), LAST_LINE_WAIT);
    std::process::exit(exit_for_signal(signal))
}

/// Install the panic hook: a panic anywhere becomes one `system_error` TRACE on stdout
/// (the last line, written within [`LAST_LINE_WAIT`] or not at all, so no line is cut
/// unless stdout is blocked) and exit code [`EXIT_FAILURE`]. The message goes to stderr
/// too, with secrets masked.
pub fn install_panic_hook(output: Output) {
    std::panic::set_hook(Box::new(move |info| {
        if !claim_exit() {
            // The process is already ending (a signal, another panic).
            wait_for_exit();
        }
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
        output.emit_last_within(&trace, LAST_LINE_WAIT);
        eprintln!(
            "{}",
            redact::text(&format!("source-intercom: panic at {place}: {what}"))
        );
        std::process::exit(EXIT_FAILURE);
    }));
}

/// Run a parsed command; return the process exit code. Every failure has been
/// reported with exactly one ERROR trace by the time this returns. A stop signal
/// during the run ends the process from another thread (see [`watch_signals`]).
pub fn run(command: cli::Command, output: &Output) -> i32 {
    watch_signals(output);
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
    let result = runtime.block_on(commands::run(command, output));
    let code = match result {
        Ok(Ended::Ok) => EXIT_OK,
        Ok(Ended::StreamsFailed(n)) => {
            tracing::error!("{n} stream(s) failed; see the ERROR traces above");
            EXIT_FAILURE
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
