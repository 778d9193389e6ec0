//! A test tool, not part of the connector: `peak-rss OUT PROGRAM [ARGS...]` runs
//! PROGRAM with this process's stdin, stdout, stderr and environment, waits for it, writes
//! its peak resident memory in bytes to the file OUT (then ` signal N` if a signal ended
//! it), and exits with its exit code (128 + the signal's number for a signal).
//!
//! The figure is the kernel's account of that one process (`wait4`'s `ru_maxrss`).
//! Spawned straight from a test binary, a child's `ru_maxrss` starts at the size of the
//! test process (the kernel keeps the high-water mark of the memory the child had before
//! `exec`, which is the spawner's); spawned from this small process, it starts at this
//! one's few MB.

use std::process::Command;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), Some(program)) = (args.next(), args.next()) else {
        eprintln!("usage: peak-rss OUT PROGRAM [ARGS...]");
        std::process::exit(2);
    };
    let child = match Command::new(&program).args(args).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "peak-rss: could not start {}: {e}",
                program.to_string_lossy()
            );
            std::process::exit(2);
        }
    };
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value, and wait4 writes only into the two locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if waited != pid {
        eprintln!("peak-rss: wait4: {}", std::io::Error::last_os_error());
        std::process::exit(2);
    }
    // Linux reports ru_maxrss in KiB.
    let peak = u64::try_from(usage.ru_maxrss)
        .unwrap_or(0)
        .saturating_mul(1024);
    let (code, report) = if libc::WIFEXITED(status) {
        (libc::WEXITSTATUS(status), peak.to_string())
    } else {
        let signal = libc::WTERMSIG(status);
        (128 + signal, format!("{peak} signal {signal}"))
    };
    if let Err(e) = std::fs::write(&out, report) {
        eprintln!("peak-rss: could not write {}: {e}", out.to_string_lossy());
        std::process::exit(2);
    }
    std::process::exit(code);
}
