//! The facts a dependency review gathers on the host, in the checkout of the pull request's
//! head: which changes are direct dependencies (the manifests say), where the code uses the
//! changed packages (`git grep`), and which command runs the project's tests. Each is one quick
//! exec; the tests themselves run detached (see [`tests_run`](super::tests_run)).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Usage;
use super::deps::{ChangedFile, DependencyChange, Ecosystem};
use crate::runner::shell::{quote, quote_path};
use crate::runner::transport::{Transport, TransportError};

/// Usages listed at most (in the prompt and the review).
const MAX_USAGES: usize = 60;

/// Names under which code refers to a package (`tokio-util` is `tokio_util` in Rust code).
fn search_terms(change: &DependencyChange) -> Vec<String> {
    let mut terms = vec![change.package.clone()];
    if change.package.contains('-') {
        terms.push(change.package.replace('-', "_"));
    }
    terms
}

/// Finds where the checkout at `dir` uses the changed packages (manifests and lockfiles aside).
pub async fn find_usages(
    host: &dyn Transport,
    dir: &str,
    changes: &[DependencyChange],
) -> Result<Vec<Usage>, TransportError> {
    let terms: BTreeMap<String, String> = changes
        .iter()
        .flat_map(|c| {
            search_terms(c)
                .into_iter()
                .map(move |t| (t, c.package.clone()))
        })
        .collect();
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let patterns: Vec<String> = terms.keys().map(|t| format!("-e {}", quote(t))).collect();
    let excluded = [
        "*.lock",
        "package-lock.json",
        "yarn.lock",
        "go.sum",
        "go.mod",
        "Cargo.toml",
        "package.json",
        "pyproject.toml",
        "requirements*.txt",
    ];
    let excludes: Vec<String> = excluded
        .iter()
        .map(|p| quote(&format!(":(exclude,glob)**/{p}")))
        .collect();
    let script = format!(
        "cd {dir} && git grep -n -I -F -w {patterns} -- . {excludes} || true",
        dir = quote_path(dir),
        patterns = patterns.join(" "),
        excludes = excludes.join(" "),
    );
    let out = host.exec(&script, b"").await?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut usages = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(file), Some(number), Some(code)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(number) = number.parse() else {
            continue;
        };
        let Some(package) = terms
            .iter()
            .find(|(term, _)| code.contains(term.as_str()))
            .map(|(_, package)| package.clone())
        else {
            continue;
        };
        usages.push(Usage {
            package,
            file: file.to_owned(),
            line: number,
            text: code.trim().chars().take(160).collect(),
        });
        if usages.len() == MAX_USAGES {
            break;
        }
    }
    Ok(usages)
}

/// The repository's own test command, from `.switchboard.toml`'s `[review] test_command`.
#[derive(Deserialize)]
struct RepoConfig {
    review: Option<RepoReview>,
}

#[derive(Deserialize)]
struct RepoReview {
    test_command: Option<String>,
}

/// The project's test command: the repository's own (`.switchboard.toml`'s `[review]
/// test_command`) or its ecosystem's usual one; `None` when neither says.
pub async fn test_command(
    host: &dyn Transport,
    dir: &str,
) -> Result<Option<String>, TransportError> {
    let probe = format!(
        r#"cd {dir} || exit 0
if [ -f .switchboard.toml ]; then echo "--config"; cat .switchboard.toml; echo; echo "--end"; fi
for f in Cargo.toml package.json go.mod pyproject.toml setup.py; do [ -f "$f" ] && echo "file $f"; done; true"#,
        dir = quote_path(dir),
    );
    let text = host.exec(&probe, b"").await?.stdout_text();
    let configured = text
        .split_once("--config\n")
        .and_then(|(_, rest)| rest.split_once("\n--end"))
        .and_then(|(toml_text, _)| toml::from_str::<RepoConfig>(toml_text).ok())
        .and_then(|c| c.review)
        .and_then(|r| r.test_command);
    let has = |file: &str| text.lines().any(|l| l == format!("file {file}"));
    Ok(configured.or_else(|| {
        let detected = if has("Cargo.toml") {
            "cargo test --quiet"
        } else if has("package.json") {
            "npm test --silent"
        } else if has("go.mod") {
            "go test ./..."
        } else if has("pyproject.toml") || has("setup.py") {
            "python3 -m pytest -q"
        } else {
            return None;
        };
        Some(detected.to_owned())
    }))
}

