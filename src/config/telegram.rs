//! The `[telegram]` section and the Telegram secrets.
//!
//! Telegram is on when a bot token is given (`TELEGRAM_BOT_TOKEN` or `telegram.token_file`).
//! Long polling, the default, needs no public URL; webhook mode needs one and a secret token that
//! Telegram echoes in every delivery, so a forged POST is refused. The allowlists are numeric ids
//! (a user's or a chat's); the environment adds to them. The flood limits are Telegram's own, so
//! the outbound scheduler stays under them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::{Env, Secret, duration, read_secret_file};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// Long polling with getUpdates (no public URL needed). The default.
    #[default]
    Polling,
    /// Telegram POSTs updates to `webhook_url`; needs `http.listen` reachable through it.
    Webhook,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Bot API base URL. Default `https://api.telegram.org`; point it at a self-hosted Bot API
    /// server if you run one.
    #[serde(default = "default_telegram_api_url")]
    pub api_url: String,
    /// File holding the bot token. Default: none; the token comes from `TELEGRAM_BOT_TOKEN`.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// `polling` (default) or `webhook`.
    #[serde(default)]
    pub mode: TelegramMode,
    /// Public HTTPS URL Telegram posts updates to (webhook mode only), e.g.
    /// `https://bot.example.com/telegram/webhook`. Its path is served on `http.listen`.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// File holding the webhook secret token. Default: none; `TELEGRAM_WEBHOOK_SECRET` is used.
    #[serde(default)]
    pub webhook_secret_file: Option<PathBuf>,
    /// Telegram user ids allowed to use the bot in any chat. Default: none.
    /// `TELEGRAM_ALLOWED_USERS` (comma-separated) adds to the list.
    #[serde(default)]
    pub allowed_users: Vec<i64>,
    /// Chat ids in which everyone may use the bot. Default: none.
    /// `TELEGRAM_ALLOWED_CHATS` (comma-separated) adds to the list.
    #[serde(default)]
    pub allowed_chats: Vec<i64>,
    /// Long-polling timeout of one getUpdates call. Default `30s`.
    #[serde(default = "default_poll_timeout", with = "duration")]
    pub poll_timeout: Duration,
    #[serde(default)]
    pub limits: TelegramLimits,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        TelegramConfig {
            api_url: default_telegram_api_url(),
            token_file: None,
            mode: TelegramMode::Polling,
            webhook_url: None,
            webhook_secret_file: None,
            allowed_users: Vec::new(),
            allowed_chats: Vec::new(),
            poll_timeout: default_poll_timeout(),
            limits: TelegramLimits::default(),
        }
    }
}

fn default_telegram_api_url() -> String {
    "https://api.telegram.org".to_owned()
}

fn default_poll_timeout() -> Duration {
    Duration::from_secs(30)
}

/// Telegram's published flood limits; the outbound scheduler never exceeds them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramLimits {
    /// Minimum spacing of messages (sends and edits) in one chat. Default `1s`.
    #[serde(default = "default_per_chat_interval", with = "duration")]
    pub per_chat_interval: Duration,
    /// Messages per rolling minute in one group. Default 20.
    #[serde(default = "default_per_group_per_minute")]
    pub per_group_per_minute: u32,
    /// Messages per rolling second over all chats. Default 30.
    #[serde(default = "default_global_per_second")]
    pub global_per_second: u32,
}

impl Default for TelegramLimits {
    fn default() -> Self {
        TelegramLimits {
            per_chat_interval: default_per_chat_interval(),
            per_group_per_minute: default_per_group_per_minute(),
            global_per_second: default_global_per_second(),
        }
    }
}

fn default_per_chat_interval() -> Duration {
    Duration::from_secs(1)
}

fn default_per_group_per_minute() -> u32 {
    20
}

fn default_global_per_second() -> u32 {
    30
}

