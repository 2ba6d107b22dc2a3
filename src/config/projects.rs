//! The `[projects.NAME]` sections: the repositories sessions work on.
//!
//! A project names a repository — an `https://` git URL, or `owner/repo` on the configured
//! GitHub App — the hosts it may be checked out on, and the chats whose threads default to it.
//! Each session of a project works in a worktree of the project's shared clone on its host, and
//! the project's `setup` command runs once in each new one. Its agent settings (`agent`,
//! `model`, `permission_mode`, `env`) choose and shape the agent of its sessions.
//!
//! A repository URL never carries credentials: the fetch uses the platform's credential the way
//! `runner::git` does, so a URL with a user or password, or a scheme other than `https`, is
//! refused rather than trusted. A chat may default to one project only, or a thread in it would
//! not know which one it is about.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Result, bail};
use serde::Deserialize;

use super::agents::{PermissionMode, validate_env};
use crate::domain::agent::AgentKind;
use crate::domain::project::Project;
use crate::domain::thread::Platform;
use crate::domain::workspace::OpenPr;

/// Longest project name.
const MAX_NAME: usize = 40;

/// One `[projects.NAME]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// `https://…` git URL (no credentials in it), or `owner/repo` on the configured GitHub App.
    /// Required.
    pub repo: String,
    /// The branch new work starts from. Default: the remote's HEAD.
    #[serde(default)]
    pub default_branch: Option<String>,
    /// The one host the project is checked out on. Default: `defaults.host`.
    #[serde(default)]
    pub host: Option<String>,
    /// The hosts the project may be checked out on (instead of `host`). Default: none.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// A command run once in each new workspace, e.g. `npm ci`. Default: none.
    #[serde(default)]
    pub setup: Option<String>,
    /// `on_request` (`/pr`) or `always`: also after every turn that changed files. Default
    /// `on_request`.
    #[serde(default)]
    pub open_pr: OpenPr,
    /// The agent of the project's sessions. Default: `defaults.agent`.
    #[serde(default)]
    pub agent: Option<AgentKind>,
    /// The model of the project's sessions. Default: `agents.AGENT.model`.
    #[serde(default)]
    pub model: Option<String>,
    /// What the agent may do unasked in the project's sessions (each agent maps it to its own
    /// flags). Default: `agents.AGENT.permission_mode`.
    #[serde(default)]
    pub permission_mode: Option<PermissionMode>,
    /// Environment for the agent in the project's sessions (merged over the agent's). Default:
    /// none.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Telegram chat ids whose threads default to this project. Default: none.
    #[serde(default)]
    pub telegram_chats: Vec<i64>,
    /// Slack channel ids (`C…`) whose threads default to this project. Default: none.
    #[serde(default)]
    pub slack_channels: Vec<String>,
    /// Discord channel ids whose threads default to this project. Default: none.
    #[serde(default)]
    pub discord_channels: Vec<String>,
}

