//! Keeping secrets out of every output. Two nets, applied by [`crate::output`] to the
//! JSON string values of every line but RECORD lines (records are the customer's data
//! and pass through byte for byte), never to keys, numbers or the envelope fields:
//! - the registered secrets (the access token, the OAuth client secret; only values of
//!   [`MIN_SECRET_CHARS`] characters or more) are replaced by `***` in their raw,
//!   JSON-escaped, percent-encoded (either hex case), `\u`-escaped, lower-cased and
//!   unpadded forms, and so is any run of [`WINDOW`] consecutive characters of one (an
//!   echo cut short, or a part of the token);
//! - anything that looks like a credential is replaced too: the value after `Bearer`,
//!   and the value of an `Authorization` header or field, whoever's it is.
//!
//! Server text that goes into a message is also cleaned by [`server_text`]: control
//! characters dropped, secrets masked, then the length bounded, so a hostile body can't
//! flood a log and no cut leaves a piece of a secret unrecognised. Text that leaves by
//! another way (stderr) goes through [`text`].

use std::sync::RwLock;

use memchr::memmem;

/// What replaces a secret.
pub const MASK: &str = "***";

/// Shorter values are not registered as secrets: masking them would rewrite ordinary
/// words and numbers (`null`, `type`, `1796`, …) in messages.
pub const MIN_SECRET_CHARS: usize = 16;

/// Any run of this many consecutive characters of a registered secret is masked.
pub const WINDOW: usize = 12;

type Window = [u8; WINDOW];

/// Every [`WINDOW`]-byte window of every registered secret, lower-cased (raw, and
/// decoded when the secret itself holds escapes), sorted for binary search.
static WINDOWS: RwLock<Vec<Window>> = RwLock::new(Vec::new());

/// Register a secret: from now on it never reaches a LOG or TRACE line or stderr, in
/// any of the forms above. Values shorter than [`MIN_SECRET_CHARS`] are ignored.
pub fn register_secret(secret: &str) {
    if secret.chars().count() < MIN_SECRET_CHARS {
        return;
    }
    let raw = secret.as_bytes().to_ascii_lowercase();
    let (decoded, _) = decode(secret.as_bytes());
    let mut windows = WINDOWS.write().unwrap_or_else(|p| p.into_inner());
    for form in [raw, decoded] {
        for w in form.windows(WINDOW) {
            if let Ok(w) = Window::try_from(w) {
                windows.push(w);
            }
        }
    }
    windows.sort_unstable();
    windows.dedup();
}

/// Where registered secrets (in any form) lie in `text`: byte ranges, sorted, merged.
fn secret_spans(text: &[u8]) -> Vec<(usize, usize)> {
    let windows = WINDOWS.read().unwrap_or_else(|p| p.into_inner());
    let mut spans = Vec::new();
    if windows.is_empty() || text.len() < WINDOW {
        return spans;
    }
    let lower = text.to_ascii_lowercase();
    for p in matches(&lower, &windows) {
        spans.push((p, p + WINDOW));
    }
    // Escaped and encoded forms: `%3D`, `%3d`, `\u003d`, `\/`, `\"`.
    if memchr::memchr2(b'%', b'\\', text).is_some() {
        let (decoded, origin) = decode(text);
        for p in matches(&decoded, &windows) {
            spans.push((origin[p].0, origin[p + WINDOW - 1].1));
        }
    }
    merge(spans)
}

/// The positions in `hay` where a window of a secret starts.
fn matches<'a>(hay: &'a [u8], windows: &'a [Window]) -> impl Iterator<Item = usize> + 'a {
    hay.windows(WINDOW)
        .enumerate()
        .filter(|(_, w)| windows.binary_search_by(|s| s.as_slice().cmp(w)).is_ok())
        .map(|(p, _)| p)
}