/// The directories whose manifests describe a pull request's dependencies: those of its changed
/// manifests and lockfiles (`web/package-lock.json` → `web`), or the top level when it changed
/// none.
pub fn manifest_dirs(files: &[ChangedFile]) -> Vec<String> {
    let mut dirs: Vec<String> = files
        .iter()
        .filter(|f| Ecosystem::from_filename(&f.filename).is_some())
        .map(|f| match f.filename.rsplit_once('/') {
            Some((dir, _)) => dir.to_owned(),
            None => String::new(),
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    if dirs.is_empty() {
        dirs.push(String::new());
    }
    dirs
}

/// Settles `direct` for changes whose source did not say, from the manifests in `dirs` of the
/// checkout (see [`manifest_dirs`]): a package a manifest names is a direct dependency, any
/// other a transitive one.
pub async fn settle_direct(
    host: &dyn Transport,
    checkout: &str,
    dirs: &[String],
    changes: &mut [DependencyChange],
) -> Result<(), TransportError> {
    if changes.iter().all(|c| c.direct.is_some()) {
        return Ok(());
    }
    let dirs: Vec<String> = dirs
        .iter()
        .map(|d| quote(if d.is_empty() { "." } else { d }))
        .collect();
    // Each manifest is printed under a `--file NAME` line, NAME being its base name: which
    // directory it came from does not matter, only that one of them names the package.
    let script = format!(
        "cd {checkout} || exit 0; for d in {dirs}; do for f in package.json Cargo.toml go.mod pyproject.toml; do \
         [ -f \"$d/$f\" ] && {{ echo \"--file $f\"; cat \"$d/$f\"; echo; }}; done; done; true",
        checkout = quote_path(checkout),
        dirs = dirs.join(" "),
    );
    let text = host.exec(&script, b"").await?.stdout_text();
    let mut manifests: BTreeMap<&str, String> = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        if let Some(file) = line.strip_prefix("--file ") {
            current = Some(file);
            continue;
        }
        if let Some(file) = current {
            let content = manifests.entry(file).or_default();
            content.push_str(line);
            content.push('\n');
        }
    }
    for change in changes.iter_mut().filter(|c| c.direct.is_none()) {
        let named = |file: &str, pattern: &dyn Fn(&str) -> bool| {
            manifests.get(file).map(|text| text.lines().any(pattern))
        };
        let p = change.package.as_str();
        change.direct = match change.ecosystem {
            Ecosystem::Npm => named("package.json", &|l| {
                l.trim_start().starts_with(&format!("\"{p}\""))
            }),
            Ecosystem::Cargo => named("Cargo.toml", &|l| {
                let l = l.trim_start();
                l.starts_with(p) && l[p.len()..].trim_start().starts_with('=')
            }),
            Ecosystem::Go => named("go.mod", &|l| {
                l.split_whitespace().any(|w| w == p) && !l.contains("// indirect")
            }),
            Ecosystem::Python => named("pyproject.toml", &|l| l.contains(p)),
            Ecosystem::Other(_) => None,
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_read_where_the_pr_changed_them() {
        let file = |name: &str| ChangedFile {
            filename: name.into(),
            patch: None,
        };
        assert_eq!(
            manifest_dirs(&[
                file("web/package.json"),
                file("web/package-lock.json"),
                file("Cargo.lock"),
                file("web/src/index.js"),
            ]),
            vec![String::new(), "web".to_owned()]
        );
        assert_eq!(manifest_dirs(&[file("README.md")]), vec![String::new()]);
    }
}
