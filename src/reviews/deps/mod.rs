//! What a dependency-update pull request changes.
//!
//! Dependabot and Renovate describe their pull requests twice: once in prose
//! (title and body, written for humans) and once in the lockfile diff (written
//! by the package manager). This module reads both and merges them into one
//! sorted list of [`DependencyChange`]s: package, ecosystem, old and new
//! version, direct or transitive.
//!
//! # Sources
//!
//! * [`dependabot`]: titles such as `Bump X from A to B in /dir`,
//!   `chore(deps): bump X from A to B`, `Update X requirement from ~>A to ~>B`
//!   and grouped titles (`Bump the cargo group with 3 updates`), whose bodies
//!   list `Updates \`X\` from A to B` lines, `| Package | From | To |` tables
//!   and bullets. The squash-commit form carries an `updated-dependencies:`
//!   YAML block whose `dependency-type` tells direct from indirect.
//! * [`renovate`]: the `This PR contains the following updates:` table. Its
//!   columns vary with the repository's configuration (Package, Type, Update,
//!   Change, Pending, Age, Adoption, Passing, Confidence), its cells are
//!   markdown (links, badges, backticks) and its arrows are `->` or `→`.
//!   Lock-file maintenance PRs have no Package column: their changes come from
//!   the lockfiles alone.
//! * [`lockfiles`]: the unified-diff hunks GitHub returns for `Cargo.lock`,
//!   `package-lock.json` (v1–v3), `yarn.lock` (v1 and berry), `go.sum` and
//!   `poetry.lock`, in any directory.
//!
//! # Why the parsing is lenient
//!
//! None of these formats is a contract. Bodies are prose that bots reword
//! between releases, get truncated at 65,536 characters, and are edited by
//! people; release notes quoted inside them are arbitrary third-party
//! markdown (and often mention *other* bumps). Patches are hunks cut out of
//! files, so a hunk may start in the middle of a lockfile entry. So every
//! parser here is a small hand-written scanner that takes what it recognises
//! and skips the rest: odd input yields fewer results, never an error or a
//! panic. The lockfile diff is the safety net when the prose says nothing
//! (lock-file maintenance, transitive updates); the prose wins when both
//! speak, because it names what the bot meant to change — except for the
//! version a package lands on, where the lockfile is what will be installed.
//!
//! # Merging
//!
//! [`changes`] keeps one entry per (ecosystem, package, old, new). When a
//! package appears both in the body and in a lockfile, the body's entry and
//! direct flag win, and the lockfile supplies the ecosystem if the body named
//! none. When the lockfile moves the package from the stated old version to a
//! different new one (the bot pushed a newer release onto the same PR and
//! left its title), the lockfile's new version replaces the stated one. A body change whose ecosystem is still unknown takes the ecosystem of
//! the PR's changed files when they all belong to one.

pub mod dependabot;
pub mod lockfiles;
mod markdown;
pub mod renovate;

use std::cmp::Ordering;
use std::collections::BTreeSet;

pub use dependabot::from_dependabot;
pub use lockfiles::from_lockfile_patch;
pub use renovate::from_renovate;

pub use crate::domain::review::{DependencyChange, Ecosystem};

/// A file of the pull request, as GitHub's "list pull request files" returns
/// it: `patch` holds unified-diff hunks without the `---`/`+++` header, and is
/// absent for binary or very large diffs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    pub filename: String,
    pub patch: Option<String>,
}

