//! Slack: a mention in a channel starts a thread that is a session; direct messages work too;
//! `/switchboard` runs commands. Events arrive over Socket Mode (default, no public URL) or the
//! Events API; the outbox goes out through the Web API.
//!
//! Written on reqwest and tokio-tungstenite rather than slack-morphism: the client is a handful
//! of methods, and the two things a durable bot must control — acknowledging a Socket Mode
//! envelope only after the event is stored, and checking the Events API signature in constant
//! time before anything is parsed — are easier to see and test here than through a framework's
//! callbacks (slack-morphism acknowledges when its callback returns, and would bring its own
//! hyper connector besides reqwest's).

pub mod client;
mod events_api;
mod intake;
pub mod outlet;
pub mod payload;
pub mod policy;
mod prompt;
mod socket;
pub mod translate;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::bots::pacing::Limits;
use crate::config::{Secret, SlackConfig};
use crate::core::Core;
use client::SlackClient;
pub use events_api::{COMMANDS_PATH, EVENTS_PATH, INTERACTIVITY_PATH};
use translate::SlackMe;

/// The bot, connected: its client and who it is.
pub struct SlackApp {
    pub client: Arc<SlackClient>,
    pub me: SlackMe,
}

/// Builds the client and asks Slack who the bot is (retrying until Slack answers, as the
/// service may start before the network does).
pub async fn connect(config: &SlackConfig, token: &Secret) -> Result<SlackApp> {
    let client = Arc::new(SlackClient::new(&config.api_url, token.clone())?);
    let mut delay = Duration::from_secs(1);
    let identity = loop {
        match client.auth_test().await {
            Ok(identity) => break identity,
            Err(e) if e.is_transient() => {
                tracing::warn!("Slack auth.test: {e}; retrying in {}s", delay.as_secs());
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(60));
            }
            Err(e) => return Err(e).context("Slack auth.test (is the bot token right?)"),
        }
    };
    Ok(SlackApp {
        client,
        me: SlackMe {
            team_id: identity.team_id,
            user_id: identity.user_id,
            bot_id: identity.bot_id,
            allowed_bots: config.allowed_bots.clone(),
        },
    })
}

/// Who the bot is, for `switchboard check`.
pub async fn identify(config: &SlackConfig, token: &Secret) -> Result<String> {
    let client = SlackClient::new(&config.api_url, token.clone())?;
    let me = client.auth_test().await.context("Slack auth.test")?;
    Ok(format!("<@{}> in workspace {}", me.user_id, me.team_id))
}

/// Slack's limits as the pacer takes them: about one message a second in a channel, and — for
/// the Tier 3 methods the bot uses most (`chat.update`, `reactions.add`) — about 50 calls a
/// minute over the workspace.
pub fn limits() -> Limits {
    Limits {
        per_chat_interval: Duration::from_secs(1),
        per_group: u32::MAX,
        group_window: Duration::from_secs(60),
        global: 50,
        global_window: Duration::from_secs(60),
    }
}

/// Receives events over Socket Mode forever.
pub async fn socket_mode(
    core: Arc<Core>,
    client: Arc<SlackClient>,
    app_token: Secret,
    me: SlackMe,
) -> Result<()> {
    socket::run(core, client, app_token, me).await
}

/// The Events API routes.
pub fn events_api(core: Arc<Core>, me: SlackMe, signing_secret: Secret) -> axum::Router {
    events_api::routes(core, me, signing_secret)
}

#[cfg(test)]
mod tests {
    /// bots/slack/manifest.yaml asks for what the bot uses: the events it reads, the scopes of
    /// the methods it calls, the slash command, Socket Mode.
    #[test]
    fn the_app_manifest_matches_what_the_bot_uses() {
        let manifest = include_str!("../../../bots/slack/manifest.yaml");
        let listed = |item: &str| manifest.lines().any(|l| l.trim() == format!("- {item}"));
        for event in [
            "app_mention",
            "message.channels",
            "message.groups",
            "message.im",
            "message.mpim",
        ] {
            assert!(listed(event), "event {event}");
        }
        for scope in [
            "app_mentions:read",
            "channels:history",
            "groups:history",
            "im:history",
            "mpim:history",
            "chat:write",
            "reactions:write",
            "files:read",
            "files:write",
            "commands",
        ] {
            assert!(listed(scope), "scope {scope}");
        }
        assert!(manifest.contains("- command: /switchboard"));
        assert!(manifest.contains("socket_mode_enabled: true"));
    }
}
