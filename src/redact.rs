//! Keeping secrets out of every output. Two nets, both applied by [`crate::output`] to
//! each line before it is written:
//! - the registered secrets (the access token, the OAuth client secret), in their raw
//!   and JSON-escaped forms, are replaced by `***` in every line, records included;
//! - in LOG and TRACE lines (text built from server answers: error bodies, headers,
//!   links), anything that looks like a credential is replaced too: the value after
//!   `Bearer`, and the value of an `Authorization` header or field, whoever's it is.
//!
//! Server text that goes into a message is also cleaned by [`server_text`]: control
//! characters dropped and the length bounded, so a hostile body can't flood a log.

use std::sync::RwLock;

use memchr::memmem;

/// What replaces a secret.
pub const MASK: &str = "***";

/// The secrets registered so far, as byte patterns (raw and JSON-escaped).
static SECRETS: RwLock<Vec<Vec<u8>>> = RwLock::new(Vec::new());

/// Register a secret: from now on it never reaches stdout or stderr.
pub fn register_secret(secret: &str) {
    // Shorter values would mask ordinary words; a token this short is refused by the config.
    if secret.len() < 4 {
        return;
    }
    let mut forms = vec![secret.as_bytes().to_vec()];
    if let Ok(json) = serde_json::to_string(secret) {
        let escaped = json.as_bytes()[1..json.len() - 1].to_vec();
        if escaped != forms[0] {
            forms.push(escaped);
        }
    }
    let mut s = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    for f in forms {
        if !s.contains(&f) {
            s.push(f);
        }
    }
}

/// Replace every registered secret in `line`. Returns `None` when there was none (the
/// common case: no copy).
pub fn mask_secrets(line: &[u8]) -> Option<Vec<u8>> {
    let secrets = SECRETS.read().unwrap_or_else(|p| p.into_inner());
    if !secrets.iter().any(|s| memmem::find(line, s).is_some()) {
        return None;
    }
    let mut out = line.to_vec();
    for s in secrets.iter() {
        out = replace_all(&out, s, MASK.as_bytes());
    }
    Some(out)
}

fn replace_all(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut last = 0;
    for at in memmem::find_iter(hay, needle) {
        if at < last {
            continue;
        }
        out.extend_from_slice(&hay[last..at]);
        out.extend_from_slice(with);
        last = at + needle.len();
    }
    out.extend_from_slice(&hay[last..]);
    out
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
    let bytes = mask_secrets(s.as_bytes()).unwrap_or_else(|| s.as_bytes().to_vec());
    let bytes = mask_credentials(&bytes).unwrap_or(bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Server text made fit for a message: control characters become spaces, runs of
/// whitespace collapse, at most `max_chars` characters are kept (with `…` after a cut),
/// and credentials are masked.
pub fn server_text(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    let mut count = 0;
    let mut last_space = false;
    for c in s.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        if count == max_chars {
            out.push('…');
            break;
        }
        last_space = c == ' ';
        out.push(c);
        count += 1;
    }
    text(out.trim())
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

    #[test]
    fn registered_secrets_are_masked_raw_and_escaped() {
        register_secret("s3cr\"et-token-value");
        let line = serde_json::to_vec(&serde_json::json!({"x": "has s3cr\"et-token-value in it"}))
            .unwrap();
        let out = mask_secrets(&line).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(!s.contains("et-token-value"), "{s}");
        assert!(serde_json::from_str::<serde_json::Value>(&s).is_ok());
        assert!(mask_secrets(b"nothing to see").is_none());
    }

    #[test]
    fn server_text_is_bounded_and_clean() {
        assert_eq!(server_text("a\n\n\tb\u{0}c", 100), "a b c");
        assert_eq!(server_text("abcdef", 3), "abc…");
        assert_eq!(
            server_text("oops Authorization: Bearer xyz", 100),
            "oops Authorization: ***"
        );
    }
}
