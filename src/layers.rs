//! The check that imports point one way: every path into the crate's own modules
//! (`crate::…`, `super::…`) in a source file names a module of the file's layer or of
//! an earlier one, as the layer list in `src/lib.rs` ("Layers") orders them. The list is
//! read from `lib.rs` itself, so the documentation and the check can't drift apart.
//!
//! The sources are read as text: comment lines and a line's trailing ` //` comment are
//! left out, and so is a file's `#[cfg(test)] mod tests` (tests may use any layer).

use std::path::{Path, PathBuf};

/// The files that are no layer's: the crate's root (on top of every layer), the
/// binaries (crates of their own) and the test-only modules.
const OUTSIDE: &[&str] = &["lib.rs", "main.rs", "bin", "layers.rs", "properties.rs"];

/// The layer list of `lib.rs`: each module path with its layer, from the numbered lines
/// of its "Layers" section (the modules named in backquotes before the first `: `).
fn layer_list(lib: &str) -> Result<Vec<(Vec<String>, usize)>, String> {
    let mut in_section = false;
    let mut list = Vec::new();
    let mut last = 0;
    for line in lib.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        let doc = doc.trim();
        if doc.starts_with('#') {
            in_section = doc == "# Layers";
            continue;
        }
        let Some((number, rest)) = doc.split_once(". ").filter(|_| in_section) else {
            continue;
        };
        let Ok(layer) = number.parse::<usize>() else {
            continue;
        };
        if layer != last + 1 {
            return Err(format!("layer {layer} follows layer {last}"));
        }
        last = layer;
        let head = rest.split(": ").next().unwrap_or_default();
        for name in head.split('`').skip(1).step_by(2) {
            list.push((name.split("::").map(str::to_string).collect(), layer));
        }
    }
    if list.is_empty() {
        return Err("src/lib.rs has no \"# Layers\" list".into());
    }
    Ok(list)
}

/// The entry of `list` that holds the module `path` names: the longest whose path
/// begins it.
fn layer_of<'l>(
    list: &'l [(Vec<String>, usize)],
    path: &[String],
) -> Option<&'l (Vec<String>, usize)> {
    list.iter()
        .filter(|(module, _)| path.starts_with(module))
        .max_by_key(|(module, _)| module.len())
}

/// The code of a source file: no comment lines, no trailing comments, no tests.
fn code(source: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if t == "#[cfg(test)]"
            && lines
                .get(i + 1)
                .is_some_and(|next| next.trim_start().starts_with("mod tests"))
        {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(line.find(" //").map_or(*line, |at| &line[..at]));
        out.push('\n');
    }
    out
}

/// Parse the path or use tree at the start of `s`, which continues `prefix`; push every
/// path it names onto `out`. Returns the bytes read.
fn use_tree(s: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let b = s.as_bytes();
    let mut path = prefix.to_vec();
    let mut i = 0;
    loop {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if b.get(i) == Some(&b'{') {
            i += 1;
            loop {
                while b
                    .get(i)
                    .is_some_and(|c| c.is_ascii_whitespace() || *c == b',')
                {
                    i += 1;
                }
                match b.get(i) {
                    None => return i,
                    Some(b'}') => return i + 1,
                    Some(_) => i += use_tree(&s[i..], &path, out).max(1),
                }
            }
        }
        let start = i;
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            i += 1;
        }
        match &s[start..i] {
            "" | "self" => {}
            ident => path.push(ident.to_string()),
        }
        if s[i..].starts_with("::") {
            i += 2;
            continue;
        }
        out.push(path);
        return i;
    }
}

/// The crate's modules a file's code names: `crate::` paths, and `super::` paths taken
/// from the file's module `module`.
fn paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let parent = &module[..module.len().saturating_sub(1)];
    let mut out = Vec::new();
    for (keyword, base) in [("crate::", &[][..]), ("super::", parent)] {
        for (at, _) in code.match_indices(keyword) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '$')) {
                continue;
            }
            use_tree(&code[at + keyword.len()..], base, &mut out);
        }
    }
    out
}

