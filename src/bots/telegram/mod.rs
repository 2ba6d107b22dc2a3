//! Telegram: long polling (default) or a webhook in, the outbox out through the Bot API.
//!
//! teloxide is used for what it is good at — typed requests and updates — and nothing else: the
//! getUpdates loop and the webhook handler are written here because they must store each update
//! before the offset moves past it (DESIGN invariant 1), and because the webhook's secret token
//! must be compared in constant time (teloxide's own comparison is not).

pub mod intake;
pub mod json_split;
pub mod outlet;
pub mod policy;
mod poller;
pub mod translate;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, BotCommand};

use crate::bots::pacing::Limits;
use crate::config::{Secret, TelegramConfig};
use crate::core::Core;
use crate::domain::command::COMMANDS;
pub use translate::BotIdentity;

/// How much longer than the long poll itself a getUpdates call may take before it counts as
/// lost: the answer's way back.
const POLL_GRACE: Duration = Duration::from_secs(15);

/// How long a getUpdates call with this long-poll `timeout` may take in all.
fn poll_deadline(timeout: Duration) -> Duration {
    timeout + POLL_GRACE
}

/// Connects a teloxide client to the configured Bot API server. Its HTTP client is teloxide's
/// own settings with a timeout longer than a long poll (as teloxide documents): with its
/// default of 17 s, a 30 s long poll would fail every time the bot is idle.
pub fn client(config: &TelegramConfig, token: &Secret) -> Result<Bot> {
    let url = config
        .api_url
        .parse()
        .with_context(|| format!("telegram.api_url is not a URL: {}", config.api_url))?;
    let http = teloxide::net::default_reqwest_settings()
        .timeout(poll_deadline(config.poll_timeout))
        .build()
        .context("cannot make an HTTP client for Telegram")?;
    Ok(Bot::with_client(token.expose(), http).set_api_url(url))
}

/// Asks Telegram who the bot is.
pub async fn identify(bot: &Bot) -> Result<BotIdentity> {
    let me = bot.get_me().await.context("Telegram getMe failed")?;
    Ok(BotIdentity {
        id: me.user.id.0,
        username: me.user.username.clone().unwrap_or_default(),
    })
}

/// `identify`, retried until Telegram answers (the service may start before the network).
pub async fn identify_with_retry(bot: &Bot) -> BotIdentity {
    let mut delay = Duration::from_secs(1);
    loop {
        match identify(bot).await {
            Ok(me) => return me,
            Err(e) => {
                tracing::warn!("{e:#}; retrying in {}s", delay.as_secs());
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(60));
            }
        }
    }
}

/// Registers the command list shown in Telegram's menu.
pub async fn register_commands(bot: &Bot) -> Result<()> {
    let commands: Vec<BotCommand> = COMMANDS
        .iter()
        .map(|c| BotCommand::new(c.name, c.summary))
        .collect();
    bot.set_my_commands(commands)
        .await
        .context("Telegram setMyCommands failed")?;
    Ok(())
}

/// The updates Switchboard asks for.
fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]
}

/// Telegram's flood limits as the pacer takes them.
pub fn limits(config: &TelegramConfig) -> Limits {
    Limits {
        per_chat_interval: config.limits.per_chat_interval,
        per_group: config.limits.per_group_per_minute,
        group_window: Duration::from_secs(60),
        global: config.limits.global_per_second,
        global_window: Duration::from_secs(1),
    }
}

/// Receives updates by long polling forever.
pub async fn poll(core: Arc<Core>, bot: Bot, me: BotIdentity, timeout: Duration) -> Result<()> {
    poller::run(core, bot, me, timeout).await
}

/// Registers the webhook and returns the routes that receive it.
pub async fn webhook(
    core: Arc<Core>,
    bot: &Bot,
    me: BotIdentity,
    url: &str,
    secret: Secret,
) -> Result<axum::Router> {
    webhook::register(bot, url, &secret).await?;
    webhook::routes(core, me, url, secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// bots/telegram/commands.txt (what operators paste into BotFather) lists exactly the
    /// commands the bot registers.
    #[test]
    fn the_botfather_command_list_matches_the_commands() {
        let listed = include_str!("../../../bots/telegram/commands.txt");
        let expected: Vec<String> = COMMANDS
            .iter()
            .map(|c| format!("{} - {}", c.name, c.summary))
            .collect();
        assert_eq!(listed.lines().collect::<Vec<_>>(), expected);
    }
}
