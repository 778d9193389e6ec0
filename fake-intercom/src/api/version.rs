//! The `Intercom-Version` header: which behaviours a request asked for.

/// Whether an `Intercom-Version` header value is at least `major.minor`.
/// `Unstable`/`Preview` count as newer than any number; a missing or
/// unparsable header means the app default (2.11 here).
pub(crate) fn version_at_least(version: Option<&str>, major: u32, minor: u32) -> bool {
    let v = version.map(str::trim).unwrap_or("2.11");
    if v.eq_ignore_ascii_case("unstable") || v.eq_ignore_ascii_case("preview") {
        return true;
    }
    let mut it = v.split('.');
    let ma = it.next().and_then(|s| s.parse::<u32>().ok());
    let mi = it.next().and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
    match ma {
        Some(ma) => (ma, mi) >= (major, minor),
        None => (2, 11) >= (major, minor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_comparison() {
        assert!(version_at_least(Some("2.16"), 2, 16));
        assert!(version_at_least(Some("2.17"), 2, 16));
        assert!(version_at_least(Some("3.0"), 2, 16));
        assert!(!version_at_least(Some("2.11"), 2, 16));
        assert!(!version_at_least(Some("2.9"), 2, 16));
        assert!(!version_at_least(None, 2, 16));
        assert!(version_at_least(Some("Unstable"), 2, 16));
        assert!(version_at_least(Some("Preview"), 2, 16));
        assert!(!version_at_least(Some("garbage"), 2, 16));
    }
}
