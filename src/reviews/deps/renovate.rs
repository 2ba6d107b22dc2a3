//! Renovate bodies.
//!
//! Renovate opens every PR with
//!
//! ```text
//! This PR contains the following updates:
//!
//! | Package | Type | Update | Change |
//! |---|---|---|---|
//! | [url](https://…) | workspace.dependencies | patch | `2.5.4` -> `2.5.7` |
//! ```
//!
//! The columns are configurable (`prBodyColumns`: Package, Type, Update,
//! Change, Pending, Age, Adoption, Passing, Confidence, Current value, New
//! value…), so they are found by header name, never by position. Package
//! cells are links, sometimes followed by `([source](…))`; Change cells are
//! `` `A` -> `B` ``, `` `A` → `B` `` (newer Renovate) or a link around the
//! whole thing (`` [`^1.2.3` -> `^1.3.0`](https://renovatebot.com/diffs/…) ``).
//! Lock-file maintenance PRs have an `| Update | Change |` table whose one row
//! reads `lockFileMaintenance | All locks refreshed`: they state no package,
//! and their changes come from the lockfiles.
//!
//! The Type column names the manifest section (`dependencies`,
//! `devDependencies`, `require-dev`, `dev-dependencies`,
//! `workspace.dependencies`…): Renovate only edits what a manifest declares,
//! so such a row is a direct dependency. The ecosystem comes from the
//! Merge Confidence badge or diff links (`/npm/`, `/crate/`, `/go/`,
//! `/pypi/`), else the Type column, else the title (`Update Rust crate …`,
//! `Update module …`).

use super::markdown::{
    clean, is_separator_row, leading_link_label, outside_details, package_name, table_cells,
    word_at,
};
use super::{DependencyChange, Ecosystem};

/// The changes a Renovate body's updates table states.
pub fn from_renovate(body: &str) -> Vec<DependencyChange> {
    parse("", body)
}

/// [`from_renovate`], with the title as an ecosystem hint and as a fallback
/// when the body has no updates table at all (a truncated or edited body).
pub(super) fn parse(title: &str, body: &str) -> Vec<DependencyChange> {
    let lines = outside_details(body);
    let title_eco = ecosystem_from_title(title);
    let mut out = Vec::new();
    let Some(table) = updates_table(&lines) else {
        out.extend(title_fallback(title, title_eco));
        return out;
    };
    for row in &table.rows {
        let cell = |col: Option<usize>| col.and_then(|i| row.cells.get(i)).map(String::as_str);
        if cell(table.update).is_some_and(|u| u.eq_ignore_ascii_case("lockFileMaintenance")) {
            continue;
        }
        let Some(package) = cell(table.package).map(package_name) else {
            continue;
        };
        if package.is_empty() {
            continue;
        }
        let (old, new) = match (cell(table.change), cell(table.current), cell(table.new)) {
            (Some(change), _, _) => match arrow_pair(change) {
                Some(pair) => pair,
                None => continue,
            },
            (None, current, new) => (
                current.map(clean).filter(|v| !v.is_empty()),
                new.map(clean).filter(|v| !v.is_empty()),
            ),
        };
        if old.is_none() && new.is_none() {
            continue;
        }
        let kind = cell(table.kind).map(clean);
        let ecosystem = ecosystem_from_links(row.raw)
            .or_else(|| kind.as_deref().and_then(ecosystem_from_type))
            .or_else(|| title_eco.clone())
            .unwrap_or_else(Ecosystem::unknown);
        out.push(DependencyChange {
            package,
            ecosystem,
            old,
            new,
            direct: kind.as_deref().and_then(direct_from_type),
        });
    }
    out.sort();
    out.dedup();
    out
}

struct Row<'a> {
    raw: &'a str,
    cells: Vec<String>,
}

struct Table<'a> {
    package: Option<usize>,
    kind: Option<usize>,
    update: Option<usize>,
    change: Option<usize>,
    current: Option<usize>,
    new: Option<usize>,
    rows: Vec<Row<'a>>,
}

/// The first table after "This PR contains the following updates:", or, in
/// a body without that sentence, the first table with Package and Change
/// columns.
fn updates_table<'a>(lines: &[&'a str]) -> Option<Table<'a>> {
    let marker = lines.iter().position(|l| {
        l.to_ascii_lowercase()
            .contains("this pr contains the following updates")
    });
    let mut i = marker.unwrap_or(0);
    while i < lines.len() {
        let Some(header) = table_cells(lines[i]) else {
            i += 1;
            continue;
        };
        let names: Vec<String> = header
            .iter()
            .map(|c| package_name(c).to_ascii_lowercase())
            .collect();
        let col = |wanted: &[&str]| names.iter().position(|n| wanted.contains(&n.as_str()));
        let mut table = Table {
            package: col(&["package", "dependency", "package name"]),
            kind: col(&["type", "dependency type"]),
            update: col(&["update", "update type"]),
            change: col(&["change"]),
            current: col(&["current value", "current version"]),
            new: col(&["new value", "new version"]),
            rows: Vec::new(),
        };
        let usable = table.change.is_some() || table.current.is_some() || table.new.is_some();
        i += 1;
        let mut rows = Vec::new();
        while let Some(cells) = lines.get(i).and_then(|l| table_cells(l)) {
            if !is_separator_row(&cells) {
                rows.push(Row {
                    raw: lines[i],
                    cells,
                });
            }
            i += 1;
        }
        if usable && (marker.is_some() || table.package.is_some()) {
            table.rows = rows;
            return Some(table);
        }
        if marker.is_some() {
            // The first table after the marker is the updates table, even
            // when it is not one we can read.
            return None;
        }
    }
    None
}