/// Telegram's secrets, resolved.
#[derive(Debug, Clone, Default)]
pub(super) struct TelegramSecrets {
    /// The bot token; Telegram is off without one.
    pub(super) token: Option<Secret>,
    /// The token Telegram sends back with each webhook delivery.
    pub(super) webhook_secret: Option<Secret>,
}

impl TelegramConfig {
    pub(super) fn apply_env(&mut self, env: &Env) -> Result<()> {
        self.allowed_users
            .extend(parse_id_list(env, "TELEGRAM_ALLOWED_USERS")?);
        self.allowed_chats
            .extend(parse_id_list(env, "TELEGRAM_ALLOWED_CHATS")?);
        Ok(())
    }

    pub(super) fn validate(&self) -> Result<()> {
        if self.mode == TelegramMode::Webhook {
            let Some(url) = &self.webhook_url else {
                bail!("telegram.mode is \"webhook\" but telegram.webhook_url is not set");
            };
            if !url.starts_with("https://") && !url.starts_with("http://") {
                bail!("telegram.webhook_url must be an http(s) URL (got {url:?})");
            }
        }
        if self.limits.per_group_per_minute == 0 || self.limits.global_per_second == 0 {
            bail!("telegram.limits.* must be greater than zero");
        }
        Ok(())
    }

    /// The token and the webhook secret; in webhook mode the secret is required and must be one
    /// Telegram accepts (1-256 characters of `A-Z a-z 0-9 _ -`).
    pub(super) fn resolve_secrets(&self, env: &Env) -> Result<TelegramSecrets> {
        let token = match &self.token_file {
            Some(path) => Some(read_secret_file(path, "telegram.token_file")?),
            None => env.get("TELEGRAM_BOT_TOKEN").map(Secret::new),
        };
        let webhook_secret = match &self.webhook_secret_file {
            Some(path) => Some(read_secret_file(path, "telegram.webhook_secret_file")?),
            None => env.get("TELEGRAM_WEBHOOK_SECRET").map(Secret::new),
        };
        if self.mode == TelegramMode::Webhook && token.is_some() {
            match &webhook_secret {
                None => bail!(
                    "telegram.mode is \"webhook\": set TELEGRAM_WEBHOOK_SECRET or \
                     telegram.webhook_secret_file (1-256 characters of A-Z a-z 0-9 _ -)"
                ),
                Some(secret) if !valid_webhook_secret(secret.expose()) => {
                    bail!("the Telegram webhook secret must be 1-256 characters of A-Z a-z 0-9 _ -")
                }
                Some(_) => {}
            }
        }
        Ok(TelegramSecrets {
            token,
            webhook_secret,
        })
    }
}

fn parse_id_list(env: &Env, key: &str) -> Result<Vec<i64>> {
    env.list(key)
        .into_iter()
        .map(|s| {
            s.parse::<i64>()
                .with_context(|| format!("{key}: {s:?} is not a numeric Telegram id"))
        })
        .collect()
}

fn valid_webhook_secret(secret: &str) -> bool {
    (1..=256).contains(&secret.len())
        && secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_mode_needs_a_valid_secret() {
        let config = TelegramConfig {
            mode: TelegramMode::Webhook,
            webhook_url: Some("https://x/y".into()),
            ..TelegramConfig::default()
        };
        let token = ("TELEGRAM_BOT_TOKEN", "1:a");
        let err = config
            .resolve_secrets(&Env::from_pairs([token]))
            .unwrap_err();
        assert!(format!("{err:#}").contains("TELEGRAM_WEBHOOK_SECRET"));
        let bad = Env::from_pairs([token, ("TELEGRAM_WEBHOOK_SECRET", "has space")]);
        assert!(config.resolve_secrets(&bad).is_err());
        let good = Env::from_pairs([token, ("TELEGRAM_WEBHOOK_SECRET", "s3cr3t_-")]);
        let secrets = config.resolve_secrets(&good).unwrap();
        assert_eq!(secrets.webhook_secret.unwrap().expose(), "s3cr3t_-");
    }
}
