//! `yarn.lock`, classic (v1) and berry (v2+).
//!
//! Classic:
//!
//! ```text
//! "@types/ms@0.7.31", "@types/ms@^0.7.0":
//!   version "0.7.31"
//! ```
//!
//! Berry is YAML with `@npm:` in the specifiers and a colon after `version`:
//!
//! ```text
//! "braces@npm:^3.0.2":
//!   version: 3.0.3
//! ```
//!
//! An entry starts at an unindented line ending in `:`; its name is the
//! first specifier up to the `@` that starts the range (a leading `@` belongs
//! to a scope). `version` is the entry's first key at two spaces of
//! indentation; deeper lines (`dependencies:` lists) are never versions.
//! Berry's `__metadata` block and workspace entries (`demo@workspace:.`,
//! version `0.0.0-use.local`) are not packages.

use super::Entry;

/// The `(name, version)` pairs one side of a hunk shows.
pub fn entries(lines: &[&str]) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for line in lines {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            pending = line.strip_suffix(':').and_then(entry_name);
            continue;
        }
        let Some(key) = line.strip_prefix("  ").filter(|k| !k.starts_with(' ')) else {
            continue;
        };
        let Some(value) = key.strip_prefix("version") else {
            continue;
        };
        if !value.starts_with([' ', ':']) {
            continue; // a key such as "versionx"
        }
        let version = value.trim_start_matches(':').trim().trim_matches('"');
        if let Some(name) = pending.take()
            && !version.is_empty()
            && version != "0.0.0-use.local"
        {
            out.push((name, version.to_string()));
        }
    }
    out
}

/// The package name of an entry header (without its trailing colon).
fn entry_name(header: &str) -> Option<String> {
    let first = header.split(',').next()?.trim().trim_matches('"');
    let at = first.get(1..)?.find('@')? + 1;
    let (name, range) = (&first[..at], &first[at + 1..]);
    if name.is_empty()
        || name == "__metadata"
        || ["workspace:", "link:", "portal:", "file:"]
            .iter()
            .any(|p| range.starts_with(p))
    {
        return None;
    }
    Some(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(
            entry_name("braces@^3.0.2, braces@~3.0.2").as_deref(),
            Some("braces")
        );
        assert_eq!(
            entry_name("\"@types/ms@0.7.31\"").as_deref(),
            Some("@types/ms")
        );
        assert_eq!(
            entry_name("\"@types/ms@npm:0.7.31\"").as_deref(),
            Some("@types/ms")
        );
        assert_eq!(entry_name("\"demo@workspace:.\""), None);
        assert_eq!(entry_name("__metadata"), None);
        assert_eq!(entry_name("noversion"), None);
        assert_eq!(entry_name("@"), None);
        assert_eq!(entry_name(""), None);
    }

    #[test]
    fn only_the_entry_version_counts() {
        let lines = [
            "__metadata:",
            "  version: 10",
            "",
            "\"micromatch@npm:4.0.8\":",
            "  dependencies:",
            "    version: \"npm:^1\"",
            "  version: 4.0.8",
            "ms@2.1.3:",
            "  version \"2.1.3\"",
            "  version \"9.9.9\"",
            "  version: 7",
        ];
        assert_eq!(
            entries(&lines),
            vec![
                ("micromatch".to_string(), "4.0.8".to_string()),
                ("ms".to_string(), "2.1.3".to_string()),
            ]
        );
    }
}
