//! A project: a repository sessions work on, as the rest of the program sees it.
//!
//! `config::projects` reads and checks `[projects.NAME]`; this is what it hands on — the name,
//! where the repository is, which hosts may check it out, and the chats whose threads default
//! to it. Listing projects (`/projects`, the web console) needs nothing more.

use std::collections::BTreeMap;

use serde::Serialize;

use super::agent::{AgentKind, PermissionMode};
use super::thread::{Platform, ThreadRef};
use super::workspace::OpenPr;

/// One configured project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Project {
    /// The `NAME` of `[projects.NAME]`.
    pub name: String,
    /// The repository: an `https://` git URL or `owner/repo` on the configured GitHub App.
    pub repo: String,
    /// The branch new work starts from; `None` means the remote's HEAD.
    pub default_branch: Option<String>,
    /// The hosts the project may be checked out on, in the config's order.
    pub hosts: Vec<String>,
    /// A command run once in each new workspace of the project (`npm ci`); not listed.
    #[serde(skip)]
    pub setup: Option<String>,
    /// When its sessions open their pull request.
    #[serde(skip)]
    pub open_pr: OpenPr,
    /// The chats (Telegram chat ids, Slack and Discord channel ids) whose threads default to
    /// this project.
    #[serde(skip)]
    pub default_for: Vec<(Platform, String)>,
    /// The agent and model of its sessions; `None`: the host's or configured default.
    pub agent: Option<AgentKind>,
    pub model: Option<String>,
    /// What its sessions' agent may do unasked; `None`: the agent's configured mode.
    #[serde(skip)]
    pub permission_mode: Option<PermissionMode>,
    /// Environment for its sessions' agent (values may be secrets: never listed).
    #[serde(skip)]
    pub env: BTreeMap<String, String>,
}

impl Project {
    /// Whether threads of `thread`'s chat default to this project.
    pub fn is_default_for(&self, thread: &ThreadRef) -> bool {
        self.default_for
            .iter()
            .any(|(platform, chat)| *platform == thread.platform && *chat == thread.chat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_is_the_default_of_the_chats_it_claims_on_their_platform() {
        let project = Project {
            name: "web".into(),
            repo: "acme/web".into(),
            default_branch: None,
            hosts: vec!["local".into()],
            setup: None,
            open_pr: OpenPr::OnRequest,
            default_for: vec![(Platform::Telegram, "-100".into())],
            agent: None,
            model: None,
            permission_mode: None,
            env: BTreeMap::new(),
        };
        let thread = |platform, chat: &str| ThreadRef {
            platform,
            chat: chat.into(),
            topic: Some("7".into()),
        };
        assert!(project.is_default_for(&thread(Platform::Telegram, "-100")));
        assert!(!project.is_default_for(&thread(Platform::Slack, "-100")));
        assert!(!project.is_default_for(&thread(Platform::Telegram, "-200")));
    }
}
