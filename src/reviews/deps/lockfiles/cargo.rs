//! `Cargo.lock`: TOML `[[package]]` tables whose first keys are
//! `name = "x"` and `version = "1.2.3"`.
//!
//! ```text
//!  [[package]]
//!  name = "serde_json"
//! -version = "1.0.113"
//! +version = "1.0.114"
//! ```
//!
//! The name is usually an unchanged context line. The file is not parsed as
//! TOML: a hunk is a fragment, so a line scanner pairs each `version` with
//! the `name` just above it in the same table. The lockfile's own
//! `version = 3` (unquoted, no name above it) is skipped. Two versions of one
//! crate are two tables and stay two entries.

use super::{Entry, quoted};

/// The `(name, version)` pairs one side of a hunk shows.
pub fn entries(lines: &[&str]) -> Vec<Entry> {
    toml_packages(lines)
}

/// Shared with `poetry.lock`, which has the same table shape.
pub(super) fn toml_packages(lines: &[&str]) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut name: Option<String> = None;
    for line in lines {
        let line = line.trim_end();
        if line.starts_with('[') {
            name = None;
        } else if let Some(rest) = line.strip_prefix("name = ") {
            name = quoted(rest).map(str::to_string).filter(|n| !n.is_empty());
        } else if let Some(rest) = line.strip_prefix("version = ")
            && let Some(version) = quoted(rest).filter(|v| !v.is_empty())
            && let Some(name) = name.take()
        {
            out.push((name, version.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::from_lockfile_patch;
    use super::super::test_util::tuples;
    use super::*;

    #[test]
    fn scans_tables() {
        let lines = [
            "version = 3",
            "",
            "[[package]]",
            "name = \"a\"",
            "version = \"1.0.0\"",
            "dependencies = [",
            " \"b\",",
            "]",
            "",
            "[[package]]",
            "version = \"9.9.9\"",
            "name = \"orphan\"",
        ];
        assert_eq!(
            entries(&lines),
            vec![("a".to_string(), "1.0.0".to_string())]
        );
    }

    #[test]
    fn version_bump_with_context_name() {
        let patch = "@@ -70,9 +70,9 @@ dependencies = [\n \n [[package]]\n name = \"serde_json\"\n-version = \"1.0.113\"\n+version = \"1.0.114\"\n source = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        assert_eq!(
            tuples(&from_lockfile_patch("Cargo.lock", patch)),
            vec![(
                "serde_json".into(),
                Some("1.0.113".into()),
                Some("1.0.114".into())
            )]
        );
    }

    #[test]
    fn interleaved_replacement_of_adjacent_tables() {
        // git may interleave two tables' lines when one replaces the other.
        let patch = "@@ -1,6 +1,6 @@\n [[package]]\n-name = \"ryu\"\n-version = \"1.0.23\"\n+name = \"memchr\"\n+version = \"2.8.3\"\n source = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        assert_eq!(
            tuples(&from_lockfile_patch("sub/Cargo.lock", patch)),
            vec![
                ("memchr".into(), None, Some("2.8.3".into())),
                ("ryu".into(), Some("1.0.23".into()), None),
            ]
        );
    }
}
