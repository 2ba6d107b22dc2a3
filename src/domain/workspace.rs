//! Where work happens on a host.
//!
//! A session owns a workspace from its first turn to its clean-up ([`SessionWorkspace`], stored
//! with the session): a directory of its own, or a `git worktree` of its project's shared clone
//! on a branch of its own — so two sessions never edit the same files. A turn may also bring a
//! checkout of its own ([`Workspace`], stored with the turn: a GitHub pull request's head),
//! fetched before the agent starts and pushed after it by `runner::git` — a worktree, too, of
//! the host's shared clone of its repository.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A place a turn works in that must be prepared before the agent starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Workspace {
    Git(GitCheckout),
}

/// A Git checkout on the host, fetched before the turn and optionally pushed after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitCheckout {
    pub clone_url: String,
    /// What to check out: `refs/pull/7/head`, or a branch name.
    pub fetch_ref: String,
    /// Also fetched, as `refs/switchboard/base-branch` (a pull request's base), if set.
    pub base_ref: Option<String>,
    /// The checkout's directory, relative to the host's workdir: `<key>/<name>`, where `key`
    /// names the repository's shared clone ([`clone_dir`]) and `name` (`pr-7`, `issue-3`) the
    /// checkout in it.
    pub dir: String,
    /// The credential the policy turns into a token for git (the token is never stored).
    pub credential: Credential,
    /// Where the agent's new commits are pushed (`None`: never pushed).
    pub push: Option<PushTarget>,
    /// A branch fetched instead of `fetch_ref` when the remote has it: a GitHub issue's branch,
    /// so a later mention continues where the last one's pull request left off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_ref: Option<String>,
    /// The pull request the pushed work is delivered as (a GitHub issue's): what the agent left
    /// uncommitted is committed for the person who asked, `push` pushes it, and the branch's
    /// pull request is opened or found. With `push` `None` (pushing is off) the answer says
    /// that no pull request was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<PullRequestPlan>,
}

impl GitCheckout {
    /// The checkout's path on a host whose workdir is `workdir`.
    pub fn path_in(&self, workdir: &str) -> String {
        format!("{}/{}", workdir.trim_end_matches('/'), self.dir)
    }

    /// The checkout's name in its clone: the last step of its directory (`pr-7`).
    pub fn name(&self) -> &str {
        self.dir.rsplit('/').next().unwrap_or(&self.dir)
    }

    /// The path of the shared clone it is a worktree of, on a host whose workdir is `workdir`:
    /// the clone of the key its directory is under (`github/octo/app/pr-7`: the clone of
    /// `github/octo/app`, which `/new octo/app` sessions on the host share too).
    pub fn clone_path_in(&self, workdir: &str) -> String {
        let key = self.dir.rsplit_once('/').map_or("", |(key, _)| key);
        format!("{}/{}", workdir.trim_end_matches('/'), clone_dir(key))
    }

    /// Where its refs live in the shared clone, apart from other checkouts': under
    /// `refs/switchboard/checkouts/<name>/` (`fetched`, `base`, `base-branch`).
    pub fn refs_prefix(&self) -> String {
        format!("refs/switchboard/checkouts/{}", self.name())
    }

    /// The ref `base_ref` is fetched as (a pull request's base branch), for the agent to diff
    /// against.
    pub fn base_branch_ref(&self) -> String {
        format!("{}/base-branch", self.refs_prefix())
    }

    /// The local branch its worktree is on.
    pub fn local_branch(&self) -> String {
        format!("switchboard/{}", self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushTarget {
    pub url: String,
    pub branch: String,
}

/// A pull request to open from a checkout's pushed branch, planned when the turn is prepared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestPlan {
    /// `owner/repo`.
    pub repo: String,
    /// The branch it merges into (the repository's default branch).
    pub base: String,
    pub title: String,
    /// Its description (for an issue, with `Fixes #N`).
    pub body: String,
    /// Who uncommitted work is committed as: the person who asked.
    pub author_name: String,
    pub author_email: String,
}

/// Which secret a checkout is fetched and pushed with: named here, made fresh by the platform's
/// policy when the turn starts (a token outlives no turn, and is never stored).
///
/// Stored as text inside the turn's workspace (`installation:42`), the form turns stored before
/// this type existed already hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Credential {
    /// A GitHub App installation's access token (the installation id).
    GitHubInstallation(u64),
}

const GITHUB_INSTALLATION: &str = "installation:";

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::GitHubInstallation(id) => write!(f, "{GITHUB_INSTALLATION}{id}"),
        }
    }
}