impl ProjectConfig {
    /// The project's own rules; `hosts` are the configured host names and `github_app` whether
    /// the GitHub App is on.
    pub(super) fn validate(&self, name: &str, hosts: &[String], github_app: bool) -> Result<()> {
        let key = format!("projects.{name}");
        if name.is_empty()
            || name.len() > MAX_NAME
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            bail!(
                "[{key}]: a project name is 1 to {MAX_NAME} letters, digits, '-' or '_' \
                 (it is typed in commands)"
            );
        }
        validate_repo(&key, &self.repo, github_app)?;
        if self.default_branch.as_deref().is_some_and(str::is_empty) {
            bail!("{key}.default_branch is empty; leave it out to use the remote's HEAD");
        }
        if self.host.is_some() && !self.hosts.is_empty() {
            bail!("{key}: set host or hosts, not both");
        }
        for host in self.host.iter().chain(&self.hosts) {
            if !hosts.contains(host) {
                bail!(
                    "{key}: host {host:?} has no [hosts.{host}] section; the hosts are: {}",
                    hosts.join(", ")
                );
            }
        }
        validate_env(&format!("{key}.env"), &self.env)
    }

    /// The chats this project claims, each with the key that claims it.
    fn claims(&self) -> impl Iterator<Item = (Platform, String, &'static str)> + '_ {
        let telegram = self
            .telegram_chats
            .iter()
            .map(|chat| (Platform::Telegram, chat.to_string(), "telegram_chats"));
        let slack = self
            .slack_channels
            .iter()
            .map(|c| (Platform::Slack, c.clone(), "slack_channels"));
        let discord = self
            .discord_channels
            .iter()
            .map(|c| (Platform::Discord, c.clone(), "discord_channels"));
        telegram.chain(slack).chain(discord)
    }

    /// The project as the rest of the program sees it; without `host` or `hosts` it is on
    /// `default_host`.
    fn project(&self, name: &str, default_host: &str) -> Project {
        let hosts = match (&self.host, self.hosts.is_empty()) {
            (Some(host), _) => vec![host.clone()],
            (None, false) => self.hosts.clone(),
            (None, true) => vec![default_host.to_owned()],
        };
        Project {
            name: name.to_owned(),
            repo: self.repo.clone(),
            default_branch: self.default_branch.clone(),
            hosts,
            setup: self.setup.clone(),
            open_pr: self.open_pr,
            default_for: self
                .claims()
                .map(|(platform, chat, _)| (platform, chat))
                .collect(),
            agent: self.agent,
            model: self.model.clone(),
            permission_mode: self.permission_mode,
            env: self.env.clone(),
        }
    }
}

/// `owner/repo` (on the GitHub App, which must be on), or an `https://` URL without
/// credentials.
fn validate_repo(key: &str, repo: &str, github_app: bool) -> Result<()> {
    if repo.contains("://") {
        let Ok(url) = url::Url::parse(repo) else {
            bail!("{key}.repo {repo:?} is not a valid URL");
        };
        if url.scheme() != "https" {
            bail!(
                "{key}.repo must be an https:// URL or owner/repo (got a {}: URL); the \
                 platform's credential is used for the fetch",
                url.scheme()
            );
        }
        if !url.username().is_empty() || url.password().is_some() {
            bail!(
                "{key}.repo must not carry a user or password: credentials never go in the \
                 config; the GitHub App's installation token is used for the fetch"
            );
        }
        if url.host().is_none() {
            bail!("{key}.repo {repo:?} has no host");
        }
        return Ok(());
    }
    let segment = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repo.split_once('/') {
        Some((owner, name)) if segment(owner) && segment(name) => {
            if !github_app {
                bail!(
                    "{key}.repo is {repo:?}, a repository on GitHub, but github.app_id is not \
                     set; configure the GitHub App or give an https:// URL"
                );
            }
            Ok(())
        }
        _ => bail!("{key}.repo must be an https:// git URL or owner/repo (got {repo:?})"),
    }
}

/// Rules across projects: a chat defaults to one project at most.
pub(super) fn validate_claims(projects: &BTreeMap<String, ProjectConfig>) -> Result<()> {
    let mut claimed: HashMap<(Platform, String), &str> = HashMap::new();
    for (name, project) in projects {
        for (platform, chat, key) in project.claims() {
            if let Some(other) = claimed.insert((platform, chat.clone()), name) {
                bail!(
                    "projects.{name}.{key}: {chat} is already the chat of [projects.{other}]; a \
                     chat defaults to one project only"
                );
            }
        }
    }
    Ok(())
}