/// What the PR says and what its lockfiles show, merged: one entry per
/// (ecosystem, package, old, new), sorted.
pub fn changes(title: &str, body: &str, files: &[ChangedFile]) -> Vec<DependencyChange> {
    let mut stated = dependabot::from_dependabot(title, body);
    stated.extend(renovate::parse(title, body));
    let stated = normalize(stated);

    let mut locked: Vec<DependencyChange> = files
        .iter()
        .filter_map(|f| {
            f.patch
                .as_deref()
                .map(|p| lockfiles::from_lockfile_patch(&f.filename, p))
        })
        .flatten()
        .collect();

    let file_ecosystems: BTreeSet<Ecosystem> = files
        .iter()
        .filter_map(|f| Ecosystem::from_filename(&f.filename))
        .collect();
    let sole_ecosystem = match file_ecosystems.len() {
        1 => file_ecosystems.into_iter().next(),
        _ => None,
    };

    let mut merged = Vec::new();
    for mut change in stated {
        let same_package = |l: &DependencyChange| {
            l.package == change.package
                && (change.ecosystem.is_unknown() || l.ecosystem == change.ecosystem)
        };
        if change.ecosystem.is_unknown() {
            if let Some(l) = locked.iter().find(|l| same_package(l)) {
                change.ecosystem = l.ecosystem.clone();
            } else if let Some(eco) = &sole_ecosystem {
                change.ecosystem = eco.clone();
            }
        }
        // The lockfile is the ground truth for where a package lands: a PR
        // whose branch moved on (a newer release pushed onto the same PR)
        // keeps its old title, so a locked move from the same old version to
        // a different new one corrects the stated one.
        let in_lockfile =
            |l: &DependencyChange| l.package == change.package && l.ecosystem == change.ecosystem;
        let stated_target_locked = locked
            .iter()
            .any(|l| in_lockfile(l) && same_version(&l.new, &change.new));
        if !stated_target_locked
            && let Some(l) = locked
                .iter()
                .find(|l| in_lockfile(l) && l.old.is_some() && same_version(&l.old, &change.old))
        {
            change.new = l.new.clone();
        }
        // The lockfile entries that describe the same move are superseded by
        // the body; other versions of the package (a second copy deeper in the
        // tree) stay as their own entries.
        locked.retain(|l| {
            !(l.package == change.package
                && l.ecosystem == change.ecosystem
                && ((l.new.is_some() && same_version(&l.new, &change.new))
                    || (l.old.is_some() && same_version(&l.old, &change.old))))
        });
        merged.push(change);
    }
    merged.extend(locked);
    normalize(merged)
}

