//! The text forms of faults and chaos kinds, for the binary's `--fault` and
//! `--chaos-kinds` flags: [`FromStr`] and [`fmt::Display`] of [`Fault`],
//! [`FaultKind`] and [`ChaosKind`] (a kind prints as it parses), and of
//! [`RetryAfter`] for `--maintenance-retry-after`.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use super::{ChaosKind, Fault, FaultKind, RetryAfter};

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Truncated { keep } => write!(f, "truncated:{keep}"),
            FaultKind::Reset { after_bytes } => write!(f, "reset:{after_bytes}"),
            FaultKind::Slow { delay_ms } => write!(f, "slow:{delay_ms}"),
            FaultKind::Huge { bytes, .. } => write!(f, "{}:{bytes}", self.name()),
            FaultKind::Patch(ops) => {
                f.write_str("patch:")?;
                for (i, (pointer, value)) in ops.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ";" };
                    match value {
                        Some(v) => write!(f, "{sep}{pointer}={v}")?,
                        None => write!(f, "{sep}{pointer}=-")?,
                    }
                }
                Ok(())
            }
            FaultKind::Replace { find, with } => {
                write!(f, "replace:{}={}", escaped(find), escaped(with))
            }
            other => f.write_str(other.name()),
        }
    }
}

fn number<T: FromStr>(what: &str, text: Option<&str>) -> Result<T, String> {
    let text = text.ok_or_else(|| format!("{what} needs a number, e.g. {what}:1000"))?;
    text.parse()
        .map_err(|_| format!("{what}: '{text}' is not a number"))
}

/// `bytes` as text: printable ASCII as is, every other byte (and `\`,
/// `=`) as `\xHH`, so that the text holds no whitespace and parses back.
fn escaped(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_graphic() && b != b'\\' && b != b'=' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The bytes of `text`, where `\xHH` stands for the byte `HH` (hex); no
/// other escape exists, so a `\` is written `\x5c`.
fn unescaped(text: &str) -> Result<Vec<u8>, String> {
    let raw = text.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        let hex = raw
            .get(i + 1..i + 4)
            .filter(|h| h[0] == b'x')
            .and_then(|h| std::str::from_utf8(&h[1..]).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("'{text}': a \\ must start a \\xHH escape"))?;
        out.push(hex);
        i += 4;
    }
    Ok(out)
}

/// `POINTER=JSON` or `POINTER=-` (remove), separated by `;`.
fn patch_ops(arg: &str) -> Result<Vec<(String, Option<Value>)>, String> {
    let mut ops = Vec::new();
    for op in arg.split(';').filter(|op| !op.is_empty()) {
        let (pointer, value) = op
            .split_once('=')
            .ok_or_else(|| format!("patch '{op}' is not POINTER=JSON or POINTER=-"))?;
        if !(pointer.is_empty() || pointer.starts_with('/')) {
            return Err(format!("patch '{op}': '{pointer}' is not a JSON pointer"));
        }
        let value = match value {
            "-" => None,
            json => Some(
                serde_json::from_str(json)
                    .map_err(|e| format!("patch '{op}': '{json}' is not JSON: {e}"))?,
            ),
        };
        ops.push((pointer.to_string(), value));
    }
    Ok(ops)
}

/// `FIND=WITH`, both with `\xHH` escapes; `FIND` not empty.
fn replacement(arg: &str) -> Result<FaultKind, String> {
    let (find, with) = arg
        .split_once('=')
        .ok_or_else(|| format!("replace '{arg}' is not FIND=WITH"))?;
    let find = unescaped(find)?;
    if find.is_empty() {
        return Err(format!("replace '{arg}': nothing to find"));
    }
    Ok(FaultKind::Replace {
        find,
        with: unescaped(with)?,
    })
}

/// `status`, `truncated[:KEEP]`, `html`, `reset[:AFTER_BYTES]`, `slow:MS`,
/// `echo`, `huge:BYTES`, `huge-gzip:BYTES`, `repeat`,
/// `patch:POINTER=JSON[;POINTER=-]...` (`-`: remove; the JSON holds no `;`)
/// or `replace:FIND=WITH` (`\xHH` stands for a raw byte, e.g.
/// `replace:\xc3\xa9=\xe9`).
impl FromStr for FaultKind {
    type Err = String;

