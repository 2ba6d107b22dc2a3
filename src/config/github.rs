//! The `[github]` section and the GitHub App's secrets.
//!
//! GitHub is on when `app_id` is set; then the App's private key (which signs the JWTs that buy
//! installation tokens) and the webhook secret are required, from files or the environment,
//! never from this file. The webhook secret may be several, one per line, while it is rotated.
//! Whether `github.host` names a configured host is checked with the other cross-section rules
//! in `config`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::{Env, Secret, duration, read_secret_file};

/// The GitHub App: mentions on issues and pull requests, dependency reviews.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitHubConfig {
    /// The App's id (its settings page shows it). Default: none, GitHub is off.
    #[serde(default)]
    pub app_id: Option<u64>,
    /// The App's private key (PEM). Default: none; `GITHUB_APP_PRIVATE_KEY` holds the PEM text.
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    /// File with the webhook secret(s), one per line (several while rotating). Default: none;
    /// `GITHUB_WEBHOOK_SECRET` (comma-separated) is used.
    #[serde(default)]
    pub webhook_secret_file: Option<PathBuf>,
    /// REST API base URL. Default `https://api.github.com`; GitHub Enterprise Server uses
    /// `https://HOST/api/v3`.
    #[serde(default = "default_github_api_url")]
    pub api_url: String,
    /// The mention that calls the bot, without `@`. Default `switchboard`.
    #[serde(default = "default_github_handle")]
    pub handle: String,
    /// Push the agent's commits to the pull request's branch, and an issue mention's work to
    /// the issue's branch with its pull request. Default false.
    #[serde(default)]
    pub allow_push: bool,
    /// Accounts whose pull requests get a dependency review (exact logins of Bot accounts).
    /// Default `["dependabot[bot]", "renovate[bot]"]`.
    #[serde(default = "default_dependency_bots")]
    pub dependency_bots: Vec<String>,
    /// The label that hands an issue to the bot, as assigning it to the App's bot account does:
    /// the agent resolves the issue on its branch and opens the pull request that fixes it.
    /// Default: none, labels do nothing.
    #[serde(default)]
    pub issue_label: Option<String>,
    /// Host the repositories are checked out on. Default: `defaults.host`.
    #[serde(default)]
    pub host: Option<String>,
    /// The pull request diff given to the agent is cut after this many bytes. Default 60000.
    #[serde(default = "default_diff_max_bytes")]
    pub diff_max_bytes: usize,
    /// Earlier comments of the thread given to the agent. Default 20.
    #[serde(default = "default_context_comments")]
    pub context_comments: usize,
    /// Time limit of a dependency review's test run. Default `10m`.
    #[serde(default = "default_test_timeout", with = "duration")]
    pub test_timeout: Duration,
    /// A delivery whose event (a comment's or review's time, a pull request's `updated_at`) is
    /// older than this is refused: a captured signed delivery cannot be replayed later.
    /// Default `1h`.
    #[serde(default = "default_max_event_age", with = "duration")]
    pub max_event_age: Duration,
}

impl Default for GitHubConfig {
    fn default() -> Self {
        GitHubConfig {
            app_id: None,
            private_key_file: None,
            webhook_secret_file: None,
            api_url: default_github_api_url(),
            handle: default_github_handle(),
            allow_push: false,
            dependency_bots: default_dependency_bots(),
            issue_label: None,
            host: None,
            diff_max_bytes: default_diff_max_bytes(),
            context_comments: default_context_comments(),
            test_timeout: default_test_timeout(),
            max_event_age: default_max_event_age(),
        }
    }
}

fn default_max_event_age() -> Duration {
    Duration::from_secs(60 * 60)
}

fn default_github_api_url() -> String {
    "https://api.github.com".to_owned()
}

fn default_github_handle() -> String {
    "switchboard".to_owned()
}

fn default_dependency_bots() -> Vec<String> {
    vec!["dependabot[bot]".to_owned(), "renovate[bot]".to_owned()]
}

fn default_diff_max_bytes() -> usize {
    60_000
}

fn default_context_comments() -> usize {
    20
}

fn default_test_timeout() -> Duration {
    Duration::from_secs(600)
}

