//! The only owner of stdout. Every Airbyte message goes through [`Output::emit`], which
//! serialises it to one line, masks secrets in it ([`crate::redact`]), and writes that
//! line whole under a lock, so lines from concurrent streams and from the logging layer
//! never interleave and none is ever cut. The writer is buffered and flushed after
//! checkpoints (STATE, TRACE, status messages), after WARN and ERROR logs, and at exit.

use std::io::{BufWriter, Write};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::protocol::Message;

type Sink = Box<dyn Write + Send>;

/// A cloneable handle on the single stdout writer.
#[derive(Clone)]
pub struct Output {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    sink: Sink,
    /// Set once a write fails: later writes are dropped instead of retried, and logging
    /// (which can't report errors) stays quiet.
    broken: bool,
}

impl Output {
    /// The process's stdout, buffered.
    pub fn stdout() -> Output {
        Output::to_writer(BufWriter::with_capacity(64 * 1024, std::io::stdout()))
    }

    /// Any writer (tests use an in-memory buffer).
    pub fn to_writer(w: impl Write + Send + 'static) -> Output {
        Output {
            inner: Arc::new(Mutex::new(Inner {
                sink: Box::new(w),
                broken: false,
            })),
        }
    }

    /// Write one message as one line; flush if it is a checkpoint.
    pub fn emit(&self, message: &Message) -> Result<()> {
        let mut line = serde_json::to_vec(message)
            .map_err(|e| Error::Internal(format!("could not serialise a message: {e}")))?;
        if let Some(masked) = crate::redact::mask_secrets(&line) {
            line = masked;
        }
        // Records are the customer's data and are passed through; everything else may
        // hold text from a server answer.
        if !matches!(message, Message::Record { .. }) {
            if let Some(masked) = crate::redact::mask_credentials(&line) {
                line = masked;
            }
        }
        line.push(b'\n');
        self.write_line(&line, message.should_flush())
    }

    /// Write whole RECORD lines built elsewhere (see [`crate::read::emit`]): each line
    /// ends with `\n`, and all of them are written under one lock. Registered secrets
    /// are masked, as in every line.
    pub fn write_lines(&self, lines: &[u8]) -> Result<()> {
        debug_assert!(lines.ends_with(b"\n"));
        match crate::redact::mask_secrets(lines) {
            Some(masked) => self.write_line(&masked, false),
            None => self.write_line(lines, false),
        }
    }

    /// Write a line (already one whole serialised message) if the writer is free right
    /// now, and flush. For the panic hook: a panic while this thread holds the writer
    /// must not deadlock, so it gives up instead of waiting.
    pub fn try_emit_now(&self, message: &Message) -> bool {
        let Ok(mut line) = serde_json::to_vec(message) else {
            return false;
        };
        if let Some(masked) = crate::redact::mask_secrets(&line) {
            line = masked;
        }
        if let Some(masked) = crate::redact::mask_credentials(&line) {
            line = masked;
        }
        line.push(b'\n');
        let mut inner = match self.inner.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        if inner.broken {
            return false;
        }
        inner.sink.write_all(&line).is_ok() && inner.sink.flush().is_ok()
    }

    fn write_line(&self, line: &[u8], flush: bool) -> Result<()> {
        let mut inner = self.lock();
        if inner.broken {
            return Err(Error::BrokenPipe);
        }
        let res =
            inner
                .sink
                .write_all(line)
                .and_then(|_| if flush { inner.sink.flush() } else { Ok(()) });
        if let Err(e) = res {
            inner.broken = true;
            return Err(Error::from_output(e));
        }
        Ok(())
    }

    /// Flush buffered lines.
    pub fn flush(&self) -> Result<()> {
        let mut inner = self.lock();
        if inner.broken {
            return Ok(());
        }
        inner.sink.flush().map_err(|e| {
            inner.broken = true;
            Error::from_output(e)
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves only whole lines behind; keep going.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An in-memory sink for tests: collects everything written.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// The messages written so far, parsed.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{LogLevel, Message};

    struct ClosedPipe;
    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_whole_messages_from_many_threads() {
        let cap = Captured::default();
        let out = Output::to_writer(cap.clone());
        std::thread::scope(|s| {
            for t in 0..4 {
                let out = out.clone();
                s.spawn(move || {
                    for i in 0..200 {
                        out.emit(&Message::log(
                            LogLevel::Info,
                            format!("t{t} m{i} {}", "x".repeat(500)),
                        ))
                        .unwrap();
                    }
                });
            }
        });
        out.flush().unwrap();
        assert_eq!(cap.messages().len(), 800);
    }

    #[test]
    fn broken_pipe_is_reported_once_as_broken_pipe() {
        let out = Output::to_writer(ClosedPipe);
        let m = Message::log(LogLevel::Info, "x");
        assert!(matches!(out.emit(&m), Err(Error::BrokenPipe)));
        assert!(matches!(out.emit(&m), Err(Error::BrokenPipe)));
        assert!(out.flush().is_ok());
    }
}
