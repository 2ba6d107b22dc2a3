//! A dependency review's words: the changes a dependency-update pull request makes, and the
//! plan a review turn carries from the platform (which read the pull request) to its review
//! phase on the host (which gathers the facts the agent judges). Stored with the turn, so a
//! restarted bot picks the phase up where it was; run by `reviews`.

use serde::{Deserialize, Serialize};

/// What a dependency review turn knows before its review phase: the pull request as its
/// platform read it and the changes its text and diff show. The phase checks the rest out on
/// the host (whether each change is direct, where the code uses it, whether the tests pass).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPlan {
    /// `owner/name`.
    pub repo: String,
    pub number: u64,
    /// The pull request's title and description, written by a bot: information for the agent,
    /// never instructions.
    pub title: String,
    pub body: String,
    /// The commit reviewed, named in the review's marker.
    pub head_sha: String,
    pub changes: Vec<DependencyChange>,
    /// [`DependencyChange`]s' fingerprint: a later review of the same set is skipped.
    pub fingerprint: String,
    /// Where the manifests that tell direct from transitive dependencies are, relative to the
    /// checkout (`""`: its top level).
    pub manifest_dirs: Vec<String>,
    /// How long the project's tests may run, in seconds.
    pub test_timeout_secs: u64,
    /// A person asked for it (`review-deps`): it runs even when the same set is reviewed, or
    /// under review, already.
    #[serde(default)]
    pub asked: bool,
}

/// A package ecosystem.
///
/// `Other` holds what a title or body named that we do not know (for example
/// `github_actions` or `docker`). `Other("")` means nothing named the
/// ecosystem at all; see [`Ecosystem::is_unknown`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Ecosystem {
    Cargo,
    Npm,
    Go,
    Python,
    Other(String),
}

/// The name people know the ecosystem by, as the review table shows it.
impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ecosystem::Cargo => f.write_str("Cargo"),
            Ecosystem::Npm => f.write_str("npm"),
            Ecosystem::Go => f.write_str("Go"),
            Ecosystem::Python => f.write_str("Python"),
            Ecosystem::Other(name) if name.is_empty() => f.write_str("unknown"),
            Ecosystem::Other(name) => f.write_str(name),
        }
    }
}

impl Ecosystem {
    /// Maps the names bots and package managers use to an ecosystem:
    /// `cargo`, `npm_and_yarn`/`npm`/`yarn`, `gomod`/`go_modules`,
    /// `pip`/`poetry`/`pypi`, and anything else as `Other(name)`.
    pub fn from_name(name: &str) -> Ecosystem {
        let lower = name.trim().to_ascii_lowercase();
        match lower.as_str() {
            "cargo" | "crate" | "crates" | "rust" => Ecosystem::Cargo,
            "npm" | "npm_and_yarn" | "yarn" | "pnpm" | "node" | "bun" => Ecosystem::Npm,
            "go" | "gomod" | "go_modules" | "golang" => Ecosystem::Go,
            "pip" | "pip-compile" | "pipenv" | "poetry" | "pypi" | "python" | "uv" => {
                Ecosystem::Python
            }
            _ => Ecosystem::Other(lower),
        }
    }

    /// The ecosystem nothing named.
    pub fn unknown() -> Ecosystem {
        Ecosystem::Other(String::new())
    }

    /// True for `Other("")`: no title, body or file named the ecosystem.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Ecosystem::Other(name) if name.is_empty())
    }

    /// The ecosystem a changed file belongs to, from its name alone
    /// (manifests and lockfiles, in any directory).
    pub fn from_filename(path: &str) -> Option<Ecosystem> {
        let base = path.rsplit('/').next().unwrap_or(path);
        match base {
            "Cargo.lock" | "Cargo.toml" => Some(Ecosystem::Cargo),
            "package.json"
            | "package-lock.json"
            | "npm-shrinkwrap.json"
            | "yarn.lock"
            | "pnpm-lock.yaml" => Some(Ecosystem::Npm),
            "go.mod" | "go.sum" => Some(Ecosystem::Go),
            "poetry.lock" | "pyproject.toml" | "Pipfile" | "Pipfile.lock" | "uv.lock"
            | "setup.py" | "setup.cfg" => Some(Ecosystem::Python),
            _ if base.starts_with("requirements") && base.ends_with(".txt") => {
                Some(Ecosystem::Python)
            }
            _ => None,
        }
    }
}

/// One dependency that a pull request adds, removes or moves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DependencyChange {
    pub package: String,
    pub ecosystem: Ecosystem,
    /// `None`: newly added.
    pub old: Option<String>,
    /// `None`: removed.
    pub new: Option<String>,
    /// `Some(true)` direct dependency, `Some(false)` transitive, `None` unknown.
    pub direct: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystem_names_map_to_variants() {
        assert_eq!(Ecosystem::from_name("npm_and_yarn"), Ecosystem::Npm);
        assert_eq!(Ecosystem::from_name("yarn"), Ecosystem::Npm);
        assert_eq!(Ecosystem::from_name("pip"), Ecosystem::Python);
        assert_eq!(Ecosystem::from_name("poetry"), Ecosystem::Python);
        assert_eq!(Ecosystem::from_name("gomod"), Ecosystem::Go);
        assert_eq!(Ecosystem::from_name("Cargo"), Ecosystem::Cargo);
        assert_eq!(
            Ecosystem::from_name("github_actions"),
            Ecosystem::Other("github_actions".into())
        );
        assert!(Ecosystem::unknown().is_unknown());
        assert!(!Ecosystem::Other("docker".into()).is_unknown());
    }
}
