//! The `[slack]` section and the Slack secrets.
//!
//! Slack is on when a bot token is given (`SLACK_BOT_TOKEN` or `slack.token_file`). Socket Mode,
//! the default, needs no public URL but an app-level token (`xapp-…`); the Events API over HTTP
//! needs the app's signing secret instead. Either way the secrets stay out of the file.

use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::{Env, Secret, read_secret_file};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SlackMode {
    /// Socket Mode: the bot opens a WebSocket to Slack (no public URL needed). The default.
    #[default]
    Socket,
    /// Events API: Slack POSTs events to `/slack/events` and slash commands to
    /// `/slack/commands` on `http.listen`.
    Events,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// Web API base URL. Default `https://slack.com/api/`.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// `socket` (default) or `events`.
    #[serde(default)]
    pub mode: SlackMode,
    /// File holding the bot token (`xoxb-…`). Default: none; `SLACK_BOT_TOKEN` is used.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// File holding the app-level token (`xapp-…`, scope `connections:write`) Socket Mode
    /// connects with. Default: none; `SLACK_APP_TOKEN` is used.
    #[serde(default)]
    pub app_token_file: Option<PathBuf>,
    /// File holding the signing secret the Events API requests are checked with. Default: none;
    /// `SLACK_SIGNING_SECRET` is used.
    #[serde(default)]
    pub signing_secret_file: Option<PathBuf>,
    /// Slack user ids (`U…`/`W…`) allowed to use the bot anywhere. Default: none.
    /// `SLACK_ALLOWED_USERS` (comma-separated) adds to the list.
    #[serde(default)]
    pub allowed_users: Vec<String>,
    /// Workspace (team) ids (`T…`) whose members may all use the bot. Default: none.
    /// `SLACK_ALLOWED_TEAMS` (comma-separated) adds to the list.
    #[serde(default)]
    pub allowed_teams: Vec<String>,
    /// Bot ids (`B…`) whose messages are read like a person's (other bots are ignored, and the
    /// bot never reads its own messages). Default: none.
    #[serde(default)]
    pub allowed_bots: Vec<String>,
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            api_url: default_api_url(),
            mode: SlackMode::Socket,
            token_file: None,
            app_token_file: None,
            signing_secret_file: None,
            allowed_users: Vec::new(),
            allowed_teams: Vec::new(),
            allowed_bots: Vec::new(),
        }
    }
}

fn default_api_url() -> String {
    "https://slack.com/api/".to_owned()
}

/// Slack's secrets, resolved.
#[derive(Debug, Clone, Default)]
pub struct SlackSecrets {
    /// The bot token; Slack is off without one.
    pub bot_token: Option<Secret>,
    /// Socket Mode's app-level token.
    pub app_token: Option<Secret>,
    /// The Events API signing secret.
    pub signing_secret: Option<Secret>,
}

impl SlackConfig {
    pub(super) fn apply_env(&mut self, env: &Env) {
        self.allowed_users.extend(
            env.list("SLACK_ALLOWED_USERS")
                .into_iter()
                .map(str::to_owned),
        );
        self.allowed_teams.extend(
            env.list("SLACK_ALLOWED_TEAMS")
                .into_iter()
                .map(str::to_owned),
        );
    }

