//! The benchmark's runner. `scripts/bench.sh` builds the workspace in release mode,
//! compiles this file with plain `rustc` (no crates) and runs it (Cargo.toml also
//! declares it as the example `bench`, so that clippy and the test build check it):
//!
//!     bench BIN_DIR OUT_DIR [SCENARIO ...]       scenarios: a b c d e f g h i (default: all)
//!
//! Each read scenario starts a fake Intercom workspace (`fake-intercom`), reads from it
//! with the connector and measures:
//! - wall time of the connector process (spawn to exit); records/s = records / wall;
//! - the connector's peak RSS and CPU time: the kernel's rusage of that one child
//!   (`wait4`, as `/usr/bin/time` reads it). This runner is a small process on purpose:
//!   Linux counts the spawning process's memory at `exec` into the child's peak RSS, so a
//!   large parent (Python, say) would inflate the figure;
//! - requests, 429s (`limiter_rejections`) and `max_in_flight` from the fake's stats line;
//! - the fake's CPU time (user + sys) during the read, from `/proc/PID/stat` before and after;
//! - the rate bound: requests / (the fake's requests per minute / 60) seconds, and the
//!   ratio wall time / rate bound.
//!
//! It prints a markdown table on stdout and writes the raw numbers to OUT_DIR/results.json.
//! Environment: `BENCH_SCALE` (default 1) multiplies the workspace sizes (a quick smoke run);
//! `BENCH_RUNS` (default 20): timed spec and discover runs in (e); `BENCH_KEEP=1` keeps each
//! read's output under OUT_DIR/work/.

// Children are reaped with `wait4` (for their rusage), which this lint can't see.
#![allow(clippy::zombie_processes)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const TOKEN: &str = "bench-token-0123456789";
const START_DATE: &str = "2020-01-01T00:00:00Z";
/// The fake's and the connector's request budget in (a): never reached.
const UNLIMITED_RPM: u64 = 1_000_000_000;
const MB: f64 = 1_000_000.0;

// The targets.
const TARGET_RATIO: f64 = 1.5;
const TARGET_RATIO_OTHER_LIMITS: f64 = 1.3;
const TARGET_429_SHARE: f64 = 0.01;
const TARGET_A_RECORDS_PER_S: f64 = 70_000.0;
const TARGET_RSS_BYTES: f64 = 25.0 * MB;
const TARGET_SPEC_S: f64 = 0.020;

// ---- libc, declared here so that the runner needs no crate ----------------------------

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

const CPU_SET_WORDS: usize = 16; // 1024 CPUs, glibc's cpu_set_t

extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
    fn sched_setaffinity(pid: i32, size: usize, mask: *const u64) -> i32;
    fn sched_getaffinity(pid: i32, size: usize, mask: *mut u64) -> i32;
    fn sysconf(name: i32) -> i64;
}

const SIGTERM: i32 = 15;
const SC_CLK_TCK: i32 = 2;

/// What `wait4` says about one finished child.
struct Finished {
    code: i32,
    wall_s: f64,
    cpu_s: f64,
    user_s: f64,
    sys_s: f64,
    peak_rss_bytes: f64,
}

/// Wait for a child; its exit code and its own rusage.
fn reap(child: &Child, started: Instant) -> Finished {
    let mut status = 0i32;
    let mut ru = Rusage::default();
    let pid = child.id() as i32;
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
    let code = if status & 0x7f == 0 {
        (status >> 8) & 0xff
    } else {
        128 + (status & 0x7f)
    };
    let t = |tv: &Timeval| tv.sec as f64 + tv.usec as f64 / 1e6;
    Finished {
        code,
        wall_s,
        cpu_s: t(&ru.utime) + t(&ru.stime),
        user_s: t(&ru.utime),
        sys_s: t(&ru.stime),
        peak_rss_bytes: ru.maxrss_kib as f64 * 1024.0,
    }
}

fn allowed_cpus() -> Vec<usize> {
    let mut mask = [0u64; CPU_SET_WORDS];
    if unsafe { sched_getaffinity(0, std::mem::size_of_val(&mask), mask.as_mut_ptr()) } != 0 {
        return vec![0];
    }
    (0..CPU_SET_WORDS * 64)
        .filter(|c| mask[c / 64] >> (c % 64) & 1 == 1)
        .collect()
}