/// `` `A` -> `B` ``, `A → B`, or either wrapped in a link.
fn arrow_pair(cell: &str) -> Option<(Option<String>, Option<String>)> {
    let cell = cell.trim();
    let text = match leading_link_label(cell) {
        Some(label) if label.contains("->") || label.contains('→') => label,
        _ => cell,
    };
    let (left, right) = text.split_once("->").or_else(|| text.split_once('→'))?;
    let old = clean(left);
    let new = clean(right.split(" (").next().unwrap_or(right));
    let some = |v: String| (!v.is_empty()).then_some(v);
    Some((some(old), some(new)))
}

fn direct_from_type(kind: &str) -> Option<bool> {
    let lower = kind.to_ascii_lowercase();
    (lower.ends_with("dependencies")
        || lower.ends_with("-dependencies")
        || matches!(
            lower.as_str(),
            "require" | "require-dev" | "dev" | "devdeps"
        ))
    .then_some(true)
}

fn ecosystem_from_type(kind: &str) -> Option<Ecosystem> {
    let lower = kind.to_ascii_lowercase();
    if lower.contains("poetry") || lower.starts_with("project.") || lower == "dependency-groups" {
        return Some(Ecosystem::Python);
    }
    if matches!(
        kind,
        "devDependencies"
            | "peerDependencies"
            | "optionalDependencies"
            | "engines"
            | "packageManager"
    ) {
        return Some(Ecosystem::Npm);
    }
    if lower.starts_with("workspace.")
        || lower == "dev-dependencies"
        || lower == "build-dependencies"
        || lower.starts_with("target.")
    {
        return Some(Ecosystem::Cargo);
    }
    if matches!(lower.as_str(), "require" | "require-dev") {
        return Some(Ecosystem::Other("composer".into()));
    }
    if lower == "action" {
        return Some(Ecosystem::Other("github-actions".into()));
    }
    None
}

/// Renovate's diff links and Merge Confidence badges embed the datasource:
/// `renovatebot.com/diffs/npm/…`, `…/badges/age/crate/…`.
fn ecosystem_from_links(row: &str) -> Option<Ecosystem> {
    for (needle, eco) in [
        ("/npm/", Ecosystem::Npm),
        ("/crate/", Ecosystem::Cargo),
        ("/go/", Ecosystem::Go),
        ("/pypi/", Ecosystem::Python),
    ] {
        if row.contains(&format!("renovatebot.com/diffs{needle}"))
            || row.contains(&format!("/badges/age{needle}"))
            || row.contains(&format!("/badges/confidence{needle}"))
        {
            return Some(eco);
        }
    }
    None
}

fn ecosystem_from_title(title: &str) -> Option<Ecosystem> {
    let lower = title.to_ascii_lowercase();
    if lower.contains("rust crate") {
        Some(Ecosystem::Cargo)
    } else if word_at(&lower, "module ").is_some() && lower.contains("update") {
        Some(Ecosystem::Go)
    } else if lower.contains("npm ") || lower.contains(" npm") {
        Some(Ecosystem::Npm)
    } else {
        None
    }
}

