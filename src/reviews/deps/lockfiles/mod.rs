//! Lockfile diffs.
//!
//! GitHub's "list pull request files" gives each file's `patch`: unified-diff
//! hunks (`@@ -a,b +c,d @@` headers, then ` `, `-` and `+` lines) without the
//! `---`/`+++` header. A hunk is a window into the file, so it may begin in
//! the middle of an entry, and an entry's name is often an unchanged context
//! line above its changed version line.
//!
//! So every format is read the same way: each hunk is split into its *old
//! side* (context and `-` lines) and its *new side* (context and `+` lines);
//! a small per-format scanner lists the `(package, version)` entries each side
//! shows; entries present on both sides are unchanged context and cancel out;
//! what is left is removed (old side only) or added (new side only), and a
//! removed and an added version of the same package pair up into an update.
//! `go.sum` is the exception: its lines are independent facts, so only the
//! changed lines count (see [`gomod`]).
//!
//! Lockfile changes carry `direct: None`: a lockfile does not say which
//! entries the manifest names.

pub mod cargo;
pub mod gomod;
pub mod npm;
pub mod poetry;
pub mod yarn;

use std::collections::BTreeMap;

use super::{DependencyChange, Ecosystem, version_cmp};

/// A `(package, version)` entry seen in a lockfile.
pub(super) type Entry = (String, String);

/// Lists the entries one side of a hunk shows.
type Scanner = fn(&[&str]) -> Vec<Entry>;

/// The changes a lockfile patch shows, by file name (`Cargo.lock`,
/// `package-lock.json`, `npm-shrinkwrap.json`, `yarn.lock`, `go.sum`,
/// `poetry.lock`, in any directory). Other files give nothing.
pub fn from_lockfile_patch(filename: &str, patch: &str) -> Vec<DependencyChange> {
    let base = filename.rsplit('/').next().unwrap_or(filename);
    let (ecosystem, scan): (Ecosystem, Scanner) = match base {
        "Cargo.lock" => (Ecosystem::Cargo, cargo::entries),
        "package-lock.json" | "npm-shrinkwrap.json" => (Ecosystem::Npm, npm::entries),
        "yarn.lock" => (Ecosystem::Npm, yarn::entries),
        "poetry.lock" => (Ecosystem::Python, poetry::entries),
        "go.sum" => return gomod::changes(patch),
        _ => return Vec::new(),
    };
    let mut old = Vec::new();
    let mut new = Vec::new();
    for hunk in hunks(patch) {
        old.extend(scan(&hunk.old));
        new.extend(scan(&hunk.new));
    }
    let (removed, added) = difference(old, new);
    pair(ecosystem, removed, added)
}

/// One hunk, as the lines of its old and new side (markers stripped).
#[derive(Debug, Default, PartialEq)]
pub(super) struct Hunk<'a> {
    pub old: Vec<&'a str>,
    pub new: Vec<&'a str>,
    /// Only the `-` lines.
    pub removed: Vec<&'a str>,
    /// Only the `+` lines.
    pub added: Vec<&'a str>,
    /// Only the unchanged context lines.
    pub context: Vec<&'a str>,
}

/// Splits a patch into hunks. Anything before the first `@@` (a `git diff`
/// header) is skipped, as is a following file's `diff --git` header.
pub(super) fn hunks(patch: &str) -> Vec<Hunk<'_>> {
    let mut out: Vec<Hunk<'_>> = Vec::new();
    let mut in_hunk = false;
    for line in patch.lines() {
        if line.starts_with("@@") {
            out.push(Hunk::default());
            in_hunk = true;
            continue;
        }
        if line.starts_with("diff --git ") {
            in_hunk = false;
            continue;
        }
        let Some(hunk) = out.last_mut().filter(|_| in_hunk) else {
            continue;
        };
        if let Some(rest) = line.strip_prefix('-') {
            hunk.old.push(rest);
            hunk.removed.push(rest);
        } else if let Some(rest) = line.strip_prefix('+') {
            hunk.new.push(rest);
            hunk.added.push(rest);
        } else if line.starts_with('\\') {
            // "\ No newline at end of file"
        } else {
            // Context; GitHub drops the leading space of empty lines.
            let rest = line.strip_prefix(' ').unwrap_or(line);
            hunk.old.push(rest);
            hunk.new.push(rest);
            hunk.context.push(rest);
        }
    }
    out
}

