//! Where a turn works when it is more than its session's folder: a Git checkout fetched before
//! the agent starts, and where its commits may be pushed after. Stored with the turn; prepared
//! and pushed by `runner::git`.

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
    /// The checkout's directory, relative to the host's workdir.
    pub dir: String,
    /// The credential the policy turns into a token for git (never stored).
    pub credential: String,
    /// Where the agent's new commits are pushed (`None`: never pushed).
    pub push: Option<PushTarget>,
}

impl GitCheckout {
    /// The checkout's path on a host whose workdir is `workdir`.
    pub fn path_in(&self, workdir: &str) -> String {
        format!("{}/{}", workdir.trim_end_matches('/'), self.dir)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushTarget {
    pub url: String,
    pub branch: String,
}
