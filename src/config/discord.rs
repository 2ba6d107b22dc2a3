//! The `[discord]` section and the Discord secret.
//!
//! Discord is on when a bot token is given (`DISCORD_BOT_TOKEN` or `discord.token_file`). The
//! token stays out of the file. Who may use the bot is decided by three allowlists — user ids,
//! role ids (anyone holding one of the roles in its guild) and guild ids (everyone in the
//! guild) — all empty by default: nobody may use a fresh bot.

use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::{Env, Secret, read_secret_file};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// REST API base URL (the gateway URL comes from `GET /gateway/bot`). Default
    /// `https://discord.com/api/v10`.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// File holding the bot token. Default: none; `DISCORD_BOT_TOKEN` is used.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// User ids (snowflakes) allowed to use the bot anywhere. Default: none.
    /// `DISCORD_ALLOWED_USERS` (comma-separated) adds to the list.
    #[serde(default)]
    pub allowed_users: Vec<String>,
    /// Role ids whose members may use the bot in that role's guild. Default: none.
    /// `DISCORD_ALLOWED_ROLES` (comma-separated) adds to the list.
    #[serde(default)]
    pub allowed_roles: Vec<String>,
    /// Guild ids whose members may all use the bot. Default: none.
    /// `DISCORD_ALLOWED_GUILDS` (comma-separated) adds to the list.
    #[serde(default)]
    pub allowed_guilds: Vec<String>,
    /// Bot user ids whose messages are read like a person's (other bots are ignored, and the
    /// bot never reads its own messages). Default: none.
    #[serde(default)]
    pub allowed_bots: Vec<String>,
    /// Guild ids to register the slash commands in (they appear at once there). Default: none,
    /// and the commands are registered globally (Discord may take a while to show them).
    #[serde(default)]
    pub command_guilds: Vec<String>,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig {
            api_url: default_api_url(),
            token_file: None,
            allowed_users: Vec::new(),
            allowed_roles: Vec::new(),
            allowed_guilds: Vec::new(),
            allowed_bots: Vec::new(),
            command_guilds: Vec::new(),
        }
    }
}

fn default_api_url() -> String {
    "https://discord.com/api/v10".to_owned()
}

/// Discord's secret, resolved.
#[derive(Debug, Clone, Default)]
pub struct DiscordSecrets {
    /// The bot token; Discord is off without one.
    pub bot_token: Option<Secret>,
}

impl DiscordConfig {
    pub(super) fn apply_env(&mut self, env: &Env) {
        self.allowed_users.extend(
            env.list("DISCORD_ALLOWED_USERS")
                .into_iter()
                .map(str::to_owned),
        );
        self.allowed_roles.extend(
            env.list("DISCORD_ALLOWED_ROLES")
                .into_iter()
                .map(str::to_owned),
        );
        self.allowed_guilds.extend(
            env.list("DISCORD_ALLOWED_GUILDS")
                .into_iter()
                .map(str::to_owned),
        );
    }

    /// True when nobody at all may use the bot (worth a warning at start-up).
    pub fn allows_nobody(&self) -> bool {
        self.allowed_users.is_empty()
            && self.allowed_roles.is_empty()
            && self.allowed_guilds.is_empty()
    }

    pub(super) fn validate(&self) -> Result<()> {
        if !self.api_url.starts_with("https://") && !self.api_url.starts_with("http://") {
            bail!(
                "discord.api_url must be an http(s) URL (got {:?})",
                self.api_url
            );
        }
        let lists = [
            ("allowed_users", &self.allowed_users),
            ("allowed_roles", &self.allowed_roles),
            ("allowed_guilds", &self.allowed_guilds),
            ("allowed_bots", &self.allowed_bots),
            ("command_guilds", &self.command_guilds),
        ];
        for (name, list) in lists {
            for id in list {
                if !is_snowflake(id) {
                    bail!(
                        "discord.{name}: {id:?} is not a Discord id (a number like \
                         80351110224678912; Developer Mode → right click → Copy ID)"
                    );
                }
            }
        }
        Ok(())
    }

    pub(super) fn resolve_secrets(&self, env: &Env) -> Result<DiscordSecrets> {
        let bot_token = match &self.token_file {
            Some(path) => Some(read_secret_file(path, "discord.token_file")?),
            None => env.get("DISCORD_BOT_TOKEN").map(Secret::new),
        };
        if let Some(token) = &bot_token {
            let t = token.expose();
            if t.starts_with("Bot ") || t.starts_with("Bearer ") {
                bail!("the Discord bot token must be the token alone, without \"Bot \" in front");
            }
            if t.chars().any(char::is_whitespace) || t.len() < 20 {
                bail!(
                    "the Discord bot token looks wrong (Developer Portal → your application → \
                     Bot → Reset Token)"
                );
            }
        }
        Ok(DiscordSecrets { bot_token })
    }
}

/// A Discord id: 1 to 20 decimal digits.
fn is_snowflake(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20 && id.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn discord_is_off_without_a_token() {
        let secrets = DiscordConfig::default().resolve_secrets(&env(&[])).unwrap();
        assert!(secrets.bot_token.is_none());
        let on = DiscordConfig::default()
            .resolve_secrets(&env(&[(
                "DISCORD_BOT_TOKEN",
                "MTA1.fake-discord.bot-token",
            )]))
            .unwrap();
        assert!(
            !format!("{on:?}").contains("MTA1"),
            "the token is never printed"
        );
        assert_eq!(
            on.bot_token.unwrap().expose(),
            "MTA1.fake-discord.bot-token"
        );
    }

    #[test]
    fn a_token_with_its_prefix_is_refused_with_a_hint() {
        let err = DiscordConfig::default()
            .resolve_secrets(&env(&[(
                "DISCORD_BOT_TOKEN",
                "Bot MTA1.fake-discord.bot-token",
            )]))
            .unwrap_err();
        assert!(err.to_string().contains("without \"Bot \""), "{err}");
        let err = DiscordConfig::default()
            .resolve_secrets(&env(&[("DISCORD_BOT_TOKEN", "short")]))
            .unwrap_err();
        assert!(err.to_string().contains("Reset Token"), "{err}");
    }

    #[test]
    fn allowlists_come_from_the_environment_too_and_must_be_ids() {
        let mut config = DiscordConfig {
            allowed_users: vec!["1".into()],
            ..DiscordConfig::default()
        };
        assert!(!config.allows_nobody());
        config.apply_env(&env(&[
            ("DISCORD_ALLOWED_USERS", "2, 3"),
            ("DISCORD_ALLOWED_ROLES", "40"),
            ("DISCORD_ALLOWED_GUILDS", "50,"),
        ]));
        assert_eq!(config.allowed_users, ["1", "2", "3"]);
        assert_eq!(config.allowed_roles, ["40"]);
        assert_eq!(config.allowed_guilds, ["50"]);
        config.validate().unwrap();
        config.allowed_roles.push("@admins".into());
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("discord.allowed_roles"), "{err}");
        assert!(DiscordConfig::default().allows_nobody());
        let bad_url = DiscordConfig {
            api_url: "discord.com".into(),
            ..DiscordConfig::default()
        };
        assert!(bad_url.validate().is_err());
    }
}
