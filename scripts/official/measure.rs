//! Runs one command and measures it the way scripts/bench.rs does: wall time from spawn to
//! exit, and the kernel's rusage of that one child (`wait4`: peak RSS, user and sys CPU).
//! This process is tiny on purpose: Linux counts the spawning process's memory at `exec`
//! into the child's peak RSS, so a large parent (Python, bash with much state) would put a
//! floor under the figure. Compiled by scripts/official-vs.sh with plain `rustc`.
//!
//!     measure TIMEOUT_S OUT_JSON STDOUT_FILE STDERR_FILE -- CMD [ARG ...]
//!
//! After TIMEOUT_S seconds the child gets SIGTERM, 5 s later SIGKILL; `timed_out` says so.
//! Writes {"exit_code","wall_s","user_s","sys_s","peak_rss_bytes","timed_out"} to OUT_JSON
//! and exits 0 (the child's own exit code is in the JSON), or 2 when it cannot run.

use std::fs::{self, File};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[repr(C)]
#[derive(Default)]
struct Timeval {
    sec: i64,
    usec: i64,
}

#[repr(C)]
#[derive(Default)]
struct Rusage {
    utime: Timeval,
    stime: Timeval,
    maxrss_kib: i64,
    _rest: [i64; 13],
}

extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
}

const SIGTERM: i32 = 15;
const SIGKILL: i32 = 9;

fn die(msg: &str) -> ! {
    eprintln!("measure: {msg}");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 7 || args[5] != "--" {
        die("usage: measure TIMEOUT_S OUT_JSON STDOUT_FILE STDERR_FILE -- CMD [ARG ...]");
    }
    let timeout: f64 = args[1].parse().unwrap_or_else(|_| die("bad TIMEOUT_S"));
    let open = |p: &str| File::create(p).unwrap_or_else(|e| die(&format!("{p}: {e}")));
    let started = Instant::now();
    let child = Command::new(&args[6])
        .args(&args[7..])
        .stdin(Stdio::null())
        .stdout(open(&args[3]))
        .stderr(open(&args[4]))
        .spawn()
        .unwrap_or_else(|e| die(&format!("cannot start {}: {e}", args[6])));
    let pid = child.id() as i32;
    let done = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    {
        let (done, timed_out) = (done.clone(), timed_out.clone());
        std::thread::spawn(move || {
            let deadline = started + Duration::from_secs_f64(timeout);
            while Instant::now() < deadline {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if done.load(Ordering::SeqCst) {
                return;
            }
            timed_out.store(true, Ordering::SeqCst);
            eprintln!("measure: timeout after {timeout} s, stopping pid {pid}");
            unsafe { kill(pid, SIGTERM) };
            for _ in 0..50 {
                std::thread::sleep(Duration::from_millis(100));
                if done.load(Ordering::SeqCst) {
                    return;
                }
            }
            unsafe { kill(pid, SIGKILL) };
        });
    }
    let mut status = 0i32;
    let mut ru = Rusage::default();
    loop {
        let r = unsafe { wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            die(&format!("wait4({pid}): {e}"));
        }
    }
    let wall_s = started.elapsed().as_secs_f64();
    done.store(true, Ordering::SeqCst);
    let code = if status & 0x7f == 0 {
        (status >> 8) & 0xff
    } else {
        128 + (status & 0x7f)
    };
    let t = |tv: &Timeval| tv.sec as f64 + tv.usec as f64 / 1e6;
    let json = format!(
        "{{\"exit_code\":{code},\"wall_s\":{wall_s:.6},\"user_s\":{:.6},\"sys_s\":{:.6},\"peak_rss_bytes\":{},\"timed_out\":{}}}\n",
        t(&ru.utime),
        t(&ru.stime),
        ru.maxrss_kib * 1024,
        timed_out.load(Ordering::SeqCst)
    );
    fs::write(&args[2], json).unwrap_or_else(|e| die(&format!("{}: {e}", args[2])));
}