    pub(super) fn validate(&self) -> Result<()> {
        if !self.api_url.starts_with("https://") && !self.api_url.starts_with("http://") {
            bail!(
                "slack.api_url must be an http(s) URL (got {:?})",
                self.api_url
            );
        }
        for id in self.allowed_users.iter().chain(&self.allowed_teams) {
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                bail!("slack.allowed_users/allowed_teams: {id:?} is not a Slack id like U0123ABCD");
            }
        }
        Ok(())
    }

    pub(super) fn resolve_secrets(&self, env: &Env) -> Result<SlackSecrets> {
        let secret = |file: &Option<PathBuf>, key: &str, var: &str| -> Result<Option<Secret>> {
            Ok(match file {
                Some(path) => Some(read_secret_file(path, key)?),
                None => env.get(var).map(Secret::new),
            })
        };
        let secrets = SlackSecrets {
            bot_token: secret(&self.token_file, "slack.token_file", "SLACK_BOT_TOKEN")?,
            app_token: secret(
                &self.app_token_file,
                "slack.app_token_file",
                "SLACK_APP_TOKEN",
            )?,
            signing_secret: secret(
                &self.signing_secret_file,
                "slack.signing_secret_file",
                "SLACK_SIGNING_SECRET",
            )?,
        };
        let Some(token) = &secrets.bot_token else {
            return Ok(secrets);
        };
        if !token.expose().starts_with("xoxb-") {
            bail!(
                "the Slack bot token must start with xoxb- (OAuth & Permissions → Bot User OAuth Token)"
            );
        }
        match self.mode {
            SlackMode::Socket => match &secrets.app_token {
                None => bail!(
                    "slack.mode is \"socket\": set SLACK_APP_TOKEN or slack.app_token_file to an \
                     app-level token (xapp-…) with the connections:write scope"
                ),
                Some(app) if !app.expose().starts_with("xapp-") => {
                    bail!(
                        "the Slack app-level token must start with xapp- (Basic Information → App-Level Tokens)"
                    )
                }
                Some(_) => {}
            },
            SlackMode::Events => {
                if secrets.signing_secret.is_none() {
                    bail!(
                        "slack.mode is \"events\": set SLACK_SIGNING_SECRET or \
                         slack.signing_secret_file (Basic Information → Signing Secret)"
                    );
                }
            }
        }
        Ok(secrets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn slack_is_off_without_a_bot_token() {
        let secrets = SlackConfig::default().resolve_secrets(&env(&[])).unwrap();
        assert!(secrets.bot_token.is_none());
    }

    #[test]
    fn each_mode_asks_for_its_secret() {
        let socket = SlackConfig::default();
        let err = socket
            .resolve_secrets(&env(&[("SLACK_BOT_TOKEN", "xoxb-1")]))
            .unwrap_err();
        assert!(err.to_string().contains("SLACK_APP_TOKEN"), "{err}");
        let err = socket
            .resolve_secrets(&env(&[
                ("SLACK_BOT_TOKEN", "xoxb-1"),
                ("SLACK_APP_TOKEN", "xoxb-2"),
            ]))
            .unwrap_err();
        assert!(err.to_string().contains("xapp-"), "{err}");
        let ok = socket
            .resolve_secrets(&env(&[
                ("SLACK_BOT_TOKEN", "xoxb-1"),
                ("SLACK_APP_TOKEN", "xapp-2"),
            ]))
            .unwrap();
        assert_eq!(ok.app_token.unwrap().expose(), "xapp-2");

        let events = SlackConfig {
            mode: SlackMode::Events,
            ..SlackConfig::default()
        };
        let err = events
            .resolve_secrets(&env(&[("SLACK_BOT_TOKEN", "xoxb-1")]))
            .unwrap_err();
        assert!(err.to_string().contains("SLACK_SIGNING_SECRET"), "{err}");
        let err = events
            .resolve_secrets(&env(&[("SLACK_BOT_TOKEN", "xoxp-user")]))
            .unwrap_err();
        assert!(err.to_string().contains("xoxb-"), "{err}");
    }

    #[test]
    fn allowlists_come_from_the_environment_too() {
        let mut config = SlackConfig {
            allowed_users: vec!["U1".into()],
            ..SlackConfig::default()
        };
        config.apply_env(&env(&[
            ("SLACK_ALLOWED_USERS", "U2, U3"),
            ("SLACK_ALLOWED_TEAMS", "T1"),
        ]));
        assert_eq!(config.allowed_users, ["U1", "U2", "U3"]);
        assert_eq!(config.allowed_teams, ["T1"]);
        config.validate().unwrap();
        config.allowed_teams.push("T 1".into());
        assert!(config.validate().is_err());
    }
}