/// The GitHub App's secrets, resolved.
#[derive(Debug, Clone, Default)]
pub(super) struct GitHubSecrets {
    /// The App's private key (PEM).
    pub(super) private_key: Option<Secret>,
    /// Every accepted webhook secret (more than one while rotating).
    pub(super) webhook_secrets: Vec<Secret>,
}

impl GitHubConfig {
    pub(super) fn validate(&self) -> Result<()> {
        let handle = &self.handle;
        if handle.is_empty()
            || !handle
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            bail!(
                "github.handle {handle:?} must be a GitHub login (letters, digits, '-'), without '@'"
            );
        }
        if let Some(label) = &self.issue_label {
            // GitHub's label names: 1 to 50 characters, not only blanks.
            let length = label.chars().count();
            if label.trim().is_empty() || length > 50 {
                bail!(
                    "github.issue_label {label:?} must be a GitHub label name (1 to 50 characters, \
                     not only blanks)"
                );
            }
        }
        Ok(())
    }

    pub(super) fn resolve_secrets(&self, env: &Env) -> Result<GitHubSecrets> {
        let private_key = match &self.private_key_file {
            Some(path) => Some(read_secret_file(path, "github.private_key_file")?),
            None => env.get("GITHUB_APP_PRIVATE_KEY").map(Secret::new),
        };
        let webhook_secrets: Vec<Secret> = match &self.webhook_secret_file {
            Some(path) => read_secret_file(path, "github.webhook_secret_file")?
                .expose()
                .lines()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(Secret::new)
                .collect(),
            None => env
                .list("GITHUB_WEBHOOK_SECRET")
                .into_iter()
                .map(Secret::new)
                .collect(),
        };
        if self.app_id.is_some() {
            if private_key.is_none() {
                bail!(
                    "github.app_id is set: give the App's private key in github.private_key_file \
                     or GITHUB_APP_PRIVATE_KEY"
                );
            }
            if webhook_secrets.is_empty() {
                bail!(
                    "github.app_id is set: give the webhook secret in GITHUB_WEBHOOK_SECRET or \
                     github.webhook_secret_file"
                );
            }
        }
        Ok(GitHubSecrets {
            private_key,
            webhook_secrets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_needs_its_key_and_webhook_secrets() {
        let off = GitHubConfig::default()
            .resolve_secrets(&Env::default())
            .unwrap();
        assert!(off.private_key.is_none() && off.webhook_secrets.is_empty());
        let on = GitHubConfig {
            app_id: Some(1),
            ..GitHubConfig::default()
        };
        let err = on.resolve_secrets(&Env::default()).unwrap_err();
        assert!(err.to_string().contains("GITHUB_APP_PRIVATE_KEY"), "{err}");
        let key = ("GITHUB_APP_PRIVATE_KEY", "pem");
        let err = on.resolve_secrets(&Env::from_pairs([key])).unwrap_err();
        assert!(err.to_string().contains("GITHUB_WEBHOOK_SECRET"), "{err}");
        let rotating = Env::from_pairs([key, ("GITHUB_WEBHOOK_SECRET", "new, old")]);
        let secrets = on.resolve_secrets(&rotating).unwrap();
        let accepted: Vec<&str> = secrets.webhook_secrets.iter().map(Secret::expose).collect();
        assert_eq!(accepted, ["new", "old"]);
    }

    #[test]
    fn the_issue_label_is_a_label_name() {
        for good in ["agent", "good first fix 🤖", &"x".repeat(50)] {
            let config = GitHubConfig {
                issue_label: Some(good.to_owned()),
                ..GitHubConfig::default()
            };
            assert!(config.validate().is_ok(), "{good:?}");
        }
        for bad in ["", "  ", &"x".repeat(51)] {
            let config = GitHubConfig {
                issue_label: Some(bad.to_owned()),
                ..GitHubConfig::default()
            };
            let err = config.validate().unwrap_err();
            assert!(
                err.to_string().contains("github.issue_label"),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn the_handle_is_a_login_without_its_at() {
        assert!(GitHubConfig::default().validate().is_ok());
        for handle in ["", "@switchboard", "switch board"] {
            let config = GitHubConfig {
                handle: handle.into(),
                ..GitHubConfig::default()
            };
            let err = config.validate().unwrap_err();
            assert!(
                err.to_string().contains("github.handle"),
                "{handle:?}: {err}"
            );
        }
    }
}
