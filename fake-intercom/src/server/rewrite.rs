//! Real answers changed on purpose, for [`FaultKind::Patch`] and
//! [`FaultKind::Replace`](crate::FaultKind::Replace): JSON pointer edits
//! of a parsed answer, and byte replacement in a raw one.
//!
//! [`FaultKind::Patch`]: crate::FaultKind::Patch

use serde_json::Value;

/// Apply each `(pointer, value)` of `ops` to `doc`, in order: `Some(v)`
/// sets the value at the pointer, `None` removes it (see
/// [`FaultKind::Patch`](crate::FaultKind::Patch)). A pointer that does not
/// resolve changes nothing.
pub(crate) fn patch(doc: &mut Value, ops: &[(String, Option<Value>)]) {
    for (pointer, value) in ops {
        match value {
            Some(v) => set(doc, pointer, v.clone()),
            None => remove(doc, pointer),
        }
    }
}

/// The pointer of the parent and the last reference token (unescaped), or
/// `None` for the whole document (`""`) or a string that is not a pointer.
fn split_last(pointer: &str) -> Option<(&str, String)> {
    if !pointer.starts_with('/') {
        return None;
    }
    let (parent, last) = pointer.rsplit_once('/')?;
    Some((parent, last.replace("~1", "/").replace("~0", "~")))
}

/// An array index token (`0`, `12`; no sign, no leading zero).
fn index_of(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// Set the value at `pointer`: the whole document for `""`, a new or
/// existing key of an object, an existing element of an array (or a new
/// last one for `-`).
fn set(doc: &mut Value, pointer: &str, value: Value) {
    if pointer.is_empty() {
        *doc = value;
        return;
    }
    let Some((parent, last)) = split_last(pointer) else {
        return;
    };
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
        }
        Some(Value::Array(items)) if last == "-" => items.push(value),
        Some(Value::Array(items)) => {
            if let Some(slot) = index_of(&last).and_then(|i| items.get_mut(i)) {
                *slot = value;
            }
        }
        _ => {}
    }
}

/// Remove the key or array element at `pointer`, if there is one.
fn remove(doc: &mut Value, pointer: &str) {
    let Some((parent, last)) = split_last(pointer) else {
        return;
    };
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&last);
        }
        Some(Value::Array(items)) => {
            if let Some(i) = index_of(&last).filter(|i| *i < items.len()) {
                items.remove(i);
            }
        }
        _ => {}
    }
}

/// `body` with every occurrence of `find` (left to right, not
/// overlapping) replaced by `with`; unchanged when `find` is empty.
pub(crate) fn replace(body: &[u8], find: &[u8], with: &[u8]) -> Vec<u8> {
    let Some(&first) = find.first() else {
        return body.to_vec();
    };
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.iter().position(|b| *b == first) {
        out.extend_from_slice(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with(find) {
            out.extend_from_slice(with);
            rest = &rest[find.len()..];
        } else {
            out.push(first);
            rest = &rest[1..];
        }
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patched(mut doc: Value, ops: &[(&str, Option<Value>)]) -> Value {
        let ops: Vec<(String, Option<Value>)> = ops
            .iter()
            .map(|(p, v)| (p.to_string(), v.clone()))
            .collect();
        patch(&mut doc, &ops);
        doc
    }

    #[test]
    fn pointers_set_add_and_remove() {
        let page = json!({"type": "conversation.list", "conversations": [{"id": "1"}],
                          "total_count": 1,
                          "pages": {"page": 1, "total_pages": 3, "next": {"page": 2}}});
        let p = patched(
            page.clone(),
            &[
                ("/conversations", Some(json!([]))),
                ("/pages/total_pages", Some(json!(1))),
                ("/total_count", Some(json!(99999))),
                ("/pages/extra", Some(json!("x"))),
            ],
        );
        assert_eq!(p["conversations"], json!([]));
        assert_eq!(p["pages"]["next"], json!({"page": 2}));
        assert_eq!(p["pages"]["total_pages"], 1);
        assert_eq!(p["total_count"], 99999);
        assert_eq!(p["pages"]["extra"], "x");
        let p = patched(page.clone(), &[("/pages/next", None)]);
        assert!(p["pages"].get("next").is_none());
        assert_eq!(p["pages"]["page"], 1);
        // Pointers that do not resolve change nothing, in order.
        let p = patched(
            page.clone(),
            &[
                ("/missing/key", Some(json!(1))),
                ("/conversations/5", Some(json!(1))),
                ("/conversations/01", None),
                ("/total_count/x", None),
                ("no-slash", Some(json!(1))),
                ("", None),
            ],
        );
        assert_eq!(p, page);
    }

    #[test]
    fn array_elements_and_escapes() {
        let doc = json!({"data": [{"role": "user"}, {"role": "lead"}], "a/b": {"~k": 1}});
        let p = patched(
            doc.clone(),
            &[
                ("/data/0/role", Some(json!(5))),
                ("/data/1", None),
                ("/data/-", Some(json!("new"))),
                ("/a~1b/~0k", Some(json!(2))),
            ],
        );
        assert_eq!(p["data"], json!([{"role": 5}, "new"]));
        assert_eq!(p["a/b"]["~k"], 2);
        assert_eq!(patched(doc, &[("", Some(json!([])))]), json!([]));
    }

    #[test]
    fn bytes_are_replaced_everywhere() {
        assert_eq!(
            replace(b"caf\xc3\xa9 \xc3\xa9", "é".as_bytes(), b"\xe9"),
            b"caf\xe9 \xe9"
        );
        assert_eq!(replace(b"aaa", b"aa", b"b"), b"ba");
        assert_eq!(replace(b"abcabc", b"x", b"y"), b"abcabc");
        assert_eq!(replace(b"abc", b"", b"y"), b"abc");
        assert_eq!(replace(b"a-b-", b"-", b""), b"ab");
        assert_eq!(replace(b"ab", b"abc", b"z"), b"ab");
    }
}