/// The imports of one file (its module path `module`, its source) that run back up
/// the layers of `list`, in words; or why the file can't be placed.
fn violations(
    list: &[(Vec<String>, usize)],
    file: &str,
    module: &[String],
    source: &str,
) -> Vec<String> {
    let Some((own, layer)) = layer_of(list, module) else {
        return vec![format!(
            "{file}: the module `{}` is in no layer of src/lib.rs's \"Layers\" list",
            module.join("::")
        )];
    };
    let mut errors = Vec::new();
    for path in paths(module, &code(source)) {
        let named = path.join("::");
        match layer_of(list, &path) {
            None => errors.push(format!(
                "{file}: `{named}` is in no layer of src/lib.rs's \"Layers\" list"
            )),
            Some((theirs, their_layer)) if their_layer > layer => errors.push(format!(
                "{file} (`{}`, layer {layer}) imports `{named}` (`{}`, layer {their_layer})",
                own.join("::"),
                theirs.join("::")
            )),
            Some(_) => {}
        }
    }
    errors
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path: `src/read/group.rs` is `read::group`, `src/http/mod.rs` `http`.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

#[test]
fn no_import_runs_back_up_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let list = layer_list(&lib).unwrap_or_else(|e| panic!("{e}"));
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut errors = Vec::new();
    let mut checked = 0;
    for path in &files {
        let relative = path.strip_prefix(&src).expect("under src");
        let first = relative
            .iter()
            .next()
            .and_then(|p| p.to_str())
            .unwrap_or_default();
        if OUTSIDE.contains(&first) {
            continue;
        }
        let source = std::fs::read_to_string(path).expect("a source file");
        let file = format!("src/{}", relative.display());
        errors.extend(violations(&list, &file, &module_of(relative), &source));
        checked += 1;
    }
    assert!(checked > 30, "only {checked} files checked");
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_check_sees_every_form_of_import_and_nothing_else() {
    let lib = "//! # Layers\n//!\n//! 1. `low`: the bottom.\n//! 2. `mid`, `top::rules`: between.\n//! 3. `top`: the top.\n";
    let list = layer_list(lib).unwrap();
    assert_eq!(list.len(), 4);
    let m = |s: &str| -> Vec<String> { s.split("::").map(str::to_string).collect() };
    let check = |module: &str, source: &str| violations(&list, "f.rs", &m(module), source);
    // Back up a layer, in each form an import takes.
    for source in [
        "use crate::top::Thing;\n",
        "use crate::{low, top::x};\n",
        "use crate::mid::{\n    a,\n    b::{c, super_thing},\n};\nuse crate::top;\n",
        "fn f() { crate::top::g(1) }\n",
        "let x = 1; // fine\nlet y = crate::top::Y;\n",
        "use super::Thing;\n",
    ] {
        // `super` of `src/top/rules.rs` is `top`.
        let module = if source.starts_with("use super") {
            "top::rules"
        } else {
            "mid"
        };
        let found = check(module, source);
        assert_eq!(found.len(), 1, "{source}: {found:#?}");
        assert!(found[0].contains("layer 3"), "{source}: {found:#?}");
    }
    // Down or level: fine; so are comments, trailing comments and tests.
    for source in [
        "use crate::low::Thing;\nuse crate::mid::other;\nuse super::sibling;\n",
        "/// see [`crate::top`]\n//! and crate::top\nlet x = 1; // crate::top::x\n",
        "use crate::low;\n\n#[cfg(test)]\nmod tests {\n    use crate::top::T;\n    use super::*;\n}\n",
        "let s = \"$crate::top\"; let t = my_crate::top::x;\n",
    ] {
        assert_eq!(check("mid::inner", source), Vec::<String>::new(), "{source}");
    }
    // A module of no layer, and a path to one, are errors too.
    assert_eq!(check("elsewhere", "").len(), 1);
    assert_eq!(check("mid", "use crate::nowhere::X;\n").len(), 1);
    // The longest entry wins: `top::rules` is layer 2, the rest of `top` layer 3.
    assert!(check("mid", "use crate::top::rules::R;\n").is_empty());
    assert_eq!(check("top::rules", "use crate::top::client::C;\n").len(), 1);
}