/// Multiset difference: (in `old` but not `new`, in `new` but not `old`),
/// each deduplicated.
pub(super) fn difference(old: Vec<Entry>, new: Vec<Entry>) -> (Vec<Entry>, Vec<Entry>) {
    let mut count: BTreeMap<Entry, i64> = BTreeMap::new();
    for e in old {
        *count.entry(e).or_default() += 1;
    }
    for e in new {
        *count.entry(e).or_default() -= 1;
    }
    let removed = count
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(e, _)| e.clone())
        .collect();
    let added = count
        .iter()
        .filter(|(_, n)| **n < 0)
        .map(|(e, _)| e.clone())
        .collect();
    (removed, added)
}

/// Pairs removed and added versions of each package, lowest with lowest, into
/// updates; the rest are plain removals or additions.
pub(super) fn pair(
    ecosystem: Ecosystem,
    removed: Vec<Entry>,
    added: Vec<Entry>,
) -> Vec<DependencyChange> {
    let mut by_name: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for (name, version) in removed {
        by_name.entry(name).or_default().0.push(version);
    }
    for (name, version) in added {
        by_name.entry(name).or_default().1.push(version);
    }
    let mut out = Vec::new();
    for (package, (mut olds, mut news)) in by_name {
        olds.sort_by(|a, b| version_cmp(a, b));
        olds.dedup();
        news.sort_by(|a, b| version_cmp(a, b));
        news.dedup();
        let n = olds.len().max(news.len());
        for i in 0..n {
            out.push(DependencyChange {
                package: package.clone(),
                ecosystem: ecosystem.clone(),
                old: olds.get(i).cloned(),
                new: news.get(i).cloned(),
                direct: None,
            });
        }
    }
    out
}

/// The text between the first pair of double quotes in `s`.
pub(super) fn quoted(s: &str) -> Option<&str> {
    let start = s.find('"')? + 1;
    let len = s[start..].find('"')?;
    Some(&s[start..start + len])
}

#[cfg(test)]
pub(super) mod test_util {
    use super::DependencyChange;

    /// (package, old, new) of each change, for compact assertions.
    pub fn tuples(changes: &[DependencyChange]) -> Vec<(String, Option<String>, Option<String>)> {
        changes
            .iter()
            .map(|c| (c.package.clone(), c.old.clone(), c.new.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_split_sides_and_skip_headers() {
        let patch = "diff --git a/x b/x\nindex 1..2\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@ ctx\n a\n-b\n+c\n\n\\ No newline at end of file\n@@ -9 +9 @@\n-d\n";
        let hunks = hunks(patch);
        assert_eq!(hunks.len(), 2);
        assert_eq!(hunks[0].old, vec!["a", "b", ""]);
        assert_eq!(hunks[0].new, vec!["a", "c", ""]);
        assert_eq!(hunks[0].added, vec!["c"]);
        assert_eq!(hunks[1].removed, vec!["d"]);
        assert!(super::hunks("no hunks here\n-x\n+y").is_empty());
    }

    #[test]
    fn pairs_lowest_with_lowest_and_keeps_leftovers() {
        let e = |n: &str, v: &str| (n.to_string(), v.to_string());
        let got = pair(
            Ecosystem::Cargo,
            vec![e("a", "1.10.0"), e("a", "1.9.0"), e("gone", "1")],
            vec![e("a", "2.0.0"), e("new", "3")],
        );
        let got: Vec<_> = got
            .iter()
            .map(|c| (c.package.as_str(), c.old.as_deref(), c.new.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", Some("1.9.0"), Some("2.0.0")),
                ("a", Some("1.10.0"), None),
                ("gone", Some("1"), None),
                ("new", None, Some("3")),
            ]
        );
    }

    #[test]
    fn unknown_files_and_garbage_give_nothing() {
        assert!(from_lockfile_patch("README.md", "@@ -1 +1 @@\n-a\n+b").is_empty());
        for name in [
            "Cargo.lock",
            "a/package-lock.json",
            "yarn.lock",
            "go.sum",
            "poetry.lock",
        ] {
            for patch in [
                "",
                "@@",
                "@@\n+",
                "@@\n-\"\n+\"",
                "@@\n+name = \"x\n+version = \"",
                "garbage",
            ] {
                assert!(
                    from_lockfile_patch(name, patch).is_empty(),
                    "{name} {patch:?}"
                );
            }
        }
    }
}