impl FromStr for Credential {
    type Err = String;

    fn from_str(text: &str) -> Result<Credential, String> {
        text.strip_prefix(GITHUB_INSTALLATION)
            .and_then(|id| id.parse().ok())
            .map(Credential::GitHubInstallation)
            .ok_or_else(|| format!("unknown credential {text:?}"))
    }
}

super::stored_as_text!(Credential);

/// The workspace a session owns on its host; its directory is the session's `workdir`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionWorkspace {
    /// A directory of its own (`<host workdir>/scratch/<session>`), for a session without a
    /// project: nothing is prepared in it.
    Scratch,
    /// A worktree of a project's shared clone on the host, on a branch of its own.
    Worktree(ProjectWorktree),
}

/// A session's worktree: `<host workdir>/projects/<key>/ws/<session>` on `branch`, a worktree
/// of the bare clone `<host workdir>/projects/<key>/clone` that every session of the project on
/// that host shares (the objects are fetched once per host, the files are the session's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectWorktree {
    /// The project's name, or `owner/repo` for one named in `/new`.
    pub project: String,
    /// `owner/repo` on the GitHub App, or an `https://` git URL.
    pub repo: String,
    /// The branch the work starts from; `None`: the remote's default branch.
    pub base: Option<String>,
    /// The session's own branch, e.g. `switchboard/3fa9c2d81b04`.
    pub branch: String,
    /// The shared clone's directory, relative to the host's workdir.
    pub clone_dir: String,
    /// A command run once in the new worktree before its first turn (`npm ci`), from the config.
    pub setup: Option<String>,
    /// When the branch is pushed and its pull request opened.
    #[serde(default)]
    pub open_pr: OpenPr,
}

/// When a project's sessions deliver their work as a pull request (`[projects.NAME] open_pr`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenPr {
    /// When someone asks (`/pr`).
    #[default]
    OnRequest,
    /// After every turn that changed files, too.
    Always,
}

impl ProjectWorktree {
    /// The shared clone's path on a host whose workdir is `workdir`.
    pub fn clone_path_in(&self, workdir: &str) -> String {
        format!("{}/{}", workdir.trim_end_matches('/'), self.clone_dir)
    }
}

/// Where the project `key` (a project name, or `github/owner/repo`) lives under a host's
/// workdir.
pub fn project_dir(key: &str) -> String {
    format!("projects/{key}")
}

/// The key of the GitHub repository `owner/repo`: `github/owner/repo`.
pub fn github_repo_key(repo: &str) -> String {
    format!("github/{repo}")
}

/// The shared bare clone of the project or repository `key`, under a host's workdir.
pub fn clone_dir(key: &str) -> String {
    format!("{}/clone", project_dir(key))
}

/// A session's directory under a host's workdir: its project's `ws/<session>`, or
/// `scratch/<session>` without a project.
pub fn session_dir(project_key: Option<&str>, session: &str) -> String {
    match project_key {
        Some(key) => format!("{}/ws/{session}", project_dir(key)),
        None => format!("scratch/{session}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_is_stored_as_the_text_turns_already_hold() {
        let credential = Credential::GitHubInstallation(42);
        assert_eq!(credential.to_string(), "installation:42");
        assert_eq!(
            serde_json::to_value(credential).unwrap(),
            serde_json::json!("installation:42")
        );
        assert_eq!("installation:42".parse(), Ok(credential));
        for unknown in ["installation:", "installation:x", "token:42", ""] {
            assert!(unknown.parse::<Credential>().is_err(), "{unknown}");
        }
    }

    /// A workspace stored with a turn before the credential had a type still reads.
    #[test]
    fn a_workspace_stored_before_reads() {
        let stored = r#"{"Git":{"clone_url":"https://github.com/octo/app.git",
            "fetch_ref":"refs/pull/7/head","base_ref":"refs/heads/main",
            "dir":"github/octo/app/pr-7","credential":"installation:42",
            "push":{"url":"https://github.com/fork/app.git","branch":"feature"}}}"#;
        let Workspace::Git(checkout) = serde_json::from_str(stored).unwrap();
        assert_eq!(checkout.credential, Credential::GitHubInstallation(42));
        let again = serde_json::to_string(&Workspace::Git(checkout.clone())).unwrap();
        assert_eq!(
            serde_json::from_str::<Workspace>(&again).unwrap(),
            Workspace::Git(checkout)
        );
        assert!(
            again.contains(r#""credential":"installation:42""#),
            "{again}"
        );
    }
}
