//! The only owner of stdout. Every Airbyte message but a RECORD goes through
//! [`Output::emit`], which serialises it to one line, masks secrets and credentials in
//! its string values ([`crate::redact::mask_json_line`]), and writes that line whole
//! under a lock; RECORD lines, the customer's data, are built by the read and pass
//! through byte for byte ([`Output::write_lines`]), under the same lock. So lines from
//! concurrent streams and from the logging layer never interleave and none is ever cut.
//! The writer is buffered and flushed after checkpoints (STATE, TRACE, status
//! messages), after WARN and ERROR logs, and at exit.
//!
//! The run's last line (a signal's or a panic's ERROR trace) is written by
//! [`Output::emit_last_within`]: once it is asked for, no other line starts, and it
//! gives up after a bounded wait if stdout is blocked (the reader stopped reading).

use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::protocol::Message;

type Sink = Box<dyn Write + Send>;

/// How long [`Output::try_emit_now`] waits for the writer.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// A cloneable handle on the single stdout writer.
#[derive(Clone)]
pub struct Output {
    inner: Arc<Mutex<Inner>>,
    /// Set once the last line is asked for: no other line starts after that (one being
    /// written ends first), so the last line gets the writer as soon as it is free.
    closing: Arc<AtomicBool>,
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
    pub(crate) fn to_writer(w: impl Write + Send + 'static) -> Output {
        Output {
            inner: Arc::new(Mutex::new(Inner {
                sink: Box::new(w),
                broken: false,
            })),
            closing: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Write one message as one line; flush if it is a checkpoint.
    pub(crate) fn emit(&self, message: &Message) -> Result<()> {
        let line = Self::masked_line(message)?;
        self.write_line(&line, message.should_flush())
    }

    /// A message as one line, `\n` included. Any of these messages may hold text from a
    /// server answer, and its string values are masked (never its keys, numbers or
    /// envelope). RECORD lines, the customer's data, are built elsewhere and written
    /// untouched ([`Output::write_lines`]).
    fn masked_line(message: &Message) -> Result<Vec<u8>> {
        let mut line = serde_json::to_vec(message)
            .map_err(|e| Error::Internal(format!("could not serialise a message: {e}")))?;
        if let Some(masked) = crate::redact::mask_json_line(&line) {
            line = masked;
        }
        line.push(b'\n');
        Ok(line)
    }

    /// Write whole RECORD lines built elsewhere (see [`crate::read::emit`]): each line
    /// ends with `\n`, and all of them are written under one lock, unchanged (records
    /// are never masked).
    pub(crate) fn write_lines(&self, lines: &[u8]) -> Result<()> {
        debug_assert!(lines.ends_with(b"\n"));
        self.write_line(lines, false)
    }

    /// Write this message as the run's last line and close the writer: once the line is
    /// written and flushed, every later write fails as if the reader had gone. For an
    /// interrupted run, whose streams may still be writing on other threads until the
    /// process exits: a line being written ends first, and after the last line no other
    /// can start, so the exit can cut none. It never waits forever: a panic while this
    /// very thread holds the writer must not deadlock, so it waits at most two seconds
    /// for the writer (time for another thread's line to end) and gives up after that.
    /// The write itself may still block (see [`Output::emit_last_within`]).
    pub(crate) fn try_emit_now(&self, message: &Message) -> bool {
        let Ok(line) = Self::masked_line(message) else {
            return false;
        };
        self.closing.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + LOCK_WAIT;
        let mut inner = loop {
            match self.inner.try_lock() {
                Ok(g) => break g,
                Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        };
        inner.write_last(&line).is_ok()
    }

    /// Write this message as the last line ([`Output::try_emit_now`]) from a helper
    /// thread, and wait at most `timeout` for it: when stdout is blocked (the reader
    /// stopped reading), the writer may be held by a line that can't end, or the last
    /// line itself may not get out, and the caller (about to exit) must not wait for
    /// that. Returns whether the line was written and flushed in time. A caller that
    /// exits after a timeout may leave a line cut where the blocked write stopped.
    pub(crate) fn emit_last_within(&self, message: &Message, timeout: Duration) -> bool {
        self.closing.store(true, Ordering::SeqCst);
        let (done, wait) = std::sync::mpsc::channel();
        let output = self.clone();
        let message = message.clone();
        let spawned = std::thread::Builder::new()
            .name("last-line".into())
            .spawn(move || {
                let _ = done.send(output.try_emit_now(&message));
            });
        spawned.is_ok() && wait.recv_timeout(timeout).unwrap_or(false)
    }

    fn write_line(&self, line: &[u8], flush: bool) -> Result<()> {
        // After the last line was asked for, no line starts: the last one comes next.
        if self.closing.load(Ordering::Relaxed) {
            return Err(Error::BrokenPipe);
        }
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
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl Captured {
    /// Everything written so far, as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// The messages written so far, parsed.
    pub(crate) fn messages(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

#[cfg(test)]
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
            assert!(out.emit_last_within(
                &Message::log(LogLevel::Error, "last"),
                std::time::Duration::from_secs(60)
            ));
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

    /// A writer whose writes wait until `gate` opens (its sender is dropped): stdout
    /// when the reader has stopped reading.
    struct Stuck {
        gate: std::sync::mpsc::Receiver<()>,
        out: Captured,
    }
    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _ = self.gate.recv();
            self.out.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    const RECORD: &[u8] = b"{\"type\":\"RECORD\",\"record\":{\"stream\":\"s\",\"data\":{\"k\":\"v\"},\"emitted_at\":1}}\n";

    #[test]
    fn records_pass_untouched_and_other_lines_are_masked_in_their_strings() {
        let secret = "output-test-secret-4f9a2c7e";
        crate::redact::register_secret(secret);
        let cap = Captured::default();
        let out = Output::to_writer(cap.clone());
        let record = format!(
            "{{\"type\":\"RECORD\",\"record\":{{\"stream\":\"s\",\"data\":{{\"{secret}\":\"{secret} Bearer x\"}},\"emitted_at\":1}}}}\n"
        );
        out.write_lines(record.as_bytes()).unwrap();
        out.emit(&Message::log(
            LogLevel::Warn,
            format!("echo {secret}, Authorization: Bearer y"),
        ))
        .unwrap();
        out.flush().unwrap();
        let text = cap.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(format!("{}\n", lines[0]), record);
        let log: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(log["type"], "LOG");
        assert_eq!(log["log"]["level"], "WARN");
        assert_eq!(log["log"]["message"], "echo ***, Authorization: ***");
    }

    #[test]
    fn the_last_line_is_last_when_the_reader_reads() {
        let cap = Captured::default();
        let out = Output::to_writer(BufWriter::new(cap.clone()));
        out.write_lines(RECORD).unwrap();
        assert!(out.emit_last_within(
            &Message::log(LogLevel::Error, "last"),
            Duration::from_secs(60)
        ));
        assert!(matches!(out.write_lines(RECORD), Err(Error::BrokenPipe)));
        let text = cap.text();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.ends_with("\"message\":\"last\"}}\n"), "{text}");
    }

    #[test]
    fn the_last_line_gives_up_on_a_blocked_writer() {
        let (open, gate) = std::sync::mpsc::channel::<()>();
        let cap = Captured::default();
        let out = Output::to_writer(Stuck {
            gate,
            out: cap.clone(),
        });
        let writer = {
            let out = out.clone();
            std::thread::spawn(move || out.write_lines(RECORD))
        };
        // Until the writer holds the lock, blocked in its write.
        while out.inner.try_lock().is_ok() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let last = Message::log(LogLevel::Error, "last");
        assert!(
            !out.emit_last_within(&last, Duration::from_millis(50)),
            "the writer is blocked: nothing can be written"
        );
        assert!(cap.text().is_empty());
        // The reader reads again: the blocked line ends, and the last line follows it
        // if its helper is still waiting (it waits two seconds for the writer).
        drop(open);
        writer.join().unwrap().unwrap();
        assert!(matches!(out.write_lines(RECORD), Err(Error::BrokenPipe)));
        let text = cap.text();
        assert!(
            text.starts_with(std::str::from_utf8(RECORD).unwrap()),
            "{text}"
        );
        assert!(text.lines().count() <= 2, "{text}");
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