/// Run the command on this one CPU.
fn pin(cmd: &mut Command, cpu: usize) {
    let mut mask = [0u64; CPU_SET_WORDS];
    mask[cpu / 64] |= 1 << (cpu % 64);
    unsafe {
        cmd.pre_exec(move || {
            if sched_setaffinity(0, std::mem::size_of_val(&mask), mask.as_ptr()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// user + sys seconds of a running process (all its threads), from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let hz = unsafe { sysconf(SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) / hz
}

fn loadavg() -> f64 {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// This runner's own peak RSS: the floor under every peak RSS it reports (Linux counts
/// the spawning process's memory at `exec` into the child's peak).
fn own_peak_rss_bytes() -> f64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib * 1024.0)
}

/// The running fake, stopped by [`die`] so that no server outlives the runner.
static FAKE_PID: AtomicI32 = AtomicI32::new(0);

fn die(msg: &str) -> ! {
    let pid = FAKE_PID.swap(0, Ordering::SeqCst);
    if pid > 0 {
        unsafe { kill(pid, SIGTERM) };
    }
    eprintln!("bench: {msg}");
    std::process::exit(2)
}

// ---- JSON out (and the little JSON read back) -----------------------------------------

enum J {
    Null,
    Bool(bool),
    Num(f64),
    Int(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn opt(v: Option<f64>) -> J {
        v.map_or(J::Null, J::Num)
    }

    fn write(&self, out: &mut String, indent: usize) {
        let pad = |n: usize| "  ".repeat(n);
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(n) if n.is_finite() => {
                let _ = write!(out, "{}", (n * 1e6).round() / 1e6);
            }
            J::Num(_) => out.push_str("null"),
            J::Int(i) => {
                let _ = write!(out, "{i}");
            }
            J::Str(s) => quote(out, s),
            J::Arr(v) if v.is_empty() => out.push_str("[]"),
            J::Arr(v) => {
                out.push_str("[\n");
                for (i, x) in v.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    x.write(out, indent + 1);
                    out.push_str(if i + 1 < v.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push(']');
            }
            J::Obj(v) if v.is_empty() => out.push_str("{}"),
            J::Obj(v) => {
                out.push_str("{\n");
                for (i, (k, x)) in v.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    quote(out, k);
                    out.push_str(": ");
                    x.write(out, indent + 1);
                    out.push_str(if i + 1 < v.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push('}');
            }
        }
    }
}

fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn obj(fields: Vec<(&str, J)>) -> J {
    J::Obj(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// A top-level integer field of a flat JSON line (the fake's stats line).
fn json_int(line: &str, key: &str) -> u64 {
    let pat = format!("\"{key}\":");
    let Some(i) = line.find(&pat) else {
        die(&format!("no {key:?} in the fake's stats line: {line}"))
    };
    line[i + pat.len()..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap_or(0)
}

// ---- scenarios ------------------------------------------------------------------------

/// The share of contacts with more than 10 tags, companies or notes in every scenario.
const LONG_LIST_SHARE: &str = "0.0002";

struct Scenario {
    name: &'static str,
    title: &'static str,
    /// None: every stream of discover.
    streams: Option<Vec<&'static str>>,
    fake: Vec<(&'static str, u64)>,
    env: Vec<(&'static str, String)>,
    pin: bool,
    /// Column selection: `Some(keys)` selects every other top-level property of each
    /// stream's schema (sorted by name) and these keys; `None`, every column.
    half_columns: Option<&'static [&'static str]>,
}

impl Scenario {
    fn flag(&self, key: &str) -> u64 {
        self.fake
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(0, |(_, v)| *v)
    }

    fn workspace(&self) -> String {
        let mut parts = Vec::new();
        for (key, label) in [
            ("contacts", "contacts"),
            ("companies", "companies"),
            ("conversations", "conversations"),
            ("tickets", "tickets"),
            ("articles", "articles"),
            ("activity-logs", "activity logs"),
        ] {
            if let Some((_, v)) = self.fake.iter().find(|(k, _)| *k == key) {
                let mut s = format!("{} {label}", thousands(*v as f64));
                if key == "conversations" {
                    let _ = write!(s, " × {} parts", self.flag("parts-per-conversation"));
                }
                parts.push(s);
            }
        }
        parts.join(", ")
    }
}

fn scenarios(scale: f64) -> Vec<Scenario> {
    let n = |x: f64| ((x * scale).round() as u64).max(1);
    // 50,000 contacts at 100 ms, at a limit of `rpm`: (b), (f), (g).
    let contacts = |name, title, rpm| Scenario {
        name,
        title,
        streams: Some(vec!["contacts"]),
        fake: vec![
            ("contacts", n(50_000.0)),
            ("latency-ms", 100),
            ("requests-per-minute", rpm),
        ],
        env: vec![],
        pin: false,
        half_columns: None,
    };
    // Every stream of a mid-size workspace at 100 ms, at a limit of `rpm`: (d), (h).
    let every_stream = |name, title, rpm| Scenario {
        name,
        title,
        streams: None,
        fake: vec![
            ("contacts", n(20_000.0)),
            ("companies", n(2_000.0)),
            ("conversations", n(2_000.0)),
            ("parts-per-conversation", 5),
            ("tickets", n(1_000.0)),
            ("articles", n(200.0)),
            ("activity-logs", n(2_000.0)),
            ("latency-ms", 100),
            ("requests-per-minute", rpm),
        ],
        env: vec![],
        pin: false,
        half_columns: None,
    };
    // 100,000 contacts, no latency, no limit, one core: the CPU path, (a) and (i).
    let cpu_path = |name, title, half_columns| Scenario {
        name,
        title,
        streams: Some(vec!["contacts"]),
        fake: vec![
            ("contacts", n(100_000.0)),
            ("latency-ms", 0),
            ("requests-per-minute", UNLIMITED_RPM),
        ],
        // (a) measures the connector's CPU path: lift its own request budget too.
        env: vec![(
            "SOURCE_INTERCOM_REQUESTS_PER_MINUTE",
            UNLIMITED_RPM.to_string(),
        )],
        pin: true,
        half_columns,
    };
    vec![
        cpu_path("a", "(a) contacts, no latency, one core", None),
        contacts("b", "(b) contacts, 100 ms, 10,000/min", 10_000),
        Scenario {
            name: "c",
            title: "(c) conversations + parts, 50 ms, 10,000/min",
            streams: Some(vec!["conversations", "conversation_parts"]),
            fake: vec![
                ("conversations", n(2_000.0)),
                ("parts-per-conversation", 5),
                ("latency-ms", 50),
                ("requests-per-minute", 10_000),
            ],
            env: vec![],
            pin: false,
            half_columns: None,
        },
        every_stream(
            "d",
            "(d) every stream, mid-size, 100 ms, 10,000/min",
            10_000,
        ),
        contacts("f", "(f) contacts, 100 ms, 1,000/min", 1_000),
        contacts("g", "(g) contacts, 100 ms, 25,000/min", 25_000),
        every_stream(
            "h",
            "(h) every stream, mid-size, 100 ms, 25,000/min",
            25_000,
        ),
        cpu_path(
            "i",
            "(i) as (a), half the columns selected",
            Some(&["id", "updated_at"]),
        ),
    ]
}

struct Fake {
    child: Child,
    err_path: PathBuf,
    url: String,
}

impl Fake {
    fn start(bin_dir: &Path, work: &Path, sc: &Scenario, cpu: Option<usize>) -> Fake {
        let err_path = work.join("fake.err");
        let mut cmd = Command::new(bin_dir.join("fake-intercom"));
        cmd.args(["--port", "0", "--token", TOKEN]);
        // One contact in 5,000 has more than 10 tags, companies or notes (the fake's
        // own default, 2%, is for tests): the connector reads their whole lists.
        cmd.args(["--contacts-with-long-lists", LONG_LIST_SHARE]);
        // Reporting export jobs are complete at their first status poll: how long a job
        // takes is Intercom's time, not the connector's (README, "Reporting datasets").
        cmd.args(["--report-job-polls", "0"]);
        for (k, v) in &sc.fake {
            cmd.arg(format!("--{k}")).arg(v.to_string());
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&err_path).unwrap_or_else(|e| die(&e.to_string())));
        if let Some(cpu) = cpu {
            pin(&mut cmd, cpu);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| die(&format!("cannot start fake-intercom: {e}")));
        FAKE_PID.store(child.id() as i32, Ordering::SeqCst);
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        let _ = BufReader::new(stdout).read_line(&mut line);
        let url = line.trim().to_string();
        if !url.starts_with("http") {
            let _ = child.kill();
            die(&format!(
                "fake-intercom did not start: {}",
                fs::read_to_string(&err_path).unwrap_or_default()
            ));
        }
        Fake {
            child,
            err_path,
            url,
        }
    }

    /// SIGTERM; its stats line.
    fn stop(self) -> String {
        FAKE_PID.store(0, Ordering::SeqCst);
        unsafe { kill(self.child.id() as i32, SIGTERM) };
        reap(&self.child, Instant::now());
        let err = fs::read_to_string(&self.err_path).unwrap_or_default();
        err.lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .map(str::to_string)
            .unwrap_or_else(|| die(&format!("fake-intercom printed no stats: {err}")))
    }
}

fn write_config(work: &Path, base_url: &str) -> PathBuf {
    let path = work.join("config.json");
    let mut s = String::new();
    s.push_str("{\"access_token\":");
    quote(&mut s, TOKEN);
    s.push_str(",\"start_date\":");
    quote(&mut s, START_DATE);
    s.push_str(",\"base_url\":");
    quote(&mut s, base_url);
    s.push('}');
    fs::write(&path, s).unwrap_or_else(|e| die(&e.to_string()));
    path
}

/// The stream names of `discover` (which asks the fake for its reporting datasets).
fn discover_streams(conn: &Path, config: &Path) -> Vec<String> {
    let out = Command::new(conn)
        .arg("discover")
        .arg("--config")
        .arg(config)
        .output()
        .unwrap_or_else(|e| die(&format!("discover: {e}")));
    if !out.status.success() {
        die(&format!(
            "discover failed: {}",
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut names = Vec::new();
    let pat = "{\"name\":\"";
    let mut rest = &text[..];
    while let Some(i) = rest.find(pat) {
        rest = &rest[i + pat.len()..];
        if let Some(j) = rest.find('"') {
            if rest[j..].starts_with("\",\"json_schema\"") {
                names.push(rest[..j].to_string());
            }
        }
    }
    if names.is_empty() {
        die("discover listed no streams");
    }
    names
}

/// The top-level property names of a stream's schema (`schemas/<stream>.json`, from the
/// repository's root, where bench.sh runs this), sorted.
fn schema_properties(stream: &str) -> Vec<String> {
    let path = format!("schemas/{stream}.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| die(&format!("{path}: {e}")));
    let b = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    let (mut key, mut props_next, mut in_props) = (None::<String>, false, false);
    let mut names = Vec::new();
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                key = text.get(start..i).map(str::to_string);
            }
            // Only a key is followed by a colon.
            b':' => match key.take() {
                Some(k) if depth == 1 && k == "properties" => props_next = true,
                Some(k) if in_props && depth == 2 => names.push(k),
                _ => {}
            },
            b'{' | b'[' => {
                depth += 1;
                if props_next {
                    in_props = depth == 2;
                    props_next = false;
                }
            }
            b'}' | b']' => {
                in_props &= depth != 2;
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        i += 1;
    }
    if names.is_empty() {
        die(&format!("{path}: no top-level properties"));
    }
    names.sort();
    names
}

/// Each stream's `json_schema` in the catalog: `{}` (every column), or with
/// `half_columns`, properties for every other top-level field and the keys.
fn write_catalog(work: &Path, streams: &[String], half_columns: Option<&[&str]>) -> PathBuf {
    let path = work.join("catalog.json");
    let entries: Vec<String> = streams
        .iter()
        .map(|s| {
            let schema = match half_columns {
                None => "{}".to_string(),
                Some(keys) => {
                    let mut names: Vec<String> =
                        schema_properties(s).into_iter().step_by(2).collect();
                    for k in keys {
                        if !names.iter().any(|n| n == k) {
                            names.push(k.to_string());
                        }
                    }
                    let props: Vec<String> =
                        names.iter().map(|n| format!("\"{n}\":{{}}")).collect();
                    format!("{{\"type\":\"object\",\"properties\":{{{}}}}}", props.join(","))
                }
            };
            format!(
                "{{\"stream\":{{\"name\":\"{s}\",\"json_schema\":{schema},\"supported_sync_modes\":[\"full_refresh\"]}},\"sync_mode\":\"full_refresh\",\"destination_sync_mode\":\"overwrite\"}}"
            )
        })
        .collect();
    fs::write(&path, format!("{{\"streams\":[{}]}}\n", entries.join(",")))
        .unwrap_or_else(|e| die(&e.to_string()));
    path
}

/// What the connector wrote: records per stream, each stream's last status, error traces.
struct Output {
    records: BTreeMap<String, u64>,
    status: BTreeMap<String, String>,
    errors: Vec<String>,
}

fn scan_output(path: &Path) -> Output {
    let file = File::open(path).unwrap_or_else(|e| die(&e.to_string()));
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut o = Output {
        records: BTreeMap::new(),
        status: BTreeMap::new(),
        errors: Vec::new(),
    };
    let record = b"{\"type\":\"RECORD\",\"record\":{\"stream\":\"";
    let status_key = "\"stream_status\":{\"stream_descriptor\":{\"name\":\"";
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => die(&e.to_string()),
        }
        if line.starts_with(record) {
            let rest = &line[record.len()..];
            let end = rest.iter().position(|b| *b == b'"').unwrap_or(0);
            let name = String::from_utf8_lossy(&rest[..end]);
            match o.records.get_mut(name.as_ref()) {
                Some(n) => *n += 1,
                None => {
                    o.records.insert(name.into_owned(), 1);
                }
            }
        } else if line.starts_with(b"{\"type\":\"TRACE\"") {
            let text = String::from_utf8_lossy(&line);
            if let Some(i) = text.find(status_key) {
                let rest = &text[i + status_key.len()..];
                let name = rest.split('"').next().unwrap_or("");
                if let Some(j) = rest.find("\"status\":\"") {
                    let st = rest[j + 10..].split('"').next().unwrap_or("");
                    o.status.insert(name.to_string(), st.to_string());
                }
            } else if text.starts_with("{\"type\":\"TRACE\",\"trace\":{\"type\":\"ERROR\"") {
                o.errors.push(text.trim().chars().take(400).collect());
            }
        }
    }
    o
}

/// One read scenario: start its fake workspace, read its streams from it with the
/// connector, measure the read, and check the figures against the targets.
fn run_read(sc: &Scenario, bin_dir: &Path, out_dir: &Path) -> J {
    let work = out_dir.join("work").join(sc.name);
    fs::create_dir_all(&work).unwrap_or_else(|e| die(&e.to_string()));
    let conn = bin_dir.join("source-intercom");
    let pinned = Pinned::for_scenario(sc);
    eprintln!("[{}] starting the fake: {}", sc.name, sc.workspace());
    let fake = Fake::start(bin_dir, &work, sc, pinned.fake);
    let config = write_config(&work, &fake.url);
    let streams: Vec<String> = match &sc.streams {
        Some(s) => s.iter().map(|x| x.to_string()).collect(),
        None => discover_streams(&conn, &config),
    };
    let catalog = write_catalog(&work, &streams, sc.half_columns);
    let out_path = work.join("read.out");
    eprintln!("[{}] reading {} stream(s)", sc.name, streams.len());
    let read = ConnectorRead {
        conn: &conn,
        config: &config,
        catalog: &catalog,
        out_path: &out_path,
        err_path: &work.join("read.err"),
    };
    let measured = read.measure(sc, pinned.connector, &fake);
    let stats = fake.stop();

    let output = scan_output(&out_path);
    if std::env::var_os("BENCH_KEEP").is_none() {
        let _ = fs::remove_file(&out_path);
    }
    let figures = Figures::of(sc, &streams, &output, &measured.finished, stats);
    read_result(sc, pinned, &output, &measured, figures)
}

/// The CPUs the connector and the fake are each held to, in a scenario that pins them:
/// the first two this runner may use (one, if it may use only one).
#[derive(Clone, Copy)]
struct Pinned {
    connector: Option<usize>,
    fake: Option<usize>,
}

impl Pinned {
    fn for_scenario(sc: &Scenario) -> Pinned {
        if !sc.pin {
            return Pinned {
                connector: None,
                fake: None,
            };
        }
        let cpus = allowed_cpus();
        let c = cpus[0];
        Pinned {
            connector: Some(c),
            fake: Some(*cpus.get(1).unwrap_or(&c)),
        }
    }
}

/// One `read` of the connector: its inputs and where its output goes.
struct ConnectorRead<'a> {
    conn: &'a Path,
    config: &'a Path,
    catalog: &'a Path,
    out_path: &'a Path,
    err_path: &'a Path,
}

/// A read as measured: the connector's own figures, the fake's CPU time and the load
/// around it.
struct Measured {
    finished: Finished,
    /// The fake's user + sys seconds during the read.
    fake_cpu_s: f64,
    load_before: f64,
    load_after: f64,
}

impl ConnectorRead<'_> {
    /// Run the read to its end (with the scenario's environment, on `cpu` if given),
    /// measuring it and the `fake` serving it.
    fn measure(&self, sc: &Scenario, cpu: Option<usize>, fake: &Fake) -> Measured {
        let load_before = loadavg();
        let fake_cpu_before = cpu_seconds(fake.child.id());
        let mut cmd = Command::new(self.conn);
        cmd.arg("read")
            .arg("--config")
            .arg(self.config)
            .arg("--catalog")
            .arg(self.catalog)
            .stdin(Stdio::null())
            .stdout(File::create(self.out_path).unwrap_or_else(|e| die(&e.to_string())))
            .stderr(File::create(self.err_path).unwrap_or_else(|e| die(&e.to_string())));
        for (k, v) in &sc.env {
            cmd.env(k, v);
        }
        if let Some(cpu) = cpu {
            pin(&mut cmd, cpu);
        }
        let started = Instant::now();
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| die(&format!("cannot start the connector: {e}")));
        let finished = reap(&child, started);
        let fake_cpu_s = cpu_seconds(fake.child.id()) - fake_cpu_before;
        Measured {
            finished,
            fake_cpu_s,
            load_before,
            load_after: loadavg(),
        }
    }
}

/// A read scenario's figures, from the connector's output and the fake's stats line.
struct Figures {
    streams: usize,
    records: u64,
    records_per_s: f64,
    /// The fake's requests per minute.
    rpm: u64,
    requests: u64,
    /// The fake's 429s.
    rejections: u64,
    /// 429s per request.
    share: f64,
    max_in_flight: u64,
    /// The fewest seconds the requests could take at the fake's rate limit, if it has one.
    rate_bound: Option<f64>,
    /// Wall time / rate bound.
    ratio: Option<f64>,
    /// The fake's added latency, in seconds.
    latency_s: f64,
    /// The streams that did not end COMPLETE.
    incomplete: Vec<String>,
    /// Exit code 0, no error trace, every stream COMPLETE.
    ok: bool,
    stats: String,
}

impl Figures {
    fn of(sc: &Scenario, streams: &[String], o: &Output, f: &Finished, stats: String) -> Figures {
        let records: u64 = o.records.values().sum();
        let rpm = sc.flag("requests-per-minute");
        let requests = json_int(&stats, "requests");
        let rejections = json_int(&stats, "limiter_rejections");
        let max_in_flight = json_int(&stats, "max_in_flight");
        let rate_bound = (rpm < UNLIMITED_RPM).then(|| requests as f64 / (rpm as f64 / 60.0));
        let ratio = rate_bound.map(|b| f.wall_s / b);
        let share = if requests > 0 {
            rejections as f64 / requests as f64
        } else {
            0.0
        };
        let incomplete: Vec<String> = streams
            .iter()
            .filter(|s| o.status.get(*s).map(String::as_str) != Some("COMPLETE"))
            .cloned()
            .collect();
        let ok = f.code == 0 && o.errors.is_empty() && incomplete.is_empty();
        Figures {
            streams: streams.len(),
            records,
            records_per_s: records as f64 / f.wall_s,
            rpm,
            requests,
            rejections,
            share,
            max_in_flight,
            rate_bound,
            ratio,
            latency_s: sc.flag("latency-ms") as f64 / 1000.0,
            incomplete,
            ok,
            stats,
        }
    }

    /// The targets for this scenario, and whether each was met.
    fn targets(&self, sc: &Scenario, f: &Finished) -> Vec<(&'static str, bool)> {
        let mut targets = vec![("peak RSS <= 25 MB", f.peak_rss_bytes <= TARGET_RSS_BYTES)];
        if matches!(sc.name, "a" | "i") {
            targets.push((
                "records/s >= 70,000",
                self.records_per_s >= TARGET_A_RECORDS_PER_S,
            ));
        } else if let Some(r) = self.ratio {
            // The scenarios of other limits (issue 16) are held to 1.3x.
            if matches!(sc.name, "f" | "g" | "h") {
                targets.push(("ratio <= 1.3", r <= TARGET_RATIO_OTHER_LIMITS));
            } else {
                targets.push(("ratio <= 1.5", r <= TARGET_RATIO));
            }
            targets.push(("429s < 1%", self.share < TARGET_429_SHARE));
        }
        targets.push(("no errors", self.ok));
        targets
    }
}

/// A read scenario's entry in results.json.
fn read_result(sc: &Scenario, pinned: Pinned, o: &Output, m: &Measured, fig: Figures) -> J {
    let f = &m.finished;
    let targets = fig.targets(sc, f);
    obj(vec![
        ("scenario", J::Str(sc.name.into())),
        ("title", J::Str(sc.title.into())),
        ("workspace", J::Str(sc.workspace())),
        (
            "fake_flags",
            J::Obj(
                sc.fake
                    .iter()
                    .map(|(k, v)| (k.to_string(), J::Int(*v as i64)))
                    .collect(),
            ),
        ),
        (
            "connector_env",
            J::Obj(
                sc.env
                    .iter()
                    .map(|(k, v)| (k.to_string(), J::Str(v.clone())))
                    .collect(),
            ),
        ),
        (
            "pinned",
            match (pinned.connector, pinned.fake) {
                (Some(c), Some(fc)) => obj(vec![
                    ("connector_cpu", J::Int(c as i64)),
                    ("fake_cpu", J::Int(fc as i64)),
                ]),
                _ => J::Null,
            },
        ),
        ("streams", J::Int(fig.streams as i64)),
        ("exit_code", J::Int(f.code as i64)),
        ("ok", J::Bool(fig.ok)),
        (
            "errors",
            J::Arr(o.errors.iter().map(|e| J::Str(e.clone())).collect()),
        ),
        (
            "incomplete_streams",
            J::Arr(fig.incomplete.into_iter().map(J::Str).collect()),
        ),
        ("records", J::Int(fig.records as i64)),
        (
            "records_per_stream",
            J::Obj(
                o.records
                    .iter()
                    .map(|(k, v)| (k.clone(), J::Int(*v as i64)))
                    .collect(),
            ),
        ),
        ("wall_s", J::Num(f.wall_s)),
        ("records_per_s", J::Num(fig.records_per_s)),
        ("connector_peak_rss_bytes", J::Num(f.peak_rss_bytes)),
        ("connector_cpu_s", J::Num(f.cpu_s)),
        ("connector_user_s", J::Num(f.user_s)),
        ("connector_sys_s", J::Num(f.sys_s)),
        ("requests", J::Int(fig.requests as i64)),
        ("limiter_rejections", J::Int(fig.rejections as i64)),
        ("rejection_share", J::Num(fig.share)),
        (
            "allowed_requests_per_minute",
            fig.rate_bound.map_or(J::Null, |_| J::Int(fig.rpm as i64)),
        ),
        ("rate_bound_s", J::opt(fig.rate_bound)),
        ("ratio_to_rate_bound", J::opt(fig.ratio)),
        // Little's law with the fake's added latency alone: a lower bound on the mean.
        (
            "mean_in_flight_at_least",
            J::opt((fig.latency_s > 0.0).then(|| fig.requests as f64 * fig.latency_s / f.wall_s)),
        ),
        ("fake_cpu_s", J::Num(m.fake_cpu_s)),
        ("fake_max_in_flight", J::Int(fig.max_in_flight as i64)),
        ("fake_stats_line", J::Str(fig.stats)),
        ("loadavg_1min_before", J::Num(m.load_before)),
        ("loadavg_1min_after", J::Num(m.load_after)),
        ("targets", targets_json(&targets)),
    ])
}

fn targets_json(t: &[(&str, bool)]) -> J {
    J::Arr(
        t.iter()
            .map(|(n, m)| {
                obj(vec![
                    ("target", J::Str(n.to_string())),
                    ("met", J::Bool(*m)),
                ])
            })
            .collect(),
    )
}

fn run_startup(bin_dir: &Path, out_dir: &Path, runs: usize) -> Vec<J> {
    let work = out_dir.join("work").join("e");
    fs::create_dir_all(&work).unwrap_or_else(|e| die(&e.to_string()));
    let conn = bin_dir.join("source-intercom");
    // discover validates the config and asks for the reporting datasets: one request,
    // to a fake workspace with the fake's defaults.
    let defaults = Scenario {
        name: "e",
        title: "spec and discover",
        streams: None,
        fake: Vec::new(),
        env: Vec::new(),
        pin: false,
        half_columns: None,
    };
    let fake = Fake::start(bin_dir, &work, &defaults, None);
    let config = write_config(&work, &fake.url);
    let mut results = Vec::new();
    for (name, args) in [
        ("spec", vec!["spec".to_string()]),
        (
            "discover",
            vec![
                "discover".to_string(),
                "--config".to_string(),
                config.display().to_string(),
            ],
        ),
    ] {
        eprintln!("[e] {name} x {runs}");
        let load_before = loadavg();
        let mut walls = Vec::new();
        let mut cpus = Vec::new();
        let mut rss: f64 = 0.0;
        let mut ok = true;
        for i in 0..=runs {
            // The first run warms the page cache and is not counted.
            let started = Instant::now();
            let child = Command::new(&conn)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| die(&format!("cannot start the connector: {e}")));
            let f = reap(&child, started);
            if i == 0 {
                continue;
            }
            walls.push(f.wall_s);
            cpus.push(f.cpu_s);
            rss = rss.max(f.peak_rss_bytes);
            ok &= f.code == 0;
        }
        let med = median(&mut walls);
        let mut targets = vec![("peak RSS <= 25 MB", rss <= TARGET_RSS_BYTES)];
        if name == "spec" {
            targets.push(("spec < 20 ms", med < TARGET_SPEC_S));
        }
        targets.push(("no errors", ok));
        results.push(obj(vec![
            ("scenario", J::Str(format!("e-{name}"))),
            ("title", J::Str(format!("(e) {name} start-up"))),
            ("runs", J::Int(runs as i64)),
            ("ok", J::Bool(ok)),
            ("wall_s_median", J::Num(med)),
            ("wall_s_min", J::Num(walls[0])),
            ("wall_s_max", J::Num(walls[walls.len() - 1])),
            ("connector_cpu_s_median", J::Num(median(&mut cpus))),
            ("connector_peak_rss_bytes", J::Num(rss)),
            ("loadavg_1min_before", J::Num(load_before)),
            ("loadavg_1min_after", J::Num(loadavg())),
            ("targets", targets_json(&targets)),
        ]));
    }
    fake.stop();
    results
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

// ---- the table ------------------------------------------------------------------------

fn get<'a>(r: &'a J, key: &str) -> &'a J {
    match r {
        J::Obj(v) => v
            .iter()
            .find(|(k, _)| k == key)
            .map_or(&J::Null, |(_, x)| x),
        _ => &J::Null,
    }
}

fn num(r: &J, key: &str) -> Option<f64> {
    match get(r, key) {
        J::Num(n) => Some(*n),
        J::Int(i) => Some(*i as f64),
        _ => None,
    }
}

fn text(r: &J, key: &str) -> String {
    match get(r, key) {
        J::Str(s) => s.clone(),
        _ => String::new(),
    }
}

fn thousands(x: f64) -> String {
    let s = format!("{:.0}", x.round().abs());
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < -0.5 {
        out.insert(0, '-');
    }
    out
}

fn targets_cell(r: &J) -> String {
    let J::Arr(ts) = get(r, "targets") else {
        return String::new();
    };
    let missed: Vec<String> = ts
        .iter()
        .filter(|t| matches!(get(t, "met"), J::Bool(false)))
        .map(|t| text(t, "target"))
        .collect();
    if missed.is_empty() {
        "met".to_string()
    } else {
        format!("**missed: {}**", missed.join("; "))
    }
}

fn table(results: &[J]) -> String {
    let mut rows = vec![
        "| scenario | workspace | records | wall time | records/s | peak RSS | requests | 429s | rate bound | ratio | connector CPU | fake CPU | fake max in flight | targets |".to_string(),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|".to_string(),
    ];
    for r in results {
        let rss = format!(
            "{:.1} MB",
            num(r, "connector_peak_rss_bytes").unwrap_or(0.0) / MB
        );
        if text(r, "scenario").starts_with("e-") {
            rows.push(format!(
                "| {} | median of {} runs | | {:.1} ms | | {rss} | | | | | {:.1} ms | | | {} |",
                text(r, "title"),
                num(r, "runs").unwrap_or(0.0),
                num(r, "wall_s_median").unwrap_or(0.0) * 1000.0,
                num(r, "connector_cpu_s_median").unwrap_or(0.0) * 1000.0,
                targets_cell(r)
            ));
            continue;
        }
        let bound = num(r, "rate_bound_s").map_or("n/a".into(), |b| format!("{b:.1} s"));
        let ratio = num(r, "ratio_to_rate_bound").map_or("n/a".into(), |x| format!("{x:.2}x"));
        let rej = num(r, "limiter_rejections").unwrap_or(0.0);
        let rej = if rej > 0.0 {
            format!(
                "{} ({:.1}%)",
                thousands(rej),
                100.0 * num(r, "rejection_share").unwrap_or(0.0)
            )
        } else {
            "0".to_string()
        };
        rows.push(format!(
            "| {} | {} | {} | {:.2} s | {} | {rss} | {} | {rej} | {bound} | {ratio} | {:.2} s | {:.2} s | {} | {} |",
            text(r, "title"),
            text(r, "workspace"),
            thousands(num(r, "records").unwrap_or(0.0)),
            num(r, "wall_s").unwrap_or(0.0),
            thousands(num(r, "records_per_s").unwrap_or(0.0)),
            thousands(num(r, "requests").unwrap_or(0.0)),
            num(r, "connector_cpu_s").unwrap_or(0.0),
            num(r, "fake_cpu_s").unwrap_or(0.0),
            num(r, "fake_max_in_flight").unwrap_or(0.0),
            targets_cell(r)
        ));
    }
    rows.join("\n")
}

fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        die("usage: bench BIN_DIR OUT_DIR [a b c d e f g h i]");
    }
    let bin_dir = PathBuf::from(&args[1]);
    let out_dir = PathBuf::from(&args[2]);
    let mut wanted: Vec<String> = args[3..].to_vec();
    if wanted.is_empty() {
        wanted = ["a", "b", "c", "d", "f", "g", "h", "i", "e"]
            .map(String::from)
            .to_vec();
    }
    let scale: f64 = std::env::var("BENCH_SCALE")
        .ok()
        .map(|s| {
            s.parse()
                .ok()
                .filter(|x: &f64| *x > 0.0)
                .unwrap_or_else(|| die("BENCH_SCALE must be a positive number"))
        })
        .unwrap_or(1.0);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .map(|s| {
            s.parse()
                .ok()
                .filter(|x| *x > 0)
                .unwrap_or_else(|| die("BENCH_RUNS must be a positive integer"))
        })
        .unwrap_or(20);
    let all = scenarios(scale);
    for w in &wanted {
        if w != "e" && !all.iter().any(|s| s.name == w) {
            die(&format!(
                "unknown scenario {w:?}: choose from a b c d e f g h i"
            ));
        }
    }
    fs::create_dir_all(&out_dir).unwrap_or_else(|e| die(&e.to_string()));

    let mut results = Vec::new();
    for w in &wanted {
        if w == "e" {
            results.extend(run_startup(&bin_dir, &out_dir, runs));
        } else if let Some(sc) = all.iter().find(|s| s.name == w) {
            results.push(run_read(sc, &bin_dir, &out_dir));
        }
    }

    let max_load = results
        .iter()
        .flat_map(|r| [num(r, "loadavg_1min_before"), num(r, "loadavg_1min_after")])
        .flatten()
        .fold(0.0f64, f64::max);
    let cpus = allowed_cpus().len();
    let all_ok = results
        .iter()
        .all(|r| matches!(get(r, "ok"), J::Bool(true)));
    let table = table(&results);
    let doc = obj(vec![
        ("date_utc", J::Str(utc_now())),
        ("scale", J::Num(scale)),
        ("cpus", J::Int(cpus as i64)),
        ("loadavg_1min_max", J::Num(max_load)),
        (
            "loadavg_at_end",
            J::Str(
                fs::read_to_string("/proc/loadavg")
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            ),
        ),
        ("runner_peak_rss_bytes", J::Num(own_peak_rss_bytes())),
        ("results", J::Arr(results)),
    ]);
    let mut s = String::new();
    doc.write(&mut s, 0);
    s.push('\n');
    let path = out_dir.join("results.json");
    fs::write(&path, s).unwrap_or_else(|e| die(&e.to_string()));

    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{table}\n");
    let _ = writeln!(
        stdout,
        "scale {scale}, {cpus} CPUs, 1-minute load average up to {max_load:.2}; raw numbers: {}",
        path.display()
    );
    if !all_ok {
        eprintln!("bench: a scenario had errors: see {}", path.display());
        std::process::exit(1);
    }
}
