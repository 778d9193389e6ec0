//! `docs/intercom.md`, the connector's page in Airbyte's documentation format: its headers in
//! the order Airbyte's docs checker wants them, the stream table against `discover`, the
//! permission table's streams against `discover` (its permissions are held to the stream
//! declarations by a unit test in `src/streams/mod.rs`), the changelog, the data type map
//! against the schemas, the benchmark figures against the README's, and the links to the
//! page from the spec and `metadata.yaml`; also the icon.
//!
//! Each check is a function that returns what is wrong (empty when nothing is), so that it
//! is tested on the real page and on pages made wrong on purpose.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::support::*;

const PAGE: &str = "docs/intercom.md";
const REPOSITORY: &str = "https://github.com/source-intercom/source-intercom";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn page() -> String {
    read(PAGE)
}

fn metadata() -> Value {
    serde_yaml::from_str(&read("metadata.yaml")).expect("metadata.yaml parses")
}

fn spec() -> Value {
    let run = run_connector(&["spec"], &[]);
    assert_eq!(run.code, 0);
    run.messages[0]["spec"].clone()
}

// ---------------------------------------------------------------- markdown, just enough

/// One ATX header (`## Title`).
#[derive(Debug, Clone, PartialEq)]
struct Header {
    level: usize,
    title: String,
    /// Its line (0-based).
    line: usize,
}

/// The page's headers, outside fenced code blocks.
fn headers(md: &str) -> Vec<Header> {
    let mut out = vec![];
    let mut fenced = false;
    for (line, text) in md.lines().enumerate() {
        let t = text.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced || text.starts_with(' ') {
            continue;
        }
        let level = text.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&level) && text[level..].starts_with(' ') {
            out.push(Header {
                level,
                title: text[level..]
                    .trim()
                    .trim_end_matches('#')
                    .trim()
                    .to_string(),
                line,
            });
        }
    }
    out
}

/// The text under the first header titled `title` (any level), up to the next header of
/// the same level or above; `None` if there is no such header.
fn section<'a>(md: &'a str, title: &str) -> Option<&'a str> {
    let all = headers(md);
    let i = all.iter().position(|h| h.title == title)?;
    let end = all[i + 1..]
        .iter()
        .find(|h| h.level <= all[i].level)
        .map(|h| h.line);
    let lines: Vec<&str> = md.lines().collect();
    let start = all[i].line + 1;
    let end = end.unwrap_or(lines.len());
    // As a slice of `md`, so callers can find positions in it.
    let from = lines[..start].iter().map(|l| l.len() + 1).sum::<usize>();
    let to = lines[..end].iter().map(|l| l.len() + 1).sum::<usize>();
    Some(&md[from.min(md.len())..to.min(md.len())])
}

/// A markdown table: its header cells and its rows.
#[derive(Debug)]
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// The line (within the text searched) of its header row.
    line: usize,
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim();
    let inner = inner.strip_prefix('|').unwrap_or(inner);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

fn is_delimiter(line: &str) -> bool {
    let c = cells(line);
    !c.is_empty()
        && c.iter()
            .all(|x| !x.is_empty() && x.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
}

/// Every table in `text`.
fn tables(text: &str) -> Vec<Table> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = vec![];
    let mut i = 0;
    while i + 1 < lines.len() {
        if lines[i].trim_start().starts_with('|') && is_delimiter(lines[i + 1]) {
            let mut t = Table {
                header: cells(lines[i]),
                rows: vec![],
                line: i,
            };
            i += 2;
            while i < lines.len() && lines[i].trim_start().starts_with('|') {
                t.rows.push(cells(lines[i]));
                i += 1;
            }
            out.push(t);
        } else {
            i += 1;
        }
    }
    out
}

/// The table under the header `title` whose header row is `columns` (in any letter case).
fn table_in(md: &str, title: &str, columns: &[&str]) -> Result<Table, String> {
    let text = section(md, title).ok_or_else(|| format!("no `{title}` section"))?;
    let want: Vec<String> = columns.iter().map(|c| c.to_lowercase()).collect();
    let table = tables(text)
        .into_iter()
        .find(|t| {
            t.header
                .iter()
                .map(|c| c.to_lowercase())
                .collect::<Vec<_>>()
                == want
        })
        .ok_or_else(|| format!("no table | {} | under `{title}`", columns.join(" | ")))?;
    for (i, row) in table.rows.iter().enumerate() {
        if row.len() != columns.len() {
            return Err(format!(
                "`{title}` table, row {}: {} cells, not {}",
                i + 1,
                row.len(),
                columns.len()
            ));
        }
    }
    Ok(table)
}