/// A stable fingerprint of a set of changes: FNV-1a 64 over the sorted,
/// deduplicated, JSON-serialized set, as 16 hex digits. Order-independent, so
/// a `synchronize` that leaves the dependency set alone keeps the fingerprint.
pub fn fingerprint(changes: &[DependencyChange]) -> String {
    let set = normalize(changes.to_vec());
    // Serializing plain strings, options and enums cannot fail; fall back to
    // Debug rather than panic all the same.
    let text = serde_json::to_string(&set).unwrap_or_else(|_| format!("{set:?}"));
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Sorts, and keeps one entry per (ecosystem, package, old, new). Entries that
/// differ only in `direct` collapse into one: a known flag beats `None`, and a
/// package that is direct anywhere counts as direct.
fn normalize(mut changes: Vec<DependencyChange>) -> Vec<DependencyChange> {
    changes.retain(|c| !c.package.is_empty() && (c.old.is_some() || c.new.is_some()));
    changes.retain(|c| c.old != c.new);
    changes.sort();
    let mut out: Vec<DependencyChange> = Vec::with_capacity(changes.len());
    for change in changes {
        if let Some(last) = out.last_mut()
            && last.ecosystem == change.ecosystem
            && last.package == change.package
            && last.old == change.old
            && last.new == change.new
        {
            last.direct = match (last.direct, change.direct) {
                (Some(a), Some(b)) => Some(a || b),
                (a, b) => a.or(b),
            };
            continue;
        }
        out.push(change);
    }
    out
}

/// Equal versions, ignoring a leading `v` (Dependabot writes Go versions
/// without it, `go.sum` with it).
fn same_version(a: &Option<String>, b: &Option<String>) -> bool {
    let strip = |v: &Option<String>| {
        v.as_deref()
            .map(|v| v.strip_prefix('v').unwrap_or(v).to_string())
    };
    strip(a) == strip(b)
}

/// Orders version strings the way people read them: runs of digits compare as
/// numbers, everything else as text (`1.10.0` > `1.9.3`, `v2` > `v1`).
pub(crate) fn version_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut digit = None;
        for (i, c) in s.char_indices() {
            let is_digit = c.is_ascii_digit();
            if digit != Some(is_digit) {
                if let Some(d) = digit {
                    out.push((d, &s[start..i]));
                }
                start = i;
                digit = Some(is_digit);
            }
        }
        if let Some(d) = digit {
            out.push((d, &s[start..]));
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(cb.iter()) {
        let ord = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(
        package: &str,
        eco: Ecosystem,
        old: Option<&str>,
        new: Option<&str>,
    ) -> DependencyChange {
        DependencyChange {
            package: package.into(),
            ecosystem: eco,
            old: old.map(Into::into),
            new: new.map(Into::into),
            direct: None,
        }
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(version_cmp("1.10.0", "1.9.3"), Ordering::Greater);
        assert_eq!(version_cmp("0.3.26", "0.3.17"), Ordering::Greater);
        assert_eq!(version_cmp("1.0.0", "1.0.0"), Ordering::Equal);
        assert_eq!(version_cmp("v1.2.0-rc1", "v1.2.0"), Ordering::Greater);
        assert_eq!(version_cmp("", "1"), Ordering::Less);
    }

    #[test]
    fn fingerprint_ignores_order_and_duplicates_but_not_content() {
        let a = change("serde", Ecosystem::Cargo, Some("1.0.1"), Some("1.0.2"));
        let b = change("ws", Ecosystem::Npm, Some("7.5.9"), Some("7.5.10"));
        let fp = fingerprint(&[a.clone(), b.clone()]);
        assert_eq!(fp.len(), 16);
        assert_eq!(fp, fingerprint(&[b.clone(), a.clone(), a.clone()]));
        let bumped = change("ws", Ecosystem::Npm, Some("7.5.9"), Some("7.5.11"));
        assert_ne!(fp, fingerprint(&[a.clone(), bumped]));
        assert_ne!(fp, fingerprint(&[a]));
        // The FNV-1a 64 offset basis is what an empty input hashes to; the
        // empty set serializes to "[]", so it must differ from that.
        assert_ne!(fingerprint(&[]), "cbf29ce484222325");
    }

    #[test]
    fn body_wins_over_lockfile_and_lends_it_the_ecosystem() {
        let files = [ChangedFile {
            filename: "web/package-lock.json".into(),
            patch: Some(
                "@@ -1,6 +1,6 @@\n     \"node_modules/ws\": {\n-      \"version\": \"7.5.9\",\n+      \"version\": \"7.5.10\",\n       \"dev\": true,\n     \"node_modules/x\": {\n-      \"version\": \"1.0.0\",\n+      \"version\": \"1.0.1\",\n"
                    .into(),
            ),
        }];
        let body = "Bumps [ws](https://github.com/websockets/ws) from 7.5.9 to 7.5.10.\n";
        let got = changes("Bump ws from 7.5.9 to 7.5.10 in /web", body, &files);
        assert_eq!(
            got,
            vec![
                change("ws", Ecosystem::Npm, Some("7.5.9"), Some("7.5.10")),
                change("x", Ecosystem::Npm, Some("1.0.0"), Some("1.0.1")),
            ]
        );
    }

    #[test]
    fn lockfile_corrects_a_stale_target_version() {
        // The branch moved on to 7.5.11 but the title still says 7.5.10.
        let files = [ChangedFile {
            filename: "package-lock.json".into(),
            patch: Some(
                "@@ -1,3 +1,3 @@\n     \"node_modules/ws\": {\n-      \"version\": \"7.5.9\",\n+      \"version\": \"7.5.11\",\n"
                    .into(),
            ),
        }];
        let got = changes("Bump ws from 7.5.9 to 7.5.10", "", &files);
        assert_eq!(
            got,
            vec![change("ws", Ecosystem::Npm, Some("7.5.9"), Some("7.5.11"))]
        );
    }

    #[test]
    fn unknown_body_ecosystem_falls_back_to_the_files() {
        let files = [ChangedFile {
            filename: "requirements.txt".into(),
            patch: Some("@@ -1 +1 @@\n-django==4.2.1\n+django==4.2.2\n".into()),
        }];
        let got = changes("Bump django from 4.2.1 to 4.2.2", "", &files);
        assert_eq!(
            got,
            vec![change(
                "django",
                Ecosystem::Python,
                Some("4.2.1"),
                Some("4.2.2")
            )]
        );
    }

    #[test]
    fn normalize_merges_direct_flags() {
        let mut a = change("qs", Ecosystem::Npm, Some("1"), Some("2"));
        let mut b = a.clone();
        a.direct = None;
        b.direct = Some(false);
        let mut c = a.clone();
        c.direct = Some(true);
        assert_eq!(normalize(vec![a.clone(), b.clone()])[0].direct, Some(false));
        assert_eq!(normalize(vec![b, c, a]).len(), 1);
    }
}
