//! What the connector's output may not hold, and what it must keep.
//!
//! - Masking never corrupts output: records are the workspace's bytes whatever the
//!   config's `client_id` and `client_secret` hold, and every line stays valid JSON.
//! - The token leaks in no form a server might echo it in: without `Bearer`, cut by a
//!   length limit, percent-encoded, `\u`-escaped, lower-cased, unpadded, as a
//!   redirect's host. No 10-character run of it may show in stdout or stderr.
//! - SIGTERM or SIGINT ends the process promptly even when the reader stopped reading
//!   (stdout blocked), with the exit code of the signal.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_intercom::{FakeConfig, FakeIntercom, Fault, FaultKind};
use serde_json::{json, Value};

use crate::support::*;

/// A token shaped like Intercom's (base64, padded with `=`), with a `+` that percent-
/// and `\u`-encoding change too. Nothing else in a run's output shares 10 characters
/// with it.
const B64_TOKEN: &str = "dG9rOmE1YzQ4ZjJk+zQ2YjZfNDg0Zl9hNWFmXzMwNGQzZDlhNjg4ZjoxOjA=";

/// Far above any read's request count: no test here is about rate limits.
const UNTHROTTLED_RPM: &str = "60000000";

/// A finished run, with its raw stdout (the harness's `Run` keeps only parsed lines).
struct RawRun {
    code: i32,
    stdout: String,
    stderr: String,
    messages: Vec<Value>,
}

impl RawRun {
    fn error_messages(&self) -> Vec<String> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "TRACE" && m["trace"]["type"] == "ERROR")
            .map(|m| {
                m["trace"]["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }
}

/// Run the connector, keeping stdout as it was written; every line must be an Airbyte
/// message.
fn run_raw(args: &[&str]) -> RawRun {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .env("SOURCE_INTERCOM_REQUESTS_PER_MINUTE", UNTHROTTLED_RPM)
        .env("SOURCE_INTERCOM_BACKOFF_BASE_MS", "20")
        .env_remove("LOG_LEVEL")
        .output()
        .expect("run the connector");
    let stdout = String::from_utf8(out.stdout).expect("utf8 stdout");
    let messages = stdout.lines().map(check_protocol_line).collect();
    RawRun {
        code: out.status.code().unwrap_or(-1),
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        messages,
    }
}

/// Read `streams` in full with this config.
fn read(files: &Files, config: &Value, streams: &[&str]) -> RawRun {
    let config = files.write_json("config.json", config);
    let catalog = files.write_json("catalog.json", &configured_catalog(streams, "full_refresh"));
    run_raw(&[
        "read",
        "--config",
        config.to_str().unwrap(),
        "--catalog",
        catalog.to_str().unwrap(),
    ])
}

// ---------------------------------------------------------------------------------
// Records are never masked.
// ---------------------------------------------------------------------------------

/// The raw `data` of a RECORD line of `stream`, as written.
fn record_data<'a>(line: &'a str, stream: &str) -> Option<&'a str> {
    let prefix = format!(r#"{{"type":"RECORD","record":{{"stream":"{stream}","data":"#);
    let rest = line.strip_prefix(&prefix)?;
    let (data, emitted) = rest.rsplit_once(r#","emitted_at":"#)?;
    let millis = emitted.strip_suffix("}}")?;
    assert!(
        !millis.is_empty() && millis.bytes().all(|b| b.is_ascii_digit()),
        "emitted_at is a number: {line}"
    );
    Some(data)
}

#[test]
fn records_are_the_workspaces_bytes_whatever_the_client_id_and_secret() {
    let env = Env::with(FakeConfig::default());
    let streams = ["admins", "teams", "tags"];
    let objects = |w: &fake_intercom::Workspace| {
        let mut all = Vec::new();
        for (stream, list) in [
            ("admins", &w.admins),
            ("teams", &w.teams),
            ("tags", &w.tags),
        ] {
            for o in list {
                all.push((stream, serde_json::to_string(o).expect("json")));
            }
        }
        all
    };
    let (want, long_value) = env.fake.with_workspace(|w| {
        // A value of 16+ characters that records hold: a real secret could equal it.
        let long = w
            .admins
            .iter()
            .filter_map(|a| a["email"].as_str())
            .find(|e| e.len() >= 16)
            .expect("an admin email of 16+ characters")
            .to_string();
        (objects(w), long)
    });
    assert!(want.len() > 3, "the workspace has records: {want:?}");
    let cases = [
        ("null", "type"),
        ("1796", "example"),
        ("RECORD", "null"),
        ("type", "RECORD"),
        ("example", long_value.as_str()),
        (long_value.as_str(), "emitted_at"),
    ];
    for (client_id, client_secret) in cases {
        let mut config = env.config_value();
        config["client_id"] = json!(client_id);
        config["client_secret"] = json!(client_secret);
        let run = read(&env.files, &config, &streams);
        let case = format!("client_id={client_id:?} client_secret={client_secret:?}");
        assert_eq!(run.code, 0, "{case}: {:?}", run.error_messages());
        let mut got: Vec<(&str, String)> = Vec::new();
        for line in run.stdout.lines() {
            for stream in streams {
                if let Some(data) = record_data(line, stream) {
                    got.push((stream, data.to_string()));
                }
            }
        }
        let records = run
            .messages
            .iter()
            .filter(|m| m["type"] == "RECORD")
            .count();
        assert_eq!(got.len(), records, "{case}: every RECORD has the envelope");
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want_sorted = want.clone();
        want_sorted.sort();
        assert_eq!(
            got_sorted, want_sorted,
            "{case}: records are the workspace's bytes"
        );
        // The envelope of every other line is whole too.
        for m in &run.messages {
            assert!(m["type"].is_string(), "{case}: {m}");
        }
    }
}

// ---------------------------------------------------------------------------------
// The token in any echoed form.
// ---------------------------------------------------------------------------------

/// `s` percent-encoded: every byte but letters and digits, in upper or lower hex.
fn percent_encode(s: &str, lower_hex: bool) -> String {
    s.bytes()
        .map(|b| match (b.is_ascii_alphanumeric(), lower_hex) {
            (true, _) => (b as char).to_string(),
            (false, true) => format!("%{b:02x}"),
            (false, false) => format!("%{b:02X}"),
        })
        .collect()
}

/// `s` with `%XX` and `\uXXXX` decoded (once), lower-cased: what a reader could make of
/// an encoded echo.
fn decoded_lower(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |from: usize, len: usize| {
        b.get(from..from + len)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(c) = hex(i + 1, 2) {
                out.push(c);
                i += 3;
                continue;
            }
        }
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'u') {
            if let Some(c) = hex(i + 2, 4) {
                out.push(c);
                i += 6;
                continue;
            }
        }
        out.push(b[i] as char);
        i += 1;
    }
    out.to_ascii_lowercase()
}