    fn from_str(s: &str) -> Result<FaultKind, String> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let kind = match name.to_ascii_lowercase().as_str() {
            "status" => FaultKind::Status,
            "truncated" => FaultKind::Truncated {
                keep: arg.map_or(Ok(0), |a| number(name, Some(a)))?,
            },
            "html" => FaultKind::Html,
            "reset" => FaultKind::Reset {
                after_bytes: arg.map_or(Ok(0), |a| number(name, Some(a)))?,
            },
            "slow" => FaultKind::Slow {
                delay_ms: number(name, arg)?,
            },
            "echo" => FaultKind::Echo,
            "huge" => FaultKind::Huge {
                bytes: number(name, arg)?,
                gzip: false,
            },
            "huge-gzip" => FaultKind::Huge {
                bytes: number(name, arg)?,
                gzip: true,
            },
            "repeat" => FaultKind::Repeat,
            "patch" => FaultKind::Patch(patch_ops(
                arg.ok_or("patch needs POINTER=JSON, e.g. patch:/pages/next=-")?,
            )?),
            "replace" => {
                replacement(arg.ok_or("replace needs FIND=WITH, e.g. replace:\\xc3\\xa9=\\xe9")?)?
            }
            other => {
                return Err(format!(
                    "unknown fault kind '{other}'; one of status, truncated[:KEEP], html, \
                     reset[:AFTER_BYTES], slow:MS, echo, huge:BYTES, huge-gzip:BYTES, repeat, \
                     patch:POINTER=JSON[;...], replace:FIND=WITH"
                ))
            }
        };
        let takes_arg = matches!(
            kind,
            FaultKind::Truncated { .. }
                | FaultKind::Reset { .. }
                | FaultKind::Slow { .. }
                | FaultKind::Huge { .. }
                | FaultKind::Patch(_)
                | FaultKind::Replace { .. }
        );
        if arg.is_some() && !takes_arg {
            return Err(format!("fault kind '{name}' takes no argument"));
        }
        Ok(kind)
    }
}

/// `METHOD PATH KIND[:arg] [times=N] [after=N] [status=N] [body=JSON]
/// [header=NAME:VALUE]...` (words split at whitespace, so the JSON and the
/// header value hold none), e.g. `GET /companies/scroll reset:100 after=2`
/// or `GET /admins status status=302 header=Location:http://169.254.169.254/`.
/// `times` defaults to 1.
impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Fault, String> {
        let mut words = s.split_whitespace();
        let (Some(method), Some(path), Some(kind)) = (words.next(), words.next(), words.next())
        else {
            return Err(format!(
                "fault '{s}': expected METHOD PATH KIND[:arg] [times=N] [after=N] [status=N] [body=JSON] [header=NAME:VALUE]"
            ));
        };
        let mut fault = Fault {
            method: method.to_string(),
            path: path.to_string(),
            kind: kind.parse()?,
            times: 1,
            ..Fault::default()
        };
        for word in words {
            let Some((key, value)) = word.split_once('=') else {
                return Err(format!("fault '{s}': '{word}' is not KEY=VALUE"));
            };
            match key {
                "times" => fault.times = number(key, Some(value))?,
                "after" => fault.after = number(key, Some(value))?,
                "status" => fault.status = number(key, Some(value))?,
                "body" => {
                    fault.body = serde_json::from_str(value)
                        .map_err(|e| format!("body '{value}' is not JSON: {e}"))?
                }
                "header" => {
                    let (name, v) = value
                        .split_once(':')
                        .ok_or_else(|| format!("header '{value}' is not NAME:VALUE"))?;
                    fault.headers.push((name.to_string(), v.to_string()));
                }
                other => return Err(format!("fault '{s}': unknown setting '{other}'")),
            }
        }
        Ok(fault)
    }
}

impl fmt::Display for ChaosKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name of [`ChaosKind::name`] (`_` may stand for `-`, any case).
impl FromStr for ChaosKind {
    type Err = String;

    fn from_str(s: &str) -> Result<ChaosKind, String> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        ChaosKind::ALL
            .into_iter()
            .find(|k| k.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = ChaosKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown chaos kind '{s}'; one of {}", names.join(", "))
            })
    }
}

impl fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name of [`RetryAfter::name`] (any case), or `seconds`, `http-date`.
impl FromStr for RetryAfter {
    type Err = String;