/// A cell's text without code marks.
fn plain(cell: &str) -> String {
    cell.replace('`', "").trim().to_string()
}

/// A cell that lists values (`` `a`, `b` ``); a dash or nothing is none.
fn list(cell: &str) -> Vec<String> {
    let p = plain(cell);
    if matches!(p.as_str(), "" | "-" | "—" | "–") {
        return vec![];
    }
    p.split(',').map(|s| s.trim().to_string()).collect()
}

/// GitHub's anchor for a header: lower case, spaces to '-', punctuation dropped ('-' and
/// '_' kept).
fn github_anchor(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a page's headers (a repeated one gets `-1`, `-2`, … as on GitHub).
fn anchors(md: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for h in headers(md) {
        let a = github_anchor(&h.title);
        let n = seen.entry(a.clone()).or_insert(0);
        out.insert(if *n == 0 { a } else { format!("{a}-{n}") });
        *n += 1;
    }
    out
}

// ---------------------------------------------------------------- the checks

/// The headers Airbyte's docs checker requires, in this order. Other headers may come
/// between them only as subsections (`###` or deeper).
const REQUIRED: &[(usize, &str)] = &[
    (1, "Intercom"),
    (2, "Prerequisites"),
    (2, "Setup guide"),
    (2, "Supported sync modes"),
    (2, "Supported Streams"),
    (3, "Performance considerations"),
    (2, "Data type map"),
    (2, "Limitations & Troubleshooting"),
    (2, "Changelog"),
];

fn show(level: usize, title: &str) -> String {
    format!("`{} {title}`", "#".repeat(level))
}

/// What is wrong with the page's structure: the required headers and their order, the
/// setup guide's Cloud and Open Source parts, the changelog's collapsible table.
fn structure_errors(md: &str) -> Vec<String> {
    let mut errors = vec![];
    let mut next = 0;
    for h in headers(md) {
        let this = (h.level, h.title.as_str());
        let expected = REQUIRED.get(next);
        if expected == Some(&this) {
            next += 1;
        } else if let Some(k) = REQUIRED[next..]
            .iter()
            .position(|r| *r == this)
            .filter(|_| h.level <= 2)
        {
            // A required header further on: the ones before it are missing or moved.
            for (l, t) in &REQUIRED[next..next + k] {
                errors.push(format!(
                    "{} is missing or out of order (line {}: {} comes first)",
                    show(*l, t),
                    h.line + 1,
                    show(h.level, &h.title)
                ));
            }
            next += k + 1;
        } else if h.level <= 2 {
            let was = match expected {
                Some((l, t)) => format!("where {} was expected", show(*l, t)),
                None => format!("after {}", show(2, "Changelog")),
            };
            errors.push(format!(
                "line {}: {} {was} (headers between the required ones must be `###` subsections)",
                h.line + 1,
                show(h.level, &h.title)
            ));
        }
    }
    for (l, t) in &REQUIRED[next.min(REQUIRED.len())..] {
        errors.push(format!("missing {} (or out of order)", show(*l, t)));
    }

    match section(md, "Setup guide") {
        Some(setup) => {
            let cloud = setup.find("For Airbyte Cloud:");
            let oss = setup.find("For Airbyte Open Source:");
            match (cloud, oss) {
                (Some(c), Some(o)) if c < o => {}
                (Some(_), Some(_)) => errors.push(
                    "the setup guide has \"For Airbyte Open Source:\" before \"For Airbyte Cloud:\""
                        .into(),
                ),
                _ => errors.push(
                    "the setup guide lacks \"For Airbyte Cloud:\" or \"For Airbyte Open Source:\""
                        .into(),
                ),
            }
        }
        None => errors.push("no setup guide".into()),
    }

    match section(md, "Changelog") {
        Some(log) => {
            let open = log.find("<details>");
            let summary = log.find("<summary>Expand to review</summary>");
            let table = log.find("| Version");
            let close = log.find("</details>");
            match (open, summary, table, close) {
                (Some(o), Some(s), Some(t), Some(c)) if o < s && s < t && t < c => {}
                _ => errors.push(
                    "the changelog is not <details>, <summary>Expand to review</summary>, its table, </details>, in this order"
                        .into(),
                ),
            }
        }
        None => errors.push("no changelog".into()),
    }
    errors
}

/// The row of the stream and permission tables that stands for every reporting dataset.
const REPORTS_ROW: &str = "report_<dataset>";

/// Where the stream table differs from the catalog `discover` gives: every stream once,
/// its sync modes, cursor field and primary key.
fn stream_table_errors(md: &str, catalog: &Value) -> Vec<String> {
    let table = match table_in(
        md,
        "Supported Streams",
        &[
            "Stream",
            "Sync modes",
            "Cursor field",
            "Primary key",
            "Endpoint",
        ],
    ) {
        Ok(t) => t,
        Err(e) => return vec![e],
    };
    let mut errors = vec![];
    let mut rows: BTreeMap<String, &Vec<String>> = BTreeMap::new();
    for row in &table.rows {
        if rows.insert(plain(&row[0]), row).is_some() {
            errors.push(format!("stream table: {} twice", row[0]));
        }
    }
    let streams = catalog["streams"].as_array().cloned().unwrap_or_default();
    let mut discovered = BTreeSet::new();
    for s in &streams {
        let name = s["name"].as_str().unwrap_or_default().to_string();
        discovered.insert(name.clone());
        // One row stands for every reporting dataset's stream: the datasets are the
        // workspace's, and their cursor is each one's own time attribute.
        if name.starts_with("report_") {
            let Some(row) = rows.get(REPORTS_ROW) else {
                errors.push(format!("stream table: `{REPORTS_ROW}` is missing"));
                continue;
            };
            discovered.insert(REPORTS_ROW.to_string());
            let cursor = s["default_cursor_field"].as_array().map_or(0, Vec::len);
            // A key is one attribute, which the page names for the stream.
            let key = s["source_defined_primary_key"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let key_named = match key.as_slice() {
                [] => true,
                [k] => k.as_array().is_some_and(|k| {
                    k.len() == 1
                        && k[0]
                            .as_str()
                            .is_some_and(|k| md.contains(&format!("`{name}` by `{k}`")))
                }),
                _ => false,
            };
            if plain(&row[1]) != "Full Refresh, Incremental"
                || plain(&row[2]) != "the dataset's time attribute"
                || plain(&row[3]) != "the dataset's id attribute, if any"
                || cursor != 1
                || !key_named
            {
                errors.push(format!(
                    "stream table: `{REPORTS_ROW}` says {row:?}, discover says {s} for `{name}`"
                ));
            }
            continue;
        }
        let Some(row) = rows.get(&name) else {
            errors.push(format!("stream table: `{name}` is missing"));
            continue;
        };
        let modes: BTreeSet<String> = list(&row[1])
            .iter()
            .map(|m| m.to_lowercase().replace(' ', "_"))
            .collect();
        let want_modes: BTreeSet<String> = s["supported_sync_modes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str().map(str::to_string))
            .collect();
        if modes != want_modes {
            errors.push(format!(
                "stream table: `{name}` sync modes {modes:?}, discover says {want_modes:?}"
            ));
        }
        let cursor = list(&row[2]).join(", ");
        let want_cursor = s["default_cursor_field"]
            .as_array()
            .map(|path| {
                path.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .unwrap_or_default();
        if cursor != want_cursor {
            errors.push(format!(
                "stream table: `{name}` cursor field {cursor:?}, discover says {want_cursor:?}"
            ));
        }
        let key = list(&row[3]);
        let want_key: Vec<String> = s["source_defined_primary_key"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|path| {
                path.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .collect();
        if key != want_key {
            errors.push(format!(
                "stream table: `{name}` primary key {key:?}, discover says {want_key:?}"
            ));
        }
        if plain(&row[4]).is_empty() {
            errors.push(format!("stream table: `{name}` has no endpoint"));
        }
    }
    // A workspace may list no reporting datasets (or refuse them): the row stays.
    for name in rows
        .keys()
        .filter(|n| !discovered.contains(*n) && *n != REPORTS_ROW)
    {
        errors.push(format!(
            "stream table: `{name}` is not a stream of discover"
        ));
    }
    errors
}

/// A `YYYY-MM-DD` date that can exist (no calendar beyond that).
fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    matches!(parts.as_slice(), [y, m, d]
        if y.len() == 4 && m.len() == 2 && d.len() == 2
        && [y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && (1..=12).contains(&m.parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&d.parse::<u32>().unwrap_or(0)))
}

fn semver(s: &str) -> Option<(u64, u64, u64)> {
    let mut it = s.split('.').map(|p| p.parse::<u64>().ok());
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(Some(a)), Some(Some(b)), Some(Some(c)), None) => Some((a, b, c)),
        _ => None,
    }
}

/// What is wrong with the changelog table, as Airbyte's changelog parser reads it: a blank
/// line before `| Version | Date | Pull Request | Subject |`, a delimiter row, and rows of a
/// semantic version, a date, `[N](<repository>/pull/N)` and a subject, newest first; and
/// one of them for `version` (the image tag).
fn changelog_errors(md: &str, version: &str) -> Vec<String> {
    let Some(log) = section(md, "Changelog") else {
        return vec!["no changelog".into()];
    };
    let Some(table) = tables(log)
        .into_iter()
        .find(|t| t.header == ["Version", "Date", "Pull Request", "Subject"])
    else {
        return vec![
            "no | Version | Date | Pull Request | Subject | table in the changelog".into(),
        ];
    };
    let mut errors = vec![];
    let lines: Vec<&str> = log.lines().collect();
    if table.line == 0 || !lines[table.line - 1].trim().is_empty() {
        errors.push("the changelog table needs a blank line before it".into());
    }
    if table.rows.is_empty() {
        errors.push("the changelog has no entries".into());
    }
    let mut previous: Option<((u64, u64, u64), String)> = None;
    for row in &table.rows {
        let [v, date, pr, subject] = row.as_slice() else {
            errors.push(format!("changelog row {row:?}: not 4 cells"));
            continue;
        };
        let Some(sv) = semver(v) else {
            errors.push(format!("changelog: version {v:?} is not x.y.z"));
            continue;
        };
        if !is_date(date) {
            errors.push(format!("changelog {v}: date {date:?} is not YYYY-MM-DD"));
        }
        let link_ok = pr
            .strip_prefix('[')
            .and_then(|r| r.split_once("]("))
            .and_then(|(n, rest)| {
                let url = rest.strip_suffix(')')?;
                let m = url.strip_prefix(&format!("{REPOSITORY}/pull/"))?;
                Some(!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && n == m)
            })
            .unwrap_or(false);
        if !link_ok {
            errors.push(format!(
                "changelog {v}: pull request {pr:?} is not [N]({REPOSITORY}/pull/N)"
            ));
        }
        if subject.trim().is_empty() {
            errors.push(format!("changelog {v}: no subject"));
        }
        if let Some((pv, pd)) = &previous {
            if sv > *pv || (sv == *pv && date.as_str() > pd.as_str()) {
                errors.push(format!("changelog {v}: entries must be newest first"));
            }
        }
        previous = Some((sv, date.clone()));
    }
    if !table.rows.iter().any(|r| r[0] == version) {
        errors.push(format!("the changelog has no entry for version {version}"));
    }
    errors
}

/// What is wrong with a link to a file of this repository (`<repository>/blob/main/<path>`
/// with an optional `#anchor`): the file must exist and, for markdown, have the anchor.
fn link_errors(url: &str) -> Vec<String> {
    let prefix = format!("{REPOSITORY}/blob/main/");
    let Some(rest) = url.strip_prefix(&prefix) else {
        return vec![format!("{url} is not a file of {REPOSITORY} on main")];
    };
    let (path, fragment) = match rest.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (rest, None),
    };
    if path.is_empty()
        || path.split('/').any(|p| p == ".." || p.is_empty())
        || !repo(path).is_file()
    {
        return vec![format!("{url}: {path} is not a file of the repository")];
    }
    match fragment {
        Some(f) => {
            let text = std::fs::read_to_string(repo(path)).unwrap_or_default();
            if anchors(&text).contains(f) {
                vec![]
            } else {
                vec![format!("{url}: {path} has no header with the anchor #{f}")]
            }
        }
        None => vec![],
    }
}

/// Links within the page (`](#anchor)`) that lead nowhere.
fn internal_link_errors(md: &str) -> Vec<String> {
    let have = anchors(md);
    md.match_indices("](#")
        .filter_map(|(i, m)| {
            let rest = &md[i + m.len()..];
            let anchor = &rest[..rest.find(')').unwrap_or(rest.len())];
            (!have.contains(anchor)).then(|| format!("a link to #{anchor}, which no header has"))
        })
        .collect()
}

/// What is wrong with the icon: it must be an SVG with a square `viewBox` and nothing it
/// fetches from elsewhere.
fn icon_errors(svg: &str) -> Vec<String> {
    let mut errors = vec![];
    let Some(open) = svg.trim_start().strip_prefix("<svg") else {
        return vec!["not an <svg> document".into()];
    };
    let tag = &open[..open.find('>').unwrap_or(open.len())];
    let view_box = tag
        .split_once("viewBox=\"")
        .and_then(|(_, r)| r.split_once('"'))
        .map(|(v, _)| v);
    let numbers: Vec<f64> = view_box
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    match numbers.as_slice() {
        [_, _, w, h] if w == h && *w > 0.0 => {}
        _ => errors.push(format!("viewBox {view_box:?} is not square")),
    }
    let without_namespace = svg.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for bad in [
        "href", "<image", "url(", "@import", "<script", "http:", "https:",
    ] {
        if without_namespace.contains(bad) {
            errors.push(format!("refers to something outside itself ({bad})"));
        }
    }
    errors
}

// ---------------------------------------------------------------- the page

#[test]
fn the_page_has_airbyte_s_headers_in_order() {
    let md = page();
    let errors = structure_errors(&md);
    assert!(errors.is_empty(), "{PAGE}: {errors:#?}");
    let errors = internal_link_errors(&md);
    assert!(errors.is_empty(), "{PAGE}: {errors:#?}");
}

/// The structure check fails pages that are wrong, and only those.
#[test]
fn the_structure_check_catches_what_it_should() {
    const GOOD: &str = "# Intercom\n\nIntro.\n\n## Prerequisites\n\n### Permissions\n\n\
        ## Setup guide\n\n### For Airbyte Cloud:\n\n1. Log in.\n\n### For Airbyte Open Source:\n\n\
        1. Navigate.\n\n```sh\n## not a header: a comment in a code block\n```\n\n\
        ## Supported sync modes\n\n## Supported Streams\n\n### Performance considerations\n\n\
        ## Data type map\n\n## Limitations & Troubleshooting\n\n### Regions\n\n## Changelog\n\n\
        <details>\n  <summary>Expand to review</summary>\n\n\
        | Version | Date | Pull Request | Subject |\n|:--|:--|:--|:--|\n\
        | 0.1.0 | 2026-12-06 | [17](https://github.com/source-intercom/source-intercom/pull/17) | First |\n\n\
        </details>\n";
    assert_eq!(structure_errors(GOOD), Vec::<String>::new());
    assert_eq!(internal_link_errors(GOOD), Vec::<String>::new());
    assert_eq!(changelog_errors(GOOD, "0.1.0"), Vec::<String>::new());

    let broken = |from: &str, to: &str| {
        assert!(GOOD.contains(from), "{from}");
        structure_errors(&GOOD.replacen(from, to, 1))
    };
    // Two headers swapped, and a section moved.
    let swapped = GOOD
        .replacen("## Data type map", "## SWAP", 1)
        .replacen("## Limitations & Troubleshooting", "## Data type map", 1)
        .replacen("## SWAP", "## Limitations & Troubleshooting", 1);
    let errors = structure_errors(&swapped);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("`## Data type map` is missing or out of order")),
        "{errors:?}"
    );
    let reordered = GOOD.replacen("## Data type map\n\n", "", 1).replacen(
        "## Changelog",
        "## Changelog\n\n## Data type map",
        1,
    );
    let errors = structure_errors(&reordered);
    assert!(
        errors.iter().any(|e| e.contains("`## Changelog`")),
        "{errors:?}"
    );
    // A missing header, one at the wrong level, and an extra `##` in between.
    assert!(!broken("## Supported sync modes\n", "").is_empty());
    assert!(!broken(
        "### Performance considerations",
        "## Performance considerations"
    )
    .is_empty());
    assert!(!broken(
        "### Performance considerations",
        "#### Performance considerations"
    )
    .is_empty());
    assert!(!broken("# Intercom", "# Intercom (Rust)").is_empty());
    assert!(!broken("### Regions", "## Regions").is_empty());
    assert!(!broken("## Supported Streams", "## Supported streams").is_empty());
    // An extra subsection is fine.
    assert!(broken("### Regions", "### Regions\n\n#### EU").is_empty());
    // The setup guide's two parts.
    assert!(!broken("For Airbyte Cloud:", "For Cloud:").is_empty());
    assert!(!broken("For Airbyte Open Source:", "For OSS:").is_empty());
    // The changelog's table folded away, in that order.
    assert!(!broken("<details>\n", "").is_empty());
    assert!(!broken(
        "<summary>Expand to review</summary>",
        "<summary>More</summary>"
    )
    .is_empty());
    assert!(!broken("</details>\n", "").is_empty());
    // A link to a header that doesn't exist.
    assert_eq!(
        internal_link_errors(&format!("{GOOD}\nSee [it](#no-such-header).\n")).len(),
        1
    );

    // And the real page, with its last two sections swapped.
    let md = page();
    let at = md.find("\n## Changelog").expect("the page has a changelog");
    let limits = md
        .find("\n## Limitations & Troubleshooting")
        .expect("limitations");
    let swapped = format!("{}{}{}", &md[..limits], &md[at..], &md[limits..at]);
    let errors = structure_errors(&swapped);
    assert!(!errors.is_empty(), "a reordered page passes");
}

#[test]
fn github_anchors() {
    assert_eq!(github_anchor("Changelog"), "changelog");
    assert_eq!(
        github_anchor("Limitations & Troubleshooting"),
        "limitations--troubleshooting"
    );
    assert_eq!(
        github_anchor("Migration guide: attribute primary keys"),
        "migration-guide-attribute-primary-keys"
    );
    assert_eq!(github_anchor("Keyed by `full_name`"), "keyed-by-full_name");
    assert_eq!(
        anchors("# A\n## A\n### A\n"),
        ["a", "a-1", "a-2"].into_iter().map(String::from).collect()
    );
}

/// The stream table says what `discover` says. The expected keys come from discover
/// itself, so the table follows the code (`src/streams/mod.rs`).
#[test]
fn the_stream_table_is_discover_s() {
    let md = page();
    let catalog = discovered();
    let errors = stream_table_errors(&md, catalog);
    assert!(errors.is_empty(), "{PAGE}: {errors:#?}");
    // With a workspace's reporting datasets: the one row stands for them all.
    let env = Env::start();
    let cfg = env.config();
    let run = run_connector(&["discover", "--config", cfg.to_str().unwrap()], &[]);
    let with_reports = run.of_type("CATALOG")[0]["catalog"].clone();
    let reports = with_reports["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("report_")))
        .count();
    assert_eq!(reports, 3);
    let errors = stream_table_errors(&md, &with_reports);
    assert!(errors.is_empty(), "{PAGE}: {errors:#?}");
    let mut keyed = with_reports.clone();
    for s in keyed["streams"].as_array_mut().expect("streams") {
        if s["name"] == "report_ticket" {
            s["source_defined_primary_key"] = json!([["title"]]);
        }
    }
    let errors = stream_table_errors(&md, &keyed);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("report_ticket"), "{errors:#?}");

    // The check fails when discover says something else.
    let mut changed = catalog.clone();
    let streams = changed["streams"].as_array_mut().expect("streams");
    let i = streams
        .iter()
        .position(|s| s["name"] == "data_attributes")
        .expect("data_attributes");
    streams[i]["source_defined_primary_key"] = json!([["model"], ["name"]]);
    let j = streams
        .iter()
        .position(|s| s["name"] == "contacts")
        .expect("contacts");
    streams[j]["default_cursor_field"] = json!(["created_at"]);
    streams[j]["supported_sync_modes"] = json!(["full_refresh"]);
    streams.push(
        json!({"name": "notes", "supported_sync_modes": ["full_refresh"],
        "source_defined_primary_key": [["id"]]}),
    );
    let removed = streams.remove(0)["name"]
        .as_str()
        .expect("name")
        .to_string();
    let errors = stream_table_errors(&md, &changed);
    let about = |what: &str| errors.iter().filter(|e| e.contains(what)).count();
    assert_eq!(about("`data_attributes` primary key"), 1, "{errors:#?}");
    assert_eq!(about("`contacts` cursor field"), 1, "{errors:#?}");
    assert_eq!(about("`contacts` sync modes"), 1, "{errors:#?}");
    assert_eq!(about("`notes` is missing"), 1, "{errors:#?}");
    assert_eq!(
        about(&format!("`{removed}` is not a stream of discover")),
        1,
        "{errors:#?}"
    );
    assert_eq!(errors.len(), 5, "{errors:#?}");
}

/// The permission table has one row per stream of discover, and the report streams' row.
/// (Each row's permission is held to the stream declarations by a unit test, in
/// `src/streams/mod.rs`.)
#[test]
fn the_permission_table_names_every_stream_of_discover() {
    let table = table_in(&page(), "Prerequisites", &["Stream", "Permission"])
        .unwrap_or_else(|e| panic!("{PAGE}: {e}"));
    let mut documented: Vec<String> = table.rows.iter().map(|r| plain(&r[0])).collect();
    let mut discovered = all_stream_names();
    discovered.push(REPORTS_ROW.to_string());
    documented.sort();
    discovered.sort();
    assert_eq!(documented, discovered, "{PAGE}");
}

/// The changelog has an entry for the image's version, in Airbyte's format, and says
/// which primary keys changed.
#[test]
fn the_changelog_has_this_version_and_the_key_change() {
    let md = page();
    let version = metadata()["data"]["dockerImageTag"]
        .as_str()
        .expect("dockerImageTag")
        .to_string();
    let errors = changelog_errors(&md, &version);
    assert!(errors.is_empty(), "{PAGE}: {errors:#?}");
    let log = section(&md, "Changelog").expect("changelog");
    assert!(
        log.lines()
            .any(|l| l.contains("Breaking") && l.contains("`full_name`")),
        "the changelog notes the attribute streams' new primary key"
    );
    assert!(
        section(&md, "Migration guide: attribute primary keys")
            .is_some_and(|s| s.contains("Refresh")),
        "a migration guide tells users to refresh the attribute streams"
    );

    // The check fails what Airbyte's parser would refuse.
    let bad = |from: &str, to: &str| {
        assert!(md.contains(from), "{from}");
        changelog_errors(&md.replacen(from, to, 1), &version)
    };
    assert!(!changelog_errors(&md, "9.9.9").is_empty());
    assert!(!bad("| 0.1.0 | 2026-12-06", "| 0.1 | 2026-12-06").is_empty());
    assert!(!bad("| 2026-12-06 |", "| 2026-13-06 |").is_empty());
    assert!(!bad(
        "[17](https://github.com/source-intercom/source-intercom/pull/17)",
        "[17](https://github.com/source-intercom/source-intercom/pull/18)"
    )
    .is_empty());
    assert!(!bad(
        "[17](https://github.com/source-intercom/source-intercom/pull/17)",
        "#17"
    )
    .is_empty());
    assert!(!bad("\n\n| Version | Date", "\n| Version | Date").is_empty());
}

/// The spec's and metadata.yaml's links lead to the page and its changelog.
#[test]
fn spec_and_metadata_link_to_the_page() {
    let spec = spec();
    let page_url = format!("{REPOSITORY}/blob/main/{PAGE}");
    assert_eq!(spec["documentationUrl"], page_url.as_str());
    assert_eq!(
        spec["changelogUrl"],
        format!("{page_url}#changelog").as_str()
    );
    assert_eq!(metadata()["data"]["documentationUrl"], page_url.as_str());
    for url in [
        spec["documentationUrl"].as_str(),
        spec["changelogUrl"].as_str(),
        metadata()["data"]["documentationUrl"].as_str(),
    ] {
        let url = url.expect("a link");
        let errors = link_errors(url);
        assert!(errors.is_empty(), "{errors:?}");
    }
    // The check fails links that lead nowhere.
    assert_eq!(link_errors(&format!("{page_url}#nope")).len(), 1);
    assert_eq!(
        link_errors(&format!("{REPOSITORY}/blob/main/docs/nope.md")).len(),
        1
    );
    assert_eq!(
        link_errors(&format!("{REPOSITORY}/blob/main/docs/../Cargo.toml")).len(),
        1
    );
    assert_eq!(link_errors(&format!("{REPOSITORY}#readme")).len(), 1);
    assert_eq!(
        link_errors(&format!("{REPOSITORY}/blob/main/README.md")),
        Vec::<String>::new()
    );
}

/// The setup guide names the image and tag Airbyte needs, as metadata.yaml has them.
#[test]
fn the_setup_guide_names_the_image_of_metadata() {
    let md = page();
    let data = &metadata()["data"];
    let image = data["dockerRepository"].as_str().expect("dockerRepository");
    let tag = data["dockerImageTag"].as_str().expect("dockerImageTag");
    let setup = section(&md, "Setup guide").expect("setup guide");
    assert!(setup.contains(&format!("`{image}`")), "image name");
    assert!(setup.contains(&format!("tag `{tag}`")), "image tag");
    // Every image reference carries the same tag.
    for (i, _) in md.match_indices(&format!("{image}:")) {
        let rest = &md[i + image.len() + 1..];
        let t: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        assert_eq!(t, tag, "an image reference with tag {t}");
    }
    for (i, m) in md.match_indices("tag `") {
        let rest = &md[i + m.len()..];
        let t = &rest[..rest.find('`').unwrap_or(0)];
        assert!(t == tag || t == "latest", "tag `{t}`");
    }
}

/// The prerequisites name every field the spec requires (Airbyte's docs checker asks).
#[test]
fn the_prerequisites_name_the_required_fields() {
    let md = page();
    let prerequisites = section(&md, "Prerequisites").expect("prerequisites");
    let spec = spec();
    let required = spec["connectionSpecification"]["required"]
        .as_array()
        .expect("required fields");
    assert!(!required.is_empty());
    for f in required {
        let f = f.as_str().expect("a field name");
        assert!(
            prerequisites.contains(&format!("`{f}`")),
            "the prerequisites don't name `{f}`"
        );
    }
}

/// The data type map gives every JSON type the schemas use.
#[test]
fn the_data_type_map_covers_the_schemas() {
    fn types(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                match m.get("type") {
                    Some(Value::String(t)) => {
                        out.insert(t.clone());
                    }
                    Some(Value::Array(ts)) => {
                        out.extend(ts.iter().filter_map(Value::as_str).map(str::to_string));
                    }
                    _ => {}
                }
                m.values().for_each(|x| types(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| types(x, out)),
            _ => {}
        }
    }
    let mut used = BTreeSet::new();
    for s in discovered()["streams"].as_array().expect("streams") {
        types(&s["json_schema"], &mut used);
    }
    used.remove("null");
    let md = page();
    let table = table_in(
        &md,
        "Data type map",
        &["Intercom type", "JSON schema type", "Notes"],
    )
    .expect("a data type map");
    let mapped: BTreeSet<String> = table.rows.iter().map(|r| plain(&r[1])).collect();
    let missing: Vec<&String> = used.difference(&mapped).collect();
    assert!(missing.is_empty(), "the data type map lacks {missing:?}");
    let timestamp = table
        .rows
        .iter()
        .find(|r| r[0].starts_with("timestamp"))
        .expect("a row for timestamps");
    assert_eq!(plain(&timestamp[1]), "integer");
    assert!(timestamp[2].contains("Epoch seconds"));
}

/// The benchmark figures on the page are the README's (same scenario, same columns).
#[test]
fn the_benchmark_figures_are_the_readme_s() {
    let readme = read("README.md");
    let md = page();
    let ours = tables(section(&md, "Performance considerations").expect("performance"));
    let theirs = tables(section(&readme, "Performance").expect("README performance"));
    let mut compared = 0;
    for t in ours.iter().filter(|t| {
        matches!(
            t.header.first().map(String::as_str),
            Some("scenario" | "connector")
        )
    }) {
        let source = theirs
            .iter()
            .find(|r| r.header.first() == t.header.first())
            .unwrap_or_else(|| panic!("README has no table of {:?}", t.header[0]));
        for row in &t.rows {
            let theirs_row = source
                .rows
                .iter()
                .find(|r| r.first() == row.first())
                .unwrap_or_else(|| panic!("README has no row {:?}", row[0]));
            for (column, value) in t.header.iter().zip(row) {
                let i = source
                    .header
                    .iter()
                    .position(|h| h == column)
                    .unwrap_or_else(|| panic!("README has no column {column}"));
                assert_eq!(
                    value, &theirs_row[i],
                    "{}: {column} differs from the README's",
                    row[0]
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 50, "only {compared} figures compared");
}

#[test]
fn the_icon_is_a_square_self_contained_svg() {
    let meta = metadata();
    let icon = meta["data"]["icon"]
        .as_str()
        .expect("metadata.yaml names an icon");
    assert_eq!(icon, "icon.svg");
    let svg = read(icon);
    let errors = icon_errors(&svg);
    assert!(errors.is_empty(), "{icon}: {errors:?}");
    // The check fails what it should.
    assert!(!icon_errors(&svg.replacen("0 0 250 250", "0 0 250 200", 1)).is_empty());
    assert!(!icon_errors(&svg.replacen(
        "</svg>",
        "<image href=\"https://example.com/logo.png\"/></svg>",
        1
    ))
    .is_empty());
    assert!(!icon_errors("<png/>").is_empty());
}
