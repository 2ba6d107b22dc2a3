//! Discord: a mention in a channel starts a thread from the message, and the thread is a
//! session; DMs work too; `/new /status /stop /sessions /help` are slash commands. Events
//! arrive over the gateway (a WebSocket); the outbox goes out through the REST API.
//!
//! Written on reqwest and tokio-tungstenite rather than serenity: the client is a handful of
//! calls, and what a durable bot must control — counting a gateway event as handled only once
//! it is stored, resuming the session across restarts, honouring `retry_after` exactly —
//! is easier to see and test here. serenity, pointed at a local server, must run with its
//! ratelimiter disabled (and then neither waits on 429s nor exposes `retry_after`), gives up a
//! session when its first reconnect fails, and brings its own copies of tokio-tungstenite and
//! rustls (see ../shared/STACK.md).
//!
//! Layout, one job per file: `client` (REST), `ratelimit` (its book of buckets), `gateway` (the
//! WebSocket and its session), `intake` (store what is for the bot), `translate` (payloads →
//! core events, pure), `payload` (what Discord sends), `commands` (the slash commands),
//! `policy` (who may ask, reactions), `outlet` (sending), `typing` (the indicator),
//! `shared` (what the gateway learns and the outlet needs).

pub mod client;
pub mod commands;
mod gateway;
mod intake;
pub mod outlet;
pub mod payload;
pub mod policy;
mod ratelimit;
mod shared;
pub mod translate;
mod typing;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::bots::pacing::Limits;
use crate::config::{DiscordConfig, Secret};
use crate::core::Core;
use client::{DiscordClient, DiscordError};
use outlet::DiscordOutlet;
use translate::DiscordMe;

pub use gateway::INTENTS;

/// The bot, connected: its client, who it is, and what its gateway and outlet share.
pub struct DiscordApp {
    pub client: Arc<DiscordClient>,
    pub me: DiscordMe,
    shared: Arc<shared::Shared>,
    typing: Arc<typing::Typing>,
}

/// Builds the client and asks Discord who the bot is (retrying until Discord answers, as the
/// service may start before the network does).
pub async fn connect(config: &DiscordConfig, token: &Secret) -> Result<DiscordApp> {
    let client = Arc::new(DiscordClient::new(&config.api_url, token.clone())?);
    let mut delay = Duration::from_secs(1);
    let (user, application_id) = loop {
        let attempt = async {
            Ok::<_, DiscordError>((client.current_user().await?, client.application_id().await?))
        };
        match attempt.await {
            Ok(found) => break found,
            Err(e) if e.is_transient() => {
                tracing::warn!("Discord /users/@me: {e}; retrying in {}s", delay.as_secs());
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(60));
            }
            Err(e) => return Err(e).context("Discord /users/@me (is the bot token right?)"),
        }
    };
    Ok(DiscordApp {
        client,
        me: DiscordMe {
            user_id: user.id,
            application_id,
            allowed_bots: config.allowed_bots.clone(),
        },
        shared: Arc::default(),
        typing: Arc::default(),
    })
}

/// Who the bot is, for `switchboard check`.
pub async fn identify(config: &DiscordConfig, token: &Secret) -> Result<String> {
    let client = DiscordClient::new(&config.api_url, token.clone())?;
    let me = client.current_user().await.context("Discord /users/@me")?;
    let gateway = client.gateway_url().await.context("Discord /gateway/bot")?;
    Ok(format!("{} ({}), gateway {gateway}", me.username, me.id))
}

/// Discord's limits as the pacer takes them. Discord publishes per-route buckets (about five
/// messages or edits per five seconds in a channel, one reaction per quarter second) and 50
/// requests a second over the bot; the client follows each bucket's own headers, so the pacer
/// only spaces calls to a channel a little and keeps well inside the global limit.
pub fn limits() -> Limits {
    Limits {
        per_chat_interval: Duration::from_millis(250),
        per_group: u32::MAX,
        group_window: Duration::from_secs(60),
        global: 40,
        global_window: Duration::from_secs(1),
    }
}

impl DiscordApp {
    /// Registers the slash commands (per guild when `command_guilds` is set, else globally).
    pub async fn register_commands(&self, config: &DiscordConfig) -> Result<()> {
        commands::register(
            &self.client,
            &self.me.application_id,
            &config.command_guilds,
        )
        .await
    }

    /// The platform's decisions, with the allowlists of `config`.
    pub fn policy(&self, config: &DiscordConfig) -> policy::DiscordPolicy {
        let presses = policy::Presses {
            shared: self.shared.clone(),
            application_id: self.me.application_id.clone(),
        };
        policy::DiscordPolicy::new(
            &config.allowed_users,
            &config.allowed_roles,
            &config.allowed_guilds,
            self.client.clone(),
            presses,
        )
    }

    /// The sending side, for the outbox loop.
    pub fn outlet(&self) -> DiscordOutlet {
        DiscordOutlet::new(
            self.client.clone(),
            self.shared.clone(),
            self.me.clone(),
            self.typing.clone(),
        )
    }

    /// Renews the typing indicator in channels where a turn works, forever.
    pub fn typing(&self) -> impl Future<Output = Result<()>> + Send + use<> {
        typing::run(self.client.clone(), self.typing.clone())
    }

    /// Receives events over the gateway forever (or until a fatal close).
    pub fn gateway(&self, core: Arc<Core>) -> impl Future<Output = Result<()>> + Send + use<> {
        gateway::run(intake::Intake {
            core,
            client: self.client.clone(),
            me: self.me.clone(),
            shared: self.shared.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    /// The invite's permission bits: View Channels, Send Messages, Send Messages in Threads,
    /// Create Public Threads, Embed Links, Attach Files, Read Message History, Add Reactions.
    const README_PERMISSIONS: u64 = (1 << 10)
        | (1 << 11)
        | (1 << 38)
        | (1 << 35)
        | (1 << 14)
        | (1 << 15)
        | (1 << 16)
        | (1 << 6);

    /// The setup README names what the bot needs: the privileged intent, the scopes and the
    /// permissions of the invite.
    #[test]
    fn the_setup_readme_matches_what_the_bot_uses() {
        let readme = include_str!("../../../bots/discord/README.md");
        for needle in [
            "Message Content Intent",
            "scope=bot%20applications.commands",
            &format!("permissions={}", README_PERMISSIONS),
            "DISCORD_BOT_TOKEN",
            "command_guilds",
        ] {
            assert!(readme.contains(needle), "README lacks {needle:?}");
        }
        assert_eq!(super::INTENTS, 37377);
    }
}