/// `Update Rust crate url to v2.5.7` and friends, for a body without a table:
/// the new version only.
fn title_fallback(title: &str, eco: Option<Ecosystem>) -> Option<DependencyChange> {
    let lower = title.to_ascii_lowercase();
    if lower.contains("lock file maintenance") {
        return None;
    }
    let at = word_at(&lower, "update ")?;
    let mut rest = &title[at + "update ".len()..];
    for prefix in [
        "rust crate ",
        "module ",
        "dependency ",
        "docker tag ",
        "github action ",
        "github-actions action ",
    ] {
        if rest.to_ascii_lowercase().starts_with(prefix) {
            rest = &rest[prefix.len()..];
            break;
        }
    }
    let rest_lower = rest.to_ascii_lowercase();
    let cut = rest_lower.rfind(" to ")?;
    let package = clean(&rest[..cut]);
    if package.is_empty() || package.contains(char::is_whitespace) {
        return None; // "all non-major dependencies", "react monorepo"…
    }
    let version = rest[cut + " to ".len()..].split_whitespace().next()?;
    let keep_v = eco == Some(Ecosystem::Go);
    let version = match version.strip_prefix('v') {
        Some(v) if !keep_v && v.starts_with(|c: char| c.is_ascii_digit()) => v,
        _ => version,
    };
    Some(DependencyChange {
        package,
        ecosystem: eco.unwrap_or_else(Ecosystem::unknown),
        old: None,
        new: Some(clean(version)),
        direct: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(p: &str, e: Ecosystem, old: &str, new: &str, direct: Option<bool>) -> DependencyChange {
        DependencyChange {
            package: p.into(),
            ecosystem: e,
            old: Some(old.into()),
            new: Some(new.into()),
            direct,
        }
    }

    #[test]
    fn change_cells() {
        let pair = |s| arrow_pair(s).map(|(a, b)| (a.unwrap_or_default(), b.unwrap_or_default()));
        assert_eq!(
            pair("`1.2.3` -> `1.3.0`"),
            Some(("1.2.3".into(), "1.3.0".into()))
        );
        assert_eq!(
            pair("`^1.2.3` → `^1.3.0`"),
            Some(("^1.2.3".into(), "^1.3.0".into()))
        );
        assert_eq!(
            pair("[`^1.2.3` -> `^1.3.0`](https://renovatebot.com/diffs/npm/x/1.2.3/1.3.0)"),
            Some(("^1.2.3".into(), "^1.3.0".into()))
        );
        assert_eq!(
            pair("1.53.0 -> 1.54.0"),
            Some(("1.53.0".into(), "1.54.0".into()))
        );
        assert_eq!(pair("All locks refreshed"), None);
        assert_eq!(pair(""), None);
    }

    #[test]
    fn typed_table_with_links() {
        let body = "This PR contains the following updates:\n\n\
            | Package | Type | Update | Change |\n|---|---|---|---|\n\
            | [url](https://redirect.github.com/servo/rust-url) | workspace.dependencies | patch | `2.5.4` -> `2.5.7` |\n\
            | [koa](https://github.com/koajs/koa) | dependencies | pin | [`^1.7.0` -> `1.7.0`](https://renovatebot.com/diffs/npm/koa/1.7.0/1.7.0) |\n\
            | [actions/setup-java](https://x) | action | major | `v4.8.0` → `v5.2.0` |\n\n---\n";
        assert_eq!(
            from_renovate(body),
            vec![
                c(
                    "actions/setup-java",
                    Ecosystem::Other("github-actions".into()),
                    "v4.8.0",
                    "v5.2.0",
                    None
                ),
                c("koa", Ecosystem::Npm, "^1.7.0", "1.7.0", Some(true)),
                c("url", Ecosystem::Cargo, "2.5.4", "2.5.7", Some(true)),
            ]
        );
    }

    #[test]
    fn lock_file_maintenance_states_nothing() {
        let body = "This PR contains the following updates:\n\n| Update | Change |\n|---|---|\n\
            | lockFileMaintenance | All locks refreshed |\n\n🔧 This Pull Request updates lock files to use the latest dependency versions.\n";
        assert!(from_renovate(body).is_empty());
        assert!(parse("chore(deps): lock file maintenance", body).is_empty());
        assert!(parse("chore(deps): lock file maintenance", "").is_empty());
    }

    #[test]
    fn only_the_updates_table_counts() {
        // A release-notes table later in the body must not be read.
        let body = "This PR contains the following updates:\n\n| Package | Change |\n|---|---|\n\
            | [semgrep](https://x) | 1.53.0 -> 1.54.0 |\n\n### Release Notes\n\n\
            | Package | Change |\n|---|---|\n| other | 1 -> 2 |\n";
        let got = parse("Update module github.com/x/y to v1.54.0", body);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].package, "semgrep");
        assert_eq!(got[0].ecosystem, Ecosystem::Go);
        assert_eq!(got[0].direct, None);
    }

    #[test]
    fn title_fallback_without_a_table() {
        let got = parse("Update Rust crate url to v2.5.7", "");
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].package.as_str(), got[0].new.as_deref()),
            ("url", Some("2.5.7"))
        );
        assert_eq!(got[0].ecosystem, Ecosystem::Cargo);
        let got = parse(
            "fix(deps): update module github.com/apache/arrow-go/v18 to v18.5.2",
            "",
        );
        assert_eq!(got[0].new.as_deref(), Some("v18.5.2"));
        assert!(parse("Update all non-major dependencies to v2", "").is_empty());
        assert!(parse("Update react monorepo to v19", "").is_empty());
    }

    #[test]
    fn odd_input_gives_nothing_and_no_panic() {
        for body in [
            "",
            "This PR contains the following updates:",
            "This PR contains the following updates:\n| Package |\n|---|\n| x |",
            "This PR contains the following updates:\n| Package | Change |\n| [x | ->",
            "| Package | Change |\n|---|---|\n| → | → |",
            "This PR contains the following updates:\n| Package | Change |\n|---|---|\n| ü | `ä` → |",
        ] {
            let _ = parse("Update", body);
        }
        assert!(from_renovate("| Package | Change |\n|---|---|\n| → | → |").is_empty());
    }
}