/// Sort ranges and merge those that overlap or touch.
fn merge(mut spans: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    spans.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// `text` with percent-encodings (`%3D`, `%3d`), `\uXXXX` escapes (either hex case) and
/// `\/`, `\\`, `\"`, `\'` decoded, ASCII lower-cased; with, for each byte of the result,
/// the range of `text` it came from.
fn decode(text: &[u8]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut out = Vec::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == b'%' {
            if let Some(v) = hex(text.get(i + 1..i + 3)) {
                out.push((v as u8).to_ascii_lowercase());
                origin.push((i, i + 3));
                i += 3;
                continue;
            }
        } else if b == b'\\' {
            match text.get(i + 1) {
                Some(b'u') => {
                    if let Some(c) = hex(text.get(i + 2..i + 6)).and_then(char::from_u32) {
                        let mut utf8 = [0u8; 4];
                        for &byte in c.to_ascii_lowercase().encode_utf8(&mut utf8).as_bytes() {
                            out.push(byte);
                            origin.push((i, i + 6));
                        }
                        i += 6;
                        continue;
                    }
                }
                Some(&c @ (b'/' | b'\\' | b'"' | b'\'')) => {
                    out.push(c);
                    origin.push((i, i + 2));
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(b.to_ascii_lowercase());
        origin.push((i, i + 1));
        i += 1;
    }
    (out, origin)
}

/// A number written in hex digits (either case), if `digits` is one.
fn hex(digits: Option<&[u8]>) -> Option<u32> {
    let digits = digits?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// `text` with each range replaced by [`MASK`].
fn replace_spans(text: &[u8], spans: &[(usize, usize)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut last = 0;
    for &(start, end) in spans {
        out.extend_from_slice(&text[last..start]);
        out.extend_from_slice(MASK.as_bytes());
        last = end;
    }
    out.extend_from_slice(&text[last..]);
    out
}

/// Mask every registered secret in `s`. Returns `None` when there was none (the common
/// case: no copy).
pub fn mask_secrets(s: &str) -> Option<String> {
    let mut spans = secret_spans(s.as_bytes());
    if spans.is_empty() {
        return None;
    }
    // A secret holding non-ASCII characters may match part of one: mask it whole.
    for (start, end) in spans.iter_mut() {
        while !s.is_char_boundary(*start) {
            *start -= 1;
        }
        while !s.is_char_boundary(*end) {
            *end += 1;
        }
    }
    let spans = merge(spans);
    let bytes = replace_spans(s.as_bytes(), &spans);
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Mask secrets, then credentials, in `s`. Returns `None` when nothing was masked.
pub fn mask_text(s: &str) -> Option<String> {
    let secrets = mask_secrets(s);
    let current = secrets.as_deref().unwrap_or(s);
    match mask_credentials(current.as_bytes()) {
        Some(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        None => secrets,
    }
}

/// Values of these keys are the message's envelope (its type, level, failure type,
/// statuses, stream names): ours, never masked.
const ENVELOPE_KEYS: &[&[u8]] = &[
    b"type",
    b"level",
    b"failure_type",
    b"status",
    b"name",
    b"namespace",
];

/// Mask secrets and credentials in one serialized JSON message (as `serde_json` writes
/// it: compact, valid): only inside string values, never in keys, numbers or the
/// envelope's values ([`ENVELOPE_KEYS`]), so the line stays valid JSON of the same
/// shape. Returns `None` when nothing was masked (the common case: no copy).
pub fn mask_json_line(line: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut key: &[u8] = b"";
    let mut i = 0;
    while let Some(found) = memchr::memchr(b'"', &line[i..]) {
        let start = i + found;
        let Some(end) = string_end(line, start) else {
            break;
        };
        i = end + 1;
        let content = &line[start + 1..end];
        let next = line[i..].iter().find(|b| !b.is_ascii_whitespace());
        if next == Some(&b':') {
            key = content;
            continue;
        }
        let before = line[..start]
            .iter()
            .rev()
            .find(|b| !b.is_ascii_whitespace());
        if before == Some(&b':') && ENVELOPE_KEYS.contains(&key) {
            continue;
        }
        let value: std::borrow::Cow<'_, str> = if content.contains(&b'\\') {
            match serde_json::from_slice::<String>(&line[start..=end]) {
                Ok(s) => s.into(),
                Err(_) => continue,
            }
        } else {
            match std::str::from_utf8(content) {
                Ok(s) => s.into(),
                Err(_) => continue,
            }
        };
        let Some(masked) = mask_text(&value) else {
            continue;
        };
        let buf = out.get_or_insert_with(|| Vec::with_capacity(line.len()));
        buf.extend_from_slice(&line[copied..start]);
        if serde_json::to_writer(&mut *buf, &masked).is_err() {
            // Can't happen for a String; keep the line valid anyway.
            buf.extend_from_slice(b"\"***\"");
        }
        copied = end + 1;
    }
    let mut buf = out?;
    buf.extend_from_slice(&line[copied..]);
    Some(buf)
}

/// The index of the quote closing the JSON string whose opening quote is at `start`.
fn string_end(line: &[u8], start: usize) -> Option<usize> {
    let mut j = start + 1;
    loop {
        let at = j + memchr::memchr2(b'"', b'\\', line.get(j..)?)?;
        if line[at] == b'"' {
            return Some(at);
        }
        j = at + 2;
    }
}

/// Mask credential-shaped values in text: the word after `Bearer`, and the value of an
/// `Authorization` header or key (`authorization: x`, `"authorization":"x"`, `authorization=x`).
/// Works on serialized JSON too: it never removes a quote or a backslash.
pub fn mask_credentials(text: &[u8]) -> Option<Vec<u8>> {
    let lower = text.to_ascii_lowercase();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for at in memmem::find_iter(&lower, b"bearer") {
        let mut i = at + "bearer".len();
        let gap = i;
        while i < text.len() && (text[i] == b' ' || text[i] == b'\t') {
            i += 1;
        }
        // "%20" and "+" are spaces in URLs.
        if i == gap && lower[i..].starts_with(b"%20") {
            i += 3;
        } else if i == gap && text.get(i) == Some(&b'+') {
            i += 1;
        }
        if i == gap {
            continue;
        }
        let end = value_end(text, i, false);
        if end > i {
            spans.push((i, end));
        }
    }
    for at in memmem::find_iter(&lower, b"authorization") {
        let mut i = at + "authorization".len();
        // Past closing quotes of a key (`"authorization":` or `\"authorization\":`).
        while i < text.len() && matches!(text[i], b'"' | b'\\' | b'\'') {
            i += 1;
        }
        while i < text.len() && text[i] == b' ' {
            i += 1;
        }
        if i >= text.len() || !matches!(text[i], b':' | b'=') {
            continue;
        }
        i += 1;
        while i < text.len() && matches!(text[i], b' ' | b'"' | b'\\' | b'\'') {
            i += 1;
        }
        let end = value_end(text, i, true);
        if end > i {
            spans.push((i, end));
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut out = Vec::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in spans {
        if start < last {
            last = last.max(end);
            continue;
        }
        out.extend_from_slice(&text[last..start]);
        out.extend_from_slice(MASK.as_bytes());
        last = end;
    }
    out.extend_from_slice(&text[last..]);
    Some(out)
}

/// Where a credential value starting at `i` ends. Header values may hold spaces
/// (`Basic abc`); a bearer token doesn't.
fn value_end(text: &[u8], mut i: usize, spaces: bool) -> usize {
    while i < text.len() {
        let b = text[i];
        let stop = matches!(
            b,
            b'"' | b'\\' | b',' | b';' | b'&' | b'\'' | b'<' | b'>' | b'}' | b')'
        ) || b == b'\n'
            || b == b'\r'
            || (!spaces && (b == b' ' || b == b'\t'));
        if stop {
            break;
        }
        i += 1;
    }
    i
}

/// Mask secrets and credentials in a string (for text that leaves the process by
/// another way than [`crate::output`], such as stderr).
pub fn text(s: &str) -> String {
    mask_text(s).unwrap_or_else(|| s.to_string())
}

/// How far past the cut [`server_text`] cleans and masks, so that a secret or a
/// credential running across the cut is recognised whole.
const CUT_MARGIN: usize = 256;

/// Server text made fit for a message: control characters become spaces, runs of
/// whitespace collapse, secrets and credentials are masked, and then at most
/// `max_chars` characters are kept (with `…` after a cut). Masking comes first: a cut
/// can't leave a piece of a secret that is too short to be recognised.
pub fn server_text(s: &str, max_chars: usize) -> String {
    let limit = max_chars.saturating_add(CUT_MARGIN);
    let mut clean = String::with_capacity(s.len().min(limit.saturating_mul(4)));
    let mut count = 0;
    let mut last_space = false;
    let mut more = false;
    for c in s.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        if count == limit {
            more = true;
            break;
        }
        last_space = c == ' ';
        clean.push(c);
        count += 1;
    }
    let masked = text(clean.trim());
    match masked.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", masked[..at].trim_end()),
        None if more => format!("{masked}…"),
        None => masked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(s: &str) -> String {
        String::from_utf8(mask_credentials(s.as_bytes()).unwrap_or_else(|| s.as_bytes().to_vec()))
            .unwrap()
    }

    #[test]
    fn credentials_are_masked_wherever_they_appear() {
        let cases = [
            ("Authorization: Bearer abc.def-1", "Authorization: ***"),
            ("echo: bearer abc123; next", "echo: bearer ***; next"),
            (
                r#"{"message":"headers: authorization=Bearer tok_1; x=1"}"#,
                r#"{"message":"headers: authorization=***; x=1"}"#,
            ),
            (
                r#"{"msg":"{\"authorization\":\"Basic dXNlcjpwYXNz\"}"}"#,
                r#"{"msg":"{\"authorization\":\"***\"}"}"#,
            ),
            (
                "url?access=Bearer%20sekrit&x=1",
                "url?access=Bearer%20***&x=1",
            ),
            ("Bearer+sekrit", "Bearer+***"),
            (
                "no credentials here, bearer of news",
                "no credentials here, bearer *** news",
            ),
            ("authorization", "authorization"),
            ("the bearer", "the bearer"),
        ];
        for (input, want) in cases {
            assert_eq!(masked(input), want, "{input}");
        }
    }

    #[test]
    fn masking_keeps_json_valid() {
        let v = serde_json::json!({"m": "Authorization: Bearer a\"b\\c", "n": "bearer x\ny"});
        let line = serde_json::to_vec(&v).unwrap();
        let out = mask_credentials(&line).unwrap();
        let back: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let m = back["m"].as_str().unwrap();
        assert!(!m.contains("a\"b"), "{m}");
    }

    /// Each test registers its own secret (the registry is process-wide); none of them
    /// shares a 12-character run with another test's text.
    const TOKEN: &str = "dG9rOmE1YzQ4ZjJk+zQ2YjZfNDg0Zl9hNWFm/XzMwNGQz=";

    fn lower_windows(s: &str, n: usize) -> Vec<String> {
        let lower = s.to_ascii_lowercase();
        lower
            .as_bytes()
            .windows(n)
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect()
    }

    /// No `n`-character run of `secret` in `text`, in any case.
    fn assert_no_run_of(secret: &str, text: &str, n: usize) {
        let lower = text.to_ascii_lowercase();
        for w in lower_windows(secret, n) {
            assert!(!lower.contains(&w), "{w:?} of the secret in {text:?}");
        }
    }

    fn percent_encode(s: &str, lower_hex: bool) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else if lower_hex {
                    format!("%{b:02x}")
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    #[test]
    fn every_form_of_a_secret_is_masked() {
        register_secret(TOKEN);
        let escaped_u = TOKEN
            .replace('=', "\\u003d")
            .replace('+', "\\u002B")
            .replace('/', "\\/");
        let forms = [
            ("raw", TOKEN.to_string()),
            ("json-escaped", escaped_u.clone()),
            ("percent-encoded", percent_encode(TOKEN, false)),
            ("percent-encoded, lower hex", percent_encode(TOKEN, true)),
            ("lower-cased", TOKEN.to_ascii_lowercase()),
            ("upper-cased", TOKEN.to_ascii_uppercase()),
            ("unpadded", TOKEN.trim_end_matches('=').to_string()),
            ("the first 12", TOKEN[..12].to_string()),
            ("the last 13", TOKEN[TOKEN.len() - 13..].to_string()),
            ("a middle run", TOKEN[10..25].to_string()),
        ];
        for (name, form) in forms {
            let text = format!("before {form} after");
            let out = mask_text(&text).unwrap_or_else(|| panic!("{name}: nothing masked"));
            assert_eq!(out, "before *** after", "{name}: {text}");
        }
        // Twice in one text, glued to other words.
        let out = text(&format!("x{TOKEN}y, token={}", percent_encode(TOKEN, true)));
        assert_eq!(out, "x***y, token=***");
        // Shorter runs are words, not secrets.
        assert_eq!(mask_text(&format!("a {} b", &TOKEN[..11])), None);
    }

    #[test]
    fn short_values_are_not_secrets() {
        for s in [
            "null",
            "type",
            "1796",
            "example",
            "RECORD",
            "fifteen-chars!!",
        ] {
            register_secret(s);
            assert_eq!(mask_text(&format!("{s} {s}")), None, "{s}");
        }
    }

    #[test]
    fn json_lines_keep_keys_numbers_and_the_envelope() {
        // A secret that is also a key, a number and an envelope value.
        let secret = "8273645190827364";
        register_secret(secret);
        let key_secret = "zq_key_secret_value_zq";
        register_secret(key_secret);
        let line = serde_json::to_vec(&serde_json::json!({
            "type": "TRACE",
            "trace": {
                "type": "ERROR",
                "emitted_at": 8273645190827364u64,
                key_secret: 8273645190827364u64,
                "error": {
                    "message": format!("the secret {secret} and {key_secret}"),
                    "failure_type": key_secret,
                    "stream_descriptor": {"name": secret},
                    "list": [secret, 8273645190827364u64],
                    "internal": "Authorization: Bearer abc\ndef"
                }
            }
        }))
        .unwrap();
        let out = mask_json_line(&line).expect("masked");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("still JSON");
        assert_eq!(v["type"], "TRACE");
        assert_eq!(v["trace"]["emitted_at"], 8273645190827364u64);
        assert_eq!(v["trace"][key_secret], 8273645190827364u64);
        let e = &v["trace"]["error"];
        assert_eq!(e["message"], "the secret *** and ***");
        assert_eq!(e["failure_type"], key_secret);
        assert_eq!(e["stream_descriptor"]["name"], secret);
        assert_eq!(e["list"], serde_json::json!(["***", 8273645190827364u64]));
        assert_eq!(e["internal"], "Authorization: ***\ndef");
        // Nothing to mask: no copy.
        let plain = br#"{"type":"LOG","log":{"level":"INFO","message":"read 12 records"}}"#;
        assert_eq!(mask_json_line(plain), None);
    }

    #[test]
    fn json_lines_with_escapes_stay_valid() {
        let secret = "s3cr\"et-token-value\\x";
        register_secret(secret);
        let line = serde_json::to_vec(&serde_json::json!({
            "type": "LOG",
            "log": {"level": "WARN", "message": format!("has {secret} in it, \"quoted\" é")}
        }))
        .unwrap();
        let out = mask_json_line(&line).expect("masked");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("still JSON");
        assert_eq!(v["log"]["message"], "has *** in it, \"quoted\" é");
    }

    #[test]
    fn server_text_masks_before_it_cuts() {
        let secret = "cut-token-0123456789abcdefXYZ=";
        register_secret(secret);
        for at in [180, 190, 195, 199, 200] {
            let body = format!("{}{secret} and more {}", "x".repeat(at), "w".repeat(100));
            let out = server_text(&body, 200);
            assert_no_run_of(secret, &out, 4);
            assert!(out.ends_with('…'), "{out}");
            assert!(out.chars().count() <= 201, "{out}");
        }
        // Text masked away past the cut still shows that there was more.
        let body = format!("Authorization: {}", "a".repeat(400));
        assert_eq!(server_text(&body, 20), "Authorization: ***…");
    }

    #[test]
    fn server_text_is_bounded_and_clean() {
        assert_eq!(server_text("a\n\n\tb\u{0}c", 100), "a b c");
        assert_eq!(server_text("abcdef", 3), "abc…");
        assert_eq!(server_text("abc def", 3), "abc…");
        assert_eq!(
            server_text("oops Authorization: Bearer xyz", 100),
            "oops Authorization: ***"
        );
    }
}