/// No 10-character run of `token` in `text`: in any case, raw or decoded.
fn assert_no_piece_of(token: &str, text: &str, what: &str) {
    let token = token.to_ascii_lowercase();
    let views = [text.to_ascii_lowercase(), decoded_lower(text)];
    for w in token.as_bytes().windows(10) {
        let w = std::str::from_utf8(w).expect("ascii token");
        for view in &views {
            if let Some(at) = view.find(w) {
                let around = &view[at.saturating_sub(40)..(at + 50).min(view.len())];
                panic!("{what}: {w:?} of the token shows: …{around}…");
            }
        }
    }
}

/// A workspace accepting [`B64_TOKEN`], and a config for it.
fn token_fake() -> (FakeIntercom, Value) {
    let fake = FakeIntercom::spawn(FakeConfig {
        token: B64_TOKEN.to_string(),
        requests_per_minute: 60_000_000,
        ..FakeConfig::default()
    })
    .expect("fake starts");
    let config = json!({
        "access_token": B64_TOKEN,
        "start_date": "2020-01-01T00:00:00Z",
        "base_url": fake.base_url(),
    });
    (fake, config)
}

/// A 400 answering the next `GET /admins` with this JSON body.
fn bad_request(body: Value) -> Fault {
    Fault {
        method: "GET".into(),
        path: "/admins".into(),
        status: 400,
        body,
        times: 1,
        ..Default::default()
    }
}

/// Intercom's error envelope with one message.
fn envelope(message: String) -> Value {
    json!({"type": "error.list", "errors": [{"code": "bad_request", "message": message}]})
}

