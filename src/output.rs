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
        let line = Self::masked_line(message)?;
        self.write_line(&line, message.should_flush())
    }

    /// A message as one masked line, `\n` included.
    fn masked_line(message: &Message) -> Result<Vec<u8>> {
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
        Ok(line)
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

    /// Write this message as the run's last line and close the writer: once the line is
    /// written and flushed, every later write fails as if the reader had gone. For an
    /// interrupted run, whose streams may still be writing on other threads until the
    /// process exits: the lock waits for a line being written to end, and after the last
    /// line no other can start, so the exit can cut none.
    pub fn emit_last(&self, message: &Message) -> Result<()> {
        let line = Self::masked_line(message)?;
        self.lock().write_last(&line)
    }

    /// Write this message as the last line, as [`Output::emit_last`] does, for the panic
    /// hook: a panic while this very thread holds the writer must not deadlock, so it
    /// waits at most two seconds for the writer (time for another thread's line to end)
    /// and gives up after that.
    pub fn try_emit_now(&self, message: &Message) -> bool {
        let Ok(line) = Self::masked_line(message) else {
            return false;
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let mut inner = loop {
            match self.inner.try_lock() {
                Ok(g) => break g,
                Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {
                    if std::time::Instant::now() >= deadline {
                        return false;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            }
        };
        inner.write_last(&line).is_ok()
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

impl Inner {
    /// Write and flush the last line, then close: later writes fail as after a broken pipe.
    fn write_last(&mut self, line: &[u8]) -> Result<()> {
        if self.broken {
            return Err(Error::BrokenPipe);
        }
        let res = self.sink.write_all(line).and_then(|_| self.sink.flush());
        self.broken = true;
        res.map_err(Error::from_output)
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
    fn nothing_is_written_after_the_last_line() {
        let cap = Captured::default();
        let out = Output::to_writer(BufWriter::new(cap.clone()));
        out.emit(&Message::log(LogLevel::Info, "before")).unwrap();
        // Streams on other threads keep writing while the run stops.
        std::thread::scope(|s| {
            for _ in 0..4 {
                let out = out.clone();
                s.spawn(
                    move || {
                        while out.write_lines(b"{\"type\":\"LOG\"}\n").is_ok() {}
                    },
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            out.emit_last(&Message::log(LogLevel::Error, "last"))
                .unwrap();
        });
        assert!(matches!(
            out.emit(&Message::log(LogLevel::Info, "after")),
            Err(Error::BrokenPipe)
        ));
        out.flush().unwrap();
        let text = cap.text();
        let lines: Vec<&str> = text.lines().collect();
        let message = |line: &str| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a whole line");
            v["log"]["message"].as_str().map(str::to_string)
        };
        assert_eq!(message(lines[0]).as_deref(), Some("before"));
        assert_eq!(message(lines[lines.len() - 1]).as_deref(), Some("last"));
        assert!(text.ends_with('\n'));
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