    fn from_str(s: &str) -> Result<RetryAfter, String> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "secs" | "seconds" => Ok(RetryAfter::Seconds),
            "date" | "http-date" => Ok(RetryAfter::HttpDate),
            "none" => Ok(RetryAfter::None),
            _ => Err(format!(
                "unknown Retry-After form '{s}'; one of secs, date, none"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Chaos;
    use serde_json::json;

    #[test]
    fn fault_kinds_parse_and_print() {
        for (text, kind) in [
            ("status", FaultKind::Status),
            ("truncated", FaultKind::Truncated { keep: 0 }),
            ("truncated:10", FaultKind::Truncated { keep: 10 }),
            ("html", FaultKind::Html),
            ("reset:5", FaultKind::Reset { after_bytes: 5 }),
            ("slow:250", FaultKind::Slow { delay_ms: 250 }),
            ("echo", FaultKind::Echo),
            (
                "huge:1024",
                FaultKind::Huge {
                    bytes: 1024,
                    gzip: false,
                },
            ),
            (
                "huge-gzip:2147483648",
                FaultKind::Huge {
                    bytes: 2_147_483_648,
                    gzip: true,
                },
            ),
            ("repeat", FaultKind::Repeat),
            (
                "patch:/conversations=[];/pages/next=-;/data/0/role=5",
                FaultKind::Patch(vec![
                    ("/conversations".into(), Some(json!([]))),
                    ("/pages/next".into(), None),
                    ("/data/0/role".into(), Some(json!(5))),
                ]),
            ),
            ("patch:", FaultKind::Patch(Vec::new())),
            (
                "replace:\\xc3\\xa9=\\xE9",
                FaultKind::Replace {
                    find: "é".into(),
                    with: vec![0xE9],
                },
            ),
            (
                "replace:\\x3d\\x20x=a\\x5cb=c",
                FaultKind::Replace {
                    find: b"= x".to_vec(),
                    with: b"a\\b=c".to_vec(),
                },
            ),
        ] {
            assert_eq!(text.parse::<FaultKind>(), Ok(kind.clone()), "{text}");
            assert_eq!(kind.to_string().parse::<FaultKind>(), Ok(kind));
        }
        for bad in [
            "slow",
            "huge:x",
            "echo:1",
            "boom",
            "reset:-1",
            "patch",
            "patch:/a",
            "patch:a=1",
            "patch:/a={",
            "replace",
            "replace:abc",
            "replace:=x",
            "replace:\\q=x",
            "replace:\\x4=x",
        ] {
            assert!(bad.parse::<FaultKind>().is_err(), "{bad}");
        }
    }

    #[test]
    fn fault_lines_parse() {
        let f: Fault = "GET /admins status status=302 times=2 after=1 \
                        header=Location:http://169.254.169.254/latest/meta-data/"
            .parse()
            .unwrap();
        assert_eq!(
            f,
            Fault {
                method: "GET".into(),
                path: "/admins".into(),
                status: 302,
                times: 2,
                after: 1,
                headers: vec![(
                    "Location".into(),
                    "http://169.254.169.254/latest/meta-data/".into()
                )],
                ..Fault::default()
            }
        );
        let g: Fault = "POST /contacts/search repeat".parse().unwrap();
        assert_eq!((g.times, g.kind), (1, FaultKind::Repeat));
        let h: Fault = r#"GET /tags status status=200 body={"type":"list","data":{}}"#
            .parse()
            .unwrap();
        assert_eq!(h.body["data"], serde_json::json!({}));
        assert!("GET /tags status body={".parse::<Fault>().is_err());
        for bad in [
            "GET /admins",
            "GET /admins status times",
            "GET /x echo what=1",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
    }

    #[test]
    fn retry_after_forms_parse() {
        for r in [RetryAfter::Seconds, RetryAfter::HttpDate, RetryAfter::None] {
            assert_eq!(r.to_string().parse::<RetryAfter>(), Ok(r));
        }
        assert_eq!("HTTP_Date".parse::<RetryAfter>(), Ok(RetryAfter::HttpDate));
        assert_eq!("seconds".parse::<RetryAfter>(), Ok(RetryAfter::Seconds));
        assert!("later".parse::<RetryAfter>().is_err());
    }

    #[test]
    fn chaos_kinds_parse() {
        for k in ChaosKind::ALL {
            assert_eq!(k.name().parse::<ChaosKind>(), Ok(k));
        }
        assert_eq!(
            "Rate_Limit_Burst".parse::<ChaosKind>(),
            Ok(ChaosKind::RateLimitBurst)
        );
        assert!("nope".parse::<ChaosKind>().is_err());
        assert_eq!(Chaos::default().kinds.len(), 6);
    }
}