#[test]
fn the_token_shows_in_no_form_a_server_echoes_it_in() {
    let t = B64_TOKEN;
    let lower = t.to_ascii_lowercase();
    let unpadded = t.trim_end_matches('=');
    let u_escaped = |hex_case: fn(&str) -> String| {
        t.replace('=', &hex_case("\\u003d"))
            .replace('+', &hex_case("\\u002b"))
    };
    let mut cases: Vec<(String, Fault)> = Vec::new();
    // Not an Intercom envelope: the body's text is shown, cut at 200 characters. The
    // token runs across the cut, so that a cut before masking would leave a piece.
    for start in [180, 190, 195, 199] {
        let pad = "x".repeat(start - r#"{"message":""#.len());
        cases.push((
            format!("a raw echo from character {start} of a text body"),
            bad_request(json!({"message": format!("{pad}{t} and more")})),
        ));
    }
    // Intercom's envelope: "code: message", cut at 300 characters.
    for start in [290, 299] {
        let pad = "y".repeat(start - "bad_request: ".len());
        cases.push((
            format!("a raw echo from character {start} of an error message"),
            bad_request(envelope(format!("{pad}{t} and more"))),
        ));
    }
    for (name, form) in [
        ("percent-encoded (upper hex)", percent_encode(t, false)),
        ("percent-encoded (lower hex)", percent_encode(t, true)),
        ("lower-cased", lower.clone()),
        ("upper-cased", t.to_ascii_uppercase()),
        ("unpadded", unpadded.to_string()),
    ] {
        cases.push((
            name.to_string(),
            bad_request(envelope(format!(
                "invalid redirect https://app.example/cb?access_token={form}&state=1"
            ))),
        ));
    }
    // `\u`-escaped in a body sent as text (not parsed): the escapes reach the message.
    for (name, form) in [
        (
            "\\u-escaped (lower hex) in a text body",
            u_escaped(|s| s.to_string()),
        ),
        (
            "\\u-escaped (upper hex) in a text body",
            u_escaped(|s| s.to_ascii_uppercase().replace("\\U", "\\u")),
        ),
    ] {
        cases.push((
            name.to_string(),
            Fault {
                kind: FaultKind::Html,
                body: json!(format!(r#"{{"error":"invalid_token","token":"{form}"}}"#)),
                ..bad_request(Value::Null)
            },
        ));
    }
    // A redirect's host is shown (the path is not): the token, lower-cased by the URL
    // parser, as the host.
    cases.push((
        "the host of a redirect".to_string(),
        Fault {
            status: 302,
            headers: vec![("Location".into(), format!("https://{t}.evil.example/steal"))],
            ..bad_request(json!({}))
        },
    ));
    // A server echoing every request header, `Authorization: Bearer <token>` included.
    cases.push((
        "echoed request headers".to_string(),
        Fault {
            kind: FaultKind::Echo,
            ..bad_request(Value::Null)
        },
    ));

    for (name, fault) in cases {
        let (fake, config) = token_fake();
        let files = Files::new();
        fake.inject_fault(fault);
        let run = read(&files, &config, &["admins"]);
        assert_eq!(run.code, 1, "{name}: the stream fails");
        let errors = run.error_messages();
        assert_eq!(errors.len(), 1, "{name}: {errors:?}");
        let status = if name.contains("redirect") {
            "HTTP 302"
        } else {
            "HTTP 400"
        };
        assert!(errors[0].contains(status), "{name}: {}", errors[0]);
        // The echo reached the message, masked (the mask may be cut by the limit).
        assert!(
            errors[0].contains("***") || errors[0].contains("*…"),
            "{name}: {}",
            errors[0]
        );
        assert_no_piece_of(t, &run.stdout, &format!("{name}, stdout"));
        assert_no_piece_of(t, &run.stderr, &format!("{name}, stderr"));
    }
}

// ---------------------------------------------------------------------------------
// A stop while stdout is blocked.
// ---------------------------------------------------------------------------------

/// The lines of `out`: each whole one must be an Airbyte message; a last one without
/// its `\n` is returned apart.
fn whole_lines(out: &str) -> (Vec<Value>, Option<&str>) {
    let (whole, cut) = match out.rfind('\n') {
        Some(at) => (&out[..=at], &out[at + 1..]),
        None => ("", out),
    };
    let lines = whole.lines().map(check_protocol_line).collect();
    (lines, (!cut.is_empty()).then_some(cut))
}

#[test]
fn a_stop_signal_ends_the_read_even_when_stdout_is_blocked() {
    // Far more output than a pipe and the connector's buffers hold.
    let env = Env::with(FakeConfig {
        contacts: 3000,
        ..FakeConfig::default()
    });
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let mut child = env.spawn_read(&["contacts"], "full_refresh");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("a first line");
        check_protocol_line(first.trim_end());
        // Then nobody reads: the pipe fills, and the streams block in their writes.
        // They are blocked once the connector has asked for nothing new for a while.
        let guard = Instant::now() + Duration::from_secs(60);
        let mut seen = (env.fake.requests().len(), Instant::now());
        while seen.1.elapsed() < Duration::from_secs(1) {
            assert!(Instant::now() < guard, "the read never settled");
            std::thread::sleep(Duration::from_millis(50));
            let now = env.fake.requests().len();
            if now != seen.0 {
                seen = (now, Instant::now());
            }
        }
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "the read finished: the workspace is too small to block stdout"
        );
        let kill = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(kill.success());
        // A hang detector, not a time limit: the exit comes within seconds.
        let guard = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() > guard {
                let _ = child.kill();
                panic!("SIG{signal}: the connector did not exit while stdout was blocked");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(status.code(), Some(code), "SIG{signal}");
        // What the pipe and the reader's buffer hold now.
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).expect("utf8 stdout");
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            e.read_to_string(&mut stderr).expect("stderr");
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            !stderr.contains(TOKEN) && !rest.contains(TOKEN),
            "the token leaked"
        );
        // Every whole line is a message. The last may be cut: the write that was
        // blocked when the process exited stops where the pipe was full.
        let (lines, cut) = whole_lines(&rest);
        let records = lines.iter().filter(|m| m["type"] == "RECORD").count();
        assert!(records > 0, "SIG{signal}: the pipe held records");
        let errors: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, m)| m["type"] == "TRACE" && m["trace"]["type"] == "ERROR")
            .map(|(i, _)| i)
            .collect();
        // The trace could not get past the blocked write; if it did, it is last.
        assert!(errors.len() <= 1, "{errors:?}");
        if let Some(&i) = errors.first() {
            assert_eq!(i, lines.len() - 1, "the ERROR trace is the last line");
            assert!(cut.is_none(), "nothing after the last line");
        }
    }
}
