//! Dependabot titles and bodies.
//!
//! Shapes recognised (from real PRs, see `tests/fixtures/deps/README.md`):
//!
//! * titles: `Bump X from A to B`, `Bump X from A to B in /dir`, with any
//!   conventional prefix (`chore(deps): bump …`, `build(deps-dev): Bump …`,
//!   `[Security] Bump …`), and `Update X requirement from ~>A to ~>B`;
//!   grouped titles (`Bump the cargo group with 3 updates`) carry no versions;
//! * single-update bodies: `Bumps [X](url) from A to B.`;
//! * grouped bodies: `Updates \`X\` from A to B` paragraphs, `Removes \`X\``,
//!   the `| Package | From | To |` table (where `removed` marks a removal),
//!   and bullet lists (`- X from A to B`);
//! * the `updated-dependencies:` YAML block of Dependabot's commit messages,
//!   whose `dependency-type` (`direct:production`, `direct:development`,
//!   `indirect`) is the only reliable direct/transitive signal.
//!
//! Everything inside `<details>` (release notes, changelogs, commit lists) is
//! ignored: upstream changelogs routinely quote their own Dependabot bumps.
//!
//! The ecosystem comes from the compatibility badge's `package-manager=`
//! parameter, from a group named after an ecosystem (`the npm_and_yarn
//! group`), from `dependency-group:`, or from the package name's shape
//! (`@scope/x` is npm, `golang.org/x/net` is Go); otherwise it is left
//! unknown for [`super::changes`] to fill in from the lockfiles.

use std::collections::BTreeMap;

use super::markdown::{
    clean, is_separator_row, outside_details, package_name, table_cells, word_at,
};
use super::{DependencyChange, Ecosystem};

