//! Where a turn works when it is more than its session's folder: a Git checkout fetched before
//! the agent starts, and where its commits may be pushed after. Stored with the turn; prepared
//! and pushed by `runner::git`.

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
    /// The checkout's directory, relative to the host's workdir.
    pub dir: String,
    /// The credential the policy turns into a token for git (the token is never stored).
    pub credential: Credential,
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