/// Every project, by name, as the rest of the program sees them.
pub(super) fn projects(
    projects: &BTreeMap<String, ProjectConfig>,
    default_host: &str,
) -> Vec<Project> {
    projects
        .iter()
        .map(|(name, project)| project.project(name, default_host))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(repo: &str) -> ProjectConfig {
        ProjectConfig {
            repo: repo.to_owned(),
            ..ProjectConfig::default()
        }
    }

    fn hosts() -> Vec<String> {
        vec!["local".to_owned(), "devbox".to_owned()]
    }

    fn error(project: &ProjectConfig, name: &str, github_app: bool) -> String {
        format!(
            "{:#}",
            project.validate(name, &hosts(), github_app).unwrap_err()
        )
    }

    #[test]
    fn names_are_short_and_typeable() {
        let ok = project("https://git.example.com/web.git");
        ok.validate("web_2-b", &hosts(), false).unwrap();
        for name in ["", "a b", "wéb", "a/b", &"x".repeat(41)] {
            let err = error(&ok, name, false);
            assert!(err.contains("a project name is 1 to 40"), "{name:?}: {err}");
        }
    }

    #[test]
    fn repositories_are_https_urls_without_credentials_or_owner_repo_on_the_app() {
        for repo in ["acme/web", "acme/web.rs", "https://git.example.com/a/b.git"] {
            project(repo).validate("p", &hosts(), true).unwrap();
        }
        let cases = [
            ("acme/web", false, "projects.p.repo is \"acme/web\""),
            ("acme/web", false, "github.app_id is not set"),
            (
                "https://x:tok@github.com/a/b",
                true,
                "must not carry a user",
            ),
            ("https://tok@github.com/a/b", true, "must not carry a user"),
            ("http://github.com/a/b", true, "got a http: URL"),
            ("ssh://git@github.com/a/b", true, "got a ssh: URL"),
            ("file:///srv/repo", true, "got a file: URL"),
            (
                "git@github.com:a/b",
                true,
                "must be an https:// git URL or owner/repo",
            ),
            ("acme", true, "must be an https:// git URL or owner/repo"),
            ("a/b/c", true, "must be an https:// git URL or owner/repo"),
            ("../b", true, "must be an https:// git URL or owner/repo"),
            ("", true, "must be an https:// git URL or owner/repo"),
        ];
        for (repo, app, expected) in cases {
            let err = error(&project(repo), "p", app);
            assert!(err.contains(expected), "{repo:?}: {err}");
        }
    }

    #[test]
    fn hosts_and_env_are_checked() {
        let base = project("acme/web");
        let cases = [
            (
                ProjectConfig {
                    host: Some("local".into()),
                    hosts: vec!["devbox".into()],
                    ..base.clone()
                },
                "projects.p: set host or hosts, not both",
            ),
            (
                ProjectConfig {
                    hosts: vec!["devbox".into(), "gpu".into()],
                    ..base.clone()
                },
                "projects.p: host \"gpu\" has no [hosts.gpu] section",
            ),
            (
                ProjectConfig {
                    env: BTreeMap::from([("A-B".to_owned(), "1".to_owned())]),
                    ..base.clone()
                },
                "projects.p.env: \"A-B\" is not a valid environment variable name",
            ),
            (
                ProjectConfig {
                    default_branch: Some(String::new()),
                    ..base.clone()
                },
                "projects.p.default_branch is empty",
            ),
        ];
        for (config, expected) in cases {
            let err = error(&config, "p", true);
            assert!(err.contains(expected), "{err}");
        }
    }

    #[test]
    fn a_chat_defaults_to_one_project_and_a_project_without_hosts_is_on_the_default_one() {
        let web = ProjectConfig {
            telegram_chats: vec![-100],
            slack_channels: vec!["C1".into()],
            ..project("acme/web")
        };
        let api = ProjectConfig {
            hosts: vec!["devbox".into(), "local".into()],
            discord_channels: vec!["C1".into()],
            telegram_chats: vec![-200],
            ..project("acme/api")
        };
        let mut all = BTreeMap::from([("web".to_owned(), web), ("api".to_owned(), api)]);
        validate_claims(&all).unwrap();
        let listed = projects(&all, "local");
        assert_eq!(listed[0].name, "api");
        assert_eq!(listed[0].hosts, ["devbox", "local"]);
        assert_eq!(listed[1].hosts, ["local"]);
        assert_eq!(
            listed[1].default_for,
            [
                (Platform::Telegram, "-100".to_owned()),
                (Platform::Slack, "C1".to_owned())
            ]
        );

        all.get_mut("web").unwrap().telegram_chats.push(-200);
        let err = validate_claims(&all).unwrap_err().to_string();
        assert!(
            err.contains("projects.web.telegram_chats: -200 is already the chat of [projects.api]"),
            "{err}"
        );
    }
}