/// The changes a Dependabot title and body state. Versions are as written
/// (`1.2.3`, `~> 1.2`, `>=2,<3`); a package with no ecosystem hint gets
/// `Ecosystem::unknown()`.
pub fn from_dependabot(title: &str, body: &str) -> Vec<DependencyChange> {
    let mut found: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    found.extend(title_change(title));

    let lines = outside_details(body);
    let mut table: Option<TableColumns> = None;
    for line in &lines {
        let trimmed = line.trim();
        if let Some(cells) = table_cells(trimmed) {
            if let Some(columns) = TableColumns::from_header(&cells) {
                table = Some(columns);
            } else if let Some(columns) = &table
                && !is_separator_row(&cells)
                && let Some(change) = columns.row(&cells)
            {
                found.push(change);
            }
            continue;
        }
        table = None;
        found.extend(prose_change(trimmed));
    }

    let metadata = metadata(&lines);
    for (name, meta) in &metadata {
        if !found.iter().any(|(p, _, _)| p == name) && meta.version.is_some() {
            found.push((name.clone(), None, meta.version.clone()));
        }
    }

    let hint = ecosystem_hint(title, &lines);
    let mut out: Vec<DependencyChange> = found
        .into_iter()
        .filter(|(p, old, new)| !p.is_empty() && (old.is_some() || new.is_some()))
        .map(|(package, old, new)| DependencyChange {
            ecosystem: hint
                .clone()
                .or_else(|| ecosystem_from_package(&package))
                .unwrap_or_else(Ecosystem::unknown),
            direct: metadata.get(&package).and_then(|m| m.direct),
            package,
            old,
            new,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

type Found = (String, Option<String>, Option<String>);

/// `Bump X from A to B [in /dir]` or `Update X requirement from A to B`,
/// anywhere after a conventional-commit or `[Security]` prefix.
fn title_change(title: &str) -> Option<Found> {
    let lower = title.to_ascii_lowercase();
    if let Some(at) = word_at(&lower, "bump ") {
        let rest = &title[at + "bump ".len()..];
        if rest.to_ascii_lowercase().starts_with("the ") {
            return None; // a group: the body lists the updates
        }
        return from_to(rest);
    }
    if let Some(at) = word_at(&lower, "update ") {
        let rest = &title[at + "update ".len()..];
        let rest_lower = rest.to_ascii_lowercase();
        let cut = rest_lower.find(" requirement from ")?;
        let name = package_name(&rest[..cut]);
        let (_, old, new) = from_to(&format!("x{}", &rest[cut + " requirement".len()..]))?;
        return Some((name, old, new));
    }
    None
}

/// One line of body prose.
fn prose_change(line: &str) -> Option<Found> {
    let (line, bullet) = match line.strip_prefix(['-', '*', '+']) {
        Some(rest) if rest.starts_with(' ') => (rest.trim(), true),
        _ => (line, false),
    };
    let lower = line.to_ascii_lowercase();
    if let Some(rest) = strip_word(line, &lower, "bumps ") {
        if rest.to_ascii_lowercase().starts_with("the ") {
            return None; // "Bumps the npm_and_yarn group with 5 updates …"
        }
        return from_to(rest);
    }
    if let Some(rest) = strip_word(line, &lower, "updates ") {
        if rest.to_ascii_lowercase().starts_with("the requirements") {
            return None;
        }
        if let Some(change) = from_to(rest) {
            return Some(change);
        }
        // "Updates `X` to B": a requirement update; the old version is unknown.
        let rest_lower = rest.to_ascii_lowercase();
        let cut = rest_lower.find(" to ")?;
        let name = package_name(&rest[..cut]);
        let new = version_token(&rest[cut + " to ".len()..])?;
        return (!name.contains(' ')).then_some((name, None, Some(new)));
    }
    if bullet {
        return from_to(line);
    }
    None
}

/// `X from A to B…` → (X, A, B), where X may be a link or a code span and B
/// ends at the first whitespace (after an operator such as `~>`).
fn from_to(text: &str) -> Option<Found> {
    let lower = text.to_ascii_lowercase();
    let from = lower.find(" from ")?;
    let to = from + " from ".len() + lower[from + " from ".len()..].find(" to ")?;
    let name = package_name(&text[..from]);
    // Package names have no spaces; prose such as "the fix from 1 to 2" is
    // not a package.
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let old = strip_removed(&text[from + " from ".len()..to]);
    let new = version_token(&text[to + " to ".len()..]).and_then(|v| strip_removed(&v));
    Some((name, old, new))
}

/// The version at the start of `text`: one whitespace-separated token (two
/// when the first is a bare operator like `~>`), without trailing punctuation.
fn version_token(text: &str) -> Option<String> {
    let mut words = text.split_whitespace();
    let mut token = words.next()?.to_string();
    if token.chars().all(|c| "~><=!^".contains(c))
        && let Some(next) = words.next()
    {
        token = format!("{token} {next}");
    }
    let token = clean(&token);
    let token = token
        .trim_end_matches(['.', ',', ';', ':', ')'])
        .to_string();
    let token = clean(&token);
    (!token.is_empty()).then_some(token)
}

fn strip_removed(version: &str) -> Option<String> {
    let v = clean(version);
    (!v.is_empty() && !v.eq_ignore_ascii_case("removed")).then_some(v)
}

/// `line` without a leading `word` (matched case-insensitively).
fn strip_word<'a>(line: &'a str, lower: &str, word: &str) -> Option<&'a str> {
    lower.starts_with(word).then(|| &line[word.len()..])
}

/// Columns of a `| Package | From | To |` table.
struct TableColumns {
    package: usize,
    from: usize,
    to: usize,
}

impl TableColumns {
    fn from_header(cells: &[String]) -> Option<TableColumns> {
        let find = |names: &[&str]| {
            cells
                .iter()
                .position(|c| names.contains(&c.to_ascii_lowercase().as_str()))
        };
        Some(TableColumns {
            package: find(&["package", "dependency", "dependency name"])?,
            from: find(&["from"])?,
            to: find(&["to"])?,
        })
    }

    fn row(&self, cells: &[String]) -> Option<Found> {
        let name = package_name(cells.get(self.package)?);
        let old = strip_removed(cells.get(self.from)?);
        let new = strip_removed(cells.get(self.to)?);
        (!name.is_empty()).then_some((name, old, new))
    }
}

#[derive(Default)]
struct Metadata {
    direct: Option<bool>,
    version: Option<String>,
}

/// The `updated-dependencies:` block of Dependabot commit messages:
/// `- dependency-name: X` then indented `dependency-type:` and
/// `dependency-version:` keys.
fn metadata(lines: &[&str]) -> BTreeMap<String, Metadata> {
    let mut out: BTreeMap<String, Metadata> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in lines {
        let line = line.trim();
        let line = line.strip_prefix("- ").unwrap_or(line).trim();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().trim_matches(['\'', '"']).trim();
        match key.trim() {
            "dependency-name" if !value.is_empty() => {
                out.entry(value.to_string()).or_default();
                current = Some(value.to_string());
            }
            "dependency-type" => {
                if let Some(entry) = current.as_ref().and_then(|n| out.get_mut(n)) {
                    entry.direct = if value.starts_with("direct") {
                        Some(true)
                    } else if value == "indirect" {
                        Some(false)
                    } else {
                        None
                    };
                }
            }
            "dependency-version" if !value.is_empty() => {
                if let Some(entry) = current.as_ref().and_then(|n| out.get_mut(n)) {
                    entry.version = Some(value.to_string());
                }
            }
            _ => {}
        }
    }
    out
}

/// Dependabot's ecosystem ids that are not one of our variants.
const OTHER_ECOSYSTEMS: &[&str] = &[
    "bundler",
    "composer",
    "devcontainers",
    "docker",
    "docker_compose",
    "elm",
    "github_actions",
    "gitsubmodule",
    "gradle",
    "helm",
    "hex",
    "maven",
    "mix",
    "nuget",
    "pub",
    "swift",
    "terraform",
    "uv",
];

fn ecosystem_id(name: &str) -> Option<Ecosystem> {
    match Ecosystem::from_name(name) {
        Ecosystem::Other(other) if OTHER_ECOSYSTEMS.contains(&other.as_str()) => {
            Some(Ecosystem::Other(other))
        }
        Ecosystem::Other(_) => None,
        known => Some(known),
    }
}

fn ecosystem_hint(title: &str, lines: &[&str]) -> Option<Ecosystem> {
    // The compatibility badge names the package manager outright.
    for line in lines {
        if let Some(at) = line.find("package-manager=") {
            let rest = &line[at + "package-manager=".len()..];
            let end = rest.find(['&', ')', '"', ' ']).unwrap_or(rest.len());
            if let Some(eco) = ecosystem_id(&rest[..end]) {
                return Some(eco);
            }
        }
    }
    // Groups and security groups are often named after the ecosystem.
    let group_name = |text: &str| -> Option<Ecosystem> {
        let lower = text.to_ascii_lowercase();
        let at = lower.find("the ")?;
        let rest = &lower[at + 4..];
        let name = rest.split_whitespace().next()?;
        rest[name.len()..]
            .trim_start()
            .starts_with("group")
            .then(|| ecosystem_id(name))
            .flatten()
    };
    if let Some(eco) = group_name(title) {
        return Some(eco);
    }
    for line in lines {
        if let Some(eco) = line
            .trim()
            .strip_prefix("dependency-group:")
            .and_then(|g| ecosystem_id(g.trim()))
        {
            return Some(eco);
        }
        if line.trim_start().starts_with("Bumps the ")
            && let Some(eco) = group_name(line)
        {
            return Some(eco);
        }
    }
    None
}

/// What a package's name alone gives away.
fn ecosystem_from_package(name: &str) -> Option<Ecosystem> {
    if name.starts_with('@') && name.contains('/') {
        return Some(Ecosystem::Npm);
    }
    let first = name.split('/').next()?;
    if name.contains('/') && first.contains('.') && !first.starts_with('.') {
        return Some(Ecosystem::Go);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(p: &str, e: Ecosystem, old: Option<&str>, new: Option<&str>) -> DependencyChange {
        DependencyChange {
            package: p.into(),
            ecosystem: e,
            old: old.map(Into::into),
            new: new.map(Into::into),
            direct: None,
        }
    }

    #[test]
    fn title_shapes() {
        for (title, want) in [
            (
                "Bump serde from 1.0.1 to 1.0.2",
                ("serde", "1.0.1", "1.0.2"),
            ),
            (
                "Bump ws from 7.5.9 to 7.5.10 in /frontend",
                ("ws", "7.5.9", "7.5.10"),
            ),
            (
                "chore(deps): bump lodash from 4.17.20 to 4.17.21",
                ("lodash", "4.17.20", "4.17.21"),
            ),
            (
                "build(deps-dev): Bump @types/node from 20.1.0 to 20.2.0 in /web",
                ("@types/node", "20.1.0", "20.2.0"),
            ),
            (
                "[Security] Bump rack from 2.0.1 to 2.0.8",
                ("rack", "2.0.1", "2.0.8"),
            ),
            (
                "Update rubocop requirement from ~> 1.2 to ~> 1.3",
                ("rubocop", "~> 1.2", "~> 1.3"),
            ),
            (
                "Update pytest requirement from >=7,<8 to >=7,<9",
                ("pytest", ">=7,<8", ">=7,<9"),
            ),
        ] {
            let got = title_change(title).unwrap_or_else(|| panic!("{title}"));
            assert_eq!(
                (got.0.as_str(), got.1.as_deref(), got.2.as_deref()),
                (want.0, Some(want.1), Some(want.2)),
                "{title}"
            );
        }
        assert_eq!(title_change("Bump the cargo group with 3 updates"), None);
        assert_eq!(title_change("Bumpy road from a to b"), None);
        assert_eq!(title_change("Fix the bump from 1 to 2 handling"), None);
    }

    #[test]
    fn single_body_with_badge_names_the_ecosystem() {
        let body = "Bumps [serde_json](https://github.com/serde-rs/json) from 1.0.113 to 1.0.114.\n\
            <details>\n<summary>Commits</summary>\n<li>Bump foo from 1 to 2</li>\n</details>\n\
            [![Dependabot compatibility score](https://x/badges/compatibility_score?dependency-name=serde_json&package-manager=cargo&previous-version=1.0.113&new-version=1.0.114)](https://docs)\n";
        assert_eq!(
            from_dependabot("Bump serde_json from 1.0.113 to 1.0.114", body),
            vec![c(
                "serde_json",
                Ecosystem::Cargo,
                Some("1.0.113"),
                Some("1.0.114")
            )]
        );
    }

    #[test]
    fn grouped_body_with_table_removal_and_group_ecosystem() {
        let body = "Bumps the npm_and_yarn group with 2 updates in the / directory:\n\n\
            | Package | From | To |\n| --- | --- | --- |\n\
            | [braces](https://github.com/micromatch/braces) | `3.0.2` | `3.0.3` |\n\
            | [tar](https://github.com/isaacs/node-tar) | `6.1.15` | `removed` |\n\n\
            Updates `braces` from 3.0.2 to 3.0.3\n\nRemoves `tar`\n";
        assert_eq!(
            from_dependabot(
                "Bump the npm_and_yarn group across 1 directory with 2 updates",
                body
            ),
            vec![
                c("braces", Ecosystem::Npm, Some("3.0.2"), Some("3.0.3")),
                c("tar", Ecosystem::Npm, Some("6.1.15"), None),
            ]
        );
    }

    #[test]
    fn metadata_sets_direct_and_bullets_parse() {
        let body = "Bumps the deps group with 2 updates: a and b.\n\
            - a from 1.0 to 1.1\n* `b` from 2 to 3\n\
            ---\nupdated-dependencies:\n- dependency-name: a\n  dependency-version: '1.1'\n  dependency-type: direct:production\n\
            - dependency-name: b\n  dependency-type: indirect\n- dependency-name: c\n  dependency-version: 9.0.0\n  dependency-type: direct:development\n...\n";
        let got = from_dependabot("Bump the deps group with 2 updates", body);
        let direct: Vec<_> = got.iter().map(|x| (x.package.as_str(), x.direct)).collect();
        assert_eq!(
            direct,
            vec![("a", Some(true)), ("b", Some(false)), ("c", Some(true))]
        );
        assert_eq!(got[2].old, None);
        assert_eq!(got[2].new.as_deref(), Some("9.0.0"));
        assert!(got.iter().all(|x| x.ecosystem.is_unknown()));
    }

    #[test]
    fn requirement_updates_and_name_shapes() {
        let body = "Updates the requirements on [actix-web](https://x) to permit the latest version.\nUpdates `actix-web` to 4.5.1\n";
        let got = from_dependabot("", body);
        assert_eq!(
            got,
            vec![c("actix-web", Ecosystem::unknown(), None, Some("4.5.1"))]
        );
        let got = from_dependabot("Bump golang.org/x/net from 0.7.0 to 0.8.0", "");
        assert_eq!(got[0].ecosystem, Ecosystem::Go);
        let got = from_dependabot("Bump actions/checkout from 3 to 4", "");
        assert!(got[0].ecosystem.is_unknown());
        let got = from_dependabot(
            "Bump actions/checkout from 3 to 4",
            "package-manager=github_actions&x",
        );
        assert_eq!(got[0].ecosystem, Ecosystem::Other("github_actions".into()));
    }

    #[test]
    fn odd_input_gives_nothing_and_no_panic() {
        for text in [
            "",
            "Bump",
            "bump  from  to ",
            "Bumps [x](y) from",
            "Updates `x` to",
            "| Package | From | To |\n| a |",
            "- dependency-name:\n  dependency-type: direct",
            "Bump ünïcödé from ① to ②",
            "Bump the ",
        ] {
            let _ = from_dependabot(text, text);
        }
        assert!(from_dependabot("Bumps [x](y) from", "Updates `x` to").is_empty());
    }
}
